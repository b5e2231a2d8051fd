/**
 * The seam between the vending workflow and whatever deploys a managed account's Pulumi stack:
 * the Automation API (local), Pulumi Deployments (remote), or the offline planner (no Pulumi CLI).
 */

/** What an account stack needs to know; derived from the ledger record. */
export interface AccountStackRequest {
  /** 12-digit id of the managed account. */
  readonly accountId: string;
  readonly accountName: string;
  readonly email: string;
  /** Ledger request id, for correlation in logs and deployment tags. */
  readonly requestId: string;
  /** Tags to apply to the account (already validated). */
  readonly tags: Readonly<Record<string, string>>;
}

/** Outcome of one runner call. */
export interface AccountStackResult {
  /**
   * - `deployed`: the stack is up to date in AWS.
   * - `planned`: rendered offline only (no Pulumi CLI); nothing was deployed.
   * - `queued`: a remote deployment was started; a webhook will report the outcome.
   */
  readonly status: "deployed" | "planned" | "queued";
  /** Stack name (`account-<id>`). */
  readonly stackName: string;
  /** Stack outputs, when known. Secrets are never included in plain text. */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** Human-facing link (Pulumi Cloud console, deployment log), when there is one. */
  readonly url?: string;
  /** One-line summary for logs and the ledger history. */
  readonly summary: string;
}

/** Deploys (or plans) the per-account stack. Implementations must be idempotent per account. */
export interface AccountStackRunner {
  deploy(request: AccountStackRequest): Promise<AccountStackResult>;
}
