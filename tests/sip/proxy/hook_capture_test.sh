#!/usr/bin/env bash
# hook_capture_test.sh - checks what callvault-proxy hands to a module.
#
# Usage: hook_capture_test.sh RUN_SCENARIO PROXY_BIN RECORDING_MODULE_SO
#
# Runs two answered calls through the proxy with the recording test module
# loaded (recording_module.cpp), then checks the recorded hook calls:
# the exact received bytes (the caller's Via keeps its bare ";rport" even
# though nta filled in rport= before the proxy saw the request), the sent
# bytes (Record-Route, decremented Max-Forwards, nta's Via), direction,
# addresses, trunk names and the proxy's hook counters.
set -euo pipefail
run="$1"
proxy="$2"
module="$3"

work="$(mktemp -d "${TMPDIR:-/tmp}/cv-hook-capture.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rec"
echo "$work/rec" > "$work/module.conf"
cat > "$work/extra.yaml" <<EOF
module:
  enabled: true
  path: $module
  config: $work/module.conf
EOF

"$run" --proxy "$proxy" --extra-config "$work/extra.yaml" --work "$work/run" \
  answered_caller_bye 2 > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }

passed=0
failures=0
check() {  # description, command...
  local what="$1"; shift
  if "$@"; then
    echo "ok: $what"; passed=$((passed + 1))
  else
    echo "FAIL: $what"; failures=$((failures + 1))
  fi
}

idx="$work/rec/index.txt"
proxy_port="$(grep -o -m1 'sip:127.0.0.1:[0-9]*;transport' "$work/run/proxy.yaml" | grep -o ':[0-9]*;' | tr -d ':;')"
uas_port="$(grep -o 'next_hop: "sip:127.0.0.1:[0-9]*' "$work/run/proxy.yaml" | grep -o '[0-9]*$')"

first_line() { head -n 1 "$work/rec/$1.sip" | tr -d '\r'; }
# Message numbers whose direction is $1 and whose start line begins with $2.
messages() {
  local n dir
  while read -r n dir _; do
    [ "$dir" = "$1" ] || continue
    case "$(first_line "$n")" in "$2"*) echo "$n" ;; esac
  done < "$idx"
}
count() { messages "$1" "$2" | wc -l | tr -d ' '; }

check "2 INVITEs received" [ "$(count r 'INVITE ')" = 2 ]
check "2 INVITEs sent" [ "$(count s 'INVITE ')" = 2 ]
check "2 BYEs received and 2 sent" [ "$(count r 'BYE ')" = 2 ] && [ "$(count s 'BYE ')" = 2 ]
check "2 ACKs received and 2 sent" [ "$(count r 'ACK ')" = 2 ] && [ "$(count s 'ACK ')" = 2 ]
check "100 Trying sent for each INVITE" [ "$(count s 'SIP/2.0 100')" = 2 ]
check "180 relayed" [ "$(count r 'SIP/2.0 180')" -ge 2 ] && [ "$(count s 'SIP/2.0 180')" -ge 2 ]

rin="$(messages r 'INVITE ' | sed -n 1p)"
sin="$(messages s 'INVITE ' | sed -n 1p)"
rin_file="$work/rec/$rin.sip"
sin_file="$work/rec/$sin.sip"

# Received bytes are the caller's, untouched by nta's Via edit.
check "received INVITE keeps the bare rport" grep -q ';rport;branch=z9hG4bK-' "$rin_file"
check "received INVITE has no rport value" bash -c "! grep -q 'rport=' '$rin_file'"
check "received INVITE has no Record-Route yet" bash -c "! grep -q '^Record-Route' '$rin_file'"
body_len() {  # bytes after the first blank line (CRLF CRLF)
  local total head
  total="$(wc -c < "$1")"
  head="$(LC_ALL=C awk 'BEGIN { RS = "\r\n\r\n" } NR == 1 { print length($0) + 4; exit }' "$1")"
  echo $((total - head))
}
declared_len() { grep -a '^Content-Length:' "$1" | tr -dc '0-9'; }
check "received INVITE is complete (body matches Content-Length)" \
  [ "$(body_len "$rin_file")" = "$(declared_len "$rin_file")" ]

# Sent bytes are what went on the wire to the callee.
check "sent INVITE is record-routed" grep -q "^Record-Route: <sip:127.0.0.1:$proxy_port;lr>" "$sin_file"
check "sent INVITE has Max-Forwards 69" grep -q '^Max-Forwards: 69' "$sin_file"
check "sent INVITE carries the caller Via with nta's rport value" grep -q ';rport=[0-9]*;branch=z9hG4bK-' "$sin_file"
check "sent INVITE has the proxy's Via on top" \
  bash -c "grep -a -m1 '^Via:' '$sin_file' | grep -q 'SIP/2.0/UDP 127.0.0.1:$proxy_port'"
check "sent INVITE is complete" [ "$(body_len "$sin_file")" = "$(declared_len "$sin_file")" ]

meta() { awk -v n="$1" '$1 == n' "$idx"; }
read -r _ dir transport sfam sport dfam dport ingress egress len <<< "$(meta "$rin")"
check "received INVITE meta: UDP from the caller to the proxy" \
  [ "$dir $transport $sfam $dfam $dport" = "r 0 4 4 $proxy_port" ]
check "received INVITE meta: trunks pstn-in -> carrier-b" [ "$ingress $egress" = "pstn-in carrier-b" ]
check "received INVITE meta: length" [ "$len" = "$(wc -c < "$rin_file")" ]
read -r _ dir transport sfam sport dfam dport ingress egress len <<< "$(meta "$sin")"
check "sent INVITE meta: from the proxy to the callee" \
  [ "$dir $transport $sfam $sport $dfam $dport" = "s 0 4 $proxy_port 4 $uas_port" ]
check "sent INVITE meta: trunks pstn-in -> carrier-b" [ "$ingress $egress" = "pstn-in carrier-b" ]

stats="$work/run/proxy_stats.txt"
check "module saw well-formed meta" grep -q '^module_stat recording.bad_meta=0$' "$stats"
check "no hook message lost or re-encoded" \
  grep -q '^hook_counters calls=[1-9][0-9]* dropped_full=0 dropped_too_large=0 errors=0 bytes_unavailable=0 reencoded=0$' "$stats"
check "every hook call was recorded" \
  [ "$(grep -o 'recording.messages=[0-9]*' "$stats" | cut -d= -f2)" = "$(wc -l < "$idx" | tr -d ' ')" ]
check "latency line says module=on" grep -q '^latency_us .* module=on$' "$stats"

echo "hook capture: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
