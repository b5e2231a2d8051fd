#!/usr/bin/env bash
# Source this file: puts a real `pulumi` CLI (at least the pinned version) first on PATH for the real-engine tests.
#  1. a `pulumi` already on PATH at or above the pin is used as it is;
#  2. else the pinned CLI cached outside the repo (${AVM_CACHE_DIR:-~/.cache/meshstack-avm}) is used;
#  3. else, when Go is installed, the pinned CLI is built from the Go module proxy into that cache (once; about 9 min
#     and 2.3 GB peak memory on 2 cores, about 3 GB of Go caches), and reused by every later run;
#  4. else nothing is put on PATH and the real-engine suites skip visibly (with CI=true a skip fails the run).
# The Node.js language host and the aws/aws-native provider plugins cannot be built this way: the real-engine suites
# run inline Automation API programs, which need only the CLI. Sets AVM_PULUMI_SKIP_REASON when no CLI is available.
# Never sourced by the demo, so the demo never triggers the build.
_avm_pulumi_pin="3.274.1"
_avm_pulumi_cache="${AVM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshstack-avm}/pulumi-v${_avm_pulumi_pin}"
unset AVM_PULUMI_SKIP_REASON

# Prints 0 when version $1 >= $2 (dotted numbers, an optional leading v), else 1.
_avm_version_ge() {
  local a="${1#v}" b="${2#v}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -V | head -n 1)" = "$b" ]
}

_avm_build_pulumi() {
  local work rc=0
  work="$(mktemp -d)"
  echo "==> building the pinned Pulumi CLI v${_avm_pulumi_pin} from the Go module proxy into ${_avm_pulumi_cache}" \
    "(no usable pulumi on PATH or in the cache; the real-engine tests need it; about 9 min on 2 cores, once)" >&2
  (
    set -e
    cd "$work"
    go mod init avm-pulumi-cli-build >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >tools.go
    go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
    go get "github.com/pulumi/pulumi/pkg/v3@v${_avm_pulumi_pin}" "github.com/pulumi/pulumi/sdk/v3@v${_avm_pulumi_pin}" >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1
    mkdir -p "${_avm_pulumi_cache}.partial/bin"
    go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${_avm_pulumi_pin}" \
      -o "${_avm_pulumi_cache}.partial/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    shim="$(go env GOMODCACHE)/github.com/pulumi/pulumi/sdk/v3@v${_avm_pulumi_pin}/nodejs/dist/pulumi-resource-pulumi-nodejs"
    if [ -f "$shim" ]; then install -m 0755 "$shim" "${_avm_pulumi_cache}.partial/bin/"; fi
  ) || rc=$?
  rm -rf "$work"
  if [ $rc -eq 0 ]; then
    rm -rf "${_avm_pulumi_cache}" && mv "${_avm_pulumi_cache}.partial" "${_avm_pulumi_cache}"
  else
    rm -rf "${_avm_pulumi_cache}.partial"
  fi
  return $rc
}

_avm_pulumi_on_path="$(command -v pulumi 2>/dev/null || true)"
if [ -n "$_avm_pulumi_on_path" ] && _avm_version_ge "$(pulumi version 2>/dev/null || echo 0)" "$_avm_pulumi_pin"; then
  : # use it as it is
elif [ -x "${_avm_pulumi_cache}/bin/pulumi" ]; then
  export PATH="${_avm_pulumi_cache}/bin:${PATH}"
elif command -v go >/dev/null 2>&1; then
  if _avm_build_pulumi; then
    export PATH="${_avm_pulumi_cache}/bin:${PATH}"
  else
    export AVM_PULUMI_SKIP_REASON="building the Pulumi CLI v${_avm_pulumi_pin} from the Go module proxy failed"
    echo "==> ${AVM_PULUMI_SKIP_REASON}; the real-engine suites will skip" >&2
  fi
else
  export AVM_PULUMI_SKIP_REASON="no pulumi >= v${_avm_pulumi_pin} on PATH and no Go toolchain to build it"
  echo "==> ${AVM_PULUMI_SKIP_REASON}; the real-engine suites will skip" >&2
fi
# The tests keep their Pulumi state in temporary file backends; never prompt, never phone home.
export PULUMI_SKIP_UPDATE_CHECK=true
unset _avm_pulumi_on_path
