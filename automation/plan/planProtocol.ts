/**
 * The protocol between the offline plan's parent (`offlinePlan.ts`) and its child process (`planChild.ts`).
 */
import { tmpdir } from "node:os";
import path from "node:path";
import type { PolicyDocument } from "../../src/policies/document";

/**
 * The environment of a planner child: the caller's, with Node's on-disk compile cache on (unless the caller set
 * one), so a later planner loads `@pulumi/aws` from cached bytecode instead of compiling it again.
 */
export function planChildEnv(): NodeJS.ProcessEnv {
  const cache = process.env.NODE_COMPILE_CACHE ?? path.join(tmpdir(), "node-compile-cache");
  return { ...process.env, NODE_COMPILE_CACHE: cache };
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
