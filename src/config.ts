/**
 * Stack configuration of the Pulumi program: the only module that reads `pulumi.Config`.
 *
 * One project serves two kinds of stack:
 * - the **platform** stack (e.g. `dev`), deployed into the automation account, plus the vending role in the
 *   management account;
 * - one **account** stack per managed account, named `account-<12-digit id>`, deployed into that account.
 *
 * {@link parseConfig} validates a plain object (pure, testable without Pulumi mocks); {@link loadConfig} feeds
 * it from the stack's configuration. Every error names the configuration key and the rule.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_ACCESS_ROLE_NAME,
  DEFAULT_BOOTSTRAP_ROLE_NAME,
  DEFAULT_SAML_PROVIDER_NAME,
  PROJECT_NAME,
  accountIdFromStackName,
} from "./shared/naming";
import type { EntryPointAuthority } from "./core/vending/entryPointGate";

/**
 * Namespace of the program's configuration keys. It is the project name because Pulumi only accepts typed,
 * described declarations in `Pulumi.yaml` for keys in the project's own namespace (keys of any other namespace
 * may only carry a fixed `value`), so `meshstack-avm:managementAccountId` is declared as `managementAccountId`.
 */
export const CONFIG_NAMESPACE = PROJECT_NAME;

/** Default name of the role in the management account that the AVM assumes for Organizations calls. */
export const DEFAULT_VENDING_ROLE_NAME = "AVMVendingRole";

/** Default CloudWatch Logs retention of the AVM's log groups, in days. */
export const DEFAULT_LOG_RETENTION_DAYS = 90;

/** Default (and AWS's maximum) number of CreateAccount requests in flight. */
export const DEFAULT_MAX_CONCURRENT_CREATES = 5;

/**
 * What the platform stack does about meshStack's own principal in the management account (`meshfedServicePolicy`):
 * - `none` (default): nothing; the principal is managed elsewhere;
 * - `create`: creates the least-privilege managed policy, to attach or to set as the principal's permissions
 *   boundary where the principal is managed;
 * - `attach`: creates it and attaches it to the principal (`meshfedServicePrincipalArn`, a user or role in the
 *   management account).
 */
export const MESHFED_SERVICE_POLICY_MODES = ["none", "create", "attach"] as const;

/** A value of {@link MESHFED_SERVICE_POLICY_MODES}. */
export type MeshfedServicePolicyMode = (typeof MESHFED_SERVICE_POLICY_MODES)[number];

/** Retention periods CloudWatch Logs accepts (`PutRetentionPolicy`), in days. */
export const LOG_RETENTION_DAYS_ALLOWED: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Every configuration key the program reads (without namespace), by stack kind. */
export const CONFIG_KEYS = {
  /** Keys read on both stack kinds. */
  common: [
    "stackKind",
    "managementAccountId",
    "automationAccountId",
    "meshfedServicePrincipalArn",
    "externalId",
    "accessRoleName",
    "samlProviderName",
    "bootstrapRoleName",
  ],
  /** Keys only an account stack may set. */
  account: ["accountId", "accountAlias", "alternateContacts", "tags"],
  /** Keys only the platform stack may set. */
  platform: [
    "organizationId",
    "vendingRoleName",
    "managementDeployRoleArn",
    "defaultOuId",
    "logRetentionDays",
    "maxConcurrentCreates",
    "webhookSecret",
    "pulumiOrganization",
    "pulumiAccessToken",
    "pulumiRepoUrl",
    "pulumiRepoBranch",
    "pulumiRepoDir",
    "meshfedServicePolicy",
    "entryPointVending",
    "entryPointAdoption",
    "entryPointTargetOus",
    "guardrailTargets",
    "deploymentsOidc",
    "deploymentsOidcProviderArn",
  ],
  /** Keys whose values are secrets (read as plain text, validated, then wrapped with `pulumi.secret`). */
  secret: ["externalId", "webhookSecret", "pulumiAccessToken"],
} as const;

/** A configuration key of this program, without namespace. */
export type ConfigKey = (typeof CONFIG_KEYS)["common" | "account" | "platform"][number];

/** The fully qualified key (`meshstack-avm:<key>`), as used by `pulumi config set` and in error messages. */
export function qualifiedKey(key: ConfigKey): string {
  return `${CONFIG_NAMESPACE}:${key}`;
}

/** One alternate contact of an account (all four fields are required by the AWS Account API). */
export interface AlternateContact {
  readonly name: string;
  readonly title: string;
  readonly emailAddress: string;
  readonly phoneNumber: string;
}

/** Alternate contacts by type; each entry is optional. */
export interface AlternateContacts {
  readonly operations?: AlternateContact;
  readonly billing?: AlternateContact;
  readonly security?: AlternateContact;
}

/** Settings shared by both stack kinds. */
export interface CommonConfig {
  /** The Pulumi stack name the configuration was read for. */
  readonly stackName: string;
  /** `aws:region`: region of the providers and of the `AVMEntryPoint` Lambda. */
  readonly region: string;
  /** 12-digit id of the AWS Organizations management account. */
  readonly managementAccountId: string;
  /** 12-digit id of the automation account that hosts the AVM. */
  readonly automationAccountId: string;
  /**
   * ARN (user or role) meshStack's service principal uses; `undefined` means the default
   * `arn:<partition>:iam::<managementAccountId>:user/meshfed-service`, built once the partition is known.
   */
  readonly meshfedServicePrincipalArn: string | undefined;
  /** Secret `sts:ExternalId` the access role's trust policy requires, when configured. */
  readonly externalId: pulumi.Output<string> | undefined;
  /** Name of the meshStack access role in every managed account (default `MeshstackAccountAccessRole`). */
  readonly accessRoleName: string;
  /** Name of the SAML provider meshStack maintains in each managed account (default `meshstack-saml-idp`). */
  readonly samlProviderName: string;
  /**
   * Role AWS Organizations creates in new accounts (default `OrganizationAccountAccessRole`): the account stack's
   * provider assumes it; the platform stack passes it to the worker for the account stacks it starts.
   */
  readonly bootstrapRoleName: string;
}

/** Configuration of an account stack (`account-<id>`). */
export interface AccountStackConfig extends CommonConfig {
  readonly kind: "account";
  /** 12-digit id of the managed account; equals the id in the stack name. */
  readonly accountId: string;
  /** Optional IAM account alias (baseline). */
  readonly accountAlias: string | undefined;
  /** Optional alternate contacts (baseline). */
  readonly alternateContacts: AlternateContacts | undefined;
  /** Tags applied to every taggable resource of the stack. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Configuration of the platform stack (automation account plus the management account's vending role). */
export interface PlatformStackConfig extends CommonConfig {
  readonly kind: "platform";
  /** AWS Organizations id (`o-...`). */
  readonly organizationId: string;
  /** Name of the role in the management account that the AVM's worker assumes (default `AVMVendingRole`). */
  readonly vendingRoleName: string;
  /** Role the operator's credentials assume to deploy into the management account; ambient credentials when unset. */
  readonly managementDeployRoleArn: string | undefined;
  /** Default target OU (`ou-...` or `r-...`) for vend requests that name none. */
  readonly defaultOuId: string | undefined;
  /** Retention of the AVM's log groups in days (default 90). */
  readonly logRetentionDays: number;
  /** Maximum CreateAccount requests in flight, 1..5 (default 5). */
  readonly maxConcurrentCreates: number;
  /** Pulumi Cloud webhook HMAC secret, when configured. */
  readonly webhookSecret: pulumi.Output<string> | undefined;
  /** Pulumi Cloud organization that owns the account stacks, when Pulumi Deployments are used. */
  readonly pulumiOrganization: string | undefined;
  /** Pulumi access token for Pulumi Deployments, when configured. */
  readonly pulumiAccessToken: pulumi.Output<string> | undefined;
  /** HTTPS clone URL of this repository, the source Pulumi Deployments runs account stacks from. */
  readonly pulumiRepoUrl: string | undefined;
  /** Branch of `pulumiRepoUrl` (the worker's default `main` when unset). */
  readonly pulumiRepoBranch: string | undefined;
  /** Directory of `Pulumi.yaml` inside the repository (the root when unset). */
  readonly pulumiRepoDir: string | undefined;
  /** Whether to create (and attach) meshStack's least-privilege principal policy (default `none`). */
  readonly meshfedServicePolicy: MeshfedServicePolicyMode;
  /**
   * What `AVMEntryPoint` accepts beyond the meshStack hook (`entryPointVending`, `entryPointAdoption`,
   * `entryPointTargetOus`); all off by default.
   */
  readonly entryPointAuthority: EntryPointAuthority;
  /**
   * OU or root ids the guardrail SCPs are deployed to (through the management provider); empty: none deployed
   * (the default).
   */
  readonly guardrailTargets: readonly string[];
  /**
   * Pulumi Deployments gets its AWS credentials through OIDC (`deploymentsOidc`, default off): the platform stack
   * creates the OIDC provider (unless `providerArn` names an existing one) and the deploy role in the management
   * account; undefined when off.
   */
  readonly deploymentsOidc: { readonly providerArn: string | undefined } | undefined;
}

/** The validated configuration of either stack kind; discriminated by `kind`. */
export type AvmConfig = AccountStackConfig | PlatformStackConfig;

/** Raised for any invalid or contradictory configuration value; the message names the key and the rule. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The fully qualified key at fault (e.g. `meshstack-avm:accountId`, `aws:region`). */
  readonly key: string;
  constructor(key: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.key = key;
  }
}

/** Input of {@link parseConfig}: the stack name and the raw values as Pulumi stores them. */
export interface ConfigInput {
  /** The Pulumi stack name (decides the kind together with `stackKind`). */
  readonly stackName: string;
  /** Value of `aws:region`. */
  readonly region?: string | undefined;
  /**
   * Values by key without namespace. Strings as Pulumi stores them; numbers may be numbers or decimal strings;
   * `alternateContacts` and `tags` may be objects or JSON strings. Missing keys are `undefined` or absent.
   */
  readonly values: Readonly<Partial<Record<ConfigKey, unknown>>>;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const PARTITION = "aws(?:-cn|-us-gov|-iso(?:-[a-z])?|-eusc)?";
const PRINCIPAL_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:user|role)/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const PRINCIPAL_ACCOUNT = /^arn:[\w-]+:iam::(\d{12}):/;
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SAML_PROVIDER_NAME = /^[\w._-]{1,128}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const OU_OR_ROOT_ID = /^(?:ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ALIAS = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const PULUMI_ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[\s0-9()+-]{1,25}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const REPO_URL = /^https:\/\/[^\s/]+\/\S+$/;
const GIT_BRANCH = /^(?!.*\.\.)(?!\/)[\w./-]{1,255}$/;
const REPO_DIR = /^(?!.*\.\.)(?!\/)[\w./-]{1,1024}$/;
const CONTACT_TYPES = ["operations", "billing", "security"] as const;
const PULUMI_OIDC_PROVIDER_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):oidc-provider/api\\.pulumi\\.com/oidc$`);
const OU_PATH = /^\/(?:[^/\x00-\x1f\x7f]{1,128}(?:\/[^/\x00-\x1f\x7f]{1,128})*)?$/;

/**
 * Validates raw configuration values and returns the typed, frozen configuration of the stack.
 * Pure apart from wrapping secret values with `pulumi.secret`.
 * @throws ConfigError naming the key and the rule for every invalid, missing or contradictory value.
 */
export function parseConfig(input: ConfigInput): AvmConfig {
  const { stackName, values } = input;
  const kind = resolveKind(stackName, values);
  const common: CommonConfig = {
    stackName,
    region: requireMatch("aws:region", input.region, REGION, "must be an AWS region name such as eu-central-1"),
    managementAccountId: requireAccountId(values, "managementAccountId"),
    automationAccountId: requireAccountId(values, "automationAccountId"),
    meshfedServicePrincipalArn: optionalMatch(
      values,
      "meshfedServicePrincipalArn",
      PRINCIPAL_ARN,
      "must be an IAM user or role ARN (arn:<partition>:iam::<12 digits>:user/<name> or :role/<name>)",
    ),
    externalId: optionalSecret(
      values,
      "externalId",
      EXTERNAL_ID,
      "must be 2-1224 characters of letters, digits and +=,.@:/-_",
    ),
    accessRoleName: accessRoleName(values),
    samlProviderName:
      optionalMatch(
        values,
        "samlProviderName",
        SAML_PROVIDER_NAME,
        "must be 1-128 characters of letters, digits and ._-",
      ) ?? DEFAULT_SAML_PROVIDER_NAME,
    bootstrapRoleName: roleName(values, "bootstrapRoleName") ?? DEFAULT_BOOTSTRAP_ROLE_NAME,
  };
  rejectForeignKeys(stackName, kind, values);
  if (kind === "account") {
    const accountId = requireAccountId(values, "accountId");
    return deepFreeze<AccountStackConfig>({
      ...common,
      kind,
      accountId,
      accountAlias: optionalMatch(
        values,
        "accountAlias",
        ACCOUNT_ALIAS,
        "must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
      ),
      alternateContacts: alternateContacts(values),
      tags: tags(values),
    });
  }
  const managementDeployRoleArn = optionalMatch(
    values,
    "managementDeployRoleArn",
    ROLE_ARN,
    "must be an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)",
  );
  if (managementDeployRoleArn !== undefined) {
    const inAccount = ROLE_ARN.exec(managementDeployRoleArn)?.[1];
    if (inAccount !== common.managementAccountId) {
      throw new ConfigError(
        qualifiedKey("managementDeployRoleArn"),
        `${qualifiedKey("managementDeployRoleArn")} must be a role in the management account ` +
          `${common.managementAccountId} (${qualifiedKey("managementAccountId")}), got "${managementDeployRoleArn}"`,
      );
    }
  }
  return deepFreeze<PlatformStackConfig>({
    ...common,
    kind,
    organizationId: requireMatch(
      qualifiedKey("organizationId"),
      stringValue(values, "organizationId"),
      ORGANIZATION_ID,
      "must be an AWS Organizations id (o- followed by 10-32 lower-case letters or digits)",
    ),
    vendingRoleName: roleName(values, "vendingRoleName") ?? DEFAULT_VENDING_ROLE_NAME,
    managementDeployRoleArn,
    defaultOuId: optionalMatch(
      values,
      "defaultOuId",
      OU_OR_ROOT_ID,
      "must be an organizational unit id (ou-...) or a root id (r-...)",
    ),
    logRetentionDays: logRetentionDays(values),
    maxConcurrentCreates: maxConcurrentCreates(values),
    webhookSecret: optionalSecret(values, "webhookSecret", /^.{16,4096}$/s, "must be 16-4096 characters"),
    pulumiOrganization: optionalMatch(
      values,
      "pulumiOrganization",
      PULUMI_ORGANIZATION,
      "must be a Pulumi Cloud organization name (letters, digits, ._-, at most 100 characters)",
    ),
    pulumiAccessToken: optionalSecret(values, "pulumiAccessToken", /^\S{1,1024}$/, "must be a non-empty token"),
    pulumiRepoUrl: optionalMatch(values, "pulumiRepoUrl", REPO_URL, "must be an https:// git clone URL"),
    pulumiRepoBranch: optionalMatch(
      values,
      "pulumiRepoBranch",
      GIT_BRANCH,
      'must be a git branch name (letters, digits and ._/-, no "..")',
    ),
    pulumiRepoDir: optionalMatch(
      values,
      "pulumiRepoDir",
      REPO_DIR,
      'must be a relative directory inside the repository (letters, digits and ._/-, no "..")',
    ),
    meshfedServicePolicy: meshfedServicePolicyMode(values, common),
    entryPointAuthority: entryPointAuthority(values),
    guardrailTargets: guardrailTargets(values),
    deploymentsOidc: deploymentsOidc(values, common),
  });
}

function deploymentsOidc(values: ConfigInput["values"], common: CommonConfig): PlatformStackConfig["deploymentsOidc"] {
  const enabled = booleanValue(values, "deploymentsOidc") ?? false;
  const providerKey = qualifiedKey("deploymentsOidcProviderArn");
  const providerArn = optionalMatch(
    values,
    "deploymentsOidcProviderArn",
    PULUMI_OIDC_PROVIDER_ARN,
    "must be the ARN of an IAM OIDC provider for api.pulumi.com/oidc " +
      "(arn:<partition>:iam::<12 digits>:oidc-provider/api.pulumi.com/oidc)",
  );
  if (!enabled) {
    if (providerArn !== undefined) {
      throw new ConfigError(providerKey, `${providerKey} needs ${qualifiedKey("deploymentsOidc")} set to true`);
    }
    return undefined;
  }
  if (stringValue(values, "pulumiOrganization") === undefined) {
    throw new ConfigError(
      qualifiedKey("deploymentsOidc"),
      `${qualifiedKey("deploymentsOidc")} needs ${qualifiedKey("pulumiOrganization")}: the deploy role trusts ` +
        `Pulumi Deployments runs of that organization's account stacks only`,
    );
  }
  if (providerArn !== undefined && PULUMI_OIDC_PROVIDER_ARN.exec(providerArn)?.[1] !== common.managementAccountId) {
    throw new ConfigError(
      providerKey,
      `${providerKey} must be a provider in the management account ${common.managementAccountId} ` +
        `(${qualifiedKey("managementAccountId")}), got "${providerArn}"`,
    );
  }
  return { providerArn };
}

function guardrailTargets(values: ConfigInput["values"]): string[] {
  const key = qualifiedKey("guardrailTargets");
  let raw = values["guardrailTargets"];
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw) as unknown;
    } catch (cause) {
      throw new ConfigError(key, `${key} must be a JSON array of OU ids or root ids, got invalid JSON`, { cause });
    }
  }
  const targets = raw === undefined || raw === null ? [] : raw;
  if (!Array.isArray(targets))
    throw new ConfigError(key, `${key} must be a list of OU ids (ou-...) or root ids (r-...)`);
  for (const target of targets) {
    if (typeof target !== "string" || !OU_OR_ROOT_ID.test(target)) {
      throw new ConfigError(
        key,
        `${key} entries must be OU ids (ou-...) or root ids (r-...), got ${JSON.stringify(target)}`,
      );
    }
  }
  if (new Set(targets).size !== targets.length) throw new ConfigError(key, `${key} must not list a target twice`);
  return [...(targets as string[])];
}

function booleanValue(values: ConfigInput["values"], key: ConfigKey): boolean | undefined {
  const value = values[key];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} must be true or false, got ${JSON.stringify(value)}`);
}

function entryPointAuthority(values: ConfigInput["values"]): EntryPointAuthority {
  const vend = booleanValue(values, "entryPointVending") ?? false;
  const adopt = booleanValue(values, "entryPointAdoption") ?? false;
  const key = qualifiedKey("entryPointTargetOus");
  let raw = values["entryPointTargetOus"];
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw) as unknown;
    } catch (cause) {
      throw new ConfigError(key, `${key} must be a JSON array of OU ids, root ids or OU paths, got invalid JSON`, {
        cause,
      });
    }
  }
  const targets = raw === undefined || raw === null ? [] : raw;
  if (!Array.isArray(targets)) {
    throw new ConfigError(key, `${key} must be a list of OU ids (ou-...), root ids (r-...) or OU paths (/A/B)`);
  }
  for (const target of targets) {
    if (typeof target !== "string" || !(OU_OR_ROOT_ID.test(target) || OU_PATH.test(target))) {
      throw new ConfigError(
        key,
        `${key} entries must be OU ids (ou-...), root ids (r-...) or OU paths (/A/B), got ${JSON.stringify(target)}`,
      );
    }
  }
  if (adopt && !vend) {
    throw new ConfigError(
      qualifiedKey("entryPointAdoption"),
      `${qualifiedKey("entryPointAdoption")} needs ${qualifiedKey("entryPointVending")}: adoption happens only through a vend request`,
    );
  }
  if (targets.length > 0 && !vend) {
    throw new ConfigError(
      key,
      `${key} needs ${qualifiedKey("entryPointVending")}: only vend requests move accounts, the meshStack hook never does`,
    );
  }
  const defaultOuId = stringValue(values, "defaultOuId");
  if (vend && defaultOuId !== undefined && !targets.includes(defaultOuId)) {
    throw new ConfigError(
      key,
      `${key} must list ${qualifiedKey("defaultOuId")} ${defaultOuId} when ${qualifiedKey("entryPointVending")} is true ` +
        `(vend requests naming no OU go there)`,
    );
  }
  return { vend, adopt, moveTargets: [...(targets as string[])] };
}

/**
 * Reads and validates the current stack's configuration (`meshstack-avm:*` and `aws:region`).
 * Works under `pulumi up`, the Automation API, Pulumi Deployments and `pulumi.runtime.setMocks`
 * (config from `PULUMI_CONFIG` / `pulumi.runtime.setAllConfig`).
 * @throws ConfigError as {@link parseConfig}.
 */
export function loadConfig(): AvmConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const keys = [...CONFIG_KEYS.common, ...CONFIG_KEYS.account, ...CONFIG_KEYS.platform];
  // `get` returns secrets decrypted; parseConfig validates them and wraps them with pulumi.secret at once.
  const values = Object.fromEntries(keys.map((key) => [key, config.get(key)]));
  return parseConfig({ stackName: pulumi.getStack(), region: new pulumi.Config("aws").get("region"), values });
}

function resolveKind(stackName: string, values: ConfigInput["values"]): "account" | "platform" {
  const stackKind = stringValue(values, "stackKind");
  if (stackKind !== undefined && stackKind !== "account" && stackKind !== "platform") {
    throw new ConfigError(
      qualifiedKey("stackKind"),
      `${qualifiedKey("stackKind")} must be "platform" or "account", got "${stackKind}"`,
    );
  }
  const idInName = accountIdFromStackName(stackName);
  const accountId = stringValue(values, "accountId");
  if (idInName !== undefined) {
    if (stackKind === "platform") {
      throw new ConfigError(
        qualifiedKey("stackKind"),
        `${qualifiedKey("stackKind")} is "platform" but stack "${stackName}" is named like an account stack ` +
          `(account-<12-digit id>); use another stack name for the platform stack or set stackKind to "account"`,
      );
    }
    if (accountId === undefined) {
      throw new ConfigError(
        qualifiedKey("accountId"),
        `${qualifiedKey("accountId")} is required on account stack "${stackName}" and must be "${idInName}"`,
      );
    }
    if (accountId !== idInName) {
      throw new ConfigError(
        qualifiedKey("accountId"),
        `${qualifiedKey("accountId")} must equal the account id in the stack name "${stackName}" ` +
          `("${idInName}"), got "${accountId}"`,
      );
    }
    return "account";
  }
  if (stackKind === "account") {
    throw new ConfigError(
      qualifiedKey("stackKind"),
      `${qualifiedKey("stackKind")} is "account" but stack "${stackName}" is not named account-<12-digit id>`,
    );
  }
  if (accountId !== undefined) {
    throw new ConfigError(
      qualifiedKey("accountId"),
      `${qualifiedKey("accountId")} is set but stack "${stackName}" is the platform stack; ` +
        `account stacks are named account-<12-digit id>`,
    );
  }
  return "platform";
}

function rejectForeignKeys(stackName: string, kind: "account" | "platform", values: ConfigInput["values"]): void {
  const foreign = kind === "account" ? CONFIG_KEYS.platform : CONFIG_KEYS.account;
  for (const key of foreign) {
    if (values[key] !== undefined) {
      throw new ConfigError(
        qualifiedKey(key),
        `${qualifiedKey(key)} applies only to ${kind === "account" ? "the platform stack" : "account stacks"}; ` +
          `remove it from ${kind} stack "${stackName}"`,
      );
    }
  }
}

function stringValue(values: ConfigInput["values"], key: ConfigKey): string | undefined {
  const value = values[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} must be a string, got ${typeof value}`);
  }
  return value;
}

function requireMatch(key: string, value: string | undefined, pattern: RegExp, rule: string): string {
  if (value === undefined || value === "") {
    throw new ConfigError(key, `${key} is required and ${rule}`);
  }
  if (!pattern.test(value)) {
    throw new ConfigError(key, `${key} ${rule}, got "${value}"`);
  }
  return value;
}

function optionalMatch(
  values: ConfigInput["values"],
  key: ConfigKey,
  pattern: RegExp,
  rule: string,
): string | undefined {
  const value = stringValue(values, key);
  if (value === undefined) return undefined;
  if (!pattern.test(value)) {
    throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} ${rule}, got "${value}"`);
  }
  return value;
}

function optionalSecret(
  values: ConfigInput["values"],
  key: ConfigKey,
  pattern: RegExp,
  rule: string,
): pulumi.Output<string> | undefined {
  const value = stringValue(values, key);
  if (value === undefined) return undefined;
  if (!pattern.test(value)) {
    // Never echo a secret value.
    throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} ${rule} (value not shown: secret)`);
  }
  return pulumi.secret(value);
}

function requireAccountId(values: ConfigInput["values"], key: ConfigKey): string {
  return requireMatch(qualifiedKey(key), stringValue(values, key), ACCOUNT_ID, "must be a 12-digit AWS account id");
}

function roleName(values: ConfigInput["values"], key: ConfigKey): string | undefined {
  return optionalMatch(
    values,
    key,
    ROLE_NAME,
    "must be an IAM role name (1-64 characters of letters, digits and +=,.@-_)",
  );
}

function accessRoleName(values: ConfigInput["values"]): string {
  const name = roleName(values, "accessRoleName") ?? DEFAULT_ACCESS_ROLE_NAME;
  if (name === DEFAULT_BOOTSTRAP_ROLE_NAME) {
    throw new ConfigError(
      qualifiedKey("accessRoleName"),
      `${qualifiedKey("accessRoleName")} must not be ${DEFAULT_BOOTSTRAP_ROLE_NAME}: AWS Organizations creates that ` +
        `admin role in every new account; choose another name (default ${DEFAULT_ACCESS_ROLE_NAME})`,
    );
  }
  return name;
}

function meshfedServicePolicyMode(values: ConfigInput["values"], common: CommonConfig): MeshfedServicePolicyMode {
  const key = qualifiedKey("meshfedServicePolicy");
  const mode = stringValue(values, "meshfedServicePolicy") ?? "none";
  if (!(MESHFED_SERVICE_POLICY_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(key, `${key} must be one of ${MESHFED_SERVICE_POLICY_MODES.join(", ")}, got "${mode}"`);
  }
  const principalAccount = PRINCIPAL_ACCOUNT.exec(common.meshfedServicePrincipalArn ?? "")?.[1];
  if (mode === "attach" && principalAccount !== undefined && principalAccount !== common.managementAccountId) {
    throw new ConfigError(
      key,
      `${key} "attach" needs ${qualifiedKey("meshfedServicePrincipalArn")} in the management account ` +
        `${common.managementAccountId}, got "${common.meshfedServicePrincipalArn}"; use "create" and attach the ` +
        `policy where that principal is managed`,
    );
  }
  return mode as MeshfedServicePolicyMode;
}

function integerValue(values: ConfigInput["values"], key: ConfigKey): number | undefined {
  const value = values[key];
  if (value === undefined || value === null) return undefined;
  const number =
    typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) {
    throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} must be an integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

function logRetentionDays(values: ConfigInput["values"]): number {
  const days = integerValue(values, "logRetentionDays") ?? DEFAULT_LOG_RETENTION_DAYS;
  if (!LOG_RETENTION_DAYS_ALLOWED.includes(days)) {
    throw new ConfigError(
      qualifiedKey("logRetentionDays"),
      `${qualifiedKey("logRetentionDays")} must be one of the CloudWatch Logs retention periods ` +
        `(${LOG_RETENTION_DAYS_ALLOWED.join(", ")}), got ${days}`,
    );
  }
  return days;
}

function maxConcurrentCreates(values: ConfigInput["values"]): number {
  const count = integerValue(values, "maxConcurrentCreates") ?? DEFAULT_MAX_CONCURRENT_CREATES;
  if (count < 1 || count > 5) {
    throw new ConfigError(
      qualifiedKey("maxConcurrentCreates"),
      `${qualifiedKey("maxConcurrentCreates")} must be between 1 and 5 (AWS allows 5 CreateAccount requests ` +
        `in flight), got ${count}`,
    );
  }
  return count;
}

function objectValue(values: ConfigInput["values"], key: ConfigKey): Record<string, unknown> | undefined {
  let value = values[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch (cause) {
      throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} must be a JSON object, got invalid JSON`, {
        cause,
      });
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(qualifiedKey(key), `${qualifiedKey(key)} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function tags(values: ConfigInput["values"]): Readonly<Record<string, string>> {
  const key = qualifiedKey("tags");
  const raw = objectValue(values, "tags") ?? {};
  const entries = Object.entries(raw);
  if (entries.length > 50) {
    throw new ConfigError(key, `${key} must have at most 50 tags, got ${entries.length}`);
  }
  for (const [name, value] of entries) {
    if (!TAG_KEY.test(name) || name.toLowerCase().startsWith("aws:")) {
      throw new ConfigError(
        key,
        `${key}: tag key "${name}" must be 1-128 letters, digits, spaces or _.:/=+-@ and must not start with aws:`,
      );
    }
    if (typeof value === "number" || typeof value === "boolean") {
      // `pulumi config set --path 'meshstack-avm:tags.CostCenter' 1234` stores the number 1234: tag values are
      // strings, and turning the number back into text would lose what was typed ("007", "1.50").
      throw new ConfigError(
        key,
        `${key}: value of tag "${name}" must be a string, got the ${typeof value} ${String(value)}; ` +
          `write tag values with \`pulumi config set --type string --path\` or set ${key} as one JSON object`,
      );
    }
    if (typeof value !== "string" || !TAG_VALUE.test(value)) {
      throw new ConfigError(
        key,
        `${key}: value of tag "${name}" must be a string of 0-256 letters, digits, spaces or _.:/=+-@`,
      );
    }
  }
  return { ...(raw as Record<string, string>) };
}

function alternateContacts(values: ConfigInput["values"]): AlternateContacts | undefined {
  const key = qualifiedKey("alternateContacts");
  const raw = objectValue(values, "alternateContacts");
  if (raw === undefined) return undefined;
  const result: Record<string, AlternateContact> = {};
  for (const [type, contact] of Object.entries(raw)) {
    if (!(CONTACT_TYPES as readonly string[]).includes(type)) {
      throw new ConfigError(key, `${key}: unknown contact type "${type}" (allowed: ${CONTACT_TYPES.join(", ")})`);
    }
    if (typeof contact !== "object" || contact === null || Array.isArray(contact)) {
      throw new ConfigError(key, `${key}.${type} must be an object {name, title, emailAddress, phoneNumber}`);
    }
    const fields = contact as Record<string, unknown>;
    const rules: Record<keyof AlternateContact, [RegExp, string]> = {
      name: [/^.{1,64}$/s, "1-64 characters"],
      title: [/^.{1,50}$/s, "1-50 characters"],
      emailAddress: [EMAIL, "an email address of at most 254 characters"],
      phoneNumber: [PHONE, "1-25 digits, spaces and ()+-"],
    };
    for (const field of Object.keys(fields)) {
      if (!(field in rules)) {
        throw new ConfigError(
          key,
          `${key}.${type}: unknown field "${field}" (allowed: ${Object.keys(rules).join(", ")})`,
        );
      }
    }
    for (const [field, [pattern, rule]] of Object.entries(rules)) {
      const value = fields[field];
      if (typeof value !== "string" || !pattern.test(value) || (field === "emailAddress" && value.length > 254)) {
        throw new ConfigError(key, `${key}.${type}.${field} is required and must be ${rule}`);
      }
    }
    result[type] = { ...(fields as unknown as AlternateContact) };
  }
  return result;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (typeof inner === "object" && inner !== null && !pulumi.Output.isInstance(inner) && !Object.isFrozen(inner)) {
      deepFreeze(inner as object);
    }
  }
  return Object.freeze(value);
}
