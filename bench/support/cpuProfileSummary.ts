/**
 * Prints where a V8 CPU profile (`node --cpu-prof`, e.g. from `bench/webhook.ts --profile DIR`) spent its time:
 * the top functions by self time and by total time (self plus callees), as a share of the profiled time. Samples
 * taken before the time in `FILE.serving-since` (written by the webhook bench: when its server started serving),
 * samples whose stack contains a function named by `--skip` (default `populate`, the bench server's ledger set-up),
 * module loading (start-up) and idle samples are left out, so the shares are of the time spent serving. Then the self time by component: each sample
 * goes to the innermost frame that is product code (`src/`, `automation/`, `test/support/`) or a named library, so
 * Node's own HTTP and stream code called by the product counts as "node:http/net/streams", SQLite's native calls as
 * the ledger that made them, and so on.
 *
 *   node --import tsx bench/support/cpuProfileSummary.ts FILE.cpuprofile [--top 25] [--skip populate]
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  /** Microseconds, on the clock of `process.hrtime`. */
  readonly startTime: number;
}

function main(): void {
  const [file, ...rest] = process.argv.slice(2);
  if (file === undefined) throw new Error("usage: cpuProfileSummary.ts FILE.cpuprofile [--top N] [--skip NAME]");
  let top = 25;
  let skip = "populate";
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === "--top") top = Number(rest[i + 1]);
    else if (rest[i] === "--skip") skip = rest[i + 1] ?? "";
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const sinceFile = file.replace(/\.cpuprofile$/, ".serving-since");
  const since = existsSync(sinceFile) ? Number(readFileSync(sinceFile, "utf8")) : Number.NEGATIVE_INFINITY;
  let at = profile.startTime;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === "" ? "" : ` ${path.relative(process.cwd(), url.replace(/^file:\/\//, ""))}:${lineNumber + 1}`;
    return `${functionName || "(anonymous)"}${where}`;
  };
  const self = new Map<string, number>();
  const components = new Map<string, number>();
  const total = new Map<string, number>();
  let counted = 0;
  let skipped = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    at += profile.timeDeltas[i] ?? 0;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (stack[0]!.callFrame.functionName === "(idle)") {
      idle += dt;
      return;
    }
    const loading = stack.some((node) => node.callFrame.url.startsWith("node:internal/modules/"));
    if (at < since || loading || (skip !== "" && stack.some((node) => node.callFrame.functionName === skip))) {
      skipped += dt;
      return;
    }
    counted += dt;
    const component = componentOf(stack);
    components.set(component, (components.get(component) ?? 0) + dt);
    self.set(label(stack[0]!), (self.get(label(stack[0]!)) ?? 0) + dt);
    for (const name of new Set(stack.map(label))) total.set(name, (total.get(name) ?? 0) + dt);
  });
  const print = (title: string, values: Map<string, number>) => {
    console.log(title);
    for (const [name, us] of [...values].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `  ${((100 * us) / counted).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      );
    }
  };
  console.log(
    `${file}: ${(counted / 1000).toFixed(0)} ms busy counted, ${(idle / 1000).toFixed(0)} ms idle and ` +
      `${(skipped / 1000).toFixed(0)} ms of set-up (before serving, loading modules, under ${skip || "(nothing)"}) left out`,
  );
  print("self time:", self);
  print("total time (self + callees):", total);
  print("self time by component:", components);
}

/** The component a sample's time goes to (see the module comment). */
function componentOf(stack: ProfileNode[]): string {
  const leaf = stack[0]!.callFrame;
  if (leaf.functionName === "(garbage collector)") return "garbage collector";
  if (leaf.functionName === "(program)") return "(program: V8 and native, not attributed)";
  for (const node of stack) {
    const url = node.callFrame.url.replace(/^file:\/\//, "");
    if (url === "") continue;
    const named = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (named) return `library ${named[1]}`;
    const own = /\/((?:src|automation|test\/support|bench)\/.*)$/.exec(url);
    if (own) return own[1]!.replace(/\.ts$/, "");
    if (url.startsWith("node:")) {
      if (/^node:(_http|net|internal\/(streams|stream_base|http|net))/.test(url)) return "node:http/net/streams";
      if (/^node:(crypto|internal\/crypto)/.test(url)) return "node:crypto";
      continue;
    }
  }
  const native = stack.find((node) => node.callFrame.url === "" && node.callFrame.functionName !== "");
  return native && /^(writev|writeString|writeBuffer|read)/.test(native.callFrame.functionName)
    ? "node:http/net/streams"
    : "other Node internals (timers, task queues)";
}

main();
