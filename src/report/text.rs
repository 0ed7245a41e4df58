//! Untrusted text made safe to show. File names, evidence, reasons and
//! messages come from the scanned tree and its policy, which an attacker may
//! write: a control character in them could move a terminal's cursor or
//! clear what was printed before (hiding a violation), a newline or a
//! backtick could end a Markdown code span and forge a verdict in a
//! pull-request comment, and a bidirectional override could show text in
//! another order than it is (Trojan Source). Every report that prints such
//! text to a person passes it through here; JSON and SARIF need not, their
//! encoders escape.

use std::borrow::Cow;

/// Whether `c` must not reach a reader as itself: control characters
/// (a tab included: it would misalign tables) and the invisible formatting
/// characters that reorder or hide text.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width characters, LRM/RLM
            | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{2069}' // word joiner, invisible operators, isolates
            | '\u{FEFF}'              // byte-order mark as zero-width no-break space
        )
}

/// `s` with every unsafe character written as a `\u{..}` escape (a
/// backslash stays a backslash: the escape only has to be visible, not
/// reversible).
pub fn plain(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` as one Markdown code span: shown literally, whatever backticks it
/// holds (the fence is longer than any run of them), on one line.
pub fn code_span(s: &str) -> String {
    let s = plain(s);
    let longest_run = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A span that starts or ends with a backtick needs a space inside the
    // fence, which Markdown strips again.
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` fit for a Markdown table cell: a `|` would end the cell, even in a
/// code span.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(plain("src/lib.rs"), "src/lib.rs");
        assert_eq!(plain("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(plain("x\ny\r"), "x\\u{a}y\\u{d}");
        assert_eq!(plain("ab\u{202E}cd"), "ab\\u{202e}cd");
        assert_eq!(plain("tab\there"), "tab\\u{9}here");
    }

    #[test]
    fn a_code_span_cannot_be_ended_from_inside() {
        assert_eq!(code_span("std::fs::read"), "`std::fs::read`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x``"), "``` `x`` ```");
        assert_eq!(code_span("x\n# ✅ pass"), "`x\\u{a}# ✅ pass`");
    }

    #[test]
    fn a_cell_cannot_be_ended_from_inside() {
        assert_eq!(cell("`a|b`"), "`a\\|b`");
    }
}
