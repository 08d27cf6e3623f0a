#!/usr/bin/env python3
"""Mutation check of improv's MIDI reader against mido, a tolerant reader.

Makes N mutants of the bundled MIDI files (single-byte and multi-byte substitutions), counts the
notes mido finds in each (note-ons with velocity > 0, clip=True so out-of-range data bytes are
clipped rather than fatal) and the notes improv keeps (via `cargo run --example midi_notes`),
and reports the mutants where improv keeps under 95 % / 75 % of mido's notes, and how many of
those came with no warning or error ("silent").

mido raises on some damage (undefined status bytes, running status with no status, a chunk that
is not MTrk...), so each mutant is also compared with mido's count of the undamaged file: a
mutant of a few bytes should lose few notes, whichever reader fails.

    python3 -m venv /tmp/mido && /tmp/mido/bin/pip install mido
    cargo build --example midi_notes
    /tmp/mido/bin/python scripts/midi_mutants.py --n 3000 --seed 1 \
        --reader $CARGO_TARGET_DIR/debug/examples/midi_notes
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile

import mido


def mido_notes(data):
    """Note-ons with velocity > 0 that mido reads, or None when mido gives up."""
    try:
        mf = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception:  # noqa: BLE001 -- any failure means "no reference count"
        return None
    return sum(1 for t in mf.tracks for m in t if m.type == "note_on" and m.velocity > 0)


def mutate(rng, data, kind):
    b = bytearray(data)
    if kind == "single":
        positions = [rng.randrange(len(b))]
    else:
        # A few bytes, near each other half the time (a damaged sector), anywhere otherwise.
        k = rng.randint(2, 8)
        if rng.random() < 0.5:
            start = rng.randrange(len(b))
            positions = [min(len(b) - 1, start + rng.randrange(16)) for _ in range(k)]
        else:
            positions = [rng.randrange(len(b)) for _ in range(k)]
    for p in positions:
        r = rng.random()
        if r < 0.3:
            b[p] = rng.randrange(0xF0, 0x100)  # system messages, meta, sysex
        elif r < 0.5:
            b[p] = rng.randrange(0x80, 0xF0)  # channel status bytes
        else:
            b[p] = rng.randrange(256)
    return bytes(b), positions


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="number of mutants")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="data", help="folder of MIDI files to mutate")
    ap.add_argument("--reader", required=True, help="path of the midi_notes example binary")
    ap.add_argument("--multi", type=float, default=0.5, help="share of multi-byte mutants")
    ap.add_argument("--keep", help="folder to copy silent losses into")
    ap.add_argument("--show", type=int, default=5, help="silent losses to list")
    args = ap.parse_args()

    files = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(args.data)
        for f in fs
        if f.lower().endswith((".mid", ".midi"))
    )
    rng = random.Random(args.seed)
    originals = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i in range(args.n):
            src = rng.choice(files)
            if src not in originals:
                with open(src, "rb") as f:
                    raw = f.read()
                originals[src] = (raw, mido_notes(raw))
            raw, _ = originals[src]
            kind = "multi" if rng.random() < args.multi else "single"
            data, positions = mutate(rng, raw, kind)
            path = os.path.join(tmp, f"m{i:06d}.mid")
            with open(path, "wb") as f:
                f.write(data)
            jobs.append((path, src, kind, positions, mido_notes(data)))

        # Originals too, to see that improv and mido agree on undamaged files.
        paths = [j[0] for j in jobs] + sorted(originals)
        out = subprocess.run(
            [args.reader], input="\n".join(paths) + "\n", capture_output=True, text=True,
            check=True,
        ).stdout
        rows = {r["path"]: r for r in map(json.loads, out.splitlines())}

        def said(r):
            return "error" in r or bool(r.get("warnings"))

        orig_low = [
            (p, rows[p].get("notes", 0), m)
            for p, (_, m) in sorted(originals.items())
            if m and rows[p].get("notes", 0) < 0.95 * m
        ]
        stats = {
            "mutants": len(jobs),
            "single": sum(1 for j in jobs if j[2] == "single"),
            "mido_failed": sum(1 for j in jobs if j[4] is None),
            "improv_errors": sum(1 for j in jobs if "error" in rows[j[0]]),
            "improv_warned": sum(1 for j in jobs if rows[j[0]].get("warnings")),
            "originals": len(originals),
            "originals_under_95": len(orig_low),
        }
        findings = []
        for ref_name in ("mutant", "original"):
            under95 = under75 = silent95 = silent75 = 0
            s_under95 = s_silent95 = 0
            compared = 0
            for path, src, kind, positions, m in jobs:
                ref = m if ref_name == "mutant" else originals[src][1]
                if not ref:
                    continue
                compared += 1
                r = rows[path]
                kept = r.get("notes", 0) / ref
                quiet = not said(r)
                if kept < 0.95:
                    under95 += 1
                    silent95 += quiet
                    if kind == "single":
                        s_under95 += 1
                        s_silent95 += quiet
                    if quiet and ref_name == "mutant":
                        findings.append((path, src, kind, positions, r.get("notes", 0), ref))
                if kept < 0.75:
                    under75 += 1
                    silent75 += quiet
            stats[f"vs_{ref_name}"] = {
                "compared": compared,
                "under_95": under95,
                "under_95_silent": silent95,
                "under_75": under75,
                "under_75_silent": silent75,
                "single_byte_under_95": s_under95,
                "single_byte_under_95_silent": s_silent95,
            }
        print(json.dumps(stats, indent=2))
        for p, n, m in orig_low[: args.show]:
            print(f"original {p}: improv {n} notes, mido {m}", file=sys.stderr)
        for path, src, kind, positions, n, ref in findings[: args.show]:
            print(
                f"silent: {src} {kind} bytes {positions}: improv {n} of mido's {ref}",
                file=sys.stderr,
            )
        if args.keep and findings:
            os.makedirs(args.keep, exist_ok=True)
            for path, *_ in findings:
                with open(path, "rb") as f, open(
                    os.path.join(args.keep, os.path.basename(path)), "wb"
                ) as g:
                    g.write(f.read())


if __name__ == "__main__":
    main()
