/**
 * Child-process entry of the offline plan (`node --import tsx automation/plan/planChild.ts`): reads a
 * {@link PlanChildRequest} as JSON on stdin, runs the Pulumi program (`src/index.ts`) under the mock runtime,
 * runs the IAM catalog check on every policy document, and writes one {@link PlanChildResult} line after the
 * {@link PLAN_MARKER} on stdout. Secret values are replaced by `[secret]` before anything is written.
 *
 * With `--serve` it plans many stacks in one process (batch vending, `planPool.ts`): every stdin line is a
 * {@link PlanServeRequest}, answered one at a time by a {@link PlanServeResponse} line after the marker; the
 * program (`avmProgram`) runs again under fresh mocks for each, so `@pulumi/aws` loads once. A planner pool runs
 * this mode from `dist/cli/planChild.js`, compiled with the CLI bundle, when that is fresh (no tsx to start).
 */
// First, before anything loads @pulumi/pulumi.
import "./lazyClosurePackages";
import * as path from "node:path";
import { avmProgram } from "../../src/program";
import { checkPolicyActions } from "../../src/policies/iamCatalog";
import { policyActions, type PolicyDocument } from "../../src/policies/document";
import { installPlanMocks, settle, type MockedResource } from "./mockRuntime";
import {
  PLAN_MARKER,
  type PlanChildRequest,
  type PlanChildResult,
  type PlannedPolicy,
  type PlannedResource,
  type PlanServeRequest,
  type PlanServeResponse,
} from "./planProtocol";

const SECRET = "[secret]";

// The Pulumi runtime captures a stack trace for every promise it makes (leak diagnostics) and every resource
// (source positions), which was a third of a plan's time here. Nothing the planner reports carries a stack (a
// plan error is its message), so none is captured unless AVM_DEBUG=1 asks for them.
if (process.env.AVM_DEBUG !== "1") Error.stackTraceLimit = 0;

function parseJsonString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function policiesOf(resources: readonly MockedResource[]): PlannedPolicy[] {
  const policies: PlannedPolicy[] = [];
  for (const r of resources) {
    if (r.type === "aws:iam/role:Role") {
      const roleName = String(r.inputs["name"] ?? r.name);
      const trust = parseJsonString(r.inputs["assumeRolePolicy"]);
      if (trust && typeof trust === "object") {
        policies.push({ name: `${roleName}/trust`, resource: r.name, document: trust as PolicyDocument });
      }
    }
    if (r.type === "aws:iam/policy:Policy") {
      const doc = parseJsonString(r.inputs["policy"]);
      if (doc && typeof doc === "object") {
        policies.push({ name: String(r.inputs["name"] ?? r.name), resource: r.name, document: doc as PolicyDocument });
      }
    }
    if (r.type === "aws:organizations/policy:Policy") {
      const doc = parseJsonString(r.inputs["content"]);
      if (doc && typeof doc === "object") {
        policies.push({
          name: `scp/${String(r.inputs["name"] ?? r.name)}`,
          resource: r.name,
          document: doc as PolicyDocument,
        });
      }
    }
    if (r.type === "aws:iam/rolePolicy:RolePolicy") {
      const doc = parseJsonString(r.inputs["policy"]);
      if (doc && typeof doc === "object") {
        policies.push({
          name: `${String(r.inputs["role"] ?? "?")}/${String(r.inputs["name"] ?? r.name)}`,
          resource: r.name,
          document: doc as PolicyDocument,
        });
      }
    }
  }
  return policies;
}

function mask<T>(value: T, secrets: readonly string[]): T {
  let text = JSON.stringify(value);
  for (const secret of secrets) {
    if (secret !== "") text = text.split(JSON.stringify(secret).slice(1, -1)).join(SECRET);
  }
  return JSON.parse(text) as T;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// Errors thrown inside applies (e.g. the components' IAM catalog check) surface as unhandled rejections.
let asyncError: unknown;
process.on("unhandledRejection", (reason) => {
  asyncError ??= reason;
});

/** Runs the program once for `request` under fresh mocks: `src/index.ts` for one plan, `avmProgram()` for many. */
async function plan(request: PlanChildRequest, runProgram: () => void): Promise<PlanChildResult> {
  const secrets = request.secretKeys.map((k) => request.config[k] ?? "");
  asyncError = undefined;
  try {
    const recorded = await installPlanMocks(request);
    runProgram();
    await settle();
    // Node reports an unhandled rejection only after the microtasks have drained: without this turn a policy whose
    // catalog check failed was silently missing from the plan.
    await new Promise((resolve) => setImmediate(resolve));
    if (asyncError !== undefined) throw asyncError;
    const policies = policiesOf(recorded);
    let actions = 0;
    for (const policy of policies) {
      await checkPolicyActions(policy);
      actions += policyActions(policy.document).length;
    }
    const resources: PlannedResource[] = recorded.map((r) => ({
      type: r.type,
      name: r.name,
      ...(r.provider ? { provider: r.provider } : {}),
      // Policy documents and provider inputs reach the engine JSON-encoded; show them as data.
      inputs: Object.fromEntries(
        Object.entries(r.inputs).map(([k, v]) => [
          k,
          ["assumeRolePolicy", "policy"].includes(k) ||
          (r.type.startsWith("pulumi:providers:") && /^[[{]/.test(String(v)))
            ? parseJsonString(v)
            : v,
        ]),
      ),
      secretInputs: r.secretInputs,
    }));
    return mask({ ok: true, resources, policies, catalog: { policies: policies.length, actions } }, secrets);
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    return mask({ ok: false, error: err.message, errorName: err.name }, secrets);
  }
}

async function main(): Promise<PlanChildResult> {
  const request = JSON.parse(await readStdin()) as PlanChildRequest;
  // The checkout's entry file, exactly what `pulumi up` runs (this mode always runs from the sources, through tsx).
  return plan(request, () => require(path.resolve(__dirname, "..", "..", "src", "index.ts")));
}

/** `--serve`: one request per stdin line, answered in order; ends when stdin closes. */
async function serve(): Promise<void> {
  const { createInterface } = await import("node:readline");
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim() === "") continue;
    const { id, request } = JSON.parse(line) as PlanServeRequest;
    const response: PlanServeResponse = { id, result: await plan(request, () => void avmProgram()) };
    await new Promise<void>((resolve) =>
      process.stdout.write(`\n${PLAN_MARKER}${JSON.stringify(response)}\n`, () => resolve()),
    );
  }
}

if (process.argv.includes("--serve")) {
  serve().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`offline planner crashed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
} else
  main().then(
    (result) => {
      process.stdout.write(`\n${PLAN_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`offline plan crashed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
