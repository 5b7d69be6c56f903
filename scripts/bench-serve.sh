#!/usr/bin/env bash
# Benchmarks `tally serve` over loopback on a generated journal (100,000 transactions by default):
#   1. throughput and latency of GET /api/v1/transactions?limit=50 with wrk (16 connections, a valid key);
#   2. the REST client's first page (`tally transactions --limit 50` on a rest profile, process start included);
#   3. the REST client loading every transaction (`tally transactions --format csv` on that profile).
# Targets (issue 4): ≥ 5,000 requests/s with p99 ≤ 20 ms; first page ≤ 150 ms; all transactions ≤ 2 s.
# Usage: scripts/bench-serve.sh [TRANSACTIONS]   (env: PORT, DURATION, CONNECTIONS, THREADS, TALLY)
set -euo pipefail

N="${1:-100000}"
PORT="${PORT:-18080}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
cd "$(dirname "$0")/.."

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "bench-serve: $tool is required" >&2; exit 1; }
done
if [[ -z "${TALLY:-}" ]]; then
    cargo build --release --quiet
    TALLY=target/release/tally
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" && wait "$server_pid" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

journal="$work/bench.journal"
"$TALLY" generate --transactions "$N" --output "$journal"
key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
url="http://127.0.0.1:$PORT"

TALLY_SERVE_KEYS="$key" "$TALLY" serve -f "$journal" --bind "127.0.0.1:$PORT" --requests-per-minute 0 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 200); do
    curl -sf "$url/api/v1/openapi.json" -o /dev/null && break
    sleep 0.05
done
curl -sf "$url/api/v1/openapi.json" -o /dev/null || { cat "$work/serve.log" >&2; exit 1; }

echo "== tally serve on $N transactions ($(wc -c <"$journal") bytes), $(nproc) cores"
# Warm the server (first listing builds the match set).
curl -sf -H "Authorization: Bearer $key" "$url/api/v1/transactions?limit=50" -o /dev/null

echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION GET /api/v1/transactions?limit=50"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -H "Authorization: Bearer $key" "$url/api/v1/transactions?limit=50" | tee "$work/wrk.txt"
if grep -q "Non-2xx" "$work/wrk.txt"; then
    echo "bench-serve: some answers were errors; the figures above are not valid" >&2
    exit 1
fi

echo "== wrk GET /api/v1/transactions?limit=50&page=1000 (deep page)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s --latency \
    -H "Authorization: Bearer $key" "$url/api/v1/transactions?limit=50&page=1000" | grep -E "Requests/sec|99%"

export TALLY_API_KEY="$key"
# A profile without a client-side budget: a full load of 100,000 transactions is 500 requests of 200, more than a
# budget meant for third-party servers (100 a minute) allows.
cat >"$work/config.toml" <<TOML
[profiles.bench]
backend = "rest"
url = "$url"
requests_per_minute = 0
TOML
remote=(--config "$work/config.toml" --profile bench)
now_ms() { date +%s%3N; }
echo "== REST client: first page (50 transactions, process start included), 5 runs"
for _ in 1 2 3 4 5; do
    t0=$(now_ms)
    "$TALLY" "${remote[@]}" transactions --limit 50 --format json >/dev/null
    echo "  $(( $(now_ms) - t0 )) ms"
done
echo "== REST client: every transaction (csv), 3 runs"
for _ in 1 2 3; do
    t0=$(now_ms)
    rows=$("$TALLY" "${remote[@]}" transactions --format csv | wc -l)
    echo "  $(( $(now_ms) - t0 )) ms for $((rows - 1)) rows"
done
