//! The properties `bom` and cargo-cyclonedx write for what a BoM cannot
//! otherwise say about the build: a component's features and the target
//! platform. They decide what code is scanned, so a property given twice,
//! or two platforms, is an error rather than a guess.

use serde_json::Value;

use super::{ALL_TARGETS_PROPERTY, BomTarget, FEATURES_PROPERTY, TARGET_TRIPLE_PROPERTY};

/// The platform in the metadata's properties, if any.
pub(super) fn read_target(properties: Option<&Value>) -> Result<Option<BomTarget>, String> {
    let Some(list) = properties.and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for property in list {
        let name = property.get("name").and_then(Value::as_str);
        let value = property.get("value").and_then(Value::as_str);
        match (name, value) {
            (Some(TARGET_TRIPLE_PROPERTY), Some(triple)) => {
                found.push(BomTarget::Triple(triple.to_owned()))
            }
            (Some(ALL_TARGETS_PROPERTY), Some("true")) => found.push(BomTarget::AllTargets),
            _ => {}
        }
    }
    found.dedup();
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(format!(
            "the metadata names more than one target platform ({TARGET_TRIPLE_PROPERTY}, {ALL_TARGETS_PROPERTY}); a BoM describes one build"
        )),
    }
}

/// The `capgate:features` property: comma-separated feature names, an
/// empty value for none.
pub(super) fn read_features(properties: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    let Some(list) = properties.and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut found = None;
    for property in list {
        if property.get("name").and_then(Value::as_str) != Some(FEATURES_PROPERTY) {
            continue;
        }
        let Some(value) = property.get("value").and_then(Value::as_str) else {
            return Err("the `capgate:features` property needs a string value".into());
        };
        if found.is_some() {
            return Err("the `capgate:features` property is given twice".into());
        }
        let mut features: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        features.sort();
        features.dedup();
        found = Some(features);
    }
    Ok(found)
}
