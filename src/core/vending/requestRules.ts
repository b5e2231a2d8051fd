/**
 * The field rules, shapes and errors shared by both kinds of account request (the meshStack hook in
 * `hookRequest.ts`, the vend request in `vendRequest.ts`), on zod's tree-shakable `zod/mini` build.
 */
import * as z from "zod/mini";

/** Maximum number of tags AWS Organizations allows on an account. */
export const MAX_TAGS = 50;

/** Tag keys the workflow writes when a request completes (meshStack's `wait_for_external_avm` signal). */
export const COMPLETION_TAG_KEYS = ["ProductName", "Stage"] as const;

/** Largest accepted JSON text (bytes); far above any real request. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Field name used in issues about the payload as a whole. */
export const PAYLOAD_FIELD = "payload";

export const MAX_REPORTED_ISSUES = 20;
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

export function summarise(issues: readonly RequestIssue[], kind: AccountRequest["kind"] | undefined): string {
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
export const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ACCOUNT_ARN = /^arn:(aws(?:-[a-z]+)*):organizations::(\d{12}):account\/(o-[a-z0-9]{10,32})\/(\d{12})$/;

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

/**
 * Checks one tag of a request: its key, whether the key is one of the completion tags the AVM writes itself (when
 * `reserveCompletion`), and its value. Each problem is added to `issues` under `field`; a valid tag is returned.
 */
export function checkTag(
  field: string,
  key: string,
  value: unknown,
  reserveCompletion: boolean,
  issues: RequestIssue[],
): [string, string] | undefined {
  const keyProblem = tagKeyProblem(key);
  if (keyProblem !== undefined) issues.push({ field, message: keyProblem });
  else if (reserveCompletion && (COMPLETION_TAG_KEYS as readonly string[]).includes(key)) {
    issues.push({ field, message: `tag key ${key} is reserved for the completion tag the AVM writes` });
  }
  if (typeof value !== "string") {
    issues.push({ field, message: "must be a string (tag value)" });
    return undefined;
  }
  const valueProblem = tagValueProblem(value);
  if (valueProblem !== undefined) {
    issues.push({ field, message: valueProblem });
    return undefined;
  }
  return [key, value];
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

export function requiredString(rule: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? "is required" : `must be a string (${rule})`) });
}

export function checked(rule: string, problem: (value: string) => string | undefined) {
  return requiredString(rule).check(
    z.superRefine((value, ctx) => {
      const message = problem(value);
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
    }),
  );
}

export const accountName = () =>
  checked("account name", (v) =>
    ACCOUNT_NAME.test(v) ? undefined : "must be 1 to 50 printable ASCII characters (space to ~)",
  );
export const email = () => checked("email address", emailProblem);
export const nonEmptyTagValue = (what: string) =>
  checked(what, (v) => (v.length === 0 ? "must not be empty" : tagValueProblem(v)));

export function zodIssues(error: z.core.$ZodError): RequestIssue[] {
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

export function fieldName(name: string): string {
  // A blank key (e.g. `{"": 1}`) would print as an empty field name: quote it so the issue still names it.
  if (name.trim() === "") return JSON.stringify(name);
  const printable = name.replace(/[\x00-\x1f\x7f]/g, "?");
  return printable.length > MAX_FIELD_NAME ? `${printable.slice(0, MAX_FIELD_NAME)}...` : printable;
}

export function capIssues(issues: RequestIssue[]): RequestIssue[] {
  if (issues.length <= MAX_REPORTED_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_REPORTED_ISSUES),
    { field: PAYLOAD_FIELD, message: `${issues.length - MAX_REPORTED_ISSUES} more problems not listed` },
  ];
}
