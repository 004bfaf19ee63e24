//! The generated builders matched against the document: each parameter with
//! the setter progenitor made for it, the body, and what `send()` returns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use syn::parse_quote;

use crate::codegen::ident::snake;
use crate::codegen::normalize::{Normalized, Operation};
use crate::codegen::refs::resolve;
use crate::codegen::shape::{BuilderShape, SendMethod, Shape, last_ident, unexpected};
use crate::codegen::{SpecError, pointer};

/// Where a parameter is sent; the variant names of `crate::runtime::ParameterLocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
}

impl Location {
    fn from_openapi(location: &str) -> Option<Self> {
        match location {
            "path" => Some(Location::Path),
            "query" => Some(Location::Query),
            "header" => Some(Location::Header),
            _ => None,
        }
    }

    /// The OpenAPI name: `path`, `query` or `header`.
    #[allow(
        dead_code,
        reason = "read by `cargo xtask api`, not by the build script"
    )]
    pub fn openapi(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }

    pub(super) fn variant(self) -> &'static str {
        match self {
            Location::Path => "Path",
            Location::Query => "Query",
            Location::Header => "Header",
        }
    }
}

/// A parameter of the normalized document and the builder method progenitor
/// generated for it.
#[derive(Clone)]
pub struct Parameter {
    /// The wire name, such as `ffprobe[show_streams]`.
    pub name: String,
    /// The builder field and method, such as `ffprobe_show_streams`.
    pub setter: syn::Ident,
    /// Where it is sent.
    pub location: Location,
    /// Whether the document requires it.
    pub required: bool,
    /// The type the setter converts its argument into, as the dispatch
    /// outside the `builder` module names it.
    pub value_type: syn::Type,
    /// What the document says of its value, for tools that build a
    /// command line or a form from the operations table.
    pub facts: ValueFacts,
}

/// What the document says of one value (a parameter or a body field).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueFacts {
    /// The JSON Schema type: `string`, `integer`, `number`, `boolean`,
    /// `array` or `object`; empty when the schema names none.
    pub kind: String,
    /// For an array, the type of its items.
    pub item_kind: Option<String>,
    /// The schema's `format` (of the items, for an array), such as `date-time`.
    pub format: Option<String>,
    /// The default, as JSON text.
    pub default: Option<String>,
    /// The description, trimmed.
    pub description: Option<String>,
    /// The values an `enum` allows (of the items, for an array), as text.
    pub choices: Vec<String>,
}

impl ValueFacts {
    /// The facts of `schema` (references followed) with the description
    /// of the parameter or property that holds it, if it has one.
    pub fn read(doc: &Value, schema: &Value, description: Option<&Value>) -> ValueFacts {
        let schema = crate::codegen::refs::resolve_lenient(doc, schema);
        let kind_of = |schema: &Value| match schema.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        let kind = kind_of(schema);
        let items = schema
            .get("items")
            .map(|items| crate::codegen::refs::resolve_lenient(doc, items));
        let inner = items.unwrap_or(schema);
        let text = |value: &Value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ValueFacts {
            item_kind: items.map(kind_of),
            format: inner
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
            default: schema.get("default").map(Value::to_string),
            description: description
                .or_else(|| schema.get("description"))
                .and_then(Value::as_str)
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty()),
            choices: inner
                .get("enum")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter(|v| !v.is_null()).map(text).collect())
                .unwrap_or_default(),
            kind,
        }
    }
}

/// The request body of an operation and the type its `body` setter takes.
#[derive(Clone)]
pub struct Body {
    /// The media type the client sends.
    pub media_type: String,
    /// Whether the document requires a body.
    pub required: bool,
    /// The type's name without its module path, such as `GatewayPostFileRequest`.
    pub type_name: String,
    /// The type a JSON body is decoded into before it is passed to `body`.
    pub value_type: syn::Type,
    /// The body's properties when it is a flat object (each a scalar or
    /// an array of scalars), so a tool can take it field by field: name,
    /// whether required, and what the document says of it. Empty otherwise.
    pub fields: Vec<(String, bool, ValueFacts)>,
}

// syn's types implement `Debug` only with its `extra-traits` feature, which
// this crate does not ask for; the type is shown as source text instead.
impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameter")
            .field("name", &self.name)
            .field("setter", &self.setter)
            .field("location", &self.location)
            .field("required", &self.required)
            .field("value_type", &type_text(&self.value_type))
            .finish()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("media_type", &self.media_type)
            .field("required", &self.required)
            .field("type_name", &self.type_name)
            .field("value_type", &type_text(&self.value_type))
            .finish()
    }
}

/// What a successful `send()` of the builder returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// `Response<()>`: no body.
    Empty,
    /// `Response<T>` with a decoded `T`.
    Value,
    /// `Response<ByteStream>`: no JSON value.
    Stream,
}

/// The generated builder of one operation, matched against the document.
#[derive(Debug, Clone)]
pub struct Builder {
    /// The method of `Client` that starts the builder.
    pub method: syn::Ident,
    /// The builder struct, such as `GetFile`.
    pub name: String,
    /// The document's parameters, in document order.
    pub parameters: Vec<Parameter>,
    /// The request body, if the builder takes one.
    pub body: Option<Body>,
    /// What a successful call returns.
    pub response: Response,
    /// The model a successful call decodes, when it is one of `types`
    /// (`GetFileResponse` for `types::GetFileResponse`).
    pub success_type: Option<String>,
}

/// Matches every operation of the normalized document with its generated
/// builder: each parameter with the field (and setter) progenitor made for
/// it, the request body with the `body` field, and `send()`'s success type.
///
/// # Errors
///
/// A parameter without a field, a field without a parameter, a setter whose
/// argument type cannot be read, or an operation without a builder, named
/// with the operation and the parameter.
pub fn builders(shape: &Shape, normalized: &Normalized) -> Result<Vec<Builder>, SpecError> {
    let mut out = Vec::with_capacity(normalized.operations.len());
    for op in &normalized.operations {
        let (method, name, builder) = shape.builder_of(&op.rust_name).ok_or_else(|| {
            unexpected(format!(
                "`Client` has no method `{}` returning a builder for operation `{}`",
                op.rust_name, op.operation_id
            ))
        })?;
        if builder.send.is_none() {
            return Err(unexpected(format!(
                "no struct `builder::{name}` with a `send` method"
            )));
        }
        out.push(match_builder(op, normalized, method, name, builder)?);
    }
    Ok(out)
}

fn match_builder(
    op: &Operation,
    normalized: &Normalized,
    method: &syn::Ident,
    name: &str,
    builder: &BuilderShape,
) -> Result<Builder, SpecError> {
    let method_key = op.method.to_ascii_lowercase();
    let op_segments = vec!["paths".to_string(), op.path.clone(), method_key.clone()];
    let fail = |segments: &[String], reason: String| {
        SpecError::new(
            pointer(segments),
            format!("operation `{}` (builder::{name}): {reason}", op.rust_name),
        )
    };
    let doc = &normalized.document;
    let operation = doc
        .get("paths")
        .and_then(|p| p.get(&op.path))
        .and_then(|item| item.get(&method_key))
        .ok_or_else(|| fail(&op_segments, "not in the normalized document".into()))?;

    let mut unmatched: BTreeMap<String, &syn::Ident> =
        builder.fields.iter().map(|f| (f.to_string(), f)).collect();
    let setter_type = |setter: &str| {
        builder
            .setters
            .iter()
            .find(|s| s.ident == setter)
            .map(|s| s.target.clone())
    };

    let declared = match operation.get("parameters") {
        None => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => {
            let at = [op_segments.clone(), vec!["parameters".into()]].concat();
            return Err(fail(&at, "`parameters` is not an array".into()));
        }
    };
    let mut parameters = Vec::with_capacity(declared.len());
    for (i, listed) in declared.iter().enumerate() {
        let at = [
            op_segments.clone(),
            vec!["parameters".into(), i.to_string()],
        ]
        .concat();
        let parameter = resolve(doc, listed, &at)?;
        let Some(wire) = parameter.get("name").and_then(Value::as_str) else {
            return Err(fail(&at, "a parameter has no `name`".into()));
        };
        let location_name = parameter
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let location = Location::from_openapi(location_name).ok_or_else(|| {
            fail(
                &at,
                format!(
                    "parameter `{wire}` is in `{location_name}`, which the generated builder cannot take (cookies should have left the signature in the normalizer)"
                ),
            )
        })?;
        let setter = snake(wire);
        let field = unmatched.remove(&setter).ok_or_else(|| {
            fail(
                &at,
                format!(
                    "parameter `{wire}` ({location_name}) has no builder field `{setter}`; progenitor named it differently, so `snake` in codegen/ident.rs must follow"
                ),
            )
        })?;
        let value_type = setter_type(&setter).ok_or_else(|| {
            fail(
                &at,
                format!(
                    "parameter `{wire}`: the setter `{setter}` is missing or does not take `impl TryInto<T>`"
                ),
            )
        })?;
        parameters.push(Parameter {
            name: wire.to_string(),
            setter: field.clone(),
            location,
            required: parameter
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            value_type,
            facts: ValueFacts::read(
                doc,
                parameter.get("schema").unwrap_or(&Value::Null),
                parameter.get("description"),
            ),
        });
    }

    let body = match &op.request_media_type {
        None => None,
        Some(media_type) => {
            let at = [op_segments.clone(), vec!["requestBody".into()]].concat();
            let request_body = operation
                .get("requestBody")
                .map(|b| resolve(doc, b, &at))
                .transpose()?
                .ok_or_else(|| fail(&at, "the operation has no `requestBody`".into()))?;
            if unmatched.remove("body").is_none() {
                return Err(fail(
                    &at,
                    format!("the {media_type} request body has no builder field `body`"),
                ));
            }
            let setter = setter_type("body").ok_or_else(|| {
                fail(
                    &at,
                    "the setter `body` is missing or does not take `impl TryInto<T>`".into(),
                )
            })?;
            // A raw body (`reqwest::Body`, for octet-stream and text media
            // types) is given as a JSON string.
            let raw = matches!(&setter, syn::Type::Path(p)
                if p.path.segments.iter().map(|s| s.ident.to_string()).eq(["reqwest", "Body"]));
            let value_type: syn::Type = if raw {
                parse_quote!(::std::string::String)
            } else {
                setter
            };
            let fields = request_body
                .get("content")
                .and_then(|c| c.get(media_type.as_str()))
                .and_then(|c| c.get("schema"))
                .map(|schema| flat_fields(doc, schema))
                .unwrap_or_default();
            Some(Body {
                fields,
                media_type: media_type.clone(),
                required: request_body
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                type_name: short_type_name(&value_type),
                value_type,
            })
        }
    };

    if let Some(field) = unmatched.keys().next() {
        return Err(fail(
            &op_segments,
            format!("the builder field `{field}` matches no parameter of the document"),
        ));
    }

    let response = builder
        .send
        .as_ref()
        .and_then(SendMethod::success)
        .map(|success| match success {
            syn::Type::Tuple(t) if t.elems.is_empty() => Response::Empty,
            other if last_ident(other).is_some_and(|i| i == "ByteStream" || i == "Upgraded") => {
                Response::Stream
            }
            _ => Response::Value,
        })
        .ok_or_else(|| {
            fail(
                &op_segments,
                "`send` does not return `Result<Response<T>, _>`".into(),
            )
        })?;

    let success_type = builder
        .send
        .as_ref()
        .and_then(SendMethod::success)
        .and_then(|ty| match ty {
            syn::Type::Path(p)
                if p.path.segments.len() == 2 && p.path.segments[0].ident == "types" =>
            {
                Some(p.path.segments[1].ident.to_string())
            }
            _ => None,
        });
    Ok(Builder {
        method: method.clone(),
        name: name.to_string(),
        parameters,
        body,
        response,
        success_type,
    })
}

/// The properties of an object schema whose every property is a scalar or
/// an array of scalars; empty for any other schema.
fn flat_fields(doc: &Value, schema: &Value) -> Vec<(String, bool, ValueFacts)> {
    let schema = crate::codegen::refs::resolve_lenient(doc, schema);
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scalar = |kind: &str| matches!(kind, "string" | "integer" | "number" | "boolean");
    let mut fields = Vec::with_capacity(properties.len());
    for (name, property) in properties {
        let facts = ValueFacts::read(doc, property, None);
        let flat = scalar(&facts.kind)
            || (facts.kind == "array" && facts.item_kind.as_deref().is_some_and(scalar));
        if !flat {
            return Vec::new();
        }
        fields.push((name.clone(), required.contains(&name.as_str()), facts));
    }
    fields
}

/// A type without module paths: `Vec<GetFileOnly>` for
/// `::std::vec::Vec<types::GetFileOnly>`.
pub(super) fn short_type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => {
            let Some(last) = path.path.segments.last() else {
                return String::new();
            };
            let mut name = last.ident.to_string();
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                let inner: Vec<String> = args
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        syn::GenericArgument::Type(t) => Some(short_type_name(t)),
                        _ => None,
                    })
                    .collect();
                if !inner.is_empty() {
                    let _ = write!(name, "<{}>", inner.join(", "));
                }
            }
            name
        }
        syn::Type::Tuple(t) if t.elems.is_empty() => "()".to_string(),
        other => type_text(other),
    }
}

/// A type as Rust source text.
pub(super) fn type_text(ty: &syn::Type) -> String {
    let file: syn::File = parse_quote!(type T = #ty;);
    prettyplease::unparse(&file)
        .trim()
        .trim_start_matches("type T = ")
        .trim_end_matches(';')
        .to_string()
}
