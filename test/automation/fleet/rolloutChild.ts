/**
 * Child process of `rolloutKill.spec.ts`: runs `avm <argv>` in-process on a {@link JournalEngine} in `<dir>` and a
 * fixed organization of `FLEET_N` accounts. `UP_DELAY_MS` and `KILL_AFTER_UPS` configure the engine.
 * Usage: node --import tsx rolloutChild.ts <dir> <avm args...>
 */
import path from "node:path";
import { run } from "../../../automation/cli/main";
import { JournalEngine } from "../../support/journalEngine";
import { accountIds, fakeOrganizations } from "./fleetFixture";

async function main(): Promise<number> {
  const [dir, ...argv] = process.argv.slice(2);
  if (!dir) throw new Error("usage: rolloutChild.ts <dir> <avm args...>");
  const ids = accountIds(Number(process.env.FLEET_N));
  const killAfter = process.env.KILL_AFTER_UPS;
  const engine = new JournalEngine(path.join(dir, "engine.jsonl"), {
    upDelayMs: Number(process.env.UP_DELAY_MS ?? 0),
    ...(killAfter ? { killAfterUps: Number(killAfter) } : {}),
  });
  return run(
    argv,
    { stdout: process.stdout, stderr: process.stderr, stdin: "", env: process.env, cwd: dir },
    {
      organizationsClient: () => fakeOrganizations(ids),
      pulumiEngine: async () => engine,
      hasPulumiCli: () => true,
    },
  );
}

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
