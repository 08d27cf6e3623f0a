#!/usr/bin/env bash
# The one-hour soak (issue #13): against a private JACK server (dummy driver), the bundled model
# streams live to a port with two layers while it trains on the bundled corpus and a controller
# sends 100 messages a second; one JSON line a minute (RSS, notes, scheduler lateness, xruns,
# training step), then a summary with the notes left hanging after `stop`.
#
#   scripts/soak.sh [MINUTES]        # default 60
#
# PROFILE=debug uses the dev build (no release build with the jack feature needed).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
profile=${PROFILE:-release}
target=${CARGO_TARGET_DIR:-target}
if [ "$profile" = release ]; then
  cargo build --quiet --release --features jack
else
  cargo build --quiet --features jack
fi
exec scripts/with-jack.sh "$target/$profile/improv" bench soak --minutes "$minutes"
