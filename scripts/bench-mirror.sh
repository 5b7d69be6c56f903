#!/usr/bin/env bash
# The dashboard on a server mirror, as a person starts it: the Sure test server (examples/sure_server.rs) on
# loopback with 10,000 transactions, `tally --remote URL --dialect sure` in tmux with an empty cache (the first
# open), then again (a later open). Prints the time from start to the first frame with data, as tally logs it.
# Targets (issue 7): first open ≤ 300 ms, later open ≤ 200 ms.
# The rest of the targets (a keystroke on a 100,000-transaction mirror, 500 tags, pacing under a rate limit) are
# measured by `cargo test --release --test it mirror_perf -- --ignored --nocapture --test-threads 1`.
# Usage: scripts/bench-mirror.sh [TRANSACTIONS]   (env: PORT)
set -euo pipefail

N="${1:-10000}"
PORT="${PORT:-18917}"
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "bench-mirror: tmux is required" >&2; exit 1; }
cargo build --release --quiet --bin tally --example sure_server

work="$(mktemp -d)"
server_pid=""
cleanup() {
    tmux kill-session -t tally-bench 2>/dev/null || true
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/sure_server --port "$PORT" --transactions "$N" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "Ctrl-C" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
key="$(sed -n 's/^X-Api-Key (read_write): //p' "$work/server.log")"

open_once() {
    local label="$1"
    : >"$work/data/logs/tally.log" 2>/dev/null || mkdir -p "$work/data/logs"
    tmux new-session -d -s tally-bench -x 120 -y 34 \
        "TALLY_DATA_DIR=$work/data TALLY_CACHE_DIR=$work/cache TALLY_CONFIG=$work/none.toml TALLY_API_KEY=$key \
         target/release/tally --remote http://127.0.0.1:$PORT --dialect sure"
    for _ in $(seq 100); do
        grep -q "first frame with data" "$work/data/logs/tally.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 1
    tmux send-keys -t tally-bench q
    sleep 0.5
    tmux kill-session -t tally-bench 2>/dev/null || true
    printf '%-12s %s\n' "$label" "$(grep -o 'first frame with data after .*' "$work/data/logs/tally.log" | head -1)"
}

touch "$work/none.toml"
mkdir -p "$work/data/logs"
echo "Sure test server with $N transactions on 127.0.0.1:$PORT"
open_once "first open"
open_once "later open"
