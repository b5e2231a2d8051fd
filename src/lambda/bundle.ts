/**
 * Bundles a Lambda handler with esbuild into one CommonJS file for the nodejs22.x runtime, in memory, at program
 * run time (so `pulumi up`, the Automation API and Pulumi Deployments all ship the code of the checked-out commit).
 */
import * as path from "node:path";
import { buildSync } from "esbuild";

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
}

/** A bundled handler: the file name inside the archive, its code, and the size in bytes. */
export interface BundledHandler {
  /** File name in the archive (`index.js`); the Lambda handler setting is `index.handler`. */
  readonly fileName: "index.js";
  readonly code: string;
  readonly bytes: number;
}

/** Raised when esbuild fails; keeps esbuild's error as `cause`. */
export class BundleError extends Error {
  override readonly name = "BundleError";
}

/**
 * Bundles `entry` (absolute path, or a file name relative to `src/lambda/`) for nodejs22.x.
 * @throws BundleError naming the entry when esbuild fails.
 */
export function bundleHandler(entry: string, options: BundleOptions = {}): BundledHandler {
  const entryPath = path.isAbsolute(entry) ? entry : path.join(__dirname, entry);
  try {
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
      external: options.externalAwsSdk === true ? ["@aws-sdk/*"] : [],
      logLevel: "silent",
    });
    const file = result.outputFiles[0];
    if (file === undefined) {
      throw new Error("esbuild produced no output");
    }
    return { fileName: "index.js", code: file.text, bytes: file.contents.byteLength };
  } catch (cause) {
    throw new BundleError(`bundling Lambda handler "${entryPath}" failed: ${(cause as Error).message}`, { cause });
  }
}
