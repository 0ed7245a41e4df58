//! The string a macro argument such as `include!`'s evaluates to, when it
//! can be known without building: a string literal, or `concat!` of
//! literals, `env!` of a variable cargo sets from the manifest
//! (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...) and `stringify!` of one
//! token. Anything else (`OUT_DIR`, another variable, a macro we do not
//! evaluate) is uncomputable and says why.
//!
//! A build script can replace any of these variables for its crate's
//! compilation (`cargo:rustc-env=CARGO_MANIFEST_DIR=...` is applied after
//! cargo's own), so for a crate with a build script none is known.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Variables cargo sets when compiling a target, as far as the manifest
/// fixes them.
#[derive(Clone, Debug, Default)]
pub struct CompileEnv {
    vars: Vec<(String, String)>,
}

impl CompileEnv {
    /// The variables of a package rooted at `root`, or none when
    /// `overridable` (a build script may set them).
    pub fn new(
        root: &std::path::Path,
        name: &str,
        version: &str,
        crate_name: &str,
        overridable: bool,
    ) -> Self {
        if overridable {
            return CompileEnv::default();
        }
        let mut vars = vec![
            ("CARGO_MANIFEST_DIR".to_owned(), root.display().to_string()),
            (
                "CARGO_MANIFEST_PATH".to_owned(),
                root.join("Cargo.toml").display().to_string(),
            ),
            ("CARGO_PKG_NAME".to_owned(), name.to_owned()),
            ("CARGO_CRATE_NAME".to_owned(), crate_name.replace('-', "_")),
            ("CARGO_PKG_VERSION".to_owned(), version.to_owned()),
        ];
        if let Ok(v) = semver::Version::parse(version) {
            vars.push(("CARGO_PKG_VERSION_MAJOR".into(), v.major.to_string()));
            vars.push(("CARGO_PKG_VERSION_MINOR".into(), v.minor.to_string()));
            vars.push(("CARGO_PKG_VERSION_PATCH".into(), v.patch.to_string()));
            vars.push(("CARGO_PKG_VERSION_PRE".into(), v.pre.to_string()));
        }
        CompileEnv { vars }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a string could not be computed.
#[derive(Debug, PartialEq, Eq)]
pub enum Uncomputable {
    /// `env!("OUT_DIR")`: build-script output.
    OutDir,
    /// An environment variable whose value is set at build time.
    Variable(String),
    /// Anything else we do not evaluate.
    Other,
}

/// The string `tokens` (a macro's whole argument) evaluates to.
pub fn evaluate(tokens: &TokenStream, env: &CompileEnv) -> Result<String, Uncomputable> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    // A trailing comma is allowed after a macro's single argument.
    let trees = match trees.split_last() {
        Some((TokenTree::Punct(p), rest)) if p.as_char() == ',' => rest,
        _ => &trees[..],
    };
    expression(trees, env, 0)
}

/// Bound on nested `concat!(concat!(…))`.
const MAX_DEPTH: usize = 32;

fn expression(trees: &[TokenTree], env: &CompileEnv, depth: usize) -> Result<String, Uncomputable> {
    if depth > MAX_DEPTH {
        return Err(Uncomputable::Other);
    }
    match trees {
        [TokenTree::Literal(lit)] => literal(lit),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            expression(&inner, env, depth + 1)
        }
        _ => {
            let (name, args) = macro_call(trees).ok_or(Uncomputable::Other)?;
            let args: Vec<TokenTree> = args.into_iter().collect();
            match name.as_str() {
                "concat" => {
                    let mut out = String::new();
                    for part in
                        args.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                    {
                        if !part.is_empty() {
                            out.push_str(&expression(part, env, depth + 1)?);
                        }
                    }
                    Ok(out)
                }
                "env" => {
                    let first = args
                        .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                        .next()
                        .unwrap_or(&[]);
                    let var = expression(first, env, depth + 1)?;
                    if var == "OUT_DIR" {
                        return Err(Uncomputable::OutDir);
                    }
                    env.get(&var)
                        .map(str::to_owned)
                        .ok_or(Uncomputable::Variable(var))
                }
                // One token is printed as written; more would depend on
                // rustc's spacing rules.
                "stringify" => match single_token(&args) {
                    Some(TokenTree::Ident(id)) => Ok(id.to_string()),
                    Some(TokenTree::Literal(l)) => Ok(l.to_string()),
                    _ => Err(Uncomputable::Other),
                },
                _ => Err(Uncomputable::Other),
            }
        }
    }
}

/// The one token of `trees`, looking through groups without delimiters:
/// a macro's `$name:expr` fragment holding `adler32` arrives as one, and
/// `stringify!` prints it as the ident alone.
fn single_token(trees: &[TokenTree]) -> Option<TokenTree> {
    match trees {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            single_token(&inner)
        }
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// `name!(args)`, `std::name!(args)` or `::core::name!(args)` for the
/// built-in macros this module evaluates.
fn macro_call(trees: &[TokenTree]) -> Option<(String, TokenStream)> {
    let (last, head) = trees.split_last()?;
    let TokenTree::Group(args) = last else {
        return None;
    };
    let (bang, path) = head.split_last()?;
    if !matches!(bang, TokenTree::Punct(p) if p.as_char() == '!') {
        return None;
    }
    let idents: Vec<String> = path
        .iter()
        .filter_map(|t| match t {
            TokenTree::Ident(id) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let puncts_ok = path.iter().all(|t| {
        matches!(t, TokenTree::Ident(_)) || matches!(t, TokenTree::Punct(p) if p.as_char() == ':')
    });
    let name = idents.last()?.clone();
    let qualified_by_std = idents.len() == 1 || matches!(idents[0].as_str(), "std" | "core");
    (puncts_ok && qualified_by_std).then(|| (name, args.stream()))
}

fn literal(lit: &proc_macro2::Literal) -> Result<String, Uncomputable> {
    let tree = TokenTree::Literal(lit.clone());
    match syn::parse2::<syn::Lit>(tree.into()) {
        Ok(syn::Lit::Str(s)) if s.suffix().is_empty() => Ok(s.value()),
        Ok(syn::Lit::Char(c)) => Ok(c.value().to_string()),
        Ok(syn::Lit::Int(i)) if i.suffix().is_empty() => Ok(i.base10_digits().to_owned()),
        Ok(syn::Lit::Bool(b)) => Ok(b.value.to_string()),
        _ => Err(Uncomputable::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, env: &CompileEnv) -> Result<String, Uncomputable> {
        evaluate(&src.parse().unwrap(), env)
    }

    #[test]
    fn literals_concat_and_manifest_variables() {
        let env = CompileEnv::new(std::path::Path::new("/p"), "pkg", "1.2.3", "pkg", false);
        assert_eq!(eval("\"a.rs\"", &env).unwrap(), "a.rs");
        assert_eq!(eval("r\"a.rs\",", &env).unwrap(), "a.rs");
        assert_eq!(
            eval(
                "concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/\", 1, \".rs\")",
                &env
            )
            .unwrap(),
            "/p/src/1.rs"
        );
        assert_eq!(eval("::core::stringify!(x)", &env).unwrap(), "x");
        let fragment = TokenStream::from(TokenTree::Group(proc_macro2::Group::new(
            Delimiter::None,
            "adler32".parse().unwrap(),
        )));
        let call: TokenStream = quote::quote!(concat!("zng_", stringify!(#fragment)));
        assert_eq!(evaluate(&call, &env).unwrap(), "zng_adler32");
        assert_eq!(
            eval("concat!(env!(\"OUT_DIR\"), \"/x.rs\")", &env),
            Err(Uncomputable::OutDir)
        );
        assert_eq!(
            eval("env!(\"HOME\")", &env),
            Err(Uncomputable::Variable("HOME".into()))
        );
        assert_eq!(eval("my::concat!(\"x\")", &env), Err(Uncomputable::Other));
        let overridable = CompileEnv::new(std::path::Path::new("/p"), "pkg", "1.2.3", "pkg", true);
        assert_eq!(
            eval("env!(\"CARGO_MANIFEST_DIR\")", &overridable),
            Err(Uncomputable::Variable("CARGO_MANIFEST_DIR".into()))
        );
    }
}
