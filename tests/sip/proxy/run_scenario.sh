#!/usr/bin/env bash
# run_scenario.sh - run one SIPp caller/callee pair through callvault-proxy
# on free loopback ports and check the outcome.
#
# Usage:
#   run_scenario.sh [options] PAIR CALLS
#
# PAIR is a name from the table below, or "UAC.xml" / "UAC.xml:UAS.xml"
# (files in the scenarios directory).  Without a UAS nothing listens at the
# next hop, so the proxy's own answers (404, 483, 503 unreachable) are tested.
#
#   answered_caller_bye  uac_answered_caller_bye.xml  uas_answer.xml
#   answered_callee_bye  uac_answered_callee_bye.xml  uas_callee_bye.xml
#   early_media          uac_answered_caller_bye.xml  uas_early_media.xml
#   answer_no_ring       uac_answered_caller_bye.xml  uas_answer_no_ring.xml
#   cancel               uac_cancel.xml               uas_cancel.xml
#   busy                 uac_busy.xml                 uas_busy.xml
#   fail_503             uac_fail_503.xml             uas_fail_503.xml
#   no_answer            uac_no_answer.xml            uas_no_answer.xml
#   reinvite             uac_reinvite.xml             uas_reinvite.xml
#   timeout              uac_timeout.xml              uas_silent.xml
#   load                 uac_load.xml                 uas_load.xml
#   unroutable           uac_unroutable.xml           (none)
#   max_forwards         uac_max_forwards.xml         (none)
#   unreachable          uac_fail_503.xml             (none)
#   options_ping         uac_options_ping.xml         (none)
#   loop                 uac_loop.xml                 (none; use --next-hop-self)
#
# Options:
#   --proxy BIN           callvault-proxy binary (default: $CV_PROXY_BIN)
#   --scenarios DIR       scenario directory (default: <repo>/sipp-scenarios)
#   --inf CSV             caller;callee rows for -inf (default: numbers.csv there)
#   --extra-config FILE   YAML appended to the generated proxy config, e.g. a
#                         "module:" or "timers:" section (module-enabled tests)
#   --no-default-egress   pstn-in gets no default egress; only "+91" is routed
#   --ingress-cidr CIDR   ingress CIDR of pstn-in (default 127.0.0.0/8)
#   --next-hop-self       carrier-b's next hop is the proxy itself (a loop)
#   --callee-ip IP        loopback address of the callee / carrier-b's next
#                         hop (default 127.0.0.1); the caller scenario gets
#                         it with its port as [callee_hostport]
#   --caller-ip IP        loopback address of the caller (default 127.0.0.1)
#   --callee-gets-nothing the callee must receive no message at all (it is
#                         started, traced, and stopped after the caller)
#   --ipv6-caller         the caller and the proxy's caller side use [::1];
#                         the callee stays on 127.0.0.1 (double Record-Route)
#   --expect-failed N     caller calls expected to fail (default 0)
#   --rate R              calls per second (default 10)
#   --duration MS         hold time of uac_load.xml calls (sipp -d, default 200)
#   --check-usr1          after the calls, SIGUSR1 must print a latency_us line
#   --proxy-arg ARG       extra proxy argument (repeatable), e.g. --no-module
#   --work DIR            keep logs, generated config and stats in DIR
#   --timeout S           overall limit per SIPp process (default 120)
#
# Success (exit 0): the proxy starts; the caller ends with CALLS-N successful
# and N failed calls (N from --expect-failed); the callee, if any, completes
# CALLS calls; the proxy exits 0 on SIGTERM and its statistics file holds a
# latency_us line with a non-zero count.  The last line printed on success
# is the proxy's latency line.  Every process it starts is killed by PID on
# exit; nothing else is touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

proxy_bin="${CV_PROXY_BIN:-}"
scenarios="$repo/sipp-scenarios"
inf=""
extra_config=""
default_egress=1
ingress_cidr="127.0.0.0/8"
next_hop_self=0
ipv6_caller=0
callee_ip=127.0.0.1
caller_ip_opt=""
callee_gets_nothing=0
expect_failed=0
rate=10
duration=200
check_usr1=0
proxy_args=()
work=""
limit=120

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "run_scenario: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --proxy) proxy_bin="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --inf) inf="$2"; shift 2 ;;
    --extra-config) extra_config="$2"; shift 2 ;;
    --no-default-egress) default_egress=0; shift ;;
    --ingress-cidr) ingress_cidr="$2"; shift 2 ;;
    --next-hop-self) next_hop_self=1; shift ;;
    --ipv6-caller) ipv6_caller=1; shift ;;
    --callee-ip) callee_ip="$2"; shift 2 ;;
    --caller-ip) caller_ip_opt="$2"; shift 2 ;;
    --callee-gets-nothing) callee_gets_nothing=1; shift ;;
    --expect-failed) expect_failed="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --check-usr1) check_usr1=1; shift ;;
    --proxy-arg) proxy_args+=("$2"); shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --timeout) limit="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
pair="$1"
calls="$2"
[ -n "$proxy_bin" ] && [ -x "$proxy_bin" ] || die "proxy binary not set or not executable (--proxy / CV_PROXY_BIN)"
[ -n "$inf" ] || inf="$scenarios/numbers.csv"

case "$pair" in
  answered_caller_bye) uac=uac_answered_caller_bye.xml; uas=uas_answer.xml ;;
  answered_callee_bye) uac=uac_answered_callee_bye.xml; uas=uas_callee_bye.xml ;;
  early_media) uac=uac_answered_caller_bye.xml; uas=uas_early_media.xml ;;
  answer_no_ring) uac=uac_answered_caller_bye.xml; uas=uas_answer_no_ring.xml ;;
  cancel) uac=uac_cancel.xml; uas=uas_cancel.xml ;;
  busy) uac=uac_busy.xml; uas=uas_busy.xml ;;
  fail_503) uac=uac_fail_503.xml; uas=uas_fail_503.xml ;;
  no_answer) uac=uac_no_answer.xml; uas=uas_no_answer.xml ;;
  reinvite) uac=uac_reinvite.xml; uas=uas_reinvite.xml ;;
  timeout) uac=uac_timeout.xml; uas=uas_silent.xml ;;
  load) uac=uac_load.xml; uas=uas_load.xml ;;
  unroutable) uac=uac_unroutable.xml; uas="" ;;
  max_forwards) uac=uac_max_forwards.xml; uas="" ;;
  unreachable) uac=uac_fail_503.xml; uas="" ;;
  options_ping) uac=uac_options_ping.xml; uas="" ;;
  loop) uac=uac_loop.xml; uas="" ;;
  *.xml:*.xml) uac="${pair%%:*}"; uas="${pair#*:}" ;;
  *.xml) uac="$pair"; uas="" ;;
  *) die "unknown pair $pair" ;;
esac
[ -f "$scenarios/$uac" ] || die "missing scenario $uac"
[ -z "$uas" ] || [ -f "$scenarios/$uas" ] || die "missing scenario $uas"
[ -f "$inf" ] || die "missing injection file"

keep_work=1
if [ -z "$work" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/cv-proxy-e2e.XXXXXX")"
  keep_work=0
fi
mkdir -p "$work"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$keep_work" -eq 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# A port that is free for UDP and TCP now.  Three different ones are taken
# per run; a clash with a concurrent test is caught at bind time and retried.
used_ports=" "
pick_port() {
  local p
  for _ in $(seq 200); do
    p=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
    case "$used_ports" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Hlun "sport = :$p")" ] && [ -z "$(ss -Hltn "sport = :$p")" ]; then
      used_ports="$used_ports$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}

show_logs() {
  local f
  for f in "$work"/proxy.err "$work"/uac.err.log "$work"/uas.err.log "$work"/uac.out "$work"/uas.out; do
    [ -s "$f" ] || continue
    echo "---- $(basename "$f") (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}
fail() { echo "FAIL: $*" >&2; show_logs; exit 1; }

caller_ip="${caller_ip_opt:-127.0.0.1}"
proxy_caller_host=127.0.0.1
if [ "$ipv6_caller" -eq 1 ]; then
  caller_ip=::1
  proxy_caller_host="[::1]"
fi

start_proxy() {
  proxy_port="$(pick_port)" || return 1
  uas_port="$(pick_port)" || return 1
  uac_port="$(pick_port)" || return 1
  {
    echo "listen:"
    echo "  - \"sip:127.0.0.1:$proxy_port;transport=udp\""
    if [ "$ipv6_caller" -eq 1 ]; then echo "  - \"sip:[::1]:$proxy_port;transport=udp\""; fi
    echo "trunks:"
    echo "  - name: pstn-in"
    if [ "$ipv6_caller" -eq 1 ]; then
      echo "    ingress_cidrs: [\"$ingress_cidr\", \"::1/128\"]"
    else
      echo "    ingress_cidrs: [\"$ingress_cidr\"]"
    fi
    if [ "$default_egress" -eq 1 ]; then echo "    default_egress: carrier-b"; fi
    echo "  - name: carrier-b"
    if [ "$next_hop_self" -eq 1 ]; then
      echo "    next_hop: \"sip:127.0.0.1:$proxy_port\""
    else
      echo "    next_hop: \"sip:$callee_ip:$uas_port\""
    fi
    echo "routes:"
    echo "  - prefix: \"+91\""
    echo "    egress: carrier-b"
    echo "record_route: true"
    if [ -n "$extra_config" ]; then cat "$extra_config"; fi
  } > "$work/proxy.yaml"

  : > "$work/proxy.out"
  CV_PROXY_STATS_FILE="$work/proxy_stats.txt" \
    "$proxy_bin" --config "$work/proxy.yaml" "${proxy_args[@]}" \
    > "$work/proxy.out" 2> "$work/proxy.err" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  for _ in $(seq 100); do
    if grep -q '^ready ' "$work/proxy.out"; then return 0; fi
    kill -0 "$proxy_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

started=0
for attempt in 1 2 3; do
  if start_proxy; then started=1; break; fi
  kill -KILL "$proxy_pid" 2>/dev/null || true
  echo "run_scenario: proxy did not start (attempt $attempt)" >&2
done
[ "$started" -eq 1 ] || fail "proxy did not start"

sipp_common=(-nostdin -recv_timeout 15000 -timeout "${limit}s" -timeout_error)
uas_trace=()
if [ "$callee_gets_nothing" -eq 1 ]; then uas_trace=(-trace_msg); fi

uas_pid=""
if [ -n "$uas" ]; then
  ( cd "$work" && exec timeout "$((limit + 10))" sipp -sf "$scenarios/$uas" \
      -i "$callee_ip" -p "$uas_port" -m "$calls" "${sipp_common[@]}" "${uas_trace[@]}" \
      -trace_err -error_file "$work/uas.err.log" \
      -trace_stat -stf "$work/uas_stat.csv" -fd 1 > "$work/uas.out" 2>&1 ) &
  uas_pid=$!
  pids+=("$uas_pid")
  bound=0
  for _ in $(seq 100); do
    if [ -n "$(ss -Hlun "sport = :$uas_port")" ]; then bound=1; break; fi
    kill -0 "$uas_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ "$bound" -eq 1 ] || fail "callee SIPp did not bind its port"
fi

uac_rc=0
( cd "$work" && exec timeout "$((limit + 10))" sipp -sf "$scenarios/$uac" -inf "$inf" \
    "$proxy_caller_host:$proxy_port" -i "$caller_ip" -p "$uac_port" \
    -key callee_hostport "$callee_ip:$uas_port" \
    -m "$calls" -r "$rate" -l "$((calls < 100 ? calls : 100))" -d "$duration" "${sipp_common[@]}" \
    -trace_err -error_file "$work/uac.err.log" \
    -trace_stat -stf "$work/uac_stat.csv" -fd 1 > "$work/uac.out" 2>&1 ) || uac_rc=$?

# Reads a cumulative counter column from the last line of a -trace_stat file.
stat_column() {
  awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i }
                         END { if (c) print $c; else print "missing" }' "$1"
}
[ -s "$work/uac_stat.csv" ] || fail "caller wrote no statistics (exit $uac_rc)"
ok="$(stat_column "$work/uac_stat.csv" 'SuccessfulCall(C)')"
failed="$(stat_column "$work/uac_stat.csv" 'FailedCall(C)')"
expect_ok=$((calls - expect_failed))
[ "$ok" = "$expect_ok" ] || fail "caller: $ok successful calls, expected $expect_ok (exit $uac_rc)"
[ "$failed" = "$expect_failed" ] || fail "caller: $failed failed calls, expected $expect_failed"
if [ "$expect_failed" -eq 0 ] && [ "$uac_rc" -ne 0 ]; then fail "caller exited $uac_rc"; fi

if [ -n "$uas_pid" ] && [ "$callee_gets_nothing" -eq 1 ]; then
  # Anything relayed would have arrived by now; -trace_msg logs every
  # message the callee received.
  sleep 1
  kill -0 "$uas_pid" 2>/dev/null || fail "callee exited early"
  if cat "$work"/*_messages.log 2>/dev/null | grep -qE '^(INVITE|BYE|ACK|CANCEL|OPTIONS) '; then
    fail "the callee received a request the proxy should have refused"
  fi
elif [ -n "$uas_pid" ]; then
  uas_rc=0
  wait "$uas_pid" || uas_rc=$?
  [ -s "$work/uas_stat.csv" ] || fail "callee wrote no statistics (exit $uas_rc)"
  uas_ok="$(stat_column "$work/uas_stat.csv" 'SuccessfulCall(C)')"
  [ "$uas_ok" = "$calls" ] || fail "callee: $uas_ok successful calls, expected $calls (exit $uas_rc)"
  [ "$uas_rc" -eq 0 ] || fail "callee exited $uas_rc"
fi

kill -0 "$proxy_pid" 2>/dev/null || fail "proxy died during the calls"

if [ "$check_usr1" -eq 1 ]; then
  kill -USR1 "$proxy_pid"
  seen=0
  for _ in $(seq 60); do
    if grep -q '^latency_us p50=[0-9.]* p90=[0-9.]* p99=[0-9.]* p999=[0-9.]* max=[0-9.]* count=[1-9][0-9]* module=o[nf]*$' \
        "$work/proxy.out"; then seen=1; break; fi
    sleep 0.05
  done
  [ "$seen" -eq 1 ] || fail "no latency_us line on stdout after SIGUSR1"
  kill -0 "$proxy_pid" 2>/dev/null || fail "proxy died on SIGUSR1"
fi

kill -TERM "$proxy_pid"
proxy_rc=0
wait "$proxy_pid" || proxy_rc=$?
[ "$proxy_rc" -eq 0 ] || fail "proxy exited $proxy_rc on SIGTERM"
line="$(grep '^latency_us ' "$work/proxy_stats.txt" 2>/dev/null || true)"
case "$line" in
  *" count=0 "*|"") fail "no latency samples in the proxy statistics file" ;;
esac
if grep -qiE '([0-9]{1,3}\.){3}[0-9]{1,3}|sip:|call-id' "$work/proxy.err"; then
  fail "proxy log contains an address, URI or Call-ID"
fi
echo "run_scenario: $pair calls=$calls successful=$ok failed=$failed"
grep -v '^latency_us ' "$work/proxy_stats.txt" || true
echo "$line"
