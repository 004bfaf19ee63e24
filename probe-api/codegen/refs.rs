//! Local `$ref`s, followed in one place.
//!
//! The pipeline resolves strictly: a reference that is not a string, points
//! outside the document, points to nothing or runs in a cycle is a
//! [`SpecError`] at the place it was met. Reports on documents the pipeline
//! may refuse (`cargo xtask diff`, `cargo xtask api`) resolve leniently: they
//! stop at the last value that resolved, and show what is there.

use serde_json::Value;

use super::{SpecError, pointer};

/// The most references followed from one value before it counts as a cycle.
const MAX_STEPS: usize = 64;

/// Follows local `$ref`s from `value` until a value that is not one.
///
/// # Errors
///
/// A reference that does not resolve, with the pointer `at` where it was met.
pub fn resolve<'a>(
    doc: &'a Value,
    value: &'a Value,
    at: &[String],
) -> Result<&'a Value, SpecError> {
    follow(doc, value).map_err(|(_, reason)| SpecError::new(pointer(at), reason))
}

/// Follows local `$ref`s from `value` as far as they resolve; a reference
/// that does not is returned as it is.
#[allow(
    dead_code,
    reason = "read by `cargo xtask api` and `cargo xtask diff`, not by the build script"
)]
pub fn resolve_lenient<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    follow(doc, value).unwrap_or_else(|(last, _)| last)
}

/// The name of the component schema a `$ref` points to:
/// `Probe` for `{"$ref": "#/components/schemas/Probe"}`.
pub fn schema_name(value: &Value) -> Option<&str> {
    value
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// The value the references lead to, or the last value reached and why the
/// next step failed.
fn follow<'a>(doc: &'a Value, value: &'a Value) -> Result<&'a Value, (&'a Value, String)> {
    let mut current = value;
    for _ in 0..MAX_STEPS {
        let Some(reference) = current.get("$ref") else {
            return Ok(current);
        };
        let Some(reference) = reference.as_str() else {
            return Err((current, "`$ref` is not a string".into()));
        };
        let Some(target) = reference.strip_prefix('#') else {
            return Err((
                current,
                format!(
                    "`$ref: {reference}` points outside the document; only local references are supported"
                ),
            ));
        };
        current = doc
            .pointer(target)
            .ok_or_else(|| (current, format!("`$ref: {reference}` points to nothing")))?;
    }
    Err((
        current,
        format!("`$ref` chain is longer than {MAX_STEPS} steps (a reference cycle?)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_resolution_names_the_broken_reference_and_lenient_stops_before_it() {
        let doc = json!({
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"type": "string"},
                "Broken": {"$ref": "#/components/schemas/Missing"},
                "Loop": {"$ref": "#/components/schemas/Loop"},
                "Remote": {"$ref": "other.json#/X"}
            }}
        });
        let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
        let at = ["paths".to_string(), "/x".to_string()];
        assert_eq!(
            resolve(&doc, &r("A"), &at).expect("resolves"),
            &json!({"type": "string"})
        );
        assert_eq!(resolve_lenient(&doc, &r("A")), &json!({"type": "string"}));

        let broken = resolve(&doc, &r("Broken"), &at).expect_err("broken");
        assert_eq!(broken.pointer, "#/paths/~1x");
        assert!(
            broken.reason.contains("Missing` points to nothing"),
            "{}",
            broken.reason
        );
        assert_eq!(
            resolve_lenient(&doc, &r("Broken")),
            &json!({"$ref": "#/components/schemas/Missing"})
        );
        let cycle = resolve(&doc, &r("Loop"), &at).expect_err("a cycle");
        assert!(cycle.reason.contains("cycle"), "{}", cycle.reason);
        let remote = resolve(&doc, &r("Remote"), &at).expect_err("remote");
        assert!(
            remote.reason.contains("outside the document"),
            "{}",
            remote.reason
        );
        assert_eq!(schema_name(&r("A")), Some("A"));
        assert_eq!(schema_name(&json!({"$ref": "#/paths/x"})), None);
    }
}
