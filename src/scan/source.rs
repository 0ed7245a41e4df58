//! Reading one source file into syntax, failing closed.
//!
//! A file is read as bytes, checked to be UTF-8, lexed, and parsed by syn.
//! Where syn rejects valid-but-old code (bare `Fn` trait objects, anonymous
//! trait parameters), the file is parsed again in today's syntax
//! (`oldsyntax`). Where syn still rejects it, or the file passes a shape
//! limit (nesting, chains syn would recurse through), the tokens are kept
//! for the token-level fallback instead: a capability is still found. A file past a shape limit is also
//! unanalysed, as is one that cannot be read, is larger than the file-size
//! limit, is not UTF-8 or does not even lex; one the package's file guard
//! refuses is not opened at all. A large file's tables of numbers are
//! emptied before syn sees them (`datatables`).

use std::path::Path;

use proc_macro2::TokenStream;

use super::datatables;
use super::files::{PackageFiles, Refusal};
use super::limits::{LIMITS, shape_exceeds};
use super::oldsyntax::modernize;

/// What reading a file produced.
pub enum ParsedSource {
    /// syn parsed the whole file.
    Syntax(syn::File),
    /// Only tokens: syn failed (`parse_error`) or was not tried because the
    /// file passes a shape limit (`tokens_only`, and `parse_error` names the
    /// limit).
    Tokens {
        tokens: TokenStream,
        tokens_only: bool,
        parse_error: String,
    },
    /// Nothing usable; the reason names what went wrong, with the line
    /// where it is known.
    Unanalyzed {
        rule: &'static str,
        line: Option<u32>,
        reason: String,
    },
}

/// Reads and parses `path` through the package's file guard, or says why
/// it was not read. `bytes_read` is increased by the file's size.
pub fn read_source(
    path: &Path,
    files: &PackageFiles,
    bytes_read: &mut u64,
) -> Result<ParsedSource, Refusal> {
    let bytes = files.read(path)?;
    *bytes_read += bytes.len() as u64;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u32
                + 1;
            return Ok(ParsedSource::Unanalyzed {
                rule: "not-utf8",
                line: Some(line),
                reason: format!("not UTF-8 (invalid byte at offset {valid}, line {line})"),
            });
        }
    };
    Ok(parse_text(&text))
}

/// Parses source text (already known to be UTF-8).
pub fn parse_text(text: &str) -> ParsedSource {
    let body = strip_preamble(text);
    let tokens: TokenStream = match body.parse() {
        Ok(tokens) => {
            let tokens = plain_attributes(&body, tokens);
            if body.len() >= datatables::MIN_FILE_BYTES {
                datatables::elide(tokens)
            } else {
                tokens
            }
        }
        Err(e) => {
            let line = e.span().start().line as u32;
            return ParsedSource::Unanalyzed {
                rule: "unlexable-file",
                line: (line > 0).then_some(line),
                reason: format!("does not tokenize: {e}"),
            };
        }
    };
    if let Some(limit) = shape_exceeds(&tokens, &LIMITS) {
        return ParsedSource::Tokens {
            tokens,
            tokens_only: true,
            parse_error: limit,
        };
    }
    // The stream is moved into syn, not cloned (a clone copies every token):
    // the rare file syn rejects is lexed again for the token fallback.
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => ParsedSource::Syntax(file),
        Err(e) => {
            let start = e.span().start();
            let tokens = plain_attributes(&body, body.parse().unwrap_or_default());
            // Old editions' syntax syn 2 lacks, written the new way.
            if let Some(modern) = modernize(tokens.clone())
                && let Ok(file) = syn::parse2::<syn::File>(modern)
            {
                return ParsedSource::Syntax(file);
            }
            ParsedSource::Tokens {
                tokens,
                tokens_only: false,
                parse_error: format!("{}:{}: {e}", start.line, start.column + 1),
            }
        }
    }
}

/// `tokens` lexed from `text`, with raw names in attributes written plain
/// (`rawattrs`); only a text holding `r#` can have one.
pub fn plain_attributes(text: &str, tokens: TokenStream) -> TokenStream {
    if text.contains("r#") {
        super::rawattrs::unraw_attributes(tokens)
    } else {
        tokens
    }
}

/// Removes a byte-order mark and a `#!` line that is not an inner attribute,
/// as rustc does, keeping line numbers intact. Like rustc's lexer, `#!` is
/// an inner attribute when the next token after whitespace and (non-doc)
/// comments, newlines included, is `[`: `#!/*x*/[allow(x)] fn f() {}` is
/// code on line 1, not a shebang to skip.
fn strip_preamble(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("#!") else {
        return text.into();
    };
    if skip_trivia(rest).starts_with('[') {
        return text.into();
    }
    let end = text.find('\n').unwrap_or(text.len());
    let mut owned = String::with_capacity(text.len());
    owned.push_str(&" ".repeat(end));
    owned.push_str(&text[end..]);
    owned.into()
}

/// `text` after leading whitespace and non-doc comments, as rustc's lexer
/// skips them when it decides whether `#!` starts a shebang. An unclosed
/// block comment leaves the rest (it is not a `[`).
fn skip_trivia(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start_matches(is_rust_whitespace);
        if let Some(comment) = trimmed.strip_prefix("//") {
            // `///` and `//!` are doc comments (tokens), `////` is not.
            if (comment.starts_with('/') && !comment.starts_with("//")) || comment.starts_with('!')
            {
                return trimmed;
            }
            text = comment.find('\n').map_or("", |end| &comment[end..]);
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            // `/**` and `/*!` are doc comments, `/**/` and `/***` are not.
            let doc = (comment.starts_with('*')
                && !comment.starts_with("*/")
                && !comment.starts_with("**"))
                || comment.starts_with('!');
            if doc {
                return trimmed;
            }
            match block_comment_end(comment) {
                Some(end) => text = &comment[end..],
                None => return trimmed,
            }
        } else {
            return trimmed;
        }
    }
}

/// The offset just past the `*/` closing a block comment whose `/*` has
/// been read; block comments nest.
fn block_comment_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// rustc's whitespace: Unicode `Pattern_White_Space`.
fn is_rust_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{b}'
            | '\u{c}'
            | '\r'
            | ' '
            | '\u{85}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edition_2015_syntax_is_parsed_in_todays_form() {
        let parsed = parse_text(
            "type Action = Fn(&u8) + Send + Sync;\ntrait T { fn h(&self, u8); }\nfn f() { std::fs::read(\"x\"); }\n",
        );
        assert!(matches!(parsed, ParsedSource::Syntax(_)));
    }

    #[test]
    fn what_syn_rejects_even_rewritten_falls_back_to_tokens() {
        let parsed = parse_text("fn f() { let x = ; std::fs::read(\"x\"); }\n");
        assert!(matches!(
            parsed,
            ParsedSource::Tokens {
                tokens_only: false,
                ..
            }
        ));
    }

    #[test]
    fn unbalanced_braces_are_unanalyzed() {
        let parsed = parse_text("fn f() {\n");
        assert!(matches!(
            parsed,
            ParsedSource::Unanalyzed {
                rule: "unlexable-file",
                ..
            }
        ));
    }

    #[test]
    fn deep_nesting_and_long_chains_are_read_as_tokens_only() {
        let deep = format!(
            "fn f() {{ let x = {}1{}; }}",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(matches!(
            parse_text(&deep),
            ParsedSource::Tokens {
                tokens_only: true,
                ..
            }
        ));
        let chain = format!("fn f() {{ x{}; }}", ".a()".repeat(100_000));
        assert!(matches!(
            parse_text(&chain),
            ParsedSource::Tokens {
                tokens_only: true,
                ..
            }
        ));
    }

    #[test]
    fn shebang_is_skipped_but_inner_attributes_are_not() {
        assert!(matches!(
            parse_text("#!/usr/bin/env run\nfn main() {}\n"),
            ParsedSource::Syntax(_)
        ));
        assert!(matches!(
            parse_text("#![allow(dead_code)]\nfn main() {}\n"),
            ParsedSource::Syntax(_)
        ));
    }

    #[test]
    fn hash_bang_before_comments_and_a_bracket_is_an_inner_attribute() {
        for text in [
            "#!/*x*/[allow(unused)] fn f() {}",
            "#! // note\n[allow(unused)] fn f() {}",
            "#!/* /* nested */ */\n\n  [allow(unused)] fn f() {}",
            "\u{feff}#!\t[allow(unused)] fn f() {}",
        ] {
            assert_eq!(
                strip_preamble(text).trim_start_matches('\u{feff}'),
                text.trim_start_matches('\u{feff}'),
                "{text:?}"
            );
        }
        assert!(strip_preamble("#!/usr/bin/env x\nfn f() {}").starts_with("   "));
        assert!(strip_preamble("#!/*unclosed [\nfn f() {}").starts_with("   "));
    }
}
