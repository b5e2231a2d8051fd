/**
 * Stack config as both account-stack runners see it: the local engine (`automation/stacks/engine.ts`) and
 * Pulumi Deployments (`./deploymentsRunner.ts`).
 */

/** One stack config value (`pulumi config set [--secret]`). */
export interface EngineConfigValue {
  /** A string, or a flat string map for object-typed keys (e.g. `avm:tags`). */
  readonly value: string | Readonly<Record<string, string>>;
  readonly secret?: boolean;
}

/** Stack config keyed by fully-qualified key (`avm:accountId`, `aws:region`). */
export type EngineConfig = Readonly<Record<string, EngineConfigValue>>;
