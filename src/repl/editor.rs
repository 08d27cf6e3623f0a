//! reedline helpers over the engine's one grammar: completion, highlighting, validation.

use nu_ansi_term::{Color, Style};
use reedline::{
    Completer, CompletionResult, Highlighter, Span, StyledText, Suggestion, ValidationResult,
    Validator,
};

use crate::engine::{complete, highlight, words, Highlight, SnapshotReader};

/// Completes commands, keywords, paths, ports, presets and sessions.
pub struct EngineCompleter(pub SnapshotReader);

impl Completer for EngineCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        let snap = self.0.get();
        let suggestions: Vec<Suggestion> = complete(line, pos, &snap)
            .into_iter()
            .map(|c| Suggestion {
                append_whitespace: !c.value.ends_with('/'),
                value: c.value,
                description: c.description,
                span: Span::new(c.span.start, c.span.end),
                ..Suggestion::default()
            })
            .collect();
        CompletionResult::fresh(suggestions)
    }
}

/// Colours words by what the parser makes of them; the word at fault in red.
pub struct EngineHighlighter;

pub fn style_of(h: Highlight) -> Style {
    match h {
        Highlight::Command => Color::Cyan.bold(),
        Highlight::Keyword => Color::Blue.normal(),
        Highlight::Number => Color::Yellow.normal(),
        Highlight::Value => Color::Green.normal(),
        Highlight::Comment => Color::DarkGray.normal(),
        Highlight::Error => Color::Red.bold().underline(),
    }
}

impl Highlighter for EngineHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut out = StyledText::default();
        let mut at = 0;
        let mut spans = highlight(line);
        spans.sort_by_key(|(r, _)| r.start);
        for (range, kind) in spans {
            if range.start < at {
                continue;
            }
            if range.start > at {
                out.push((Style::new(), line[at..range.start].to_string()));
            }
            out.push((style_of(kind), line[range.clone()].to_string()));
            at = range.end;
        }
        if at < line.len() {
            out.push((Style::new(), line[at..].to_string()));
        }
        out
    }
}

/// Enter runs any line except one with an open quote (which continues on the next line); an
/// invalid line runs too, so the parser's message with its column shows.
pub struct EngineValidator;

impl Validator for EngineValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        if open_quote(line) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Complete
        }
    }
}

fn open_quote(line: &str) -> bool {
    let before_comment = words(line).last().map_or(0, |w| w.span.end);
    line[..before_comment].matches('"').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Snapshot;

    #[test]
    fn highlighting_covers_the_line_and_marks_the_bad_word() {
        let h = EngineHighlighter.highlight("tempo fast", 0);
        let text: String = h.buffer.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(text, "tempo fast");
        let bad: Vec<&str> = h
            .buffer
            .iter()
            .filter(|(s, _)| *s == style_of(Highlight::Error))
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(bad, ["fast"]);
    }

    #[test]
    fn validator_waits_only_for_a_closing_quote() {
        assert!(matches!(
            EngineValidator.validate("load corpus \"my mid"),
            ValidationResult::Incomplete
        ));
        assert!(matches!(
            EngineValidator.validate("load corpus \"my midi\""),
            ValidationResult::Complete
        ));
        assert!(matches!(
            EngineValidator.validate("tempo fast"),
            ValidationResult::Complete
        ));
    }

    #[test]
    fn completer_offers_commands_with_their_span() {
        let out = complete("tem", 3, &Snapshot::default());
        let values: Vec<&str> = out.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["tempo", "temperature"]);
        assert!(out.iter().all(|c| c.span == (0..3)));
    }
}
