#!/usr/bin/env bash
# Measures saves of a large journal, alone and racing another writer (issue 9, "never lose another writer's edit").
#
# 1. Quiet saves: `tally tag -q '' --add TAG` on a copy of a generated journal, RACE_RUNS times, with the save log
#    (TALLY_LOG=tally=debug): wall time and peak RSS per run, and the check-to-rename window tally measured — the
#    only moment another program's write could still slip past the checks (a `stat` and a `rename`).
# 2. Racing saves: the same command while a shell appender adds RACE_APPENDS transactions with `>>`, the first
#    aimed at the save itself (as soon as tally's temp file holds the whole new text, so it lands while the temp file
#    is synced or checked: no test pause is used), the rest at random moments up to 0.5 s apart. Prints the attempts
#    tally logged ("changed while saving (attempt N)": re-read and re-applied), the window, bytes carried over, and
#    checks that every appended transaction is in the file exactly once and that the save either tagged every
#    transaction that was in the file before it or was refused whole (5 attempts) with nothing tagged.
#
# Environment: RACE_TXNS (default 1000000), RACE_RUNS (default 3), RACE_APPENDS (default 10), RACE_SEED (default
# 1), RACE_TIMEOUT seconds per tally run (default 300), RACE_DIR (default /tmp/tally-save-race: the generated
# journal is cached there; never commit it), RACE_SKIP_BUILD=1 to use the existing release binary.
set -euo pipefail

cd "$(dirname "$0")/.."
TXNS=${RACE_TXNS:-1000000}
RUNS=${RACE_RUNS:-3}
APPENDS=${RACE_APPENDS:-10}
SEED=${RACE_SEED:-1}
TIMEOUT=${RACE_TIMEOUT:-300}
DIR=${RACE_DIR:-/tmp/tally-save-race}
TALLY=${CARGO_TARGET_DIR:-target}/release/tally

if [ ! -x /usr/bin/time ]; then
    echo "save-race.sh needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
    exit 1
fi
if [ "${RACE_SKIP_BUILD:-0}" != 1 ]; then
    echo "building tally (release)..." >&2
    cargo build --release --quiet --bin tally
fi

SCRATCH=$(mktemp -d)
APPENDER=
cleanup() {
    if [ -n "$APPENDER" ]; then kill "$APPENDER" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
    rm -f "$DIR/work.journal"
}
trap cleanup EXIT
: >"$SCRATCH/config.toml"
export TALLY_CONFIG="$SCRATCH/config.toml" TALLY_DATA_DIR="$SCRATCH/data" NO_COLOR=1

mkdir -p "$DIR"
BASE="$DIR/generated-$TXNS-seed$SEED.journal"
if [ ! -s "$BASE" ]; then
    echo "generating $BASE..." >&2
    "$TALLY" generate --transactions "$TXNS" --seed "$SEED" -o "$BASE.tmp"
    mv "$BASE.tmp" "$BASE"
fi
WORK="$DIR/work.journal"

# save TAG: tags every transaction in $WORK with the save log on; sets FIGURES ("WALL s, RSS MB") and RC, and leaves
# the log in $SCRATCH/log and the output in $SCRATCH/out.
save() {
    RC=0
    TALLY_LOG=tally=debug /usr/bin/time -f '%e %M' -o "$SCRATCH/time" timeout "$TIMEOUT" \
        "$TALLY" tag -q '' --add "$1" -f "$WORK" >"$SCRATCH/out" 2>"$SCRATCH/log" || RC=$?
    local secs kb
    read -r secs kb < <(grep -v '^Command' "$SCRATCH/time")
    FIGURES="$secs s, $((kb / 1024)) MB"
}

window() { grep -o 'check-to-rename window [^,]*' "$SCRATCH/log" | sed 's/check-to-rename window //' | paste -sd' ' -; }

echo
echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(uname -sr); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Journal: $TXNS transactions, $(awk -v b="$(stat -c %s "$BASE")" 'BEGIN { printf "%.1f MB", b / 1e6 }'); $("$TALLY" --version)"
echo
echo "Quiet saves (tally tag -q '' --add TAG, every transaction changed):"
for i in $(seq 1 "$RUNS"); do
    cp "$BASE" "$WORK"
    save "quiet$i"
    if [ "$RC" -ne 0 ]; then
        echo "tally tag failed (exit $RC): $(tail -c 300 "$SCRATCH/log")" >&2
        exit 1
    fi
    echo "  run $i: $FIGURES; $(cat "$SCRATCH/out"); check-to-rename window $(window)"
done

# appender: the first append as soon as tally's temp file holds the new text (at least the journal's size), the
# others after random pauses of up to 0.5 s (seeded by RACE_SEED); gives up waiting when tally has exited.
appender() {
    local size name i=0
    size=$(stat -c %s "$WORK")
    name=$(basename "$WORK")
    RANDOM=$SEED
    while [ ! -f "$SCRATCH/done" ]; do
        for t in "$DIR"/."$name".tally-*.tmp; do
            if [ -f "$t" ] && [ "$(stat -c %s "$t" 2>/dev/null || echo 0)" -ge "$size" ]; then break 2; fi
        done
        sleep 0.01
    done
    while [ "$i" -lt "$APPENDS" ]; do
        printf '\n2025-01-01 appended race-%03d\n    a  1\n    b\n' "$i" >>"$WORK"
        i=$((i + 1))
        [ -f "$SCRATCH/done" ] || sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", r / 32768 * 0.5 }')"
    done
}

echo
echo "Racing saves ($APPENDS appends by another process, from the moment the save writes its temp file):"
for i in $(seq 1 "$RUNS"); do
    cp "$BASE" "$WORK"
    rm -f "$SCRATCH/done"
    appender &
    APPENDER=$!
    save "race$i"
    touch "$SCRATCH/done"
    wait "$APPENDER"
    APPENDER=
    attempts=$(grep -o 'attempt [0-9]*' "$SCRATCH/log" | paste -sd, - || true)
    carried=$(grep -o '[0-9]* bytes carried over' "$SCRATCH/log" | paste -sd' ' - || true)
    lost=0
    for a in $(seq 0 $((APPENDS - 1))); do
        n=$(grep -c "appended race-$(printf %03d "$a")" "$WORK" || true)
        [ "$n" -eq 1 ] || lost=$((lost + 1))
    done
    headers=$(grep -c '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] ' "$WORK" || true)
    tagged=$(grep -c "race$i:" "$WORK" || true)
    if [ "$RC" -eq 0 ]; then
        outcome="$(cat "$SCRATCH/out")"
    else
        outcome="refused (exit $RC): $(grep -o 'kept changing[^;]*\|no longer in[^;]*' "$SCRATCH/log" | head -1)"
    fi
    echo "  run $i: $FIGURES; $outcome; changed while saving: ${attempts:-never}; window $(window);" \
        "${carried:-0 bytes carried over}; appends missing or doubled: $lost of $APPENDS;" \
        "$headers transactions, $tagged tagged"
    if [ "$lost" -ne 0 ] || { [ "$RC" -eq 0 ] && [ "$tagged" -lt "$TXNS" ]; } || { [ "$RC" -ne 0 ] && [ "$tagged" -ne 0 ]; }; then
        echo "FAILED: an append was lost, or the save was neither complete nor refused whole" >&2
        exit 1
    fi
done
