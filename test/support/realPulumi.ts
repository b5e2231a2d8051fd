/**
 * Shared set-up of the real-engine suites (`test/engine/*.engine.spec.ts`): they drive the real `pulumi` CLI
 * (put on PATH by `scripts/pulumi-cli.sh`, which the README's test command sources) with inline Automation API
 * programs and hermetic temporary `file://` backends. Where no CLI is available the suites skip visibly with the
 * reason; with `CI=true` a skip fails the run instead, so CI can never pass without the real engine.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** The repository root (where the project's own `Pulumi.yaml` lives). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The passphrase of every temporary backend in these suites. */
export const TEST_PASSPHRASE = "real-engine-test-passphrase";

/** `pulumi version` of the CLI on PATH, or undefined when there is none. */
export function pulumiVersion(): string | undefined {
  const result = spawnSync("pulumi", ["version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * Call in a suite's `before`: skips the suite (printing why) when no `pulumi` CLI is on PATH, or fails it when
 * `CI=true`.
 */
export function requireRealPulumi(context: Mocha.Context): void {
  if (pulumiVersion() !== undefined) return;
  const reason =
    process.env.AVM_PULUMI_SKIP_REASON ?? "no pulumi CLI on PATH (run the tests through scripts/dev.sh test)";
  if (process.env.CI === "true") {
    throw new Error(`the real-engine suite must run in CI but cannot: ${reason}`);
  }
  console.log(`      (skipped: ${reason})`);
  context.skip();
}

/** A temporary project directory with its own file backend and Pulumi home; `dispose()` removes all of it. */
export interface TempProject {
  /** Work dir: the repo's `Pulumi.yaml` (symlinked) and a copy of `Pulumi.dev.yaml`. */
  readonly workDir: string;
  /** `file://` URL of the backend directory. */
  readonly backendUrl: string;
  /** The backend directory (state files live under `.pulumi/stacks/meshstack-avm/`). */
  readonly backendDir: string;
  /** Pulumi home of this project (plugins, workspaces). */
  readonly pulumiHome: string;
  /** Environment for a `pulumi` or `avm` child process that works on this project. */
  readonly env: NodeJS.ProcessEnv;
  /** Path of a stack's checkpoint in the backend. */
  statePath(stackName: string): string;
  dispose(): void;
}

/**
 * Creates a hermetic project around the repo's own `Pulumi.yaml` (a symlink, so the engine validates config against
 * exactly the committed declarations) and a copy of `Pulumi.dev.yaml` (the engine may write to a stack file).
 */
export function tempProject(prefix: string): TempProject {
  const root = mkdtempSync(path.join(tmpdir(), `avm-engine-${prefix}-`));
  const workDir = path.join(root, "project");
  const backendDir = path.join(root, "backend");
  const pulumiHome = path.join(root, "home");
  for (const dir of [workDir, backendDir, pulumiHome]) mkdirSync(dir);
  symlinkSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  copyFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), path.join(workDir, "Pulumi.dev.yaml"));
  const backendUrl = `file://${backendDir}`;
  return {
    workDir,
    backendUrl,
    backendDir,
    pulumiHome,
    env: {
      ...process.env,
      PULUMI_BACKEND_URL: backendUrl,
      PULUMI_HOME: pulumiHome,
      PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
    },
    statePath: (stackName) => path.join(backendDir, ".pulumi", "stacks", "meshstack-avm", `${stackName}.json`),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Runs the `pulumi` CLI in `project` and returns its result (never throws on a non-zero exit). */
export function pulumiCli(project: TempProject, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync("pulumi", [...args, "--non-interactive"], {
    cwd: project.workDir,
    env: { ...project.env, ...env },
    encoding: "utf8",
  });
}

/** Runs a shell command line in `project` (for commands the product sends verbatim, e.g. Deployments pre-run commands). */
export function shell(project: TempProject, commandLine: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync("sh", ["-c", commandLine], {
    cwd: project.workDir,
    env: { ...project.env, ...env },
    encoding: "utf8",
  });
}
