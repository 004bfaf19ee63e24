//! Arbitrary JSON values, and JSON pointers into a document.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};
use xtask::codegen::escape_segment;

// ----- arbitrary JSON -----

/// Strings that mean something to a parser somewhere: numbers and
/// fractions as text, timestamps, identifiers, empty and odd characters.
const TEXTS: &[&str] = &[
    "",
    "N/A",
    "0/0",
    "30000/1001",
    "-1",
    "1e400",
    "18446744073709551616",
    "NaN",
    "00000000-0000-0000-0000-000000000000",
    "2025-07-30T12:00:00Z",
    "2025-07-30T12:00:00.123456789Z",
    "not a date",
    "::1",
    "https://example.com/a.mp4",
    "\u{0}",
    "\u{feff}",
    "é\u{301}",
];

/// Object keys that name something in an OpenAPI document or a response,
/// separated by white space.
const KEYS: &str = "type properties items $ref required enum nullable allOf anyOf oneOf description name \
    in schema content format default additionalProperties responses success error code id status";

pub(super) fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(TEXTS).prop_map(str::to_string),
        3 => "\\PC{0,12}",
    ]
    .boxed()
}

pub(super) fn key() -> BoxedStrategy<String> {
    let keys: Vec<&str> = KEYS.split_whitespace().collect();
    prop_oneof![select(keys).prop_map(str::to_string), "[a-z_@$-]{1,10}"].boxed()
}

pub(super) fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(json!(0), Value::Number)),
        select(vec![
            json!(-1),
            json!(0),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(-0.5),
            json!(9_007_199_254_740_993_u64),
        ]),
    ]
    .boxed()
}

/// Any JSON value, at most four levels deep.
pub(super) fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
    .boxed()
}

pub(super) fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Values for a version field (`openapi`, `overlay`), valid and not.
pub(super) fn version() -> BoxedStrategy<Value> {
    prop_oneof![
        select(vec![
            "3.0.0",
            "3.0.3",
            "3.0.99",
            "3.1.0",
            "3.1.1",
            "3.1",
            "3.2.0",
            "3",
            "2.0",
            "4.0.0",
            "",
            "v3.1.0",
            "3.1.0-rc1",
        ])
        .prop_map(Value::from),
        select(vec![
            json!(3.1),
            Value::Null,
            json!(["3.1.0"]),
            json!({"version": "3.1.0"})
        ]),
    ]
    .boxed()
}

// ----- JSON pointers -----

pub(super) fn child(at: &str, segment: &str) -> String {
    format!("{at}/{}", escape_segment(segment))
}

pub(super) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Every node below `value` (not `value` itself), as JSON pointers.
pub(super) fn all_pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = child(at, k);
                out.push(p.clone());
                all_pointers(v, &p, out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                all_pointers(v, &p, out);
            }
        }
        _ => {}
    }
}

/// Removes the node at `at` from its object or array.
pub(super) fn delete(doc: &mut Value, at: &str) {
    let Some((parent, last)) = at.rsplit_once('/') else {
        return;
    };
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&unescape(last));
        }
        Some(Value::Array(list)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < list.len()
            {
                list.remove(i);
            }
        }
        _ => {}
    }
}

pub(super) fn set(doc: &mut Value, at: &str, value: Value) {
    if let Some(slot) = doc.pointer_mut(at) {
        *slot = value;
    }
}
