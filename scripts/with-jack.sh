#!/usr/bin/env bash
# Runs a command against a private JACK server with the dummy driver, so tests get real MIDI and
# audio ports without a sound card; stops the server afterwards. Installs nothing: needs jackd2
# (jackd, jack_wait) on the PATH.
#   usage: scripts/with-jack.sh COMMAND [ARG...]
# JACK_REALTIME=1 runs the server with real-time priority (for benchmarks; CI uses --no-realtime).
set -euo pipefail
if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
for tool in jackd jack_wait; do
    command -v "$tool" >/dev/null || { echo "with-jack.sh: $tool not found (apt-get install jackd2)" >&2; exit 1; }
done
name="improv-$$"
log="$(mktemp -t "jackd-$name.XXXXXX.log")"
export JACK_DEFAULT_SERVER="$name"
# No D-Bus device reservation on a machine without sound hardware.
export JACK_NO_AUDIO_RESERVATION=1
rt="--no-realtime"
if [ "${JACK_REALTIME:-0}" = 1 ]; then rt="--realtime"; fi
jackd -n "$name" "$rt" -d dummy -r 48000 -p 128 >"$log" 2>&1 &
jack_pid=$!
stop_jack() {
    kill "$jack_pid" 2>/dev/null || true
    wait "$jack_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_jack EXIT
if ! jack_wait -w -t 20 >/dev/null 2>&1; then
    echo "with-jack.sh: jackd did not start:" >&2
    cat "$log" >&2
    exit 1
fi
status=0
"$@" || status=$?
exit "$status"
