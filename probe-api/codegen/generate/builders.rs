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
            Some(Body {
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
