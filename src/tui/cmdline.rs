//! The command line's state: the text being typed, the cursor, history and completion.

/// One way to complete the word under the cursor: replace `line[start..cursor]` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub start: usize,
    pub text: String,
}

#[derive(Clone, Debug, Default)]
pub struct CommandLine {
    /// The text; `cursor` is a byte offset on a char boundary.
    pub input: String,
    pub cursor: usize,
    pub history: Vec<String>,
    /// Position while walking the history with Up/Down (None: editing a new line).
    hist_pos: Option<usize>,
    /// The line being typed before Up was pressed, given back by Down.
    draft: String,
    /// Candidates of the last Tab, cycled by further Tabs.
    pub candidates: Vec<Candidate>,
    pub candidate: Option<usize>,
    /// The line as it was before the first Tab, so cycling replaces rather than appends.
    before_tab: Option<(String, usize)>,
    /// A parse error of the current input: (byte column, message).
    pub error: Option<(usize, String)>,
}

impl CommandLine {
    pub fn with_history(history: Vec<String>) -> Self {
        CommandLine {
            history,
            ..Default::default()
        }
    }

    fn edited(&mut self) {
        self.error = None;
        self.hist_pos = None;
        self.candidates.clear();
        self.candidate = None;
        self.before_tab = None;
    }

    pub fn insert(&mut self, c: char) {
        self.input.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        self.edited();
    }

    pub fn backspace(&mut self) {
        if let Some(c) = self.input[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
            self.input.remove(self.cursor);
        }
        self.edited();
    }

    pub fn delete(&mut self) {
        if self.cursor < self.input.len() {
            self.input.remove(self.cursor);
        }
        self.edited();
    }

    pub fn left(&mut self) {
        if let Some(c) = self.input[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.input[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.input.len();
    }

    /// Ctrl-U: clear the line.
    pub fn clear(&mut self) {
        self.input.clear();
        self.cursor = 0;
        self.error = None;
        self.edited();
    }

    /// Ctrl-W: delete the word before the cursor.
    pub fn delete_word(&mut self) {
        let before = &self.input[..self.cursor];
        let trimmed = before.trim_end_matches(' ');
        let start = trimmed.rfind(' ').map_or(0, |i| i + 1);
        self.input.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    pub fn history_prev(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let pos = match self.hist_pos {
            None => {
                self.draft = self.input.clone();
                self.history.len() - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.hist_pos = Some(pos);
        self.input = self.history[pos].clone();
        self.cursor = self.input.len();
    }

    pub fn history_next(&mut self) {
        let Some(p) = self.hist_pos else { return };
        if p + 1 < self.history.len() {
            self.hist_pos = Some(p + 1);
            self.input = self.history[p + 1].clone();
        } else {
            self.hist_pos = None;
            self.input = std::mem::take(&mut self.draft);
        }
        self.cursor = self.input.len();
    }

    /// Takes the line for running: it goes to the history (unless blank or a repeat) and the
    /// line is cleared.
    pub fn submit(&mut self) -> String {
        let line = std::mem::take(&mut self.input).trim().to_string();
        if !line.is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
        }
        self.cursor = 0;
        self.error = None;
        self.draft.clear();
        self.edited();
        line
    }

    /// Tab: with fresh `candidates` (from the engine's completer, for the line as typed), apply
    /// the first; later Tabs cycle through them. A single candidate is applied and followed by a
    /// space, so the next word can be typed.
    pub fn complete(&mut self, fresh: impl FnOnce(&str, usize) -> Vec<Candidate>) {
        if self.candidate.is_none() {
            let cands = fresh(&self.input, self.cursor);
            if cands.is_empty() {
                return;
            }
            self.before_tab = Some((self.input.clone(), self.cursor));
            self.candidates = cands;
            self.candidate = Some(0);
        } else if let Some(i) = self.candidate {
            self.candidate = Some((i + 1) % self.candidates.len());
        }
        let (Some((line, cursor)), Some(i)) = (self.before_tab.clone(), self.candidate) else {
            return;
        };
        let c = &self.candidates[i];
        let start = c.start.min(cursor);
        let mut text = c.text.clone();
        if self.candidates.len() == 1 && !text.ends_with('/') {
            text.push(' ');
        }
        self.input = format!("{}{}{}", &line[..start], text, &line[cursor..]);
        self.cursor = start + text.len();
        if self.candidates.len() == 1 {
            self.candidates.clear();
            self.candidate = None;
            self.before_tab = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> CommandLine {
        let mut c = CommandLine::default();
        s.chars().for_each(|ch| c.insert(ch));
        c
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut c = typed("tempo 12");
        c.error = Some((6, "bad".into()));
        c.left();
        assert!(c.error.is_some(), "moving the cursor keeps the error");
        c.insert('0');
        assert_eq!((c.input.as_str(), c.cursor), ("tempo 102", 8));
        assert_eq!(c.error, None, "an edit clears it");
        c.end();
        c.backspace();
        c.home();
        c.delete();
        assert_eq!(c.input, "empo 10");
        c.end();
        c.delete_word();
        assert_eq!(c.input, "empo ");
        c.insert('é');
        c.left();
        c.right();
        c.backspace();
        assert_eq!(c.input, "empo ");
    }

    #[test]
    fn history_walks_back_and_returns_the_draft() {
        let mut c = CommandLine::default();
        for l in ["play", "tempo 90", "tempo 90", "  "] {
            l.chars().for_each(|ch| c.insert(ch));
            c.submit();
        }
        assert_eq!(c.history, ["play", "tempo 90"]);
        "gen".chars().for_each(|ch| c.insert(ch));
        c.history_prev();
        assert_eq!(c.input, "tempo 90");
        c.history_prev();
        c.history_prev();
        assert_eq!(c.input, "play");
        c.history_next();
        assert_eq!(c.input, "tempo 90");
        c.history_next();
        assert_eq!((c.input.as_str(), c.cursor), ("gen", 3));
    }

    #[test]
    fn tab_cycles_candidates_and_completes_a_single_one() {
        let cands = |line: &str, cursor: usize| -> Vec<Candidate> {
            let start = line[..cursor].rfind(' ').map_or(0, |i| i + 1);
            ["temperature", "tempo", "tap"]
                .iter()
                .filter(|w| w.starts_with(&line[start..cursor]))
                .map(|w| Candidate {
                    start,
                    text: w.to_string(),
                })
                .collect()
        };
        let mut c = typed("tem");
        c.complete(cands);
        assert_eq!(c.input, "temperature");
        c.complete(cands);
        assert_eq!(c.input, "tempo");
        c.complete(cands);
        assert_eq!(c.input, "temperature");
        let mut c = typed("ta");
        c.complete(cands);
        assert_eq!((c.input.as_str(), c.cursor), ("tap ", 4));
        assert!(c.candidates.is_empty());
        let mut c = typed("x");
        c.complete(cands);
        assert_eq!(c.input, "x");
    }
}
