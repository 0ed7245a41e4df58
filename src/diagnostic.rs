//! Diagnostics as plain data: a message, where it points (a file, its text
//! and a byte range), and notes. Produced by the policy parser and the
//! evaluator; rendered only by `report::diagnostics`.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A stretch of a file's text.
#[derive(Clone, Debug)]
pub struct SourceSpan {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub range: Range<usize>,
}

impl SourceSpan {
    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        line_col(&self.text, self.range.start)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// One message for the user.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case id (`unknown-capability`, `stale-entry`).
    pub code: &'static str,
    pub message: String,
    pub span: Option<SourceSpan>,
    /// Label under the marked text.
    pub label: String,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: SourceSpan, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `path:line:col: message`, for error chains and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = &self.span {
            let (line, col) = span.line_col();
            write!(f, "{}:{line}:{col}: ", span.path.display())?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let text = "a = 1\nb = \"é\" x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(line_col(text, x), (2, 9));
    }
}
