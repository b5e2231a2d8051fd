/**
 * A vend request (camelCase keys; the AVM creates the account), validated field by field with the shared rules of
 * `requestRules.ts`.
 */
import * as z from "zod/mini";
import {
  COMPLETION_TAG_KEYS,
  MAX_TAGS,
  REQUEST_ID,
  RequestIssue,
  RequestValidationError,
  VendRequest,
  accountName,
  capIssues,
  checkTag,
  checked,
  email,
  fieldName,
  nonEmptyTagValue,
  targetOuProblem,
  zodIssues,
} from "./requestRules";

/** The keys of a vend request. */
export const VEND_KEYS = ["accountName", "email", "targetOu", "tags", "requestId", "productName", "stage"] as const;

const vendSchema = z.strictObject({
  accountName: accountName(),
  email: email(),
  targetOu: z.optional(checked("OU id or path", targetOuProblem)),
  tags: z.optional(
    z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
      error: "must be an object mapping tag keys to string values",
    }),
  ),
  requestId: z.optional(
    checked("request id", (v) =>
      REQUEST_ID.test(v)
        ? undefined
        : "must be 1 to 128 characters of letters, digits and . _ : - starting with a letter or digit",
    ),
  ),
  productName: z.optional(nonEmptyTagValue("completion tag ProductName")),
  stage: z.optional(nonEmptyTagValue("completion tag Stage")),
});

export function parseVend(payload: Record<string, unknown>): VendRequest {
  const issues: RequestIssue[] = [];
  const result = vendSchema.safeParse(payload);
  if (!result.success) issues.push(...zodIssues(result.error));
  // Tags and the completion pair are checked on the input itself, so their problems are reported together
  // with any schema problem (and a "__proto__" tag key stays an own key).
  const has = (key: string): boolean => Object.hasOwn(payload, key) && payload[key] !== undefined;
  const completion = has("productName") || has("stage");
  const tags: [string, string][] = [];
  const rawTags = payload["tags"];
  if (typeof rawTags === "object" && rawTags !== null && !Array.isArray(rawTags)) {
    const entries = Object.entries(rawTags);
    const limit = completion ? MAX_TAGS - COMPLETION_TAG_KEYS.length : MAX_TAGS;
    if (entries.length > limit) {
      issues.push({
        field: "tags",
        message: completion
          ? `at most ${limit} tags (AWS allows ${MAX_TAGS} per account and the AVM adds ${COMPLETION_TAG_KEYS.join(" and ")}), got ${entries.length}`
          : `at most ${limit} tags (AWS allows ${MAX_TAGS} per account), got ${entries.length}`,
      });
    }
    for (const [key, value] of entries) {
      const tag = checkTag(fieldName(`tags.${key}`), key, value, completion, issues);
      if (tag) tags.push(tag);
    }
  }
  if (has("productName") !== has("stage")) {
    const missing = has("productName") ? "stage" : "productName";
    const other = missing === "productName" ? "stage" : "productName";
    issues.push({ field: missing, message: `is required when ${other} is set (the completion tags go together)` });
  }
  if (issues.length > 0 || !result.success) throw new RequestValidationError(capIssues(issues), "vend");
  const data = result.data;
  return {
    kind: "vend",
    accountName: data.accountName,
    email: data.email,
    ...(data.targetOu !== undefined ? { targetOu: data.targetOu } : {}),
    tags: Object.fromEntries(tags),
    ...(data.requestId !== undefined ? { requestId: data.requestId } : {}),
    ...(data.productName !== undefined ? { productName: data.productName } : {}),
    ...(data.stage !== undefined ? { stage: data.stage } : {}),
  };
}
