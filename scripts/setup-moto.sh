#!/usr/bin/env bash
# Installs the pinned Python test tooling of scripts/requirements-test.txt into the project-local virtualenv .venv/:
# the moto server (the AWS emulator used by integration tests and the demo) and Parliament (the third-party IAM policy
# analyzer run by test/security/policyAnalyzer.spec.ts). Falls back to an importable system moto when PyPI cannot be
# reached (the analyzer test then fails, naming this script).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/scripts/requirements-test.txt"
venv_python="$root/.venv/bin/python"
if [ -x "$venv_python" ] && "$venv_python" -c 'import moto.server, flask_cors' 2>/dev/null; then
  "$venv_python" -c 'import parliament' 2>/dev/null && exit 0
  # An existing moto venv from before the analyzer was added: add it, never throw the working venv away.
  parliament_spec="$(grep -E '^parliament==' "$requirements")"
  echo "==> installing ${parliament_spec} into .venv" >&2
  "$root/.venv/bin/pip" install --quiet --disable-pip-version-check "$parliament_spec" >&2 ||
    echo "cannot install ${parliament_spec}: test/security/policyAnalyzer.spec.ts will fail" >&2
  exit 0
fi
echo "==> installing $(grep -vE '^(#|$)' "$requirements" | tr '\n' ' ')into .venv" >&2
if python3 -m venv "$root/.venv" && "$root/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2; then
  exit 0
fi
rm -rf "$root/.venv"
if python3 -c 'import moto.server, flask_cors' 2>/dev/null; then
  echo "==> PyPI install failed; the tests will use the system moto $(python3 -c 'import moto; print(moto.__version__)')" >&2
  exit 0
fi
echo "cannot install the Python test tooling (${requirements}) and no system moto is importable" >&2
exit 1
