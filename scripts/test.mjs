// Runs the whole test suite as separate mocha processes and prints one closing line.
//   unit:   test/**/*.spec.ts (pure code, fakes, aws-sdk-client-mock, local HTTP servers): one process
//   pulumi: test/**/*.pulumi.spec.ts: Pulumi mocks are process-global, so one process per file
//   moto:   test/**/*.moto.spec.ts: integration tests sharing one moto server per process
//   engine: test/**/*.engine.spec.ts: the real pulumi CLI (inline Automation API programs, temporary file backends);
//           skipped visibly without a CLI, a failure with CI=true (scripts/pulumi-cli.sh puts the CLI on PATH)
// Usage: node scripts/test.mjs [unit|pulumi|moto ...] [-- extra mocha args]
import { spawn } from "node:child_process";
import { globSync } from "node:fs";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const wanted = sep === -1 ? argv : argv.slice(0, sep);
const extra = sep === -1 ? [] : argv.slice(sep + 1);

const all = globSync("test/**/*.spec.ts").sort();
const isPulumi = (f) => f.endsWith(".pulumi.spec.ts");
const isMoto = (f) => f.endsWith(".moto.spec.ts");
const isEngine = (f) => f.endsWith(".engine.spec.ts");
const groups = [
  { name: "unit", runs: [all.filter((f) => !isPulumi(f) && !isMoto(f) && !isEngine(f))] },
  { name: "pulumi", runs: all.filter(isPulumi).map((f) => [f]) },
  { name: "moto", runs: [all.filter(isMoto)] },
  { name: "engine", runs: [all.filter(isEngine)] },
].filter((g) => wanted.length === 0 || wanted.includes(g.name));

const totals = { passed: 0, failed: 0, skipped: 0 };
let crashed = 0;

function runMocha(files) {
  return new Promise((resolve) => {
    const args = [
      "mocha",
      "--node-option",
      "import=tsx",
      // node:sqlite is stable enough for the ledger but still flagged experimental on Node 22.
      "--node-option",
      "disable-warning=ExperimentalWarning",
      // A guard against hangs only (test/support/hangGuard.ts HANG_GUARD_MS, 10 minutes): correctness tests are
      // bounded by progress, never by how fast a possibly busy machine is.
      "--timeout",
      "600000",
      "--exit",
      ...extra,
      ...files,
    ];
    const child = spawn("npx", args, { stdio: ["ignore", "pipe", "inherit"], env: process.env });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on("close", (code) => {
      // The summary lines mocha prints last ("  12 passing (3s)"), never a test title that mentions a count.
      const count = (word) => Number([...out.matchAll(new RegExp(`^\\s*(\\d+) ${word}`, "gm"))].at(-1)?.[1] ?? 0);
      const passed = count("passing");
      const failed = count("failing");
      totals.passed += passed;
      totals.failed += failed;
      totals.skipped += count("pending");
      if (code !== 0 && failed === 0) crashed += 1;
      resolve();
    });
  });
}

for (const group of groups) {
  for (const files of group.runs) {
    if (files.length === 0) continue;
    console.log(`\n=== ${group.name}: ${files.length === 1 ? files[0] : `${files.length} files`}`);
    await runMocha(files);
  }
}
if (crashed > 0) console.log(`${crashed} mocha process(es) exited abnormally`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed + crashed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed + crashed > 0 ? 1 : 0);
