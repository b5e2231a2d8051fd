/**
 * Stack configuration of the Pulumi program: the only module that reads `pulumi.Config`.
 *
 * One project serves two kinds of stack:
 * - the **platform** stack (e.g. `dev`), deployed into the automation account, plus the vending role in the
 *   management account;
 * - one **account** stack per managed account, named `account-<12-digit id>`, deployed into that account.
 *
 * {@link loadConfig} reads the stack's configuration and hands it to `parseConfig` (`src/config/parseConfig.ts`),
 * which validates it against the zod schemas of `src/config/schemas.ts` and the rules between keys of
 * `src/config/crossFieldRules.ts`. Every error names the configuration key and the rule.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "./config/keys";
import { parseConfig } from "./config/parseConfig";
import type { AvmConfig } from "./config/types";

/**
 * Reads and validates the current stack's configuration (`meshstack-avm:*` and `aws:region`).
 * Works under `pulumi up`, the Automation API, Pulumi Deployments and `pulumi.runtime.setMocks`
 * (config from `PULUMI_CONFIG` / `pulumi.runtime.setAllConfig`).
 * @throws ConfigError as `parseConfig`.
 */
export function loadConfig(): AvmConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const keys = [...CONFIG_KEYS.common, ...CONFIG_KEYS.account, ...CONFIG_KEYS.platform];
  // `get` returns secrets decrypted; parseConfig validates them and wraps them with pulumi.secret at once.
  const values = Object.fromEntries(keys.map((key) => [key, config.get(key)]));
  return parseConfig({ stackName: pulumi.getStack(), region: new pulumi.Config("aws").get("region"), values });
}
