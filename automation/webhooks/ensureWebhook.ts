/**
 * Keeps exactly one Pulumi Cloud webhook pointing at the AVM's webhook receiver, in sync with the wanted URL,
 * events and secret ({@link ensureWebhook}).
 *
 * Which webhooks are "ours": those whose display name starts with {@link WEBHOOK_DISPLAY_PREFIX}, and any
 * webhook whose payload URL is the receiver's URL (e.g. one created by hand in the console before). One is kept
 * and updated in place; the others are deleted, so Pulumi Cloud never delivers an event twice.
 *
 * Detecting a secret change: Pulumi Cloud never returns a webhook's secret. The display name therefore carries a
 * fingerprint of the secret, `HMAC-SHA256(key = secret, "meshstack-avm/webhook-secret-fingerprint/v1")`, first 16
 * hex digits ({@link secretFingerprint}). It reveals nothing usable about a random secret (the README generates
 * 32 random bytes) and changes whenever the secret does. A webhook whose fingerprint differs, or that reports
 * `hasSecret: false`, is updated; every update also sends the secret again, so after any update Pulumi Cloud
 * holds exactly our secret. A secret changed by hand in the console keeps the old fingerprint: `avm doctor`
 * catches that with Pulumi Cloud's own ping (the receiver answers 401 to a wrongly signed delivery).
 */
import { createHmac } from "node:crypto";
import { PulumiCloudApiError, PulumiCloudAuthError } from "../../src/stacks/deploymentsErrors";
import { PulumiWebhooks, scopeFields, type PulumiWebhook, type WebhookBody, type WebhookScope } from "./pulumiWebhooks";

/** Display names of the webhooks this product manages start with this. */
export const WEBHOOK_DISPLAY_PREFIX = "meshstack-avm webhook";

/**
 * Events the receiver acts on (filter names of https://www.pulumi.com/docs/deployments/webhooks/#event-filtering):
 * final results of stack updates and of deployments, and of drift runs (recorded in the ledger; `drift_detected`
 * is left out: the same run's `drift_detection_succeeded` carries `driftDetected`). Pings are always delivered.
 */
export const DEFAULT_WEBHOOK_EVENTS: readonly string[] = [
  "deployment_failed",
  "deployment_succeeded",
  "drift_detection_failed",
  "drift_detection_succeeded",
  "drift_remediation_failed",
  "drift_remediation_succeeded",
  "update_failed",
  "update_succeeded",
];

/** The payload format: generic JSON, the one the receiver parses. */
export const WEBHOOK_FORMAT = "raw";

/** A fingerprint of the secret that changes with it and does not reveal it (see the module comment). */
export function secretFingerprint(secret: string): string {
  return createHmac("sha256", secret).update("meshstack-avm/webhook-secret-fingerprint/v1").digest("hex").slice(0, 16);
}

/** The display name of our webhook for `secret`. */
export function webhookDisplayName(secret: string): string {
  return `${WEBHOOK_DISPLAY_PREFIX} [secret ${secretFingerprint(secret)}]`;
}

/** What the webhook should look like. */
export interface DesiredWebhook {
  readonly scope: WebhookScope;
  /** The receiver's URL (platform stack output `webhookUrl`). */
  readonly payloadUrl: string;
  /** Filter names; sorted and de-duplicated before comparing. */
  readonly events: readonly string[];
  /** The shared HMAC secret. Never printed. */
  readonly secret: string;
}

/** One field that differs. Values of the secret are never shown. */
export interface WebhookChange {
  readonly field: "payloadUrl" | "filters" | "groups" | "secret" | "active" | "format" | "displayName";
  readonly from: string;
  readonly to: string;
}

/** The outcome of {@link ensureWebhook}. */
export interface EnsureWebhookResult {
  /** `create`: none existed; `update`: one was changed in place; `none`: already as wanted. */
  readonly action: "create" | "update" | "none";
  /** Name (id) of the kept webhook; `null` for a create in dry-run mode. */
  readonly webhookName: string | null;
  readonly changes: readonly WebhookChange[];
  /** Names of duplicate webhooks (ours, or pointing at our URL) that were (or would be) deleted. */
  readonly deleted: readonly string[];
  readonly dryRun: boolean;
}

/** Pulumi Cloud refused or failed a webhook call; the message says what to fix. Keeps the API error as cause. */
export class WebhookEnsureError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

const sorted = (values: readonly string[] | undefined): string[] => [...new Set(values ?? [])].sort();
const list = (values: readonly string[]): string => (values.length === 0 ? "(all events)" : values.join(","));

/** True when `hook` is one of ours (by display name) or points at `url`. */
export function isOurWebhook(hook: PulumiWebhook, url: string): boolean {
  return hook.displayName.startsWith(WEBHOOK_DISPLAY_PREFIX) || hook.payloadUrl === url;
}

/** The differences between an existing webhook and the wanted one. */
export function webhookChanges(hook: PulumiWebhook, desired: DesiredWebhook): WebhookChange[] {
  const changes: WebhookChange[] = [];
  if (hook.payloadUrl !== desired.payloadUrl) {
    changes.push({ field: "payloadUrl", from: hook.payloadUrl, to: desired.payloadUrl });
  }
  const have = sorted(hook.filters);
  const want = sorted(desired.events);
  if (have.join(",") !== want.join(",")) changes.push({ field: "filters", from: list(have), to: list(want) });
  if ((hook.groups ?? []).length > 0) {
    changes.push({ field: "groups", from: sorted(hook.groups).join(","), to: "(none)" });
  }
  if (!hook.active) changes.push({ field: "active", from: "false", to: "true" });
  if ((hook.format ?? WEBHOOK_FORMAT) !== WEBHOOK_FORMAT) {
    changes.push({ field: "format", from: hook.format ?? "", to: WEBHOOK_FORMAT });
  }
  const wantName = webhookDisplayName(desired.secret);
  if (hook.hasSecret === false) {
    changes.push({ field: "secret", from: "(none)", to: "(set)" });
  } else if (hook.displayName !== wantName) {
    // A display name without our fingerprint (or another one) means the secret may differ: set it.
    changes.push({ field: "secret", from: "(unknown or different)", to: "(set)" });
  }
  if (hook.displayName !== wantName) changes.push({ field: "displayName", from: hook.displayName, to: wantName });
  return changes;
}

function body(desired: DesiredWebhook): WebhookBody {
  return {
    ...scopeFields(desired.scope),
    displayName: webhookDisplayName(desired.secret),
    payloadUrl: desired.payloadUrl,
    active: true,
    format: WEBHOOK_FORMAT,
    filters: sorted(desired.events),
    groups: [],
    secret: desired.secret,
  };
}

function scopeText(scope: WebhookScope): string {
  return scope.kind === "organization"
    ? `organization "${scope.organization}"`
    : `stack "${scope.organization}/${scope.project}/${scope.stack}"`;
}

/** Turns an API failure into a message naming the fix. */
export function webhookApiError(error: unknown, scope: WebhookScope, doing: string): unknown {
  if (!(error instanceof PulumiCloudApiError)) return error;
  const where = scopeText(scope);
  if (error instanceof PulumiCloudAuthError) {
    const need =
      error.status === 403
        ? `the token lacks permission to manage webhooks of ${where} (organization webhooks need an organization admin's token)`
        : "the Pulumi access token is invalid or expired";
    return new WebhookEnsureError(`${doing}: ${need}; set PULUMI_ACCESS_TOKEN (HTTP ${error.status})`, {
      cause: error,
    });
  }
  if (error.status === 404) {
    return new WebhookEnsureError(
      `${doing}: ${where} not found in Pulumi Cloud, or the token cannot see it; check --org / AVM_PULUMI_ORGANIZATION (HTTP 404)`,
      { cause: error },
    );
  }
  if (error.status === 409) {
    return new WebhookEnsureError(
      `${doing}: Pulumi Cloud reports a conflict (${error.message}); another run may be changing the webhooks: run again`,
      { cause: error },
    );
  }
  return new WebhookEnsureError(`${doing}: ${error.message}`, { cause: error });
}

/**
 * Makes Pulumi Cloud hold exactly one webhook for the receiver, as wanted: creates it, updates it in place, or
 * leaves it alone; deletes duplicates. With `dryRun` nothing is changed and the result says what would be.
 * A 409 on create (another run created it meanwhile) re-reads the list once and updates what it finds. A create
 * retried after a 5xx may leave two webhooks when the first attempt did land: the next run deletes the duplicate.
 * @throws WebhookEnsureError for API failures (401, 403, 404, exhausted 5xx/429 retries), naming the fix
 */
export async function ensureWebhook(
  webhooks: PulumiWebhooks,
  desired: DesiredWebhook,
  options: {
    readonly dryRun?: boolean;
    /** Update (sending the secret) even when nothing differs: repairs a secret changed in the console. */
    readonly resendSecret?: boolean;
  } = {},
): Promise<EnsureWebhookResult> {
  const dryRun = options.dryRun === true;
  const call = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw webhookApiError(error, desired.scope, doing);
    }
  };
  for (let round = 0; round < 2; round++) {
    const existing = await call("listing webhooks", () => webhooks.list());
    const ours = existing.filter((hook) => isOurWebhook(hook, desired.payloadUrl));
    // Keep a webhook with our display name (it carries the fingerprint); else the one already at our URL.
    const keep = ours.find((h) => h.displayName.startsWith(WEBHOOK_DISPLAY_PREFIX)) ?? ours[0];
    const duplicates = ours.filter((h) => h !== keep).map((h) => h.name);
    if (!dryRun) {
      for (const name of duplicates) await call(`deleting duplicate webhook ${name}`, () => webhooks.delete(name));
    }
    if (keep === undefined) {
      const changes: WebhookChange[] = [
        { field: "payloadUrl", from: "(none)", to: desired.payloadUrl },
        { field: "filters", from: "(none)", to: list(sorted(desired.events)) },
        { field: "secret", from: "(none)", to: "(set)" },
      ];
      if (dryRun) return { action: "create", webhookName: null, changes, deleted: duplicates, dryRun };
      try {
        const created = await webhooks.create(body(desired));
        return { action: "create", webhookName: created.name, changes, deleted: duplicates, dryRun };
      } catch (error) {
        if (round === 0 && error instanceof PulumiCloudApiError && error.status === 409) continue;
        throw webhookApiError(error, desired.scope, "creating the webhook");
      }
    }
    const changes = webhookChanges(keep, desired);
    if (options.resendSecret === true && !changes.some((c) => c.field === "secret")) {
      changes.push({ field: "secret", from: "(resent)", to: "(set)" });
    }
    if (changes.length === 0) return { action: "none", webhookName: keep.name, changes, deleted: duplicates, dryRun };
    if (!dryRun) await call(`updating webhook ${keep.name}`, () => webhooks.update(keep.name, body(desired)));
    return { action: "update", webhookName: keep.name, changes, deleted: duplicates, dryRun };
  }
  throw new WebhookEnsureError(
    "creating the webhook: Pulumi Cloud answered 409 (conflict) but no matching webhook is listed; run again",
  );
}
