#!/usr/bin/env bash
# Benchmarks tally against hledger and ledger on generated journals (100k and 1M transactions by default) and prints
# a Markdown table of wall time and peak RSS, ready for the README. Each peer is skipped with a note when it is not
# installed, fails, or takes longer than the timeout. Also times a bulk tag (`tally tag -q 'payee:Netflix' --add
# subscription`) on a copy of the largest journal, so the original stays reusable between runs.
#
# Environment: BENCH_SIZES (default "100000 1000000"), BENCH_TIMEOUT seconds per command (default 120),
# BENCH_SEED (default 1), BENCH_SKIP_BUILD=1 to use the existing target/release/tally. Journals are cached in bench-data/ (gitignored); delete it to regenerate.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${BENCH_SIZES:-"100000 1000000"}
TIMEOUT=${BENCH_TIMEOUT:-120}
SEED=${BENCH_SEED:-1}
DATA=bench-data
TALLY=target/release/tally

if [ ! -x /usr/bin/time ]; then
    echo "bench.sh needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
    exit 1
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "building tally (release)..." >&2
    cargo build --release --quiet --bin tally
fi

# tally must not read the user's config or data directory while being measured.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
: >"$SCRATCH/config.toml"
export TALLY_CONFIG="$SCRATCH/config.toml" TALLY_DATA_DIR="$SCRATCH/data"

mkdir -p "$DATA"
for n in $SIZES; do
    f="$DATA/generated-$n-seed$SEED.journal"
    if [ ! -s "$f" ]; then
        echo "generating $f..." >&2
        "$TALLY" generate --transactions "$n" --seed "$SEED" -o "$f.tmp"
        mv "$f.tmp" "$f"
    fi
done

# measure CMD...: runs CMD under the timeout; sets RESULT to "SECONDS s | MB MB" or a reason it has no numbers,
# and leaves CMD's stdout in $SCRATCH/out.
measure() {
    local rc=0
    /usr/bin/time -f '%e %M' -o "$SCRATCH/time" timeout "$TIMEOUT" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
    if [ "$rc" -eq 124 ]; then
        RESULT="timeout (> ${TIMEOUT} s) | –"
    elif [ "$rc" -ne 0 ]; then
        RESULT="failed (exit $rc: $(grep -v '^Command exited' "$SCRATCH/err" | head -c 80 | tr '\n|' '  ')) | –"
    else
        local secs kb
        read -r secs kb <"$SCRATCH/time"
        RESULT="$secs s | $((kb / 1024)) MB"
    fi
}

have() { command -v "$1" >/dev/null 2>&1; }

echo
echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(uname -sr)"
echo "Versions: $("$TALLY" --version); $(have hledger && hledger --version | head -1 || echo 'hledger missing'); $(have ledger && ledger --version | head -1 || echo 'ledger missing')"
echo
echo "| journal | size | command | wall time | peak RSS |"
echo "|---|---|---|---|---|"
for n in $SIZES; do
    f="$DATA/generated-$n-seed$SEED.journal"
    size="$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
    measure "$TALLY" balances -f "$f" --format json
    echo "| $n txns | $size | \`tally balances --format json\` | $RESULT |"
    if have hledger; then
        measure hledger -f "$f" bal --flat -N
        echo "| $n txns | $size | \`hledger bal --flat -N\` | $RESULT |"
    else
        echo "| $n txns | $size | \`hledger bal --flat -N\` | not installed | – |"
    fi
    if have ledger; then
        measure ledger -f "$f" bal --flat
        echo "| $n txns | $size | \`ledger bal --flat\` | $RESULT |"
    else
        echo "| $n txns | $size | \`ledger bal --flat\` | not installed | – |"
    fi
done

largest=$(printf '%s\n' $SIZES | sort -n | tail -1)
copy="$DATA/tag-copy-$largest.journal"
cp "$DATA/generated-$largest-seed$SEED.journal" "$copy"
measure "$TALLY" tag -f "$copy" -q 'payee:Netflix' --add subscription
matched=$(grep -Eo '[0-9]+' "$SCRATCH/out" | head -1 || true)
echo "| $largest txns | copy | \`tally tag -q 'payee:Netflix' --add subscription\` (${matched:-?} changed) | $RESULT |"
rm -f "$copy"
