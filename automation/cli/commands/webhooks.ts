/**
 * `avm webhooks ensure`: registers the AVM's webhook receiver with Pulumi Cloud and keeps it in sync, so no one
 * clicks through the console: exactly one webhook for the receiver's URL, updated in place when the URL, the
 * events or the secret change (`automation/webhooks/ensureWebhook.ts`). The secret comes only from the
 * environment (`AVM_WEBHOOK_SECRET`, the platform stack's `webhookSecret`) and is never printed.
 */
import { PulumiWebhooks, type WebhookScope } from "../../webhooks/pulumiWebhooks";
import {
  DEFAULT_WEBHOOK_EVENTS,
  ensureWebhook,
  type EnsureWebhookResult,
  type WebhookChange,
} from "../../webhooks/ensureWebhook";
import type { CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { CLI_ENV, pick } from "../settings";

/** Environment variables of `avm webhooks`. */
export const WEBHOOK_ENV = {
  organization: "AVM_PULUMI_ORGANIZATION",
  url: "AVM_WEBHOOK_URL",
} as const;

/** Event filter names Pulumi Cloud accepts (https://www.pulumi.com/docs/deployments/webhooks/#event-filtering). */
export const WEBHOOK_FILTERS: readonly string[] = [
  "stack_created",
  "stack_deleted",
  "preview_succeeded",
  "preview_failed",
  "update_succeeded",
  "update_failed",
  "destroy_succeeded",
  "destroy_failed",
  "refresh_succeeded",
  "refresh_failed",
  "deployment_queued",
  "deployment_started",
  "deployment_succeeded",
  "deployment_failed",
  "drift_detected",
  "drift_detection_succeeded",
  "drift_detection_failed",
  "drift_remediation_succeeded",
  "drift_remediation_failed",
  "policy_violation_mandatory",
  "policy_violation_advisory",
];

/** Options of `avm webhooks ensure`. */
export interface WebhooksEnsureOptions {
  /** Pulumi Cloud organization (env `AVM_PULUMI_ORGANIZATION`). */
  readonly org?: string;
  /** The receiver's URL (platform stack output `webhookUrl`; env `AVM_WEBHOOK_URL`). */
  readonly url?: string;
  /** `<project>/<stack>`: a stack webhook instead of an organization webhook. */
  readonly stack?: string;
  /** Event filters; default {@link DEFAULT_WEBHOOK_EVENTS}. */
  readonly event?: string[];
  /** Show the change; change nothing. */
  readonly dryRun?: boolean;
  /** Update with the secret even when nothing differs. */
  readonly resendSecret?: boolean;
}

/** `--json` shape of `avm webhooks ensure`. */
export interface WebhooksEnsureJson extends EnsureWebhookResult {
  readonly scope: WebhookScope;
  readonly payloadUrl: string;
  readonly events: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Validates the receiver URL: https, or http on a loopback host (a local `avm serve`).
 * @throws CliUsageError naming the flag
 */
export function webhookUrlSetting(value: string | undefined): string {
  const hint = `(the platform stack output webhookUrl; flag --url or ${WEBHOOK_ENV.url})`;
  if (value === undefined) throw new CliUsageError(`webhooks ensure needs the receiver URL ${hint}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(`--url must be an https URL ${hint}, got "${value}"`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new CliUsageError(`--url must be an https URL ${hint}, got "${value}"`);
  }
  return value;
}

/**
 * The webhook secret from `AVM_WEBHOOK_SECRET` (16-4096 characters, like the `webhookSecret` config key).
 * @throws CliUsageError (the message never contains the value)
 */
export function webhookSecretSetting(env: Readonly<Record<string, string | undefined>>): string {
  const secret = env[CLI_ENV.webhookSecret];
  if (secret === undefined || secret === "") {
    throw new CliUsageError(
      `${CLI_ENV.webhookSecret} is not set: export the platform stack's secret (pulumi config get webhookSecret)`,
    );
  }
  if (secret.length < 16 || secret.length > 4096) {
    throw new CliUsageError(`${CLI_ENV.webhookSecret} must be 16-4096 characters (the value is not shown)`);
  }
  return secret;
}

/** The webhook scope from `--org` and `--stack`. @throws CliUsageError naming the flag */
export function webhookScopeSetting(
  org: string | undefined,
  stack: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): WebhookScope {
  const organization = pick(org, env, WEBHOOK_ENV.organization);
  if (organization === undefined) {
    throw new CliUsageError(`the Pulumi Cloud organization is not set: --org or ${WEBHOOK_ENV.organization}`);
  }
  if (!NAME.test(organization))
    throw new CliUsageError(`--org must be a Pulumi organization name, got "${organization}"`);
  if (stack === undefined) return { kind: "organization", organization };
  const parts = stack.split("/");
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p))) {
    throw new CliUsageError(`--stack must be <project>/<stack>, got "${stack}"`);
  }
  return { kind: "stack", organization, project: parts[0]!, stack: parts[1]! };
}

/** Event filters from `--event`. @throws CliUsageError naming an unknown filter */
export function webhookEventsSetting(events: readonly string[] | undefined): string[] {
  const chosen = events === undefined || events.length === 0 ? DEFAULT_WEBHOOK_EVENTS : events;
  for (const event of chosen) {
    if (!WEBHOOK_FILTERS.includes(event)) {
      throw new CliUsageError(
        `--event "${event}" is not a Pulumi Cloud webhook filter; one of ${WEBHOOK_FILTERS.join(", ")}`,
      );
    }
  }
  return [...new Set(chosen)].sort();
}

const changeText = (c: WebhookChange): string => `  ${c.field}: ${c.from} -> ${c.to}`;

/** The human-readable report of an ensure. */
export function ensureText(result: WebhooksEnsureJson): string {
  const where =
    result.scope.kind === "organization"
      ? `organization ${result.scope.organization}`
      : `stack ${result.scope.organization}/${result.scope.project}/${result.scope.stack}`;
  const lines: string[] = [];
  const would = result.dryRun ? "would " : "";
  for (const name of result.deleted) lines.push(`${would}delete duplicate webhook ${name}`);
  if (result.action === "none") {
    lines.push(
      `webhook ${result.webhookName} of ${where} is up to date (${result.payloadUrl}; ${result.events.join(",")})`,
    );
  } else {
    const verb = result.dryRun ? `would ${result.action}` : result.action === "create" ? "created" : "updated";
    const name = result.webhookName === null ? "the webhook" : `webhook ${result.webhookName}`;
    lines.push(`${verb} ${name} of ${where}:`, ...result.changes.map(changeText));
  }
  if (result.dryRun) lines.push("dry run: nothing changed");
  return `${lines.join("\n")}\n`;
}

/** Runs `avm webhooks ensure`. */
export async function webhooksEnsureCommand(ctx: CommandContext, options: WebhooksEnsureOptions): Promise<void> {
  const { env } = ctx.io;
  const scope = webhookScopeSetting(options.org, options.stack, env);
  const payloadUrl = webhookUrlSetting(pick(options.url, env, WEBHOOK_ENV.url));
  const events = webhookEventsSetting(options.event);
  const secret = webhookSecretSetting(env);
  const client = await ctx.deps.pulumiCloudClient(env, ctx.deps.timing, "webhook registration");
  const result = await ensureWebhook(
    new PulumiWebhooks(client, scope),
    { scope, payloadUrl, events, secret },
    { dryRun: options.dryRun === true, resendSecret: options.resendSecret === true },
  );
  const json: WebhooksEnsureJson = { scope, payloadUrl, events, ...result };
  ctx.out.result(json, ensureText(json));
}
