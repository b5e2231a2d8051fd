/**
 * The stack config of a per-account stack as plain data, without importing the Pulumi SDK (so the worker
 * Lambda can bundle the Pulumi Deployments runner small). Keys are the program's (`src/config/keys.ts`): namespace
 * `meshstack-avm` (the project name) plus `aws:region`. `stackConfig.ts` adds the program's full validation.
 */
import { PROJECT_NAME, accountStackName, isAccountId } from "../shared/naming";
import type { EngineConfig, EngineConfigValue } from "./stackConfigTypes";

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

/** A setting is missing or malformed (basic checks; the program validates fully at run time). */
export class AccountStackConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

const OPTIONAL = [
  "bootstrapRoleName",
  "accessRoleName",
  "meshfedServicePrincipalArn",
  "samlProviderName",
  "externalId",
] as const;

/**
 * The raw config values (without namespace) of `target`'s stack.
 * @throws Error when `accountId` is not 12 digits
 * @throws AccountStackConfigError when a management/automation account id is not 12 digits or the region is empty
 */
export function accountStackConfigValues(
  target: AccountStackTarget,
  settings: AccountStackSettings,
): Record<string, string | Readonly<Record<string, string>>> {
  accountStackName(target.accountId);
  for (const key of ["managementAccountId", "automationAccountId"] as const) {
    if (!isAccountId(settings[key])) {
      throw new AccountStackConfigError(`${key} must be a 12-digit AWS account id, got "${settings[key]}"`);
    }
  }
  if (settings.region.trim() === "") throw new AccountStackConfigError("region must not be empty");
  const values: Record<string, string | Readonly<Record<string, string>>> = {
    stackKind: "account",
    accountId: target.accountId,
    managementAccountId: settings.managementAccountId,
    automationAccountId: settings.automationAccountId,
    tags: { ...(target.tags ?? {}) },
  };
  for (const key of OPTIONAL) {
    const value = settings[key];
    if (value !== undefined && value !== "") values[key] = value;
  }
  return values;
}

/** Turns raw values into engine config: `aws:region` plus `meshstack-avm:<key>`, `externalId` marked secret. */
export function toEngineConfig(
  values: Record<string, string | Readonly<Record<string, string>>>,
  region: string,
): EngineConfig {
  const config: Record<string, EngineConfigValue> = { "aws:region": { value: region } };
  for (const [key, value] of Object.entries(values)) {
    config[`${PROJECT_NAME}:${key}`] = { value, ...(key === "externalId" ? { secret: true } : {}) };
  }
  return config;
}

/** Light (SDK-free) config builder: basic checks only. */
export function accountStackConfig(target: AccountStackTarget, settings: AccountStackSettings): EngineConfig {
  return toEngineConfig(accountStackConfigValues(target, settings), settings.region);
}
