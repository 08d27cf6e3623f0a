#!/usr/bin/env bash
# Fault injection (issue #13): a full disk under session, checkpoint and recording writes, and
# kill -9 at random points of the save paths. One JSON line a case; exits non-zero when a case
# loses data or fails silently. Needs root for the small tmpfs that plays the full disk (CI and
# the dev container run as root).
#
#   scripts/faults.sh [KILLS]        # default 40 kills
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-40}
cargo build --quiet
bin="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/improv"
model="$(pwd)/models/vae-lstm-small"
work=$(mktemp -d)
full="$work/full"
cleanup() { umount "$full" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$full"
mount -t tmpfs -o size=512k tmpfs "$full"
fail=0
say() { echo "$1"; }
repl() { IMPROV_HOME="$1" "$bin" repl 2>&1; }
fill() { dd if=/dev/zero of="$full/filler" bs=4k 2>/dev/null || true; }

# 1. A full disk under `session save`: one clear error, the saved session as it was.
home="$full/home"
mkdir -p "$home"
printf 'tempo 97\nsession save keep\n' | repl "$home" >/dev/null
fill
out=$(printf 'tempo 150\nsession save keep\n' | repl "$home" || true)
kept=$(grep -c '^tempo = 97.0' "$home/sessions/keep.toml" || true)
said=$(echo "$out" | grep -c 'No space left on device' || true)
ok=$([ "$kept" = 1 ] && [ "$said" -ge 1 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
say "{\"case\":\"full disk: session save\",\"error_said\":$said,\"old_session_kept\":$kept,\"ok\":$ok}"
rm -f "$full/filler"

# 2. A full disk under `model save`: one clear error, nothing half-written left.
fill
out=$(printf 'model load %s\nmodel save %s\n' "$model" "$full/m" | repl "$work/home2" || true)
said=$(echo "$out" | grep -c 'No space left on device' || true)
left=$(find "$full" -mindepth 1 -maxdepth 1 ! -name filler ! -name home | wc -l)
ok=$([ "$said" -ge 1 ] && [ "$left" = 0 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
say "{\"case\":\"full disk: model save\",\"error_said\":$said,\"left_behind\":$left,\"ok\":$ok}"
rm -f "$full/filler"

# 3. A full disk under a recording: said while playing, and what was journaled is recovered
#    at the next start once there is room.
home="$work/home3"
fill
out=$(printf 'model load %s\nrecord start %s\nplay\nwait bars 4\nstop\nrecord stop\n' "$model" "$full/take.mid" \
  | repl "$home" || true)
said=$(echo "$out" | grep -c 'No space left on device' || true)
rm -f "$full/filler"
out2=$(printf 'tempo 120\n' | repl "$home" || true)
recovered=$(echo "$out2" | grep -c 'recovered an interrupted recording\|recorded' || true)
ok=$([ "$said" -ge 1 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
say "{\"case\":\"full disk: recording\",\"error_said\":$said,\"recovered_at_next_start\":$recovered,\"ok\":$ok}"

# 4. kill -9 at random points while a model and a session are saved over and over: afterwards
#    the checkpoint loads and the session loads, every time.
home="$work/home4"
ck="$work/ck"
bad=0
for i in $(seq 1 "$kills"); do
  {
    echo "model load $model"
    for k in $(seq 1 30); do
      echo "tempo $((60 + k))"
      echo "model save $ck"
      echo "session save s"
    done
  } > "$work/loop.improv"
  IMPROV_HOME="$home" "$bin" run "$work/loop.improv" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 2.5 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -e "$ck" ] || [ -e "$work/.ck.aside" ]; then
    "$bin" model info "$ck" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "kill $i: checkpoint unreadable" >&2; }
  fi
  if [ -e "$home/sessions/s.toml" ]; then
    printf 'session load s\n' | IMPROV_HOME="$home" "$bin" repl >/dev/null 2>&1 \
      || { bad=$((bad + 1)); echo "kill $i: session unreadable" >&2; }
  fi
done
ok=$([ "$bad" = 0 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
say "{\"case\":\"kill -9 during model and session saves\",\"kills\":$kills,\"unreadable_after\":$bad,\"ok\":$ok}"
exit "$fail"
