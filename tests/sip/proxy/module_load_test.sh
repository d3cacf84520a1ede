#!/usr/bin/env bash
# module_load_test.sh - how callvault-proxy fails when it cannot use a module
# or its config, and that --no-module skips a module entirely.
#
# Usage: module_load_test.sh PROXY_BIN RECORDING_MODULE_SO ABI2_MODULE_SO
set -euo pipefail
proxy="$1"
good="$2"
abi2="$3"

work="$(mktemp -d "${TMPDIR:-/tmp}/cv-module-load.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failures=0
check() {
  local what="$1"; shift
  if "$@"; then echo "ok: $what"; passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

port=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
write_config() {  # file module_path module_config
  cat > "$1" <<YAML
listen: ["sip:127.0.0.1:$port;transport=udp"]
module: {enabled: true, path: "$2", config: "$3"}
trunks:
  - {name: pstn-in, ingress_cidrs: ["127.0.0.0/8"], default_egress: carrier-b}
  - {name: carrier-b, next_hop: "sip:127.0.0.1:9"}
YAML
}
# Runs the proxy to completion; sets rc and leaves stderr in $work/err.
run_proxy() {
  rc=0
  timeout 20 "$proxy" "$@" > "$work/out" 2> "$work/err" || rc=$?
}

write_config "$work/missing.yaml" "$work/no-such-lib.so" "$work/m.conf"
run_proxy --config "$work/missing.yaml"
check "missing library: exit 1" [ "$rc" = 1 ]
check "missing library: says it cannot be loaded" grep -q 'no-such-lib.so: cannot be loaded' "$work/err"

write_config "$work/abi2.yaml" "$abi2" "$work/m.conf"
run_proxy --config "$work/abi2.yaml"
check "ABI 2.0 module: exit 1" [ "$rc" = 1 ]
check "ABI 2.0 module: refused by version" grep -q 'ABI version 2.0 is incompatible; this host needs 1.0' "$work/err"

write_config "$work/noconf.yaml" "$good" "$work/absent-module.conf"
run_proxy --config "$work/noconf.yaml"
check "module open failure: exit 1" [ "$rc" = 1 ]
check "module open failure: module's own error is shown" \
  grep -q "module open failed (code -1): $work/absent-module.conf: first line must name the output directory" "$work/err"

printf 'listen: ["sip:127.0.0.1:%s"]\n' "$port" > "$work/bad.yaml"
run_proxy --config "$work/bad.yaml"
check "bad proxy config: exit 2" [ "$rc" = 2 ]
check "bad proxy config: names file, key and line" grep -q "$work/bad.yaml: trunks (line 1): required" "$work/err"

run_proxy --bogus
check "bad command line: exit 2" [ "$rc" = 2 ]

# --no-module: the broken module is never touched and the proxy serves.
"$proxy" --config "$work/missing.yaml" --no-module > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 100); do grep -q '^ready ' "$work/out" && break; sleep 0.05; done
check "--no-module: starts with module=off" grep -q '^ready listen=1 module=off$' "$work/out"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
check "--no-module: SIGINT shuts down cleanly" [ "$rc" = 0 ]
check "--no-module: statistics printed at exit" grep -q '^latency_us p50=0.000 .* count=0 module=off$' "$work/out"

echo "module load: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
