#!/usr/bin/env bash
# Fuzz soaks, one target at a time, on one thread at nice 19, with peak memory from
# /usr/bin/time -v:
#   midi        the MIDI reader (and, every 100th input, the tokenizers): mutants of the bundled
#               files (examples/midi_fuzz.rs)
#   parser      the command parser, completion and highlighting: mutated command lines
#   session     the session reader: mutated session files
#   checkpoint  the checkpoint loader: mutated checkpoint folders (examples/input_fuzz.rs)
#
#   scripts/fuzz.sh [TARGET] [INPUTS] [SEED]   # defaults: midi 1000000 1
#   scripts/fuzz.sh parser 1000000; scripts/fuzz.sh session 100000; scripts/fuzz.sh checkpoint 100000
#
# Prints the example's summary (one JSON line: inputs, panics, inputs over 1 s of CPU time,
# failed checks or silent losses...) and the peak RSS. Inputs that fail are saved under
# $CARGO_TARGET_DIR/fuzz-findings (or target/): keep them as regression cases
# (tests/fixtures/midi/ for MIDI files, `regressions_stay_fixed` in tests/input_fuzz.rs for the
# others). Exits non-zero when there is any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-midi}
inputs=${2:-1000000}
seed=${3:-1}
target=${CARGO_TARGET_DIR:-target}
findings="$target/fuzz-findings"
case "$what" in
  midi) example=midi_fuzz; extra=() ;;
  parser|session|checkpoint) example=input_fuzz; extra=(--target "$what") ;;
  *) echo "fuzz.sh: TARGET is midi, parser, session or checkpoint, not $what" >&2; exit 2 ;;
esac
cargo build --quiet --example "$example"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
RAYON_NUM_THREADS=1 nice -n 19 /usr/bin/time -v \
    "$target/debug/examples/$example" "${extra[@]}" --inputs "$inputs" --seed "$seed" \
    --findings "$findings" 2>"$log" || status=$?
grep -v '^\s' "$log" | grep -v '^Command' || true
grep -E 'Maximum resident|Elapsed \(wall' "$log" | sed 's/^\s*//'
exit "$status"
