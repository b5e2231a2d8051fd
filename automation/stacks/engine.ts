/**
 * The seam between the account-stack orchestration and the Pulumi CLI: exactly the LocalWorkspace /
 * Stack calls the orchestration uses. {@link LocalPulumiEngine} implements it on
 * `@pulumi/pulumi/automation`; tests use the recording fake in `test/support/recordingEngine.ts`.
 */

import type { EngineConfig } from "../../src/stacks/stackConfigTypes";
import type { ResourceDrift } from "./resourceDrift";

/** One stack output. Secret outputs carry `secret: true`; callers must not print their values. */
export interface EngineOutput {
  readonly value: unknown;
  readonly secret: boolean;
}

/** Stack outputs by name. */
export type EngineOutputs = Readonly<Record<string, EngineOutput>>;

/** Counts of resource operations (`create`, `update`, `delete`, `same`, ...). */
export type ResourceChanges = Readonly<Record<string, number>>;

/** Result of `up` or `refresh`. */
export interface EngineUpdateResult {
  /** `succeeded` (the CLI throws on failure, so this is informational). */
  readonly result: string;
  readonly resourceChanges: ResourceChanges;
  /** Outputs after the operation. */
  readonly outputs: EngineOutputs;
}

/** Result of a refresh preview (`pulumi refresh --preview-only`): what the cloud no longer matches. */
export interface EngineDriftResult {
  readonly changeSummary: ResourceChanges;
  /** Resources whose real state differs from the stack's state. */
  readonly resources: readonly ResourceDrift[];
}

/** A stack as listed by the backend. */
export interface EngineStackSummary {
  readonly name: string;
  readonly lastUpdate?: string;
  readonly updateInProgress: boolean;
  readonly resourceCount?: number;
  readonly url?: string;
}

/** Per-call options: where the engine's output lines go. */
export interface EngineCallOptions {
  /** Receives the engine's stdout, chunk by chunk (already split on newlines is not guaranteed). */
  readonly onOutput?: (chunk: string) => void;
  /** `up` only: refresh the state from the cloud first (`pulumi up --refresh`), so drift is reverted too. */
  readonly refresh?: boolean;
}

/**
 * Every Pulumi CLI interaction of the automation layer. Implementations must let calls on DIFFERENT stacks
 * run concurrently; calls on the same stack may raise Pulumi's ConcurrentUpdateError.
 */
export interface PulumiEngine {
  /** One-time preparation before parallel work (e.g. installing provider plugins once). */
  prepare(): Promise<void>;
  /** Creates the stack if missing, selects it otherwise (`LocalWorkspace.createOrSelectStack`). */
  ensureStack(stackName: string): Promise<void>;
  /** Sets the given config keys (`stack.setAllConfig`); other keys are left untouched. */
  setConfig(stackName: string, config: EngineConfig): Promise<void>;
  /**
   * Makes the stack's config exactly `config`: sets every given key (as {@link setConfig}) and then removes every
   * other key the stack holds (`stack.removeAllConfig`), so a key dropped from the settings does not linger.
   */
  replaceConfig(stackName: string, config: EngineConfig): Promise<void>;
  /** `pulumi up`. */
  up(stackName: string, options?: EngineCallOptions): Promise<EngineUpdateResult>;
  /** `pulumi refresh --preview-only` of an existing stack: reads the cloud, changes nothing. */
  previewRefresh(stackName: string, options?: EngineCallOptions): Promise<EngineDriftResult>;
  /** `pulumi refresh`. */
  refresh(stackName: string, options?: EngineCallOptions): Promise<EngineUpdateResult>;
  /** Outputs of an existing stack (throws Pulumi's StackNotFoundError when missing). */
  outputs(stackName: string): Promise<EngineOutputs>;
  /** All stacks of the project in the backend. */
  listStacks(): Promise<EngineStackSummary[]>;
}
