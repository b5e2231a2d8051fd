/**
 * The program's configuration keys: their namespace, which stack kind reads which key, which are secret, and the
 * defaults and allowed values the schemas (`schemas.ts`) and the README's configuration reference share.
 */
import { PROJECT_NAME } from "../shared/naming";

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

/** The key of the AWS region (`aws:region`), read besides the program's own keys. */
export const REGION_KEY = "aws:region";
