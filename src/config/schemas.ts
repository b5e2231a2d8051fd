/**
 * The value rules of every configuration key as zod schemas, grouped by stack kind: {@link STACK_IDENTITY_SCHEMA}
 * (what decides the kind), {@link COMMON_SCHEMA}, {@link ACCOUNT_SCHEMA} and {@link PLATFORM_SCHEMA}. Each issue's
 * message is the final `ConfigError` message: it names the key (`meshstack-avm:<key>`, `aws:region`) and the rule,
 * echoes a bad value only when it is not a secret, and is what the README and the tests quote. Object fields are
 * named after the keys, so an issue's first path element is the key at fault.
 *
 * Rules that relate several keys (the stack kind and the stack name, keys foreign to the kind, accounts named in
 * ARNs, the entry point's authority, OIDC) are not here but in `crossFieldRules.ts`.
 */
import * as z from "zod";
import { DEFAULT_ACCESS_ROLE_NAME, DEFAULT_BOOTSTRAP_ROLE_NAME, DEFAULT_SAML_PROVIDER_NAME } from "../shared/naming";
import {
  type ConfigKey,
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_MAX_CONCURRENT_CREATES,
  DEFAULT_VENDING_ROLE_NAME,
  LOG_RETENTION_DAYS_ALLOWED,
  MESHFED_SERVICE_POLICY_MODES,
  REGION_KEY,
  qualifiedKey,
} from "./keys";

// AWS's (and git's, Pulumi Cloud's) own formats, which zod has no built-in for.
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const PARTITION = "aws(?:-cn|-us-gov|-iso(?:-[a-z])?|-eusc)?";
const PRINCIPAL_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:user|role)/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const PULUMI_OIDC_PROVIDER_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:oidc-provider/api\\.pulumi\\.com/oidc$`);
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SAML_PROVIDER_NAME = /^[\w._-]{1,128}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const OU_OR_ROOT_ID = /^(?:ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const OU_PATH = /^\/(?:[^/\x00-\x1f\x7f]{1,128}(?:\/[^/\x00-\x1f\x7f]{1,128})*)?$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ALIAS = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const PULUMI_ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const PULUMI_ACCESS_TOKEN = /^\S{1,1024}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[\s0-9()+-]{1,25}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const REPO_URL = /^https:\/\/[^\s/]+\/\S+$/;
const GIT_BRANCH = /^(?!.*\.\.)(?!\/)[\w./-]{1,255}$/;
const REPO_DIR = /^(?!.*\.\.)(?!\/)[\w./-]{1,1024}$/;
const INTEGER_TEXT = /^-?\d+$/;

/** Types of alternate contacts the AWS Account API knows. */
const CONTACT_TYPES = ["operations", "billing", "security"] as const;
const CONTACT_FIELDS = ["name", "title", "emailAddress", "phoneNumber"] as const;

const q = qualifiedKey;

/** A string value; a missing one is reported as required by `rule`, a value of another type by its type. */
function text(key: string, rule = "must be a string") {
  return z.string({
    error: (issue) =>
      issue.input === undefined
        ? `${key} is required and ${rule}`
        : `${key} must be a string, got ${typeof issue.input}`,
  });
}

/** A string matching `pattern`; a mismatch is reported with the value. */
function matching(key: string, pattern: RegExp, rule: string) {
  return text(key, rule).regex(pattern, { error: (issue) => `${key} ${rule}, got "${String(issue.input)}"` });
}

/** A required string matching `pattern` (the empty string counts as missing). */
function required(key: string, pattern: RegExp, rule: string) {
  return text(key, rule)
    .min(1, `${key} is required and ${rule}`)
    .regex(pattern, {
      error: (issue) => `${key} ${rule}, got "${String(issue.input)}"`,
    });
}

/** An optional secret string matching `pattern`; a mismatch is reported without the value. */
function secret(key: ConfigKey, pattern: RegExp, rule: string) {
  return text(q(key), rule)
    .regex(pattern, `${q(key)} ${rule} (value not shown: secret)`)
    .optional();
}

function accountId(key: ConfigKey) {
  return required(q(key), ACCOUNT_ID, "must be a 12-digit AWS account id");
}

function roleName(key: ConfigKey) {
  return matching(q(key), ROLE_NAME, "must be an IAM role name (1-64 characters of letters, digits and +=,.@-_)");
}

/** One of `values`; anything else is reported with the value. */
function oneOf<const T extends readonly [string, ...string[]]>(key: ConfigKey, values: T, rule: string) {
  return text(q(key)).pipe(z.enum(values, { error: (issue) => `${q(key)} ${rule}, got "${String(issue.input)}"` }));
}

/** `true`/`false` as a boolean or as the text Pulumi stores (`"true"`/`"false"`). */
function flag(key: ConfigKey) {
  const rule = (issue: { input?: unknown }) => `${q(key)} must be true or false, got ${JSON.stringify(issue.input)}`;
  return z
    .union([z.boolean(), z.stringbool({ truthy: ["true"], falsy: ["false"], case: "sensitive" })], { error: rule })
    .default(false);
}

/** A safe integer, as a number or as decimal text. */
function integer(key: ConfigKey) {
  const rule = (issue: { input?: unknown }) => `${q(key)} must be an integer, got ${JSON.stringify(issue.input)}`;
  return z.union(
    [
      z.int({ error: rule }),
      z
        .string()
        .regex(INTEGER_TEXT)
        .refine((value) => Number.isSafeInteger(Number(value)))
        .transform(Number),
    ],
    { error: rule },
  );
}

/** `schema` applied to the value, or to the parsed JSON when the value is a string (`invalidJson` when it is not JSON). */
function json<T extends z.ZodType>(invalidJson: string, schema: T) {
  return z.preprocess((value, context) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value) as unknown;
    } catch (cause) {
      context.issues.push({ code: "custom", message: invalidJson, input: value, params: { cause } });
      return z.NEVER;
    }
  }, schema);
}

/** One entry of a target list, reported with its value. */
function target(key: ConfigKey, valid: (value: string) => boolean, what: string) {
  const rule = (issue: { input?: unknown }) => `${q(key)} entries must be ${what}, got ${JSON.stringify(issue.input)}`;
  return z.string({ error: rule }).refine(valid, { error: rule });
}

const TAGS = q("tags");
const TAG_VALUE_RULE = "must be a string of 0-256 letters, digits, spaces or _.:/=+-@";
const tagName = (issue: { path?: PropertyKey[] }) => String(issue.path?.at(-1));

/** A tag value: a string; a number or boolean (what `pulumi config set --path` stores for `1234`) has its own message. */
const tagValue = z
  .string({
    error: (issue) =>
      typeof issue.input === "number" || typeof issue.input === "boolean"
        ? `${TAGS}: value of tag "${tagName(issue)}" must be a string, got the ${typeof issue.input} ` +
          `${String(issue.input)}; write tag values with \`pulumi config set --type string --path\` or set ${TAGS} ` +
          `as one JSON object`
        : `${TAGS}: value of tag "${tagName(issue)}" ${TAG_VALUE_RULE}`,
  })
  .regex(TAG_VALUE, { error: (issue) => `${TAGS}: value of tag "${tagName(issue)}" ${TAG_VALUE_RULE}` });

const tagKey = z
  .string()
  .regex(TAG_KEY)
  .refine((name) => !name.toLowerCase().startsWith("aws:"));

/** Tags: an object (or JSON object) of at most 50 tags, each key and value in AWS's tag format. */
const tags = json(
  `${TAGS} must be a JSON object, got invalid JSON`,
  z
    .record(z.string(), z.unknown(), { error: `${TAGS} must be a JSON object` })
    .refine((all) => Object.keys(all).length <= 50, {
      error: (issue) => `${TAGS} must have at most 50 tags, got ${Object.keys(issue.input as object).length}`,
    })
    .pipe(
      z.record(tagKey, tagValue, {
        error: (issue) =>
          `${TAGS}: tag key "${String(issue.input)}" must be 1-128 letters, digits, spaces or _.:/=+-@ and must not ` +
          `start with aws:`,
      }),
    ),
).default({});

const CONTACTS = q("alternateContacts");

/** One alternate contact: exactly the four fields the AWS Account API requires. */
function contact(type: (typeof CONTACT_TYPES)[number]) {
  const field = (name: (typeof CONTACT_FIELDS)[number], rule: string) =>
    `${CONTACTS}.${type}.${name} is required and must be ${rule}`;
  const name = field("name", "1-64 characters");
  const title = field("title", "1-50 characters");
  const email = field("emailAddress", "an email address of at most 254 characters");
  const phone = field("phoneNumber", "1-25 digits, spaces and ()+-");
  return z.strictObject(
    {
      name: z.string({ error: name }).min(1, name).max(64, name),
      title: z.string({ error: title }).min(1, title).max(50, title),
      emailAddress: z.string({ error: email }).regex(EMAIL, email).max(254, email),
      phoneNumber: z.string({ error: phone }).regex(PHONE, phone),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `${CONTACTS}.${type}: unknown field "${String(issue.keys[0])}" (allowed: ${CONTACT_FIELDS.join(", ")})`
          : `${CONTACTS}.${type} must be an object {name, title, emailAddress, phoneNumber}`,
    },
  );
}

/** Alternate contacts by type, each optional. */
const alternateContacts = json(
  `${CONTACTS} must be a JSON object, got invalid JSON`,
  z.strictObject(
    {
      operations: contact("operations").optional(),
      billing: contact("billing").optional(),
      security: contact("security").optional(),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `${CONTACTS}: unknown contact type "${String(issue.keys[0])}" (allowed: ${CONTACT_TYPES.join(", ")})`
          : `${CONTACTS} must be a JSON object`,
    },
  ),
).optional();

/** What decides the stack kind, checked before anything else: `stackKind` and the type of `accountId`. */
export const STACK_IDENTITY_SCHEMA = z.object({
  stackKind: oneOf("stackKind", ["platform", "account"], 'must be "platform" or "account"').optional(),
  accountId: text(q("accountId")).optional(),
});

/** Keys both stack kinds read, and `aws:region` (field `region`). */
export const COMMON_SCHEMA = z.object({
  region: required(REGION_KEY, REGION, "must be an AWS region name such as eu-central-1"),
  managementAccountId: accountId("managementAccountId"),
  automationAccountId: accountId("automationAccountId"),
  meshfedServicePrincipalArn: matching(
    q("meshfedServicePrincipalArn"),
    PRINCIPAL_ARN,
    "must be an IAM user or role ARN (arn:<partition>:iam::<12 digits>:user/<name> or :role/<name>)",
  ).optional(),
  externalId: secret("externalId", EXTERNAL_ID, "must be 2-1224 characters of letters, digits and +=,.@:/-_"),
  accessRoleName: roleName("accessRoleName")
    .refine(
      (name) => name !== DEFAULT_BOOTSTRAP_ROLE_NAME,
      `${q("accessRoleName")} must not be ${DEFAULT_BOOTSTRAP_ROLE_NAME}: AWS Organizations creates that admin role ` +
        `in every new account; choose another name (default ${DEFAULT_ACCESS_ROLE_NAME})`,
    )
    .default(DEFAULT_ACCESS_ROLE_NAME),
  samlProviderName: matching(
    q("samlProviderName"),
    SAML_PROVIDER_NAME,
    "must be 1-128 characters of letters, digits and ._-",
  ).default(DEFAULT_SAML_PROVIDER_NAME),
  bootstrapRoleName: roleName("bootstrapRoleName").default(DEFAULT_BOOTSTRAP_ROLE_NAME),
});

/** Keys only an account stack reads. */
export const ACCOUNT_SCHEMA = z.object({
  accountId: accountId("accountId"),
  accountAlias: matching(
    q("accountAlias"),
    ACCOUNT_ALIAS,
    "must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
  ).optional(),
  alternateContacts,
  tags,
});

/** Keys only the platform stack reads. */
export const PLATFORM_SCHEMA = z.object({
  managementDeployRoleArn: matching(
    q("managementDeployRoleArn"),
    ROLE_ARN,
    "must be an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)",
  ).optional(),
  organizationId: required(
    q("organizationId"),
    ORGANIZATION_ID,
    "must be an AWS Organizations id (o- followed by 10-32 lower-case letters or digits)",
  ),
  vendingRoleName: roleName("vendingRoleName").default(DEFAULT_VENDING_ROLE_NAME),
  defaultOuId: matching(
    q("defaultOuId"),
    OU_OR_ROOT_ID,
    "must be an organizational unit id (ou-...) or a root id (r-...)",
  ).optional(),
  logRetentionDays: integer("logRetentionDays")
    .refine((days) => LOG_RETENTION_DAYS_ALLOWED.includes(days), {
      error: (issue) =>
        `${q("logRetentionDays")} must be one of the CloudWatch Logs retention periods ` +
        `(${LOG_RETENTION_DAYS_ALLOWED.join(", ")}), got ${String(issue.input)}`,
    })
    .default(DEFAULT_LOG_RETENTION_DAYS),
  maxConcurrentCreates: integer("maxConcurrentCreates")
    .refine((count) => count >= 1 && count <= 5, {
      error: (issue) =>
        `${q("maxConcurrentCreates")} must be between 1 and 5 (AWS allows 5 CreateAccount requests in flight), ` +
        `got ${String(issue.input)}`,
    })
    .default(DEFAULT_MAX_CONCURRENT_CREATES),
  webhookSecret: secret("webhookSecret", /^.{16,4096}$/s, "must be 16-4096 characters"),
  pulumiOrganization: matching(
    q("pulumiOrganization"),
    PULUMI_ORGANIZATION,
    "must be a Pulumi Cloud organization name (letters, digits, ._-, at most 100 characters)",
  ).optional(),
  pulumiAccessToken: secret("pulumiAccessToken", PULUMI_ACCESS_TOKEN, "must be a non-empty token"),
  pulumiRepoUrl: matching(q("pulumiRepoUrl"), REPO_URL, "must be an https:// git clone URL").optional(),
  pulumiRepoBranch: matching(
    q("pulumiRepoBranch"),
    GIT_BRANCH,
    'must be a git branch name (letters, digits and ._/-, no "..")',
  ).optional(),
  pulumiRepoDir: matching(
    q("pulumiRepoDir"),
    REPO_DIR,
    'must be a relative directory inside the repository (letters, digits and ._/-, no "..")',
  ).optional(),
  meshfedServicePolicy: oneOf(
    "meshfedServicePolicy",
    MESHFED_SERVICE_POLICY_MODES,
    `must be one of ${MESHFED_SERVICE_POLICY_MODES.join(", ")}`,
  ).default("none"),
  entryPointVending: flag("entryPointVending"),
  entryPointAdoption: flag("entryPointAdoption"),
  entryPointTargetOus: json(
    `${q("entryPointTargetOus")} must be a JSON array of OU ids, root ids or OU paths, got invalid JSON`,
    z
      .array(
        target(
          "entryPointTargetOus",
          (v) => OU_OR_ROOT_ID.test(v) || OU_PATH.test(v),
          "OU ids (ou-...), root ids (r-...) or OU paths (/A/B)",
        ),
        { error: `${q("entryPointTargetOus")} must be a list of OU ids (ou-...), root ids (r-...) or OU paths (/A/B)` },
      )
      .default([]),
  ),
  guardrailTargets: json(
    `${q("guardrailTargets")} must be a JSON array of OU ids or root ids, got invalid JSON`,
    z
      .array(
        target("guardrailTargets", (v) => OU_OR_ROOT_ID.test(v), "OU ids (ou-...) or root ids (r-...)"),
        {
          error: `${q("guardrailTargets")} must be a list of OU ids (ou-...) or root ids (r-...)`,
        },
      )
      .refine(
        (targets) => new Set(targets).size === targets.length,
        `${q("guardrailTargets")} must not list a target twice`,
      )
      .default([]),
  ),
  deploymentsOidc: flag("deploymentsOidc"),
  deploymentsOidcProviderArn: matching(
    q("deploymentsOidcProviderArn"),
    PULUMI_OIDC_PROVIDER_ARN,
    "must be the ARN of an IAM OIDC provider for api.pulumi.com/oidc " +
      "(arn:<partition>:iam::<12 digits>:oidc-provider/api.pulumi.com/oidc)",
  ).optional(),
});

/** The values of the common keys after validation and defaults. */
export type CommonValues = z.output<typeof COMMON_SCHEMA>;
/** The values of the account stack's keys after validation and defaults. */
export type AccountValues = z.output<typeof ACCOUNT_SCHEMA>;
/** The values of the platform stack's keys after validation and defaults. */
export type PlatformValues = z.output<typeof PLATFORM_SCHEMA>;
