/**
 * A file-backed fake of the `PulumiEngine` seam for crash tests: every state change is one line appended to a
 * JSON-lines file (one write, so a SIGKILL leaves whole lines), and a new instance replays the file. `up` waits
 * `upDelayMs`, then records the outputs the real program would return, including the `avmDeployment` stamp computed
 * from the stack's config. With `killAfterUps`, the process SIGKILLs itself right after recording that many ups: the
 * crash lands between the engine's success and the caller's own record of it.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type {
  EngineDriftResult,
  EngineOutputs,
  EngineStackSummary,
  EngineUpdateResult,
  PulumiEngine,
} from "../../automation/stacks/engine";
import { stampOfEngineConfig } from "../../automation/stacks/stackConfig";
import { DEPLOYMENT_STAMP_OUTPUT, programVersion } from "../../src/shared/deploymentStamp";
import type { EngineConfig } from "../../src/stacks/stackConfigTypes";
import { stackNotFound } from "./pulumiCommandErrors";

type Line =
  | { op: "ensure"; stack: string }
  | { op: "config"; stack: string; config: EngineConfig; replace?: boolean }
  | { op: "up"; stack: string; outputs: EngineOutputs };

/** Options of {@link JournalEngine}. */
export interface JournalEngineOptions {
  /** How long each `up` takes (ms); default 0. */
  readonly upDelayMs?: number;
  /** Program version the stamps record; default this checkout's. */
  readonly stampVersion?: string;
  /** SIGKILL this process right after the n-th `up` of this instance was recorded. */
  readonly killAfterUps?: number;
}

/** The stacks of every `up` recorded in `file`, in order. */
export function recordedUps(file: string, version?: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line)
    .filter(
      (l): l is Extract<Line, { op: "up" }> =>
        l.op === "up" &&
        (version === undefined ||
          (l.outputs[DEPLOYMENT_STAMP_OUTPUT]?.value as { programVersion?: string } | undefined)?.programVersion ===
            version),
    )
    .map((l) => l.stack);
}

/** The file-backed engine. */
export class JournalEngine implements PulumiEngine {
  private readonly stacks = new Map<
    string,
    { config: Record<string, EngineConfig[string]>; outputs?: EngineOutputs }
  >();
  private ups = 0;

  constructor(
    private readonly file: string,
    private readonly options: JournalEngineOptions = {},
  ) {
    if (!existsSync(file)) return;
    for (const raw of readFileSync(file, "utf8").split("\n")) {
      if (raw.trim() === "") continue;
      this.apply(JSON.parse(raw) as Line);
    }
  }

  private apply(line: Line): void {
    if (line.op === "ensure") {
      if (!this.stacks.has(line.stack)) this.stacks.set(line.stack, { config: {} });
    } else if (line.op === "config") {
      const stack = this.stacks.get(line.stack)!;
      stack.config = line.replace === true ? { ...line.config } : Object.assign(stack.config, line.config);
    } else {
      this.stacks.get(line.stack)!.outputs = line.outputs;
    }
  }

  private record(line: Line): void {
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
    this.apply(line);
  }

  private require(stackName: string) {
    const stack = this.stacks.get(stackName);
    if (!stack) throw stackNotFound(stackName);
    return stack;
  }

  async prepare(): Promise<void> {}
  async ensureStack(stackName: string): Promise<void> {
    if (!this.stacks.has(stackName)) this.record({ op: "ensure", stack: stackName });
  }
  async setConfig(stackName: string, config: EngineConfig): Promise<void> {
    this.require(stackName);
    this.record({ op: "config", stack: stackName, config });
  }
  async replaceConfig(stackName: string, config: EngineConfig): Promise<void> {
    this.require(stackName);
    this.record({ op: "config", stack: stackName, config, replace: true });
  }
  async up(stackName: string): Promise<EngineUpdateResult> {
    const stack = this.require(stackName);
    if (this.options.upDelayMs) await new Promise((resolve) => setTimeout(resolve, this.options.upDelayMs));
    const outputs: EngineOutputs = {
      [DEPLOYMENT_STAMP_OUTPUT]: {
        value: stampOfEngineConfig(stackName, stack.config, this.options.stampVersion ?? programVersion()),
        secret: false,
      },
    };
    const created = stack.outputs === undefined;
    this.record({ op: "up", stack: stackName, outputs });
    this.ups++;
    if (this.options.killAfterUps !== undefined && this.ups >= this.options.killAfterUps) {
      process.kill(process.pid, "SIGKILL");
    }
    return { result: "succeeded", resourceChanges: created ? { create: 3 } : { update: 1, same: 2 }, outputs };
  }
  async previewRefresh(stackName: string): Promise<EngineDriftResult> {
    this.require(stackName);
    return { changeSummary: { same: 3 }, resources: [] };
  }
  async refresh(stackName: string): Promise<EngineUpdateResult> {
    const stack = this.require(stackName);
    return { result: "succeeded", resourceChanges: { same: 3 }, outputs: stack.outputs ?? {} };
  }
  async outputs(stackName: string): Promise<EngineOutputs> {
    return this.require(stackName).outputs ?? {};
  }
  async listStacks(): Promise<EngineStackSummary[]> {
    return [...this.stacks.keys()].map((name) => ({ name, updateInProgress: false }));
  }
}
