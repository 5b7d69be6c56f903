#!/usr/bin/env bash
# Issue 10: `tally serve` keeps answering reads while a save is in progress. On a generated journal (1,000,000
# transactions by default), bulk-tags of 5,000 transactions are saved back to back (tag added, then removed, …) while
# wrk measures GET /api/v1/transactions?limit=50; prints each save's time and wrk's latency distribution.
# Target: p99 ≤ 50 ms during the saves.
# Usage: scripts/bench-serve-save.sh [TRANSACTIONS | JOURNAL]   (env: PORT, DURATION, CONNECTIONS, TALLY)
set -euo pipefail

ARG="${1:-1000000}"
PORT="${PORT:-18081}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
cd "$(dirname "$0")/.."

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "bench-serve-save: $tool is required" >&2; exit 1; }
done
if [[ -z "${TALLY:-}" ]]; then
    cargo build --release --quiet
    TALLY=target/release/tally
fi

work="$(mktemp -d)"
server_pid=""
saver_pid=""
cleanup() {
    [[ -n "$saver_pid" ]] && kill "$saver_pid" 2>/dev/null || true
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" && wait "$server_pid" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

journal="$work/bench.journal"
if [[ -f "$ARG" ]]; then
    cp "$ARG" "$journal"
else
    "$TALLY" generate --transactions "$ARG" --output "$journal"
fi
key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
url="http://127.0.0.1:$PORT"
auth=(-H "Authorization: Bearer $key")

TALLY_SERVE_KEYS="$key" "$TALLY" serve -f "$journal" --bind "127.0.0.1:$PORT" --requests-per-minute 0 \
    --no-access-log 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 600); do
    curl -sf "$url/api/v1/openapi.json" -o /dev/null && break
    sleep 0.1
done
curl -sf "$url/api/v1/openapi.json" -o /dev/null || { cat "$work/serve.log" >&2; exit 1; }
curl -sf "${auth[@]}" "$url/api/v1/transactions?limit=50" -o /dev/null

# 5,000 ids, and the two bodies that tag and untag them.
"$TALLY" -f "$journal" transactions -q 'status:!' --limit 5000 --format json >"$work/txns.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
ids = [t["id"] for t in json.load(open(f"{work}/txns.json"))][:5000]
json.dump({"ids": ids, "add": ["benchsave"]}, open(f"{work}/add.json", "w"))
json.dump({"ids": ids, "remove": ["benchsave"]}, open(f"{work}/remove.json", "w"))
print(f"{len(ids)} ids")
PY

echo "== tally serve on $(wc -c <"$journal") bytes, $(nproc) cores: bulk-tags of 5,000 saved back to back"
(
    n=0
    while true; do
        body=add
        (( n % 2 )) && body=remove
        t0=$(date +%s%3N)
        code=$(curl -s -o "$work/bulk.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
            --data-binary "@$work/$body.json" "$url/api/v1/transactions/bulk-tag")
        echo "  save $n ($body): HTTP $code in $(( $(date +%s%3N) - t0 )) ms $(head -c 80 "$work/bulk.out")"
        n=$((n + 1))
    done
) &
saver_pid=$!
sleep 1
echo "== wrk -t2 -c$CONNECTIONS -d$DURATION GET /api/v1/transactions?limit=50 during the saves"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "$url/api/v1/transactions?limit=50" | tee "$work/wrk.txt"
kill "$saver_pid" 2>/dev/null || true
wait "$saver_pid" 2>/dev/null || true
saver_pid=""
if grep -q "Non-2xx" "$work/wrk.txt"; then
    echo "bench-serve-save: some answers were errors; the figures above are not valid" >&2
    exit 1
fi
