//! Small text helpers shared by the command language and the instrument names.

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `text` made safe to show on a terminal: control characters (escape sequences among them)
/// and bidirectional overrides are written as `\x1b`-style escapes, never sent raw, and past
/// `max` characters the rest is cut with a note of how much. Newlines stay when `keep_newlines`.
pub fn printable(text: &str, max: usize, keep_newlines: bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len().min(max + 32));
    for (i, c) in text.chars().enumerate() {
        if i >= max {
            let rest = text.chars().count() - i;
            let _ = write!(out, "... ({rest} more characters)");
            break;
        }
        if keep_newlines && c == '\n' {
            out.push(c);
        } else if c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            let _ = if (c as u32) < 0x100 {
                write!(out, "\\x{:02x}", c as u32)
            } else {
                write!(out, "\\u{{{:x}}}", c as u32)
            };
        } else {
            out.push(c);
        }
    }
    out
}

/// [`printable`] line by line: each line of `text` cut at `max` characters.
pub fn printable_lines(text: &str, max: usize) -> String {
    text.split('\n')
        .map(|l| printable(l, max, false))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_sent_and_long_text_is_cut() {
        assert_eq!(
            printable("tempo \u{1b}[2J9\u{7}0", 100, false),
            "tempo \\x1b[2J9\\x070"
        );
        assert_eq!(printable("a\nb\tc", 100, true), "a\nb\\x09c");
        assert_eq!(printable("a\nb", 100, false), "a\\x0ab");
        let long = "x".repeat(1_000_000);
        let shown = printable(&long, 80, false);
        assert!(shown.starts_with(&"x".repeat(80)));
        assert!(
            shown.ends_with("... (999920 more characters)"),
            "{}",
            &shown[80..]
        );
        assert_eq!(printable("déjà vu ♪", 100, false), "déjà vu ♪");
    }
}
