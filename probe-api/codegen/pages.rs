//! The operations that page, found by rule in the normalized document.
//!
//! An operation pages when its query takes `pagination[page]` and
//! `pagination[limit]` and its JSON success answer is an object holding a
//! `pagination` property and exactly one array property: the list. The
//! build gives such an operation's builder `pages()` and `items()`
//! (`generate/pages.rs`), the operations table records the list's name for
//! the by-name walk, and `cargo xtask spec report` lists them, so an
//! operation a newer document adds pages with no code change.

use serde_json::Value;

use super::normalize::Normalized;
use super::refs::resolve_lenient;

/// The query parameter that selects the page (numbered from 1).
pub const PAGE: &str = "pagination[page]";
/// The query parameter that sets how many items a page holds.
pub const LIMIT: &str = "pagination[limit]";
/// The answer's property that describes the page.
pub const PAGINATION: &str = "pagination";

/// One operation that pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged {
    /// The client's method name, such as `get_log`.
    pub rust_name: String,
    /// The answer's array property, as on the wire, such as `log`.
    pub items: String,
    /// The property that identifies an item (`id`), when the item schema
    /// has one: an item met twice while the list grows is yielded once.
    pub key: Option<String>,
}

/// Every operation of the normalized document that pages, in document order.
pub fn paged(normalized: &Normalized) -> Vec<Paged> {
    let doc = &normalized.document;
    normalized
        .operations
        .iter()
        .filter_map(|op| {
            let operation = doc
                .get("paths")?
                .get(&op.path)?
                .get(op.method.to_ascii_lowercase())?;
            let names: Vec<&str> = operation
                .get("parameters")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|p| resolve_lenient(doc, p))
                        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                        .filter_map(|p| p.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            if !names.contains(&PAGE) || !names.contains(&LIMIT) {
                return None;
            }
            let answer = success_schema(doc, operation)?;
            let properties = answer.get("properties")?.as_object()?;
            properties.get(PAGINATION)?;
            let mut arrays = properties
                .iter()
                .filter(|(_, schema)| is_array(resolve_lenient(doc, schema)));
            let (items, schema) = arrays.next()?;
            if arrays.next().is_some() {
                return None;
            }
            let item = resolve_lenient(doc, resolve_lenient(doc, schema).get("items")?);
            let key = item
                .get("properties")
                .and_then(|p| p.get("id"))
                .map(|_| "id".to_string());
            Some(Paged {
                rust_name: op.rust_name.clone(),
                items: items.clone(),
                key,
            })
        })
        .collect()
}

/// The schema of the first 2xx JSON answer, resolved.
fn success_schema<'a>(doc: &'a Value, operation: &'a Value) -> Option<&'a Value> {
    let responses = operation.get("responses")?.as_object()?;
    let (_, response) = responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))?;
    let response = resolve_lenient(doc, response);
    let schema = response
        .get("content")?
        .get("application/json")?
        .get("schema")?;
    Some(resolve_lenient(doc, schema))
}

fn is_array(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(types)) => types.iter().any(|t| t == "array"),
        _ => false,
    }
}
