#!/usr/bin/env node
// The `avm` CLI: registers tsx so the TypeScript sources run as they are, then hands over to
// automation/cli/main.ts. Works as `node bin/avm.js`, `npx avm` and through a linked bin.
"use strict";
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  process.stderr.write(`avm: error: Node.js 22 or later is required, this is ${process.version}\n`);
  process.exit(1);
}
require("tsx/cjs");
require("../automation/cli/main.ts")
  .main()
  // Exit explicitly: idle keep-alive sockets of AWS clients must not hold the process open.
  .then((code) => process.exit(code));
