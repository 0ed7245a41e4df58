//! The tools' output schemas: the repository's schemas (`schemas/`), made
//! self-contained for `tools/list`.
//!
//! On disk each output schema reaches the shared definitions through
//! relative references (`defs-v1.schema.json#/$defs/finding`). An MCP
//! client gets one schema per tool and no files to resolve them against,
//! so the shared definitions are copied into the schema's own `$defs` and
//! the references pointed there. The files stay the single source: a
//! change to one changes what the tools advertise.

use std::sync::Arc;

use serde_json::{Map, Value};

const DEFS: &str = include_str!("../../schemas/defs-v1.schema.json");
const SHARED_REF: &str = "defs-v1.schema.json#/$defs/";

pub const VET_BOM: &str = include_str!("../../schemas/vet-bom-v1.schema.json");
pub const CHECK: &str = include_str!("../../schemas/check-v1.schema.json");
pub const EXPLAIN: &str = include_str!("../../schemas/explain-v1.schema.json");
pub const INIT: &str = include_str!("../../schemas/init-v1.schema.json");

/// `schema` (one of the constants) with the shared definitions inlined.
///
/// Panics on a schema that is not a JSON object or whose definitions clash
/// with the shared ones: both are fixed at compile time, and the unit
/// tests below build every one.
pub fn bundled(schema: &str) -> Arc<Map<String, Value>> {
    let text = schema.replace(SHARED_REF, "#/$defs/");
    let Ok(Value::Object(mut root)) = serde_json::from_str::<Value>(&text) else {
        panic!("an output schema is a JSON object");
    };
    let Ok(Value::Object(defs)) = serde_json::from_str::<Value>(DEFS) else {
        panic!("defs-v1.schema.json is a JSON object");
    };
    let Some(Value::Object(shared)) = defs.get("$defs").cloned() else {
        panic!("defs-v1.schema.json has $defs");
    };
    let own = root
        .entry("$defs")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(own) = own else {
        panic!("$defs is an object");
    };
    for (name, definition) in shared {
        assert!(
            own.insert(name.clone(), definition).is_none(),
            "an output schema defines `{name}`, which defs-v1 defines too"
        );
    }
    Arc::new(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_schema_is_self_contained() {
        for schema in [VET_BOM, CHECK, EXPLAIN, INIT] {
            let bundled = bundled(schema);
            let text = serde_json::to_string(&*bundled).unwrap();
            assert!(!text.contains(".schema.json"), "a reference left outside");
            assert_eq!(bundled["type"], "object", "MCP output schemas are objects");
            let refs: Vec<&str> = text
                .match_indices("\"$ref\":\"")
                .map(|(i, m)| &text[i + m.len()..])
                .map(|rest| &rest[..rest.find('"').unwrap()])
                .collect();
            for reference in refs {
                let pointer = reference.strip_prefix('#').expect("a local reference");
                assert!(
                    Value::Object((*bundled).clone()).pointer(pointer).is_some(),
                    "{reference} resolves"
                );
            }
        }
    }
}
