#!/usr/bin/env bash
# Source this file: puts a Node >= 22 first on PATH, installing Node 22 from the npm registry
# into the project-local .tools/ folder when the machine's Node is older.
set -euo pipefail
_avm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_avm_node_version="22.23.3"
_avm_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_avm_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) _avm_arch=x64 ;;
    aarch64 | arm64) _avm_arch=arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
  _avm_pkg="node-linux-${_avm_arch}"
  _avm_dir="${_avm_root}/.tools/node-${_avm_node_version}"
  if [ ! -x "${_avm_dir}/node_modules/${_avm_pkg}/bin/node" ]; then
    echo "==> installing Node ${_avm_node_version} into ${_avm_dir} (machine has $(node --version 2>/dev/null || echo none))" >&2
    npm install --prefix "${_avm_dir}" --no-save --no-audit --no-fund --loglevel=error "${_avm_pkg}@${_avm_node_version}" >&2
  fi
  export PATH="${_avm_dir}/node_modules/${_avm_pkg}/bin:${PATH}"
fi
set +euo pipefail
