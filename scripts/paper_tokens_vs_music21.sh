#!/usr/bin/env bash
# How often the `paper` tokenizer gives exactly music21's tokens (the seed paper's pipeline), per
# collection: runs peers/music21_tokenize.py on each subfolder of DIR (or on DIR itself when it has
# no subfolders with MIDI files), keeps its JSON lines, and compares them with
# `improv corpus music21`. music21 is slow (1-7 files/s), so the peer's output is kept in OUT and
# reused when it is already there.
#   usage: scripts/paper_tokens_vs_music21.sh DIR [OUT]
# PYTHON: the Python with music21 (default /tmp/m21/bin/python; make it with
#   python3 -m venv /tmp/m21 && /tmp/m21/bin/pip install music21)
# IMPROV: the improv binary (default: cargo run --release --quiet --)
# SHOW=N: also print N differing files per collection, each from its first differing token.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 DIR [OUT]" >&2
    exit 2
fi
dir="$(cd "$1" && pwd)"
out="${2:-${TMPDIR:-/tmp}/paper_tokens_vs_music21}"
python="${PYTHON:-/tmp/m21/bin/python}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
peer="$repo/peers/music21_tokenize.py"
read -r -a improv <<<"${IMPROV:-cargo run --release --quiet --manifest-path $repo/Cargo.toml --}"
"$python" -c 'import music21' 2>/dev/null || {
    echo "paper_tokens_vs_music21.sh: $python has no music21 (see the usage above)" >&2
    exit 1
}
mkdir -p "$out"
shopt -s nullglob
collections=()
for sub in "$dir"/*/; do
    if [ -n "$(find "$sub" \( -iname '*.mid' -o -iname '*.midi' \) -print -quit)" ]; then
        collections+=("${sub%/}")
    fi
done
[ ${#collections[@]} -gt 0 ] || collections=("$dir")
for c in "${collections[@]}"; do
    name="$(basename "$c")"
    ref="$out/$name.jsonl"
    if [ ! -s "$ref" ]; then
        # The peer is the slow part; nice keeps it from crowding out other work.
        nice -n 10 "$python" "$peer" "$c" >"$ref.part"
        mv "$ref.part" "$ref"
    fi
    "${improv[@]}" corpus music21 "$ref" --dir "$c" --show "${SHOW:-0}"
done
