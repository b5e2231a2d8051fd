/**
 * Lambda cold start: bundle size of each AVM handler (esbuild, exactly as the Pulumi program bundles them through
 * `src/lambda/bundle.ts`; with the AWS SDK bundled, the default, and left to the runtime) and, side by side with a
 * bare `node -e 0` in the same run:
 * - init: a fresh `node` process that loads the bundle and finds `handler` (what Lambda's init phase does);
 * - init + first invocation: the same, then one invocation whose AWS calls are refused at once (endpoint
 *   127.0.0.1:9, one attempt), so it measures loading and constructing the clients, not the network.
 * Each sample is a fresh process (wall time spawn to exit, plus the in-process times it prints); samples alternate
 * between the variants so load drift hits all of them alike. Then one CPU profile per handler and phase of the
 * unminified bundle, by package: the top contributors to init and first-invocation time.
 *
 *   node --import tsx bench/coldStart.ts [--runs 20]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { bundleHandler, DEPS_FILE, HANDLER_ENTRIES, type BundledHandler } from "../src/lambda/bundle";
import { parseRunsArg, quantile, sampleAlternating, type ProcessVariant } from "./support/processSamples";

type HandlerName = keyof typeof HANDLER_ENTRIES;

const LABEL: Record<HandlerName, string> = {
  entryPoint: "AVMEntryPoint",
  worker: "AVMWorker",
  webhook: "AVMWebhook",
};

/** One invocation per handler; every AWS call it makes is refused (see {@link REFUSED_ENV}). */
const EVENTS: Record<HandlerName, unknown> = {
  entryPoint: { accountName: "bench", email: "aws+bench@example.com" },
  worker: {
    Records: [
      {
        messageId: "m1",
        body: JSON.stringify({ email: "aws+bench@example.com", requestId: "r1" }),
        attributes: { ApproximateReceiveCount: "1" },
      },
    ],
  },
  webhook: {
    body: "{}",
    isBase64Encoded: false,
    headers: { "pulumi-webhook-kind": "ping" },
    requestContext: { http: { method: "POST" } },
  },
};

/** The platform stack's variables, with every AWS endpoint refused at once. */
const REFUSED_ENV: NodeJS.ProcessEnv = {
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_MAX_ATTEMPTS: "1",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AVM_LEDGER_TABLE: "avm-ledger",
  AVM_QUEUE_URL: "http://127.0.0.1:9/123456789012/avm-work",
  AVM_WEBHOOK_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:avm-webhook",
  AVM_MANAGEMENT_ROLE_ARN: "arn:aws:iam::111122223333:role/AVMVendingRole",
  AVM_MANAGEMENT_ACCOUNT_ID: "111122223333",
  // The bench's vend event then passes the entry point's gate and reaches the (refused) ledger, as before the gate.
  AVM_ENTRY_POINT_VENDING: "true",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** A script that loads `file`, prints `init-ms`, and with `event` invokes once and prints `first-ms`. */
function loader(file: string, event?: unknown): string {
  const head =
    `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});` +
    `if(typeof m.handler!=="function")throw new Error("no handler");` +
    `const i=Number(process.hrtime.bigint()-t)/1e6;`;
  if (event === undefined) return `${head}console.log("init-ms "+i.toFixed(2));`;
  return (
    `${head}Promise.resolve().then(()=>m.handler(${JSON.stringify(event)})).catch(()=>undefined).then(()=>{` +
    `console.log("init-ms "+(Number(process.hrtime.bigint()-t)/1e6).toFixed(2));process.exit(0)});`
  );
}

/** Package (or project folder) of a source path in an esbuild bundle comment. */
function packageOf(source: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (inModules) return inModules[1]!;
  return `project ${source.split("/").slice(0, 2).join("/")}`;
}

/**
 * Self time (ms) by package of one CPU profile of `script`, which loads the unminified `bundleFile` (`index.js`;
 * its `deps.js` next to it is mapped the same way).
 */
function profileByPackage(bundleFile: string, script: string, env: NodeJS.ProcessEnv, dir: string): [string, number][] {
  const profileDir = mkdtempSync(path.join(dir, "prof-"));
  spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profileDir, "-e", script], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  const profile = JSON.parse(readFileSync(path.join(profileDir, readdirSync(profileDir)[0]!), "utf8")) as {
    nodes: { id: number; callFrame: { url: string; lineNumber: number; functionName: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  // Line -> module, from the "// path" comments esbuild writes before each module of an unminified bundle.
  const moduleAt = new Map<string, string[]>();
  for (const file of [bundleFile, path.join(path.dirname(bundleFile), DEPS_FILE)]) {
    if (!existsSync(file)) continue;
    const lines: string[] = [];
    let current = "bundle runtime";
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const comment = /^\/\/ (\S+\.(?:[cm]?js|ts|json))$/.exec(line);
      if (comment) current = packageOf(comment[1]!);
      lines.push(current);
    }
    moduleAt.set(pathToFileURL(file).href, lines);
  }
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)!.callFrame;
    const key = moduleAt.has(frame.url)
      ? (moduleAt.get(frame.url)![frame.lineNumber] ?? "bundle")
      : frame.url.startsWith("node:") || frame.url === ""
        ? frame.url === "" && frame.functionName.startsWith("(")
          ? frame.functionName
          : "node internals"
        : frame.url;
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

function main(): void {
  const runs = parseRunsArg(process.argv.slice(2), 20);
  const dir = mkdtempSync(path.join(tmpdir(), "avm-coldstart-"));
  try {
    console.log(`cold start bench: node ${process.version}, ${runs} fresh processes per variant, alternating`);
    console.log("\nbundle sizes (esbuild, minified, node22, cjs; gzip ~ size inside the deployment zip):");
    console.log("  handler       SDK bundled (default)     SDK from the runtime");
    const files: Record<string, string> = {};
    // Every file of the function's archive (index.js and deps.js), as the platform stack ships them.
    const write = (name: string, bundle: BundledHandler) => {
      mkdirSync(path.join(dir, name), { recursive: true });
      for (const [file, code] of Object.entries(bundle.files)) writeFileSync(path.join(dir, name, file), code);
      return path.join(dir, name, bundle.fileName);
    };
    const names = Object.keys(HANDLER_ENTRIES) as HandlerName[];
    for (const name of names) {
      const entry = HANDLER_ENTRIES[name];
      const bundled = bundleHandler(entry);
      const external = bundleHandler(entry, { externalAwsSdk: true });
      const gz = (bundle: BundledHandler) =>
        Object.values(bundle.files).reduce((sum, code) => sum + gzipSync(code).byteLength, 0);
      console.log(
        `  ${name.padEnd(12)}  ${kib(bundled.bytes).padStart(9)} (gz ${kib(gz(bundled)).padStart(8)})` +
          `   ${kib(external.bytes).padStart(9)} (gz ${kib(gz(external)).padStart(8)})` +
          `   index.js ${Buffer.byteLength(bundled.code)} B`,
      );
      files[`${name}:bundled`] = write(`${name}-bundled`, bundled);
      files[`${name}:plain`] = write(`${name}-plain`, bundleHandler(entry, { minify: false }));
      // The layout before index.js and deps.js were split: one file, deps.ts inside it behind a lazy require.
      files[`${name}:oneFile`] = write(`${name}-one-file`, bundleHandler(entry, { split: false }));
      files[`${name}:oneFilePlain`] = write(
        `${name}-one-file-plain`,
        bundleHandler(entry, { split: false, minify: false }),
      );
      if (name === "entryPoint") files[`${name}:external`] = write(`${name}-external`, external);
    }

    const repoModules = path.resolve(__dirname, "..", "node_modules");
    const variants: ProcessVariant[] = [{ label: "node -e 0 (bare)", args: ["-e", "0"], wall: [], init: [] }];
    for (const name of names) {
      variants.push({
        label: `${LABEL[name]} init`,
        args: ["-e", loader(files[`${name}:bundled`]!)],
        wall: [],
        init: [],
      });
    }
    for (const name of names) {
      variants.push({
        label: `${LABEL[name]} init, one file (before)`,
        args: ["-e", loader(files[`${name}:oneFile`]!)],
        wall: [],
        init: [],
      });
    }
    variants.push({
      // The runtime provides @aws-sdk/*; here it resolves from the repository's node_modules.
      label: "AVMEntryPoint init, SDK from runtime",
      args: ["-e", loader(files["entryPoint:external"]!)],
      env: { NODE_PATH: repoModules },
      wall: [],
      init: [],
    });
    for (const name of names) {
      variants.push({
        label: `${LABEL[name]} init + 1st invocation`,
        args: ["-e", loader(files[`${name}:bundled`]!, EVENTS[name])],
        env: REFUSED_ENV,
        wall: [],
        init: [],
      });
    }
    variants.push({
      label: "AVMEntryPoint init + 1st inv., SDK from runtime",
      args: ["-e", loader(files["entryPoint:external"]!, EVENTS.entryPoint)],
      env: { ...REFUSED_ENV, NODE_PATH: repoModules },
      wall: [],
      init: [],
    });
    sampleAlternating(variants, runs);

    console.log("\ncold start, SDK bundled unless noted (ms; wall = spawn to exit of a fresh node process;");
    console.log("in-process = require() of the bundle, or require() + the first invocation with AWS refused):");
    console.log("  variant                                          wall p50  wall p90  over bare  in-process p50");
    const bare = quantile(variants[0]!.wall, 0.5);
    for (const v of variants) {
      const p50 = quantile(v.wall, 0.5);
      console.log(
        `  ${v.label.padEnd(47)}  ${p50.toFixed(1).padStart(8)}  ${quantile(v.wall, 0.9).toFixed(1).padStart(8)}` +
          `  ${(v === variants[0] ? "-" : `+${(p50 - bare).toFixed(1)}`).padStart(9)}` +
          `  ${(v.init.length ? quantile(v.init, 0.5).toFixed(1) : "-").padStart(14)}`,
      );
    }

    console.log("\ntop contributors (CPU profile of one fresh process, unminified bundle, self time by package in ms;");
    console.log("node's own start-up, module loader and garbage collector left out):");
    for (const name of names) {
      const file = files[`${name}:plain`]!;
      const oneFile = files[`${name}:oneFilePlain`]!;
      for (const [phase, bundleFile, script, env] of [
        ["init, one file (before)", oneFile, loader(oneFile), {}],
        ["init", file, loader(file), {}],
        ["init + 1st invocation", file, loader(file, EVENTS[name]), REFUSED_ENV],
      ] as const) {
        const top = profileByPackage(bundleFile, script, env, dir)
          .filter(([k]) => !["node internals", "(program)", "(idle)", "(garbage collector)"].includes(k))
          .slice(0, 6);
        console.log(
          `  ${`${LABEL[name]} ${phase}:`.padEnd(40)} ` +
            (top.map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(", ") || "no sample outside node's own start-up"),
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
