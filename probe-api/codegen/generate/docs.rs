//! What the generator adds to progenitor's builders: setter docs from the
//! document, conversion errors that name the parameter, and a `Debug` that
//! redacts credential path parameters.

use std::collections::BTreeMap;

use serde_json::Value;
use syn::parse_quote;
use syn::visit_mut::VisitMut;

use super::{Builder, Location, short_type_name};
use crate::codegen::normalize::{Normalized, Operation};
use crate::codegen::{SpecError, shape};

/// Documents every setter of every builder from the document (where the
/// parameter goes, whether it is required, its description and default;
/// the unit of the analysis times), and makes the error of a value that
/// does not convert name the parameter and the type it takes.
pub fn document_setters(file: &mut syn::File, normalized: &Normalized, builders: &[Builder]) {
    for (op, builder) in normalized.operations.iter().zip(builders) {
        let pointer = format!(
            "/paths/{}/{}",
            crate::codegen::escape_segment(&op.path),
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
            doc.push_str(&value_notes(
                text("default"),
                text("example"),
                text("format").as_ref().and_then(Value::as_str),
            ));
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
        let missing: BTreeMap<String, String> = builder
            .parameters
            .iter()
            .map(|p| {
                (
                    format!("{} was not initialized", p.setter),
                    format!("the parameter `{}` is required and was not set", p.name),
                )
            })
            .collect();
        for method in shape::builder_methods_mut(file, &builder.name) {
            if method.sig.ident == "new" {
                MissingMessage(&missing).visit_block_mut(&mut method.block);
            }
            let Some((doc, message)) = docs.get(&method.sig.ident.to_string()) else {
                continue;
            };
            method.attrs.push(parse_quote!(#[doc = #doc]));
            ConversionMessage(message).visit_block_mut(&mut method.block);
        }
    }
}

/// What a setter's doc says of its value: the default the document
/// defines, and an example as an example. A fixed instant is never a
/// default of the API, whatever the document calls it: the Probe.dev
/// document gives its log filters the moment its generator ran
/// (`"2025-06-19T10:52:53.815938106Z"`), so such a value is shown as what
/// it is, an example.
fn value_notes(default: Option<Value>, example: Option<Value>, format: Option<&str>) -> String {
    let instant = matches!(format, Some("date-time" | "date"));
    let mut notes = String::new();
    match default {
        Some(value) if instant => notes.push_str(&format!("\n\nExample: `{value}`.")),
        Some(value) => notes.push_str(&format!("\n\nDefault: `{value}`.")),
        None => {}
    }
    if let Some(value) = example.filter(|_| notes.is_empty()) {
        notes.push_str(&format!("\n\nExample: `{value}`."));
    }
    notes
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

/// Replaces progenitor's `"x was not initialized"`, the error a required
/// parameter holds until it is set, with one that names the parameter by
/// its wire name.
struct MissingMessage<'m>(&'m BTreeMap<String, String>);

impl VisitMut for MissingMessage<'_> {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if let Some(message) = self.0.get(&lit.value()) {
            *lit = syn::LitStr::new(message, lit.span());
        }
    }
}

/// Gives each builder that holds a credential path parameter a `Debug`
/// that shows the parameter as `<redacted>` instead of progenitor's
/// derived one, which prints every field.
///
/// # Errors
///
/// A builder struct that is not where [`super::builders`] found it, or that does
/// not derive `Debug` as progenitor 0.15 does.
pub fn redact_secret_fields(
    file: &mut syn::File,
    operations: &[Operation],
    builders: &[Builder],
) -> Result<(), SpecError> {
    let shape_error = shape::unexpected;
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
        let item = shape::builder_struct_mut(file, name)?;
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
        let debug: syn::ItemImpl = parse_quote! {
            impl ::std::fmt::Debug for #ident<'_> {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    #chain.finish()
                }
            }
        };
        shape::push_to_builders(file, debug)?;
    }
    Ok(())
}
