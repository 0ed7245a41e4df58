//! Rust-like token trees built from fuzz data, rendered as source text.
//!
//! Random bytes rarely lex, so the byte-level target spends its time in
//! the lexer. Trees of words capgate cares about (capability paths, `cfg`,
//! `#[path]`, `include!`, `macro_rules!`, `extern`, `unsafe`, ...) with
//! balanced groups lex by construction, and mostly parse, which takes the
//! fuzzer into the collector, the name resolver, the rule matcher and the
//! reach analysis.

use std::fmt::Write;

use arbitrary::{Arbitrary, Result, Unstructured};
use cargo_capgate::model::Edition;

const WORDS: &[&str] = &[
    "std",
    "core",
    "alloc",
    "crate",
    "self",
    "super",
    "Self",
    "fs",
    "File",
    "open",
    "read",
    "read_to_string",
    "write",
    "remove_file",
    "net",
    "TcpStream",
    "UdpSocket",
    "connect",
    "bind",
    "process",
    "Command",
    "spawn",
    "output",
    "exit",
    "env",
    "var",
    "vars",
    "set_var",
    "args",
    "unsafe",
    "extern",
    "fn",
    "mod",
    "use",
    "pub",
    "impl",
    "trait",
    "struct",
    "enum",
    "union",
    "type",
    "const",
    "static",
    "let",
    "mut",
    "ref",
    "match",
    "if",
    "else",
    "loop",
    "while",
    "for",
    "in",
    "as",
    "where",
    "dyn",
    "move",
    "async",
    "await",
    "return",
    "break",
    "continue",
    "macro_rules",
    "macro",
    "include",
    "include_str",
    "include_bytes",
    "concat",
    "option_env",
    "cfg",
    "cfg_attr",
    "cfg_if",
    "path",
    "not",
    "any",
    "all",
    "feature",
    "target_os",
    "unix",
    "windows",
    "test",
    "doc",
    "docsrs",
    "derive",
    "proc_macro",
    "proc_macro_derive",
    "link",
    "link_name",
    "no_mangle",
    "export_name",
    "used",
    "asm",
    "global_asm",
    "naked_asm",
    "libc",
    "ptr",
    "mem",
    "transmute",
    "from_raw_parts",
    "Box",
    "new",
    "String",
    "Vec",
    "Option",
    "Some",
    "None",
    "Ok",
    "Err",
    "x",
    "y",
    "z",
    "a",
    "b",
    "m",
    "main",
    "r#fn",
    "r#mod",
    "r#use",
    "line",
    "file",
    "stringify",
    "module_path",
    "compile_error",
    "ident",
    "expr",
    "tt",
    "ty",
    "item",
    "block",
    "pat",
    "vis",
    "literal",
    "lifetime",
    "reqwest",
    "tokio",
    "hyper",
    "os",
    "raw",
    "ffi",
    "CString",
    "c_char",
    "dlopen",
    "syscall",
    "system",
    "ℌ",
    "ｆｓ",
    "_",
    "true",
    "false",
    "'a",
    "'static",
    "yield",
    "gen",
    "try",
    "box",
    "default",
    "auto",
    "safe",
    "crate_type",
    "proc_macro_attribute",
    "no_std",
    "no_implicit_prelude",
    "macro_use",
    "macro_export",
    "allow",
    "deny",
    "inline",
    "repr",
    "C",
];

const PUNCTS: &[&str] = &[
    "::",
    ";",
    ",",
    ".",
    "..",
    "...",
    "..=",
    "=",
    "==",
    "=>",
    "->",
    "<-",
    "!",
    "!=",
    "#",
    "#!",
    "$",
    "$crate",
    "$x",
    "$($x:tt)*",
    "&",
    "&&",
    "*",
    "-",
    "+",
    "/",
    "%",
    "^",
    "|",
    "||",
    "<",
    ">",
    "<=",
    ">=",
    "<<",
    ">>",
    "?",
    "@",
    ":",
    "~",
    "+=",
    "-=",
    "'",
];

const STRINGS: &[&str] = &[
    "\"lib.rs\"",
    "\"x.rs\"",
    "\"m.rs\"",
    "\"../lib.rs\"",
    "\"src/lib.rs\"",
    "\"C\"",
    "\"system\"",
    "\"\"",
    "\"x\"",
    "\"OUT_DIR\"",
    "\"linux\"",
    "\"mod.rs\"",
    "\"/etc/hostname\"",
    "\"x/mod.rs\"",
    "\"\\u{0}\"",
    "r#\"lib.rs\"#",
    "b\"x\"",
    "c\"x\"",
    "'x'",
    "b'x'",
    "0",
    "1",
    "0x10",
    "1.0",
    "1e9",
    "99999999999999999999999",
    "1u8",
];

/// One token tree.
#[derive(Debug)]
pub enum Tree {
    Word(&'static str),
    Punct(&'static str),
    Literal(&'static str),
    /// An identifier not in [`WORDS`].
    Ident(String),
    /// Delimiter (`()`, `[]`, `{}`) and contents.
    Group(u8, Vec<Tree>),
}

/// Deepest group nesting generated: deeper files are the depth guard's
/// business (and the byte target's), and would only slow this one down.
const MAX_DEPTH: usize = 64;

fn arbitrary_tree(u: &mut Unstructured<'_>, depth: usize) -> Result<Tree> {
    Ok(match u.int_in_range(0..=15)? {
        0..=6 => Tree::Word(u.choose(WORDS)?),
        7..=9 => Tree::Punct(u.choose(PUNCTS)?),
        10 => Tree::Literal(u.choose(STRINGS)?),
        11 => {
            let len = u.int_in_range(1..=6)?;
            let mut ident = String::from("i");
            for _ in 0..len {
                ident.push(*u.choose(&['a', 'b', 'c', '_', '0', '1'])?);
            }
            Tree::Ident(ident)
        }
        _ if depth < MAX_DEPTH => {
            Tree::Group(u.int_in_range(0..=2)?, arbitrary_trees(u, depth + 1)?)
        }
        _ => Tree::Group(u.int_in_range(0..=2)?, Vec::new()),
    })
}

fn arbitrary_trees(u: &mut Unstructured<'_>, depth: usize) -> Result<Vec<Tree>> {
    let mut trees = Vec::new();
    while !u.is_empty() && u.arbitrary::<u8>()? % 8 != 0 {
        trees.push(arbitrary_tree(u, depth)?);
    }
    Ok(trees)
}

/// A source file: its edition and top-level trees. Its `Debug` is the
/// source text, so that `cargo fuzz fmt scan_tokens INPUT` prints what the
/// scanner was given (to keep as a regression).
pub struct SourceTrees {
    pub edition: Edition,
    pub trees: Vec<Tree>,
}

impl<'a> Arbitrary<'a> for SourceTrees {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let edition = *u.choose(&[
            Edition::E2015,
            Edition::E2018,
            Edition::E2021,
            Edition::E2024,
        ])?;
        let mut trees = Vec::new();
        while !u.is_empty() {
            trees.push(arbitrary_tree(u, 0)?);
        }
        Ok(SourceTrees { edition, trees })
    }
}

impl std::fmt::Debug for SourceTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl SourceTrees {
    /// The trees as Rust source, a newline between top-level trees so that
    /// findings have distinct lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for tree in &self.trees {
            render(tree, &mut out);
            out.push('\n');
        }
        out
    }
}

fn render(tree: &Tree, out: &mut String) {
    match tree {
        Tree::Word(s) | Tree::Punct(s) | Tree::Literal(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Tree::Ident(s) => {
            let _ = write!(out, "{s} ");
        }
        Tree::Group(delimiter, trees) => {
            let (open, close) = match delimiter {
                0 => ('(', ')'),
                1 => ('[', ']'),
                _ => ('{', '}'),
            };
            out.push(open);
            for tree in trees {
                render(tree, out);
            }
            out.push(close);
            out.push(' ');
        }
    }
}
