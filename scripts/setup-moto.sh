#!/usr/bin/env bash
# Installs the pinned moto server (the AWS emulator used by integration tests and the demo) into the
# project-local virtualenv .venv/. Falls back to an importable system moto when PyPI cannot be reached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
moto_spec="moto[server]==5.2.1"
if [ -x "$root/.venv/bin/python" ] && "$root/.venv/bin/python" -c 'import moto.server, flask_cors' 2>/dev/null; then
  exit 0
fi
echo "==> installing ${moto_spec} into .venv" >&2
if python3 -m venv "$root/.venv" && "$root/.venv/bin/pip" install --quiet --disable-pip-version-check "$moto_spec" >&2; then
  exit 0
fi
rm -rf "$root/.venv"
if python3 -c 'import moto.server, flask_cors' 2>/dev/null; then
  echo "==> PyPI install failed; the tests will use the system moto $(python3 -c 'import moto; print(moto.__version__)')" >&2
  exit 0
fi
echo "cannot install ${moto_spec} and no system moto is importable" >&2
exit 1
