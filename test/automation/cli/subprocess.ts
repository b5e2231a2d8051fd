/**
 * Runs the built CLI (`node bin/avm.js`) as a subprocess with Node 22 first on PATH. Shared by the
 * subprocess specs (unit and moto).
 */
import { spawn } from "node:child_process";
import path from "node:path";

/** Repository root. */
export const REPO = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(REPO, "bin", "avm.js");

/** Result of one `avm` subprocess. */
export interface Spawned {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for subprocesses: this Node first on PATH, no AVM_* settings leaking in from the caller. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("AVM_")) env[key] = value;
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`;
  return { ...env, ...extra };
}

/** Runs `node bin/avm.js <args>` with `stdin` and returns its exit code and output. */
export function avm(args: readonly string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<Spawned>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: options.env ?? cliEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}
