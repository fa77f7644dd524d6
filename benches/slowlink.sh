#!/usr/bin/env bash
# The bots through a `tickwire netsim` link whose downstream bandwidth is below the snapshot
# stream's rate: how stale the snapshots they read are (input→snapshot latency), with the
# read probes' holding back (the default) and without it (`--read-probe-interval 0s
# --socket-notsent-lowat 0`, the server before it).
#
#   benches/slowlink.sh                       both runs, 20 s each
#   BANDWIDTH=1500 DURATION=30s benches/slowlink.sh
#
# Environment: BIN (default target/release/tickwire, built first), CLIENTS (default 10),
# DURATION (default 20s), BANDWIDTH (netsim's --down-bandwidth, default 1000 bytes/s), DELAY
# (each way, default 20ms), RUNS (default "without with"), WITH_FLAGS (added to the server's
# command line in the run with the probes, e.g. --read-probe-slack 0). The arena is 60 × 60 with everyone in view and 40 orbs, so each
# bot's stream is the other bots' movement: about 1.5 KB/s (framed) at 30 Hz with 10 bots.
#
# Every process started here is stopped on exit (trap), whatever the exit.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS="${CLIENTS:-10}"
DURATION="${DURATION:-20s}"
BANDWIDTH="${BANDWIDTH:-1000}"
DELAY="${DELAY:-20ms}"
BIN="${BIN:-}"
SCRIPT=slowlink.sh
# shellcheck source=benches/common.sh
source benches/common.sh

echo "| server | snapshots/s per bot (min) | input→snapshot p50 / p99 / max (ms), timed, lost | ping RTT p50 / max (ms) | bytes per bot per s | snapshots skipped | bots closed | replica errors |"
echo "| --- | --: | --: | --: | --: | --: | --: | --: |"
# latency: inputs older than the bots' ring of sent inputs when their snapshot comes are
# counted as lost, not timed.
for run in ${RUNS:-without with}; do
    flags="${WITH_FLAGS:-}"
    if [ "$run" = without ]; then
        flags="--read-probe-interval 0s --socket-notsent-lowat 0"
    fi
    # shellcheck disable=SC2086 # a list of flags
    "$BIN" --bind 127.0.0.1:0 --max-connections-per-ip 64 --world-size 60 --view-radius 60 \
        --orbs 40 $flags >"$work/server-$run" 2>"$work/server-$run.err" &
    pids+=($!)
    server="$(wait_line "$work/server-$run" 's#.*serving http://\([^/]*\)/.*#\1#p')"
    "$BIN" netsim --listen 127.0.0.1:0 --upstream "$server" --seed 1 --delay "$DELAY" \
        --down-bandwidth "$BANDWIDTH" >"$work/netsim-$run" 2>"$work/netsim-$run.err" &
    pids+=($!)
    target="$(wait_line "$work/netsim-$run" 's#^netsim: http://\([^/]*\)/.*#\1#p')"
    "$BIN" bots --url "ws://$target/ws" --metrics-url "http://$server/metrics" \
        --clients "$CLIENTS" --duration "$DURATION" --ramp-up 2s --json \
        >"$work/$run.json" 2>"$work/$run.err" || echo "slowlink.sh: $run: bots exited with $?" >&2
    jq -r --arg run "$run" '
        def f(n): . * pow(10; n) | round / pow(10; n) | tostring;
        [ (if $run == "with" then "read probes (default)" else "probes off, no lowat" end),
          "\(.snapshot_rate.mean | f(1)) (\(.snapshot_rate.min | f(1)))",
          "\(.latency_ms.p50 | f(1)) / \(.latency_ms.p99 | f(1)) / \(.latency_ms.max | f(1)), \(.latency_ms.count), \(.latency_lost)",
          "\(.rtt_ms.p50 | f(1)) / \(.rtt_ms.max | f(1))",
          (.bytes.per_client_per_s_framed | f(0)),
          (.server.snapshots_skipped | tostring),
          (.clients.disconnected | tostring),
          (.replica.apply_errors + .replica.own_missing + .replica.mismatches | tostring)
        ] | "| " + join(" | ") + " |"' "$work/$run.json"
    stop_all
done
