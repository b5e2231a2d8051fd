/**
 * CLI start-up: wall time of `avm --help` and `avm status` (a record found in a SQLite ledger) as a user runs them
 * (`node bin/avm.js`, the compiled CLI dist/cli/main.js), side by side in the same run with a bare `node -e 0` and
 * with the same commands on the TypeScript sources through tsx (`AVM_CLI_TSX=1`, how every run started before the
 * compiled CLI). Each sample is a fresh process, spawn to exit; samples alternate between the variants.
 *
 *   node --import tsx bench/cliStart.ts [--runs 15]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureCliBundle } from "../scripts/cliBundle.cjs";
import { SqliteLedger } from "../src/adapters/local/sqliteLedger";
import { acceptRequest } from "../src/core/vending/intake";
import { InProcessWorkQueue } from "../src/adapters/local/inProcessWorkQueue";
import { parseRunsArg, quantile, sampleAlternating, type ProcessVariant } from "./support/processSamples";

async function main(): Promise<void> {
  const runs = parseRunsArg(process.argv.slice(2), 15);
  const dir = mkdtempSync(path.join(tmpdir(), "avm-clistart-"));
  try {
    if (ensureCliBundle() === undefined) throw new Error("dist/cli/main.js could not be built");
    const ledgerPath = path.join(dir, "ledger.sqlite");
    const ledger = new SqliteLedger({ path: ledgerPath });
    const email = "aws+bench@example.com";
    await acceptRequest(
      { accountName: "bench", email, targetOu: "/Workloads" },
      { ledger, queue: new InProcessWorkQueue(), now: () => new Date() },
    );
    await ledger.close();
    const bin = path.resolve(__dirname, "..", "bin", "avm.js");
    const help = [bin, "--help"];
    const status = [bin, "status", "--email", email, "--ledger", ledgerPath];
    const tsx = { AVM_CLI_TSX: "1" };
    const variants: ProcessVariant[] = [
      { label: "node -e 0 (bare)", args: ["-e", "0"], wall: [], init: [] },
      { label: "avm --help", args: help, wall: [], init: [] },
      { label: "avm status --email", args: status, wall: [], init: [] },
      { label: "avm --help (tsx, before)", args: help, env: tsx, wall: [], init: [] },
      { label: "avm status --email (tsx, before)", args: status, env: tsx, wall: [], init: [] },
    ];
    console.log(`CLI start bench: node ${process.version}, ${runs} fresh processes per variant, alternating`);
    sampleAlternating(variants, runs);
    const bare = quantile(variants[0]!.wall, 0.5);
    console.log("\n  variant                             wall p50   wall p90   over bare node (p50)");
    for (const v of variants) {
      const p50 = quantile(v.wall, 0.5);
      console.log(
        `  ${v.label.padEnd(34)} ${p50.toFixed(1).padStart(8)}   ${quantile(v.wall, 0.9).toFixed(1).padStart(8)}` +
          `   ${v === variants[0] ? "-" : `+${(p50 - bare).toFixed(1)} ms`}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
