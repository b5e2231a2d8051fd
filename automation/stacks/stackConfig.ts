/**
 * The stack config of a per-account stack, validated with the Pulumi program's own `parseConfig` before any
 * stack is touched, so a bad setting fails here with the message `pulumi up` would print.
 */
import { CONFIG_NAMESPACE, ConfigError, parseConfig, type ConfigKey } from "../../src/config";
import { PROJECT_NAME, accountStackName } from "../../src/shared/naming";
import { AutomationConfigError } from "../errors";
import {
  AccountStackConfigError,
  accountStackConfigValues,
  toEngineConfig,
  type AccountStackSettings,
  type AccountStackTarget,
} from "./accountStackConfig";
import type { EngineConfig } from "./engine";

export type { AccountStackSettings, AccountStackTarget } from "./accountStackConfig";

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
