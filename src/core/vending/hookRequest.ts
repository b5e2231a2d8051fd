/**
 * The meshStack AVM hook payload (flat JSON, PascalCase keys, `tag<Name>` keys for tags; the account already
 * exists), validated field by field with the shared rules of `requestRules.ts`.
 */
import * as z from "zod/mini";
import { isAccountId } from "../../shared/naming";
import {
  ACCOUNT_ARN,
  COMPLETION_TAG_KEYS,
  MAX_TAGS,
  MeshstackHookRequest,
  RequestIssue,
  RequestValidationError,
  accountName,
  capIssues,
  checkTag,
  checked,
  email,
  fieldName,
  nonEmptyTagValue,
  zodIssues,
} from "./requestRules";

/** The named (non-tag) keys of the meshStack hook payload. */
export const HOOK_KEYS = [
  "AccountName",
  "AccountEmail",
  "AccountId",
  "AccountArn",
  "ProductName",
  "ContactEmail",
  "Stage",
] as const;

const hookSchema = z.strictObject({
  AccountName: accountName(),
  AccountEmail: email(),
  AccountId: checked("account id", (v) => (isAccountId(v) ? undefined : "must be a 12-digit AWS account id")),
  AccountArn: checked("account ARN", (v) =>
    ACCOUNT_ARN.test(v)
      ? undefined
      : "must be an AWS Organizations account ARN (arn:<partition>:organizations::<management account id>:account/o-<org id>/<account id>)",
  ),
  ProductName: nonEmptyTagValue("meshStack workspace id"),
  ContactEmail: z.optional(email()),
  Stage: nonEmptyTagValue("meshStack project id"),
});

export function parseHook(payload: Record<string, unknown>): MeshstackHookRequest {
  const issues: RequestIssue[] = [];
  const named: [string, unknown][] = [];
  const tags: [string, string][] = [];
  let tagCount = 0;
  for (const [key, value] of Object.entries(payload)) {
    if (!key.startsWith("tag")) {
      named.push([key, value]);
      continue;
    }
    tagCount += 1;
    const tagKey = key.slice(3);
    const field = fieldName(key);
    if (tagKey === "") {
      issues.push({ field, message: "tag fields must be named tag<Name> with a non-empty tag name" });
      continue;
    }
    // The hook always gets the completion tags, so their keys are reserved.
    const tag = checkTag(field, tagKey, value, true, issues);
    if (tag) tags.push(tag);
  }
  if (tagCount + COMPLETION_TAG_KEYS.length > MAX_TAGS) {
    issues.push({
      field: "tag*",
      message: `at most ${MAX_TAGS - COMPLETION_TAG_KEYS.length} tag<Name> fields (AWS allows ${MAX_TAGS} tags per account and the AVM adds ${COMPLETION_TAG_KEYS.join(" and ")}), got ${tagCount}`,
    });
  }
  // Object.fromEntries keeps a "__proto__" key as an own field (so it is reported as unknown).
  const result = hookSchema.safeParse(Object.fromEntries(named));
  if (!result.success) issues.unshift(...zodIssues(result.error));
  const data = result.success ? result.data : undefined;
  const arn = data ? ACCOUNT_ARN.exec(data.AccountArn) : null;
  if (data && arn && arn[4] !== data.AccountId) {
    issues.push({ field: "AccountArn", message: "must name the same account as AccountId" });
  }
  if (issues.length > 0 || !data || !arn) throw new RequestValidationError(capIssues(issues), "meshstack-hook");
  return {
    kind: "meshstack-hook",
    accountName: data.AccountName,
    email: data.AccountEmail,
    accountId: data.AccountId,
    accountArn: data.AccountArn,
    partition: arn[1]!,
    managementAccountId: arn[2]!,
    organizationId: arn[3]!,
    productName: data.ProductName,
    stage: data.Stage,
    ...(data.ContactEmail !== undefined ? { contactEmail: data.ContactEmail } : {}),
    tags: Object.fromEntries(tags),
  };
}
