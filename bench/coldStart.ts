/**
 * Lambda cold start: bundle size of each AVM handler (esbuild, exactly as the Pulumi program bundles them through
 * `src/lambda/bundle.ts`; with the AWS SDK bundled, the default, and left to the runtime) and the module
 * initialisation cost of `AVMEntryPoint`, side by side with a bare `node -e 0` in the same run.
 *
 * Each sample is a fresh `node` process: wall time from spawn to exit (process start + loading the bundle), and the
 * time `require()` of the bundle took inside the process. Samples alternate between the variants so drift hits
 * all of them alike.
 *
 *   node --import tsx bench/coldStart.ts [--runs 20]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { bundleHandler, HANDLER_ENTRIES } from "../src/lambda/bundle";

interface Options {
  runs: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === "--runs") options.runs = Number(argv[i + 1]);
    else throw new Error(`unknown argument ${argv[i]}; use --runs N`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 500) throw new Error("--runs: 1-500");
  return options;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** One cold-start variant: a script run by a fresh node process that prints the in-process require time. */
interface Variant {
  readonly label: string;
  readonly args: string[];
  readonly env?: NodeJS.ProcessEnv;
  wall: number[];
  init: number[];
}

function sample(variant: Variant): void {
  const started = performance.now();
  const child = spawnSync(process.execPath, variant.args, {
    encoding: "utf8",
    env: { ...process.env, ...variant.env },
    timeout: 30_000,
  });
  const wall = performance.now() - started;
  if (child.status !== 0) throw new Error(`${variant.label} failed: ${child.stderr}`);
  variant.wall.push(wall);
  const init = Number(/init-ms (\S+)/.exec(child.stdout)?.[1]);
  if (Number.isFinite(init)) variant.init.push(init);
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), "avm-coldstart-"));
  try {
    console.log(`cold start bench: node ${process.version}, ${options.runs} fresh processes per variant`);
    console.log("\nbundle sizes (esbuild, minified, node22, cjs; gzip ~ size inside the deployment zip):");
    console.log("  handler       SDK bundled (default)     SDK from the runtime");
    const files: Record<string, string> = {};
    for (const [name, entry] of Object.entries(HANDLER_ENTRIES)) {
      const bundled = bundleHandler(entry);
      const external = bundleHandler(entry, { externalAwsSdk: true });
      const gz = (code: string) => gzipSync(code).byteLength;
      console.log(
        `  ${name.padEnd(12)}  ${kib(bundled.bytes).padStart(9)} (gz ${kib(gz(bundled.code)).padStart(8)})` +
          `   ${kib(external.bytes).padStart(9)} (gz ${kib(gz(external.code)).padStart(8)})`,
      );
      if (name === "entryPoint") {
        files["bundled"] = path.join(dir, "bundled", "index.js");
        files["external"] = path.join(dir, "external", "index.js");
        for (const [kind, code] of [
          ["bundled", bundled.code],
          ["external", external.code],
        ] as const) {
          const file = files[kind]!;
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, code);
        }
      }
    }

    // The loader prints how long require() took; the handler is only defined, as Lambda's init phase does.
    const loader = (file: string) =>
      `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});` +
      `if(typeof m.handler!=="function")throw new Error("no handler");` +
      `console.log("init-ms "+(Number(process.hrtime.bigint()-t)/1e6).toFixed(2));`;
    const repoModules = path.resolve(__dirname, "..", "node_modules");
    const variants: Variant[] = [
      { label: "node -e 0 (bare)", args: ["-e", "0"], wall: [], init: [] },
      { label: "AVMEntryPoint, SDK bundled", args: ["-e", loader(files["bundled"]!)], wall: [], init: [] },
      {
        // The runtime provides @aws-sdk/*; here it resolves from the repository's node_modules.
        label: "AVMEntryPoint, SDK from runtime",
        args: ["-e", loader(files["external"]!)],
        env: { NODE_PATH: repoModules },
        wall: [],
        init: [],
      },
    ];
    for (const v of variants) sample(v); // warm the file cache, not counted
    for (const v of variants) {
      v.wall.length = 0;
      v.init.length = 0;
    }
    for (let i = 0; i < options.runs; i++) for (const v of variants) sample(v);

    console.log("\nAVMEntryPoint cold start (ms; wall = spawn to exit of a fresh node process):");
    console.log("  variant                            wall p50  wall p90   require() p50  require() p90");
    const bare = quantile(variants[0]!.wall, 0.5);
    for (const v of variants) {
      const init = v.init.length ? [quantile(v.init, 0.5), quantile(v.init, 0.9)] : undefined;
      console.log(
        `  ${v.label.padEnd(33)}  ${quantile(v.wall, 0.5).toFixed(1).padStart(8)}  ${quantile(v.wall, 0.9).toFixed(1).padStart(8)}` +
          `   ${(init ? init[0]!.toFixed(1) : "-").padStart(13)}  ${(init ? init[1]!.toFixed(1) : "-").padStart(13)}`,
      );
    }
    for (const v of variants.slice(1)) {
      console.log(`  ${v.label}: +${(quantile(v.wall, 0.5) - bare).toFixed(1)} ms over bare node (wall p50)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
