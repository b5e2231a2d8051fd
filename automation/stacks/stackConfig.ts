/**
 * The stack config of a per-account stack, derived from the ledger record (account id, tags) and the
 * operator's settings (management and automation accounts, role names, external id, region). The keys are
 * the ones the Pulumi program declares in `Pulumi.yaml` for the account-stack kind.
 */
import {
  DEFAULT_ACCESS_ROLE_NAME,
  DEFAULT_BOOTSTRAP_ROLE_NAME,
  accountStackName,
  isAccountId,
} from "../../src/shared/naming";
import { AutomationConfigError } from "../errors";
import type { EngineConfig } from "./engine";

/** Operator-level settings shared by every account stack. */
export interface AccountStackSettings {
  /** 12-digit id of the Organizations management account (trusted by the access role's principal). */
  readonly managementAccountId: string;
  /** 12-digit id of the automation account (hosts AVMEntryPoint). */
  readonly automationAccountId: string;
  /** AWS region of the provider, e.g. `eu-central-1`. */
  readonly region: string;
  /** Role assumed in the managed account to deploy; default `OrganizationAccountAccessRole`. */
  readonly bootstrapRoleName?: string;
  /** Name of the meshStack access role; default `MeshstackAccountAccessRole`. */
  readonly accessRoleName?: string;
  /** Optional `sts:ExternalId`; stored as a secret. */
  readonly externalId?: string;
}

/** What one account stack is deployed for. */
export interface AccountStackTarget {
  /** 12-digit id of the managed account. */
  readonly accountId: string;
  /** Account tags (already validated by the vending core). */
  readonly tags?: Readonly<Record<string, string>>;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Builds the stack config of `target`'s stack.
 * @throws AutomationConfigError naming the setting when a value is invalid
 */
export function buildAccountStackConfig(target: AccountStackTarget, settings: AccountStackSettings): EngineConfig {
  accountStackName(target.accountId); // validates the id with the shared rule
  for (const key of ["managementAccountId", "automationAccountId"] as const) {
    if (!isAccountId(settings[key])) {
      throw new AutomationConfigError(`${key} must be a 12-digit AWS account id, got "${settings[key]}"`);
    }
  }
  if (!REGION.test(settings.region)) {
    throw new AutomationConfigError(`region must look like "eu-central-1", got "${settings.region}"`);
  }
  const bootstrapRoleName = settings.bootstrapRoleName ?? DEFAULT_BOOTSTRAP_ROLE_NAME;
  const accessRoleName = settings.accessRoleName ?? DEFAULT_ACCESS_ROLE_NAME;
  for (const [key, value] of [
    ["bootstrapRoleName", bootstrapRoleName],
    ["accessRoleName", accessRoleName],
  ] as const) {
    if (!ROLE_NAME.test(value)) {
      throw new AutomationConfigError(`${key} must match [\\w+=,.@-]{1,64}, got "${value}"`);
    }
  }
  const config: Record<string, EngineConfig[string]> = {
    "aws:region": { value: settings.region },
    "avm:accountId": { value: target.accountId },
    "avm:managementAccountId": { value: settings.managementAccountId },
    "avm:automationAccountId": { value: settings.automationAccountId },
    "avm:bootstrapRoleName": { value: bootstrapRoleName },
    "avm:accessRoleName": { value: accessRoleName },
    "avm:tags": { value: { ...(target.tags ?? {}) } },
  };
  if (settings.externalId !== undefined && settings.externalId !== "") {
    config["avm:externalId"] = { value: settings.externalId, secret: true };
  }
  return config;
}
