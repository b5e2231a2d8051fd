// Runs every benchmark under bench/ (top-level *.ts files; bench/support/ holds helpers) with Node 22 + tsx, one
// after the other, each in its own process and bounded in time, and prints their figures. No assertions: figures
// only. Usage: node scripts/bench.mjs [name ...] [-- args passed to each bench]
//   npm run bench                 all benches with their defaults
//   npm run bench -- webhook      only bench/webhook.ts
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`bench: Node ${process.version} is too old; run \`source scripts/node22.sh\` first (Node >= 22)`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const wanted = (sep === -1 ? argv : argv.slice(0, sep)).map((n) => n.replace(/\.ts$/, ""));
const extra = sep === -1 ? [] : argv.slice(sep + 1);
const all = readdirSync(path.join(root, "bench"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const unknown = wanted.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  console.error(`bench: unknown bench ${unknown.join(", ")}; available: ${all.join(", ")}`);
  process.exit(2);
}
const benches = wanted.length > 0 ? wanted : all;
/** Upper bound per bench; a bench still running then is stopped and reported. */
const LIMIT_MS = 15 * 60_000;

function runBench(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", path.join("bench", `${name}.ts`), ...extra], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    const timer = setTimeout(() => {
      console.error(`bench: ${name} exceeded ${LIMIT_MS / 60_000} minutes; stopping it`);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    }, LIMIT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ name, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The 1-minute load average: above the core count, the figures were taken on a busy machine. */
const load = () => loadavg()[0].toFixed(2);
const results = [];
for (const name of benches) {
  const start = { at: new Date().toISOString().slice(11, 19), load: load() };
  console.log(`\n=== bench/${name}.ts (${start.at} UTC, load average ${start.load}, ${availableParallelism()} cores)`);
  results.push({ ...(await runBench(name)), start, end: { at: new Date().toISOString().slice(11, 19), load: load() } });
}
console.log("\n=== summary");
for (const r of results)
  console.log(
    `  ${r.name.padEnd(12)} ${r.code === 0 ? "ok    " : "FAILED"} ${r.seconds.toFixed(1).padStart(6)} s` +
      `  ${r.start.at}-${r.end.at} UTC, load average ${r.start.load} -> ${r.end.load}`,
  );
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
