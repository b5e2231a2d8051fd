/**
 * `avm doctor`'s Pulumi Cloud checks: the webhook is registered with our URL and events and its secret matches
 * (our own signed ping to the receiver, then Pulumi Cloud's ping through the registered webhook); the token can
 * read the project; Pulumi Deployments settings exist when the remote runner is configured.
 */
import { randomUUID } from "node:crypto";
import { PROJECT_NAME } from "../../src/shared/naming";
import { computeSignature } from "../../src/core/webhooks/signature";
import { PulumiCloudApiError } from "../../src/stacks/deploymentsErrors";
import type { PulumiCloudClient } from "../../src/stacks/pulumiCloudClient";
import { DEFAULT_WEBHOOK_EVENTS, isOurWebhook, webhookDisplayName } from "../webhooks/ensureWebhook";
import { PulumiWebhooks, type PulumiWebhook } from "../webhooks/pulumiWebhooks";
import { platformOutputs } from "./awsChecks";
import type { DoctorContext } from "./doctorContext";
import { errorText, result, type CheckResult } from "./doctorCheck";

const NO_OUTPUTS = "not checked: the platform stack outputs are not available";

function cloud(ctx: DoctorContext): PulumiCloudClient | string {
  if ("missing" in ctx.pulumi) return ctx.pulumi.missing;
  if (ctx.pulumiOrganization === undefined) return "AVM_PULUMI_ORGANIZATION is not set";
  return ctx.pulumi.client;
}

function ensureCommand(ctx: DoctorContext, url: string): string {
  return `AVM_WEBHOOK_SECRET=<platform webhookSecret> avm webhooks ensure --org ${ctx.pulumiOrganization ?? "<org>"} --url ${url}`;
}

function apiFailure(id: string, title: string, error: unknown): CheckResult {
  if (error instanceof PulumiCloudApiError && (error.status === 401 || error.status === 403)) {
    return result.fail(
      id,
      title,
      error.message,
      "export PULUMI_ACCESS_TOKEN=<a token of a member (admin for webhooks) of the organization>",
    );
  }
  if (error instanceof PulumiCloudApiError && error.status === 404) {
    return result.fail(id, title, error.message, "check AVM_PULUMI_ORGANIZATION (the Pulumi Cloud organization name)");
  }
  return result.fail(id, title, errorText(error), "check PULUMI_API_URL and the network, then run avm doctor again");
}

/** Our webhook, when the registration check found exactly one. */
interface WebhookFacts {
  hook?: PulumiWebhook;
}

/** The organization holds exactly one webhook for the receiver, with our events, active, with our secret's fingerprint. */
export async function checkWebhookRegistered(ctx: DoctorContext, facts: WebhookFacts): Promise<CheckResult> {
  const id = "webhook-registered";
  const title = "Pulumi Cloud webhook";
  const outputs = platformOutputs(ctx);
  if (outputs === undefined) return result.warn(id, title, NO_OUTPUTS);
  const client = cloud(ctx);
  if (typeof client === "string") {
    return result.warn(id, title, `not checked: ${client}`, "export PULUMI_ACCESS_TOKEN and AVM_PULUMI_ORGANIZATION");
  }
  const fix = ensureCommand(ctx, outputs.webhookUrl);
  let hooks: PulumiWebhook[];
  try {
    hooks = await new PulumiWebhooks(client, { kind: "organization", organization: ctx.pulumiOrganization! }).list();
  } catch (error) {
    return apiFailure(id, title, error);
  }
  const ours = hooks.filter((h) => isOurWebhook(h, outputs.webhookUrl));
  const atUrl = ours.filter((h) => h.payloadUrl === outputs.webhookUrl);
  if (atUrl.length === 0) {
    const elsewhere = ours.map((h) => `${h.name} -> ${h.payloadUrl}`).join(", ");
    return result.fail(
      id,
      title,
      `no webhook of organization ${ctx.pulumiOrganization} delivers to ${outputs.webhookUrl}${elsewhere ? ` (ours point elsewhere: ${elsewhere})` : ""}`,
      fix,
    );
  }
  if (ours.length > 1) {
    const list = ours.map((h) => `${h.name} -> ${h.payloadUrl}`).join(", ");
    return result.fail(
      id,
      title,
      `${ours.length} webhooks are registered for the AVM (${list}); exactly one should be`,
      fix,
    );
  }
  const hook = atUrl[0]!;
  const filters = hook.filters ?? [];
  const missing = filters.length === 0 ? [] : DEFAULT_WEBHOOK_EVENTS.filter((e) => !filters.includes(e));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`misses the events ${missing.join(", ")}`);
  if (!hook.active) problems.push("is inactive");
  if ((hook.format ?? "raw") !== "raw") problems.push(`has format ${hook.format}, not raw`);
  if (hook.hasSecret === false) problems.push("has no secret");
  else if (ctx.webhookSecret !== undefined && hook.displayName !== webhookDisplayName(ctx.webhookSecret)) {
    problems.push("was registered with another secret than AVM_WEBHOOK_SECRET (its fingerprint differs)");
  }
  if (problems.length > 0) return result.fail(id, title, `webhook ${hook.name} ${problems.join(", ")}`, fix);
  facts.hook = hook;
  const events = filters.length === 0 ? "all events" : [...filters].sort().join(",");
  return result.pass(id, title, `webhook ${hook.name} -> ${hook.payloadUrl} (${events})`);
}

async function post(ctx: DoctorContext, url: string, headers: Record<string, string>, body: string) {
  const response = await ctx.fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
  return { status: response.status, text: (await response.text()).slice(0, 200) };
}

/**
 * The receiver accepts a ping signed with `AVM_WEBHOOK_SECRET` (so its secret is ours) and rejects an unsigned one
 * (so it checks signatures at all).
 */
export async function checkReceiverSecret(ctx: DoctorContext): Promise<CheckResult> {
  const id = "webhook-receiver";
  const title = "webhook receiver signature check";
  const outputs = platformOutputs(ctx);
  if (outputs === undefined) return result.warn(id, title, NO_OUTPUTS);
  if (ctx.webhookSecret === undefined) {
    return result.warn(
      id,
      title,
      "not checked: AVM_WEBHOOK_SECRET is not set",
      'export AVM_WEBHOOK_SECRET="$(pulumi config get webhookSecret)"',
    );
  }
  const body = JSON.stringify({ timestamp: Math.floor(Date.now() / 1000), message: "avm doctor ping" });
  const headers = {
    "content-type": "application/json",
    "pulumi-webhook-id": `avm-doctor-${randomUUID()}`,
    "pulumi-webhook-kind": "ping",
  };
  const redeploy = "pulumi config set --secret webhookSecret <secret> && pulumi up (platform stack)";
  try {
    const signed = await post(
      ctx,
      outputs.webhookUrl,
      { ...headers, "pulumi-webhook-signature": computeSignature(ctx.webhookSecret, body) },
      body,
    );
    if (signed.status === 401) {
      return result.fail(
        id,
        title,
        `${outputs.webhookUrl} rejected a ping signed with AVM_WEBHOOK_SECRET (401): the receiver has another secret`,
        `export the platform stack's secret (AVM_WEBHOOK_SECRET="$(pulumi config get webhookSecret)"), or set it: ${redeploy}`,
      );
    }
    if (signed.status === 503) {
      return result.fail(
        id,
        title,
        `${outputs.webhookUrl} answered 503: the receiver has no webhook secret configured`,
        redeploy,
      );
    }
    if (signed.status !== 200) {
      return result.fail(
        id,
        title,
        `${outputs.webhookUrl} answered ${signed.status} to a signed ping: ${signed.text}`,
        "pulumi up on the platform stack (deploys the webhook receiver)",
      );
    }
    const unsigned = await post(ctx, outputs.webhookUrl, headers, body);
    if (unsigned.status !== 401) {
      return result.fail(
        id,
        title,
        `${outputs.webhookUrl} accepted an unsigned ping (${unsigned.status}): it does not verify signatures`,
        redeploy,
      );
    }
    return result.pass(
      id,
      title,
      `${outputs.webhookUrl} accepts a ping signed with AVM_WEBHOOK_SECRET and rejects an unsigned one`,
    );
  } catch (error) {
    return result.fail(
      id,
      title,
      `${outputs.webhookUrl} unreachable: ${errorText(error)}`,
      "pulumi up on the platform stack (creates the Function URL), then pass its outputs again",
    );
  }
}

/** Pulumi Cloud's own ping through the registered webhook is accepted: the secret Pulumi Cloud signs with is the receiver's. */
export async function checkWebhookDelivery(ctx: DoctorContext, facts: WebhookFacts): Promise<CheckResult> {
  const id = "webhook-delivery";
  const title = "Pulumi Cloud ping through the webhook";
  const client = cloud(ctx);
  const outputs = platformOutputs(ctx);
  if (facts.hook === undefined || typeof client === "string" || outputs === undefined) {
    return result.warn(id, title, "not checked: no correctly registered webhook to ping");
  }
  try {
    const delivery = await new PulumiWebhooks(client, {
      kind: "organization",
      organization: ctx.pulumiOrganization!,
    }).ping(facts.hook.name);
    if (delivery.responseCode === 200) {
      return result.pass(id, title, `webhook ${facts.hook.name} delivered a signed ping; the receiver answered 200`);
    }
    return result.fail(
      id,
      title,
      `the receiver answered ${delivery.responseCode ?? "nothing"} to Pulumi Cloud's ping${delivery.responseCode === 401 ? ": Pulumi Cloud signs with another secret" : ""}`,
      `${ensureCommand(ctx, outputs.webhookUrl)} --resend-secret`,
    );
  } catch (error) {
    return apiFailure(id, title, error);
  }
}

/** The token can list the project's stacks in the organization. */
export async function checkPulumiProject(ctx: DoctorContext): Promise<{ check: CheckResult; stacks: string[] }> {
  const id = "pulumi-project";
  const title = "Pulumi token and project";
  const client = cloud(ctx);
  if (typeof client === "string") {
    const needed = ctx.runner === "remote" ? "" : " (only needed for webhooks and the remote runner)";
    return {
      check: result.warn(
        id,
        title,
        `not checked: ${client}${needed}`,
        "export PULUMI_ACCESS_TOKEN and AVM_PULUMI_ORGANIZATION",
      ),
      stacks: [],
    };
  }
  const query = `organization=${encodeURIComponent(ctx.pulumiOrganization!)}&project=${PROJECT_NAME}`;
  try {
    const { body } = await client.request<{ stacks?: { stackName: string; projectName?: string }[] }>(
      "GET",
      `/api/user/stacks?${query}`,
    );
    const stacks = (body.stacks ?? [])
      .filter((s) => s.projectName === undefined || s.projectName === PROJECT_NAME)
      .map((s) => s.stackName);
    return {
      check: result.pass(
        id,
        title,
        `the token reads ${ctx.pulumiOrganization}/${PROJECT_NAME} (${stacks.length} stacks)`,
      ),
      stacks,
    };
  } catch (error) {
    return { check: apiFailure(id, title, error), stacks: [] };
  }
}

/** Environment variables that would hand a deployment long-lived AWS keys. */
const STATIC_AWS_KEY_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/**
 * With the remote runner: the repository settings are set, an account stack's deployment settings exist, carry no
 * static AWS keys and, with `AVM_DEPLOYMENTS_ROLE_ARN`, assume that role through OIDC.
 */
export async function checkDeploymentSettings(ctx: DoctorContext, stacks: readonly string[]): Promise<CheckResult> {
  const id = "deployment-settings";
  const title = "Pulumi Deployments settings";
  if (ctx.runner !== "remote") {
    return result.warn(id, title, `not checked: the stack runner is ${ctx.runner}, not remote`);
  }
  const missing = ["AVM_PULUMI_ORGANIZATION", "AVM_PULUMI_REPO_URL"].filter((name) => !ctx.env[name]?.trim());
  if (missing.length > 0) {
    return result.fail(
      id,
      title,
      `${missing.join(" and ")} not set: the remote runner cannot create deployments`,
      `export ${missing.map((m) => `${m}=...`).join(" ")}`,
    );
  }
  const client = cloud(ctx);
  if (typeof client === "string") return result.fail(id, title, client, "export PULUMI_ACCESS_TOKEN=<token>");
  const sample = stacks.find((s) => /^account-\d{12}$/.test(s));
  if (sample === undefined) {
    return result.warn(
      id,
      title,
      "not checked: no account stack exists yet (the runner writes its settings at the first vend)",
    );
  }
  const path = `/api/stacks/${encodeURIComponent(ctx.pulumiOrganization!)}/${PROJECT_NAME}/${sample}/deployments/settings`;
  try {
    const { body } = await client.request<{
      sourceContext?: { git?: { repoURL?: string } };
      operationContext?: { oidc?: { aws?: { roleArn?: string } }; environmentVariables?: Record<string, unknown> };
    }>("GET", path);
    const rewrite = `avm bootstrap ${sample.slice("account-".length)} --remote (rewrites the stack's deployment settings)`;
    const repoUrl = body.sourceContext?.git?.repoURL;
    if (repoUrl !== ctx.env.AVM_PULUMI_REPO_URL?.trim()) {
      return result.fail(
        id,
        title,
        `${sample} deploys from ${repoUrl ?? "no repository"}, not AVM_PULUMI_REPO_URL`,
        rewrite,
      );
    }
    const staticKeys = Object.keys(body.operationContext?.environmentVariables ?? {}).filter((name) =>
      STATIC_AWS_KEY_VARIABLES.includes(name),
    );
    if (staticKeys.length > 0) {
      return result.fail(
        id,
        title,
        `${sample} carries static AWS keys in its deployment settings (${staticKeys.join(", ")})`,
        "remove them from the stack's Deployments environment variables in Pulumi Cloud and set deploymentsOidc on " +
          "the platform stack (docs/security.md: Pulumi Deployments without static AWS keys)",
      );
    }
    const role = ctx.env.AVM_DEPLOYMENTS_ROLE_ARN?.trim();
    const oidcRole = body.operationContext?.oidc?.aws?.roleArn;
    if (role && oidcRole !== role) {
      return result.fail(
        id,
        title,
        `${sample} does not assume AVM_DEPLOYMENTS_ROLE_ARN through OIDC (its settings name ${oidcRole ?? "no role"})`,
        rewrite,
      );
    }
    return result.pass(
      id,
      title,
      `${sample} deploys from ${repoUrl}${oidcRole ? `; AWS credentials through OIDC (${oidcRole})` : ""}`,
    );
  } catch (error) {
    if (error instanceof PulumiCloudApiError && error.status === 404) {
      return result.fail(
        id,
        title,
        `${sample} has no deployment settings`,
        `avm bootstrap ${sample.slice("account-".length)} --remote`,
      );
    }
    return apiFailure(id, title, error);
  }
}
