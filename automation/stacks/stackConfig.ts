/**
 * The stack config of a per-account stack, derived from the ledger record (account id, tags) and the
 * operator's settings (management and automation accounts, role names, external id, region). Keys and rules
 * are the Pulumi program's own (`src/config.ts`): the values are validated with its `parseConfig` before any
 * stack is touched, so a bad setting fails here with the message `pulumi up` would print.
 */
import { ConfigError, parseConfig, qualifiedKey, type ConfigKey } from "../../src/config";
import { accountStackName } from "../../src/shared/naming";
import { AutomationConfigError } from "../errors";
import type { EngineConfig, EngineConfigValue } from "./engine";

/** Operator-level settings shared by every account stack. */
export interface AccountStackSettings {
  /** 12-digit id of the Organizations management account. */
  readonly managementAccountId: string;
  /** 12-digit id of the automation account (hosts AVMEntryPoint). */
  readonly automationAccountId: string;
  /** AWS region of the provider (`aws:region`), e.g. `eu-central-1`. */
  readonly region: string;
  /** Role assumed in the managed account to deploy; program default `OrganizationAccountAccessRole`. */
  readonly bootstrapRoleName?: string;
  /** Name of the meshStack access role; program default `MeshstackAccountAccessRole`. */
  readonly accessRoleName?: string;
  /** Principal trusted by the access role; program default `arn:<partition>:iam::<management>:user/meshfed-service`. */
  readonly meshfedServicePrincipalArn?: string;
  /** SAML provider meshStack maintains; program default `meshstack-saml-idp`. */
  readonly samlProviderName?: string;
  /** Optional `sts:ExternalId`; stored as a secret, never logged. */
  readonly externalId?: string;
}

/** What one account stack is deployed for. */
export interface AccountStackTarget {
  /** 12-digit id of the managed account. */
  readonly accountId: string;
  /** Account tags (already validated by the vending core). */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Builds (and validates) the stack config of `target`'s stack: `aws:region` and `meshstack-avm:*` keys.
 * @throws Error when `accountId` is not 12 digits
 * @throws AutomationConfigError naming the key and the rule when a setting is invalid
 */
export function buildAccountStackConfig(target: AccountStackTarget, settings: AccountStackSettings): EngineConfig {
  const stackName = accountStackName(target.accountId);
  const values: Partial<Record<ConfigKey, string | Readonly<Record<string, string>>>> = {
    stackKind: "account",
    accountId: target.accountId,
    managementAccountId: settings.managementAccountId,
    automationAccountId: settings.automationAccountId,
    tags: { ...(target.tags ?? {}) },
  };
  const optional = [
    "bootstrapRoleName",
    "accessRoleName",
    "meshfedServicePrincipalArn",
    "samlProviderName",
    "externalId",
  ] as const;
  for (const key of optional) {
    const value = settings[key];
    if (value !== undefined && value !== "") values[key] = value;
  }
  try {
    parseConfig({ stackName, region: settings.region, values });
  } catch (error) {
    if (error instanceof ConfigError) throw new AutomationConfigError(error.message, { cause: error });
    throw error;
  }
  const config: Record<string, EngineConfigValue> = { "aws:region": { value: settings.region } };
  for (const [key, value] of Object.entries(values)) {
    config[qualifiedKey(key as ConfigKey)] = { value, ...(key === "externalId" ? { secret: true } : {}) };
  }
  return config;
}
