/**
 * A recording fake of the automation layer's `PulumiEngine` seam: keeps stacks, config and outputs in
 * memory, records every call, tracks how many operations run at once, and lets tests script failures.
 */
import type {
  EngineCallOptions,
  EngineDriftResult,
  EngineOutputs,
  EngineStackSummary,
  EngineUpdateResult,
  PulumiEngine,
  ResourceChanges,
} from "../../automation/stacks/engine";
import type { ResourceDrift } from "../../automation/stacks/resourceDrift";
import { stampOfEngineConfig } from "../../automation/stacks/stackConfig";
import { DEPLOYMENT_STAMP_OUTPUT, programVersion } from "../../src/shared/deploymentStamp";
import type { EngineConfig } from "../../src/stacks/stackConfigTypes";
import { stackNotFound } from "./pulumiCommandErrors";

/** One recorded call. */
export interface EngineCall {
  readonly method: string;
  readonly stackName?: string;
  readonly config?: EngineConfig;
}

/** A scripted failure: thrown by the next `times` calls of `method` on `stackName` (any stack when omitted). */
export interface ScriptedFailure {
  readonly method: keyof PulumiEngine;
  readonly stackName?: string;
  readonly error: () => unknown;
  times: number;
}

/** One stack of the fake. */
export interface FakeStack {
  config: Record<string, EngineConfig[string]>;
  resources: number;
  /** Outputs of the last successful `up` (absent before the first). */
  outputs?: EngineOutputs;
}

/** In-memory engine for unit tests. */
export class RecordingEngine implements PulumiEngine {
  readonly calls: EngineCall[] = [];
  readonly stacks = new Map<string, FakeStack>();
  readonly failures: ScriptedFailure[] = [];
  /** Outputs every successful `up` returns. */
  upOutputs: EngineOutputs = {
    roleArn: { value: "arn:aws:iam::111111111111:role/MeshstackAccountAccessRole", secret: false },
  };
  /** Engine output lines every operation emits through `onOutput`. */
  outputLines = ["Updating (account)", "+ aws:iam:Role created"];
  /** Resolves pending operations; when set, operations wait on it (for concurrency assertions). */
  gate: Promise<void> | undefined;
  /** Methods the gate applies to (default: all). */
  gatedMethods: ReadonlySet<string> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  /**
   * When true, `up` also returns the `avmDeployment` output the real program computes from the stack's config
   * (with {@link stampVersion} as program version), so fleet status can tell current from outdated stacks.
   */
  stampUp = false;
  /** Resources a refresh preview reports as drifted, by stack name; an `up` clears a stack's drift. */
  readonly drift = new Map<string, ResourceDrift[]>();
  /** Program version the stamped `up` records; default this checkout's. */
  stampVersion = programVersion();

  /** Makes the next `times` calls of `method` throw `error()`. */
  failNext(method: keyof PulumiEngine, error: () => unknown, times = 1, stackName?: string): void {
    this.failures.push({ method, error, times, ...(stackName ? { stackName } : {}) });
  }

  private async op<R>(
    method: keyof PulumiEngine,
    stackName: string | undefined,
    fn: () => R,
    extra: Partial<EngineCall> = {},
  ): Promise<R> {
    this.calls.push({ method, ...(stackName ? { stackName } : {}), ...extra });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await Promise.resolve();
      if (this.gate && (!this.gatedMethods || this.gatedMethods.has(method))) await this.gate;
      const failure = this.failures.find(
        (f) => f.method === method && f.times > 0 && (f.stackName === undefined || f.stackName === stackName),
      );
      if (failure) {
        failure.times--;
        throw failure.error();
      }
      return fn();
    } finally {
      this.inFlight--;
    }
  }

  private emit(options?: EngineCallOptions): void {
    for (const line of this.outputLines) options?.onOutput?.(`${line}\n`);
  }

  private require(stackName: string): FakeStack {
    const stack = this.stacks.get(stackName);
    if (!stack) throw stackNotFound(stackName);
    return stack;
  }

  prepare(): Promise<void> {
    return this.op("prepare", undefined, () => undefined);
  }
  ensureStack(stackName: string): Promise<void> {
    return this.op("ensureStack", stackName, () => {
      if (!this.stacks.has(stackName)) this.stacks.set(stackName, { config: {}, resources: 0 });
    });
  }
  setConfig(stackName: string, config: EngineConfig): Promise<void> {
    return this.op(
      "setConfig",
      stackName,
      () => {
        Object.assign(this.require(stackName).config, config);
      },
      { config },
    );
  }
  replaceConfig(stackName: string, config: EngineConfig): Promise<void> {
    return this.op(
      "replaceConfig",
      stackName,
      () => {
        // Exactly the real engine's effect: the given keys, and no other.
        this.require(stackName).config = { ...config };
      },
      { config },
    );
  }
  up(stackName: string, options?: EngineCallOptions): Promise<EngineUpdateResult> {
    return this.op("up", stackName, () => {
      const stack = this.require(stackName);
      this.emit(options);
      const created = stack.resources === 0 ? 3 : 0;
      const drifted = this.drift.get(stackName)?.length ?? 0;
      this.drift.delete(stackName);
      stack.resources = 3;
      stack.outputs = this.stampUp
        ? {
            ...this.upOutputs,
            [DEPLOYMENT_STAMP_OUTPUT]: {
              value: stampOfEngineConfig(stackName, stack.config, this.stampVersion),
              secret: false,
            },
          }
        : this.upOutputs;
      return {
        result: "succeeded",
        resourceChanges: (created
          ? { create: created }
          : drifted > 0
            ? { update: drifted, same: 3 - drifted }
            : { same: 3 }) as ResourceChanges,
        outputs: stack.outputs,
      };
    });
  }
  previewRefresh(stackName: string, options?: EngineCallOptions): Promise<EngineDriftResult> {
    return this.op("previewRefresh", stackName, () => {
      const stack = this.require(stackName);
      this.emit(options);
      const resources = this.drift.get(stackName) ?? [];
      const changeSummary: ResourceChanges =
        resources.length > 0
          ? { update: resources.length, same: stack.resources - resources.length }
          : { same: stack.resources };
      return { changeSummary, resources };
    });
  }
  refresh(stackName: string, options?: EngineCallOptions): Promise<EngineUpdateResult> {
    return this.op("refresh", stackName, () => {
      const stack = this.require(stackName);
      this.emit(options);
      return { result: "succeeded", resourceChanges: { same: stack.resources }, outputs: this.upOutputs };
    });
  }
  outputs(stackName: string): Promise<EngineOutputs> {
    return this.op("outputs", stackName, () => this.require(stackName).outputs ?? this.upOutputs);
  }
  listStacks(): Promise<EngineStackSummary[]> {
    return this.op("listStacks", undefined, () =>
      [...this.stacks.entries()].map(([name, s]) => ({ name, updateInProgress: false, resourceCount: s.resources })),
    );
  }
}
