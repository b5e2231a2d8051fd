/**
 * The stack config of a per-account stack, validated with the Pulumi program's own `parseConfig` before any
 * stack is touched, so a bad setting fails here with the message `pulumi up` would print.
 */
import { CONFIG_NAMESPACE, type ConfigKey } from "../../src/config/keys";
import { ConfigError } from "../../src/config/configError";
import { parseConfig } from "../../src/config/parseConfig";
import {
  accountConfigDigest,
  programVersion,
  type DeploymentStamp,
  type PlainAccountConfig,
} from "../../src/shared/deploymentStamp";
import { PROJECT_NAME, accountStackName } from "../../src/shared/naming";
import { AutomationConfigError } from "../errors";
import {
  AccountStackConfigError,
  accountStackConfigValues,
  toEngineConfig,
  type AccountStackSettings,
  type AccountStackTarget,
} from "../../src/stacks/accountStackConfig";
import type { EngineConfig } from "../../src/stacks/stackConfigTypes";

export type { AccountStackSettings, AccountStackTarget } from "../../src/stacks/accountStackConfig";

// toEngineConfig writes `${PROJECT_NAME}:<key>`; the program reads CONFIG_NAMESPACE. They must agree.
if (CONFIG_NAMESPACE !== PROJECT_NAME) throw new Error("config namespace and project name diverged");

/**
 * Builds (and validates) the stack config of `target`'s stack: `aws:region` and `meshstack-avm:*` keys.
 * @throws Error when `accountId` is not 12 digits
 * @throws AutomationConfigError naming the key and the rule when a setting is invalid
 */
export function buildAccountStackConfig(target: AccountStackTarget, settings: AccountStackSettings): EngineConfig {
  let values: ReturnType<typeof accountStackConfigValues>;
  try {
    values = accountStackConfigValues(target, settings);
    parseConfig({
      stackName: accountStackName(target.accountId),
      region: settings.region,
      values: values as Partial<Record<ConfigKey, unknown>>,
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AccountStackConfigError) {
      throw new AutomationConfigError(error.message, { cause: error });
    }
    throw error;
  }
  return toEngineConfig(values, settings.region);
}

/**
 * The effective configuration of an account stack as plain values (defaults applied by the program's own
 * `parseConfig`; the external id as given): what the deployed program digests into its `avmDeployment` output.
 * @param stackName `account-<id>`
 * @param region `aws:region`
 * @param values raw values without namespace (as {@link buildAccountStackConfig} writes them)
 * @throws AutomationConfigError when the values do not describe a valid account stack
 */
export function effectiveAccountConfig(
  stackName: string,
  region: string,
  values: Readonly<Record<string, unknown>>,
): PlainAccountConfig {
  let parsed: ReturnType<typeof parseConfig>;
  try {
    parsed = parseConfig({ stackName, region, values: values as Partial<Record<ConfigKey, unknown>> });
  } catch (error) {
    if (error instanceof ConfigError) throw new AutomationConfigError(error.message, { cause: error });
    throw error;
  }
  if (parsed.kind !== "account") throw new AutomationConfigError(`${stackName} is not an account stack`);
  const externalId = values["externalId"];
  return {
    accountId: parsed.accountId,
    region: parsed.region,
    managementAccountId: parsed.managementAccountId,
    automationAccountId: parsed.automationAccountId,
    meshfedServicePrincipalArn: parsed.meshfedServicePrincipalArn,
    externalId: typeof externalId === "string" && externalId !== "" ? externalId : undefined,
    accessRoleName: parsed.accessRoleName,
    samlProviderName: parsed.samlProviderName,
    bootstrapRoleName: parsed.bootstrapRoleName,
    accountAlias: parsed.accountAlias,
    alternateContacts: parsed.alternateContacts,
    tags: parsed.tags,
  };
}

/**
 * The stamp a deployment of `target` from this checkout with `settings` records (program version of this
 * checkout, digest of the effective config): a stack whose `avmDeployment` output differs is outdated.
 */
export function expectedDeploymentStamp(
  target: AccountStackTarget,
  settings: AccountStackSettings,
  version: string = programVersion(),
): DeploymentStamp {
  const values = accountStackConfigValues(target, settings);
  const plain = effectiveAccountConfig(accountStackName(target.accountId), settings.region, values);
  return { programVersion: version, configDigest: accountConfigDigest(plain) };
}

/**
 * The stamp the program would record for a stack with this engine config (`meshstack-avm:*` keys and
 * `aws:region`): for fakes of the engine that behave like the deployed program.
 */
export function stampOfEngineConfig(
  stackName: string,
  config: EngineConfig,
  version: string = programVersion(),
): DeploymentStamp {
  const prefix = `${PROJECT_NAME}:`;
  const values: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(config)) {
    if (key.startsWith(prefix)) values[key.slice(prefix.length)] = entry.value;
  }
  const region = config["aws:region"]?.value;
  const plain = effectiveAccountConfig(stackName, typeof region === "string" ? region : "", values);
  return { programVersion: version, configDigest: accountConfigDigest(plain) };
}
