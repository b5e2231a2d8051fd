/**
 * The webhook secret from Secrets Manager (`AVM_WEBHOOK_SECRET_ARN`), rotating: the current and, within the
 * rotation window, the previous version (see {@link RotatingSecret}).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { WebhookSecrets } from "../../core/ports";
import { RotatingSecret, type SecretVersion } from "../../core/webhooks/rotatingSecret";

/**
 * Secrets Manager reader for `AVM_WEBHOOK_SECRET_ARN` (no candidates when the variable is unset), rotating: see
 * {@link RotatingSecret}.
 */
export function secretsManagerSecret(
  client: SecretsManagerClient,
  secretArn: string | undefined,
  options: {
    readonly now?: () => Date;
    readonly ttlMs?: number;
    readonly minRefreshIntervalMs?: number;
    readonly rotationWindowMs?: number;
  } = {},
): WebhookSecrets {
  if (secretArn === undefined || secretArn === "") {
    return { candidates: async () => undefined, refresh: async () => undefined };
  }
  const read = async (stage: "AWSCURRENT" | "AWSPREVIOUS"): Promise<SecretVersion | undefined> => {
    let result;
    try {
      result = await client.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: stage }));
    } catch (error) {
      // A secret that was never rotated has no AWSPREVIOUS version.
      if (stage === "AWSPREVIOUS" && (error as Error)?.name === "ResourceNotFoundException") return undefined;
      throw error;
    }
    if (result.SecretString === undefined || result.SecretString === "") {
      if (stage === "AWSPREVIOUS") return undefined;
      throw new Error(`secret ${secretArn} has no string value`);
    }
    return { value: result.SecretString, ...(result.CreatedDate ? { createdAt: result.CreatedDate } : {}) };
  };
  return new RotatingSecret({ read, now: options.now ?? (() => new Date()), ...withoutNow(options) });
}

function withoutNow<T extends { now?: unknown }>(options: T): Omit<T, "now"> {
  const { now: _now, ...rest } = options;
  return rest;
}
