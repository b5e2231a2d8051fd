/**
 * Runs a Lambda handler as the platform stack deploys it: the esbuild bundle of `src/lambda/bundle.ts` (AWS SDK
 * bundled) loaded by a fresh `node` process, invoked once with `event`; returns what the handler returned.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bundleHandler, HANDLER_ENTRIES } from "../../src/lambda/bundle";

const RESULT = "@@handler-result@@";

/**
 * @param handler which handler
 * @param event the invocation's event
 * @param env the function's environment (added to dummy credentials, us-east-1, one attempt, silent logs)
 */
export async function runBundledHandler(
  handler: keyof typeof HANDLER_ENTRIES,
  event: unknown,
  env: Record<string, string>,
): Promise<unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), "avm-bundled-"));
  try {
    const file = path.join(dir, "index.js");
    for (const [name, code] of Object.entries(bundleHandler(HANDLER_ENTRIES[handler]).files)) {
      writeFileSync(path.join(dir, name), code);
    }
    const script =
      `require(${JSON.stringify(file)}).handler(${JSON.stringify(event)}).then(` +
      `(r) => process.stdout.write(${JSON.stringify(RESULT)} + JSON.stringify(r) + "\\n", () => process.exit(0)),` +
      `(e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); })`;
    const child = spawn(process.execPath, ["-e", script], {
      // No NODE_PATH, no node_modules next to the file: everything must be in the bundle.
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_MAX_ATTEMPTS: "1",
        POWERTOOLS_LOG_LEVEL: "SILENT",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
    if (code !== 0 || line === undefined) throw new Error(`bundled ${handler} failed (exit ${code}): ${stderr}`);
    return JSON.parse(line.slice(RESULT.length)) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
