/**
 * Errors of the Pulumi Deployments runner. Messages never contain the access token: every text that came
 * from the wire passes through {@link redact} first.
 */

/** Base class of Pulumi Deployments errors. */
export class DeploymentsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Missing or invalid runner settings (token, organization, repository). */
export class DeploymentsConfigError extends DeploymentsError {}

/** The Pulumi Cloud REST API answered with an error status (after retries for 5xx/429). */
export class PulumiCloudApiError extends DeploymentsError {
  constructor(
    message: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** 401/403: the token is missing, invalid, expired or lacks access to the organization or stack. */
export class PulumiCloudAuthError extends PulumiCloudApiError {}

/** The deployment ended `failed` (errored, timed out or cancelled). */
export class DeploymentFailedError extends DeploymentsError {
  constructor(
    message: string,
    readonly deploymentId: string,
    readonly consoleUrl: string | undefined,
  ) {
    super(message);
  }
}

/** The deployment ended `skipped` (a newer deployment of the stack superseded it, or it expired in the queue). */
export class DeploymentSkippedError extends DeploymentFailedError {}

/** Replaces every occurrence of `secret` in `text` (no-op for empty secrets). */
export function redact(text: string, secret: string): string {
  return secret === "" ? text : text.split(secret).join("[redacted]");
}
