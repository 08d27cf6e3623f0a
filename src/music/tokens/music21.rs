//! music21's MIDI import (`converter.parse` then `partitionByInstrument(...).parts[0].recurse()`),
//! redone as far as the seed paper's tokens can see it: which notes become one chord, where
//! quantization moves them, which notes a bar line splits into tied pieces, and the order that
//! measures and voices leave them in. The steps follow music21 10's `midi.translate.
//! midiTrackToStream`, `Stream.quantize`, `makeMeasures`, `makeVoices` and `makeTies`, with the
//! same arithmetic, so that the paper tokens equal the paper's own.

use crate::music::{Note, NoteSeq};

/// music21's default `quarterLengthDivisors`: offsets and lengths snap to quarter or third beats.
const DIVISORS: [u32; 2] = [4, 3];

/// Positions are counted in 1/48 beat: both quantization grids (1/4 and 1/3 beat) and every bar
/// length a MIDI time signature can give (down to x/64 bars, 1/16 beat) are whole multiples.
const UNIT: i64 = 48;

/// One note or chord as music21 builds it from a track, by its position after quantization.
#[derive(Clone, Debug)]
struct Element {
    /// Pitches in the order the chord gathered them.
    pitches: Vec<u8>,
    /// Quantized onset and length in 1/48 beat.
    offset: i64,
    length: i64,
    /// A note of no length: music21 makes it a grace note, which sorts before the others.
    grace: bool,
}

/// Where an element (or a tied piece of one) sits: its measure-local onset, length and grace flag,
/// the element it comes from, and the order it was put into its container.
#[derive(Clone, Debug)]
struct Placed {
    offset: i64,
    length: i64,
    grace: bool,
    element: usize,
    inserted: u64,
}

/// A music21 measure: its notes, or its voices when `makeVoices` split it. Voices hold their notes
/// in `voices`; a tied piece can still land on the measure itself next to them.
#[derive(Clone, Debug, Default)]
struct Measure {
    offset: i64,
    notes: Vec<Placed>,
    voices: Vec<Vec<Placed>>,
}

/// The notes and chords of the part music21's pipeline keeps, in the order its `recurse()` yields
/// them, each as its pitches (one pitch: a note; more: a chord). A note held over a bar line comes
/// out once per measure it sounds in, as music21's tied notes do.
/// `window_beats` is the chord window (music21's: a quarter beat).
pub(super) fn elements(seq: &NoteSeq, window_beats: f64) -> Vec<Vec<u8>> {
    let ppq = seq.ppq.max(1) as i64;
    let ticks = |beat: f64| (beat * ppq as f64).round() as i64;
    let notes = part(seq);
    if notes.is_empty() {
        return Vec::new();
    }

    // Chords: music21 walks the notes by onset and lets each note gather the later ones that start
    // less than a quantization unit after it (a quarter of its tick quarter) and end within one
    // unit of it; a note that starts with it but ends elsewhere is left for another voice. It
    // counts in ticks, so this does too: beats would round 0.25 to just under at some onsets.
    let tolerance = ppq as f64 * window_beats;
    let timed: Vec<(i64, i64, u8)> = notes
        .iter()
        .map(|n| (ticks(n.start), ticks(n.end()), n.pitch))
        .collect();
    let mut gathered = vec![false; timed.len()];
    let mut voices_required = false;
    // (onset ticks, end ticks, pitches)
    let mut raw: Vec<(i64, i64, Vec<u8>)> = Vec::new();
    for i in 0..timed.len() {
        if gathered[i] {
            continue;
        }
        let (on, off, p) = timed[i];
        let mut chord = vec![p];
        let mut last = (on, off);
        for j in i + 1..timed.len() {
            let (on_j, off_j, p_j) = timed[j];
            if ((on_j - on).abs() as f64) >= tolerance {
                break;
            }
            if ((off_j - off).abs() as f64) > tolerance {
                voices_required = true;
                continue;
            }
            gathered[j] = true;
            chord.push(p_j);
            last = (on_j, off_j);
        }
        // A chord stands at its first note's onset but lasts as long as its last gathered note
        // (music21 10 takes both times from that note and uses only its length; its source calls
        // this a bug it keeps for now).
        raw.push((on, on + last.1 - last.0, chord));
    }

    // The part sorted as music21 sorts it (onset, grace notes first, then creation order), with
    // the track's time signatures and tempo marks: quantizing a note's length looks ahead to the
    // next thing in the part, whatever it is.
    let q = |t: i64| t as f64 / ppq as f64;
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&i| (raw[i].0, raw[i].1 != raw[i].0));
    let mut marks: Vec<f64> = seq
        .time_sigs
        .iter()
        .map(|t| t.beat)
        .chain(seq.tempo.changes().iter().map(|c| c.beat))
        .map(|b| q(ticks(b)))
        .collect();
    marks.sort_by(f64::total_cmp);
    // Everything in sorted order as raw offsets in beats, notes tagged with their index.
    let mut stream: Vec<(f64, Option<usize>)> = Vec::new();
    {
        let (mut m, mut o) = (0, 0);
        while m < marks.len() || o < order.len() {
            // Marks sort before notes at the same offset (music21's class sort order).
            let take_mark = o >= order.len() || (m < marks.len() && marks[m] <= q(raw[order[o]].0));
            if take_mark {
                stream.push((marks[m], None));
                m += 1;
            } else {
                stream.push((q(raw[order[o]].0), Some(order[o])));
                o += 1;
            }
        }
    }
    let quantized: Vec<i64> = stream
        .iter()
        .map(|(o, _)| best_match(*o, true, 0.0).0)
        .collect();
    let mut elements: Vec<Element> = Vec::with_capacity(raw.len());
    let mut sorted_elements: Vec<usize> = Vec::with_capacity(raw.len());
    for (k, (_, which)) in stream.iter().enumerate() {
        let Some(i) = *which else { continue };
        let (on, off, ref pitches) = raw[i];
        let offset = quantized[k];
        let grace = off == on;
        let gap = quantized[k + 1..]
            .iter()
            .find(|&&next| next > offset)
            .map(|&next| (next - offset) as f64 / UNIT as f64)
            .unwrap_or(0.0);
        let (length, _) = best_match(q(off - on).max(0.0), grace, gap);
        sorted_elements.push(elements.len());
        elements.push(Element {
            pitches: pitches.clone(),
            offset,
            length,
            grace,
        });
    }

    // After quantization music21 sorts again (onset, grace first, creation order).
    sorted_elements.sort_by_key(|&e| (elements[e].offset, !elements[e].grace, e));

    // Measures, laid out by the time signature in force where each one starts, until the last end.
    let signatures: Vec<(i64, i64)> = seq
        .time_sigs
        .iter()
        .map(|t| {
            let offset = best_match(q(ticks(t.beat)), true, 0.0).0;
            let bar = t.numerator as i64 * 4 * UNIT / t.denominator.max(1) as i64;
            (offset, bar.max(1))
        })
        .collect();
    let bar_at = |offset: i64| {
        signatures
            .iter()
            .rev()
            .find(|s| s.0 <= offset)
            .or(signatures.first())
            .map(|s| s.1)
            .unwrap_or(4 * UNIT)
    };
    let highest = elements
        .iter()
        .map(|e| e.offset + e.length)
        .chain(quantized.iter().copied())
        .max()
        .unwrap_or(0);
    let mut measures: Vec<Measure> = Vec::new();
    let mut o = 0;
    loop {
        measures.push(Measure {
            offset: o,
            ..Measure::default()
        });
        o += bar_at(o);
        if o >= highest {
            break;
        }
    }
    let mut counter = 0u64;
    let mut next = || {
        counter += 1;
        counter
    };
    for &e in &sorted_elements {
        let el = &elements[e];
        // Measures are in order: the one that starts last at or before the element holds it.
        let at = measures.partition_point(|m| m.offset <= el.offset);
        let Some(m) = at
            .checked_sub(1)
            .map(|k| &mut measures[k])
            .filter(|m| el.offset < m.offset + bar_at(m.offset))
        else {
            // Only a note of no length at the very end lands outside every measure; music21
            // stores it at the part's end, where partitionByInstrument leaves it out.
            continue;
        };
        m.notes.push(Placed {
            offset: el.offset - m.offset,
            length: el.length,
            grace: el.grace,
            element: e,
            inserted: next(),
        });
    }

    if voices_required {
        for m in &mut measures {
            make_voices(m);
        }
    }
    make_ties(&mut measures, &bar_at, &mut next);

    // `recurse()` of the flattened part: by onset, grace notes first, then in the order a walk
    // through the measures (and each measure's voices, which sort before its notes) meets them.
    let mut out: Vec<(i64, bool, usize, usize)> = Vec::new();
    for m in &measures {
        let mut walk: Vec<&Placed> = Vec::new();
        for v in &m.voices {
            walk.extend(sorted(v));
        }
        walk.extend(sorted(&m.notes));
        for p in walk {
            let rank = out.len();
            out.push((m.offset + p.offset, !p.grace, rank, p.element));
        }
    }
    out.sort();
    out.into_iter()
        .map(|(_, _, _, e)| elements[e].pitches.clone())
        .collect()
}

/// The notes of the part music21 keeps. It makes one part per track and keeps the first
/// instrument's, which in MIDI files that give no instruments is the first track with notes; a
/// [`NoteSeq`] knows channels, not tracks, so the part here is the lowest channel with pitched
/// notes (drums come out of music21 unpitched, never as notes or chords).
fn part(seq: &NoteSeq) -> Vec<&Note> {
    let Some(channel) = seq
        .notes
        .iter()
        .filter(|n| !n.is_drum())
        .map(|n| n.channel)
        .min()
    else {
        return Vec::new();
    };
    seq.notes.iter().filter(|n| n.channel == channel).collect()
}

/// A container's notes in music21's order: onset, grace notes first, then insertion.
fn sorted(v: &[Placed]) -> Vec<&Placed> {
    let mut s: Vec<&Placed> = v.iter().collect();
    s.sort_by_key(|p| (p.offset, !p.grace, p.inserted));
    s
}

/// `Stream.makeVoices` on one measure: as many voices as its largest group of overlapping notes
/// (grouped as `getOverlaps` groups them), each note into the first voice free at its onset; a note
/// that finds none is lost, as in music21.
fn make_voices(m: &mut Measure) {
    let notes: Vec<Placed> = sorted(&m.notes).into_iter().cloned().collect();
    let spans: Vec<(i64, i64)> = notes
        .iter()
        .map(|p| (p.offset, p.offset + p.length))
        .collect();
    let overlap = |a: (i64, i64), b: (i64, i64)| {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        second.0 < first.1
    };
    let mut map: Vec<Vec<usize>> = vec![Vec::new(); notes.len()];
    for i in 0..notes.len() {
        for j in i + 1..notes.len() {
            if overlap(spans[i], spans[j]) {
                map[i].push(j);
                map[j].push(i);
            } else {
                break;
            }
        }
    }
    for l in &mut map {
        l.sort();
    }
    // `_consolidateLayering`: groups keyed by offset, in the order they were opened.
    let mut groups: Vec<(i64, Vec<usize>)> = Vec::new();
    for (src, indices) in map.iter().enumerate() {
        if indices.is_empty() {
            continue;
        }
        let src_offset = notes[src].offset;
        let mut dst: Option<i64> = None;
        for &j in indices {
            let mut store = true;
            if let Some(g) = groups.iter().find(|g| g.1.contains(&j)) {
                store = false;
                dst = Some(g.0);
            }
            let key = *dst.get_or_insert(src_offset);
            if store {
                group_push(&mut groups, key, j);
            }
        }
        if !groups.iter().any(|g| g.1.contains(&src)) {
            let key = dst.unwrap_or(src_offset);
            group_push(&mut groups, key, src);
        }
    }
    let count = groups.iter().map(|g| g.1.len()).max().unwrap_or(1).max(1);
    if count == 1 {
        return;
    }
    let mut voices: Vec<Vec<Placed>> = vec![Vec::new(); count];
    for p in notes {
        let free = voices
            .iter_mut()
            .find(|v| v.iter().map(|q| q.offset + q.length).max().unwrap_or(0) <= p.offset);
        if let Some(v) = free {
            v.push(p);
        }
    }
    voices.retain(|v| !v.is_empty());
    m.notes.clear();
    m.voices = voices;
}

fn group_push(groups: &mut Vec<(i64, Vec<usize>)>, key: i64, i: usize) {
    match groups.iter_mut().find(|g| g.0 == key) {
        Some(g) => g.1.push(i),
        None => groups.push((key, vec![i])),
    }
}

/// `Stream.makeTies`: what sounds past its measure's end is cut there and the rest put at the
/// start of the next measure (made if needed), where it may be cut again. music21 matches voices
/// by an id that never matches, so a piece lands on the next measure itself, or in its first voice
/// when only that one has voices; a measure left with one voice is flattened again.
fn make_ties(
    measures: &mut Vec<Measure>,
    bar_at: &dyn Fn(i64) -> i64,
    next: &mut dyn FnMut() -> u64,
) {
    let mut i = 0;
    while i < measures.len() {
        let bar = bar_at(measures[i].offset);
        let has_voices = !measures[i].voices.is_empty();
        let mut carried: Vec<Placed> = Vec::new();
        let m = &mut measures[i];
        let containers: Vec<&mut Vec<Placed>> = if has_voices {
            m.voices.iter_mut().collect()
        } else {
            vec![&mut m.notes]
        };
        for v in containers {
            let mut order: Vec<usize> = (0..v.len()).collect();
            order.sort_by_key(|&k| (v[k].offset, !v[k].grace, v[k].inserted));
            for k in order {
                let p = &mut v[k];
                let overshot = p.offset + p.length - bar;
                if overshot <= 0 || p.offset >= bar {
                    continue;
                }
                p.length = bar - p.offset;
                carried.push(Placed {
                    offset: 0,
                    length: overshot,
                    grace: false,
                    element: p.element,
                    inserted: 0,
                });
            }
        }
        if carried.is_empty() {
            i += 1;
            continue;
        }
        if i + 1 == measures.len() {
            let offset = measures[i].offset + bar;
            measures.push(Measure {
                offset,
                ..Measure::default()
            });
        }
        let next_had_voices = !measures[i + 1].voices.is_empty();
        let n = &mut measures[i + 1];
        for mut piece in carried {
            piece.inserted = next();
            if next_had_voices {
                if has_voices {
                    n.notes.push(piece);
                } else {
                    n.voices[0].push(piece);
                }
            } else if has_voices {
                // `moveNotesToVoices`: the next measure's notes go into a voice first.
                if n.voices.is_empty() {
                    let moved = std::mem::take(&mut n.notes);
                    n.voices.push(moved);
                }
                n.voices[0].push(piece);
            } else {
                n.notes.push(piece);
            }
        }
        i += 1;
    }
    for m in measures.iter_mut() {
        m.voices.retain(|v| !v.is_empty());
        if m.voices.len() == 1 {
            let v = m.voices.pop().unwrap_or_default();
            for mut p in sorted(&v).into_iter().cloned().collect::<Vec<_>>() {
                p.inserted = next();
                m.notes.push(p);
            }
        }
    }
}

/// music21's `bestMatch` in `Stream.quantize`: the nearest multiple on each grid, preferring the
/// grid that leaves no gap before the next element, then the smaller error, then the finer grid.
/// Returns the match in 1/48 beat and its error.
fn best_match(target: f64, zero_allowed: bool, gap: f64) -> (i64, f64) {
    let mut best: Option<((f64, f64, f64), i64)> = None;
    for div in DIVISORS {
        let unit = 1.0 / div as f64;
        let (mut mult, mut error) = nearest_multiple(target, unit);
        if !zero_allowed && mult == 0 {
            mult = 1;
            error = round7(target - unit).abs();
        }
        let matched = unit * mult as f64;
        let remaining = if gap % unit == 0.0 {
            0.0
        } else {
            (gap - matched).max(0.0)
        };
        let key = (remaining, error, unit);
        let better = match &best {
            None => true,
            Some((k, _)) => key.partial_cmp(k) == Some(std::cmp::Ordering::Less),
        };
        if better {
            best = Some((key, mult * UNIT / div as i64));
        }
    }
    best.map(|(k, m)| (m, k.1)).unwrap_or((0, 0.0))
}

/// music21's `common.nearestMultiple`: the multiple of `unit` nearest `n` (halves round down) as a
/// count of units, and the error rounded to seven places.
fn nearest_multiple(n: f64, unit: f64) -> (i64, f64) {
    let mult = (n / unit).floor();
    let half = unit / 2.0;
    let low = unit * mult;
    let high = unit * (mult + 1.0);
    if low <= n && n <= low + half {
        (mult as i64, round7(n - low))
    } else {
        (mult as i64 + 1, round7(high - n))
    }
}

/// Python's `round(x, 7)`, which rounds the exact binary value. Scaling by 10^7 and rounding
/// agrees with it except within float error of a half; there Rust's exact decimal formatting,
/// which rounds the same way as Python, decides (slower, so only there).
fn round7(x: f64) -> f64 {
    let y = x * 1e7;
    if ((y - y.trunc()).abs() - 0.5).abs() > 1e-6 {
        return y.round() / 1e7;
    }
    format!("{x:.7}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seq: &NoteSeq) -> Vec<String> {
        elements(seq, 0.25)
            .iter()
            .map(|p| match p[..] {
                [p] => crate::music::pitch::name_with_octave(p),
                _ => crate::music::pitch::normal_order_name(crate::music::pitch::pc_mask(
                    p.iter().copied(),
                )),
            })
            .collect()
    }

    #[test]
    fn a_tied_piece_follows_the_notes_that_start_on_the_downbeat() {
        // music21 (10.5) reads this piece, written by music21, as G3 C4 4.7 C4 A4.
        let seq = NoteSeq::from_notes(
            vec![
                Note::new(55, 80, 0.0, 3.0),
                Note::new(60, 80, 3.0, 2.0),
                Note::new(64, 80, 4.0, 1.0),
                Note::new(67, 80, 4.0, 1.0),
                Note::new(69, 80, 5.0, 1.0),
            ],
            120.0,
        );
        assert_eq!(text(&seq), ["G3", "C4", "4.7", "C4", "A4"]);
    }

    #[test]
    fn chords_are_gathered_in_ticks_and_last_as_their_last_note() {
        // A5 then G5 a 32nd later: one chord, whose length is G5's (a quarter of a beat), so it
        // ends before the bar line at beat 2 and is not tied over it.
        let mut seq = NoteSeq::from_notes(
            vec![
                Note::new(81, 80, 881.0 / 480.0, 79.0 / 480.0),
                Note::new(79, 80, 961.0 / 480.0, 119.0 / 480.0),
                Note::new(79, 80, 1201.0 / 480.0, 119.0 / 480.0),
            ],
            120.0,
        );
        seq.time_sigs[0].numerator = 2;
        assert_eq!(text(&seq), ["7.9", "G5"]);
        // Onsets exactly a quarter beat apart stay apart, though in beats (961 - 841) / 480
        // comes out just under 0.25.
        let seq = NoteSeq::from_notes(
            vec![
                Note::new(76, 80, 841.0 / 480.0, 119.0 / 480.0),
                Note::new(81, 80, 961.0 / 480.0, 119.0 / 480.0),
            ],
            120.0,
        );
        assert_eq!(text(&seq), ["E5", "A5"]);
    }

    #[test]
    fn quantization_prefers_quarters_on_ties_and_fills_gaps() {
        assert_eq!(best_match(0.26, true, 0.0).0, 12);
        assert_eq!(best_match(0.32, true, 0.0).0, 16);
        // Halfway between 1/4 and 1/3 both grids err alike, and the smaller unit wins.
        assert_eq!(best_match(7.0 / 24.0, true, 0.0).0, 12);
        // A length never quantizes to nothing unless it is a grace note's.
        assert_eq!(round7(0.041_666_666_7), 0.041_666_7);
        assert_eq!(round7(0.000_000_05), 0.0);
        assert_eq!(round7(0.000_000_15), 0.000_000_1);
        assert_eq!(best_match(0.01, false, 0.0).0, 12);
        assert_eq!(best_match(0.0, true, 0.0).0, 0);
    }
}
