//! Code generation: progenitor over the normalized document, plus a table of
//! operation metadata and a by-name dispatch for the hand-written layer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::Span;
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};
use serde_json::Value;
use syn::visit_mut::VisitMut;
use syn::{ImplItem, Item, parse_quote};

use super::ident::snake;
use super::normalize::{Normalized, Operation};
use super::refs::resolve;
use super::{SpecError, pointer};

/// The progenitor settings every build uses.
pub fn settings() -> Result<GenerationSettings, SpecError> {
    // The hand-written layer keeps its state (credentials, timeouts) inside
    // the generated client and implements progenitor's hooks for it.
    let inner = "crate::runtime::ClientState"
        .parse::<proc_macro2::TokenStream>()
        .map_err(|e| SpecError::new("#", format!("invalid inner type path: {e}")))?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        .with_inner_type(inner)
        // Credentials the normalizer marked (a token in a response or a
        // request body) become `Secret`, which never prints its value.
        // typify matches the schema without its metadata, so the marked
        // string schema is all there is to match.
        .with_conversion(
            schemars::schema::SchemaObject {
                instance_type: Some(schemars::schema::InstanceType::String.into()),
                format: Some(super::normalize::CREDENTIAL_FORMAT.to_string()),
                ..Default::default()
            },
            "crate::runtime::Secret",
            std::iter::empty(),
        );
    // A tool's output the normalizer marked with its report format is
    // decoded straight into the report type, once (see `super::reports`).
    for (_, format, rust, _) in super::reports::TOOLS {
        settings.with_conversion(
            schemars::schema::SchemaObject {
                format: Some(format.to_string()),
                ..Default::default()
            },
            rust,
            std::iter::empty(),
        );
    }
    Ok(settings)
}

/// Generates the client source for a normalized document.
///
/// # Errors
///
/// progenitor's errors, and its panics on shapes the normalizer should have
/// removed, become a [`SpecError`]; so does a parameter of the document that
/// the generated builder has no setter for (see [`builders`]).
pub fn generate(normalized: &Normalized) -> Result<String, SpecError> {
    let mut file = progenitor_file(normalized)?;
    let builders = builders(&file, normalized)?;
    redact_secret_fields(&mut file, &normalized.operations, &builders)?;
    document_setters(&mut file, normalized, &builders);
    // progenitor's method docs carry ```ignore examples; as `text` they read
    // the same and are not reported as ignored doctests.
    let mut code = prettyplease::unparse(&file).replace("```ignore", "```text");
    code.push_str(&success_bodies(&file, &builders));
    code.push_str(&operations_table(&normalized.operations, &builders));
    code.push_str(&dynamic_dispatch(&normalized.operations, &builders));
    Ok(code)
}

/// progenitor's client for a normalized document, with lenient response
/// models (see [`super::lenient`]) and every `send()` routed through the
/// hand-written layer.
///
/// # Errors
///
/// As [`generate`].
pub fn progenitor_file(normalized: &Normalized) -> Result<syn::File, SpecError> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(normalized.document.clone()).map_err(|e| {
            SpecError::new(
                "#",
                format!("the normalized document is not OpenAPI 3.0: {e}"),
            )
        })?;
    let settings = settings()?;

    // progenitor reports some unsupported shapes by panicking; the panic
    // becomes an error, and its message is not printed.
    let result = quietly(|| {
        catch_unwind(AssertUnwindSafe(|| {
            Generator::new(&settings).generate_tokens(&spec)
        }))
    });

    let tokens = match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => {
            return Err(SpecError::new(
                "#",
                format!("progenitor rejected the normalized document: {e}"),
            ));
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            return Err(SpecError::new(
                "#",
                format!(
                    "progenitor cannot generate this document (a shape the normalizer does not handle yet): {message}"
                ),
            ));
        }
    };
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| {
        SpecError::new(
            "#",
            format!("progenitor produced code that does not parse: {e}"),
        )
    })?;
    // Before the sends are rerouted: the lenient pass finds the response
    // models through progenitor's `Result<ResponseValue<T>, Error<E>>`.
    super::lenient::open_responses(&mut file)?;
    super::rewrite::route_sends_through_layer(&mut file)?;
    super::rewrite::hide_generator_items(&mut file)?;
    Ok(file)
}

/// Documents every setter of every builder from the document (where the
/// parameter goes, whether it is required, its description and default;
/// the unit of the analysis times), and makes the error of a value that
/// does not convert name the parameter and the type it takes.
pub fn document_setters(file: &mut syn::File, normalized: &Normalized, builders: &[Builder]) {
    let Some((_, module)) = file.items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
        _ => None,
    }) else {
        return;
    };
    for (op, builder) in normalized.operations.iter().zip(builders) {
        let pointer = format!(
            "/paths/{}/{}",
            super::escape_segment(&op.path),
            op.method.to_ascii_lowercase()
        );
        let declared: Vec<&Value> = normalized
            .document
            .pointer(&format!("{pointer}/parameters"))
            .and_then(Value::as_array)
            .map(|list| list.iter().collect())
            .unwrap_or_default();
        let analysis = op.timeout_default_ms.is_some() || op.queue_timeout_default_ms.is_some();
        let mut docs: BTreeMap<String, (String, String)> = BTreeMap::new();
        for parameter in &builder.parameters {
            let found = declared
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(&parameter.name));
            let text = |key: &str| {
                found
                    .and_then(|p| {
                        p.get(key)
                            .or_else(|| p.get("schema").and_then(|s| s.get(key)))
                    })
                    .cloned()
            };
            let mut doc = format!(
                "The {} parameter `{}`{}.",
                parameter.location.variant().to_ascii_lowercase(),
                parameter.name,
                if parameter.required { ", required" } else { "" }
            );
            if let Some(Value::String(description)) = text("description") {
                doc.push_str("\n\n");
                doc.push_str(description.trim());
            }
            if analysis && matches!(parameter.name.as_str(), "timeout" | "queue_timeout") {
                doc.push_str(
                    "\n\nIn milliseconds: how long the server may analyse the media (`timeout`) \
                     or wait for a worker (`queue_timeout`). The client's request timeout grows \
                     to fit them (see `probe_api::timeouts`).",
                );
            }
            if let Some(default) = text("default") {
                doc.push_str(&format!("\n\nDefault: `{default}`."));
            }
            let expected = short_type_name(&parameter.value_type);
            let message = format!(
                "the parameter `{}` must be a `{expected}`; the value given does not convert to it",
                parameter.name
            );
            docs.insert(parameter.setter.to_string(), (doc, message));
        }
        if let Some(body) = &builder.body {
            docs.insert(
                "body".to_string(),
                (
                    format!(
                        "The request body{}, sent as `{}`: a `types::{}` or its builder.",
                        if body.required { " (required)" } else { "" },
                        body.media_type,
                        body.type_name
                    ),
                    format!(
                        "the request body must be a `{}`; the value given does not convert to it",
                        body.type_name
                    ),
                ),
            );
        }
        for item in module.iter_mut() {
            let Item::Impl(block) = item else { continue };
            if last_ident(&block.self_ty).is_none_or(|i| *i != builder.name)
                || block.trait_.is_some()
            {
                continue;
            }
            for impl_item in block.items.iter_mut() {
                let ImplItem::Fn(method) = impl_item else {
                    continue;
                };
                let Some((doc, message)) = docs.get(&method.sig.ident.to_string()) else {
                    continue;
                };
                method.attrs.push(parse_quote!(#[doc = #doc]));
                ConversionMessage(message).visit_block_mut(&mut method.block);
            }
        }
    }
}

/// Replaces progenitor's `"conversion to `T` for x failed"` with a message
/// that names the parameter and the type in words a user reads.
struct ConversionMessage<'m>(&'m str);

impl VisitMut for ConversionMessage<'_> {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        let text = lit.value();
        if text.starts_with("conversion to `") && text.ends_with(" failed") {
            *lit = syn::LitStr::new(self.0, lit.span());
        }
    }
}

/// Gives each builder that holds a credential path parameter a `Debug`
/// that shows the parameter as `<redacted>` instead of progenitor's
/// derived one, which prints every field.
///
/// # Errors
///
/// A builder struct that is not where [`builders`] found it, or that does
/// not derive `Debug` as progenitor 0.15 does.
pub fn redact_secret_fields(
    file: &mut syn::File,
    operations: &[Operation],
    builders: &[Builder],
) -> Result<(), SpecError> {
    let shape_error = |reason: String| {
        SpecError::new(
            "#",
            format!(
                "the generated client has an unexpected shape ({reason}); codegen/generate.rs must be updated for this progenitor version"
            ),
        )
    };
    let Some((_, module)) = file.items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
        _ => None,
    }) else {
        return Err(shape_error("no `builder` module".into()));
    };
    for (op, builder) in operations.iter().zip(builders) {
        let secret: Vec<&syn::Ident> = builder
            .parameters
            .iter()
            .filter(|p| p.location == Location::Path && op.secret_path_parameters.contains(&p.name))
            .map(|p| &p.setter)
            .collect();
        if secret.is_empty() {
            continue;
        }
        let name = &builder.name;
        let item = module
            .iter_mut()
            .find_map(|item| match item {
                Item::Struct(s) if s.ident == name => Some(s),
                _ => None,
            })
            .ok_or_else(|| shape_error(format!("no struct `builder::{name}`")))?;
        let mut derived_debug = false;
        for attr in item
            .attrs
            .iter_mut()
            .filter(|a| a.path().is_ident("derive"))
        {
            let paths = attr
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                )
                .map_err(|e| {
                    shape_error(format!(
                        "`builder::{name}` has a derive that does not parse: {e}"
                    ))
                })?;
            let kept: Vec<&syn::Path> = paths.iter().filter(|p| !p.is_ident("Debug")).collect();
            derived_debug |= kept.len() < paths.len();
            *attr = parse_quote!(#[derive(#(#kept),*)]);
        }
        if !derived_debug {
            return Err(shape_error(format!(
                "`builder::{name}` does not derive Debug"
            )));
        }
        let mut chain: syn::Expr = parse_quote!(f.debug_struct(#name));
        for field in item.fields.iter().filter_map(|f| f.ident.as_ref()) {
            let label = field.to_string();
            chain = if secret.contains(&field) {
                parse_quote!(#chain.field(#label, &"<redacted>"))
            } else {
                parse_quote!(#chain.field(#label, &self.#field))
            };
        }
        let ident = &item.ident;
        let debug: Item = parse_quote! {
            impl ::std::fmt::Debug for #ident<'_> {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    #chain.finish()
                }
            }
        };
        module.push(debug);
    }
    Ok(())
}

std::thread_local! {
    /// Whether this thread is running the generator, whose panics are errors.
    static GENERATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the panics of this thread not printed. The panic hook is
/// wrapped once per process and stays: swapping the hook for a silent one
/// and back would silence, or lose, the panics of other threads meanwhile
/// (tests generate in parallel).
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GENERATING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let before = GENERATING.with(|g| g.replace(true));
    let out = f();
    GENERATING.with(|g| g.set(before));
    out
}

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

    fn variant(self) -> &'static str {
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

/// The fields and methods of one builder struct in the generated source.
struct BuilderItems<'a> {
    /// Named fields, without the `&Client` one.
    fields: Vec<&'a syn::Ident>,
    methods: BTreeMap<String, &'a syn::ImplItemFn>,
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
pub fn builders(file: &syn::File, normalized: &Normalized) -> Result<Vec<Builder>, SpecError> {
    let shape_error = |reason: String| {
        SpecError::new(
            "#",
            format!(
                "the generated client has an unexpected shape ({reason}); codegen/generate.rs must be updated for this progenitor version"
            ),
        )
    };
    // `impl Client { pub fn get_file(&self) -> builder::GetFile<'_> { .. } }`
    let mut starts: BTreeMap<String, (&syn::Ident, String)> = BTreeMap::new();
    for item in &file.items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || last_ident(&block.self_ty).is_none_or(|i| i != "Client") {
            continue;
        }
        for impl_item in &block.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            let syn::ReturnType::Type(_, output) = &method.sig.output else {
                continue;
            };
            if let syn::Type::Path(path) = output.as_ref()
                && path.path.segments.len() == 2
                && path.path.segments[0].ident == "builder"
            {
                let name = path.path.segments[1].ident.to_string();
                starts.insert(method.sig.ident.to_string(), (&method.sig.ident, name));
            }
        }
    }
    let module = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .ok_or_else(|| shape_error("no `builder` module".into()))?;
    let mut items: BTreeMap<String, BuilderItems<'_>> = BTreeMap::new();
    for item in &module.1 {
        match item {
            Item::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .filter(|f| !matches!(f.ty, syn::Type::Reference(_)))
                    .filter_map(|f| f.ident.as_ref())
                    .collect();
                items
                    .entry(s.ident.to_string())
                    .or_insert_with(|| BuilderItems {
                        fields: Vec::new(),
                        methods: BTreeMap::new(),
                    })
                    .fields = fields;
            }
            Item::Impl(block) if block.trait_.is_none() => {
                let Some(owner) = last_ident(&block.self_ty) else {
                    continue;
                };
                let entry = items
                    .entry(owner.to_string())
                    .or_insert_with(|| BuilderItems {
                        fields: Vec::new(),
                        methods: BTreeMap::new(),
                    });
                for impl_item in &block.items {
                    if let ImplItem::Fn(method) = impl_item {
                        entry.methods.insert(method.sig.ident.to_string(), method);
                    }
                }
            }
            _ => {}
        }
    }

    let mut out = Vec::with_capacity(normalized.operations.len());
    for op in &normalized.operations {
        let (method, name) = starts.get(&op.rust_name).ok_or_else(|| {
            shape_error(format!(
                "`Client` has no method `{}` returning a builder for operation `{}`",
                op.rust_name, op.operation_id
            ))
        })?;
        let builder = items
            .get(name)
            .filter(|b| b.methods.contains_key("send"))
            .ok_or_else(|| {
                shape_error(format!("no struct `builder::{name}` with a `send` method"))
            })?;
        out.push(match_builder(op, normalized, method, name, builder)?);
    }
    Ok(out)
}

fn match_builder(
    op: &Operation,
    normalized: &Normalized,
    method: &syn::Ident,
    name: &str,
    builder: &BuilderItems<'_>,
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
        builder.fields.iter().map(|f| (f.to_string(), *f)).collect();
    let setter_type = |setter: &str| {
        builder
            .methods
            .get(setter)
            .and_then(|m| setter_argument_type(m))
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
        .methods
        .get("send")
        .and_then(|send| send_success_type(send))
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
        .methods
        .get("send")
        .and_then(|send| send_success_type(send))
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

/// The last identifier of a path type: `GetFile` for `builder::GetFile<'a>`.
fn last_ident(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The first type argument of the last segment of a path type.
fn first_type_argument(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `T` in `fn x<V>(mut self, value: V) -> Self where V: TryInto<T>`, with
/// paths relative to the `builder` module made relative to its parent.
fn setter_argument_type(method: &syn::ImplItemFn) -> Option<syn::Type> {
    let generics = &method.sig.generics;
    let param = generics.type_params().next()?;
    let inline = param.bounds.iter();
    let in_where = generics
        .where_clause
        .iter()
        .flat_map(|w| w.predicates.iter())
        .filter_map(|p| match p {
            syn::WherePredicate::Type(t) if last_ident(&t.bounded_ty) == Some(&param.ident) => {
                Some(t.bounds.iter())
            }
            _ => None,
        })
        .flatten();
    let mut found = inline.chain(in_where).find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        if segment.ident != "TryInto" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
    })?;
    OutOfBuilderModule.visit_type_mut(&mut found);
    Some(found)
}

/// Rewrites `super::X` (the `builder` module's parent) to `X`, for code
/// written next to the `builder` module.
struct OutOfBuilderModule;

impl VisitMut for OutOfBuilderModule {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none()
            && path.segments.len() > 1
            && path.segments.first().is_some_and(|s| s.ident == "super")
        {
            path.segments = std::mem::take(&mut path.segments)
                .into_iter()
                .skip(1)
                .collect();
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

/// `T` in `async fn send(self) -> Result<crate::runtime::Response<T>, crate::runtime::Error>`.
fn send_success_type(method: &syn::ImplItemFn) -> Option<&syn::Type> {
    let syn::ReturnType::Type(_, output) = &method.sig.output else {
        return None;
    };
    if last_ident(output).is_none_or(|i| i != "Result") {
        return None;
    }
    let value = first_type_argument(output)?;
    if last_ident(value).is_none_or(|i| i != "ResponseValue" && i != "Response") {
        return None;
    }
    first_type_argument(value)
}

/// A type without module paths: `Vec<GetFileOnly>` for
/// `::std::vec::Vec<types::GetFileOnly>`.
fn short_type_name(ty: &syn::Type) -> String {
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
fn type_text(ty: &syn::Type) -> String {
    let file: syn::File = parse_quote!(type T = #ty;);
    prettyplease::unparse(&file)
        .trim()
        .trim_start_matches("type T = ")
        .trim_end_matches(';')
        .to_string()
}

/// An `impl crate::runtime::SuccessBody` for each type a `send()` decodes:
/// a model with a `metadata` object holding `request_id` (the media
/// probes) reads its request id from there, every other one has none.
pub fn success_bodies(file: &syn::File, builders: &[Builder]) -> String {
    let types: Vec<&syn::ItemStruct> = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .into_iter()
        .flat_map(|(_, items)| items)
        .filter_map(|item| match item {
            Item::Struct(s) => Some(s),
            _ => None,
        })
        .collect();
    let field = |model: &str, name: &str| -> Option<syn::Type> {
        let model = types.iter().find(|s| s.ident == model)?;
        model
            .fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
            .map(|f| f.ty.clone())
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = String::from("\n");
    for builder in builders.iter().filter(|b| b.response == Response::Value) {
        let Some(name) = &builder.success_type else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        // `metadata: Option<M>` where `M` has `request_id: Option<String>`.
        let metadata = field(name, "metadata")
            .as_ref()
            .and_then(first_type_argument)
            .and_then(last_ident)
            .map(ToString::to_string);
        let has_id = metadata
            .as_deref()
            .and_then(|m| field(m, "request_id"))
            .is_some_and(|t| type_text(&t).contains("String"));
        let body = if has_id {
            "    fn request_id(&self) -> Option<&str> {\n        self.metadata.as_ref()?.request_id.as_deref()\n    }\n"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "impl crate::runtime::SuccessBody for types::{name} {{\n{body}}}"
        );
    }
    out
}

/// A Rust `const` with one `OperationSpec` per operation, and a function
/// telling whether a name is an operation method. The types live in the
/// hand-written `spec` module of `probe-api`.
pub fn operations_table(operations: &[Operation], builders: &[Builder]) -> String {
    let mut out = String::from(
        "\n/// Every operation of the effective document, as the normalizer saw it.\npub(crate) const OPERATIONS: &[crate::runtime::OperationSpec] = &[\n",
    );
    for (op, builder) in operations.iter().zip(builders) {
        let security = op
            .security
            .iter()
            .map(|alternative| {
                let names: Vec<String> = alternative.iter().map(|n| format!("{n:?}")).collect();
                format!("&[{}]", names.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let cookies = op
            .cookies
            .iter()
            .map(|c| {
                format!(
                    "crate::runtime::CookieSpec {{ name: {:?}, required: {} }}",
                    c.name, c.required
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let groups = op
            .query_groups
            .iter()
            .map(|g| {
                let params: Vec<String> = g.parameters.iter().map(|p| format!("{p:?}")).collect();
                format!(
                    "crate::runtime::QueryGroupSpec {{ name: {:?}, parameters: &[{}] }}",
                    g.name,
                    params.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let parameters = builder
            .parameters
            .iter()
            .map(|p| {
                format!(
                    "crate::runtime::ParameterSpec {{ name: {:?}, setter: {:?}, location: crate::runtime::ParameterLocation::{}, required: {}, secret: {} }}",
                    p.name,
                    p.setter.to_string(),
                    p.location.variant(),
                    p.required,
                    p.location == Location::Path && op.secret_path_parameters.contains(&p.name),
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let body = match &builder.body {
            Some(b) => format!(
                "Some(crate::runtime::BodySpec {{ media_type: {:?}, required: {}, type_name: {:?} }})",
                b.media_type, b.required, b.type_name
            ),
            None => "None".to_string(),
        };
        let _ = writeln!(
            out,
            "    crate::runtime::OperationSpec {{ method: {:?}, path: {:?}, operation_id: {:?}, rust_name: {:?}, security: &[{security}], cookies: &[{cookies}], query_groups: &[{groups}], parameters: &[{parameters}], body: {body}, request_media_type: {:?}, timeout_default_ms: {:?}, queue_timeout_default_ms: {:?} }},",
            op.method,
            op.path,
            op.operation_id,
            op.rust_name,
            op.request_media_type,
            op.timeout_default_ms,
            op.queue_timeout_default_ms,
        );
    }
    out.push_str("];\n");
    // A match arm per operation that calls its builder constructor: the
    // table above cannot name a method the client lacks without failing the
    // build, and tests can ask whether a name derived from the document is a
    // method of the client.
    out.push_str(
        "\n/// Whether `rust_name` is an operation method of the generated client.\npub(crate) fn has_operation_method(client: &Client, rust_name: &str) -> bool {\n    match rust_name {\n",
    );
    for op in operations {
        let _ = writeln!(
            out,
            "        {:?} => {{\n            let _ = client.{}();\n            true\n        }}",
            op.rust_name, op.rust_name
        );
    }
    out.push_str("        _ => false,\n    }\n}\n");
    out
}

/// `call_dynamic`: one match arm per operation that starts its builder,
/// decodes each JSON parameter into the type its setter takes, sends, and
/// re-encodes the decoded response. The helpers it calls live in the
/// hand-written `crate::dynamic` module.
pub fn dynamic_dispatch(operations: &[Operation], builders: &[Builder]) -> String {
    let arms: Vec<syn::Arm> = operations
        .iter()
        .zip(builders)
        .map(|(op, builder)| dynamic_arm(&op.rust_name, builder))
        .collect();
    let function: syn::ItemFn = parse_quote! {
        /// Calls the operation `rust_name` with parameters given by their wire
        /// names as JSON values, and returns the decoded response as JSON.
        pub(crate) async fn call_dynamic(
            client: &Client,
            rust_name: &str,
            params: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
            body: ::std::option::Option<&::serde_json::Value>,
        ) -> ::std::result::Result<::serde_json::Value, crate::runtime::Error> {
            use crate::runtime::dynamic::argument;
            match rust_name {
                #(#arms)*
                _ => Err(crate::runtime::dynamic::unknown_operation(rust_name)),
            }
        }
    };
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![Item::Fn(function)],
    };
    format!("\n{}", prettyplease::unparse(&file))
}

fn dynamic_arm(rust_name: &str, builder: &Builder) -> syn::Arm {
    let operation = syn::LitStr::new(rust_name, Span::call_site());
    if builder.response == Response::Stream {
        return parse_quote! {
            #operation => {
                let _ = (params, body);
                Err(crate::runtime::dynamic::streaming(#operation))
            }
        };
    }
    let method = &builder.method;
    let start: syn::Stmt = if builder.parameters.is_empty() && builder.body.is_none() {
        parse_quote!(let request = client.#method();)
    } else {
        parse_quote!(let mut request = client.#method();)
    };
    let parameters: syn::Stmt = if builder.parameters.is_empty() {
        parse_quote! {
            if let Some(name) = params.keys().next() {
                return Err(crate::runtime::dynamic::unknown_parameter(operation, name));
            }
        }
    } else {
        let setters = builder.parameters.iter().map(|p| -> syn::Arm {
            let wire = syn::LitStr::new(&p.name, Span::call_site());
            let setter = &p.setter;
            let ty = &p.value_type;
            parse_quote! {
                #wire => {
                    let value: #ty = argument(operation, name, value)?;
                    request.#setter(value)
                }
            }
        });
        parse_quote! {
            for (name, value) in params {
                request = match name.as_str() {
                    #(#setters)*
                    _ => return Err(crate::runtime::dynamic::unknown_parameter(operation, name)),
                };
            }
        }
    };
    let body: syn::Stmt = match &builder.body {
        Some(b) => {
            let ty = &b.value_type;
            parse_quote! {
                if let Some(body) = body {
                    let value: #ty = crate::runtime::dynamic::body(operation, body)?;
                    request = request.body(value);
                }
            }
        }
        None => parse_quote! {
            if body.is_some() {
                return Err(crate::runtime::dynamic::unexpected_body(operation));
            }
        },
    };
    let finish: Vec<syn::Stmt> = match builder.response {
        Response::Empty => parse_quote! {
            request.send().await?;
            Ok(::serde_json::Value::Null)
        },
        _ => parse_quote! {
            let response = request.send().await?;
            crate::runtime::dynamic::response(operation, response.into_inner())
        },
    };
    parse_quote! {
        #operation => {
            let operation = #operation;
            #start
            #parameters
            #body
            #(#finish)*
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::normalize::normalize;
    use serde_json::json;

    /// One operation with a path, a query, a `deepObject` query, a header
    /// and a cookie parameter and a JSON body; one without a response body.
    fn normalized() -> Normalized {
        let document = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/things/{thing-id}": {
                    "parameters": [
                        {"name": "thing-id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}
                    ],
                    "post": {
                        "operationId": "routes/things.PostThing",
                        "parameters": [
                            {"name": "dry-run", "in": "query", "schema": {"type": "boolean"}},
                            {"name": "page", "in": "query", "style": "deepObject", "schema": {
                                "type": "object",
                                "properties": {"limit": {"type": "integer"}}
                            }},
                            {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}},
                            {"name": "session", "in": "cookie", "schema": {"type": "string"}}
                        ],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
                    },
                    "delete": {
                        "operationId": "routes/things.DeleteThing",
                        "responses": {"204": {"description": "gone"}}
                    }
                }
            },
            "components": {"schemas": {"Thing": {"type": "object", "properties": {"name": {"type": "string"}}}}}
        });
        normalize(&document).expect("normalizes")
    }

    fn builder_struct<'a>(file: &'a mut syn::File, name: &str) -> &'a mut syn::ItemStruct {
        let module = file
            .items
            .iter_mut()
            .find_map(|item| match item {
                Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
                _ => None,
            })
            .expect("a builder module");
        module
            .1
            .iter_mut()
            .find_map(|item| match item {
                Item::Struct(s) if s.ident == name => Some(s),
                _ => None,
            })
            .expect("the builder struct")
    }

    #[test]
    fn every_parameter_and_the_body_meet_their_builder_fields() {
        let n = normalized();
        let file = progenitor_file(&n).expect("generates");
        let builders = builders(&file, &n).expect("matches");
        let post = &builders[0];
        assert_eq!(post.method, "post_thing");
        assert_eq!(post.name, "PostThing");
        let table: Vec<(&str, String, Location, bool)> = post
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.setter.to_string(),
                    p.location,
                    p.required,
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                ("thing-id", "thing_id".to_string(), Location::Path, true),
                ("dry-run", "dry_run".to_string(), Location::Query, false),
                (
                    "page[limit]",
                    "page_limit".to_string(),
                    Location::Query,
                    false
                ),
                ("X-Trace", "x_trace".to_string(), Location::Header, true),
            ]
        );
        assert_eq!(type_text(&post.parameters[0].value_type), "::uuid::Uuid");
        assert_eq!(type_text(&post.parameters[1].value_type), "bool");
        let body = post.body.as_ref().expect("a body");
        assert_eq!(body.media_type, "application/json");
        assert!(body.required);
        assert_eq!(body.type_name, "Thing");
        assert_eq!(type_text(&body.value_type), "types::Thing");
        assert_eq!(post.response, Response::Value);

        let delete = &builders[1];
        assert!(delete.body.is_none());
        assert_eq!(delete.response, Response::Empty);
        assert_eq!(delete.parameters.len(), 1);
    }

    #[test]
    fn a_raw_body_is_taken_as_a_string() {
        let document = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/upload": {"put": {
                "operationId": "PutUpload",
                "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"204": {"description": "stored"}}
            }}}
        });
        let n = normalize(&document).expect("normalizes");
        let file = progenitor_file(&n).expect("generates");
        let builders = builders(&file, &n).expect("matches");
        let body = builders[0].body.as_ref().expect("a body");
        assert_eq!(body.media_type, "application/octet-stream");
        assert!(!body.required);
        assert_eq!(type_text(&body.value_type), "::std::string::String");
    }

    #[test]
    fn a_parameter_without_a_builder_field_fails_naming_operation_and_parameter() {
        let n = normalized();
        let mut file = progenitor_file(&n).expect("generates");
        for field in builder_struct(&mut file, "PostThing").fields.iter_mut() {
            if field.ident.as_ref().is_some_and(|i| i == "dry_run") {
                field.ident = Some(syn::Ident::new("dryrun", Span::call_site()));
            }
        }
        let error = builders(&file, &n).expect_err("dry-run has no field");
        assert_eq!(
            error.pointer,
            "#/paths/~1things~1{thing-id}/post/parameters/1"
        );
        assert!(error.reason.contains("`post_thing`"), "{error}");
        assert!(
            error
                .reason
                .contains("parameter `dry-run` (query) has no builder field `dry_run`"),
            "{error}"
        );
    }

    #[test]
    fn a_builder_field_without_a_parameter_fails_naming_it() {
        let mut n = normalized();
        let file = progenitor_file(&n).expect("generates");
        let operation = n
            .document
            .pointer_mut("/paths/~1things~1{thing-id}/post")
            .and_then(Value::as_object_mut)
            .expect("the operation");
        let parameters = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .expect("parameters");
        parameters.retain(|p| p["name"] != "X-Trace");
        let error = builders(&file, &n).expect_err("x_trace has no parameter");
        assert!(error.reason.contains("`post_thing`"), "{error}");
        assert!(
            error
                .reason
                .contains("the builder field `x_trace` matches no parameter"),
            "{error}"
        );
    }

    #[test]
    fn the_dispatch_sets_parameters_by_wire_name_and_the_body() {
        let code = generate(&normalized()).expect("generates");
        let dispatch = &code[code
            .find("pub(crate) async fn call_dynamic")
            .expect("dispatch")..];
        // Compared without whitespace and trailing commas, so that
        // prettyplease's line breaks do not matter.
        let squeezed = |text: &str| {
            text.split_whitespace()
                .collect::<String>()
                .replace(",)", ")")
                .replace(",>", ">")
        };
        let dispatch_text = squeezed(dispatch);
        for expected in [
            "\"post_thing\" => {",
            "\"page[limit]\" => {",
            ".page_limit(",
            "let value: ::uuid::Uuid = argument(operation, name, value)?;
             request.thing_id(value)",
            "let value: types::Thing = crate::runtime::dynamic::body(operation, body)?;
             request = request.body(value);",
            "crate::runtime::dynamic::response(operation, response.into_inner())",
            "\"delete_thing\" => {",
            "Ok(::serde_json::Value::Null)",
            "_ => Err(crate::runtime::dynamic::unknown_operation(rust_name)),",
        ] {
            assert!(
                dispatch_text.contains(&squeezed(expected)),
                "`{expected}` not in:\n{dispatch}"
            );
        }
        assert!(code.contains(
            "crate::runtime::ParameterSpec { name: \"X-Trace\", setter: \"x_trace\", location: crate::runtime::ParameterLocation::Header, required: true, secret: false }"
        ));
        assert!(code.contains(
            "body: Some(crate::runtime::BodySpec { media_type: \"application/json\", required: true, type_name: \"Thing\" })"
        ));
    }
}
