/**
 * The protocol between the offline plan's parent (`offlinePlan.ts`) and its child process (`planChild.ts`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PolicyDocument } from "../../src/policies/document";

/**
 * What a planner child runs. A long-lived planner (`serve`) runs the compiled `dist/cli/planChild.js` when the CLI
 * bundle (`scripts/cliBundle.cjs`) is fresh: it starts about a second sooner, with nothing to transpile. Otherwise
 * (a single plan, which runs the checkout's `src/index.ts`; a source edited since the last build; no bundle; or
 * `AVM_CLI_TSX=1`) the TypeScript sources run through tsx.
 */
function plannerEntry(repoRoot: string, serve: boolean): string[] {
  if (serve && process.env.AVM_CLI_TSX !== "1") {
    try {
      // Resolved at run time: the script locates the repository from its own place, which bundling would change.
      const bundle = require(path.join(repoRoot, "scripts", "cliBundle.cjs")) as {
        isFresh(): boolean;
        PLANNER_OUT: string;
      };
      if (bundle.isFresh()) return [bundle.PLANNER_OUT];
    } catch {
      // No build script here (an installed copy without it): run the sources.
    }
  }
  return ["--import", "tsx", path.join(repoRoot, "automation", "plan", "planChild.ts")];
}

/**
 * Starts a planner child: one plan, or (`serve`) one plan per request line until stdin closes. Its environment is the caller's without a `PULUMI_CONFIG` meant for another
 * stack, and with Node's on-disk compile cache on (unless the caller set one), so a later planner loads
 * `@pulumi/aws` from cached bytecode instead of compiling it again.
 */
export function spawnPlanner(repoRoot: string, mode: "one" | "serve"): ChildProcessWithoutNullStreams {
  const serve = mode === "serve";
  return spawn(process.execPath, [...plannerEntry(repoRoot, serve), ...(serve ? ["--serve"] : [])], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(tmpdir(), "node-compile-cache"),
      PULUMI_CONFIG: undefined,
      PULUMI_CONFIG_SECRET_KEYS: undefined,
    },
  });
}

/** Marker before the result line (the program may print to stdout too). */
export const PLAN_MARKER = "@@avm-offline-plan@@";

/** What the parent sends. */
export interface PlanChildRequest {
  readonly project: string;
  readonly stack: string;
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
}

/** One resource of the plan. */
export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly provider?: string;
  /** Inputs with secrets masked; policy inputs parsed from JSON. */
  readonly inputs: Record<string, unknown>;
  readonly secretInputs: readonly string[];
}

/** One IAM policy document of the plan. */
export interface PlannedPolicy {
  /** `<roleName>/trust`, `<roleName>/<policyName>` (inline) or `<policyName>` (managed policy). */
  readonly name: string;
  readonly resource: string;
  readonly document: PolicyDocument;
}

/** What the child writes. */
export type PlanChildResult =
  | {
      readonly ok: true;
      readonly resources: PlannedResource[];
      readonly policies: PlannedPolicy[];
      readonly catalog: { readonly policies: number; readonly actions: number };
    }
  | { readonly ok: false; readonly error: string; readonly errorName: string };

/** One request to a planner started with `--serve` (one JSON line on its stdin). */
export interface PlanServeRequest {
  readonly id: number;
  readonly request: PlanChildRequest;
}

/** Its answer (one line after {@link PLAN_MARKER} on the planner's stdout). */
export interface PlanServeResponse {
  readonly id: number;
  readonly result: PlanChildResult;
}
