#!/usr/bin/env bash
# One entry point for a fresh machine: sets everything up, then runs the given npm script.
#   bash scripts/dev.sh demo   # the product's main job on its embedded defaults
#   bash scripts/dev.sh test   # the whole test suite
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/node22.sh
source "$root/scripts/node22.sh"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci (node $(node --version))" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
bash "$root/scripts/setup-moto.sh"
# The compiled CLI (dist/cli/main.js) that bin/avm.js runs; rebuilt only when a source changed.
node "$root/scripts/cliBundle.cjs" --quiet --if-stale
task="${1:-test}"
shift || true
if [ "$task" = "test" ]; then
  # The real-engine suites need the pulumi CLI: used from PATH, else from the cache, else built once (never for the demo).
  # shellcheck source=scripts/pulumi-cli.sh
  source "$root/scripts/pulumi-cli.sh"
fi
exec npm run --silent "$task" -- "$@"
