#!/usr/bin/env bash
# Fault injection through JACK (issue #13): the synth a set plays to vanishes mid-set (its JACK
# client killed), and the JACK server itself dies while improv plays. One JSON line a case;
# exits non-zero when improv hangs, stops playing to the sinks that are left, or says nothing.
# Starts its own JACK servers (dummy driver); needs jackd2 and a build with the jack feature.
#
#   scripts/faults-jack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --features jack
bin="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/improv"
model="$(pwd)/models/vae-lstm-small"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export JACK_NO_AUDIO_RESERVATION=1
fail=0
server() {
  export JACK_DEFAULT_SERVER="improv-faults-$1-$$"
  jackd -n "$JACK_DEFAULT_SERVER" --no-realtime -d dummy -r 48000 -p 128 >"$work/jackd-$1.log" 2>&1 &
  jack_pid=$!
  pids+=("$jack_pid")
  jack_wait -w -t 20 >/dev/null
}

# 1. The port a set plays to goes away (its client killed): said once, the recording goes on.
server port
jack_midi_dump >"$work/dump.txt" 2>&1 &
dump=$!
pids+=("$dump")
sleep 1
(sleep 4; kill -9 "$dump") &
start=$(date +%s)
out=$(printf 'model load %s\ntempo 240\nrecord start %s\nconnect midi-monitor\nplay\nwait bars 16\nstop\nrecord stop\n' \
  "$model" "$work/take.mid" | IMPROV_HOME="$work/home1" timeout 120 "$bin" repl 2>&1) || true
took=$(( $(date +%s) - start ))
said=$(echo "$out" | grep -c 'went away' || true)
notes=$(echo "$out" | sed -n 's/^recorded \([0-9]*\) notes.*/\1/p' | tail -1)
notes=${notes:-0}
dumped=$(grep -c . "$work/dump.txt" || true)
ok=$([ "$said" -ge 1 ] && [ "$notes" -gt 0 ] && [ "$took" -lt 120 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
echo "{\"case\":\"a port vanishes mid-set\",\"said\":$said,\"messages_before_the_kill\":$dumped,\"notes_recorded\":$notes,\"seconds\":$took,\"ok\":$ok}"
kill "$jack_pid" 2>/dev/null || true
wait "$jack_pid" 2>/dev/null || true

# 2. The JACK server dies while improv plays to a port of its own and the synth: improv does
#    not hang; it answers the commands after it and quits.
server dies
(sleep 4; kill -9 "$jack_pid") &
start=$(date +%s)
out=$(printf 'model load %s\ntempo 240\nvirtual\nrecord start %s\nplay\nwait bars 16\nstop\nrecord stop\ntempo 100\nquit\n' \
  "$model" "$work/take2.mid" | IMPROV_HOME="$work/home2" timeout 120 "$bin" repl 2>&1) && rc=0 || rc=$?
took=$(( $(date +%s) - start ))
notes=$(echo "$out" | sed -n 's/^recorded \([0-9]*\) notes.*/\1/p' | tail -1)
notes=${notes:-0}
hung=$([ "$rc" = 124 ] && echo true || echo false)
ok=$([ "$hung" = false ] && [ "$notes" -gt 0 ] && echo true || echo false)
[ "$ok" = true ] || fail=1
echo "{\"case\":\"the JACK server dies mid-set\",\"exit\":$rc,\"hung\":$hung,\"notes_recorded\":$notes,\"seconds\":$took,\"ok\":$ok}"
exit "$fail"
