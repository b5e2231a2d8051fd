/** Where the checkout is, from a module that may run from its source file or from a bundle under `dist/`. */
import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * The nearest directory at or above this module holding `Pulumi.yaml`: the repository root, whether the code runs
 * from `src/` or bundled into `dist/cli/` (where `__dirname` is no longer the source file's directory).
 */
export function repoRoot(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}
