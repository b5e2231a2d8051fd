/**
 * Pulumi Cloud webhook signatures: `Pulumi-Webhook-Signature` is the lowercase hex HMAC-SHA256 of the raw
 * request body keyed with the webhook's shared secret (no prefix). Verified over the raw bytes with a
 * constant-time compare.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Header names as Pulumi Cloud sends them, lower-cased (Node and Lambda Function URLs lower-case headers). */
export const WEBHOOK_HEADERS = {
  id: "pulumi-webhook-id",
  kind: "pulumi-webhook-kind",
  signature: "pulumi-webhook-signature",
} as const;

/** Lowercase hex HMAC-SHA256 of `body` keyed with `secret`. */
export function computeSignature(secret: string, body: Uint8Array | string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * True when `signature` is the HMAC of `body` under `secret`. Malformed or missing signatures are false;
 * the comparison of well-formed ones takes constant time.
 */
export function verifySignature(secret: string, body: Uint8Array, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const candidate = signature.trim();
  if (!HEX_SHA256.test(candidate)) return false;
  // The raw 32-byte digest against the decoded hex: no hex string is made for the expected value.
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(candidate, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
