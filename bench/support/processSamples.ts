/**
 * Start-up timing of fresh `node` processes for the benches: each {@link ProcessVariant} is one command line; samples
 * alternate between the variants so load drift on a shared machine hits all of them alike.
 */
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";

/** One command line to time; `wall` collects spawn-to-exit times, `init` the `init-ms <n>` figure it prints. */
export interface ProcessVariant {
  readonly label: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Exit codes counted as success (default `[0]`). */
  readonly okCodes?: readonly number[];
  readonly wall: number[];
  readonly init: number[];
}

/** The q-quantile (0..1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `variant` once in a fresh `node` process and records its times. */
export function sampleProcess(variant: ProcessVariant): void {
  const started = performance.now();
  const child = spawnSync(process.execPath, variant.args, {
    encoding: "utf8",
    env: { ...process.env, ...variant.env },
    timeout: 60_000,
  });
  const wall = performance.now() - started;
  if (!(variant.okCodes ?? [0]).includes(child.status ?? -1)) {
    throw new Error(`${variant.label} failed (exit ${child.status}): ${child.stderr}`);
  }
  variant.wall.push(wall);
  const init = Number(/init-ms (\S+)/.exec(child.stdout)?.[1]);
  if (Number.isFinite(init)) variant.init.push(init);
}

/** One warm-up sample per variant (not counted), then `runs` alternating samples of every variant. */
export function sampleAlternating(variants: readonly ProcessVariant[], runs: number): void {
  for (const v of variants) sampleProcess(v);
  for (const v of variants) {
    v.wall.length = 0;
    v.init.length = 0;
  }
  for (let i = 0; i < runs; i++) for (const v of variants) sampleProcess(v);
}

/** Parses `--runs N` (1..500), the only option of the start-up benches. */
export function parseRunsArg(argv: readonly string[], defaultRuns: number): number {
  let runs = defaultRuns;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === "--runs") runs = Number(argv[i + 1]);
    else throw new Error(`unknown argument ${argv[i]}; use --runs N`);
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > 500) throw new Error("--runs: 1-500");
  return runs;
}
