//! OpenAPI Overlay 1.0 application (RFC 9535 JSONPath targets, recursive merge).
//!
//! The merge rules and the JSONPath evaluation come from `roas-overlay`,
//! which implements the Overlay specification; this module adds the
//! per-action bookkeeping the spec lifecycle needs: which actions matched
//! nothing, and which changed nothing because the document already had it.

use roas_overlay::apply::Apply;
use roas_overlay::v1_0::Overlay;
use roas_overlay::validation::Validate;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::SpecError;

/// What one overlay action did to the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    /// Position of the action in the overlay's `actions` array.
    pub index: usize,
    /// The action's JSONPath target.
    pub target: String,
    /// The action's description, if it has one.
    pub description: Option<String>,
    /// How many nodes the target selected.
    pub matched: usize,
    /// Whether applying the action changed the document.
    pub changed: bool,
}

impl ActionOutcome {
    /// An action that selects nothing no longer applies to the document.
    pub fn is_stale(&self) -> bool {
        self.matched == 0
    }

    /// An action that matched but changed nothing is already in the document.
    pub fn is_redundant(&self) -> bool {
        self.matched > 0 && !self.changed
    }
}

/// Parses an Overlay 1.0 document and applies it to `document` in place.
///
/// On error `document` is left as it was.
pub fn apply(document: &mut Value, overlay_bytes: &[u8]) -> Result<Vec<ActionOutcome>, SpecError> {
    let overlay = parse(overlay_bytes)?;
    overlay
        .validate(enumset::EnumSet::empty())
        .map_err(|e| SpecError::new("#", format!("the overlay is not valid: {e}")))?;

    // Actions are applied one at a time so that each one's effect can be
    // observed; the whole application still commits only on success.
    let mut working = document.clone();
    let mut outcomes = Vec::with_capacity(overlay.actions.len());
    for (index, action) in overlay.actions.iter().enumerate() {
        let single = Overlay {
            actions: vec![action.clone()],
            ..overlay.clone()
        };
        let before = working.clone();
        let report = single
            .apply(&mut working, enumset::EnumSet::empty())
            .map_err(|e| {
                SpecError::new(
                    super::pointer(["actions", &index.to_string()]),
                    format!("overlay action could not be applied: {e}"),
                )
            })?;
        drop_repeated_items(&before, &mut working);
        let matched = report.actions.first().map_or(0, |outcome| outcome.matched);
        outcomes.push(ActionOutcome {
            index,
            target: action.target.clone(),
            description: action.description.clone(),
            matched,
            changed: before != working,
        });
    }
    *document = working;
    Ok(outcomes)
}

/// Removes the array items an action appended that the array already had.
///
/// An Overlay update appends to arrays, so an action whose content the
/// document already holds (the provider published what the overlay
/// reconstructed) would repeat every parameter, tag and enum value, and a
/// repeated parameter makes the document invalid. With the repeats gone,
/// such an action changes nothing and is reported as redundant.
fn drop_repeated_items(before: &Value, after: &mut Value) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, value) in new.iter_mut() {
                if let Some(previous) = old.get(key) {
                    drop_repeated_items(previous, value);
                }
            }
        }
        (Value::Array(old), Value::Array(new)) if new.len() >= old.len() => {
            for (previous, value) in old.iter().zip(new.iter_mut()) {
                drop_repeated_items(previous, value);
            }
            let mut index = old.len();
            while index < new.len() {
                if old.contains(&new[index]) {
                    new.remove(index);
                } else {
                    index += 1;
                }
            }
        }
        _ => {}
    }
}

/// Parses an Overlay 1.0 document. An error points at the field that does
/// not fit, and names the action it belongs to (`action 2, field `target``).
fn parse(overlay_bytes: &[u8]) -> Result<Overlay, SpecError> {
    const NOT_AN_OVERLAY: &str = "the overlay is not an OpenAPI Overlay 1.0 document";
    let mut de = serde_json::Deserializer::from_slice(overlay_bytes);
    let overlay: Overlay = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let segments: Vec<String> = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                Segment::Seq { index } => Some(index.to_string()),
                Segment::Map { key } => Some(key.clone()),
                Segment::Enum { variant } => Some(variant.clone()),
                Segment::Unknown => None,
            })
            .collect();
        let place = match segments.as_slice() {
            [] => String::new(),
            [actions, index] if actions == "actions" => format!("action {index}: "),
            [actions, index, field @ ..] if actions == "actions" => {
                format!("action {index}, field `{}`: ", field.join("."))
            }
            fields => format!("field `{}`: ", fields.join(".")),
        };
        SpecError::new(
            super::pointer(&segments),
            format!("{NOT_AN_OVERLAY}: {place}{}", e.inner()),
        )
    })?;
    de.end()
        .map_err(|e| SpecError::new("#", format!("{NOT_AN_OVERLAY}: {e}")))?;
    Ok(overlay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_the_document_already_holds_repeats_nothing_and_is_redundant() {
        let mut document = json!({"paths": {"/x": {"get": {
            "parameters": [{"name": "a", "in": "query"}],
            "tags": ["A"]
        }}}});
        let action = json!([{
            "target": "$.paths['/x'].get",
            "update": {"parameters": [{"name": "a", "in": "query"}, {"name": "b", "in": "query"}], "tags": ["A"]}
        }]);
        let first = apply(&mut document, &overlay(action.clone())).expect("applies");
        assert!(first[0].changed);
        assert_eq!(
            document["paths"]["/x"]["get"],
            json!({"parameters": [{"name": "a", "in": "query"}, {"name": "b", "in": "query"}], "tags": ["A"]})
        );
        let again = apply(&mut document, &overlay(action)).expect("applies again");
        assert!(again[0].is_redundant(), "{again:?}");
        assert_eq!(
            document["paths"]["/x"]["get"]["parameters"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
    }

    fn overlay(actions: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "overlay": "1.0.0",
            "info": {"title": "t", "version": "1"},
            "actions": actions
        }))
        .expect("serializable")
    }

    #[test]
    fn merges_recursively_and_reports_each_action() {
        let mut doc = json!({"paths": {"/a": {"get": {"summary": "old", "tags": ["x"]}}}});
        let outcomes = apply(
            &mut doc,
            &overlay(json!([
                {"target": "$.paths['/a'].get", "update": {"summary": "new", "tags": ["y"]}},
                {"target": "$.paths['/missing']", "update": {"x": 1}},
                {"target": "$.paths['/a'].get", "update": {"summary": "new"}}
            ])),
        )
        .expect("applies");
        assert_eq!(doc["paths"]["/a"]["get"]["summary"], "new");
        assert_eq!(doc["paths"]["/a"]["get"]["tags"], json!(["x", "y"]));
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes[0].changed && !outcomes[0].is_stale());
        assert!(outcomes[1].is_stale());
        assert!(outcomes[2].is_redundant());
    }

    #[test]
    fn a_field_of_the_wrong_type_is_reported_with_its_action() {
        let mut doc = json!({"paths": {}});
        let err = apply(
            &mut doc,
            &overlay(json!([
                {"target": "$.paths", "update": {}},
                {"target": 42, "update": {}}
            ])),
        )
        .expect_err("a number is not a JSONPath");
        assert_eq!(err.pointer, "#/actions/1/target");
        assert!(
            err.reason.starts_with(
                "the overlay is not an OpenAPI Overlay 1.0 document: action 1, field `target`: invalid type: integer `42`, expected a string"
            ),
            "{err}"
        );

        let err = apply(
            &mut doc,
            &overlay(json!([{"target": "$.paths", "remove": "yes"}])),
        )
        .expect_err("`remove` is a boolean");
        assert_eq!(err.pointer, "#/actions/0/remove");
        assert!(err.reason.contains("action 0, field `remove`: "), "{err}");

        let err = apply(&mut doc, &overlay(json!([{"update": {}}]))).expect_err("no target");
        assert_eq!(err.pointer, "#/actions/0");
        assert!(
            err.reason.contains("action 0: missing field `target`"),
            "{err}"
        );

        let mut trailing = overlay(json!([{"target": "$.paths", "update": {}}]));
        trailing.extend_from_slice(b" {}");
        let err = apply(&mut doc, &trailing).expect_err("text after the overlay");
        assert!(err.reason.contains("trailing characters"), "{err}");
        assert_eq!(doc, json!({"paths": {}}));
    }

    #[test]
    fn rejects_an_invalid_overlay_without_touching_the_document() {
        let mut doc = json!({"paths": {}});
        let err = apply(
            &mut doc,
            &overlay(json!([{"target": "not a path", "update": {}}])),
        )
        .expect_err("invalid JSONPath");
        assert!(err.reason.contains("not valid"), "{err}");
        assert_eq!(doc, json!({"paths": {}}));
    }
}
