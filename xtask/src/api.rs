//! `cargo xtask api`: the reviewable API surface, `probe-api/API.md`.
//!
//! Rendered from the effective document (operations, their responses),
//! the normalized document (the parameters the client takes) and the
//! generated client, parsed with `syn` (method names, setter types, the
//! type `send()` returns, every model and its fields). A change of the
//! document therefore shows up in review as a diff of this file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use syn::{Fields, GenericArgument, PathArguments, Type, TypePath};

use crate::Layout;
use crate::codegen::normalize::Operation;
use crate::codegen::refs::resolve_lenient;
use crate::codegen::shape::{self, Definition, Shape};
use crate::codegen::{Pipeline, generate};
use crate::diff::describe;

/// The command that writes the file, named in every staleness message.
pub const REFRESH: &str = "cargo xtask api";

/// Renders the API surface of the pinned document and overlay in `layout`.
///
/// # Errors
///
/// The pipeline, generation or rendering fails.
pub fn render_layout(layout: &Layout) -> Result<String, String> {
    let pipeline = layout.pipeline()?;
    let source =
        crate::codegen::generate::generate(&pipeline.normalized).map_err(|e| e.to_string())?;
    render(&pipeline, &source)
}

/// Whether the committed file equals a fresh rendering; `Err` names the
/// command that refreshes it.
///
/// # Errors
///
/// The file is missing or out of date, or rendering fails.
pub fn check(layout: &Layout) -> Result<(), String> {
    let fresh = render_layout(layout)?;
    let path = layout.api_surface();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == fresh {
        Ok(())
    } else {
        Err(format!(
            "{} is out of date with the document and the generated client; run `{REFRESH}`",
            path.display()
        ))
    }
}

/// Renders the API surface from a pipeline and the client source that
/// `codegen::generate::generate` made from it.
///
/// # Errors
///
/// The source does not parse, or has a shape this renderer does not know
/// (named with the item).
pub fn render(pipeline: &Pipeline, source: &str) -> Result<String, String> {
    let file =
        syn::parse_file(source).map_err(|e| format!("the generated client does not parse: {e}"))?;
    let shape = shape::read(&file).map_err(|e| e.to_string())?;
    let matched = generate::builders(&shape, &pipeline.normalized).map_err(|e| e.to_string())?;
    let client = Client::read(&shape)?;
    let mut out = String::new();
    let info = &pipeline.effective["info"];
    out.push_str("# probe-api: API surface\n\n");
    let _ = writeln!(
        out,
        "<!-- Rendered by `{REFRESH}` from openapi.json, openapi.overlay.json and the generated client. Do not edit: a test fails when it is out of date. -->\n"
    );
    let _ = writeln!(
        out,
        "Document: {} (version {}, OpenAPI {}). {} operations, {} model types.\n",
        info["title"].as_str().unwrap_or("untitled"),
        info["version"].as_str().unwrap_or("?"),
        pipeline.effective["openapi"].as_str().unwrap_or("?"),
        pipeline.normalized.operations.len(),
        client.models.len()
    );
    out.push_str(
        "Every operation is a method of `probe_api::Client` returning a request builder: set parameters \
         with its setters, then `send()`, which returns `Result<probe_api::Response<T>, probe_api::Error>` \
         (a `Response` derefs to `T` and tells the status, headers, request id, attempts and time). \
         A setter that is not called leaves an optional parameter out; a required one not set makes `send()` \
         fail before any request. Type paths are relative to the crate root (`types::X` is `probe_api::types::X`).\n",
    );
    out.push_str("\n## Operations\n");
    for (op, matched) in pipeline.normalized.operations.iter().zip(&matched) {
        render_operation(&mut out, pipeline, &shape, op, matched)?;
    }
    out.push_str(
        "\n## Types\n\nA type the build renamed (`cargo xtask spec report`, rule `schema-name`) names the \
         document's schema it comes from, so the provider's reference finds it.\n",
    );
    // The generator spells a schema's name as a Rust identifier (`FFProbe`
    // is `FfProbe`): names are compared by their letters and digits.
    let key = |name: &str| -> String {
        name.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let originals: BTreeMap<String, String> =
        crate::codegen::names::renames(&pipeline.normalized.document)
            .into_iter()
            .map(|(new, original)| (key(&new), original))
            .collect();
    for (name, model) in &client.models {
        out.push('\n');
        match originals.get(&key(name)) {
            Some(original) => out.push_str(&model.replacen(
                "\n\n",
                &format!("\n\nSchema `{original}` in the provider's document.\n\n"),
                1,
            )),
            None => out.push_str(model),
        }
    }
    Ok(out)
}

/// The models of the generated client, rendered.
struct Client {
    /// Model name -> its rendered section.
    models: BTreeMap<String, String>,
}

impl Client {
    fn read(shape: &Shape) -> Result<Self, String> {
        let mut models = BTreeMap::new();
        for (name, model) in shape.models.iter().filter(|(_, m)| m.public) {
            let section = match &model.definition {
                Definition::Struct(s) => render_struct(s)?,
                Definition::Enum(e) => render_enum(e)?,
                Definition::Alias(t) => format!(
                    "### `{name}`\n\nAlias of `{}`.\n",
                    rust_type(&t.ty).map_err(|e| format!("type {name}: {e}"))?
                ),
            };
            models.insert(name.clone(), section);
        }
        Ok(Client { models })
    }
}

fn render_operation(
    out: &mut String,
    pipeline: &Pipeline,
    shape: &Shape,
    op: &Operation,
    matched: &generate::Builder,
) -> Result<(), String> {
    let method = op.method.to_ascii_lowercase();
    let effective = &pipeline.effective["paths"][&op.path][&method];
    let normalized = &pipeline.normalized.document["paths"][&op.path][&method];
    let name = &op.rust_name;
    let builder_name = &matched.name;
    let builder = shape.builders.get(builder_name).ok_or_else(|| {
        format!("the generated client has no builder `{builder_name}` for `{name}`")
    })?;

    let _ = writeln!(out, "\n### `{name}`: {} `{}`\n", op.method, op.path);
    if let Some(summary) = effective["summary"].as_str().filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "{}\n", one_line(summary));
    }
    let _ = writeln!(out, "- operationId: `{}`", op.operation_id);
    let _ = writeln!(
        out,
        "- call: `client.{name}()` returns `builder::{builder_name}`"
    );
    let security = if op.security.is_empty() {
        "none (sent without credentials)".to_string()
    } else {
        op.security
            .iter()
            .map(|alternative| {
                if alternative.is_empty() {
                    "anonymous".to_string()
                } else {
                    alternative
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" + ")
                }
            })
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let _ = writeln!(out, "- security: {security}");
    let send = builder
        .send
        .as_ref()
        .ok_or_else(|| format!("builder `{builder_name}` has no `send()`"))?;
    let (ok, err) = send
        .result()
        .ok_or_else(|| format!("`{builder_name}::send()` does not return a `Result<_, _>`"))?;
    let _ = writeln!(
        out,
        "- returns: `{}`; errors: `{}`",
        rust_type(ok)?,
        rust_type(err)?
    );
    let mut success = Vec::new();
    let mut errors = Vec::new();
    for (status, response) in effective["responses"].as_object().into_iter().flatten() {
        let response = resolve_lenient(&pipeline.effective, response);
        let body = response["content"]
            .as_object()
            .and_then(|c| {
                c.iter()
                    .find(|(k, _)| k.contains("json"))
                    .or_else(|| c.iter().next())
            })
            .map_or("no body".to_string(), |(media, m)| match m.get("schema") {
                Some(schema) => body_label(schema),
                None => media.clone(),
            });
        let entry = format!("{status} `{}`", cell(&body));
        if status.starts_with('2') {
            success.push(entry);
        } else {
            errors.push(entry);
        }
    }
    if !success.is_empty() {
        let _ = writeln!(
            out,
            "- success responses in the document: {}",
            success.join(", ")
        );
    }
    if !errors.is_empty() {
        let _ = writeln!(
            out,
            "- error responses in the document (each a `probe_api::Error`, its body read by `api_error()`): {}",
            errors.join(", ")
        );
    }
    if let Some(media) = &op.request_media_type {
        let also = if op.dropped_media_types.is_empty() {
            String::new()
        } else {
            format!(
                " (the document also accepts {}, which the client does not send)",
                op.dropped_media_types
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(out, "- request body: `{media}`{also}");
    }
    if !op.cookies.is_empty() {
        let cookies: Vec<String> = op
            .cookies
            .iter()
            .map(|c| {
                format!(
                    "`{}`{}",
                    c.name,
                    if c.required { " (required)" } else { "" }
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "- cookies, set with `client.with_cookies(..)`: {}",
            cookies.join(", ")
        );
    }

    // The parameters the build matched with each setter.
    let wire: BTreeMap<String, &generate::Parameter> = matched
        .parameters
        .iter()
        .map(|p| (p.setter.to_string(), p))
        .collect();
    if builder.setters.is_empty() {
        out.push_str("\nNo parameters.\n");
        return Ok(());
    }
    out.push_str("\n| setter | Rust type | sent as | required |\n|---|---|---|---|\n");
    for setter in &builder.setters {
        let (target, setter) = (&setter.target, setter.ident.to_string());
        let ty = rust_type(target).map_err(|e| format!("`{builder_name}::{setter}`: {e}"))?;
        let (sent_as, required) = if setter == "body" {
            let sent = op
                .request_media_type
                .as_deref()
                .map_or("body".to_string(), |m| format!("body, `{m}`"));
            let required = normalized["requestBody"]["required"].as_bool() == Some(true);
            let map = if builder.mapped.contains(&setter) {
                format!(
                    "; or `body_map(|b| ..)` on `types::builder::{}`",
                    shape::last_ident(target)
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )
            } else {
                String::new()
            };
            (format!("{sent}{map}"), required)
        } else {
            match wire.get(&setter) {
                Some(p) => (format!("{} `{}`", p.location.openapi(), p.name), p.required),
                None => {
                    return Err(format!(
                        "setter `{builder_name}::{setter}` matches no parameter of {} {}",
                        op.method, op.path
                    ));
                }
            }
        };
        let _ = writeln!(
            out,
            "| `{setter}` | `{}` | {} | {} |",
            cell(&ty),
            cell(&sent_as),
            if required { "yes" } else { "no" }
        );
    }
    Ok(())
}

fn render_struct(s: &syn::ItemStruct) -> Result<String, String> {
    let name = s.ident.to_string();
    let mut out = format!("### `{name}`\n\n");
    match &s.fields {
        Fields::Named(fields) => {
            if fields.named.is_empty() {
                out.push_str("Struct with no fields.\n");
                return Ok(out);
            }
            out.push_str("| field | Rust type | JSON name |\n|---|---|---|\n");
            for field in &fields.named {
                let ident = field
                    .ident
                    .as_ref()
                    .map(|i| i.to_string().trim_start_matches("r#").to_string())
                    .unwrap_or_default();
                let ty = rust_type(&field.ty).map_err(|e| format!("{name}.{ident}: {e}"))?;
                let json = serde_rename(&field.attrs)
                    .map_err(|e| format!("{name}.{ident}: {e}"))?
                    .unwrap_or_else(|| ident.clone());
                let _ = writeln!(out, "| `{ident}` | `{}` | `{}` |", cell(&ty), cell(&json));
            }
        }
        Fields::Unnamed(fields) => {
            let types = fields
                .unnamed
                .iter()
                .map(|f| rust_type(&f.ty))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{name}: {e}"))?;
            let _ = writeln!(out, "Newtype of `{}`.", types.join(", "));
        }
        Fields::Unit => out.push_str("Unit struct.\n"),
    }
    Ok(out)
}

fn render_enum(e: &syn::ItemEnum) -> Result<String, String> {
    let name = e.ident.to_string();
    let mut out = format!("### `{name}`\n\n");
    out.push_str("Enum.\n\n| variant | JSON |\n|---|---|\n");
    for variant in &e.variants {
        let ident = variant.ident.to_string();
        let json = serde_rename(&variant.attrs)
            .map_err(|err| format!("{name}::{ident}: {err}"))?
            .unwrap_or_else(|| ident.clone());
        let shape = match &variant.fields {
            Fields::Unit => String::new(),
            Fields::Unnamed(fields) => {
                let types = fields
                    .unnamed
                    .iter()
                    .map(|f| rust_type(&f.ty))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| format!("{name}::{ident}: {err}"))?;
                format!("({})", types.join(", "))
            }
            Fields::Named(fields) => {
                let parts = fields
                    .named
                    .iter()
                    .map(|f| {
                        let field = f
                            .ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        rust_type(&f.ty).map(|t| format!("{field}: {t}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| format!("{name}::{ident}: {err}"))?;
                format!(" {{ {} }}", parts.join(", "))
            }
        };
        let json = if variant.fields.is_empty() {
            format!("`\"{}\"`", cell(&json))
        } else {
            "(the value)".to_string()
        };
        let _ = writeln!(out, "| `{ident}{}` | {json} |", cell(&shape));
    }
    Ok(out)
}

/// The `rename = "..."` of a `#[serde(...)]` attribute, if any.
fn serde_rename(attrs: &[syn::Attribute]) -> Result<Option<String>, String> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                rename = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|inner| {
                    if inner.input.peek(syn::Token![=]) {
                        let _: syn::Expr = inner.value()?.parse()?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
        .map_err(|e| format!("cannot read #[serde(..)]: {e}"))?;
    }
    Ok(rename)
}

/// A Rust type as a reader writes it: standard-library paths shortened
/// (`Option<String>`), other crates without the leading `::`
/// (`chrono::DateTime<chrono::offset::Utc>`), `crate::` as `probe_api::`.
pub fn rust_type(ty: &Type) -> Result<String, String> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => {
            let mut segments: Vec<&syn::PathSegment> = path.segments.iter().collect();
            let first = segments
                .first()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let mut prefix = String::new();
            if matches!(first.as_str(), "std" | "core" | "alloc") {
                segments.drain(..segments.len().saturating_sub(1));
            } else if first == "crate" {
                segments.remove(0);
                prefix.push_str("probe_api::");
                // The generated code reaches the crate through its private
                // `runtime` module; users name the items where they are public.
                if segments.first().is_some_and(|s| s.ident == "runtime") {
                    segments.remove(0);
                    match segments.first().map(|s| s.ident.to_string()).as_deref() {
                        Some("OrUnknown" | "IpText") => prefix.push_str("lenient::"),
                        Some("ToolReport" | "FfprobeReport" | "MediaInfoReport") => {
                            prefix.push_str("reports::")
                        }
                        _ => {}
                    }
                }
            } else if first == "super" || first == "self" {
                segments.remove(0);
            }
            let mut parts = Vec::new();
            for segment in segments {
                let mut part = segment.ident.to_string();
                match &segment.arguments {
                    PathArguments::None => {}
                    PathArguments::AngleBracketed(args) => {
                        let mut rendered = Vec::new();
                        for arg in &args.args {
                            match arg {
                                GenericArgument::Type(t) => rendered.push(rust_type(t)?),
                                GenericArgument::Lifetime(l) => {
                                    rendered.push(format!("'{}", l.ident))
                                }
                                GenericArgument::Const(syn::Expr::Lit(lit)) => {
                                    rendered.push(literal(&lit.lit)?)
                                }
                                _ => {
                                    return Err(
                                        "a generic argument this renderer does not know".into()
                                    );
                                }
                            }
                        }
                        part.push('<');
                        part.push_str(&rendered.join(", "));
                        part.push('>');
                    }
                    PathArguments::Parenthesized(_) => {
                        return Err("a function-style path this renderer does not know".into());
                    }
                }
                parts.push(part);
            }
            Ok(format!("{prefix}{}", parts.join("::")))
        }
        Type::Reference(r) => {
            let lifetime = r
                .lifetime
                .as_ref()
                .map(|l| format!("'{} ", l.ident))
                .unwrap_or_default();
            let mutability = if r.mutability.is_some() { "mut " } else { "" };
            Ok(format!("&{lifetime}{mutability}{}", rust_type(&r.elem)?))
        }
        Type::Tuple(t) => {
            let parts = t
                .elems
                .iter()
                .map(rust_type)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            })
        }
        Type::Slice(s) => Ok(format!("[{}]", rust_type(&s.elem)?)),
        Type::Array(a) => match &a.len {
            syn::Expr::Lit(lit) => Ok(format!("[{}; {}]", rust_type(&a.elem)?, literal(&lit.lit)?)),
            _ => Err("an array length this renderer does not know".into()),
        },
        Type::Paren(p) => rust_type(&p.elem),
        Type::Group(g) => rust_type(&g.elem),
        _ => Err("a type syntax this renderer does not know".into()),
    }
}

fn literal(lit: &syn::Lit) -> Result<String, String> {
    match lit {
        syn::Lit::Int(i) => Ok(i.base10_digits().to_string()),
        syn::Lit::Bool(b) => Ok(b.value.to_string()),
        syn::Lit::Str(s) => Ok(format!("{:?}", s.value())),
        _ => Err("a literal this renderer does not know".into()),
    }
}

/// A response body for the surface: a component's name, or the fields of
/// an inline object (`{error: string}`).
fn body_label(schema: &Value) -> String {
    match schema["properties"].as_object() {
        Some(properties) if schema.get("$ref").is_none() => {
            let fields: Vec<String> = properties
                .iter()
                .map(|(name, property)| format!("{name}: {}", describe(property)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        _ => describe(schema),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).expect("a type")
    }

    #[test]
    fn types_read_as_written_by_hand() {
        for (given, expected) in [
            (
                "::std::option::Option<::std::string::String>",
                "Option<String>",
            ),
            ("::std::vec::Vec<AuthSession>", "Vec<AuthSession>"),
            (
                "::chrono::DateTime<::chrono::offset::Utc>",
                "chrono::DateTime<chrono::offset::Utc>",
            ),
            (
                "Result<ResponseValue<types::X>, crate::runtime::Error>",
                "Result<ResponseValue<types::X>, probe_api::Error>",
            ),
            ("super::types::X", "types::X"),
            ("&'a str", "&'a str"),
            ("()", "()"),
            ("[u8; 4]", "[u8; 4]"),
        ] {
            assert_eq!(rust_type(&ty(given)).as_deref(), Ok(expected), "{given}");
        }
        assert!(rust_type(&ty("impl Fn()")).is_err());
    }

    #[test]
    fn serde_renames_are_read_next_to_other_settings() {
        let s: syn::ItemStruct = syn::parse_str(
            r#"pub struct X {
                #[serde(rename = "ret-url", skip_serializing_if = "Option::is_none")]
                pub ret_url: Option<String>,
                #[serde(default = "defaults::default_bool::<true>")]
                pub on: bool,
            }"#,
        )
        .expect("a struct");
        let rendered = render_struct(&s).expect("renders");
        assert!(
            rendered.contains("| `ret_url` | `Option<String>` | `ret-url` |"),
            "{rendered}"
        );
        assert!(rendered.contains("| `on` | `bool` | `on` |"), "{rendered}");
    }
}
