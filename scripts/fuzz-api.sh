#!/usr/bin/env bash
# Fuzzes `tally serve` against its own OpenAPI document with schemathesis (from PyPI, installed into a venv under
# target/): a temp copy of the conformance fixture is served on loopback with a fresh key, and every operation is
# exercised with generated valid and invalid data. The run fails on any 5xx, any status code, content type, header
# or body the document does not allow, any invalid input the server accepts, and any endpoint that works without a
# key. Usage: scripts/fuzz-api.sh [MAX_EXAMPLES]   (env: PORT, TALLY, SCHEMATHESIS_VERSION, SEED)
set -euo pipefail

EXAMPLES="${1:-60}"
PORT="${PORT:-18090}"
SEED="${SEED:-4}"
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
cd "$(dirname "$0")/.."
root="$PWD"

venv="$root/target/fuzz-venv"
if [[ ! -x "$venv/bin/schemathesis" ]] || ! "$venv/bin/schemathesis" --version | grep -q "$VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$VERSION"
fi
if [[ -z "${TALLY:-}" ]]; then
    cargo build --release --quiet
    TALLY="$root/target/release/tally"
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

cp tests/fixtures/conformance.journal "$work/ledger.journal"
key="fuzz-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
url="http://127.0.0.1:$PORT"
TALLY_SERVE_KEYS="$key" "$TALLY" serve -f "$work/ledger.journal" --bind "127.0.0.1:$PORT" \
    --requests-per-minute 0 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 200); do
    curl -sf "$url/api/v1/openapi.json" -o /dev/null && break
    sleep 0.05
done

# Point path parameters at things that exist, so the fuzzer reaches the edit logic instead of 404s: a real
# transaction id, a real tag, the ledger file as the source.
txn_id="$(curl -sf -H "Authorization: Bearer $key" "$url/api/v1/transactions?limit=1&q=acct:groceries" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')"
cat >"$work/schemathesis.toml" <<TOML
[parameters]
"path.provider" = "ledger.journal"

[[operations]]
include-path = "/api/v1/transactions/{id}"
parameters = { "path.id" = "$txn_id" }

[[operations]]
include-path = "/api/v1/tags/{id}"
parameters = { "path.id" = "work" }
TOML

status=0
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$url/api/v1/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --no-color || status=$?

if grep -qi "panicked" "$work/serve.log"; then
    echo "fuzz-api: the server panicked:" >&2
    grep -i -A3 "panicked" "$work/serve.log" >&2
    status=1
fi
# The ledger the fuzzer edited must still be a journal hledger accepts.
if command -v hledger >/dev/null && ! hledger -f "$work/ledger.journal" check >/dev/null; then
    echo "fuzz-api: the fuzzed ledger no longer passes hledger check" >&2
    status=1
fi
exit "$status"
