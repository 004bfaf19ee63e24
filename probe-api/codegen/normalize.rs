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

use super::{SpecError, pointer};

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

/// Whether a parameter or property named `name`, described as
/// `description`, holds a credential: its name or description speaks of a
/// token, a JWT, an API key, a secret or a password. Words are compared
/// whole (`tokenizer` is not a token), on names split at `-`, `_`, spaces
/// and case changes.
pub fn is_credential(name: &str, description: Option<&str>) -> bool {
    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut previous_lower = false;
        for c in text.chars() {
            if !c.is_alphanumeric() {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                previous_lower = false;
                continue;
            }
            if c.is_uppercase() && previous_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
            word.extend(c.to_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
        out
    }
    let says = |text: &str| {
        let words = words(text);
        words.iter().enumerate().any(|(i, w)| {
            matches!(
                w.as_str(),
                "token" | "jwt" | "secret" | "password" | "apikey" | "credential"
            ) || (w == "api" && words.get(i + 1).is_some_and(|n| n == "key"))
        })
    };
    says(name) || description.is_some_and(says)
}

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

/// Follows local `$ref`s until a value that is not a reference.
pub fn resolve<'a>(
    doc: &'a Value,
    value: &'a Value,
    at: &[String],
) -> Result<&'a Value, SpecError> {
    let mut current = value;
    for _ in 0..64 {
        let Some(reference) = current.get("$ref") else {
            return Ok(current);
        };
        let reference = reference
            .as_str()
            .ok_or_else(|| err(at, "`$ref` is not a string"))?;
        let target = reference.strip_prefix('#').ok_or_else(|| {
            err(
                at,
                format!("`$ref: {reference}` points outside the document; only local references are supported"),
            )
        })?;
        current = doc
            .pointer(target)
            .ok_or_else(|| err(at, format!("`$ref: {reference}` points to nothing")))?;
    }
    Err(err(
        at,
        "`$ref` chain is longer than 64 steps (a reference cycle?)",
    ))
}

fn ref_name(value: &Value) -> Option<&str> {
    value
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
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

/// The Rust method name for an operationId: its last segment after `/` and
/// `.`, in snake case. A one-letter word joins the word after it, so the
/// mixed-case acronym in `PostOAuthSignIn` gives `post_oauth_sign_in`.
pub fn rust_method_name(operation_id: &str) -> String {
    let last = operation_id
        .rsplit(['/', '.'])
        .find(|s| !s.is_empty())
        .unwrap_or(operation_id);
    let snake = sanitize_snake(last);
    let mut words: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in snake.split('_') {
        if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
            pending.push_str(word);
            continue;
        }
        words.push(format!("{pending}{word}"));
        pending.clear();
    }
    if !pending.is_empty() {
        words.push(pending);
    }
    words.join("_")
}

/// The identifier progenitor derives from a name (parameter or method):
/// characters that cannot continue an identifier become `-`, then snake case.
pub fn sanitize_snake(name: &str) -> String {
    use heck::ToSnakeCase;
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = cleaned.to_snake_case();
    match out.chars().next() {
        None => "x".to_string(),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("_{out}"),
    }
}

fn pascal(name: &str) -> String {
    use heck::ToPascalCase;
    name.to_pascal_case()
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

    fn operations(&mut self) -> Result<Vec<Operation>, SpecError> {
        let paths: Vec<String> = self.doc["paths"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let root_security = self.doc.get("security").cloned();
        let mut operations = Vec::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for path in paths {
            let item_path: Path = vec!["paths".into(), path.clone()];
            let item = &self.doc["paths"][&path];
            if !item.is_object() {
                return Err(err(&item_path, "path item is not an object"));
            }
            if item.get("$ref").is_some() {
                return Err(err(
                    &item_path,
                    "path items given by `$ref` are not supported; inline the path item",
                ));
            }
            let shared: Vec<Value> = match item.get("parameters") {
                None => Vec::new(),
                Some(Value::Array(list)) => list.clone(),
                Some(_) => return Err(err(&seg(&item_path, &["parameters"]), "not an array")),
            };
            for method in METHODS {
                if self.doc["paths"][&path].get(method).is_none() {
                    continue;
                }
                let op_path = seg(&item_path, &[method]);
                let operation =
                    self.operation(&path, method, &op_path, &shared, root_security.as_ref())?;
                if let Some(previous) = names.insert(operation.rust_name.clone(), ptr(&op_path)) {
                    return Err(err(
                        &op_path,
                        format!(
                            "operationId `{}` becomes method `{}`, which {previous} already uses; give one of them a distinct operationId in the overlay",
                            operation.operation_id, operation.rust_name
                        ),
                    ));
                }
                operations.push(operation);
            }
            if !shared.is_empty() {
                if let Some(item) = self.doc["paths"][&path].as_object_mut() {
                    item.remove("parameters");
                }
                self.note(
                    &seg(&item_path, &["parameters"]),
                    Rule::PathParameters,
                    format!("{} parameter(s) copied into each operation", shared.len()),
                );
            }
        }
        Ok(operations)
    }

    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op_path: &[String],
        shared: &[Value],
        root_security: Option<&Value>,
    ) -> Result<Operation, SpecError> {
        // The operationId and the method name.
        let op = self.op(op_path)?;
        let operation_id = match op.get("operationId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::String(_)) | None => {
                let derived = format!("{method}{}", pascal(path));
                self.note(
                    &seg(op_path, &["operationId"]),
                    Rule::OperationId,
                    format!("no operationId; derived `{derived}` from the method and path"),
                );
                derived
            }
            Some(_) => return Err(err(&seg(op_path, &["operationId"]), "not a string")),
        };
        let rust_name = rust_method_name(&operation_id);
        if rust_name != operation_id {
            self.note(
                &seg(op_path, &["operationId"]),
                Rule::OperationId,
                format!("`{operation_id}` -> `{rust_name}`"),
            );
        }
        self.op_mut(op_path)?
            .insert("operationId".into(), json!(rust_name.clone()));

        let (cookies, query_groups) = self.parameters(op_path, shared)?;
        let secret_path_parameters = self.secret_path_parameters(op_path)?;
        let (request_media_type, dropped_media_types) = self.request_body(op_path)?;
        self.responses(op_path, &rust_name)?;
        let timeout_default_ms = self.analysis_default(op_path, "timeout");
        let queue_timeout_default_ms = self.analysis_default(op_path, "queue_timeout");

        let security_value = self
            .op(op_path)?
            .get("security")
            .cloned()
            .or(root_security.cloned());
        let security = match security_value {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|req| {
                    req.as_object()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default()
                })
                .collect(),
            Some(_) => return Err(err(&seg(op_path, &["security"]), "not an array")),
        };

        Ok(Operation {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            operation_id,
            rust_name,
            security,
            cookies,
            query_groups,
            request_media_type,
            dropped_media_types,
            timeout_default_ms,
            queue_timeout_default_ms,
            secret_path_parameters,
        })
    }

    /// The operation's path parameters that hold credentials, noted as
    /// [`Rule::Credential`] rewrites.
    fn secret_path_parameters(&mut self, op_path: &[String]) -> Result<Vec<String>, SpecError> {
        let parameters = self
            .op(op_path)?
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut secret = Vec::new();
        for (i, parameter) in parameters.iter().enumerate() {
            let at = seg(op_path, &["parameters", &i.to_string()]);
            let parameter = resolve(&self.doc, parameter, &at)?;
            if parameter.get("in").and_then(Value::as_str) != Some("path") {
                continue;
            }
            let Some(name) = parameter.get("name").and_then(Value::as_str) else {
                continue;
            };
            let description = parameter
                .get("description")
                .or_else(|| parameter.get("schema").and_then(|s| s.get("description")))
                .and_then(Value::as_str);
            if is_credential(name, description) {
                secret.push(name.to_string());
            }
        }
        for name in &secret {
            self.note(
                op_path,
                Rule::Credential,
                format!("path parameter `{name}` is a credential: never printed"),
            );
        }
        Ok(secret)
    }

    /// The default of a query parameter or request body field named `name`,
    /// as an unsigned integer.
    fn analysis_default(&self, op_path: &[String], name: &str) -> Option<u64> {
        let op = self.op(op_path).ok()?;
        let from_params = op
            .get("parameters")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter().find_map(|p| {
                    let p = resolve(&self.doc, p, op_path).ok()?;
                    (p["name"] == name && p["in"] == "query")
                        .then(|| resolve(&self.doc, &p["schema"], op_path).ok())
                        .flatten()
                        .and_then(|s| s.get("default"))
                        .and_then(Value::as_u64)
                })
            });
        let from_body = || {
            let content = op.get("requestBody")?.get("content")?.as_object()?;
            content.values().find_map(|media| {
                let schema = resolve(&self.doc, media.get("schema")?, op_path).ok()?;
                let prop =
                    resolve(&self.doc, schema.get("properties")?.get(name)?, op_path).ok()?;
                prop.get("default").and_then(Value::as_u64)
            })
        };
        from_params.or_else(from_body)
    }

    fn op(&self, op_path: &[String]) -> Result<&Map<String, Value>, SpecError> {
        self.doc
            .pointer(&ptr(op_path)[1..])
            .and_then(Value::as_object)
            .ok_or_else(|| err(op_path, "operation is not an object"))
    }

    fn op_mut(&mut self, op_path: &[String]) -> Result<&mut Map<String, Value>, SpecError> {
        self.doc
            .pointer_mut(&ptr(op_path)[1..])
            .and_then(Value::as_object_mut)
            .ok_or_else(|| err(op_path, "operation is not an object"))
    }

    fn parameters(
        &mut self,
        op_path: &[String],
        shared: &[Value],
    ) -> Result<(Vec<CookieParameter>, Vec<QueryGroup>), SpecError> {
        let own: Vec<Value> = match self.op(op_path)?.get("parameters") {
            None => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(_) => return Err(err(&seg(op_path, &["parameters"]), "not an array")),
        };
        // Path-level parameters apply unless the operation overrides them
        // (same name and location).
        let mut all: Vec<(Path, Value)> = Vec::new();
        let key = |doc: &Value, p: &Value, at: &[String]| -> Result<(String, String), SpecError> {
            let p = resolve(doc, p, at)?;
            let name = p.get("name").and_then(Value::as_str);
            let location = p.get("in").and_then(Value::as_str);
            match (name, location) {
                (Some(n), Some(l)) => Ok((n.to_string(), l.to_string())),
                _ => Err(err(at, "parameter without `name` and `in`")),
            }
        };
        let mut own_keys = BTreeSet::new();
        for (i, p) in own.iter().enumerate() {
            let at = seg(op_path, &["parameters", &i.to_string()]);
            own_keys.insert(key(&self.doc, p, &at)?);
        }
        let item_path = &op_path[..op_path.len() - 1];
        for (i, p) in shared.iter().enumerate() {
            let at = seg(item_path, &["parameters", &i.to_string()]);
            if !own_keys.contains(&key(&self.doc, p, &at)?) {
                all.push((at, p.clone()));
            }
        }
        for (i, p) in own.into_iter().enumerate() {
            all.push((seg(op_path, &["parameters", &i.to_string()]), p));
        }

        let mut kept = Vec::new();
        let mut cookies = Vec::new();
        let mut groups = Vec::new();
        for (at, original) in all {
            let param = resolve(&self.doc, &original, &at)?.clone();
            let name = param["name"].as_str().unwrap_or_default().to_string();
            let location = param["in"].as_str().unwrap_or_default().to_string();
            if param.get("content").is_some() {
                return Err(err(
                    &at,
                    format!(
                        "parameter `{name}` uses `content`; only `schema` parameters are supported"
                    ),
                ));
            }
            let style = param.get("style").and_then(Value::as_str);
            match (location.as_str(), style) {
                ("cookie", _) => {
                    cookies.push(CookieParameter {
                        name: name.clone(),
                        required: param
                            .get("required")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        description: param
                            .get("description")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    });
                    self.note(
                        &at,
                        Rule::CookieParameter,
                        format!(
                            "cookie `{name}` removed from the signature; sent by the client layer"
                        ),
                    );
                }
                ("query", Some("deepObject")) => {
                    let required = param
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let description = param.get("description").cloned();
                    let schema = param
                        .get("schema")
                        .ok_or_else(|| err(&at, format!("parameter `{name}` has no schema")))?;
                    let mut flat = Vec::new();
                    let mut expanding = Expanding::new(
                        format!(
                            "deepObject parameter `{name}` of `{}`",
                            operation_label(op_path)
                        ),
                        "a query string",
                    );
                    self.flatten_deep_object(
                        &mut expanding,
                        &name,
                        schema,
                        required,
                        &seg(&at, &["schema"]),
                        &mut flat,
                    )?;
                    let names: Vec<String> = flat.iter().map(|(n, _, _)| n.clone()).collect();
                    for (wire, schema, required) in flat {
                        let mut p = Map::new();
                        p.insert("name".into(), json!(wire));
                        p.insert("in".into(), json!("query"));
                        if let Some(d) = schema.get("description").cloned().or(description.clone())
                        {
                            p.insert("description".into(), d);
                        }
                        if required {
                            p.insert("required".into(), json!(true));
                        }
                        p.insert("style".into(), json!("form"));
                        p.insert("explode".into(), json!(true));
                        p.insert("schema".into(), schema);
                        kept.push(Value::Object(p));
                    }
                    self.note(
                        &at,
                        Rule::DeepObject,
                        format!("`{name}` -> {}", names.join(", ")),
                    );
                    groups.push(QueryGroup {
                        name,
                        parameters: names,
                    });
                }
                ("query", None | Some("form"))
                | ("path", None | Some("simple"))
                | ("header", None | Some("simple")) => {
                    kept.push(original);
                }
                (_, style) => {
                    return Err(err(
                        &at,
                        format!(
                            "parameter `{name}` in `{location}` with style `{}` is not supported",
                            style.unwrap_or("default")
                        ),
                    ));
                }
            }
        }
        // Two parameters whose names sanitize to the same identifier would
        // generate a builder with a duplicate method.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for p in &kept {
            let p = resolve(&self.doc, p, op_path)?;
            let name = p["name"].as_str().unwrap_or_default();
            if let Some(other) = seen.insert(sanitize_snake(name), name.to_string()) {
                return Err(err(
                    &seg(op_path, &["parameters"]),
                    format!(
                        "parameters `{other}` and `{name}` both become `{}` in Rust",
                        sanitize_snake(name)
                    ),
                ));
            }
        }
        // progenitor panics when a `{name}` of the path template has no path
        // parameter; say so here instead.
        let path_template = op_path.get(1).cloned().unwrap_or_default();
        for name in path_template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        {
            let declared = kept.iter().any(|p| {
                resolve(&self.doc, p, op_path).is_ok_and(|p| p["in"] == "path" && p["name"] == name)
            });
            if !declared {
                return Err(err(
                    &seg(op_path, &["parameters"]),
                    format!(
                        "the path has `{{{name}}}` but the operation declares no path parameter `{name}`"
                    ),
                ));
            }
        }
        let op = self.op_mut(op_path)?;
        if kept.is_empty() {
            op.remove("parameters");
        } else {
            op.insert("parameters".into(), Value::Array(kept));
        }
        Ok((cookies, groups))
    }

    /// Collects `(wire name, schema, required)` for every leaf property of a
    /// deepObject parameter; nested objects continue as `name[a][b]`. A
    /// schema that contains itself is refused (see [`Expanding`]).
    fn flatten_deep_object(
        &self,
        expanding: &mut Expanding,
        prefix: &str,
        schema: &Value,
        required: bool,
        at: &[String],
        out: &mut Vec<(String, Value, bool)>,
    ) -> Result<(), SpecError> {
        let resolved = resolve(&self.doc, schema, at)?;
        let properties = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                err(
                    at,
                    format!(
                        "deepObject parameter `{prefix}` needs an object schema with properties"
                    ),
                )
            })?;
        let entered = expanding.enter(schema, prefix, at)?;
        let required_props = required_of(resolved);
        for (prop, prop_schema) in properties {
            let wire = format!("{prefix}[{prop}]");
            let prop_required = required && required_props.contains(prop.as_str());
            let prop_at = seg(at, &["properties", prop]);
            let target = resolve(&self.doc, prop_schema, &prop_at)?;
            if target
                .get("properties")
                .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()))
            {
                self.flatten_deep_object(
                    expanding,
                    &wire,
                    prop_schema,
                    prop_required,
                    &prop_at,
                    out,
                )?;
            } else {
                expanding.field(&prop_at)?;
                out.push((wire, prop_schema.clone(), prop_required));
            }
        }
        expanding.leave(entered);
        Ok(())
    }

    fn request_body(
        &mut self,
        op_path: &[String],
    ) -> Result<(Option<String>, Vec<String>), SpecError> {
        let Some(body) = self.op(op_path)?.get("requestBody").cloned() else {
            return Ok((None, Vec::new()));
        };
        let at = seg(op_path, &["requestBody"]);
        let mut body = resolve(&self.doc, &body, &at)?.clone();
        let content = body
            .get_mut("content")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| err(&at, "request body without a `content` map"))?;
        if content.is_empty() {
            return Ok((None, Vec::new()));
        }
        let mut dropped = Vec::new();
        if content.len() > 1 {
            let keys: Vec<String> = content.keys().cloned().collect();
            let keep = keys
                .iter()
                .find(|k| is_json_media_type(k))
                .or_else(|| keys.iter().find(|k| is_form_media_type(k)))
                .unwrap_or(&keys[0])
                .clone();
            dropped = keys.into_iter().filter(|k| *k != keep).collect();
            content.retain(|k, _| *k == keep);
        }
        let (media_type, media) = content
            .iter_mut()
            .next()
            .map(|(k, v)| (k.clone(), v))
            .ok_or_else(|| err(&at, "empty content"))?;
        let media_path = seg(&at, &["content", &media_type]);
        if !dropped.is_empty() {
            let detail = format!("kept {media_type}; dropped {}", dropped.join(", "));
            self.note(&seg(&at, &["content"]), Rule::RequestMediaType, detail);
        }
        let tidied = tidy_media_type(&media_type, media, &media_path)?;
        let schema = media.get("schema").cloned().ok_or_else(|| {
            err(
                &media_path,
                format!("request body {media_type} has no schema"),
            )
        })?;
        self.rewrites.extend(tidied);
        if is_form_media_type(&media_type) {
            let flat = self.flatten_form(
                &schema,
                &seg(&media_path, &["schema"]),
                &operation_label(op_path),
            )?;
            body["content"][&media_type]["schema"] = flat;
        }
        self.op_mut(op_path)?.insert("requestBody".into(), body);
        Ok((Some(media_type), dropped))
    }

    /// Makes a form body schema flat: each nested object property becomes
    /// `name[prop]` fields. Returns the schema to use for the body.
    /// `operation` (`POST /x`) names the body in messages. A schema that
    /// contains itself is refused (see [`Expanding`]).
    fn flatten_form(
        &mut self,
        schema: &Value,
        at: &[String],
        operation: &str,
    ) -> Result<Value, SpecError> {
        let resolved = resolve(&self.doc, schema, at)?.clone();
        let Some(properties) = resolved.get("properties").and_then(Value::as_object) else {
            return Ok(schema.clone());
        };
        let mut expanding =
            Expanding::new(format!("the form body of `{operation}`"), "a form body");
        // The body's own schema is the first one expanded, so this cannot fail.
        expanding.enter(schema, "", at)?;
        let required = required_of(&resolved);
        let mut flat = Map::new();
        let mut flat_required = Vec::new();
        let mut nested = Vec::new();
        for (name, prop) in properties {
            let prop_at = seg(at, &["properties", name]);
            let is_required = required.contains(name);
            let mut leaves = Vec::new();
            self.form_leaves(
                &mut expanding,
                name,
                prop,
                is_required,
                &prop_at,
                &mut leaves,
            )?;
            if leaves.len() != 1 || leaves[0].0 != *name {
                nested.push(name.clone());
            }
            for (wire, s, r) in leaves {
                if r {
                    flat_required.push(json!(wire));
                }
                flat.insert(wire, s);
            }
        }
        if nested.is_empty() {
            return Ok(schema.clone());
        }
        let mut new_schema = resolved.clone();
        new_schema["properties"] = Value::Object(flat);
        if let Some(m) = new_schema.as_object_mut() {
            if flat_required.is_empty() {
                m.remove("required");
            } else {
                m.insert("required".into(), Value::Array(flat_required));
            }
        }
        let detail = format!(
            "nested {} flattened to `name[prop]` fields",
            nested.join(", ")
        );
        match ref_name(schema).map(str::to_string) {
            Some(name) => {
                // Rewrite the component in place when the form body is its only
                // user; otherwise give the flat form its own component.
                let target = if self.count_refs(&name) <= 1 {
                    name.clone()
                } else {
                    format!("{name}Form")
                };
                if target != name && self.doc["components"]["schemas"].get(&target).is_some() {
                    return Err(err(
                        at,
                        format!(
                            "cannot add the flattened form schema `{target}`: the name is taken"
                        ),
                    ));
                }
                self.doc["components"]["schemas"][&target] = new_schema;
                self.note(
                    &[
                        "components".to_string(),
                        "schemas".to_string(),
                        target.clone(),
                    ],
                    Rule::FormFlatten,
                    detail,
                );
                Ok(json!({"$ref": format!("#/components/schemas/{target}")}))
            }
            None => {
                self.note(at, Rule::FormFlatten, detail);
                Ok(new_schema)
            }
        }
    }

    /// Collects `(wire name, schema, required)` for every leaf of the form
    /// field `wire`; nested objects continue as `wire[a][b]`. A schema that
    /// contains itself is refused (see [`Expanding`]).
    fn form_leaves(
        &self,
        expanding: &mut Expanding,
        wire: &str,
        schema: &Value,
        required: bool,
        at: &[String],
        out: &mut Vec<(String, Value, bool)>,
    ) -> Result<(), SpecError> {
        let resolved = resolve(&self.doc, schema, at)?;
        if let Some(props) = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
        {
            let entered = expanding.enter(schema, wire, at)?;
            let req = required_of(resolved);
            for (name, prop) in props {
                self.form_leaves(
                    expanding,
                    &format!("{wire}[{name}]"),
                    prop,
                    required && req.contains(name.as_str()),
                    &seg(at, &["properties", name]),
                    out,
                )?;
            }
            expanding.leave(entered);
            return Ok(());
        }
        let types = match resolved.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"array") {
            return Err(err(
                at,
                format!(
                    "form field `{wire}` is an array, which the generated client cannot encode in a form body"
                ),
            ));
        }
        expanding.field(at)?;
        out.push((wire.to_string(), schema.clone(), required));
        Ok(())
    }

    fn count_refs(&self, name: &str) -> usize {
        fn walk(v: &Value, target: &str, n: &mut usize) {
            match v {
                Value::Object(m) => {
                    if m.get("$ref").and_then(Value::as_str) == Some(target) {
                        *n += 1;
                    }
                    m.values().for_each(|x| walk(x, target, n));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, target, n)),
                _ => {}
            }
        }
        let mut n = 0;
        walk(&self.doc, &format!("#/components/schemas/{name}"), &mut n);
        n
    }

    fn responses(&mut self, op_path: &[String], rust_name: &str) -> Result<(), SpecError> {
        let responses_path = seg(op_path, &["responses"]);
        let responses = match self.op(op_path)?.get("responses") {
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(err(&responses_path, "`responses` is not an object")),
            None => return Err(err(&responses_path, "operation without `responses`")),
        };
        let mut resolved: Vec<(String, Value)> = Vec::new();
        for (status, response) in &responses {
            let at = seg(&responses_path, &[status]);
            let mut r = resolve(&self.doc, response, &at)?.clone();
            if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
                for (media_type, media) in content.iter_mut() {
                    let media_at = seg(&at, &["content", media_type]);
                    let tidied = tidy_media_type(media_type, media, &media_at)?;
                    self.rewrites.extend(tidied);
                }
            }
            resolved.push((status.clone(), r));
        }

        let is_success = |s: &str| s.starts_with('2') || s == "default";
        let is_error = |s: &str| s.starts_with('4') || s.starts_with('5') || s == "default";
        for (class, filter) in [
            ("success", &is_success as &dyn Fn(&str) -> bool),
            ("error", &is_error),
        ] {
            self.unify_class(&responses_path, rust_name, class, filter, &mut resolved)?;
        }

        let mut map = Map::new();
        for (status, r) in resolved {
            // Keep references that were not touched, so the document stays
            // recognisable; inline only what changed.
            let original = &responses[&status];
            let unchanged = resolve(&self.doc, original, &responses_path)? == &r;
            map.insert(status, if unchanged { original.clone() } else { r });
        }
        self.op_mut(op_path)?
            .insert("responses".into(), Value::Object(map));
        Ok(())
    }

    fn unify_class(
        &mut self,
        responses_path: &[String],
        rust_name: &str,
        class: &str,
        filter: &dyn Fn(&str) -> bool,
        resolved: &mut [(String, Value)],
    ) -> Result<(), SpecError> {
        #[derive(PartialEq)]
        enum Kind {
            Json(Value),
            Raw,
            Empty,
        }
        let kind_of = |r: &Value| -> Kind {
            match r.get("content").and_then(Value::as_object) {
                Some(c) if !c.is_empty() => c
                    .iter()
                    .find(|(k, _)| is_json_media_type(k))
                    .map(|(_, m)| Kind::Json(m["schema"].clone()))
                    .unwrap_or(Kind::Raw),
                _ => Kind::Empty,
            }
        };
        let members: Vec<(String, Kind)> = resolved
            .iter()
            .filter(|(s, _)| filter(s))
            .map(|(s, r)| (s.clone(), kind_of(r)))
            .collect();
        let jsons: Vec<(&String, &Value)> = members
            .iter()
            .filter_map(|(s, k)| match k {
                Kind::Json(v) => Some((s, v)),
                _ => None,
            })
            .collect();
        let has_other = members.iter().any(|(_, k)| !matches!(k, Kind::Json(_)));
        let distinct_other: BTreeSet<&str> = members
            .iter()
            .filter_map(|(_, k)| match k {
                Kind::Raw => Some("non-JSON"),
                Kind::Empty => Some("empty"),
                Kind::Json(_) => None,
            })
            .collect();
        if (!jsons.is_empty() && has_other) || distinct_other.len() > 1 {
            let statuses: Vec<&str> = members.iter().map(|(s, _)| s.as_str()).collect();
            return Err(err(
                responses_path,
                format!(
                    "the {class} responses ({}) mix JSON, non-JSON and empty bodies; progenitor needs one kind per class",
                    statuses.join(", ")
                ),
            ));
        }
        let mut distinct: Vec<&Value> = Vec::new();
        for (_, v) in &jsons {
            if !distinct.contains(v) {
                distinct.push(v);
            }
        }
        if distinct.len() <= 1 {
            return Ok(());
        }

        // Member names: component names for references, `{Method}{Status}`
        // for inline schemas.
        let mut labelled: Vec<(String, Value)> = Vec::new();
        for (status, schema) in &jsons {
            let label = ref_name(schema).map(str::to_string).unwrap_or_else(|| {
                format!(
                    "{}{}",
                    pascal(rust_name),
                    pascal(&format!("{class}-{status}"))
                )
            });
            if !labelled.iter().any(|(l, _)| *l == label) {
                labelled.push((label, (*schema).clone()));
            }
        }
        labelled.sort_by(|a, b| a.0.cmp(&b.0));

        let shapes: Vec<Value> = labelled
            .iter()
            .map(|(_, s)| resolve(&self.doc, s, responses_path).map(strip_annotations))
            .collect::<Result<_, _>>()?;
        let statuses: Vec<&str> = jsons.iter().map(|(s, _)| s.as_str()).collect();
        let replacement = if shapes.windows(2).all(|w| w[0] == w[1]) {
            // Same shape under different names: use one of them for all.
            let (label, schema) = labelled
                .iter()
                .find(|(_, s)| ref_name(s).is_some())
                .unwrap_or(&labelled[0]);
            self.note(
                responses_path,
                Rule::ResponseSchemas,
                format!(
                    "{class} responses {} use {} (the same shape as {})",
                    statuses.join(", "),
                    label,
                    labelled
                        .iter()
                        .map(|(l, _)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            schema.clone()
        } else {
            let name = labelled
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join("Or");
            let merged = self.merge_schemas(&labelled, responses_path)?;
            match self.doc["components"]["schemas"].get(&name) {
                Some(existing) if *existing != merged => {
                    return Err(err(
                        responses_path,
                        format!("cannot add the merged {class} schema `{name}`: the name is taken"),
                    ));
                }
                Some(_) => {}
                None => {
                    if !self.doc["components"].is_object() {
                        self.doc["components"] = json!({});
                    }
                    if !self.doc["components"]["schemas"].is_object() {
                        self.doc["components"]["schemas"] = json!({});
                    }
                    self.doc["components"]["schemas"][&name] = merged;
                }
            }
            self.note(
                responses_path,
                Rule::ResponseSchemas,
                format!(
                    "{class} responses {} share the new schema {name}, which holds each of {}",
                    statuses.join(", "),
                    labelled
                        .iter()
                        .map(|(l, _)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            json!({"$ref": format!("#/components/schemas/{name}")})
        };
        for (status, r) in resolved.iter_mut() {
            if !filter(status) {
                continue;
            }
            if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
                for (media_type, media) in content.iter_mut() {
                    if is_json_media_type(media_type) {
                        media["schema"] = replacement.clone();
                    }
                }
            }
        }
        Ok(())
    }

    /// One object schema holding every member: the union of their
    /// properties, required only where all members require it. Members that
    /// are not objects make an `anyOf` instead.
    fn merge_schemas(
        &self,
        members: &[(String, Value)],
        at: &[String],
    ) -> Result<Value, SpecError> {
        let resolved: Vec<&Value> = members
            .iter()
            .map(|(_, s)| resolve(&self.doc, s, at))
            .collect::<Result<_, _>>()?;
        let all_objects = resolved.iter().all(|s| {
            s.get("type").and_then(Value::as_str) == Some("object") || s.get("properties").is_some()
        });
        let names: Vec<&str> = members.iter().map(|(l, _)| l.as_str()).collect();
        let description = format!("Any of: {}.", names.join(", "));
        if !all_objects {
            return Ok(json!({
                "description": description,
                "anyOf": members.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            }));
        }
        let mut properties = Map::new();
        let mut required: Option<BTreeSet<String>> = None;
        for s in &resolved {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, schema) in props {
                    match properties.get_mut(name) {
                        None => {
                            properties.insert(name.clone(), schema.clone());
                        }
                        Some(existing)
                            if strip_annotations(existing) == strip_annotations(schema) => {}
                        Some(existing) => {
                            let previous = existing.clone();
                            *existing = json!({"anyOf": [previous, schema.clone()]});
                        }
                    }
                }
            }
            let req = required_of(s);
            required = Some(match required {
                None => req,
                Some(prev) => prev.intersection(&req).cloned().collect(),
            });
        }
        let mut merged = json!({
            "description": description,
            "type": "object",
            "properties": properties,
        });
        if let Some(req) = required.filter(|r| !r.is_empty()) {
            merged["required"] = json!(req);
        }
        Ok(merged)
    }

    // ----- schemas -----

    fn all_schemas(&mut self) -> Result<(), SpecError> {
        let mut locations: Vec<Path> = Vec::new();
        let doc = &self.doc;
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let components = &doc["components"];
        for name in keys(&components["schemas"]) {
            locations.push(vec!["components".into(), "schemas".into(), name]);
        }
        for name in keys(&components["parameters"]) {
            locations.push(vec![
                "components".into(),
                "parameters".into(),
                name,
                "schema".into(),
            ]);
        }
        for name in keys(&components["headers"]) {
            locations.push(vec![
                "components".into(),
                "headers".into(),
                name,
                "schema".into(),
            ]);
        }
        for name in keys(&components["requestBodies"]) {
            let base: Path = vec!["components".into(), "requestBodies".into(), name];
            content_schemas(doc, &base, &mut locations);
        }
        for name in keys(&components["responses"]) {
            let base: Path = vec!["components".into(), "responses".into(), name];
            response_schemas(doc, &base, &mut locations);
        }
        for path in keys(&doc["paths"]) {
            for method in METHODS {
                let op = &doc["paths"][&path][method];
                if !op.is_object() {
                    continue;
                }
                let base: Path = vec!["paths".into(), path.clone(), method.into()];
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    for i in 0..params.len() {
                        locations.push(seg(&base, &["parameters", &i.to_string(), "schema"]));
                    }
                }
                content_schemas(doc, &seg(&base, &["requestBody"]), &mut locations);
                for status in keys(&op["responses"]) {
                    response_schemas(doc, &seg(&base, &["responses", &status]), &mut locations);
                }
            }
        }
        for location in locations {
            let p = ptr(&location)[1..].to_string();
            let Some(value) = self.doc.pointer(&p).cloned() else {
                continue;
            };
            let mut value = value;
            self.schema(&mut value, &location)?;
            if let Some(slot) = self.doc.pointer_mut(&p) {
                *slot = value;
            }
        }
        Ok(())
    }

    fn schema(&mut self, schema: &mut Value, at: &[String]) -> Result<(), SpecError> {
        match schema {
            Value::Bool(true) => {
                *schema = json!({});
                self.note(at, Rule::DroppedKeyword, "boolean schema `true` -> `{}`");
                return Ok(());
            }
            Value::Bool(false) => {
                return Err(err(
                    at,
                    "the boolean schema `false` has no OpenAPI 3.0 equivalent",
                ));
            }
            Value::Object(_) => {}
            _ => return Err(err(at, "a schema must be an object")),
        }
        let Some(map) = schema.as_object_mut() else {
            return Ok(());
        };

        for keyword in [
            "prefixItems",
            "if",
            "then",
            "else",
            "dependentSchemas",
            "dependentRequired",
            "patternProperties",
            "unevaluatedProperties",
            "unevaluatedItems",
            "contains",
            "minContains",
            "maxContains",
            "propertyNames",
            "$dynamicRef",
            "$defs",
        ] {
            if map.contains_key(keyword) {
                return Err(err(
                    &seg(at, &[keyword]),
                    format!("the JSON Schema keyword `{keyword}` has no OpenAPI 3.0 equivalent"),
                ));
            }
        }
        for keyword in [
            "$schema",
            "$id",
            "$anchor",
            "$dynamicAnchor",
            "$comment",
            "contentEncoding",
            "contentMediaType",
            "contentSchema",
        ] {
            if map.remove(keyword).is_some() {
                self.note(
                    &seg(at, &[keyword]),
                    Rule::DroppedKeyword,
                    format!("removed `{keyword}`"),
                );
            }
        }

        // A `null` branch of anyOf/oneOf is the 3.1 spelling of nullable.
        for combinator in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = map.get(combinator) else {
                continue;
            };
            let is_null = |b: &Value| {
                b.get("type") == Some(&json!("null")) || b.get("type") == Some(&json!(["null"]))
            };
            if !branches.iter().any(is_null) {
                continue;
            }
            let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
            map.remove(combinator);
            map.insert("nullable".into(), json!(true));
            if rest.len() == 1 && rest[0].get("$ref").is_some() {
                map.insert("allOf".into(), Value::Array(rest));
                self.note(
                    at,
                    Rule::NullableRef,
                    format!("{combinator} with null -> allOf + nullable"),
                );
            } else {
                map.insert(combinator.into(), Value::Array(rest));
                self.note(
                    at,
                    Rule::TypeArray,
                    format!("null branch of {combinator} -> nullable"),
                );
            }
        }

        // `$ref` with siblings.
        if map.contains_key("$ref") && map.len() > 1 {
            let nullable = map.get("nullable") == Some(&json!(true))
                || map
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.contains(&json!("null")));
            let reference = map.get("$ref").cloned().unwrap_or(Value::Null);
            let siblings: Vec<String> = map.keys().filter(|k| *k != "$ref").cloned().collect();
            if nullable {
                let mut new = Map::new();
                new.insert("allOf".into(), json!([{"$ref": reference}]));
                new.insert("nullable".into(), json!(true));
                if let Some(d) = map.get("description") {
                    new.insert("description".into(), d.clone());
                }
                *map = new;
                self.note(at, Rule::NullableRef, "nullable $ref -> allOf + nullable");
            } else {
                map.retain(|k, _| k == "$ref");
                self.note(
                    at,
                    Rule::RefSiblings,
                    format!("dropped {}", siblings.join(", ")),
                );
            }
        }
        if map.contains_key("$ref") {
            return Ok(());
        }

        if let Some(value) = map.remove("const") {
            if !map.contains_key("enum") {
                map.insert("enum".into(), json!([value]));
            }
            self.note(at, Rule::Const, "const -> enum");
        }
        if let Some(Value::Array(list)) = map.get("examples").cloned() {
            map.remove("examples");
            if let Some(first) = list.into_iter().next() {
                map.entry("example").or_insert(first);
            }
            self.note(at, Rule::Examples, "examples -> example");
        }
        for (exclusive, bound, tighter) in [
            ("exclusiveMinimum", "minimum", std::cmp::Ordering::Greater),
            ("exclusiveMaximum", "maximum", std::cmp::Ordering::Less),
        ] {
            let Some(Value::Number(limit)) = map.get(exclusive).cloned() else {
                continue;
            };
            let current = map.get(bound).and_then(Value::as_f64);
            let limit_f = limit.as_f64().unwrap_or(0.0);
            let use_exclusive = match current {
                None => true,
                Some(b) => limit_f
                    .partial_cmp(&b)
                    .is_some_and(|o| o == tighter || o == std::cmp::Ordering::Equal),
            };
            if use_exclusive {
                map.insert(bound.into(), Value::Number(limit));
                map.insert(exclusive.into(), json!(true));
            } else {
                map.remove(exclusive);
            }
            self.note(
                at,
                Rule::ExclusiveBound,
                format!("numeric {exclusive} -> {bound} + boolean"),
            );
        }
        match map.get("type").cloned() {
            Some(Value::Array(types)) => self.type_array(map, &types, at)?,
            Some(Value::String(t)) if t == "null" => {
                return Err(err(
                    &seg(at, &["type"]),
                    "`type: null` on its own has no OpenAPI 3.0 equivalent",
                ));
            }
            _ => {}
        }

        // Children.
        let mut children: Vec<Path> = Vec::new();
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for name in props.keys() {
                children.push(vec!["properties".into(), name.clone()]);
            }
        }
        match map.get("items") {
            Some(Value::Array(_)) => {
                return Err(err(
                    &seg(at, &["items"]),
                    "tuple `items` has no OpenAPI 3.0 equivalent",
                ));
            }
            Some(_) => children.push(vec!["items".into()]),
            None => {}
        }
        if map
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            children.push(vec!["additionalProperties".into()]);
        }
        if map.contains_key("not") {
            children.push(vec!["not".into()]);
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            if let Some(list) = map.get(combinator).and_then(Value::as_array) {
                for i in 0..list.len() {
                    children.push(vec![combinator.into(), i.to_string()]);
                }
            }
        }
        for child in children {
            let child_path: Path = at.iter().cloned().chain(child.iter().cloned()).collect();
            let p: String = child
                .iter()
                .map(|s| format!("/{}", super::escape_segment(s)))
                .collect();
            let Some(value) = schema.pointer_mut(&p) else {
                continue;
            };
            let mut value = std::mem::take(value);
            self.schema(&mut value, &child_path)?;
            if let [kind, name] = child.as_slice()
                && kind == "properties"
            {
                self.credential_property(name, &mut value, &child_path);
            }
            if let Some(slot) = schema.pointer_mut(&p) {
                *slot = value;
            }
        }
        Ok(())
    }

    /// Gives a property that holds a credential the [`CREDENTIAL_FORMAT`]:
    /// a plain string (no enum, pattern or length bounds, which a `Secret`
    /// would not check, and not nullable) whose name or description says it
    /// is a credential (see [`is_credential`]).
    fn credential_property(&mut self, name: &str, schema: &mut Value, at: &[String]) {
        let Some(map) = schema.as_object_mut() else {
            return;
        };
        let plain_string = map.get("type") == Some(&json!("string"))
            && map.get("nullable") != Some(&json!(true))
            && [
                "enum",
                "pattern",
                "minLength",
                "maxLength",
                "$ref",
                "allOf",
                "anyOf",
                "oneOf",
            ]
            .iter()
            .all(|k| !map.contains_key(*k));
        let description = map.get("description").and_then(Value::as_str);
        if !plain_string || !is_credential(name, description) {
            return;
        }
        let before = map
            .insert("format".into(), json!(CREDENTIAL_FORMAT))
            .and_then(|f| f.as_str().map(str::to_string));
        self.note(
            at,
            Rule::Credential,
            match before {
                Some(format) => format!("string (format {format}) -> Secret"),
                None => "string -> Secret".to_string(),
            },
        );
    }

    fn type_array(
        &mut self,
        map: &mut Map<String, Value>,
        types: &[Value],
        at: &[String],
    ) -> Result<(), SpecError> {
        let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        if names.len() != types.len() {
            return Err(err(
                &seg(at, &["type"]),
                "type array with a non-string entry",
            ));
        }
        let nullable = names.contains(&"null");
        let mut rest: Vec<&str> = Vec::new();
        for t in names.iter().copied().filter(|t| *t != "null") {
            if !rest.contains(&t) {
                rest.push(t);
            }
        }
        if rest.contains(&"integer") && rest.contains(&"number") {
            // Every integer is a number, so `number` alone admits the same values.
            rest.retain(|t| *t != "integer");
        }
        let before = format!("{names:?}");
        match rest.as_slice() {
            [] => {
                return Err(err(
                    &seg(at, &["type"]),
                    "`type: [\"null\"]` on its own has no OpenAPI 3.0 equivalent",
                ));
            }
            [one] => {
                map.insert("type".into(), json!(one));
            }
            several => {
                map.remove("type");
                let mut branches = Vec::new();
                for t in several {
                    let mut branch = Map::new();
                    branch.insert("type".into(), json!(t));
                    for key in type_keywords(t) {
                        if let Some(v) = map.get(*key) {
                            branch.insert((*key).into(), v.clone());
                        }
                    }
                    if let Some(Value::Array(values)) = map.get("enum") {
                        let fitting: Vec<Value> = values
                            .iter()
                            .filter(|v| json_type_fits(v, t))
                            .cloned()
                            .collect();
                        if !fitting.is_empty() {
                            branch.insert("enum".into(), Value::Array(fitting));
                        }
                    }
                    branches.push(Value::Object(branch));
                }
                for t in several {
                    for key in type_keywords(t) {
                        map.remove(*key);
                    }
                }
                map.remove("enum");
                map.insert("anyOf".into(), Value::Array(branches));
            }
        }
        if nullable {
            map.insert("nullable".into(), json!(true));
        }
        self.note(
            at,
            Rule::TypeArray,
            format!("type {before} -> {}", describe_type(map)),
        );
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
mod tests {
    use super::*;

    fn doc(paths: Value, schemas: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {"schemas": schemas}
        })
    }

    fn ok_get(extra: Value) -> Value {
        let mut op = json!({
            "operationId": "routes/x.GetThing",
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
        });
        if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                op.insert(k.clone(), v.clone());
            }
        }
        op
    }

    fn thing() -> Value {
        json!({"Thing": {"type": "object", "properties": {"id": {"type": "string"}}}})
    }

    fn run(d: &Value) -> Normalized {
        let n = normalize(d).expect("normalizes");
        super::super::generate::generate(&n).expect("generates");
        n
    }

    fn rules(n: &Normalized) -> BTreeSet<Rule> {
        n.rewrites.iter().map(|r| r.rule).collect()
    }

    #[test]
    fn openapi_version_becomes_3_0_3_and_3_1_only_keys_go() {
        let mut d = doc(json!({"/t": {"get": ok_get(json!({}))}}), thing());
        d["webhooks"] = json!({});
        d["info"]["summary"] = json!("s");
        let n = run(&d);
        assert_eq!(n.document["openapi"], "3.0.3");
        assert!(n.document.get("webhooks").is_none());
        assert!(n.document["info"].get("summary").is_none());
        assert!(rules(&n).contains(&Rule::OpenApiVersion));
        assert!(rules(&n).contains(&Rule::DroppedKeyword));
    }

    #[test]
    fn type_arrays_become_nullable_or_any_of() {
        let schemas = json!({"Thing": {"type": "object", "properties": {
            "a": {"type": ["null", "string"], "format": "date-time"},
            "b": {"type": ["integer", "number"]},
            "c": {"type": ["string", "integer", "null"], "maxLength": 3, "minimum": 1, "enum": ["x", 2]},
            "d": {"type": ["array", "null"], "items": {"type": ["null", "integer"]}}
        }}});
        let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
        let p = &n.document["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(
            p["a"],
            json!({"type": "string", "format": "date-time", "nullable": true})
        );
        assert_eq!(p["b"], json!({"type": "number"}));
        assert_eq!(
            p["c"],
            json!({"nullable": true, "anyOf": [
                {"type": "string", "maxLength": 3, "enum": ["x"]},
                {"type": "integer", "minimum": 1, "enum": [2]}
            ]})
        );
        assert_eq!(p["d"]["nullable"], true);
        assert_eq!(
            p["d"]["items"],
            json!({"type": "integer", "nullable": true})
        );
        assert_eq!(
            n.rewrites
                .iter()
                .filter(|r| r.rule == Rule::TypeArray)
                .count(),
            5
        );
    }

    #[test]
    fn examples_const_and_exclusive_bounds_take_their_3_0_form() {
        let schemas = json!({"Thing": {"type": "object", "properties": {
            "a": {"type": "string", "examples": ["first", "second"]},
            "b": {"type": "string", "const": "fixed"},
            "c": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "maximum": 5}
        }}});
        let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
        let p = &n.document["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(p["a"], json!({"type": "string", "example": "first"}));
        assert_eq!(p["b"], json!({"type": "string", "enum": ["fixed"]}));
        // The exclusive minimum is kept as a 3.0 boolean; the inclusive
        // maximum of 5 is tighter than the exclusive 10, so it wins.
        assert_eq!(
            p["c"],
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 5})
        );
        let r = rules(&n);
        assert!(
            r.contains(&Rule::Examples)
                && r.contains(&Rule::Const)
                && r.contains(&Rule::ExclusiveBound)
        );
    }

    #[test]
    fn refs_lose_siblings_and_nullable_refs_become_all_of() {
        let schemas = json!({
            "Inner": {"type": "string", "enum": ["a", "b"]},
            "Thing": {"type": "object", "properties": {
                "plain": {"$ref": "#/components/schemas/Inner", "default": "a", "description": "d"},
                "any": {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]},
                "typed": {"$ref": "#/components/schemas/Inner", "type": ["null", "string"]}
            }}
        });
        let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
        let p = &n.document["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(p["plain"], json!({"$ref": "#/components/schemas/Inner"}));
        assert_eq!(
            p["any"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/Inner"}]})
        );
        assert_eq!(
            p["typed"],
            json!({"allOf": [{"$ref": "#/components/schemas/Inner"}], "nullable": true})
        );
        let r = rules(&n);
        assert!(r.contains(&Rule::RefSiblings) && r.contains(&Rule::NullableRef));
    }

    #[test]
    fn deep_object_parameters_become_one_parameter_per_property() {
        let schemas = json!({
            "Thing": {"type": "object"},
            "Page": {"type": "object", "required": ["limit"], "properties": {
                "limit": {"type": "integer"},
                "range": {"type": "object", "properties": {"from": {"type": "string"}}}
            }}
        });
        let params = json!({"parameters": [
            {"name": "page", "in": "query", "required": true, "style": "deepObject", "explode": true,
             "schema": {"$ref": "#/components/schemas/Page"}}
        ]});
        let n =
            normalize(&doc(json!({"/t": {"get": ok_get(params)}}), schemas)).expect("normalizes");
        let ps = n.document["paths"]["/t"]["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = ps.iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["page[limit]", "page[range][from]"]);
        assert_eq!(ps[0]["required"], true, "required in a required group");
        assert!(ps[1].get("required").is_none());
        assert_eq!(ps[0]["style"], "form");
        assert_eq!(
            n.operations[0].query_groups[0].parameters,
            ["page[limit]", "page[range][from]"]
        );
        let code = super::super::generate::generate(&n).expect("generates");
        assert!(code.contains("\"page[limit]\""), "the wire name is kept");
        assert!(
            code.contains("fn page_limit"),
            "the builder method is page_limit"
        );
    }

    #[test]
    fn cookie_parameters_leave_the_signature_and_are_recorded() {
        let params = json!({"parameters": [
            {"name": "session", "in": "cookie", "required": true, "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]});
        let n = run(&doc(json!({"/t": {"get": ok_get(params)}}), thing()));
        let ps = &n.document["paths"]["/t"]["get"]["parameters"];
        assert_eq!(ps.as_array().map(Vec::len), Some(1));
        assert_eq!(n.operations[0].cookies[0].name, "session");
        assert!(n.operations[0].cookies[0].required);
        assert!(rules(&n).contains(&Rule::CookieParameter));
    }

    #[test]
    fn path_level_parameters_move_into_operations_unless_overridden() {
        let d = doc(
            json!({"/t/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "v", "in": "query", "schema": {"type": "string"}}
                ],
                "get": ok_get(json!({"parameters": [{"name": "v", "in": "query", "schema": {"type": "integer"}}]}))
            }}),
            thing(),
        );
        let n = run(&d);
        let item = &n.document["paths"]["/t/{id}"];
        assert!(item.get("parameters").is_none());
        let ps = item["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(ps.len(), 2);
        assert_eq!(
            ps[1]["schema"]["type"], "integer",
            "the operation's own `v` wins"
        );
        assert!(rules(&n).contains(&Rule::PathParameters));
    }

    #[test]
    fn several_request_media_types_keep_json_and_drop_encoding() {
        let body = json!({"requestBody": {"content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Thing"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}, "encoding": {"id": {"contentType": "text/plain"}}}
        }}});
        let n = run(&doc(json!({"/t": {"post": ok_get(body)}}), thing()));
        let content = &n.document["paths"]["/t"]["post"]["requestBody"]["content"];
        assert_eq!(
            content
                .as_object()
                .map(|c| c.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["application/json".to_string()])
        );
        assert!(content["application/json"].get("encoding").is_none());
        assert_eq!(
            n.operations[0].request_media_type.as_deref(),
            Some("application/json")
        );
        assert_eq!(
            n.operations[0].dropped_media_types,
            ["application/x-www-form-urlencoded"]
        );
        let r = rules(&n);
        assert!(r.contains(&Rule::RequestMediaType) && r.contains(&Rule::MediaTypeEncoding));
    }

    #[test]
    fn nested_form_objects_are_flattened_to_bracketed_fields() {
        let schemas = json!({
            "Thing": {"type": "object"},
            "Opts": {"type": "object", "required": ["on"], "properties": {"on": {"type": "boolean"}, "n": {"type": "integer"}}},
            "Form": {"type": "object", "required": ["url", "opts"], "properties": {
                "url": {"type": "string"},
                "opts": {"$ref": "#/components/schemas/Opts"}
            }}
        });
        let body = json!({"requestBody": {"content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Form"}}
        }}});
        let n =
            normalize(&doc(json!({"/t": {"post": ok_get(body)}}), schemas)).expect("normalizes");
        let form = &n.document["components"]["schemas"]["Form"];
        let keys: Vec<&String> = form["properties"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["url", "opts[on]", "opts[n]"]);
        assert_eq!(form["required"], json!(["url", "opts[on]"]));
        assert!(rules(&n).contains(&Rule::FormFlatten));
        let code = super::super::generate::generate(&n).expect("generates");
        assert!(
            code.contains("rename = \"opts[on]\""),
            "serde renames keep the wire name"
        );
    }

    #[test]
    fn json_without_schema_accepts_any_json() {
        let op = json!({"operationId": "getIt", "responses": {"200": {"description": "OK", "content": {"application/json": {}}}}});
        let n = run(&doc(json!({"/t": {"get": op}}), json!({})));
        assert_eq!(
            n.document["paths"]["/t"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
            json!({})
        );
        assert!(rules(&n).contains(&Rule::MissingSchema));
    }

    #[test]
    fn error_responses_with_different_schemas_share_one() {
        let schemas = json!({
            "Thing": {"type": "object"},
            "A": {"type": "object", "properties": {"code": {"type": "integer"}, "error": {"type": "string"}}},
            "B": {"type": "object", "description": "other", "properties": {"code": {"type": "integer"}, "error": {"type": "string"}}},
            "C": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}, "code": {"type": "string"}}}
        });
        let responses = |e1: &str, e2: &str| {
            json!({"responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "401": {"description": "no", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{e1}")}}}},
                "500": {"description": "no", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{e2}")}}}},
                "404": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}}
            }})
        };
        let mut same = ok_get(responses("A", "B"));
        same["responses"].as_object_mut().map(|m| m.remove("404"));
        let mut different = ok_get(responses("A", "C"));
        different["operationId"] = json!("other");
        let n = run(&doc(
            json!({"/same": {"get": same}, "/different": {"get": different}}),
            schemas,
        ));
        let same_r = &n.document["paths"]["/same"]["get"]["responses"];
        assert_eq!(
            same_r["500"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/A"})
        );
        let merged_ref = json!({"$ref": "#/components/schemas/AOrCOrOtherError404"});
        let diff_r = &n.document["paths"]["/different"]["get"]["responses"];
        for status in ["401", "404", "500"] {
            assert_eq!(
                diff_r[status]["content"]["application/json"]["schema"], merged_ref,
                "{status}"
            );
        }
        let merged = &n.document["components"]["schemas"]["AOrCOrOtherError404"];
        assert_eq!(
            merged["properties"]["code"],
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
        );
        assert!(
            merged.get("required").is_none(),
            "only fields every member requires stay required"
        );
        assert_eq!(
            n.rewrites
                .iter()
                .filter(|r| r.rule == Rule::ResponseSchemas)
                .count(),
            2
        );
    }

    #[test]
    fn operation_ids_become_snake_case_method_names() {
        assert_eq!(rust_method_name("routes/auth.GetSession"), "get_session");
        assert_eq!(
            rust_method_name("routes/auth.PostOAuthSignIn"),
            "post_oauth_sign_in"
        );
        assert_eq!(rust_method_name("routes/gateway.GetC2pa"), "get_c2pa");
        assert_eq!(rust_method_name("listThings"), "list_things");
        let op = json!({
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "gone"}}
        });
        let n = run(&doc(json!({"/things/{id}": {"delete": op}}), json!({})));
        assert_eq!(n.operations[0].rust_name, "delete_things_id");
        assert!(rules(&n).contains(&Rule::OperationId));
    }

    fn refused(d: &Value) -> SpecError {
        match normalize(d) {
            Ok(_) => SpecError::new("#", "accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_method_name_collision_is_refused_with_both_places() {
        let d = doc(
            json!({"/a": {"get": ok_get(json!({}))}, "/b": {"get": ok_get(json!({}))}}),
            thing(),
        );
        let e = refused(&d);
        assert_eq!(e.pointer, "#/paths/~1b/get");
        assert!(
            e.reason.contains("get_thing") && e.reason.contains("#/paths/~1a/get"),
            "{e}"
        );
    }

    /// A deepObject parameter `filter` of `GET /x` with the schema `schema`.
    fn deep_object_get(schema: Value) -> Value {
        ok_get(json!({"parameters": [
            {"name": "filter", "in": "query", "style": "deepObject", "explode": true, "schema": schema}
        ]}))
    }

    /// A form body of `POST /x` with the schema `schema`.
    fn form_post(schema: Value) -> Value {
        ok_get(json!({"requestBody": {"content": {
            "application/x-www-form-urlencoded": {"schema": schema}
        }}}))
    }

    fn with_thing(mut schemas: Value) -> Value {
        if let (Some(m), Some(thing)) = (schemas.as_object_mut(), thing().as_object()) {
            m.extend(thing.clone());
        }
        schemas
    }

    fn schema_ref(name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    #[test]
    fn a_deep_object_parameter_that_contains_itself_is_refused() {
        let schemas = with_thing(json!({"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "child": schema_ref("Node")
        }}}));
        let d = doc(
            json!({"/x": {"get": deep_object_get(schema_ref("Node"))}}),
            schemas,
        );
        let e = refused(&d);
        assert_eq!(
            e.pointer,
            "#/paths/~1x/get/parameters/0/schema/properties/child"
        );
        assert_eq!(
            e.reason,
            "deepObject parameter `filter` of `GET /x` is recursive: `#/components/schemas/Node` contains itself at `filter[child]`; a query string cannot encode a recursive object"
        );

        // Through another schema, below an inline one.
        let schemas = with_thing(json!({
            "Node": {"type": "object", "properties": {"link": schema_ref("Link")}},
            "Link": {"type": "object", "properties": {"node": schema_ref("Node")}}
        }));
        let inline = json!({"type": "object", "properties": {"root": schema_ref("Node")}});
        let e = refused(&doc(
            json!({"/x": {"get": deep_object_get(inline)}}),
            schemas,
        ));
        assert!(
            e.reason.contains(
                "`#/components/schemas/Node` contains itself at `filter[root][link][node]`"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_form_body_that_contains_itself_is_refused() {
        let schemas = with_thing(json!({
            "Form": {"type": "object", "properties": {
                "url": {"type": "string"},
                "node": schema_ref("Node")
            }},
            "Node": {"type": "object", "properties": {
                "id": {"type": "string"},
                "link": schema_ref("Link")
            }},
            "Link": {"type": "object", "properties": {"node": schema_ref("Node")}}
        }));
        let d = doc(
            json!({"/x": {"post": form_post(schema_ref("Form"))}}),
            schemas,
        );
        let e = refused(&d);
        assert_eq!(
            e.pointer,
            "#/paths/~1x/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/node/properties/link/properties/node"
        );
        assert_eq!(
            e.reason,
            "the form body of `POST /x` is recursive: `#/components/schemas/Node` contains itself at `node[link][node]`; a form body cannot encode a recursive object"
        );

        // The body's own schema, one level down.
        let schemas = with_thing(json!({"Form": {"type": "object", "properties": {
            "url": {"type": "string"},
            "parent": schema_ref("Form")
        }}}));
        let e = refused(&doc(
            json!({"/x": {"post": form_post(schema_ref("Form"))}}),
            schemas,
        ));
        assert!(
            e.reason
                .contains("`#/components/schemas/Form` contains itself at `parent`"),
            "{e}"
        );
    }

    #[test]
    fn a_schema_reached_twice_without_a_cycle_is_flattened_twice() {
        // A -> B -> D and A -> C -> D: D is expanded on two paths, neither
        // of which contains it twice.
        let schemas = with_thing(json!({
            "A": {"type": "object", "properties": {"b": schema_ref("B"), "c": schema_ref("C")}},
            "B": {"type": "object", "properties": {"d": schema_ref("D")}},
            "C": {"type": "object", "properties": {"d": schema_ref("D")}},
            "D": {"type": "object", "properties": {"x": {"type": "string"}}}
        }));
        let d = doc(
            json!({"/x": {
                "get": deep_object_get(schema_ref("A")),
                "post": {
                    "operationId": "postX",
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": schema_ref("A")}}},
                    "responses": {"204": {"description": "done"}}
                }
            }}),
            schemas,
        );
        let n = normalize(&d).expect("a diamond is not a cycle");
        assert_eq!(
            n.operations[0].query_groups[0].parameters,
            ["filter[b][d][x]", "filter[c][d][x]"]
        );
        let body = &n.document["paths"]["/x"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"];
        let form = resolve(&n.document, body, &[]).expect("the form schema");
        assert_eq!(
            form["properties"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["b[d][x]".to_string(), "c[d][x]".to_string()])
        );
    }

    #[test]
    fn a_schema_that_doubles_at_every_level_is_refused_past_the_field_limit() {
        // L0 -> L1 twice -> ... -> L12: 4096 fields, no cycle.
        let mut levels = serde_json::Map::new();
        for i in 0..12 {
            let next = schema_ref(&format!("L{}", i + 1));
            levels.insert(
                format!("L{i}"),
                json!({"type": "object", "properties": {"a": next.clone(), "b": next}}),
            );
        }
        levels.insert(
            "L12".into(),
            json!({"type": "object", "properties": {"x": {"type": "string"}}}),
        );
        let schemas = with_thing(Value::Object(levels));
        let deep = doc(
            json!({"/x": {"get": deep_object_get(schema_ref("L0"))}}),
            schemas.clone(),
        );
        let e = refused(&deep);
        assert!(
            e.reason.contains(
                "deepObject parameter `filter` of `GET /x` flattens to more than 1000 fields"
            ),
            "{e}"
        );
        let form = doc(
            json!({"/x": {"post": {
                "operationId": "postX",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": schema_ref("L0")}}},
                "responses": {"204": {"description": "done"}}
            }}}),
            schemas,
        );
        let e = refused(&form);
        assert!(
            e.reason
                .contains("the form body of `POST /x` flattens to more than 1000 fields"),
            "{e}"
        );
        // Nine levels (512 fields) are within the limit.
        let mut levels = serde_json::Map::new();
        for i in 0..9 {
            let next = schema_ref(&format!("L{}", i + 1));
            levels.insert(
                format!("L{i}"),
                json!({"type": "object", "properties": {"a": next.clone(), "b": next}}),
            );
        }
        levels.insert(
            "L9".into(),
            json!({"type": "object", "properties": {"x": {"type": "string"}}}),
        );
        let within = doc(
            json!({"/x": {"get": deep_object_get(schema_ref("L0"))}}),
            with_thing(Value::Object(levels)),
        );
        let n = normalize(&within).expect("512 fields are fine");
        assert_eq!(n.operations[0].query_groups[0].parameters.len(), 512);
    }

    #[test]
    fn credentials_are_told_by_whole_words_of_the_name_or_description() {
        for (name, description) in [
            ("token", None),
            ("api-token", None),
            ("verify_token", None),
            ("apiToken", None),
            ("jwt", None),
            ("X-Api-Key", None),
            ("client_secret", None),
            ("key", Some("API Token")),
            ("value", Some("the user's password")),
        ] {
            assert!(is_credential(name, description), "{name} {description:?}");
        }
        for (name, description) in [
            ("session-id", Some("Session ID")),
            ("tokenizer", None),
            ("key", Some("sort key")),
            ("long-term", Some("keep the session")),
        ] {
            assert!(!is_credential(name, description), "{name} {description:?}");
        }
    }

    #[test]
    fn a_token_path_parameter_and_token_properties_are_marked() {
        let d = doc(
            json!({"/keys/{token}/{part}": {"get": ok_get(json!({"parameters": [
                {"name": "token", "in": "path", "required": true, "description": "API Token", "schema": {"type": "string"}},
                {"name": "part", "in": "path", "required": true, "schema": {"type": "string"}}
            ]}))}}),
            json!({"Thing": {"type": "object", "properties": {
                "token": {"type": "string"},
                "jwt": {"type": "string", "format": "jwt", "description": "Signed"},
                "password": {"type": "string", "minLength": 6},
                "long-term-token": {"type": "boolean"},
                "name": {"type": "string"}
            }}}),
        );
        let n = run(&d);
        assert_eq!(n.operations[0].secret_path_parameters, ["token"]);
        let thing = &n.document["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(thing["token"]["format"], CREDENTIAL_FORMAT);
        assert_eq!(thing["jwt"]["format"], CREDENTIAL_FORMAT);
        assert_eq!(thing["jwt"]["description"], "Signed");
        // A bounded string would lose its bounds as a Secret; others are
        // not credentials.
        assert!(thing["password"].get("format").is_none());
        assert!(thing["long-term-token"].get("format").is_none());
        assert!(thing["name"].get("format").is_none());
        let credential: Vec<&str> = n
            .rewrites
            .iter()
            .filter(|r| r.rule == Rule::Credential)
            .map(|r| r.detail.as_str())
            .collect();
        assert_eq!(
            credential,
            [
                "path parameter `token` is a credential: never printed",
                "string -> Secret",
                "string (format jwt) -> Secret",
            ]
        );

        let code = super::super::generate::generate(&n).expect("generates");
        assert!(
            code.contains("pub jwt: ::std::option::Option<crate::runtime::Secret>"),
            "{code}"
        );
        assert!(
            code.contains(".field(\"token\", &\"<redacted>\")"),
            "{code}"
        );
        assert!(code.contains(".field(\"part\", &self.part)"), "{code}");
        assert!(code.contains("secret: true"), "{code}");
    }

    #[test]
    fn unsupported_shapes_are_refused_with_pointer_and_reason() {
        let deep = ok_get(json!({"parameters": [
            {"name": "q", "in": "query", "style": "deepObject", "schema": {"type": "string"}}
        ]}));
        let e = refused(&doc(json!({"/t": {"get": deep}}), thing()));
        assert_eq!(e.pointer, "#/paths/~1t/get/parameters/0/schema");
        assert!(e.reason.contains("deepObject"), "{e}");

        let external = ok_get(json!({"parameters": [{"$ref": "other.json#/p"}]}));
        let e = refused(&doc(json!({"/t": {"get": external}}), thing()));
        assert!(e.reason.contains("outside the document"), "{e}");

        let tuple = json!({"Thing": {"type": "array", "prefixItems": [{"type": "string"}]}});
        let e = refused(&doc(json!({"/t": {"get": ok_get(json!({}))}}), tuple));
        assert_eq!(e.pointer, "#/components/schemas/Thing/prefixItems");

        let null_only = json!({"Thing": {"type": "null"}});
        let e = refused(&doc(json!({"/t": {"get": ok_get(json!({}))}}), null_only));
        assert_eq!(e.pointer, "#/components/schemas/Thing/type");

        let mixed = ok_get(json!({"responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
            "204": {"description": "none"}
        }}));
        let e = refused(&doc(json!({"/t": {"get": mixed}}), thing()));
        assert!(e.reason.contains("mix"), "{e}");

        let undeclared = json!({"operationId": "x", "responses": {"204": {"description": "gone"}}});
        let e = refused(&doc(json!({"/t/{id}": {"delete": undeclared}}), thing()));
        assert_eq!(e.pointer, "#/paths/~1t~1{id}/delete/parameters");
        assert!(e.reason.contains("{id}"), "{e}");

        let e = refused(&json!({"swagger": "2.0"}));
        assert_eq!(e.pointer, "#/openapi");

        let e = refused(&json!({"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}));
        assert!(e.reason.contains("not valid OpenAPI 3.0"), "{e}");
    }
}
