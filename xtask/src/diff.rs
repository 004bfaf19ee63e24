//! `cargo xtask diff OLD NEW`: what changed for SDK users between two
//! OpenAPI documents.
//!
//! The documents are compared as JSON, after resolving local `$ref`s where a
//! comparison needs the target; they do not have to go through the
//! normalizer or progenitor. Each change is marked for a user of the SDK
//! generated from the old document:
//!
//! - **Operations.** Added: compatible. Removed, or an operationId change
//!   that renames the client method: breaking.
//! - **Parameters** (identified by name and location). New optional:
//!   compatible. New required, removed, optional made required: breaking.
//!   Required made optional: compatible.
//! - **Request bodies.** New optional body: compatible; new required body,
//!   removed body, body made required: breaking. A new or removed media
//!   type is breaking when it changes the media type the client sends (it
//!   sends the JSON body when the operation offers one, as the normalizer
//!   decides), because `.body(..)` then takes another type; otherwise
//!   compatible.
//! - **Responses.** A new error response: compatible. A new success
//!   response whose body type the operation did not return before: breaking
//!   (the method's response type can change). A removed success response:
//!   breaking; a removed error response: compatible (errors are
//!   `probe_api::Error` whatever the document lists).
//! - **Security.** A new alternative: compatible. A removed one: breaking
//!   (a credential that worked is refused).
//! - **Schemas** (components and inline), judged by the way they travel:
//!   models are built through their builders and read through their
//!   fields. A type change (including a nullability or format change, or a
//!   reference to another schema) is breaking. A removed property is
//!   breaking. A new property is compatible, unless it is required in a
//!   request. Optional made required is breaking (a request must now set it;
//!   a response field goes from `Option<T>` to `T`). Required made optional
//!   is compatible in a request and breaking in a response (`T` to
//!   `Option<T>`). A removed enum value is breaking. A new enum value is
//!   compatible in a request (callers build values, a new variant is one
//!   more choice) and breaking in a response: the generated enums are closed
//!   (no `#[non_exhaustive]`), so the new SDK's enum gains a variant and
//!   callers' exhaustive `match`es stop compiling; a client built from the
//!   old document reads the value as `probe_api::lenient::OrUnknown::Unknown`
//!   instead of failing. A schema no operation uses is judged both ways.
//! - **New and removed schemas** are listed with the change that brings or
//!   drops them (an added operation, a new media type, a new property) as
//!   its new or removed types; a schema added or removed on its own is a
//!   change of its own (added: compatible; removed: breaking).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::codegen::ident::rust_method_name;
use crate::codegen::normalize::{METHODS, normalize};
use crate::codegen::refs::{resolve_lenient, schema_name};

/// Whether a change can break code written against the SDK built from the
/// old document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// Code that compiled and worked may no longer do so.
    Breaking,
    /// Existing code keeps compiling and working.
    Compatible,
}

impl Impact {
    /// `breaking` or `compatible`.
    pub fn name(self) -> &'static str {
        match self {
            Impact::Breaking => "breaking",
            Impact::Compatible => "compatible",
        }
    }
}

/// The kinds of change the diff reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A new operation.
    OperationAdded,
    /// An operation is gone.
    OperationRemoved,
    /// The operationId changed so that the client method has another name.
    MethodRenamed,
    /// A new parameter.
    ParameterAdded,
    /// A parameter is gone.
    ParameterRemoved,
    /// An optional parameter became required.
    ParameterRequired,
    /// A required parameter became optional.
    ParameterOptional,
    /// A new request body.
    RequestBodyAdded,
    /// The request body is gone.
    RequestBodyRemoved,
    /// An optional request body became required.
    RequestBodyRequired,
    /// A required request body became optional.
    RequestBodyOptional,
    /// The request body accepts a new media type.
    RequestMediaTypeAdded,
    /// The request body no longer accepts a media type.
    RequestMediaTypeRemoved,
    /// A new response status.
    ResponseAdded,
    /// A response status is gone.
    ResponseRemoved,
    /// A response has a new media type.
    ResponseMediaTypeAdded,
    /// A response lost a media type.
    ResponseMediaTypeRemoved,
    /// The security alternatives changed.
    SecurityChanged,
    /// A new component schema, brought by no other change.
    SchemaAdded,
    /// A component schema is gone, dropped by no other change.
    SchemaRemoved,
    /// A new property.
    PropertyAdded,
    /// A property is gone.
    PropertyRemoved,
    /// An optional property became required.
    PropertyRequired,
    /// A required property became optional.
    PropertyOptional,
    /// A schema has another type (including nullability, format, or the
    /// schema it refers to).
    TypeChanged,
    /// An enum accepts new values.
    EnumValueAdded,
    /// An enum lost values.
    EnumValueRemoved,
}

/// One change, as a user of the SDK sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking or compatible.
    pub impact: Impact,
    /// What kind of change.
    pub kind: Kind,
    /// The operation (`GET /path`) or schema (`schema Name`) concerned.
    pub subject: String,
    /// The client method of the operation, if the subject is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust_method: Option<String>,
    /// Where inside the subject (`parameter `only` (query)`, `request body
    /// (application/json)`, `property `ffprobe.enabled``); empty for the
    /// subject itself.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// What changed, in one sentence.
    pub detail: String,
    /// Component schemas that are new and arrive with this change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_types: Vec<String>,
    /// Component schemas that are gone with this change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_types: Vec<String>,
}

/// Every change between two documents, operations first (by path, then
/// method), then schemas (by name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The changes.
    pub changes: Vec<Change>,
}

impl Diff {
    /// How many changes are breaking.
    pub fn breaking(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.impact == Impact::Breaking)
            .count()
    }

    /// Whether nothing changed for SDK users.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plain-text summary: one block per operation or schema.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes for SDK users.\n");
            return out;
        }
        let breaking = self.breaking();
        let _ = writeln!(
            out,
            "{} change(s) for SDK users: {breaking} breaking, {} compatible",
            self.changes.len(),
            self.changes.len() - breaking
        );
        let mut subject: Option<&str> = None;
        for change in &self.changes {
            if subject != Some(change.subject.as_str()) {
                subject = Some(&change.subject);
                match &change.rust_method {
                    Some(method) => {
                        let _ = writeln!(out, "\n{} ({method})", change.subject);
                    }
                    None => {
                        let _ = writeln!(out, "\n{}", change.subject);
                    }
                }
            }
            let what = if change.location.is_empty() {
                change.detail.clone()
            } else {
                format!("{}: {}", change.location, change.detail)
            };
            let _ = writeln!(out, "  {:<11} {what}", change.impact.name());
            if !change.new_types.is_empty() {
                let _ = writeln!(
                    out,
                    "              new types: {}",
                    change.new_types.join(", ")
                );
            }
            if !change.removed_types.is_empty() {
                let _ = writeln!(
                    out,
                    "              removed types: {}",
                    change.removed_types.join(", ")
                );
            }
        }
        out
    }

    /// The machine-readable form: counts and every change.
    pub fn to_json(&self) -> Value {
        let breaking = self.breaking();
        serde_json::json!({
            "breaking": breaking,
            "compatible": self.changes.len() - breaking,
            "changes": self.changes,
        })
    }
}

/// Compares two OpenAPI 3.x documents.
///
/// # Errors
///
/// A document that is not a JSON object with an `openapi` version string.
pub fn diff(old: &Value, new: &Value) -> Result<Diff, String> {
    for (label, doc) in [("the old document", old), ("the new document", new)] {
        if doc.get("openapi").and_then(Value::as_str).is_none() {
            return Err(format!(
                "{label} is not an OpenAPI document (no `openapi` version string)"
            ));
        }
    }
    let mut differ = Differ {
        old,
        new,
        usage_old: usage(old),
        usage_new: usage(new),
        sent_old: sent_media_types(old),
        sent_new: sent_media_types(new),
        pending: Vec::new(),
    };
    differ.operations();
    differ.schemas();
    Ok(differ.finish())
}

/// A short description of a schema's type, as the diff and the API surface
/// print it: `string(uuid)`, `integer?` (nullable), `array<Name>`,
/// `map<string, any>`, `object`, `oneOf<A | B>`, a component's name.
pub fn describe(schema: &Value) -> String {
    describe_at(schema, 0)
}

fn describe_at(schema: &Value, depth: usize) -> String {
    if depth > 16 {
        return "…".to_string();
    }
    let Some(map) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => "any".to_string(),
            Value::Bool(false) => "never".to_string(),
            _ => "invalid schema".to_string(),
        };
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    let mut nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut concrete: Vec<String> = Vec::new();
    for t in types {
        if t == "null" {
            nullable = true;
            continue;
        }
        concrete.push(match t {
            "array" => match map.get("items") {
                Some(items) => format!("array<{}>", describe_at(items, depth + 1)),
                None => "array<any>".to_string(),
            },
            "object" => match map.get("additionalProperties") {
                Some(extra) if !map.contains_key("properties") && extra != &Value::Bool(false) => {
                    format!("map<string, {}>", describe_at(extra, depth + 1))
                }
                _ => "object".to_string(),
            },
            other => match map.get("format").and_then(Value::as_str) {
                Some(format) => format!("{other}({format})"),
                None => other.to_string(),
            },
        });
    }
    let mut label = if !concrete.is_empty() {
        concrete.join(" | ")
    } else if let Some(value) = map.get("const") {
        format!("const {value}")
    } else {
        let mut composed = None;
        for keyword in ["allOf", "anyOf", "oneOf"] {
            if let Some(members) = map.get(keyword).and_then(Value::as_array) {
                let parts: Vec<String> =
                    members.iter().map(|m| describe_at(m, depth + 1)).collect();
                composed = Some(if keyword == "allOf" && parts.len() == 1 {
                    parts[0].clone()
                } else {
                    format!("{keyword}<{}>", parts.join(" | "))
                });
                break;
            }
        }
        match composed {
            Some(c) => c,
            None if map.contains_key("properties") => "object".to_string(),
            None if map.contains_key("enum") => "enum".to_string(),
            None => "any".to_string(),
        }
    };
    if nullable {
        label.push('?');
    }
    label
}

/// Component schemas reachable from `value`, following references
/// transitively through the document.
fn reachable(doc: &Value, value: &Value, found: &mut BTreeSet<String>) {
    let mut stack = vec![value];
    let mut visited_targets = BTreeSet::new();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(target) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                {
                    if let Some(name) = target.strip_prefix("/components/schemas/") {
                        found.insert(name.to_string());
                    }
                    if visited_targets.insert(target.to_string())
                        && let Some(next) = doc.pointer(target)
                    {
                        stack.push(next);
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

/// Which way a schema travels: in requests, in responses, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Dir {
    request: bool,
    response: bool,
}

impl Dir {
    const REQUEST: Dir = Dir {
        request: true,
        response: false,
    };
    const RESPONSE: Dir = Dir {
        request: false,
        response: true,
    };
    const BOTH: Dir = Dir {
        request: true,
        response: true,
    };
}

/// One operation of a document.
struct Op<'a> {
    path_item: &'a Value,
    operation: &'a Value,
}

/// Operations keyed by path, then method position in [`METHODS`].
fn operations(doc: &Value) -> BTreeMap<(String, usize), Op<'_>> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let item = resolve_lenient(doc, item);
        for (index, method) in METHODS.iter().enumerate() {
            if let Some(operation) = item.get(*method).filter(|o| o.is_object()) {
                out.insert(
                    (path.clone(), index),
                    Op {
                        path_item: item,
                        operation,
                    },
                );
            }
        }
    }
    out
}

/// The parameters of an operation, path-level ones included, keyed by
/// `(name, in)` in document order.
fn parameters<'a>(doc: &'a Value, op: &Op<'a>) -> Vec<((String, String), &'a Value)> {
    let mut out: Vec<((String, String), &Value)> = Vec::new();
    for list in [&op.path_item["parameters"], &op.operation["parameters"]] {
        for parameter in list.as_array().into_iter().flatten() {
            let parameter = resolve_lenient(doc, parameter);
            let key = (
                parameter["name"].as_str().unwrap_or_default().to_string(),
                parameter["in"].as_str().unwrap_or_default().to_string(),
            );
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = parameter,
                None => out.push((key, parameter)),
            }
        }
    }
    out
}

fn parameter_schema(parameter: &Value) -> &Value {
    if let Some(schema) = parameter.get("schema") {
        return schema;
    }
    parameter["content"]
        .as_object()
        .and_then(|c| c.values().next())
        .map_or(&Value::Null, |m| &m["schema"])
}

/// The security alternatives of an operation, each a sorted list of scheme
/// names; anonymous access is the empty list.
fn security(doc: &Value, op: &Op<'_>) -> BTreeSet<Vec<String>> {
    let list = op
        .operation
        .get("security")
        .or_else(|| doc.get("security"))
        .and_then(Value::as_array);
    let mut out = BTreeSet::new();
    match list {
        Some(list) if !list.is_empty() => {
            for requirement in list {
                let mut names: Vec<String> = requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect();
                names.sort();
                out.insert(names);
            }
        }
        _ => {
            out.insert(Vec::new());
        }
    }
    out
}

fn security_label(alternative: &[String]) -> String {
    if alternative.is_empty() {
        "anonymous access".to_string()
    } else {
        alternative
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Which way each component schema travels in a document's operations.
fn usage(doc: &Value) -> HashMap<String, Dir> {
    let mut out: HashMap<String, Dir> = HashMap::new();
    for op in operations(doc).values() {
        let mut request = BTreeSet::new();
        for (_, parameter) in parameters(doc, op) {
            reachable(doc, parameter, &mut request);
        }
        if let Some(body) = op.operation.get("requestBody") {
            reachable(doc, body, &mut request);
        }
        let mut response = BTreeSet::new();
        if let Some(responses) = op.operation.get("responses") {
            reachable(doc, responses, &mut response);
        }
        for (names, dir) in [(request, Dir::REQUEST), (response, Dir::RESPONSE)] {
            for name in names {
                let entry = out.entry(name).or_default();
                entry.request |= dir.request;
                entry.response |= dir.response;
            }
        }
    }
    out
}

/// The request media type the generated client sends for each operation,
/// as the normalizer chooses it; `None` when the document cannot be
/// normalized.
fn sent_media_types(doc: &Value) -> Option<HashMap<(String, String), String>> {
    let normalized = normalize(doc).ok()?;
    Some(
        normalized
            .operations
            .into_iter()
            .filter_map(|op| {
                op.request_media_type
                    .map(|media| ((op.method, op.path), media))
            })
            .collect(),
    )
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

/// The operation or schema a change belongs to.
#[derive(Clone)]
struct Subject {
    name: String,
    rust_method: Option<String>,
}

/// A change and the document parts that may bring or drop schemas with it.
struct Pending {
    change: Change,
    new_roots: Vec<Value>,
    old_roots: Vec<Value>,
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    usage_old: HashMap<String, Dir>,
    usage_new: HashMap<String, Dir>,
    sent_old: Option<HashMap<(String, String), String>>,
    sent_new: Option<HashMap<(String, String), String>>,
    pending: Vec<Pending>,
}

impl<'a> Differ<'a> {
    fn push(
        &mut self,
        subject: &Subject,
        location: &str,
        kind: Kind,
        impact: Impact,
        detail: String,
        roots: (Option<&Value>, Option<&Value>),
    ) {
        self.pending.push(Pending {
            change: Change {
                impact,
                kind,
                subject: subject.name.clone(),
                rust_method: subject.rust_method.clone(),
                location: location.to_string(),
                detail,
                new_types: Vec::new(),
                removed_types: Vec::new(),
            },
            old_roots: roots.0.cloned().into_iter().collect(),
            new_roots: roots.1.cloned().into_iter().collect(),
        });
    }

    fn operations(&mut self) {
        let old_ops = operations(self.old);
        let new_ops = operations(self.new);
        let keys: BTreeSet<&(String, usize)> = old_ops.keys().chain(new_ops.keys()).collect();
        for key in keys {
            let (path, index) = key;
            let method = METHODS[*index].to_uppercase();
            let name = format!("{method} {path}");
            let method_of =
                |op: &Op<'_>| op.operation["operationId"].as_str().map(rust_method_name);
            match (old_ops.get(key), new_ops.get(key)) {
                (None, Some(op)) => {
                    let subject = Subject {
                        name,
                        rust_method: method_of(op),
                    };
                    self.push(
                        &subject,
                        "",
                        Kind::OperationAdded,
                        Impact::Compatible,
                        "operation added".to_string(),
                        (None, Some(op.operation)),
                    );
                }
                (Some(op), None) => {
                    let subject = Subject {
                        name,
                        rust_method: method_of(op),
                    };
                    self.push(
                        &subject,
                        "",
                        Kind::OperationRemoved,
                        Impact::Breaking,
                        "operation removed".to_string(),
                        (Some(op.operation), None),
                    );
                }
                (Some(old), Some(new)) => {
                    let subject = Subject {
                        name,
                        rust_method: method_of(new),
                    };
                    let (old_method, new_method) = (method_of(old), method_of(new));
                    if old_method != new_method {
                        self.push(
                            &subject,
                            "",
                            Kind::MethodRenamed,
                            Impact::Breaking,
                            format!(
                                "client method renamed from {}() to {}()",
                                old_method.as_deref().unwrap_or("(none)"),
                                new_method.as_deref().unwrap_or("(none)")
                            ),
                            (None, None),
                        );
                    }
                    self.parameters(&subject, old, new);
                    self.request_body(&subject, (&method, path), old, new);
                    self.responses(&subject, old, new);
                    self.security(&subject, old, new);
                }
                (None, None) => {}
            }
        }
    }

    fn parameters(&mut self, subject: &Subject, old: &Op<'a>, new: &Op<'a>) {
        let old_params = parameters(self.old, old);
        let new_params = parameters(self.new, new);
        for ((name, place), parameter) in &new_params {
            let location = format!("parameter `{name}` ({place})");
            let required = parameter["required"].as_bool() == Some(true);
            match old_params
                .iter()
                .find(|(k, _)| *k == (name.clone(), place.clone()))
            {
                None => self.push(
                    subject,
                    &location,
                    Kind::ParameterAdded,
                    if required {
                        Impact::Breaking
                    } else {
                        Impact::Compatible
                    },
                    format!(
                        "added ({}, {})",
                        describe(parameter_schema(parameter)),
                        if required { "required" } else { "optional" }
                    ),
                    (None, Some(parameter)),
                ),
                Some((_, before)) => {
                    let was_required = before["required"].as_bool() == Some(true);
                    if required && !was_required {
                        self.push(
                            subject,
                            &location,
                            Kind::ParameterRequired,
                            Impact::Breaking,
                            "optional before, required now".to_string(),
                            (None, None),
                        );
                    } else if was_required && !required {
                        self.push(
                            subject,
                            &location,
                            Kind::ParameterOptional,
                            Impact::Compatible,
                            "required before, optional now".to_string(),
                            (None, None),
                        );
                    }
                    self.schema(
                        subject,
                        &location,
                        parameter_schema(before),
                        parameter_schema(parameter),
                        Dir::REQUEST,
                        0,
                    );
                }
            }
        }
        for ((name, place), parameter) in &old_params {
            if !new_params
                .iter()
                .any(|(k, _)| k.0 == *name && k.1 == *place)
            {
                self.push(
                    subject,
                    &format!("parameter `{name}` ({place})"),
                    Kind::ParameterRemoved,
                    Impact::Breaking,
                    "removed".to_string(),
                    (Some(parameter), None),
                );
            }
        }
    }

    fn request_body(&mut self, subject: &Subject, key: (&str, &str), old: &Op<'a>, new: &Op<'a>) {
        let (old_doc, new_doc) = (self.old, self.new);
        let old_body = old
            .operation
            .get("requestBody")
            .map(|b| resolve_lenient(old_doc, b));
        let new_body = new
            .operation
            .get("requestBody")
            .map(|b| resolve_lenient(new_doc, b));
        let location = "request body";
        let required = |b: &Value| b["required"].as_bool() == Some(true);
        let (old_body, new_body) = match (old_body, new_body) {
            (None, None) => return,
            (None, Some(body)) => {
                let media: Vec<&String> = body["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .collect();
                self.push(
                    subject,
                    location,
                    Kind::RequestBodyAdded,
                    if required(body) {
                        Impact::Breaking
                    } else {
                        Impact::Compatible
                    },
                    format!(
                        "added ({}; {})",
                        media
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if required(body) {
                            "required"
                        } else {
                            "optional"
                        }
                    ),
                    (None, Some(body)),
                );
                return;
            }
            (Some(body), None) => {
                self.push(
                    subject,
                    location,
                    Kind::RequestBodyRemoved,
                    Impact::Breaking,
                    "removed".to_string(),
                    (Some(body), None),
                );
                return;
            }
            (Some(o), Some(n)) => (o, n),
        };
        if required(new_body) && !required(old_body) {
            self.push(
                subject,
                location,
                Kind::RequestBodyRequired,
                Impact::Breaking,
                "optional before, required now".to_string(),
                (None, None),
            );
        } else if required(old_body) && !required(new_body) {
            self.push(
                subject,
                location,
                Kind::RequestBodyOptional,
                Impact::Compatible,
                "required before, optional now".to_string(),
                (None, None),
            );
        }
        let key = (key.0.to_string(), key.1.to_string());
        let sent_old = self.sent_old.as_ref().and_then(|m| m.get(&key)).cloned();
        let sent_new = self.sent_new.as_ref().and_then(|m| m.get(&key)).cloned();
        let known = self.sent_old.is_some() && self.sent_new.is_some();
        let sent_changed = known && sent_old != sent_new;
        let empty = serde_json::Map::new();
        let old_content = old_body["content"].as_object().unwrap_or(&empty);
        let new_content = new_body["content"].as_object().unwrap_or(&empty);
        let body_type = |content: &serde_json::Map<String, Value>, media: &Option<String>| {
            media
                .as_ref()
                .and_then(|m| content.get(m))
                .map(|m| describe(&m["schema"]))
        };
        let switch = match (&sent_old, &sent_new) {
            (Some(before), Some(after)) if sent_changed => format!(
                "; the client now sends {after} instead of {before}, so `.body(..)` takes {} instead of {}",
                body_type(new_content, &sent_new).unwrap_or_default(),
                body_type(old_content, &sent_old).unwrap_or_default()
            ),
            _ => String::new(),
        };
        for (media, content) in new_content {
            let media_location = format!("{location} ({media})");
            match old_content.get(media) {
                None => {
                    let sent_now = sent_new.as_deref() == Some(media.as_str());
                    let impact = if sent_changed && sent_now {
                        Impact::Breaking
                    } else {
                        Impact::Compatible
                    };
                    let note = if sent_changed && sent_now {
                        switch.clone()
                    } else if let Some(sent) = sent_new.as_ref().filter(|_| known) {
                        format!("; the client keeps sending {sent}")
                    } else {
                        String::new()
                    };
                    self.push(
                        subject,
                        location,
                        Kind::RequestMediaTypeAdded,
                        impact,
                        format!(
                            "now also accepts {media} ({}){note}",
                            describe(&content["schema"])
                        ),
                        (None, Some(content)),
                    );
                }
                Some(before) => {
                    self.schema(
                        subject,
                        &media_location,
                        &before["schema"],
                        &content["schema"],
                        Dir::REQUEST,
                        0,
                    );
                }
            }
        }
        for (media, content) in old_content {
            if new_content.contains_key(media) {
                continue;
            }
            let was_sent = sent_old.as_deref() == Some(media.as_str());
            let impact = if was_sent || !known {
                Impact::Breaking
            } else {
                Impact::Compatible
            };
            let note = if was_sent {
                switch.clone()
            } else if known {
                format!(
                    "; the client did not send it and keeps sending {}",
                    sent_new.as_deref().unwrap_or("nothing")
                )
            } else {
                String::new()
            };
            self.push(
                subject,
                location,
                Kind::RequestMediaTypeRemoved,
                impact,
                format!("no longer accepts {media}{note}"),
                (Some(content), None),
            );
        }
    }

    fn responses(&mut self, subject: &Subject, old: &Op<'a>, new: &Op<'a>) {
        let (old_doc, new_doc) = (self.old, self.new);
        let empty = serde_json::Map::new();
        let old_responses = old.operation["responses"].as_object().unwrap_or(&empty);
        let new_responses = new.operation["responses"].as_object().unwrap_or(&empty);
        let success_types = |doc: &Value, responses: &serde_json::Map<String, Value>| {
            responses
                .iter()
                .filter(|(status, _)| is_success(status))
                .map(|(_, r)| response_type(resolve_lenient(doc, r)))
                .collect::<BTreeSet<String>>()
        };
        let old_success = success_types(old_doc, old_responses);
        for (status, response) in new_responses {
            let response = resolve_lenient(new_doc, response);
            let location = format!("response {status}");
            match old_responses
                .get(status)
                .map(|r| resolve_lenient(old_doc, r))
            {
                None => {
                    let body = response_type(response);
                    let changes_type = is_success(status)
                        && !old_success.is_empty()
                        && !old_success.contains(&body);
                    self.push(
                        subject,
                        &location,
                        Kind::ResponseAdded,
                        if changes_type {
                            Impact::Breaking
                        } else {
                            Impact::Compatible
                        },
                        format!(
                            "added ({body}){}",
                            if changes_type {
                                "; the method's response type can change"
                            } else {
                                ""
                            }
                        ),
                        (None, Some(response)),
                    );
                }
                Some(before) => {
                    let old_media = before["content"].as_object().unwrap_or(&empty);
                    let new_media = response["content"].as_object().unwrap_or(&empty);
                    for (media, content) in new_media {
                        match old_media.get(media) {
                            None => self.push(
                                subject,
                                &location,
                                Kind::ResponseMediaTypeAdded,
                                Impact::Compatible,
                                format!("now also {media} ({})", describe(&content["schema"])),
                                (None, Some(content)),
                            ),
                            Some(previous) => self.schema(
                                subject,
                                &format!("{location} ({media})"),
                                &previous["schema"],
                                &content["schema"],
                                Dir::RESPONSE,
                                0,
                            ),
                        }
                    }
                    for (media, content) in old_media {
                        if !new_media.contains_key(media) {
                            self.push(
                                subject,
                                &location,
                                Kind::ResponseMediaTypeRemoved,
                                if is_success(status) {
                                    Impact::Breaking
                                } else {
                                    Impact::Compatible
                                },
                                format!("no longer {media}"),
                                (Some(content), None),
                            );
                        }
                    }
                }
            }
        }
        for (status, response) in old_responses {
            if !new_responses.contains_key(status) {
                self.push(
                    subject,
                    &format!("response {status}"),
                    Kind::ResponseRemoved,
                    if is_success(status) {
                        Impact::Breaking
                    } else {
                        Impact::Compatible
                    },
                    "removed".to_string(),
                    (Some(resolve_lenient(old_doc, response)), None),
                );
            }
        }
    }

    fn security(&mut self, subject: &Subject, old: &Op<'a>, new: &Op<'a>) {
        let before = security(self.old, old);
        let after = security(self.new, new);
        for added in after.difference(&before) {
            self.push(
                subject,
                "security",
                Kind::SecurityChanged,
                Impact::Compatible,
                format!("now also accepts {}", security_label(added)),
                (None, None),
            );
        }
        for removed in before.difference(&after) {
            self.push(
                subject,
                "security",
                Kind::SecurityChanged,
                Impact::Breaking,
                format!("no longer accepts {}", security_label(removed)),
                (None, None),
            );
        }
    }

    fn schemas(&mut self) {
        let empty = serde_json::Map::new();
        let (old_doc, new_doc) = (self.old, self.new);
        let old_schemas = old_doc["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty);
        let new_schemas = new_doc["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty);
        let common: BTreeSet<&String> = old_schemas
            .keys()
            .filter(|k| new_schemas.contains_key(*k))
            .collect();
        for name in common {
            let mut dir = Dir::default();
            for usage in [&self.usage_old, &self.usage_new] {
                if let Some(d) = usage.get(name) {
                    dir.request |= d.request;
                    dir.response |= d.response;
                }
            }
            if dir == Dir::default() {
                dir = Dir::BOTH;
            }
            let subject = Subject {
                name: format!("schema {name}"),
                rust_method: None,
            };
            self.schema(
                &subject,
                "",
                &old_schemas[name.as_str()],
                &new_schemas[name.as_str()],
                dir,
                0,
            );
        }
    }

    /// Compares two schemas at `location` inside `subject`. References to
    /// the same component are not followed: each component is compared
    /// once, as its own subject.
    fn schema(
        &mut self,
        subject: &Subject,
        location: &str,
        old: &Value,
        new: &Value,
        dir: Dir,
        depth: usize,
    ) {
        if depth > 32 {
            return;
        }
        let here = |what: &str| -> String {
            match (location.is_empty(), what.is_empty()) {
                (true, _) => what.to_string(),
                (false, true) => location.to_string(),
                (false, false) => format!("{location}, {what}"),
            }
        };
        let (old_label, new_label) = (describe(old), describe(new));
        match (schema_name(old), schema_name(new)) {
            (Some(a), Some(b)) if a == b => return,
            (None, None) => {}
            _ => {
                if old_label != new_label {
                    self.push(
                        subject,
                        &here(""),
                        Kind::TypeChanged,
                        Impact::Breaking,
                        format!("type {old_label} -> {new_label}"),
                        (Some(old), Some(new)),
                    );
                }
                return;
            }
        }
        if old_label != new_label {
            self.push(
                subject,
                &here(""),
                Kind::TypeChanged,
                Impact::Breaking,
                format!("type {old_label} -> {new_label}"),
                (Some(old), Some(new)),
            );
            return;
        }
        self.enum_values(subject, &here(""), old, new, dir);
        self.properties(subject, location, old, new, dir, depth);
        if let (Some(a), Some(b)) = (old.get("items"), new.get("items")) {
            self.schema(subject, &here("items"), a, b, dir, depth + 1);
        }
        if let (Some(a), Some(b)) = (
            old.get("additionalProperties").filter(|v| v.is_object()),
            new.get("additionalProperties").filter(|v| v.is_object()),
        ) {
            self.schema(subject, &here("map values"), a, b, dir, depth + 1);
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            if let (Some(a), Some(b)) = (
                old.get(keyword).and_then(Value::as_array),
                new.get(keyword).and_then(Value::as_array),
            ) {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    self.schema(
                        subject,
                        &here(&format!("{keyword}[{i}]")),
                        x,
                        y,
                        dir,
                        depth + 1,
                    );
                }
            }
        }
    }

    fn enum_values(
        &mut self,
        subject: &Subject,
        location: &str,
        old: &Value,
        new: &Value,
        dir: Dir,
    ) {
        let values = |v: &Value| -> Option<BTreeSet<String>> {
            v.get("enum")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Value::to_string).collect())
        };
        let (Some(before), Some(after)) = (values(old), values(new)) else {
            return;
        };
        let added: Vec<String> = after.difference(&before).cloned().collect();
        let removed: Vec<String> = before.difference(&after).cloned().collect();
        if !added.is_empty() {
            self.push(
                subject,
                location,
                Kind::EnumValueAdded,
                if dir.response {
                    Impact::Breaking
                } else {
                    Impact::Compatible
                },
                format!(
                    "enum values added: {}{}",
                    added.join(", "),
                    if dir.response {
                        " (the enum gains variants: exhaustive matches on it stop compiling; older clients read them as unknown)"
                    } else {
                        ""
                    }
                ),
                (None, None),
            );
        }
        if !removed.is_empty() {
            self.push(
                subject,
                location,
                Kind::EnumValueRemoved,
                Impact::Breaking,
                format!("enum values removed: {}", removed.join(", ")),
                (None, None),
            );
        }
    }

    fn properties(
        &mut self,
        subject: &Subject,
        location: &str,
        old: &Value,
        new: &Value,
        dir: Dir,
        depth: usize,
    ) {
        let empty = serde_json::Map::new();
        let old_props = old["properties"].as_object().unwrap_or(&empty);
        let new_props = new["properties"].as_object().unwrap_or(&empty);
        let required = |v: &Value| -> BTreeSet<String> {
            v["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let (old_required, new_required) = (required(old), required(new));
        let at = |name: &str| -> String {
            let prefix = location
                .strip_prefix("property `")
                .and_then(|l| l.strip_suffix('`'));
            match prefix {
                Some(parent) => format!("property `{parent}.{name}`"),
                None if location.is_empty() => format!("property `{name}`"),
                None => format!("{location}, property `{name}`"),
            }
        };
        for (name, schema) in new_props {
            let is_required = new_required.contains(name);
            match old_props.get(name) {
                None => self.push(
                    subject,
                    &at(name),
                    Kind::PropertyAdded,
                    if is_required && dir.request {
                        Impact::Breaking
                    } else {
                        Impact::Compatible
                    },
                    format!(
                        "added ({}, {})",
                        describe(schema),
                        if is_required { "required" } else { "optional" }
                    ),
                    (None, Some(schema)),
                ),
                Some(before) => {
                    let was_required = old_required.contains(name);
                    if is_required && !was_required {
                        self.push(
                            subject,
                            &at(name),
                            Kind::PropertyRequired,
                            Impact::Breaking,
                            "optional before, required now".to_string(),
                            (None, None),
                        );
                    } else if was_required && !is_required {
                        self.push(
                            subject,
                            &at(name),
                            Kind::PropertyOptional,
                            if dir.response {
                                Impact::Breaking
                            } else {
                                Impact::Compatible
                            },
                            "required before, optional now".to_string(),
                            (None, None),
                        );
                    }
                    self.schema(subject, &at(name), before, schema, dir, depth + 1);
                }
            }
        }
        for (name, schema) in old_props {
            if !new_props.contains_key(name) {
                self.push(
                    subject,
                    &at(name),
                    Kind::PropertyRemoved,
                    Impact::Breaking,
                    "removed".to_string(),
                    (Some(schema), None),
                );
            }
        }
    }

    /// Attaches new and removed component schemas to the changes that bring
    /// or drop them, lists the rest as changes of their own, and orders the
    /// result.
    fn finish(self) -> Diff {
        let empty = serde_json::Map::new();
        let names = |doc: &Value| -> BTreeSet<String> {
            doc["components"]["schemas"]
                .as_object()
                .unwrap_or(&empty)
                .keys()
                .cloned()
                .collect()
        };
        let (old_names, new_names) = (names(self.old), names(self.new));
        let mut added: BTreeSet<String> = new_names.difference(&old_names).cloned().collect();
        let mut removed: BTreeSet<String> = old_names.difference(&new_names).cloned().collect();
        let mut changes = Vec::with_capacity(self.pending.len());
        for pending in self.pending {
            let mut change = pending.change;
            let mut reached = BTreeSet::new();
            for root in &pending.new_roots {
                reachable(self.new, root, &mut reached);
            }
            change.new_types = reached.intersection(&added).cloned().collect();
            added.retain(|n| !change.new_types.contains(n));
            let mut reached = BTreeSet::new();
            for root in &pending.old_roots {
                reachable(self.old, root, &mut reached);
            }
            change.removed_types = reached.intersection(&removed).cloned().collect();
            removed.retain(|n| !change.removed_types.contains(n));
            changes.push(change);
        }
        for name in added {
            changes.push(Change {
                impact: Impact::Compatible,
                kind: Kind::SchemaAdded,
                subject: format!("schema {name}"),
                rust_method: None,
                location: String::new(),
                detail: "schema added".to_string(),
                new_types: vec![name],
                removed_types: Vec::new(),
            });
        }
        for name in removed {
            changes.push(Change {
                impact: Impact::Breaking,
                kind: Kind::SchemaRemoved,
                subject: format!("schema {name}"),
                rust_method: None,
                location: String::new(),
                detail: "schema removed".to_string(),
                new_types: Vec::new(),
                removed_types: vec![name],
            });
        }
        // Operations keep their path-then-method order; schemas follow, by
        // name. The sort is stable, so changes inside a subject keep the
        // order they were found in.
        changes.sort_by(|a, b| {
            let schema = |c: &Change| c.subject.starts_with("schema ");
            match (schema(a), schema(b)) {
                (false, true) => std::cmp::Ordering::Less,
                (true, false) => std::cmp::Ordering::Greater,
                (true, true) => a.subject.cmp(&b.subject),
                (false, false) => std::cmp::Ordering::Equal,
            }
        });
        Diff { changes }
    }
}

/// The body type of a response for the diff: its JSON schema, or `no body`.
fn response_type(response: &Value) -> String {
    let content = response["content"].as_object();
    match content.and_then(|c| {
        c.iter()
            .find(|(k, _)| k.contains("json"))
            .or_else(|| c.iter().next())
    }) {
        Some((_, media)) if media.get("schema").is_some() => describe(&media["schema"]),
        Some((media, _)) => media.clone(),
        None => "no body".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: Value, schemas: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths, "components": {"schemas": schemas}})
    }

    fn kinds(d: &Diff) -> Vec<(Kind, Impact)> {
        d.changes.iter().map(|c| (c.kind, c.impact)).collect()
    }

    #[test]
    fn describes_3_1_types() {
        assert_eq!(
            describe(&json!({"type": ["null", "string"], "format": "uuid"})),
            "string(uuid)?"
        );
        assert_eq!(
            describe(&json!({"type": "array", "items": {"$ref": "#/components/schemas/A"}})),
            "array<A>"
        );
        assert_eq!(
            describe(&json!({"type": "object", "additionalProperties": {}})),
            "map<string, any>"
        );
        assert_eq!(
            describe(&json!({"allOf": [{"$ref": "#/components/schemas/A"}]})),
            "A"
        );
        assert_eq!(describe(&json!({})), "any");
    }

    #[test]
    fn equal_documents_have_no_changes() {
        let d = doc(
            json!({"/a": {"get": {"operationId": "x.GetA", "responses": {"200": {"description": "ok"}}}}}),
            json!({}),
        );
        assert!(diff(&d, &d).expect("diff").is_empty());
    }

    #[test]
    fn parameters_are_judged_by_requiredness() {
        let op = |params: Value| {
            doc(
                json!({"/a": {"get": {"operationId": "x.GetA", "parameters": params, "responses": {}}}}),
                json!({}),
            )
        };
        let old = op(
            json!([{"name": "a", "in": "query", "schema": {"type": "string"}}, {"name": "gone", "in": "query", "schema": {"type": "string"}}]),
        );
        let new = op(json!([
            {"name": "a", "in": "query", "required": true, "schema": {"type": "integer"}},
            {"name": "opt", "in": "query", "schema": {"type": "string"}},
            {"name": "req", "in": "header", "required": true, "schema": {"type": "string"}}
        ]));
        let d = diff(&old, &new).expect("diff");
        assert_eq!(
            kinds(&d),
            vec![
                (Kind::ParameterRequired, Impact::Breaking),
                (Kind::TypeChanged, Impact::Breaking),
                (Kind::ParameterAdded, Impact::Compatible),
                (Kind::ParameterAdded, Impact::Breaking),
                (Kind::ParameterRemoved, Impact::Breaking),
            ]
        );
        assert_eq!(d.changes[1].location, "parameter `a` (query)");
        assert_eq!(d.changes[1].detail, "type string -> integer");
    }

    #[test]
    fn schema_rules_depend_on_the_direction() {
        let paths = json!({
            "/in": {"post": {"operationId": "x.PostIn", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}}, "responses": {}}},
            "/out": {"get": {"operationId": "x.GetOut", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}}}
        });
        let schema = |required: Value, values: Value, extra: Value| {
            let mut s = json!({"type": "object", "required": required, "properties": {"kind": {"type": "string", "enum": values}, "n": {"type": "integer"}}});
            if let (Some(props), Some(extra)) = (s["properties"].as_object_mut(), extra.as_object())
            {
                props.extend(extra.clone());
            }
            s
        };
        let old = doc(
            paths.clone(),
            json!({
                "In": schema(json!(["n"]), json!(["a"]), json!({})),
                "Out": schema(json!(["n"]), json!(["a"]), json!({}))
            }),
        );
        let new = doc(
            paths,
            json!({
                "In": schema(json!(["new"]), json!(["a", "b"]), json!({"new": {"type": "string"}})),
                "Out": schema(json!(["new"]), json!(["a", "b"]), json!({"new": {"type": "string"}}))
            }),
        );
        let d = diff(&old, &new).expect("diff");
        let of = |subject: &str| -> Vec<(Kind, Impact)> {
            d.changes
                .iter()
                .filter(|c| c.subject == subject)
                .map(|c| (c.kind, c.impact))
                .collect()
        };
        assert_eq!(
            of("schema In"),
            vec![
                (Kind::EnumValueAdded, Impact::Compatible),
                (Kind::PropertyOptional, Impact::Compatible),
                (Kind::PropertyAdded, Impact::Breaking),
            ]
        );
        assert_eq!(
            of("schema Out"),
            vec![
                (Kind::EnumValueAdded, Impact::Breaking),
                (Kind::PropertyOptional, Impact::Breaking),
                (Kind::PropertyAdded, Impact::Compatible),
            ]
        );
    }

    #[test]
    fn new_schemas_travel_with_the_change_that_brings_them() {
        let old = doc(
            json!({}),
            json!({"Kept": {"type": "string"}, "Dropped": {"type": "string"}}),
        );
        let new = doc(
            json!({"/a": {"get": {"operationId": "x.GetA", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}}),
            json!({"Kept": {"type": "string"}, "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}, "B": {"type": "string"}, "Alone": {"type": "string"}}),
        );
        let d = diff(&old, &new).expect("diff");
        assert_eq!(
            kinds(&d),
            vec![
                (Kind::OperationAdded, Impact::Compatible),
                (Kind::SchemaAdded, Impact::Compatible),
                (Kind::SchemaRemoved, Impact::Breaking),
            ]
        );
        assert_eq!(d.changes[0].new_types, vec!["A", "B"]);
        assert_eq!(d.changes[0].rust_method.as_deref(), Some("get_a"));
        assert_eq!(d.changes[1].subject, "schema Alone");
        assert_eq!(d.changes[2].subject, "schema Dropped");
    }

    #[test]
    fn security_and_responses() {
        let op = |security: Value, responses: Value| {
            doc(
                json!({"/a": {"get": {"operationId": "x.GetA", "security": security, "responses": responses}}}),
                json!({}),
            )
        };
        let ok = json!({"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}});
        let old = op(
            json!([{"key": []}, {"jwt": []}]),
            json!({"200": ok, "404": {"description": "no"}}),
        );
        let new = op(
            json!([{"key": []}, {}]),
            json!({"200": ok, "500": {"description": "err"}}),
        );
        let d = diff(&old, &new).expect("diff");
        assert_eq!(
            kinds(&d),
            vec![
                (Kind::ResponseAdded, Impact::Compatible),
                (Kind::ResponseRemoved, Impact::Compatible),
                (Kind::SecurityChanged, Impact::Compatible),
                (Kind::SecurityChanged, Impact::Breaking),
            ]
        );
        assert_eq!(d.changes[2].detail, "now also accepts anonymous access");
        assert_eq!(d.changes[3].detail, "no longer accepts `jwt`");
    }

    #[test]
    fn refuses_what_is_not_openapi() {
        let err =
            diff(&json!({"swagger": "2.0"}), &json!({"openapi": "3.1.0"})).expect_err("refused");
        assert!(err.contains("old document"), "{err}");
    }
}
