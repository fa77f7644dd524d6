#!/usr/bin/env bash
# The bots through `tickwire netsim`, one condition after another, against one release
# server on a free loopback port; prints a table of how the input buffer, prediction and
# snapshots held up on each link.
#
#   benches/netsim.sh                    the four conditions below, 60 s each
#   DURATION=30s CLIENTS=10 benches/netsim.sh
#
# Conditions: loopback (no proxy); 50 ms each way; 50 ms ± 10 ms each way; 50 ms each way
# with 1 % of chunks stalled for netsim's default stall (200 ms). Each condition runs
# `tickwire bots --json` through its own netsim; the server's figures are read from its
# /metrics directly, not through the link.
#
# Environment: DURATION (per condition, default 60s), RAMP_UP (default 3s), CLIENTS (default
# 20), PATTERN (default random-walk), SEED (netsim's, default 1), CONDITIONS (a subset of
# "loopback delay jitter loss", default all), SERVER_FLAGS (added to the server's command
# line), OUT_DIR (where the JSON reports are kept; default: a temporary directory, removed),
# BIN (default target/release/tickwire, built first).
#
# Every process started here is stopped on exit (trap), whatever the exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-60s}"
RAMP_UP="${RAMP_UP:-3s}"
CLIENTS="${CLIENTS:-20}"
PATTERN="${PATTERN:-random-walk}"
SEED="${SEED:-1}"
CONDITIONS="${CONDITIONS:-loopback delay jitter loss}"
SERVER_FLAGS="${SERVER_FLAGS:-}"
OUT_DIR="${OUT_DIR:-}"
BIN="${BIN:-}"
SCRIPT=netsim.sh
# shellcheck source=benches/common.sh
source benches/common.sh

# A fresh server for the whole run; each condition's bots join a room of their own.
# shellcheck disable=SC2086 # SERVER_FLAGS is a list of flags
"$BIN" --bind 127.0.0.1:0 --max-connections-per-ip $((CLIENTS * 4 + 16)) $SERVER_FLAGS \
    >"$work/server" 2>"$work/server.err" &
pids+=($!)
server="$(wait_line "$work/server" 's#.*serving http://\([^/]*\)/.*#\1#p')"

# seconds DURATION: whole seconds of a duration such as 30s, 2m or 90 (seconds).
seconds() {
    case "$1" in
        *ms) echo 1 ;;
        *s) echo "${1%s}" ;;
        *m) echo $(( ${1%m} * 60 )) ;;
        *) echo "$1" ;;
    esac
}

# netsim_flags CONDITION: the link of each condition, both directions.
netsim_flags() {
    case "$1" in
        delay) echo "--delay 50ms" ;;
        jitter) echo "--delay 50ms --jitter 10ms" ;;
        loss) echo "--delay 50ms --loss 0.01" ;;
        *) echo "netsim.sh: unknown condition $1" >&2; return 1 ;;
    esac
}

for condition in $CONDITIONS; do
    target="$server"
    netsim_pid=""
    if [ "$condition" != loopback ]; then
        # shellcheck disable=SC2046 # the condition's flags
        "$BIN" netsim --listen 127.0.0.1:0 --upstream "$server" --seed "$SEED" \
            $(netsim_flags "$condition") >"$work/netsim-$condition" 2>"$work/netsim-$condition.err" &
        netsim_pid=$!
        pids+=("$netsim_pid")
        target="$(wait_line "$work/netsim-$condition" 's#^netsim: http://\([^/]*\)/.*#\1#p')"
    fi
    echo "netsim.sh: $condition, $CLIENTS bots for $DURATION through $target" >&2
    # A violated threshold (replica errors) still leaves a report to read.
    timeout "$(( $(seconds "$DURATION") + 60 ))" \
        "$BIN" bots --url "ws://$target/ws" --metrics-url "http://$server/metrics" \
        --clients "$CLIENTS" --duration "$DURATION" --ramp-up "$RAMP_UP" --pattern "$PATTERN" \
        --room "netsim-$condition" --label "$condition" --json \
        >"$work/$condition.json" 2>"$work/$condition.err" ||
        echo "netsim.sh: $condition: bots exited with $?" >&2
    if [ -n "$netsim_pid" ]; then
        kill "$netsim_pid" 2>/dev/null || true
        wait "$netsim_pid" 2>/dev/null || true
    fi
done

# One row per condition, from each report's JSON.
row() {
    jq -r --arg c "$1" '
        def f(n): . * pow(10; n) | round / pow(10; n) | tostring;
        def pct: . * 100 | f(2);
        def share(a; b): if b > 0 then a / b else 0 end;
        . as $r | .server as $s | .prediction as $p |
        [ $c,
          (share($s.input_starved_ticks; $s.input_active_ticks) | pct) + " %",
          (share($s.input_multi_ticks; $s.input_active_ticks) | pct) + " %",
          ($s.input_depth_mean | f(2)),
          (if $s.input_lead_ms_mean == null then "-" else ($s.input_lead_ms_mean | f(1)) end),
          ($s.inputs_dropped | to_entries | map("\(.key) \(.value)") | join(", ") | if . == "" then "0" else . end),
          "\($p.units.p50 | f(3)) / \($p.units.p99 | f(3)) / \($p.units.max | f(2))",
          ($p.over_tenth_share | pct) + " %",
          ($p.over_one_share | pct) + " %",
          ($r.rtt_ms.p50 | f(1)),
          "\($r.latency_ms.p50 | f(1)) / \($r.latency_ms.p99 | f(1))",
          "\($r.snapshot_rate.mean | f(1)) (min \($r.snapshot_rate.min | f(1)))",
          ($r.replica.apply_errors + $r.replica.own_missing + $r.replica.mismatches | tostring),
          ($r.clients.disconnected | tostring),
          ($s.overruns | tostring)
        ] | "| " + join(" | ") + " |"' "$work/$1.json"
}

echo
echo "$CLIENTS bots ($PATTERN), $DURATION each (ramp-up $RAMP_UP), netsim seed $SEED, $(nproc) cores, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo
echo "| link | starved ticks while active | multi-input ticks | mean buffer depth | mean input lead (ms) | inputs dropped | correction p50 / p99 / max (units) | > 0.1 unit | > 1 unit | RTT p50 (ms) | input→snapshot p50 / p99 (ms) | snapshots/s | replica errors | disconnects | tick overruns |"
echo "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
for condition in $CONDITIONS; do
    if [ -s "$work/$condition.json" ]; then
        row "$condition"
    else
        echo "| $condition | no report: $(tail -n 1 "$work/$condition.err" 2>/dev/null) |"
    fi
done
if [ -n "$OUT_DIR" ]; then
    mkdir -p "$OUT_DIR"
    cp "$work"/*.json "$OUT_DIR/"
fi
