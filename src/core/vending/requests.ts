/**
 * The two kinds of account request the AVM accepts, parsed and validated with zod (its tree-shakable
 * `zod/mini` build: about 12 KB in the Lambda bundle instead of about 450 KB for the classic API):
 *
 * - the **meshStack AVM hook** payload (flat JSON, PascalCase keys, `tag<Name>` keys for tags; the account
 *   already exists), and
 * - a **vend** request (camelCase keys; the AVM creates the account).
 *
 * {@link parseRequest} tells them apart (any of the hook's named keys makes a payload a hook payload),
 * reports every problem at once with the field and the rule it breaks, reports unknown fields instead of
 * ignoring them, and never throws anything but {@link RequestValidationError}.
 */

import { HOOK_KEYS, parseHook } from "./hookRequest";
import {
  AccountRequest,
  MAX_PAYLOAD_BYTES,
  RequestValidationError,
  PAYLOAD_FIELD,
  MeshstackHookRequest,
  VendRequest,
} from "./requestRules";
import { parseVend, VEND_KEYS } from "./vendRequest";

/** Which kind `payload` is read as: a hook payload when it has any of {@link HOOK_KEYS}, else vend. */
export function requestKindOf(payload: Readonly<Record<string, unknown>>): AccountRequest["kind"] {
  return HOOK_KEYS.some((key) => Object.hasOwn(payload, key)) ? "meshstack-hook" : "vend";
}

function toObject(input: unknown): Record<string, unknown> {
  let value = input;
  if (typeof input === "string") {
    if (Buffer.byteLength(input, "utf8") > MAX_PAYLOAD_BYTES) {
      throw new RequestValidationError([
        { field: PAYLOAD_FIELD, message: `must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON` },
      ]);
    }
    try {
      value = JSON.parse(input);
    } catch (error) {
      // The parser's message quotes the input; report only the position.
      const position = /position (\d+)/.exec(String((error as Error)?.message))?.[1];
      throw new RequestValidationError(
        [{ field: PAYLOAD_FIELD, message: `is not valid JSON${position ? ` (at position ${position})` : ""}` }],
        undefined,
        { cause: error },
      );
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new RequestValidationError([{ field: PAYLOAD_FIELD, message: `must be a JSON object, got ${got}` }]);
  }
  return value as Record<string, unknown>;
}

/**
 * Parses and validates a meshStack hook payload or a vend request, given as JSON text or as an
 * already-parsed object.
 * @throws RequestValidationError (and nothing else) listing every problem, each naming the field and rule.
 */
export function parseRequest(input: unknown): AccountRequest {
  try {
    const payload = toObject(input);
    return requestKindOf(payload) === "meshstack-hook" ? parseHook(payload) : parseVend(payload);
  } catch (error) {
    if (error instanceof RequestValidationError) throw error;
    // Defensive: exotic inputs (proxies, getters that throw) must still end as a validation error.
    throw new RequestValidationError(
      [{ field: PAYLOAD_FIELD, message: "could not be read as a JSON object" }],
      undefined,
      {
        cause: error,
      },
    );
  }
}

/**
 * Parses a meshStack hook payload only.
 * @throws RequestValidationError when `input` is not a valid hook payload.
 */
export function parseMeshstackHook(input: unknown): MeshstackHookRequest {
  const request = parseRequest(input);
  if (request.kind !== "meshstack-hook") {
    throw new RequestValidationError(
      [{ field: PAYLOAD_FIELD, message: `must be a meshStack hook payload (with ${HOOK_KEYS.join(", ")})` }],
      "meshstack-hook",
    );
  }
  return request;
}

/**
 * Parses a vend request only.
 * @throws RequestValidationError when `input` is not a valid vend request.
 */
export function parseVendRequest(input: unknown): VendRequest {
  const request = parseRequest(input);
  if (request.kind !== "vend") {
    throw new RequestValidationError(
      [{ field: PAYLOAD_FIELD, message: `must be a vend request (with ${VEND_KEYS.join(", ")})` }],
      "vend",
    );
  }
  return request;
}

/** The completion tags (`ProductName`, `Stage`) of a request, or `undefined` when it has none. */
export function completionTags(request: AccountRequest): Readonly<Record<string, string>> | undefined {
  if (request.productName === undefined || request.stage === undefined) return undefined;
  return { ProductName: request.productName, Stage: request.stage };
}
