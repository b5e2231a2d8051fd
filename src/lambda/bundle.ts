/**
 * Bundles a Lambda handler with esbuild into CommonJS files for the nodejs22.x runtime, in memory, at program run
 * time (so `pulumi up`, the Automation API and Pulumi Deployments all ship the code of the checked-out commit).
 *
 * A function whose entry has a `deps.ts` next to it (every AVM function: `src/lambda/<function>/`) becomes two
 * files: `index.js`, the entry with its `require("./deps")` left to Node (which finds `deps.js` next to it): all
 * the init phase loads; and `deps.js`, everything else (handler logic, adapters, AWS SDK), loaded on the first
 * invocation. The entry
 * must import nothing but types besides `./deps`, or that code would be in both files (two copies of a class
 * break `instanceof`); `test/src/lambda/bundle.spec.ts` checks that `index.js` stays small.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { repoRoot } from "../shared/repoRoot";

/** The Lambda handler entry files, relative to this folder. */
export const HANDLER_ENTRIES = {
  entryPoint: "entryPoint/index.ts",
  worker: "worker/index.ts",
  webhook: "webhook/index.ts",
} as const;

/** Options of {@link bundleHandler}. */
export interface BundleOptions {
  /**
   * Leave `@aws-sdk/*` to the SDK that the Lambda runtime ships (smaller artifact, SDK version chosen by AWS).
   * Default `false`: the SDK is bundled, pinned by the lockfile.
   */
  readonly externalAwsSdk?: boolean;
  /** Minify (default `true`). */
  readonly minify?: boolean;
  /**
   * Make a function with a `deps.ts` two files (default `true`). `false` puts everything in one `index.js`, which the
   * init phase then has to load whole (the layout before the split; `bench/coldStart.ts` compares the two).
   */
  readonly split?: boolean;
}

/** A bundled handler: the files of the function's archive. */
export interface BundledHandler {
  /** The entry file in the archive (`index.js`); the Lambda handler setting is `index.handler`. */
  readonly fileName: "index.js";
  /** The code of `index.js`, the file the init phase loads. */
  readonly code: string;
  /** Every file of the archive by name: `index.js` and, for a split function, {@link DEPS_FILE}. */
  readonly files: Readonly<Record<string, string>>;
  /** Bytes of all files. */
  readonly bytes: number;
}

/** The second file of a split function: its `deps.ts` and everything it imports, loaded on the first invocation. */
export const DEPS_FILE = "deps.js";

/** `src/lambda/` of the checkout, also when this module runs bundled (the offline planner, `dist/cli/`). */
function lambdaSources(): string {
  const root = repoRoot();
  return root === undefined ? __dirname : path.join(root, "src", "lambda");
}

/** Raised when esbuild fails; keeps esbuild's error as `cause`. */
export class BundleError extends Error {
  override readonly name = "BundleError";
}

/**
 * Bundles `entry` (absolute path, or a file name relative to `src/lambda/`) for nodejs22.x: `index.js`, plus
 * `deps.js` when a `deps.ts` sits next to the entry (see the module comment).
 * @throws BundleError naming the entry when esbuild fails.
 */
export function bundleHandler(entry: string, options: BundleOptions = {}): BundledHandler {
  const entryPath = path.isAbsolute(entry) ? entry : path.join(lambdaSources(), entry);
  const depsPath = path.join(path.dirname(entryPath), "deps.ts");
  const split = options.split !== false && existsSync(depsPath) && path.resolve(depsPath) !== path.resolve(entryPath);
  try {
    // The entry's `require("./deps")` stays a require, resolved by the runtime to `deps.js` next to it.
    const index = build(entryPath, options, split ? ["./deps"] : []);
    const files: Record<string, string> = { "index.js": index };
    if (split) files[DEPS_FILE] = build(depsPath, options, []);
    const bytes = Object.values(files).reduce((sum, code) => sum + Buffer.byteLength(code), 0);
    return { fileName: "index.js", code: index, files, bytes };
  } catch (cause) {
    throw new BundleError(`bundling Lambda handler "${entryPath}" failed: ${(cause as Error).message}`, { cause });
  }
}

function build(entryPath: string, options: BundleOptions, external: string[]): string {
  const result = buildSync({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    platform: "node",
    target: "node22",
    format: "cjs",
    // The ES module builds of the AWS SDK and Powertools: esbuild drops what a handler never uses (smaller
    // bundle, less to parse at init). Packages without one fall back to "main".
    mainFields: ["module", "main"],
    minify: options.minify ?? true,
    legalComments: "none",
    external: [...external, ...(options.externalAwsSdk === true ? ["@aws-sdk/*"] : [])],
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("esbuild produced no output");
  return file.text;
}
