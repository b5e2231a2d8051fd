/**
 * Payloads of the Pulumi Cloud webhook kinds the AVM acts on (generic JSON format), as documented at
 * https://www.pulumi.com/docs/pulumi-cloud/webhooks/ ("Payload Examples"):
 * - `stack_update`: `{ projectName, stackName, updateUrl, kind: "update"|"refresh"|"destroy"|..., result, isPreview }`
 * - `deployment`: `{ projectName, stackName, deploymentUrl, version, operation, status }`
 * - `drift_detection` (filters `drift_detected`, `drift_detection_succeeded`, `drift_detection_failed`):
 *   `{ projectName, stackName, driftDetected, driftRunId, status, resourceChanges, referenceUrl }`
 * - `drift_remediation` (filters `drift_remediation_succeeded`, `drift_remediation_failed`):
 *   `{ projectName, stackName, status, resourceChanges, referenceUrl }`
 *   (the same page: "Event filtering" maps each filter to its kind; "Payload Examples" shows both payloads)
 * Unknown fields are allowed (Pulumi adds fields over time); only the fields used here are checked.
 */
import * as z from "zod/mini";
import { en } from "zod/locales";

// zod/mini (tree-shakable: a few KB in the webhook bundle instead of about 400 KB for the classic API) loads no
// locale, so its issues would only say "Invalid input". The English locale gives the same messages as classic
// zod, which sets this very configuration when it is imported.
z.config(en());

const nonEmptyString = () => z.string().check(z.minLength(1));

/** `stack_update` payload (fields the AVM reads). */
export const stackUpdateEventSchema = z.looseObject({
  projectName: nonEmptyString(),
  stackName: nonEmptyString(),
  kind: nonEmptyString(),
  result: nonEmptyString(),
  updateUrl: z.optional(z.string()),
  isPreview: z.optional(z.boolean()),
});

/** `deployment` payload (fields the AVM reads). */
export const deploymentEventSchema = z.looseObject({
  projectName: nonEmptyString(),
  stackName: nonEmptyString(),
  operation: nonEmptyString(),
  status: nonEmptyString(),
  deploymentUrl: z.optional(z.string()),
  version: z.optional(z.number().check(z.int())),
});

/** `drift_detection` and `drift_remediation` payloads (fields the AVM reads). */
export const driftEventSchema = z.looseObject({
  projectName: nonEmptyString(),
  stackName: nonEmptyString(),
  status: nonEmptyString(),
  driftDetected: z.optional(z.boolean()),
  driftRunId: z.optional(z.string()),
  resourceChanges: z.optional(z.record(z.string(), z.number())),
  referenceUrl: z.optional(z.string()),
});

/** A parsed drift event. */
export type DriftEvent = z.infer<typeof driftEventSchema>;

/** The webhook kinds of drift runs. */
export const DRIFT_KINDS: ReadonlySet<string> = new Set(["drift_detection", "drift_remediation"]);

/** Prefix of the ledger history notes that record drift runs (`avm fleet drift --remote` reads them). */
export const DRIFT_NOTE_PREFIX = "drift:";

/**
 * The ledger history note of a drift event, e.g. `drift: detected (update 3, delete 1), run 11bf..., <url>`,
 * `drift: none, run ...`, `drift: detection failed, run ...`, `drift: remediation succeeded (update 3), <url>`.
 */
export function driftNote(kind: string, event: DriftEvent): string {
  const changes = Object.entries(event.resourceChanges ?? {})
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");
  const counted = changes === "" ? "" : ` (${changes})`;
  let what: string;
  if (kind === "drift_remediation") what = `remediation ${event.status}${counted}`;
  else if (event.status !== "succeeded") what = `detection ${event.status}`;
  else what = event.driftDetected === true ? `detected${counted}` : "none";
  const run = event.driftRunId ? `, run ${event.driftRunId}` : "";
  const url = event.referenceUrl ? `, ${event.referenceUrl}` : "";
  return `${DRIFT_NOTE_PREFIX} ${what}${run}${url}`;
}

/** A parsed `stack_update` event. */
export type StackUpdateEvent = z.infer<typeof stackUpdateEventSchema>;
/** A parsed `deployment` event. */
export type DeploymentEvent = z.infer<typeof deploymentEventSchema>;

/** What an event says about an account stack's deployment. */
export type StackEventOutcome =
  | { readonly kind: "succeeded"; readonly summary: string; readonly url?: string }
  | { readonly kind: "failed"; readonly summary: string; readonly url?: string }
  /** Not a final update outcome (running, preview, refresh, destroy, skipped, ...): nothing to record. */
  | { readonly kind: "ignored"; readonly summary: string };

const withUrl = (url: string | undefined): { url?: string } => (url === undefined ? {} : { url });

/** Interprets a `stack_update` event. Only non-preview `update` operations decide an account stack's fate. */
export function stackUpdateOutcome(event: StackUpdateEvent): StackEventOutcome {
  const what = `stack_update ${event.kind} ${event.result}`;
  if (event.isPreview === true || event.kind !== "update") return { kind: "ignored", summary: what };
  if (event.result === "succeeded") return { kind: "succeeded", summary: what, ...withUrl(event.updateUrl) };
  if (event.result === "failed") return { kind: "failed", summary: what, ...withUrl(event.updateUrl) };
  return { kind: "ignored", summary: what };
}

/**
 * Interprets a `deployment` event. `update` deployments that `succeeded` or `failed` decide; `skipped` is
 * ignored on purpose: a deployment is skipped when a newer one for the stack was queued, whose own event decides.
 */
export function deploymentOutcome(event: DeploymentEvent): StackEventOutcome {
  const what = `deployment ${event.operation} ${event.status}${event.version === undefined ? "" : ` (#${event.version})`}`;
  if (event.operation !== "update") return { kind: "ignored", summary: what };
  if (event.status === "succeeded") return { kind: "succeeded", summary: what, ...withUrl(event.deploymentUrl) };
  if (event.status === "failed") return { kind: "failed", summary: what, ...withUrl(event.deploymentUrl) };
  return { kind: "ignored", summary: what };
}
