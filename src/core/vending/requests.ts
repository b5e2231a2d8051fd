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
import * as z from "zod/mini";
import { isAccountId } from "../../shared/naming";

/** Maximum number of tags AWS Organizations allows on an account. */
export const MAX_TAGS = 50;

/** Tag keys the workflow writes when a request completes (meshStack's `wait_for_external_avm` signal). */
export const COMPLETION_TAG_KEYS = ["ProductName", "Stage"] as const;

/** Largest accepted JSON text (bytes); far above any real request. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Field name used in issues about the payload as a whole. */
export const PAYLOAD_FIELD = "payload";

const MAX_REPORTED_ISSUES = 20;
const MAX_FIELD_NAME = 64;

/** A meshStack AVM hook payload, validated. */
export interface MeshstackHookRequest {
  readonly kind: "meshstack-hook";
  readonly accountName: string;
  /** The account's root email as sent (the ledger normalises it). */
  readonly email: string;
  readonly accountId: string;
  readonly accountArn: string;
  /** Parts of `accountArn`. */
  readonly partition: string;
  readonly managementAccountId: string;
  readonly organizationId: string;
  /** meshStack workspace identifier; written as the completion tag `ProductName`. */
  readonly productName: string;
  /** meshStack project identifier; written as the completion tag `Stage`. */
  readonly stage: string;
  readonly contactEmail?: string;
  /** Tags from the `tag<Name>` keys, by tag key. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A request to create (vend) a new account, validated. */
export interface VendRequest {
  readonly kind: "vend";
  readonly accountName: string;
  /** Root email of the new account as sent (the ledger normalises it). */
  readonly email: string;
  /**
   * Target OU: an OU id (`ou-...`), the root id (`r-...`) or an OU path such as `/Workloads/Prod`
   * (`/` is the root). Absent: the deployment's default OU.
   */
  readonly targetOu?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Caller-chosen request id; generated when absent. */
  readonly requestId?: string;
  /** Completion tag `ProductName`; given together with `stage` or not at all. */
  readonly productName?: string;
  /** Completion tag `Stage`; given together with `productName` or not at all. */
  readonly stage?: string;
}

/** Either kind of request. */
export type AccountRequest = MeshstackHookRequest | VendRequest;

/** One problem with a request. */
export interface RequestIssue {
  /** The offending field as sent (e.g. `AccountId`, `tags.CostCenter`), or `payload`. */
  readonly field: string;
  /** The rule it breaks, e.g. `must be a 12-digit AWS account id`. */
  readonly message: string;
}

/** Base class of request errors. */
export class RequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is invalid; `issues` lists every problem found. */
export class RequestValidationError extends RequestError {
  /** Every problem found, in field order. Never empty. */
  readonly issues: readonly RequestIssue[];
  /** Which kind the payload was read as, when that could be told. */
  readonly requestKind?: AccountRequest["kind"];

  constructor(issues: readonly RequestIssue[], requestKind?: AccountRequest["kind"], options?: ErrorOptions) {
    super(summarise(issues, requestKind), options);
    this.issues = issues;
    if (requestKind !== undefined) this.requestKind = requestKind;
  }
}

function summarise(issues: readonly RequestIssue[], kind: AccountRequest["kind"] | undefined): string {
  const what = kind === "meshstack-hook" ? "meshStack hook payload" : kind === "vend" ? "vend request" : "request";
  const shown = issues.slice(0, 5).map((issue) => `${issue.field}: ${issue.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return `invalid ${what}: ${shown.join("; ")}${more}`;
}

// ---------------------------------------------------------------------------------------------------
// Field rules (shared by both kinds)

/** Printable ASCII, 1-50 characters: the AWS Organizations account name rule. */
const ACCOUNT_NAME = /^[\x20-\x7e]{1,50}$/;
const LOCAL_FORBIDDEN = /[\s"'()<>[\]:;,\\|%&]/;
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
/** Letters, numbers, white space and `_ . : / = + - @` in any language: the AWS tag character rule. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const OU_ID = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ACCOUNT_ARN = /^arn:(aws(?:-[a-z]+)*):organizations::(\d{12}):account\/(o-[a-z0-9]{10,32})\/(\d{12})$/;

/** Why `email` breaks the AWS root email rules, or `undefined` when it keeps them. */
export function emailProblem(email: string): string | undefined {
  if (email.length < 6 || email.length > 64) return "must be 6 to 64 characters long";
  if (!/^[\x00-\x7f]*$/.test(email)) return "must contain only 7-bit ASCII characters";
  const parts = email.split("@");
  if (parts.length !== 2) return "must contain exactly one @";
  const [local = "", domain = ""] = parts;
  if (local === "") return "must have a local name before the @";
  if (LOCAL_FORBIDDEN.test(local) || /[\x00-\x1f\x7f]/.test(local)) {
    return `local name must not contain whitespace, control characters or any of " ' ( ) < > [ ] : ; , \\ | % &`;
  }
  if (local.startsWith(".")) return "local name must not begin with a dot";
  if (!DOMAIN.test(domain)) {
    return "domain must consist of letters, digits, hyphens and dots and must not begin or end with a hyphen or dot";
  }
  if (!domain.includes(".")) return "domain must contain at least one dot";
  return undefined;
}

/** Why `key` is not a valid AWS tag key, or `undefined`. */
export function tagKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > 128) return "tag key must be 1 to 128 characters long";
  if (!TAG_CHARS.test(key)) return "tag key may contain only letters, numbers, spaces and _ . : / = + - @";
  if (key.toLowerCase().startsWith("aws:")) return "tag key must not begin with the reserved prefix aws:";
  return undefined;
}

/** Why `value` is not a valid AWS tag value, or `undefined`. */
export function tagValueProblem(value: string): string | undefined {
  if (value.length > 256) return "tag value must be at most 256 characters long";
  if (!TAG_CHARS.test(value)) return "tag value may contain only letters, numbers, spaces and _ . : / = + - @";
  return undefined;
}

/** Why `target` is not an OU id, root id or OU path, or `undefined`. */
export function targetOuProblem(target: string): string | undefined {
  if (OU_ID.test(target) || ROOT_ID.test(target) || target === "/") return undefined;
  if (!target.startsWith("/")) return "must be an OU id (ou-...), a root id (r-...) or an OU path starting with /";
  if (target.length > 1024) return "OU path must be at most 1024 characters long";
  const segments = target.slice(1).split("/");
  for (const segment of segments) {
    if (segment.length < 1 || segment.length > 128) return "each OU name in the path must be 1 to 128 characters long";
    if (/[\x00-\x1f\x7f]/.test(segment)) return "OU names must not contain control characters";
  }
  return undefined;
}

function requiredString(rule: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? "is required" : `must be a string (${rule})`) });
}

function checked(rule: string, problem: (value: string) => string | undefined) {
  return requiredString(rule).check(
    z.superRefine((value, ctx) => {
      const message = problem(value);
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
    }),
  );
}

const accountName = () =>
  checked("account name", (v) =>
    ACCOUNT_NAME.test(v) ? undefined : "must be 1 to 50 printable ASCII characters (space to ~)",
  );
const email = () => checked("email address", emailProblem);
const nonEmptyTagValue = (what: string) =>
  checked(what, (v) => (v.length === 0 ? "must not be empty" : tagValueProblem(v)));

// ---------------------------------------------------------------------------------------------------
// meshStack hook

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

function parseHook(payload: Record<string, unknown>): MeshstackHookRequest {
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
    const keyProblem = tagKeyProblem(tagKey);
    if (keyProblem !== undefined) issues.push({ field, message: keyProblem });
    else if ((COMPLETION_TAG_KEYS as readonly string[]).includes(tagKey)) {
      issues.push({ field, message: `tag key ${tagKey} is reserved for the completion tag the AVM writes` });
    }
    if (typeof value !== "string") issues.push({ field, message: "must be a string (tag value)" });
    else {
      const valueProblem = tagValueProblem(value);
      if (valueProblem !== undefined) issues.push({ field, message: valueProblem });
      else tags.push([tagKey, value]);
    }
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

// ---------------------------------------------------------------------------------------------------
// vend request

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

function parseVend(payload: Record<string, unknown>): VendRequest {
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
      const field = fieldName(`tags.${key}`);
      const keyProblem = tagKeyProblem(key);
      if (keyProblem !== undefined) issues.push({ field, message: keyProblem });
      else if (completion && (COMPLETION_TAG_KEYS as readonly string[]).includes(key)) {
        issues.push({ field, message: `tag key ${key} is reserved for the completion tag the AVM writes` });
      }
      if (typeof value !== "string") issues.push({ field, message: "must be a string (tag value)" });
      else {
        const valueProblem = tagValueProblem(value);
        if (valueProblem !== undefined) issues.push({ field, message: valueProblem });
        else tags.push([key, value]);
      }
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

// ---------------------------------------------------------------------------------------------------
// entry points

function zodIssues(error: z.core.$ZodError): RequestIssue[] {
  const issues: RequestIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ field: fieldName(key), message: "is not a known field" });
    } else {
      const field = issue.path.length === 0 ? PAYLOAD_FIELD : fieldName(issue.path.map(String).join("."));
      issues.push({ field, message: issue.message });
    }
  }
  return issues;
}

function fieldName(name: string): string {
  // A blank key (e.g. `{"": 1}`) would print as an empty field name: quote it so the issue still names it.
  if (name.trim() === "") return JSON.stringify(name);
  const printable = name.replace(/[\x00-\x1f\x7f]/g, "?");
  return printable.length > MAX_FIELD_NAME ? `${printable.slice(0, MAX_FIELD_NAME)}...` : printable;
}

function capIssues(issues: RequestIssue[]): RequestIssue[] {
  if (issues.length <= MAX_REPORTED_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_REPORTED_ISSUES),
    { field: PAYLOAD_FIELD, message: `${issues.length - MAX_REPORTED_ISSUES} more problems not listed` },
  ];
}

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
