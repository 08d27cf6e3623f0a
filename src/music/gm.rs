//! General MIDI instrument names and finding a program by name (`synth patch electric piano`):
//! exact name, a common short name, the start of a name, then every word of the query in a name.

use crate::text::edit_distance;

/// The 128 General MIDI Level 1 instruments, by program number (0-based), four to a line.
#[rustfmt::skip]
pub const GM_PROGRAMS: [&str; 128] = [
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavi",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
    "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
    "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute",
    "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto",
    "Kalimba", "Bag pipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
    "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
];

/// Short names players use whose word match alone would pick a less usual instrument.
const ALIASES: &[(&str, u8)] = &[
    ("piano", 0),
    ("grand", 0),
    ("epiano", 4),
    ("ep", 4),
    ("rhodes", 4),
    ("organ", 16),
    ("bass", 32),
    ("guitar", 24),
    ("strings", 48),
    ("string", 48),
    ("choir", 52),
    ("brass", 61),
    ("sax", 65),
    ("bagpipe", 109),
];

/// A name that is no General MIDI instrument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no General MIDI instrument called `{name}`; nearest: {}", nearest.join(", "))]
pub struct UnknownPatch {
    pub name: String,
    /// The three closest instrument names.
    pub nearest: Vec<String>,
}

/// Lower case words of letters and digits ("Honky-tonk Piano" -> ["honky", "tonk", "piano"]).
fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// Whether a query word names a word of an instrument: a prefix of it ("elec" of "electric"),
/// or it plus a plural "s" ("strings" for "string").
fn word_matches(query: &str, word: &str) -> bool {
    word.starts_with(query) || query.strip_suffix('s') == Some(word)
}

/// The General MIDI program called `name` (case and punctuation do not matter; a program
/// number 0..127 is taken as is), with its full name.
pub fn find_patch(name: &str) -> Result<(u8, &'static str), UnknownPatch> {
    find_patch_in(name, &[])
}

/// Like [`find_patch`], also knowing a SoundFont's names for the programs (`presets`: program
/// and name, e.g. `(0, "Piano 1")`). At each step the General MIDI names come first: the exact
/// name, a common short name, the start of a name, then every word of the query in a name.
pub fn find_patch_in(
    name: &str,
    presets: &[(u8, String)],
) -> Result<(u8, &'static str), UnknownPatch> {
    let q = words(name);
    let found = |p: u8| Ok((p, GM_PROGRAMS[p as usize]));
    if let [n] = q.as_slice() {
        if let Ok(p) = n.parse::<u8>() {
            if p < 128 {
                return found(p);
            }
        }
    }
    let joined = q.join(" ");
    let names: Vec<(u8, Vec<String>)> = GM_PROGRAMS
        .iter()
        .enumerate()
        .map(|(p, n)| (p as u8, words(n)))
        .chain(
            presets
                .iter()
                .filter(|(p, _)| *p < 128)
                .map(|(p, n)| (*p, words(n))),
        )
        .collect();
    let exact = |n: &Vec<String>| n.join(" ") == joined;
    let alias = ALIASES.iter().find(|(a, _)| *a == joined).map(|(_, p)| *p);
    let starts =
        |n: &Vec<String>| n.len() >= q.len() && q.iter().zip(n).all(|(a, b)| word_matches(a, b));
    let contains = |n: &Vec<String>| q.iter().all(|a| n.iter().any(|b| word_matches(a, b)));
    let first = |f: &dyn Fn(&Vec<String>) -> bool| names.iter().find(|(_, n)| f(n)).map(|x| x.0);
    let hit = first(&exact).or(alias).or_else(|| {
        (!q.is_empty())
            .then(|| first(&starts).or_else(|| first(&contains)))
            .flatten()
    });
    match hit {
        Some(p) => found(p),
        None => Err(UnknownPatch {
            name: name.to_string(),
            nearest: nearest_names(&joined, 3),
        }),
    }
}

/// The `n` instrument names closest to `query` (edit distance to the name or to one word of it).
pub fn nearest_names(query: &str, n: usize) -> Vec<String> {
    // No instrument name is near a query this long, and the distances would cost
    // (query length x name length) each.
    if query.len() > 64 {
        return Vec::new();
    }
    let mut scored: Vec<(usize, usize)> = GM_PROGRAMS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let w = words(name);
            let whole = edit_distance(query, &w.join(" "));
            let best_word = query
                .split(' ')
                .flat_map(|qw| w.iter().map(move |nw| edit_distance(qw, nw)))
                .min()
                .unwrap_or(whole);
            (whole.min(best_word), i)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(n)
        .map(|(_, i)| GM_PROGRAMS[i].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_by_name() {
        let cases: &[(&str, u8)] = &[
            ("Acoustic Grand Piano", 0),
            ("acoustic grand piano", 0),
            ("piano", 0),
            ("electric piano", 4),
            ("Electric Piano 2", 5),
            ("honky tonk", 3),
            ("honky-tonk piano", 3),
            ("strings", 48),
            ("synth strings", 50),
            ("pizzicato", 45),
            ("bass", 32),
            ("fretless", 35),
            ("slap bass 2", 37),
            ("guitar", 24),
            ("jazz guitar", 26),
            ("sax", 65),
            ("tenor", 66),
            ("flute", 73),
            ("pan flute", 75),
            ("pad warm", 89),
            ("halo", 94),
            ("lead square", 80),
            ("sci-fi", 103),
            ("organ", 16),
            ("bass", 32),
            ("church organ", 19),
            ("rhodes", 4),
            ("gunshot", 127),
            ("  Vibraphone ", 11),
            ("42", 42),
            ("0", 0),
        ];
        for &(name, program) in cases {
            let got = find_patch(name).map(|(p, _)| p);
            assert_eq!(got, Ok(program), "{name:?}");
        }
        assert_eq!(find_patch("electric piano"), Ok((4, "Electric Piano 1")));
    }

    #[test]
    fn a_soundfonts_names_are_known_too() {
        let presets = [
            (0, "Piano 1".to_string()),
            (16, "Organ 1".to_string()),
            (33, "Fingered Bass".to_string()),
        ];
        let cases: &[(&str, u8)] = &[
            ("piano 1", 0),
            ("organ 1", 16),
            ("fingered", 33),
            // General MIDI's names win where both match.
            ("electric piano", 4),
            ("bass", 32),
        ];
        for &(name, program) in cases {
            assert_eq!(
                find_patch_in(name, &presets).map(|(p, _)| p),
                Ok(program),
                "{name}"
            );
        }
        assert!(find_patch("fingered").is_err());
    }

    #[test]
    fn unknown_names_list_the_nearest() {
        let e = find_patch("vibrafone").unwrap_err();
        assert_eq!(e.nearest[0], "Vibraphone");
        assert_eq!(e.nearest.len(), 3);
        let text = e.to_string();
        assert!(
            text.starts_with("no General MIDI instrument called `vibrafone`; nearest: Vibraphone"),
            "{text}"
        );
        let e = find_patch("trumpt").unwrap_err();
        assert!(e.nearest.contains(&"Trumpet".to_string()), "{e}");
        assert!(find_patch("").is_err());
        assert!(find_patch("128").is_err());
        assert!(find_patch("kazoo").is_err());
    }

    #[test]
    fn every_name_finds_itself() {
        for (p, name) in GM_PROGRAMS.iter().enumerate() {
            assert_eq!(find_patch(name), Ok((p as u8, *name)));
        }
    }
}
