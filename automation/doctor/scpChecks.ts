/**
 * `avm doctor`'s service control policy check: the guardrail SCPs the platform stack deployed (its `guardrails`
 * output, see src/program.ts) are attached to every configured target (`guardrailTargets`), and SCPs are enabled on
 * the organization's root. Calls: one ListRoots page, then ListPoliciesForTarget (filter SERVICE_CONTROL_POLICY)
 * per target, at most {@link MAX_PAGES_PER_TARGET} pages each.
 */
import { ListPoliciesForTargetCommand, ListRootsCommand, type Root } from "@aws-sdk/client-organizations";
import type { DoctorContext } from "./doctorContext";
import { awsErrorName as awsName, errorText, isAccessDenied, result, type CheckResult } from "./doctorCheck";

const ID = "scps";
const TITLE = "service control policies";
const SCP = "SERVICE_CONTROL_POLICY";

/** AWS allows at most 5 SCPs per target; 5 pages of 20 leave room for anything a person attached by hand. */
export const MAX_PAGES_PER_TARGET = 5;

/** The platform stack output `guardrails`, as `pulumi stack output --json` prints it. */
export interface GuardrailsOutput {
  readonly targets: readonly string[];
  /** Policy id by policy name. */
  readonly policies: Readonly<Record<string, string>>;
}

/** The `guardrails` output when well formed, else undefined. */
export function guardrailsOutput(value: unknown): GuardrailsOutput | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { targets, policies } = value as { targets?: unknown; policies?: unknown };
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string" && t !== "")) return undefined;
  if (typeof policies !== "object" || policies === null || Array.isArray(policies)) return undefined;
  if (!Object.values(policies).every((id) => typeof id === "string" && id !== "")) return undefined;
  return { targets: targets as string[], policies: policies as Record<string, string> };
}

function pulumiUp(ctx: DoctorContext, refresh: boolean): string {
  const flags = refresh ? " --refresh" : "";
  return ctx.platformStack === undefined
    ? `pulumi up${flags} on the platform stack`
    : `pulumi up${flags} --stack ${ctx.platformStack}`;
}

const MANAGEMENT_FIX =
  "run avm doctor again with credentials of the management account (or of a delegated administrator for " +
  "Organizations policies), allowed organizations:ListRoots and organizations:ListPoliciesForTarget";

/** Ids of the SCPs attached directly to `target` (bounded pages). */
async function attachedScps(ctx: DoctorContext, target: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_TARGET; page++) {
    const reply = await ctx.aws
      .organizations()
      .send(new ListPoliciesForTargetCommand({ TargetId: target, Filter: SCP, NextToken: token }));
    for (const policy of reply.Policies ?? []) if (policy.Id !== undefined) ids.add(policy.Id);
    token = reply.NextToken;
    if (token === undefined) break;
  }
  return ids;
}

/** The guardrail SCPs are attached where `guardrailTargets` says, and SCPs are enabled on the root. */
export async function checkScps(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.outputs.kind !== "loaded") {
    return result.warn(ID, TITLE, "not checked: the platform stack outputs are not available");
  }
  const raw = ctx.outputs.outputs["guardrails"];
  if (raw === undefined) {
    return result.warn(
      ID,
      TITLE,
      "not checked: the platform stack outputs have no guardrails (the stack was deployed by an older version)",
      `${pulumiUp(ctx, false)} (this version exports guardrails), then run avm doctor again`,
    );
  }
  const guardrails = guardrailsOutput(raw);
  if (guardrails === undefined) {
    return result.warn(
      ID,
      TITLE,
      "not checked: the platform stack output guardrails is not {targets: [...], policies: {name: id}}",
      `${pulumiUp(ctx, false)}, then pass its outputs again`,
    );
  }
  const policies = Object.entries(guardrails.policies);
  if (guardrails.targets.length === 0) {
    return result.warn(
      ID,
      TITLE,
      "not checked: guardrails are not enabled (guardrailTargets is not set on the platform stack, so no SCPs are deployed)",
      "to enable them: pulumi config set --path 'guardrailTargets[0]' <ou-... or r-...> on the platform stack, then " +
        `${pulumiUp(ctx, false)} (see Guardrails)`,
    );
  }
  if (policies.length === 0) {
    return result.fail(
      ID,
      TITLE,
      `guardrailTargets names ${guardrails.targets.join(", ")}, but the platform stack deployed no guardrail SCPs`,
      pulumiUp(ctx, false),
    );
  }
  if (ctx.facts.organizationId === undefined) {
    return result.warn(ID, TITLE, "not checked: the organization could not be read");
  }
  let roots: Root[];
  try {
    roots = (await ctx.aws.organizations().send(new ListRootsCommand({}))).Roots ?? [];
  } catch (error) {
    if (isAccessDenied(error) || awsName(error) === "AWSOrganizationsNotInUseException") {
      return result.warn(ID, TITLE, `not checked: ${errorText(error)}`, MANAGEMENT_FIX);
    }
    return result.fail(ID, TITLE, `ListRoots: ${errorText(error)}`, MANAGEMENT_FIX);
  }
  const disabled = roots.filter((root) => !root.PolicyTypes?.some((t) => t.Type === SCP && t.Status === "ENABLED"));
  if (disabled.length > 0) {
    const root = disabled[0]?.Id ?? "<root id>";
    return result.fail(
      ID,
      TITLE,
      `service control policies are not enabled on root ${root}, so no SCP takes effect`,
      `aws organizations enable-policy-type --root-id ${root} --policy-type ${SCP}, then ${pulumiUp(ctx, true)}`,
    );
  }
  const missing: { target: string; name: string; id: string }[] = [];
  for (const target of guardrails.targets) {
    let attached: Set<string>;
    try {
      attached = await attachedScps(ctx, target);
    } catch (error) {
      if (isAccessDenied(error)) {
        return result.warn(ID, TITLE, `not checked: ${errorText(error)}`, MANAGEMENT_FIX);
      }
      const name = awsName(error);
      if (
        name === "TargetNotFoundException" ||
        name === "OrganizationalUnitNotFoundException" ||
        name === "AccountNotFoundException"
      ) {
        return result.fail(
          ID,
          TITLE,
          `guardrail target ${target} does not exist in organization ${ctx.facts.organizationId}`,
          "pulumi config set --path 'guardrailTargets[<i>]' <an existing ou-... or r-...> on the platform stack, then " +
            pulumiUp(ctx, true),
        );
      }
      return result.fail(ID, TITLE, `ListPoliciesForTarget ${target}: ${errorText(error)}`, MANAGEMENT_FIX);
    }
    for (const [name, id] of policies) if (!attached.has(id)) missing.push({ target, name, id });
  }
  if (missing.length > 0) {
    return result.fail(
      ID,
      TITLE,
      `not attached: ${missing.map((m) => `${m.name} (${m.id}) to ${m.target}`).join(", ")}`,
      `${pulumiUp(ctx, true)} (re-creates the attachments and policies missing from AWS), or ` +
        missing.map((m) => `aws organizations attach-policy --policy-id ${m.id} --target-id ${m.target}`).join("; "),
    );
  }
  return result.pass(
    ID,
    TITLE,
    `${policies.map(([name]) => name).join(", ")} attached to ${guardrails.targets.join(", ")}`,
  );
}
