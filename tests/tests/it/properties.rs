//! Property tests: the spec pipeline and response decoding never panic,
//! whatever document, overlay or response body they are given.
//!
//! - `normalizer_survives_mutated_documents` (64 cases): the pinned
//!   document, with the overlay or without, after one to three mutations
//!   (a node deleted, or replaced by any JSON; a `type` changed to any
//!   string or array; `$ref`s to missing, foreign or cyclic targets; a path
//!   parameter renamed; another `openapi` version; a duplicated or odd
//!   operationId) goes through `codegen::run`, which returns a document or
//!   an error with a place and a reason. Some of the cycles are put into
//!   the schemas the normalizer flattens property by property (`deepObject`
//!   parameters and form bodies), and at least one case is refused there as
//!   a recursive object.
//! - `generation_survives_mutated_documents` (6 cases): the same, for
//!   documents the normalizer accepts, then `codegen::generate::generate`
//!   (progenitor, the slow part), which returns code or an error.
//! - `overlay_applier_survives_arbitrary_actions` (48 cases): overlays of one
//!   to three actions with JSONPath-like targets, valid and not, `update`
//!   with any JSON and `remove`, applied to the pinned document; an error
//!   of the applier names the action. One overlay in ten is damaged (a
//!   field of the wrong type), and then only "no panic" is asserted.
//! - `every_operation_decodes_arbitrary_bodies`: every operation of
//!   `probe_api::spec::operations()` is called through
//!   `probe_api::dynamic::call` against a loopback server that answers with
//!   15 hostile bodies at its success status (empty, `null`, 10,000 nested
//!   arrays and objects, invalid UTF-8, a cut example, every number -1,
//!   u64::MAX + 1, i64::MIN - 1, 1e400 or 0.5, every string invalid or
//!   huge) and 4 of them at an error status, then 160 random answers (the
//!   example answer edited in places, cut, any JSON or any bytes, at any
//!   documented or undocumented status). Each call ends in success or an
//!   error of the expected kind, and the client makes a plain call right
//!   after.
//! - `ffprobe_reports_decode_or_fail_and_round_trip` and
//!   `mediainfo_reports_decode_or_fail_and_round_trip` (384 cases each):
//!   report-shaped JSON with values of every type decodes into
//!   `FfprobeReport` or `MediaInfoReport`, or fails, the same from text as
//!   from a value; whatever decodes serializes and decodes to an equal report.
//!
//! A failure prints the smallest input proptest shrinks it to: the
//! mutations, the overlay, the exchange and the body.
//!
//! # Determinism
//!
//! Every property runs on proptest's ChaCha generator seeded with the fixed
//! `SEED` (`Config { rng_algorithm: RngAlgorithm::ChaCha, rng_seed:
//! RngSeed::Fixed(SEED), failure_persistence: None, .. }`): CI generates
//! exactly the cases a developer's run does, and no regression file is
//! written.
//!
//! # Longer runs
//!
//! `PROBE_PROPTEST_CASES=100000 cargo test -p tests --test properties --release`
//! runs that many cases of each property (of the generation property, which
//! runs progenitor, one in a hundred), and `PROBE_PROPTEST_SEED=<u64>` starts
//! from another seed to explore other inputs.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use probe_api::reports::{FfprobeReport, MediaInfoReport};
use probe_api::spec::{OperationSpec, operations};
use probe_api::{Client, ErrorKind, RetryPolicy, dynamic, mock};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestError, TestRunner};
use serde_json::{Map, Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtask::codegen::{self, escape_segment};

/// The seed of every property (the bytes of "PROBE-AP").
const SEED: u64 = 0x5052_4f42_452d_4150;

// ----- running properties -----

/// `default` cases, or `PROBE_PROPTEST_CASES` divided by `share` (at least one).
fn cases(default: u32, share: u32) -> u32 {
    match std::env::var("PROBE_PROPTEST_CASES") {
        Ok(text) => {
            let n: u32 = text
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("PROBE_PROPTEST_CASES={text:?} is not a count: {e}"));
            (n / share).max(1)
        }
        Err(_) => default,
    }
}

fn seed() -> u64 {
    match std::env::var("PROBE_PROPTEST_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("PROBE_PROPTEST_SEED={text:?} is not a u64: {e}")),
        Err(_) => SEED,
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed()),
        failure_persistence: None,
        max_shrink_iters: 256,
        // Only the generation property rejects (documents the normalizer
        // refuses), and it needs room for that.
        max_global_rejects: cases.saturating_mul(50).max(1024),
        ..Config::default()
    })
}

/// Runs `test` over `cases` values of `strategy`; a failure panics with the
/// reason and the smallest input that still fails.
fn check<S: Strategy>(
    property: &str,
    cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    match runner(cases).run(strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => panic!(
            "{property}: {reason}\nsmallest failing input:\n{input:#?}\n(PROBE_PROPTEST_SEED={} reproduces it)",
            seed()
        ),
        Err(TestError::Abort(reason)) => panic!("{property}: aborted: {reason}"),
    }
}

/// Runs `f`, turning a panic into `Err` with its message.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Asserts that each of two outcomes happened at least once in a run of
/// `cases`, so that neither half of a property goes untested. Runs too
/// short to say (`PROBE_PROPTEST_CASES` below 32) are not judged.
fn both_occur(cases: u32, (a, a_count): (&str, u32), (b, b_count): (&str, u32)) {
    if cases >= 32 {
        assert!(
            a_count > 0 && b_count > 0,
            "of {cases} cases, {a_count} {a} and {b_count} {b}"
        );
    }
}

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

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(TEXTS).prop_map(str::to_string),
        3 => "\\PC{0,12}",
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    let keys: Vec<&str> = KEYS.split_whitespace().collect();
    prop_oneof![select(keys).prop_map(str::to_string), "[a-z_@$-]{1,10}"].boxed()
}

fn number() -> BoxedStrategy<Value> {
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
fn any_json() -> BoxedStrategy<Value> {
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

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

// ----- JSON pointers -----

fn child(at: &str, segment: &str) -> String {
    format!("{at}/{}", escape_segment(segment))
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Every node below `value` (not `value` itself), as JSON pointers.
fn all_pointers(value: &Value, at: &str, out: &mut Vec<String>) {
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
fn delete(doc: &mut Value, at: &str) {
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

fn set(doc: &mut Value, at: &str, value: Value) {
    if let Some(slot) = doc.pointer_mut(at) {
        *slot = value;
    }
}

// ----- the pinned document and what to mutate in it -----

fn pinned_document() -> Vec<u8> {
    tests::read(&tests::root().join("openapi.json"))
}

fn pinned_overlay() -> Vec<u8> {
    tests::read(&tests::root().join("openapi.overlay.json"))
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the pinned document is JSON")
}

/// The places of the pinned document the mutations aim at.
#[derive(Debug)]
struct Targets {
    /// Every node.
    nodes: Vec<String>,
    /// Every schema object (components, parameters, media types, and the
    /// schemas inside them).
    schemas: Vec<String>,
    /// The schemas the normalizer flattens property by property, and the
    /// schemas inside them (see [`flattened_by_the_normalizer`]).
    flattened: Vec<String>,
    /// Inline path parameters (`in: path`).
    path_parameters: Vec<String>,
    /// Operation objects.
    operations: Vec<String>,
    /// Every operationId, and spellings that become the same method name.
    operation_ids: Vec<String>,
}

impl Targets {
    fn of(document: &Value, effective: &Value) -> Targets {
        let mut nodes = Vec::new();
        all_pointers(document, "", &mut nodes);
        let mut schemas = Vec::new();
        walk_document(document, "", &mut schemas);
        let walked = flattened_by_the_normalizer(effective);
        let flattened: Vec<String> = schemas
            .iter()
            .filter(|at| {
                walked
                    .iter()
                    .any(|root| *at == root || at.starts_with(&format!("{root}/")))
            })
            .cloned()
            .collect();
        assert!(
            !flattened.is_empty(),
            "the pinned document has no deepObject parameter or form body to make recursive"
        );

        let mut path_parameters = Vec::new();
        let mut operations = Vec::new();
        let mut operation_ids = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            let item_at = child("/paths", path);
            let mut parameter_lists = vec![(item_at.clone(), item)];
            for method in codegen::normalize::METHODS {
                if let Some(op) = item.get(method) {
                    let op_at = child(&item_at, method);
                    operations.push(op_at.clone());
                    parameter_lists.push((op_at, op));
                    if let Some(id) = op["operationId"].as_str() {
                        let last = id.rsplit(['/', '.']).next().unwrap_or(id);
                        operation_ids.extend([
                            id.to_string(),
                            last.to_string(),
                            codegen::ident::rust_method_name(id),
                            format!("elsewhere.{last}"),
                        ]);
                    }
                }
            }
            for (at, owner) in parameter_lists {
                for (i, parameter) in owner["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if parameter["in"] == "path" {
                        path_parameters.push(format!("{at}/parameters/{i}"));
                    }
                }
            }
        }
        Targets {
            nodes,
            schemas,
            flattened,
            path_parameters,
            operations,
            operation_ids,
        }
    }
}

/// Collects the schemas of a document outside any schema.
fn walk_document(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = child(at, k);
                if k == "schema" {
                    walk_schema(v, &p, out);
                } else if k == "schemas" && at == "/components" {
                    for (name, schema) in v.as_object().into_iter().flatten() {
                        walk_schema(schema, &child(&p, name), out);
                    }
                } else {
                    walk_document(v, &p, out);
                }
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                walk_document(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Collects a schema object and the schemas inside it.
fn walk_schema(value: &Value, at: &str, out: &mut Vec<String>) {
    let Value::Object(map) = value else {
        return;
    };
    out.push(at.to_string());
    for (k, v) in map {
        let p = child(at, k);
        match k.as_str() {
            "items" | "additionalProperties" | "not" => walk_schema(v, &p, out),
            "properties" => {
                for (name, schema) in v.as_object().into_iter().flatten() {
                    walk_schema(schema, &child(&p, name), out);
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                for (i, schema) in v.as_array().into_iter().flatten().enumerate() {
                    walk_schema(schema, &format!("{p}/{i}"), out);
                }
            }
            _ => {}
        }
    }
}

/// The schemas the normalizer walks property by property to flatten them:
/// those of `deepObject` parameters and form bodies, and everything they
/// reference, directly or not.
fn flattened_by_the_normalizer(document: &Value) -> BTreeSet<String> {
    let mut pending = Vec::new();
    let mut nodes = vec![String::new()];
    all_pointers(document, "", &mut nodes);
    for at in &nodes {
        let Some(node) = document.pointer(at) else {
            continue;
        };
        let media_type = at.rsplit('/').next().map(unescape).unwrap_or_default();
        let is_form = at.contains("/content/")
            && media_type.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if node.get("schema").is_some() && (node["style"] == "deepObject" || is_form) {
            pending.push(format!("{at}/schema"));
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(at) = pending.pop() {
        if !seen.insert(at.clone()) {
            continue;
        }
        let mut inside = vec![at.clone()];
        if let Some(node) = document.pointer(&at) {
            all_pointers(node, &at, &mut inside);
        }
        for p in inside {
            if let Some(reference) = document
                .pointer(&p)
                .and_then(|n| n.get("$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                pending.push(reference.to_string());
            }
        }
    }
    seen
}

// ----- mutations -----

/// One change to the document.
#[derive(Clone)]
enum Mutation {
    Delete(String),
    Replace(String, Value),
    SetType(String, Value),
    Reference {
        at: String,
        target: Value,
        keep_siblings: bool,
    },
    ReferenceEachOther(String, String),
    RenamePathParameter {
        parameter: String,
        to: String,
        in_template: bool,
    },
    Version(Value),
    OperationId(String, Value),
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Delete(at) => write!(f, "delete #{at}"),
            Mutation::Replace(at, with) => write!(f, "replace #{at} with {}", compact(with)),
            Mutation::SetType(at, to) => write!(f, "set #{at}/type to {}", compact(to)),
            Mutation::Reference {
                at,
                target,
                keep_siblings,
            } => write!(
                f,
                "set #{at}/$ref to {}{}",
                compact(target),
                if *keep_siblings {
                    " beside its other keywords"
                } else {
                    ", replacing the schema"
                }
            ),
            Mutation::ReferenceEachOther(a, b) => {
                write!(f, "make #{a} and #{b} references to each other")
            }
            Mutation::RenamePathParameter {
                parameter,
                to,
                in_template,
            } => write!(
                f,
                "rename the path parameter #{parameter} to {to:?}{}",
                if *in_template {
                    " in the path template too"
                } else {
                    ""
                }
            ),
            Mutation::Version(v) => write!(f, "set #/openapi to {}", compact(v)),
            Mutation::OperationId(at, id) => {
                write!(f, "set #{at}/operationId to {}", compact(id))
            }
        }
    }
}

impl fmt::Debug for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Mutation {
    fn apply(&self, doc: &mut Value) {
        match self {
            Mutation::Delete(at) => delete(doc, at),
            Mutation::Replace(at, with) => set(doc, at, with.clone()),
            Mutation::SetType(at, to) => {
                if let Some(Value::Object(schema)) = doc.pointer_mut(at) {
                    schema.insert("type".into(), to.clone());
                }
            }
            Mutation::Reference {
                at,
                target,
                keep_siblings,
            } => match doc.pointer_mut(at) {
                Some(Value::Object(schema)) if *keep_siblings => {
                    schema.insert("$ref".into(), target.clone());
                }
                Some(slot) => *slot = json!({ "$ref": target }),
                None => {}
            },
            Mutation::ReferenceEachOther(a, b) => {
                set(doc, a, json!({ "$ref": format!("#{b}") }));
                set(doc, b, json!({ "$ref": format!("#{a}") }));
            }
            Mutation::RenamePathParameter {
                parameter,
                to,
                in_template,
            } => {
                let Some(Value::Object(p)) = doc.pointer_mut(parameter) else {
                    return;
                };
                let old = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                p.insert("name".into(), json!(to));
                let template = parameter
                    .split('/')
                    .nth(2)
                    .map(unescape)
                    .unwrap_or_default();
                if *in_template
                    && let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut)
                {
                    let renamed = template.replace(&format!("{{{old}}}"), &format!("{{{to}}}"));
                    if let Some(item) = paths.remove(&template) {
                        paths.insert(renamed, item);
                    }
                }
            }
            Mutation::Version(v) => {
                if let Some(root) = doc.as_object_mut() {
                    root.insert("openapi".into(), v.clone());
                }
            }
            Mutation::OperationId(at, id) => {
                if let Some(Value::Object(op)) = doc.pointer_mut(at) {
                    op.insert("operationId".into(), id.clone());
                }
            }
        }
    }
}

/// `$ref` values that lead nowhere a schema can be: missing components,
/// other documents, non-schema nodes, malformed pointers, non-strings.
fn dangling_reference() -> BoxedStrategy<Value> {
    prop_oneof![
        select(vec![
            "#/components/schemas/DoesNotExist",
            "#/components/schemas/",
            "#/nowhere/at/all",
            "#",
            "#/paths",
            "#/info/title",
            "#/components/schemas/a~2b",
            "#/components/schemas/%7Bx%7D",
            "other.json#/components/schemas/Thing",
            "https://example.com/schema.json",
            "components/schemas/Thing",
            "",
        ])
        .prop_map(Value::from),
        select(vec![
            json!(42),
            Value::Null,
            json!([]),
            json!({"$ref": "#"})
        ]),
    ]
    .boxed()
}

fn type_value() -> BoxedStrategy<Value> {
    let name = prop_oneof![
        3 => select(vec![
            "string", "integer", "number", "boolean", "array", "object", "null", "", "String",
            "int", "file", "any",
        ])
        .prop_map(str::to_string),
        1 => "[a-zA-Z]{0,8}",
    ];
    prop_oneof![
        4 => name.clone().prop_map(Value::from),
        3 => prop::collection::vec(name, 0..4)
            .prop_map(|names| Value::Array(names.into_iter().map(Value::from).collect())),
        1 => any_json(),
    ]
    .boxed()
}

fn version() -> BoxedStrategy<Value> {
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

fn parameter_name() -> BoxedStrategy<String> {
    prop_oneof![
        select(vec![
            "",
            "x",
            "user-id",
            "session-id",
            "a/b",
            "{x}",
            "a}b",
            "a b",
            "ü",
            "123",
            "self",
            "type",
            "a%2Fb",
            "?q",
        ])
        .prop_map(str::to_string),
        "\\PC{0,8}",
    ]
    .boxed()
}

/// A reference from one of the schemas `places` to itself or to a schema
/// enclosing it: a schema that contains itself.
fn cycle(t: &Arc<Targets>, places: &[String]) -> BoxedStrategy<Mutation> {
    let t = t.clone();
    (select(places.to_vec()), any::<Index>(), any::<bool>())
        .prop_map(move |(at, pick, keep_siblings)| {
            // An enclosing schema or the schema itself: a cycle.
            let enclosing: Vec<&String> = t
                .schemas
                .iter()
                .filter(|s| at == **s || at.starts_with(&format!("{s}/")))
                .collect();
            let target = enclosing
                .get(pick.index(enclosing.len().max(1)))
                .map_or_else(|| at.clone(), |s| (*s).clone());
            Mutation::Reference {
                at,
                target: json!(format!("#{target}")),
                keep_siblings,
            }
        })
        .boxed()
}

fn mutation(t: &Arc<Targets>) -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => select(t.nodes.clone()).prop_map(Mutation::Delete),
        3 => (select(t.nodes.clone()), any_json()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        1 => any_json().prop_map(|v| Mutation::Replace(String::new(), v)),
        3 => (select(t.schemas.clone()), type_value()).prop_map(|(at, v)| Mutation::SetType(at, v)),
        2 => (select(t.schemas.clone()), dangling_reference(), any::<bool>()).prop_map(
            |(at, target, keep_siblings)| Mutation::Reference { at, target, keep_siblings }
        ),
        2 => cycle(t, &t.schemas),
        2 => cycle(t, &t.flattened),
        1 => (select(t.schemas.clone()), select(t.schemas.clone()), any::<bool>()).prop_map(
            |(at, target, keep_siblings)| Mutation::Reference {
                at,
                target: json!(format!("#{target}")),
                keep_siblings,
            }
        ),
        1 => (select(t.schemas.clone()), select(t.schemas.clone()))
            .prop_map(|(a, b)| Mutation::ReferenceEachOther(a, b)),
        2 => (select(t.path_parameters.clone()), parameter_name(), any::<bool>()).prop_map(
            |(parameter, to, in_template)| Mutation::RenamePathParameter {
                parameter,
                to,
                in_template,
            }
        ),
        1 => version().prop_map(Mutation::Version),
        2 => (
            select(t.operations.clone()),
            prop_oneof![
                4 => select(t.operation_ids.clone()).prop_map(Value::from),
                1 => Just(json!("")),
                1 => any_json(),
            ]
        )
            .prop_map(|(at, id)| Mutation::OperationId(at, id)),
    ]
    .boxed()
}

/// A mutated document and whether the overlay is applied to it.
#[derive(Clone)]
struct MutatedDocument {
    mutations: Vec<Mutation>,
    with_overlay: bool,
}

impl fmt::Debug for MutatedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the pinned document {} the overlay, after:",
            if self.with_overlay { "with" } else { "without" }
        )?;
        for m in &self.mutations {
            writeln!(f, "  - {m}")?;
        }
        Ok(())
    }
}

impl MutatedDocument {
    fn bytes(&self, pinned: &Value) -> Vec<u8> {
        let mut doc = pinned.clone();
        for m in &self.mutations {
            m.apply(&mut doc);
        }
        serde_json::to_vec(&doc).expect("a JSON value serializes")
    }
}

fn mutated_document(targets: &Arc<Targets>, most: usize) -> BoxedStrategy<MutatedDocument> {
    (
        prop::collection::vec(mutation(targets), 1..=most),
        prop::bool::weighted(0.75),
    )
        .prop_map(|(mutations, with_overlay)| MutatedDocument {
            mutations,
            with_overlay,
        })
        .boxed()
}

struct Pinned {
    document: Value,
    overlay: Vec<u8>,
    targets: Arc<Targets>,
}

fn pinned() -> Pinned {
    let bytes = pinned_document();
    let overlay = pinned_overlay();
    let document = parse(&bytes);
    let effective = codegen::run(&bytes, Some(&overlay))
        .expect("the pinned document and overlay go through the pipeline")
        .effective;
    let targets = Arc::new(Targets::of(&document, &effective));
    Pinned {
        document,
        overlay,
        targets,
    }
}

/// The pipeline over a mutated document, or the failure to report.
fn pipeline_of(
    pinned: &Pinned,
    case: &MutatedDocument,
) -> Result<Result<codegen::Pipeline, codegen::SpecError>, TestCaseError> {
    let bytes = case.bytes(&pinned.document);
    let overlay = case.with_overlay.then_some(pinned.overlay.as_slice());
    let result = no_panic(|| codegen::run(&bytes, overlay))
        .map_err(|panic| fail(format!("codegen::run panicked: {panic}")))?;
    match &result {
        Ok(pipeline) => {
            let version = pipeline.normalized.document["openapi"]
                .as_str()
                .unwrap_or_default();
            prop_assert!(
                version.starts_with("3.0"),
                "the normalized document claims OpenAPI {version:?}"
            );
        }
        Err(e) => {
            prop_assert!(
                e.pointer.starts_with('#') && !e.reason.trim().is_empty(),
                "an error without a place or a reason: {e:?}"
            );
        }
    }
    Ok(result)
}

#[test]
fn normalizer_survives_mutated_documents() {
    let pinned = pinned();
    let strategy = mutated_document(&pinned.targets, 3);
    let (accepted, refused) = (Cell::new(0u32), Cell::new(0u32));
    let recursive = Cell::new(0u32);
    let total = cases(64, 1);
    check(
        "the normalizer over mutated documents",
        total,
        &strategy,
        |case| {
            match pipeline_of(&pinned, &case)? {
                Ok(_) => accepted.set(accepted.get() + 1),
                Err(e) => {
                    refused.set(refused.get() + 1);
                    if e.reason.contains("cannot encode a recursive object") {
                        recursive.set(recursive.get() + 1);
                    }
                }
            }
            Ok(())
        },
    );
    // A schema that contains itself reaches the flattening of a deepObject
    // parameter or a form body, and is refused there rather than expanded
    // without end.
    if total >= 32 {
        assert!(
            recursive.get() > 0,
            "of {total} cases, none was refused as a recursive object"
        );
    }
    // Both outcomes occur, or the mutations are too tame or too wild to
    // test much.
    both_occur(
        total,
        ("accepted", accepted.get()),
        ("refused", refused.get()),
    );
}

#[test]
fn generation_survives_mutated_documents() {
    let pinned = pinned();
    let strategy = mutated_document(&pinned.targets, 2);
    check(
        "code generation over mutated documents",
        cases(6, 100),
        &strategy,
        |case| {
            let Ok(pipeline) = pipeline_of(&pinned, &case)? else {
                // The normalizer property covers refused documents; this one
                // needs documents that reach progenitor.
                return Err(TestCaseError::reject("the normalizer refused the document"));
            };
            let result = no_panic(|| codegen::generate::generate(&pipeline.normalized))
                .map_err(|panic| fail(format!("generate panicked: {panic}")))?;
            if let Err(e) = result {
                prop_assert!(
                    !e.reason.trim().is_empty(),
                    "an error without a reason: {e:?}"
                );
            }
            Ok(())
        },
    );
}

// ----- the overlay applier -----

/// Names in the pinned document a JSONPath can select.
fn overlay_names(document: &Value) -> Vec<String> {
    let mut names: Vec<String> = [
        "paths",
        "components",
        "schemas",
        "info",
        "title",
        "servers",
        "tags",
        "security",
        "parameters",
        "responses",
        "get",
        "post",
        "requestBody",
        "content",
        "application/json",
        "schema",
        "properties",
        "type",
        "description",
        "operationId",
        "200",
        "items",
        "x-new",
        "it's",
    ]
    .map(str::to_string)
    .to_vec();
    for section in ["paths", "components/schemas"] {
        let at = format!("/{section}");
        names.extend(
            document
                .pointer(&at)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys().cloned()),
        );
    }
    names
}

/// Filter selectors. Their regular expressions are cheap on purpose: the
/// applier compiles a `match()` or `search()` pattern for every node it
/// tests, so `$..[?match(@, 'a{10000}')]` alone takes about a minute over
/// the pinned document in a debug build.
const FILTERS: &[&str] = &[
    "[?@.type == 'string']",
    "[?@.type]",
    "[?@.in == 'path']",
    "[?@.name == 'session-id']",
    "[?@.required == true]",
    "[?length(@) > 2]",
    "[?length(@.properties) >= 1]",
    "[?count(@.*) == 1]",
    "[?match(@.type, 'str.*')]",
    "[?search(@.description, 'ID')]",
    "[?match(@, '(')]",
    "[?search(@, '[')]",
    "[?value(@..type) == 'object']",
    "[?!@.nullable]",
    "[?@.x < 1 || @.y > 2 && @.z != null]",
    "[?@ == 1.5e300]",
    "[?@ == -0]",
    "[?@['$ref']]",
    "[?length(@) == 18446744073709551616]",
];

/// Targets that are not JSONPath queries, or barely are.
const BROKEN_TARGETS: &[&str] = &[
    "",
    "$",
    "paths",
    "$.",
    "$[",
    "$..",
    "$['x",
    "$[?(@.a)]",
    "$[1:2:0]",
    "$[-9223372036854775808]",
    "$[9007199254740992]",
    "$[?@.x == ]",
    "$$",
    "@.paths",
    "$[?foo(@)]",
    "$['\\q']",
    "$[?match(@)]",
    "$.a b",
];

/// `name` inside single quotes, escaped as RFC 9535 asks.
fn escaped(name: &str) -> String {
    name.replace('\\', "\\\\").replace('\'', "\\'")
}

fn quoted(name: &str) -> String {
    format!("['{}']", escaped(name))
}

fn segment(names: &[String]) -> BoxedStrategy<String> {
    let name = prop_oneof![3 => select(names.to_vec()), 1 => "[a-zA-Z0-9_ /{}'-]{0,8}"];
    let index = prop_oneof![-3i64..5, any::<i64>()];
    prop_oneof![
        3 => name.clone().prop_map(|n| {
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
            {
                format!(".{n}")
            } else {
                quoted(&n)
            }
        }),
        1 => name.clone().prop_map(|n| format!("..{}", quoted(&n))),
        1 => select(vec![".*", "[*]", "..*", "..[*]"]).prop_map(str::to_string),
        1 => index.clone().prop_map(|i| format!("[{i}]")),
        1 => (
            prop::option::of(index.clone()),
            prop::option::of(index.clone()),
            prop::option::of(index)
        )
            .prop_map(|(a, b, c)| {
                let part = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
                match c {
                    Some(step) => format!("[{}:{}:{step}]", part(a), part(b)),
                    None => format!("[{}:{}]", part(a), part(b)),
                }
            }),
        1 => select(FILTERS).prop_map(str::to_string),
        1 => (name.clone(), name).prop_map(|(a, b)| format!("['{}','{}']", escaped(&a), escaped(&b))),
    ]
    .boxed()
}

fn target(names: &[String]) -> BoxedStrategy<String> {
    prop_oneof![
        8 => prop::collection::vec(segment(names), 0..5).prop_map(|s| format!("${}", s.concat())),
        1 => select(BROKEN_TARGETS).prop_map(str::to_string),
        1 => "\\PC{0,16}",
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Action {
    target: String,
    description: Option<String>,
    update: Option<Value>,
    remove: Option<bool>,
}

impl Action {
    fn to_json(&self) -> Value {
        let mut action = Map::new();
        action.insert("target".into(), json!(self.target));
        if let Some(description) = &self.description {
            action.insert("description".into(), json!(description));
        }
        if let Some(update) = &self.update {
            action.insert("update".into(), update.clone());
        }
        if let Some(remove) = self.remove {
            action.insert("remove".into(), json!(remove));
        }
        Value::Object(action)
    }
}

fn action(names: &[String]) -> BoxedStrategy<Action> {
    let update = prop_oneof![
        3 => prop::collection::vec((key(), any_json()), 0..4)
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        1 => any_json(),
    ];
    // Mostly what the specification allows (`update` or `remove: true`),
    // sometimes both, neither, or `remove: false`.
    let what = prop_oneof![
        6 => update.clone().prop_map(|u| (Some(u), None)),
        3 => Just((None, Some(true))),
        1 => Just((None, Some(false))),
        1 => update.prop_map(|u| (Some(u), Some(true))),
        1 => Just((None, None)),
    ];
    (target(names), prop::option::of(text()), what)
        .prop_map(|(target, description, (update, remove))| Action {
            target,
            description,
            update,
            remove,
        })
        .boxed()
}

/// An overlay document, possibly damaged where a typed parse fails.
#[derive(Clone)]
struct OverlayCase {
    actions: Vec<Action>,
    /// A field of the overlay document replaced by another value.
    damage: Option<(&'static str, Value)>,
}

impl fmt::Debug for OverlayCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.bytes()))
    }
}

impl OverlayCase {
    fn document(&self) -> Value {
        let mut overlay = json!({
            "overlay": "1.0.0",
            "info": {"title": "properties", "version": "1"},
            "actions": self.actions.iter().map(Action::to_json).collect::<Vec<_>>(),
        });
        if let Some((at, value)) = &self.damage {
            match overlay.pointer_mut(at) {
                Some(slot) => *slot = value.clone(),
                None => {
                    let (parent, last) = at.rsplit_once('/').unwrap_or_default();
                    if let Some(Value::Object(fields)) = overlay.pointer_mut(parent) {
                        fields.insert(unescape(last), value.clone());
                    }
                }
            }
        }
        overlay
    }

    fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.document()).expect("a JSON value serializes")
    }
}

fn overlay_case(names: &[String]) -> BoxedStrategy<OverlayCase> {
    let damage = prop_oneof![
        (
            select(vec![
                "/actions/0/target",
                "/actions/0/remove",
                "/actions/0/description"
            ]),
            select(vec![
                json!(7),
                Value::Null,
                json!(["$.paths"]),
                json!("yes")
            ]),
        ),
        (select(vec!["/overlay"]), version()),
        (
            select(vec!["/info", "/actions", "/extends"]),
            select(vec![
                Value::Null,
                json!("x"),
                json!({}),
                json!([]),
                json!(1)
            ]),
        ),
    ];
    (
        prop::collection::vec(action(names), 1..=3),
        prop::option::weighted(0.1, damage),
    )
        .prop_map(|(actions, damage)| OverlayCase { actions, damage })
        .boxed()
}

#[test]
fn overlay_applier_survives_arbitrary_actions() {
    let document = pinned_document();
    let names = overlay_names(&parse(&document));
    let strategy = overlay_case(&names);
    let (applied, refused) = (Cell::new(0u32), Cell::new(0u32));
    let total = cases(48, 1);
    check(
        "the overlay applier over arbitrary actions",
        total,
        &strategy,
        |case| {
            let overlay = case.bytes();
            let result = no_panic(|| codegen::run(&document, Some(&overlay)))
                .map_err(|panic| fail(format!("codegen::run panicked: {panic}")))?;
            let n = case.actions.len();
            match result {
                Ok(pipeline) => {
                    applied.set(applied.get() + 1);
                    prop_assert_eq!(pipeline.overlay.len(), n, "one outcome per action");
                }
                Err(e) if case.damage.is_some() => {
                    prop_assert!(
                        !e.reason.trim().is_empty(),
                        "an error without a reason: {e:?}"
                    );
                }
                Err(e) => {
                    let from_overlay = e.pointer.starts_with("#/actions/")
                        || e.reason.starts_with("the overlay")
                        || e.reason.starts_with("overlay");
                    if from_overlay {
                        refused.set(refused.get() + 1);
                        let names_action = (0..n).any(|i| {
                            e.pointer == format!("#/actions/{i}")
                                || e.reason.contains(&format!("actions[{i}]"))
                        });
                        prop_assert!(names_action, "the error names no action: {e}");
                    }
                    // Otherwise the overlay applied and the normalizer
                    // refused its result, which the normalizer property covers.
                }
            }
            Ok(())
        },
    );
    both_occur(
        total,
        ("applied", applied.get()),
        ("refused by the applier", refused.get()),
    );
}

// ----- response decoding through every operation -----

const KEY: &str = "pk_test_properties";

/// What the loopback server answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 200;
        let text = String::from_utf8_lossy(&self.body);
        let shown: String = text.chars().take(SHOWN).collect();
        write!(
            f,
            "{} {} with {} bytes: {shown:?}{}",
            self.status,
            self.content_type.unwrap_or("(no content type)"),
            self.body.len(),
            if text.chars().count() > SHOWN {
                "…"
            } else {
                ""
            }
        )
    }
}

/// The server answers every request with the current reply.
struct Scripted(Arc<Mutex<Reply>>);

impl wiremock::Respond for Scripted {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let reply = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let template = ResponseTemplate::new(reply.status);
        match reply.content_type {
            Some(content_type) => template.set_body_raw(reply.body, content_type),
            None => template.set_body_bytes(reply.body),
        }
    }
}

/// An operation with valid arguments and the schemas of its answers.
struct Operation {
    spec: &'static OperationSpec,
    params: Map<String, Value>,
    body: Option<Value>,
    success: u16,
    failure: u16,
    /// Status, and the example answer for it, from the normalized document.
    answers: Vec<(u16, Value)>,
}

/// The loopback server, a client for it, and every operation.
struct Exchanges {
    runtime: tokio::runtime::Runtime,
    reply: Arc<Mutex<Reply>>,
    _server: MockServer,
    client: Client,
    operations: Vec<Operation>,
}

/// Placeholders [`filled`] puts where numbers and strings go, so that a
/// rendering can put text there that no `serde_json::Value` can hold.
const NUMBER: &str = "\u{1}number";
const STRING: &str = "\u{1}string";

/// What [`filled`] puts in numbers and strings.
#[derive(Clone, Copy, PartialEq)]
enum Fill {
    /// Plain values of the schema's type and format.
    Plain,
    /// The [`NUMBER`] placeholder in every number.
    Numbers,
    /// The [`STRING`] placeholder in every string.
    Strings,
}

/// A value of `schema` with every property present and one item in every
/// array, or `null` past `depth` references.
fn filled(document: &Value, schema: &Value, fill: Fill, depth: u32) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if depth == 0 {
            return Value::Null;
        }
        let target = document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
        return filled(document, target, fill, depth - 1);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(members) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for member in members {
            match filled(document, member, fill, depth) {
                Value::Object(fields) => merged.extend(fields),
                other if members.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(first) = schema[combinator].as_array().and_then(|b| b.first()) {
            return filled(document, first, fill, depth);
        }
    }
    let string = |text: &str| {
        if fill == Fill::Strings {
            json!(STRING)
        } else {
            json!(text)
        }
    };
    let number = |n: Value| {
        if fill == Fill::Numbers {
            json!(NUMBER)
        } else {
            n
        }
    };
    match schema["type"].as_str() {
        Some("array") => json!([filled(document, &schema["items"], fill, depth)]),
        Some("string") => match schema["format"].as_str() {
            Some("uuid") => string("00000000-0000-0000-0000-000000000000"),
            Some("date-time") => string("2025-07-30T12:00:00Z"),
            Some("date") => string("2025-07-30"),
            Some("ip" | "ipv4") => string("192.0.2.1"),
            Some("uri" | "url") => string("https://example.com/a.mp4"),
            Some("email") => string("someone@example.com"),
            _ => string("text"),
        },
        Some("integer") => number(json!(1)),
        Some("number") => number(json!(1.5)),
        Some("boolean") => json!(true),
        _ => {
            let mut fields = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                fields.insert(name.clone(), filled(document, property, fill, depth));
            }
            if schema["additionalProperties"].is_object() {
                fields.insert(
                    "extra".into(),
                    filled(document, &schema["additionalProperties"], fill, depth),
                );
            }
            Value::Object(fields)
        }
    }
}

/// `value` as JSON text, with `number` and `string` where [`filled`] put
/// its placeholders.
fn render(value: &Value, number: &str, string: &[u8]) -> Vec<u8> {
    let text = serde_json::to_vec(value).expect("a JSON value serializes");
    let quoted = |placeholder: &str| serde_json::to_vec(placeholder).expect("a string serializes");
    let (number_at, string_at) = (quoted(NUMBER), quoted(STRING));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(&number_at) {
            out.extend_from_slice(number.as_bytes());
            i += number_at.len();
        } else if text[i..].starts_with(&string_at) {
            out.push(b'"');
            out.extend_from_slice(string);
            out.push(b'"');
            i += string_at.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// How deep [`filled`] follows references.
const DEPTH: u32 = 4;

fn response_schema<'a>(
    document: &'a Value,
    spec: &OperationSpec,
    status: &str,
) -> Option<&'a Value> {
    let at = format!(
        "/paths/{}/{}/responses/{}",
        escape_segment(spec.path),
        spec.method.to_ascii_lowercase(),
        escape_segment(status)
    );
    let mut response = document.pointer(&at)?;
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        response = document.pointer(reference.trim_start_matches('#'))?;
    }
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media_type, _)| media_type.contains("json"))
        .and_then(|(_, media)| media.get("schema"))
}

impl Exchanges {
    fn start() -> Exchanges {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let reply = Arc::new(Mutex::new(Reply {
            status: 204,
            content_type: None,
            body: Vec::new(),
        }));
        let server = runtime.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(wiremock::matchers::any())
                .respond_with(Scripted(reply.clone()))
                .mount(&server)
                .await;
            server
        });
        let client = Client::builder()
            .base_url(server.uri())
            .api_key(KEY)
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let pipeline = xtask::Layout::from_manifest_dir()
            .pipeline()
            .expect("the pinned document goes through the pipeline");
        let document = &pipeline.normalized.document;
        let operations = operations()
            .iter()
            .map(|spec| {
                let example = mock::example_call(spec.rust_name)
                    .unwrap_or_else(|e| panic!("{}: no example arguments: {e}", spec.rust_name));
                let at = format!(
                    "/paths/{}/{}/responses",
                    escape_segment(spec.path),
                    spec.method.to_ascii_lowercase()
                );
                let statuses: Vec<u16> = document
                    .pointer(&at)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|m| m.keys())
                    .filter_map(|s| s.parse().ok())
                    .collect();
                let answers = statuses
                    .iter()
                    .map(|status| {
                        let schema = response_schema(document, spec, &status.to_string())
                            .cloned()
                            .unwrap_or(Value::Null);
                        (*status, filled(document, &schema, Fill::Plain, DEPTH))
                    })
                    .collect();
                Operation {
                    spec,
                    params: example.params,
                    body: example.body,
                    success: statuses.iter().copied().find(|s| *s < 300).unwrap_or(200),
                    failure: statuses.iter().copied().find(|s| *s >= 400).unwrap_or(500),
                    answers,
                }
            })
            .collect();
        Exchanges {
            runtime,
            reply,
            _server: server,
            client,
            operations,
        }
    }

    fn answer(&self, reply: Reply) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = reply;
    }

    fn call(&self, op: &Operation) -> Result<Result<Value, probe_api::Error>, String> {
        no_panic(|| {
            self.runtime.block_on(dynamic::call(
                &self.client,
                op.spec.rust_name,
                &op.params,
                op.body.as_ref(),
            ))
        })
    }

    /// Calls `op` answered by `reply` and checks the outcome; `Err` says
    /// what is wrong.
    fn exchange(&self, op: &Operation, reply: &Reply) -> Result<Result<(), ErrorKind>, String> {
        let name = op.spec.rust_name;
        self.answer(reply.clone());
        let outcome = self
            .call(op)
            .map_err(|panic| format!("{name} panicked on {reply:?}: {panic}"))?;
        let kind = match outcome {
            Ok(_) => Ok(()),
            Err(error) => {
                let text = no_panic(|| error.to_string())
                    .map_err(|panic| format!("{name}: the error's Display panicked: {panic}"))?;
                if error.kind() == ErrorKind::InvalidRequest || text.is_empty() {
                    return Err(format!(
                        "{name}: the example call was refused before it was sent: {text:?}"
                    ));
                }
                Err(error.kind())
            }
        };
        // A success the document lists decodes or fails to; any other
        // status, listed or not, is a status error whatever the body.
        let listed_success =
            reply.status < 300 && op.answers.iter().any(|(status, _)| *status == reply.status);
        match kind {
            Ok(()) | Err(ErrorKind::Decode) if listed_success => {}
            Err(ErrorKind::Status) if !listed_success => {}
            other => {
                let wanted = if listed_success {
                    "success or a decode error"
                } else {
                    "a status error"
                };
                return Err(format!("{name}: {other:?}, not {wanted}, on {reply:?}"));
            }
        }
        self.still_usable()
            .map_err(|e| format!("after {name} got {reply:?}: {e}"))?;
        Ok(kind)
    }

    /// A plain call after the hostile one succeeds.
    fn still_usable(&self) -> Result<(), String> {
        let op = self
            .operations
            .iter()
            .find(|op| op.spec.rust_name == "delete_sessions")
            .ok_or("no delete_sessions operation")?;
        self.answer(Reply {
            status: 204,
            content_type: None,
            body: Vec::new(),
        });
        match self.call(op)? {
            Ok(Value::Null) => Ok(()),
            other => Err(format!(
                "the client is not usable: the next call gave {other:?}"
            )),
        }
    }
}

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> Vec<u8> {
    [open.repeat(depth), inner.to_string(), close.repeat(depth)]
        .concat()
        .into_bytes()
}

/// What a hostile body must do at a success status the document lists.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Decode: it is a valid answer.
    Decodes,
    /// Fail to decode, when the answer has JSON content.
    Fails,
    /// Either, without panicking.
    Either,
}

/// Bodies every operation gets at its success status, made from the
/// success schema: a label, the body, and what it must do.
fn hostile_bodies(document: &Value, schema: &Value) -> Vec<(&'static str, Vec<u8>, Expect)> {
    let numbers = filled(document, schema, Fill::Numbers, DEPTH);
    let strings = filled(document, schema, Fill::Strings, DEPTH);
    let example = filled(document, schema, Fill::Plain, DEPTH);
    let plain = serde_json::to_vec(&example).expect("a JSON value serializes");
    let half = plain[..plain.len() / 2].to_vec();
    let long = "é".repeat(32 * 1024);
    use Expect::{Decodes, Either, Fails};
    vec![
        ("the example", plain.clone(), Decodes),
        ("an empty body", Vec::new(), Fails),
        ("null", b"null".to_vec(), Either),
        ("10,000 nested arrays", nested(10_000, "[", "", "]"), Fails),
        // Unknown fields are skipped without recursion, so this may decode.
        (
            "10,000 nested objects",
            nested(10_000, "{\"a\":", "1", "}"),
            Either,
        ),
        ("invalid UTF-8 bytes", b"\xff\xfe{}".to_vec(), Fails),
        (
            "the example cut in half",
            half,
            if plain.len() > 2 { Fails } else { Either },
        ),
        ("every number -1", render(&numbers, "-1", b""), Either),
        (
            "every number u64::MAX + 1",
            render(&numbers, "18446744073709551616", b""),
            Either,
        ),
        (
            "every number i64::MIN - 1",
            render(&numbers, "-9223372036854775809", b""),
            Either,
        ),
        ("every number 1e400", render(&numbers, "1e400", b""), Either),
        ("every number 0.5", render(&numbers, "0.5", b""), Either),
        (
            "every string invalid UTF-8",
            render(&strings, "", b"\xff\xfe"),
            Either,
        ),
        (
            "every string a lone surrogate",
            render(&strings, "", b"\\ud800"),
            Either,
        ),
        (
            "every string 64 KiB",
            render(&strings, "", long.as_bytes()),
            Either,
        ),
    ]
}

/// The hostile bodies an operation also gets at an error status.
const AT_AN_ERROR_STATUS: &[&str] = &[
    "an empty body",
    "10,000 nested arrays",
    "invalid UTF-8 bytes",
    "every number -1",
];

/// How a random answer is made.
#[derive(Debug, Clone)]
enum Body {
    /// The example answer for the status, changed in places.
    Edited(Vec<(Index, Option<Value>)>),
    /// The example answer, cut.
    Cut(Index),
    /// Any JSON.
    Json(Value),
    /// Any bytes.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Exchange {
    operation: Index,
    status: Index,
    content_type: Option<&'static str>,
    body: Body,
}

fn exchange_strategy() -> BoxedStrategy<Exchange> {
    let edit = (
        any::<Index>(),
        prop::option::weighted(0.8, prop_oneof![number(), any_json()]),
    );
    let body = prop_oneof![
        6 => prop::collection::vec(edit, 1..4).prop_map(Body::Edited),
        1 => any::<Index>().prop_map(Body::Cut),
        2 => any_json().prop_map(Body::Json),
        1 => prop::collection::vec(any::<u8>(), 0..48).prop_map(Body::Bytes),
    ];
    let content_type = select(vec![
        Some("application/json"),
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/html"),
        None,
    ]);
    (any::<Index>(), any::<Index>(), content_type, body)
        .prop_map(|(operation, status, content_type, body)| Exchange {
            operation,
            status,
            content_type,
            body,
        })
        .boxed()
}

impl Exchange {
    /// The operation and the reply this exchange stands for.
    fn resolve<'a>(&self, exchanges: &'a Exchanges) -> (&'a Operation, Reply) {
        let op = &exchanges.operations[self.operation.index(exchanges.operations.len())];
        // Documented statuses, and a few the document does not list.
        let mut statuses: Vec<u16> = op.answers.iter().map(|(s, _)| *s).collect();
        statuses.extend([200, 302, 404, 418, 503]);
        let status = statuses[self.status.index(statuses.len())];
        let example = op
            .answers
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(Value::Null, |(_, v)| v.clone());
        let body = match &self.body {
            Body::Edited(edits) => {
                let mut value = example;
                for (at, with) in edits {
                    let mut nodes = Vec::new();
                    all_pointers(&value, "", &mut nodes);
                    if nodes.is_empty() {
                        value = with.clone().unwrap_or(Value::Null);
                        continue;
                    }
                    let node = &nodes[at.index(nodes.len())];
                    match with {
                        Some(v) => set(&mut value, node, v.clone()),
                        None => delete(&mut value, node),
                    }
                }
                serde_json::to_vec(&value).expect("a JSON value serializes")
            }
            Body::Cut(at) => {
                let text = serde_json::to_vec(&example).expect("a JSON value serializes");
                text[..at.index(text.len() + 1)].to_vec()
            }
            Body::Json(value) => serde_json::to_vec(value).expect("a JSON value serializes"),
            Body::Bytes(bytes) => bytes.clone(),
        };
        (
            op,
            Reply {
                status,
                content_type: self.content_type,
                body,
            },
        )
    }
}

#[test]
fn every_operation_decodes_arbitrary_bodies() {
    let exchanges = Exchanges::start();
    let document = xtask::Layout::from_manifest_dir()
        .pipeline()
        .expect("the pinned document goes through the pipeline")
        .normalized
        .document;
    assert!(!exchanges.operations.is_empty());

    // Hostile bodies, at the success status and at an error status.
    let mut failures = Vec::new();
    for op in &exchanges.operations {
        let name = op.spec.rust_name;
        let schema = response_schema(&document, op.spec, &op.success.to_string());
        for (label, body, expect) in hostile_bodies(&document, schema.unwrap_or(&Value::Null)) {
            let reply = Reply {
                status: op.success,
                content_type: Some("application/json"),
                body,
            };
            let kind = match exchanges.exchange(op, &reply) {
                Ok(kind) => kind,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            match (expect, kind) {
                (Expect::Decodes, Err(kind)) => {
                    failures.push(format!("{name}: {label} gave {kind:?} ({reply:?})"));
                }
                (Expect::Fails, Ok(())) if schema.is_some() => {
                    failures.push(format!("{name}: {label} decoded ({reply:?})"));
                }
                _ => {}
            }
            if AT_AN_ERROR_STATUS.contains(&label) {
                let reply = Reply {
                    status: op.failure,
                    ..reply
                };
                if let Err(e) = exchanges.exchange(op, &reply) {
                    failures.push(format!("{label} at {}: {e}", op.failure));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    check(
        "decoding random answers to every operation",
        cases(160, 1),
        &exchange_strategy(),
        |exchange| {
            let (op, reply) = exchange.resolve(&exchanges);
            exchanges.exchange(op, &reply).map(drop).map_err(fail)
        },
    );
}

// ----- typed tool reports -----

/// How a report type is read and written. (The `tests` crate does not
/// depend on serde, so the serde bounds are spelled by the callers.)
struct Codec<T> {
    from_slice: fn(&[u8]) -> serde_json::Result<T>,
    from_value: fn(Value) -> serde_json::Result<T>,
    to_vec: fn(&T) -> serde_json::Result<Vec<u8>>,
}

/// Decodes `value` as `T` from text and from the value; whatever decodes
/// must serialize and decode again to the same report.
fn round_trips<T: PartialEq + fmt::Debug>(
    codec: &Codec<T>,
    value: &Value,
) -> Result<bool, TestCaseError> {
    let text = serde_json::to_vec(value).expect("a JSON value serializes");
    let (from_text, from_value) =
        no_panic(|| ((codec.from_slice)(&text), (codec.from_value)(value.clone())))
            .map_err(|panic| fail(format!("decoding panicked: {panic}")))?;
    let report = match (from_text, from_value) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(&a, &b, "decoding text and decoding the value disagree");
            a
        }
        (Err(_), Err(_)) => return Ok(false),
        (a, b) => {
            return Err(fail(format!(
                "decoding text gave {a:?}, decoding the value gave {b:?}"
            )));
        }
    };
    let again = no_panic(|| (codec.to_vec)(&report))
        .map_err(|panic| fail(format!("serializing panicked: {panic}")))?
        .map_err(|e| fail(format!("{report:?} does not serialize: {e}")))?;
    let second = (codec.from_slice)(&again).map_err(|e| {
        fail(format!(
            "{} does not decode again: {e}",
            String::from_utf8_lossy(&again)
        ))
    })?;
    prop_assert_eq!(&second, &report, "the report changed in a round trip");
    Ok(true)
}

/// Values the tools print, as text and as JSON numbers, and anything else.
fn printed() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(vec![
            "12.012000", "N/A", "0/0", "30000/1001", "1/0", "-1", "1e400", "", "4800000", "0",
            "-0", " 5 ", "18446744073709551616", "9.99e307", "Yes", "No", "16:9",
        ])
        .prop_map(Value::from),
        3 => number(),
        2 => text().prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

/// An object with keys mostly from `names` (separated by white space) and
/// values from `value`.
fn object_of(names: &'static str, value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let names: Vec<&str> = names.split_whitespace().collect();
    let name = prop_oneof![6 => select(names).prop_map(str::to_string), 1 => key()];
    prop::collection::vec((name, value), 0..8)
        .prop_map(|fields| Value::Object(fields.into_iter().collect()))
        .boxed()
}

const FFPROBE_FIELDS: &str = "avg_frame_rate best_effort_timestamp best_effort_timestamp_time bit_rate \
    bits_per_raw_sample bits_per_sample channel_layout channels chroma_location \
    closed_captions codec_long_name codec_name codec_tag codec_tag_string codec_type \
    coded_height coded_width color_primaries color_range color_space color_transfer \
    display_aspect_ratio dts dts_time duration duration_time duration_ts end end_time \
    extradata_size field_order filename film_grain flags format_long_name format_name \
    has_b_frames height id index key_frame level max_bit_rate media_type nb_frames \
    nb_programs nb_read_frames nb_read_packets nb_samples nb_streams pcr_pid pict_type \
    pix_fmt pkt_size pmt_pid pos probe_score profile program_id program_num pts pts_time \
    r_frame_rate refs sample_aspect_ratio sample_fmt sample_rate size start start_pts \
    start_time stream_index time_base width";

const MEDIAINFO_FIELDS: &str = "AudioCount BitDepth BitRate BitRate_Mode ChannelLayout ChannelPositions Channels \
    ChromaSubsampling CodecID ColorSpace Compression_Mode Default DisplayAspectRatio \
    Duration Encoded_Application Encoded_Library FileSize Forced Format \
    Format_Commercial_IfAny Format_Compression Format_Level Format_Profile FrameCount \
    FrameRate FrameRate_Den FrameRate_Mode FrameRate_Num Height ID ImageCount IsStreamable \
    Language MenuCount OverallBitRate PixelAspectRatio Rotation SamplesPerFrame \
    SamplingCount SamplingRate ScanType StreamOrder StreamSize TextCount Title VideoCount \
    Width extra";

/// Adds `key: value` to an object when `value` is there.
fn with(object: Value, key: &str, value: Option<Value>) -> Value {
    match (object, value) {
        (Value::Object(mut fields), Some(value)) => {
            fields.insert(key.to_string(), value);
            Value::Object(fields)
        }
        (object, _) => object,
    }
}

/// An ffprobe section: a stream, a frame, a packet, the format.
fn ffprobe_section() -> BoxedStrategy<Value> {
    let tags = prop::collection::btree_map(
        key(),
        prop_oneof![3 => text().prop_map(Value::from), 1 => any_json()],
        0..3,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    let disposition = prop::collection::btree_map(
        key(),
        prop_oneof![3 => (0i64..2).prop_map(Value::from), 1 => number()],
        0..3,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    (
        object_of(FFPROBE_FIELDS, printed()),
        prop::option::weighted(
            0.8,
            prop_oneof![4 => (0u32..4).prop_map(Value::from), 1 => printed()],
        ),
        prop::option::weighted(
            0.5,
            prop_oneof![
                select(vec!["packet", "frame", "subtitle", "video", "audio"]).prop_map(Value::from),
                printed(),
            ],
        ),
        prop::option::of(tags),
        prop::option::of(disposition),
    )
        .prop_map(|(fields, index, kind, tags, disposition)| {
            let fields = with(fields, "index", index);
            let fields = with(fields, "type", kind.clone());
            let fields = with(fields, "codec_type", kind);
            let fields = with(fields, "tags", tags);
            with(fields, "disposition", disposition)
        })
        .boxed()
}

fn ffprobe_report() -> BoxedStrategy<Value> {
    let list =
        || prop::option::of(prop::collection::vec(ffprobe_section(), 0..3).prop_map(Value::Array));
    let programs = prop::option::of(
        prop::collection::vec(
            (
                ffprobe_section(),
                prop::option::of(prop::collection::vec(ffprobe_section(), 0..2)),
            )
                .prop_map(|(p, streams)| with(p, "streams", streams.map(Value::Array))),
            0..2,
        )
        .prop_map(Value::Array),
    );
    (
        (
            prop::option::of(ffprobe_section()),
            list(),
            list(),
            programs,
        ),
        (list(), list(), list()),
        prop::collection::btree_map(key(), any_json(), 0..2),
        prop::option::weighted(0.05, any_json()),
    )
        .prop_map(
            |((format, streams, chapters, programs), (frames, packets, both), extra, whole)| {
                if let Some(whole) = whole {
                    return whole;
                }
                let mut report = Value::Object(extra.into_iter().collect());
                for (key, value) in [
                    ("format", format),
                    ("streams", streams),
                    ("chapters", chapters),
                    ("programs", programs),
                    ("frames", frames),
                    ("packets", packets),
                    ("packets_and_frames", both),
                ] {
                    report = with(report, key, value);
                }
                report
            },
        )
        .boxed()
}

fn mediainfo_report() -> BoxedStrategy<Value> {
    let track = (
        object_of(MEDIAINFO_FIELDS, printed()),
        prop::option::weighted(
            0.9,
            prop_oneof![
                4 => select(vec!["General", "Video", "Audio", "Text", "Image", "Menu", "Other"])
                    .prop_map(Value::from),
                1 => printed(),
            ],
        ),
    )
        .prop_map(|(fields, kind)| with(fields, "@type", kind));
    let tracks = prop_oneof![
        6 => prop::collection::vec(track, 0..4).prop_map(Value::Array),
        1 => any_json(),
    ];
    let media = (
        tracks,
        prop::option::of(text().prop_map(Value::from)),
        prop::collection::btree_map(key(), any_json(), 0..2),
    )
        .prop_map(|(tracks, reference, extra)| {
            let media = with(
                Value::Object(extra.into_iter().collect()),
                "track",
                Some(tracks),
            );
            with(media, "@ref", reference)
        });
    let library = object_of("name version url", printed());
    (
        prop::option::weighted(0.9, media),
        prop::option::of(library),
        prop::collection::btree_map(key(), any_json(), 0..2),
        prop::option::weighted(0.05, any_json()),
    )
        .prop_map(|(media, library, extra, whole)| {
            if let Some(whole) = whole {
                return whole;
            }
            let report = with(Value::Object(extra.into_iter().collect()), "media", media);
            with(report, "creatingLibrary", library)
        })
        .boxed()
}

fn report_property<T: PartialEq + fmt::Debug>(
    name: &str,
    codec: &Codec<T>,
    strategy: BoxedStrategy<Value>,
) {
    let decoded = Cell::new(0u32);
    let total = cases(384, 1);
    check(name, total, &strategy, |value| {
        if round_trips(codec, &value)? {
            decoded.set(decoded.get() + 1);
        }
        Ok(())
    });
    // Both outcomes occur often enough for the property to mean something.
    both_occur(
        total,
        ("decoded", decoded.get()),
        ("refused", total - decoded.get()),
    );
}

#[test]
fn ffprobe_reports_decode_or_fail_and_round_trip() {
    let codec = Codec::<FfprobeReport> {
        from_slice: |bytes| serde_json::from_slice(bytes),
        from_value: serde_json::from_value,
        to_vec: |report| serde_json::to_vec(report),
    };
    report_property(
        "FfprobeReport from arbitrary JSON",
        &codec,
        ffprobe_report(),
    );
}

#[test]
fn mediainfo_reports_decode_or_fail_and_round_trip() {
    let codec = Codec::<MediaInfoReport> {
        from_slice: |bytes| serde_json::from_slice(bytes),
        from_value: serde_json::from_value,
        to_vec: |report| serde_json::to_vec(report),
    };
    report_property(
        "MediaInfoReport from arbitrary JSON",
        &codec,
        mediainfo_report(),
    );
}
