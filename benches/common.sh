# Sourced by the bench scripts that run a server and its bots through `tickwire netsim`
# (netsim.sh, slowlink.sh): the binary, a work directory, the processes started (all stopped
# on exit, whatever the exit), and waiting for a line in a process's output.
#
# Expects: the script's name in SCRIPT, BIN (empty: build the release binary), and
# `set -euo pipefail`.

if [ -z "$BIN" ]; then
    CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" cargo build --release --quiet
    BIN=target/release/tickwire
fi
work="$(mktemp -d)"
pids=()
stop_all() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

# wait_line FILE SED_EXPR: prints the first match of SED_EXPR in FILE within 10 s, or fails
# showing what FILE and FILE.err hold.
wait_line() {
    local file="$1" expr="$2" found=""
    for _ in $(seq 1 100); do
        found="$(sed -n "$expr" "$file" | head -n 1)"
        if [ -n "$found" ]; then
            echo "$found"
            return 0
        fi
        sleep 0.1
    done
    echo "$SCRIPT: nothing in $file within 10 s:" >&2
    cat "$file" "$file.err" >&2 2>/dev/null || true
    return 1
}
