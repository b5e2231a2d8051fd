#!/usr/bin/env node
// The `avm` CLI: runs the compiled CLI (dist/cli/main.js, built by `npm run build:cli`, npm's prepare hook or
// scripts/dev.sh, and rebuilt here on first run or when a source changed), falling back to the TypeScript
// sources through tsx when it cannot be built. Works as `node bin/avm.js`, `npx avm` and through a linked bin.
// AVM_CLI_TSX=1 always runs the sources (development).
"use strict";
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  process.stderr.write(`avm: error: Node.js 22 or later is required, this is ${process.version}\n`);
  process.exit(1);
}
// V8 code cache on disk (Node >= 22.1): later runs skip compiling the modules they load.
require("node:module").enableCompileCache?.();
let cli;
const bundle = process.env.AVM_CLI_TSX === "1" ? undefined : require("../scripts/cliBundle.cjs").ensureCliBundle();
if (bundle !== undefined) {
  cli = require(bundle);
} else {
  require("tsx/cjs");
  cli = require("../automation/cli/main.ts");
}
cli
  .main()
  // Exits once stdout and stderr are flushed (a large `--json` result piped on is not cut short), and explicitly,
  // so that idle keep-alive sockets of AWS clients do not hold the process open.
  .then((code) => cli.exitWhenFlushed(code));
