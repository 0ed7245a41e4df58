//! Method rules through a dependency's aliases: `helper::P::new(p).exists()`
//! where the dependency has `pub use std::path::Path as P;` is std's
//! `Path::exists`. Scan matches a method rule when the receiver chain
//! starts at, or the calling code names, one of the rule's receiver types
//! (`std::path::Path`); named through another crate's alias, the type is
//! only that crate's path, and what it stands for is in the crate's
//! exports, which reach has.

use crate::model::{Resolution, Witness};
use crate::reach::{DependencyExports, flows};
use crate::rules::RuleSet;

/// The capabilities `.name()` reaches when one of the paths the receiver
/// chain starts at (`roots`: resolution `type` when the call is made on
/// the root itself, `sure`), or else one of the types
/// the calling code names (`named`: `by-name`, for rules that allow it),
/// is a dependency's alias of a rule's receiver type: each once, with the
/// dependency path named, which is the finding's evidence.
pub(super) fn through_aliases<'n>(
    name: &str,
    (roots, sure): (&'n [String], bool),
    named: impl IntoIterator<Item = &'n String>,
    deps: &DependencyExports<'_>,
    rules: &RuleSet,
) -> Vec<(String, Witness)> {
    let method_rules = rules.match_method(name);
    if method_rules.iter().all(|m| m.receivers.is_empty()) {
        // None, or matched by name alone where the call is.
        return Vec::new();
    }
    let mut out: Vec<(String, Witness)> = Vec::new();
    let tagged = roots
        .iter()
        .map(|p| {
            (
                p,
                if sure {
                    Resolution::Type
                } else {
                    Resolution::ByName
                },
            )
        })
        .chain(named.into_iter().map(|p| (p, Resolution::ByName)));
    for (path, resolution) in tagged {
        for target in deps.aliased(path) {
            for method_rule in method_rules {
                if method_rule.typed && resolution == Resolution::ByName {
                    continue;
                }
                let Some(receiver) = rules.receiver_hit(&target, &method_rule.receivers) else {
                    continue;
                };
                let rule = rules.rule(method_rule.rule);
                // One witness per capability: the receiver chain's root
                // comes first.
                if !flows(rule.capability)
                    || out.iter().any(|(_, w)| w.capability == rule.capability)
                {
                    continue;
                }
                out.push((
                    path.clone(),
                    Witness {
                        capability: rule.capability,
                        rule: rule.id.as_str().to_owned(),
                        via: vec![path.clone(), format!("{receiver}::{name}")],
                        resolution,
                    },
                ));
            }
        }
    }
    out
}
