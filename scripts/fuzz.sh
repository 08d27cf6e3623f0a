#!/usr/bin/env bash
# Fuzz soak of the MIDI reader (and, every 100th input, the tokenizers): mutants of the bundled
# files read one at a time, on one thread at nice 19, with peak memory from /usr/bin/time -v.
#
#   scripts/fuzz.sh [INPUTS] [SEED]        # defaults: 1000000 inputs, seed 1
#
# Prints the example's summary (inputs, panics, inputs over 1 s, silent losses...) and the peak
# RSS. Inputs that fail are saved under $CARGO_TARGET_DIR/fuzz-findings (or target/): copy them
# into tests/fixtures/midi/ so `cargo test --test midi_io` keeps them as regression cases.
# Exits non-zero when there is any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=${1:-1000000}
seed=${2:-1}
target=${CARGO_TARGET_DIR:-target}
findings="$target/fuzz-findings"
cargo build --quiet --example midi_fuzz
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
RAYON_NUM_THREADS=1 nice -n 19 /usr/bin/time -v \
    "$target/debug/examples/midi_fuzz" --inputs "$inputs" --seed "$seed" --findings "$findings" \
    2>"$log" || status=$?
grep -v '^\s' "$log" | grep -v '^Command' || true
grep -E 'Maximum resident|Elapsed \(wall' "$log" | sed 's/^\s*//'
exit "$status"
