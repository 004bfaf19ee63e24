//! Normalization of an OpenAPI 3.1 document into one progenitor 0.15 generates
//! correctly, without changing what the generated client puts on the wire.
//!
//! Each rewrite is recorded as a [`Rewrite`] with the JSON pointer it touched,
//! so `cargo xtask spec report` can show what the build did and why. A
//! document the normalizer cannot express for progenitor is refused with a
//! [`SpecError`] that names the pointer and the reason; nothing here panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

use super::ident::{pascal, rust_method_name, snake};
use super::refs::{resolve, schema_name};
use super::{SpecError, pointer};

pub use super::credential::is_credential;

mod bodies;
mod operations;
mod parameters;
mod responses;
mod schemas;

/// The HTTP methods an OpenAPI path item can hold, in document order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The kinds of rewrite the normalizer makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `openapi: 3.1.x` becomes `3.0.3`.
    OpenApiVersion,
    /// A 3.1-only keyword without effect on the wire is dropped.
    DroppedKeyword,
    /// `type: [..]` becomes one type plus `nullable`, or an `anyOf`.
    TypeArray,
    /// `examples: [..]` in a schema becomes `example`.
    Examples,
    /// `const` becomes a one-value `enum`.
    Const,
    /// Numeric `exclusiveMinimum`/`exclusiveMaximum` become 3.0 booleans.
    ExclusiveBound,
    /// Siblings of a `$ref`, which 3.0 ignores, are dropped.
    RefSiblings,
    /// A nullable `$ref` becomes `allOf: [$ref]` with `nullable: true`.
    NullableRef,
    /// A `deepObject` query parameter becomes one parameter per property.
    DeepObject,
    /// A cookie parameter leaves the signature and is sent by the client layer.
    CookieParameter,
    /// Path-level parameters are copied into each operation.
    PathParameters,
    /// Of several request media types, the JSON one is kept.
    RequestMediaType,
    /// A media type's `encoding` map is dropped.
    MediaTypeEncoding,
    /// Nested objects of a form body become `name[prop]` fields.
    FormFlatten,
    /// A JSON media type without a schema accepts any JSON.
    MissingSchema,
    /// Responses of one class with different schemas get one schema.
    ResponseSchemas,
    /// An operationId is turned into a Rust method name.
    OperationId,
    /// A credential (a token path parameter, a string property holding a
    /// token) is marked so the client never prints it.
    Credential,
    /// A schema gets a name without the provider's Go package path, or an
    /// inline error body a name of its own (see `codegen/names.rs`).
    SchemaName,
    /// A tool's any-JSON output that the crate has a report type for is
    /// decoded into that type (see `codegen/reports.rs`).
    ToolReport,
}

impl Rule {
    /// A short stable name, used in reports and tests.
    pub fn name(self) -> &'static str {
        match self {
            Rule::OpenApiVersion => "openapi-version",
            Rule::DroppedKeyword => "dropped-keyword",
            Rule::TypeArray => "type-array",
            Rule::Examples => "examples",
            Rule::Const => "const",
            Rule::ExclusiveBound => "exclusive-bound",
            Rule::RefSiblings => "ref-siblings",
            Rule::NullableRef => "nullable-ref",
            Rule::DeepObject => "deep-object",
            Rule::CookieParameter => "cookie-parameter",
            Rule::PathParameters => "path-parameters",
            Rule::RequestMediaType => "request-media-type",
            Rule::MediaTypeEncoding => "media-type-encoding",
            Rule::FormFlatten => "form-flatten",
            Rule::MissingSchema => "missing-schema",
            Rule::ResponseSchemas => "response-schemas",
            Rule::OperationId => "operation-id",
            Rule::Credential => "credential",
            Rule::SchemaName => "schema-name",
            Rule::ToolReport => "tool-report",
        }
    }

    /// Why the rewrite is needed, in one sentence.
    #[allow(
        dead_code,
        reason = "read by `cargo xtask spec report`, not by the build script"
    )]
    pub fn why(self) -> &'static str {
        match self {
            Rule::OpenApiVersion => "progenitor accepts only OpenAPI 3.0.x documents",
            Rule::DroppedKeyword => {
                "the keyword exists only in OpenAPI 3.1 / JSON Schema 2020-12 and does not affect requests or responses"
            }
            Rule::TypeArray => "OpenAPI 3.0 has no type arrays; null is expressed with `nullable`",
            Rule::Examples => "OpenAPI 3.0 schemas carry a single `example`",
            Rule::Const => "OpenAPI 3.0 has no `const`; a one-value enum means the same",
            Rule::ExclusiveBound => {
                "OpenAPI 3.0 exclusive bounds are booleans next to minimum/maximum"
            }
            Rule::RefSiblings => {
                "OpenAPI 3.0 ignores keywords next to `$ref`, and the parser progenitor uses drops them"
            }
            Rule::NullableRef => {
                "OpenAPI 3.0 expresses a nullable reference as `allOf` with `nullable`"
            }
            Rule::DeepObject => {
                "progenitor rejects `style: deepObject`; one parameter per property named `name[prop]` sends the same query"
            }
            Rule::CookieParameter => {
                "progenitor rejects cookie parameters; the hand-written client layer sends them"
            }
            Rule::PathParameters => "per-operation rewrites need every parameter on the operation",
            Rule::RequestMediaType => {
                "progenitor panics on request bodies with several media types; the JSON body is kept"
            }
            Rule::MediaTypeEncoding => "progenitor panics on a media type with an `encoding` map",
            Rule::FormFlatten => {
                "form bodies are encoded flat; nested objects must reach the wire as `name[prop]=value`"
            }
            Rule::MissingSchema => "progenitor panics on a JSON media type without a schema",
            Rule::ResponseSchemas => {
                "progenitor needs one response type per class (success, error) in an operation"
            }
            Rule::OperationId => {
                "method names follow Rust conventions (`routes/auth.GetSession` is `get_session`)"
            }
            Rule::Credential => {
                "a credential must never be printed: a path parameter holding one is redacted from spans, errors and Debug, a string property holding one becomes `Secret`"
            }
            Rule::SchemaName => {
                "type names are read by people: no Go package paths, error bodies named as errors (the document's name stays in API.md)"
            }
            Rule::ToolReport => {
                "a report held as any JSON is a `serde_json::Value` tree decoded a second time into its type; decoded once, straight from the body, it costs a third of the time and memory"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change made to the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Where, as a `#`-prefixed JSON pointer. Operation-level rewrites point
    /// into the effective document; schema rewrites point into the document
    /// as the operation rewrites left it (parameter indices after flattening).
    pub pointer: String,
    /// Which rule.
    pub rule: Rule,
    /// What exactly changed.
    pub detail: String,
}

/// A cookie parameter taken out of an operation's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieParameter {
    /// The cookie name, as sent on the wire.
    pub name: String,
    /// Whether the operation requires it.
    pub required: bool,
    /// Its description in the document, if any.
    pub description: Option<String>,
}

/// A `deepObject` query parameter and the parameters that replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryGroup {
    /// The parameter's name in the document (`ffprobe`).
    pub name: String,
    /// The wire names of its properties (`ffprobe[show_streams]`).
    pub parameters: Vec<String>,
}

/// What the hand-written layer needs to know about one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template, as in the document.
    pub path: String,
    /// The operationId in the effective document.
    pub operation_id: String,
    /// The generated client's method name.
    pub rust_name: String,
    /// Security alternatives: each inner list is one requirement set; an
    /// empty inner list means anonymous access is allowed.
    pub security: Vec<Vec<String>>,
    /// Cookie parameters the client layer must send.
    pub cookies: Vec<CookieParameter>,
    /// `deepObject` parameters that became one parameter per property.
    pub query_groups: Vec<QueryGroup>,
    /// The media type of the request body the generated client sends.
    pub request_media_type: Option<String>,
    /// Request media types the document also accepts but the client does not send.
    pub dropped_media_types: Vec<String>,
    /// The document's default for the `timeout` parameter or body field
    /// (milliseconds the server may spend analysing), if the operation has one.
    pub timeout_default_ms: Option<u64>,
    /// The document's default for `queue_timeout` (milliseconds in the queue).
    pub queue_timeout_default_ms: Option<u64>,
    /// Path parameters whose values are credentials (see [`is_credential`]):
    /// the client layer never prints them.
    pub secret_path_parameters: Vec<String>,
}

/// The format the normalizer gives a string property that holds a
/// credential; the generator maps exactly this schema to `crate::runtime::Secret`.
pub const CREDENTIAL_FORMAT: &str = "x-probe-credential";

/// The result of [`normalize`].
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The OpenAPI 3.0.3 document handed to progenitor.
    pub document: Value,
    /// Every rewrite made, in the order made.
    #[allow(
        dead_code,
        reason = "read by `cargo xtask spec report`, not by the build script"
    )]
    pub rewrites: Vec<Rewrite>,
    /// The operations, in document order.
    pub operations: Vec<Operation>,
}

/// Turns an effective OpenAPI 3.1 (or 3.0) document into one progenitor
/// generates correctly.
///
/// # Errors
///
/// A document that cannot be expressed for progenitor gets a [`SpecError`]
/// naming the JSON pointer and the reason.
pub fn normalize(effective: &Value) -> Result<Normalized, SpecError> {
    let mut n = Normalizer {
        doc: effective.clone(),
        rewrites: Vec::new(),
    };
    n.root()?;
    let operations = n.operations()?;
    n.all_schemas()?;
    for (at, detail) in super::reports::tool_reports(&mut n.doc) {
        n.note(&at, Rule::ToolReport, detail);
    }
    let renamed = super::names::apply(&mut n.doc, &operations);
    n.rewrites.extend(renamed);
    check_openapiv3(&n.doc)?;
    Ok(Normalized {
        document: n.doc,
        rewrites: n.rewrites,
        operations,
    })
}

/// Parses the result with the OpenAPI 3.0 model progenitor uses, so that a
/// shape it cannot read is reported here with its location.
fn check_openapiv3(doc: &Value) -> Result<(), SpecError> {
    let text = doc.to_string();
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&mut de)
        .map(|_| ())
        .map_err(|e| {
            let path = e.path().to_string();
            let ptr = if path == "." {
                "#".to_string()
            } else {
                pointer(
                    path.split('.')
                        .map(|s| s.trim_start_matches('[').trim_end_matches(']')),
                )
            };
            SpecError::new(
                ptr,
                format!(
                    "the normalized document is not valid OpenAPI 3.0: {}",
                    e.inner()
                ),
            )
        })
}

struct Normalizer {
    doc: Value,
    rewrites: Vec<Rewrite>,
}

type Path = Vec<String>;

fn seg(path: &[String], more: &[&str]) -> Path {
    let mut p = path.to_vec();
    p.extend(more.iter().map(|s| s.to_string()));
    p
}

fn ptr(path: &[String]) -> String {
    pointer(path)
}

fn err(path: &[String], reason: impl Into<String>) -> SpecError {
    SpecError::new(ptr(path), reason)
}

fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn is_form_media_type(media_type: &str) -> bool {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// `METHOD /path` of the operation at `op_path`, for messages.
fn operation_label(op_path: &[String]) -> String {
    match op_path {
        [_, path, method, ..] => format!("{} {path}", method.to_ascii_uppercase()),
        _ => ptr(op_path),
    }
}

/// The `$ref`s a flattening walk is inside, outermost first. A schema that
/// contains itself ends the walk with an error when its reference comes up
/// a second time, instead of being expanded without end. Only the current
/// path counts: a schema reached twice through different properties is
/// expanded twice. A schema that is not recursive can still flatten to
/// more fields than any request could carry (each level referring to the
/// next twice doubles them); past [`MAX_FLATTENED_FIELDS`] the walk ends
/// with an error too.
struct Expanding {
    /// What is being flattened: ``deepObject parameter `page` of `GET /x` ``.
    what: String,
    /// What cannot hold a recursive object: `a query string`.
    medium: &'static str,
    /// The references being expanded.
    refs: Vec<String>,
    /// Fields produced so far.
    fields: usize,
}

/// The most fields one deepObject parameter or form body may flatten to.
/// The largest in the Probe.dev document (`ffprobe`) has about 30.
const MAX_FLATTENED_FIELDS: usize = 1000;

impl Expanding {
    fn new(what: String, medium: &'static str) -> Self {
        Self {
            what,
            medium,
            refs: Vec::new(),
            fields: 0,
        }
    }

    /// Counts one more field, found at `at`.
    ///
    /// # Errors
    ///
    /// More than [`MAX_FLATTENED_FIELDS`].
    fn field(&mut self, at: &[String]) -> Result<(), SpecError> {
        self.fields += 1;
        if self.fields > MAX_FLATTENED_FIELDS {
            return Err(err(
                at,
                format!(
                    "{} flattens to more than {MAX_FLATTENED_FIELDS} fields; {} of that size is not something a client can send",
                    self.what, self.medium
                ),
            ));
        }
        Ok(())
    }

    /// Notes that `schema`, found at `at` with the wire name `wire`, is
    /// about to be expanded. Returns whether it is a reference, to pass to
    /// [`Expanding::leave`] once its properties are done.
    ///
    /// # Errors
    ///
    /// The reference is already being expanded: the schema contains itself.
    fn enter(&mut self, schema: &Value, wire: &str, at: &[String]) -> Result<bool, SpecError> {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return Ok(false);
        };
        if self.refs.iter().any(|r| r == reference) {
            return Err(err(
                at,
                format!(
                    "{} is recursive: `{reference}` contains itself at `{wire}`; {} cannot encode a recursive object",
                    self.what, self.medium
                ),
            ));
        }
        self.refs.push(reference.to_string());
        Ok(true)
    }

    /// Ends the expansion [`Expanding::enter`] started.
    fn leave(&mut self, entered: bool) {
        if entered {
            self.refs.pop();
        }
    }
}

impl Normalizer {
    fn note(&mut self, path: &[String], rule: Rule, detail: impl Into<String>) {
        self.rewrites.push(Rewrite {
            pointer: ptr(path),
            rule,
            detail: detail.into(),
        });
    }

    fn root(&mut self) -> Result<(), SpecError> {
        let root = self
            .doc
            .as_object_mut()
            .ok_or_else(|| SpecError::new("#", "the document is not a JSON object"))?;
        let version = root
            .get("openapi")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SpecError::new(
                    "#/openapi",
                    "missing `openapi` version string; is this an OpenAPI document?",
                )
            })?
            .to_string();
        if version.starts_with("3.1") {
            root.insert("openapi".into(), json!("3.0.3"));
            self.note(
                &["openapi".into()],
                Rule::OpenApiVersion,
                format!("{version} -> 3.0.3"),
            );
        } else if !version.starts_with("3.0") {
            return Err(SpecError::new(
                "#/openapi",
                format!("OpenAPI version {version} is not supported; expected 3.0.x or 3.1.x"),
            ));
        }
        let root = self
            .doc
            .as_object_mut()
            .ok_or_else(|| SpecError::new("#", "not an object"))?;
        let mut dropped = Vec::new();
        for key in ["webhooks", "jsonSchemaDialect", "$schema"] {
            if root.remove(key).is_some() {
                dropped.push(key);
            }
        }
        if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut)
            && components.remove("pathItems").is_some()
        {
            dropped.push("components/pathItems");
        }
        if let Some(license) = root
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_object_mut)
            && license.remove("identifier").is_some()
        {
            dropped.push("info/license/identifier");
        }
        if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut)
            && info.remove("summary").is_some()
        {
            dropped.push("info/summary");
        }
        match root.get("paths") {
            None => {
                root.insert("paths".into(), json!({}));
            }
            Some(Value::Object(_)) => {}
            Some(_) => return Err(SpecError::new("#/paths", "`paths` is not an object")),
        }
        for key in dropped {
            self.note(
                &[key.to_string()],
                Rule::DroppedKeyword,
                format!("removed `{key}`"),
            );
        }
        Ok(())
    }
}

/// Removes a media type's `encoding` map and gives a JSON media type
/// without a schema the schema `{}`; returns the rewrites made.
fn tidy_media_type(
    media_type: &str,
    media: &mut Value,
    at: &[String],
) -> Result<Vec<Rewrite>, SpecError> {
    let m = media
        .as_object_mut()
        .ok_or_else(|| err(at, "media type is not an object"))?;
    let mut rewrites = Vec::new();
    if m.remove("encoding").is_some() {
        rewrites.push(Rewrite {
            pointer: ptr(&seg(at, &["encoding"])),
            rule: Rule::MediaTypeEncoding,
            detail: "removed".into(),
        });
    }
    if is_json_media_type(media_type) && !m.contains_key("schema") {
        m.insert("schema".into(), json!({}));
        rewrites.push(Rewrite {
            pointer: ptr(at),
            rule: Rule::MissingSchema,
            detail: "schema {} (any JSON)".into(),
        });
    }
    Ok(rewrites)
}

/// The names a schema lists under `required`.
fn required_of(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn describe_type(map: &Map<String, Value>) -> String {
    let base = match (map.get("type"), map.get("anyOf")) {
        (Some(t), _) => t.as_str().unwrap_or("?").to_string(),
        (None, Some(_)) => "anyOf".to_string(),
        _ => "?".to_string(),
    };
    if map.get("nullable") == Some(&json!(true)) {
        format!("{base}, nullable")
    } else {
        base
    }
}

fn type_keywords(t: &str) -> &'static [&'static str] {
    match t {
        "string" => &["format", "pattern", "minLength", "maxLength"],
        "integer" | "number" => &[
            "format",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ],
        "array" => &["items", "minItems", "maxItems", "uniqueItems"],
        "object" => &[
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
            "maxProperties",
        ],
        _ => &[],
    }
}

fn json_type_fits(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// The schema without documentation keywords, for comparing shapes.
fn strip_annotations(schema: &Value) -> Value {
    match schema {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "description" | "title" | "example" | "examples")
                })
                .map(|(k, v)| (k.clone(), strip_annotations(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_annotations).collect()),
        other => other.clone(),
    }
}

fn content_schemas(doc: &Value, base: &[String], out: &mut Vec<Path>) {
    let p = ptr(base)[1..].to_string();
    if let Some(content) = doc
        .pointer(&p)
        .and_then(|v| v.get("content"))
        .and_then(Value::as_object)
    {
        for media_type in content.keys() {
            out.push(seg(base, &["content", media_type, "schema"]));
        }
    }
}

fn response_schemas(doc: &Value, base: &[String], out: &mut Vec<Path>) {
    content_schemas(doc, base, out);
    let p = ptr(base)[1..].to_string();
    if let Some(headers) = doc
        .pointer(&p)
        .and_then(|v| v.get("headers"))
        .and_then(Value::as_object)
    {
        for name in headers.keys() {
            out.push(seg(base, &["headers", name, "schema"]));
        }
    }
}

#[cfg(test)]
mod tests;
