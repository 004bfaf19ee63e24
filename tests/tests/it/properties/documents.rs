//! Mutated documents through the normalizer and the generator.
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

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use xtask::codegen;

use super::json::{all_pointers, any_json, child, compact, delete, set, unescape, version};
use super::{both_occur, cases, check, fail, no_panic, parse, pinned_document, pinned_overlay};

// ----- what to mutate in the pinned document -----

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
