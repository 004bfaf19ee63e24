//! The tables written after progenitor's client: `SuccessBody` impls, the
//! operation table the hand-written layer reads, and the by-name dispatch.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse_quote;

use super::builders::ValueFacts;
use super::{Builder, Response, type_text};
use crate::codegen::normalize::{Normalized, Operation};
use crate::codegen::pages::Paged;
use crate::codegen::shape::{Shape, last_ident, type_arguments};

/// Items as Rust source text, each after a blank line.
fn source(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => format!("\n{}", prettyplease::unparse(&file)),
        // The tokens are built here from identifiers and literals; a file
        // that does not parse is a bug in this module, and the compiler
        // names it when it reads the text.
        Err(e) => format!("\ncompile_error!({:?});\n", e.to_string()),
    }
}

fn option<T: ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote!(Some(#value)),
        None => quote!(None),
    }
}

/// An `impl crate::runtime::SuccessBody` for each type a `send()` decodes:
/// a model with a `metadata` object holding `request_id` (the media
/// probes) reads its request id from there, every other one has none.
pub fn success_bodies(shape: &Shape, builders: &[Builder]) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut impls = Vec::new();
    for builder in builders.iter().filter(|b| b.response == Response::Value) {
        let Some(name) = &builder.success_type else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let field = |model: &str, field: &str| shape.models.get(model)?.field(field).cloned();
        // `metadata: Option<M>` where `M` has `request_id: Option<String>`.
        let metadata = field(name, "metadata")
            .as_ref()
            .and_then(|ty| type_arguments(ty).next().cloned())
            .as_ref()
            .and_then(last_ident)
            .map(ToString::to_string);
        let has_id = metadata
            .as_deref()
            .and_then(|m| field(m, "request_id"))
            .is_some_and(|t| type_text(&t).contains("String"));
        let ident = syn::Ident::new(name, Span::call_site());
        let body = has_id.then(|| {
            quote! {
                fn request_id(&self) -> Option<&str> {
                    self.metadata.as_ref()?.request_id.as_deref()
                }
            }
        });
        impls.push(quote! {
            impl crate::runtime::SuccessBody for types::#ident {
                #body
            }
        });
    }
    source(quote!(#(#impls)*))
}

/// A `crate::runtime::ValueSpec` literal.
fn value_spec(facts: &ValueFacts) -> TokenStream {
    let kind = &facts.kind;
    let item_kind = option(facts.item_kind.as_deref());
    let format = option(facts.format.as_deref());
    let default = option(facts.default.as_deref());
    let description = option(facts.description.as_deref());
    let choices = &facts.choices;
    quote! {
        crate::runtime::ValueSpec {
            kind: #kind,
            item_kind: #item_kind,
            format: #format,
            default: #default,
            description: #description,
            choices: &[#(#choices),*],
        }
    }
}

/// The document's `summary` of an operation.
fn summary(normalized: &Normalized, op: &Operation) -> Option<String> {
    let pointer = format!(
        "/paths/{}/{}/summary",
        crate::codegen::escape_segment(&op.path),
        op.method.to_ascii_lowercase()
    );
    normalized
        .document
        .pointer(&pointer)
        .and_then(serde_json::Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A Rust `const` with one `OperationSpec` per operation, and a function
/// telling whether a name is an operation method. The types live in the
/// hand-written `spec` module of `probe-api`.
pub fn operations_table(normalized: &Normalized, builders: &[Builder], paged: &[Paged]) -> String {
    let operations = &normalized.operations;
    let specs = operations.iter().zip(builders).map(|(op, builder)| {
        let security = op.security.iter().map(|alternative| quote!(&[#(#alternative),*]));
        let cookies = op.cookies.iter().map(|c| {
            let (name, required) = (&c.name, c.required);
            quote!(crate::runtime::CookieSpec { name: #name, required: #required })
        });
        let groups = op.query_groups.iter().map(|g| {
            let (name, parameters) = (&g.name, &g.parameters);
            quote!(crate::runtime::QueryGroupSpec { name: #name, parameters: &[#(#parameters),*] })
        });
        let parameters = builder.parameters.iter().map(|p| {
            let name = &p.name;
            let setter = p.setter.to_string();
            let location = syn::Ident::new(p.location.variant(), Span::call_site());
            let required = p.required;
            let secret = p.location == super::Location::Path
                && op.secret_path_parameters.contains(&p.name);
            let value = value_spec(&p.facts);
            quote! {
                crate::runtime::ParameterSpec {
                    name: #name,
                    setter: #setter,
                    location: crate::runtime::ParameterLocation::#location,
                    required: #required,
                    secret: #secret,
                    value: #value,
                }
            }
        });
        let body = option(builder.body.as_ref().map(|b| {
            let (media_type, required, type_name) = (&b.media_type, b.required, &b.type_name);
            let fields = b.fields.iter().map(|(name, required, facts)| {
                let value = value_spec(facts);
                quote!(crate::runtime::FieldSpec { name: #name, required: #required, value: #value })
            });
            quote! {
                crate::runtime::BodySpec {
                    media_type: #media_type,
                    required: #required,
                    type_name: #type_name,
                    fields: &[#(#fields),*],
                }
            }
        }));
        let pages = option(paged.iter().find(|p| p.rust_name == op.rust_name).map(|p| {
            let items = &p.items;
            let key = option(p.key.as_deref());
            quote!(crate::runtime::PagesSpec { items: #items, key: #key })
        }));
        let summary = option(summary(normalized, op));
        let (method, path, operation_id, rust_name) =
            (&op.method, &op.path, &op.operation_id, &op.rust_name);
        let request_media_type = option(op.request_media_type.as_deref());
        let timeout = option(op.timeout_default_ms.map(Literal::u64_unsuffixed));
        let queue_timeout = option(op.queue_timeout_default_ms.map(Literal::u64_unsuffixed));
        quote! {
            crate::runtime::OperationSpec {
                method: #method,
                path: #path,
                operation_id: #operation_id,
                rust_name: #rust_name,
                security: &[#(#security),*],
                cookies: &[#(#cookies),*],
                query_groups: &[#(#groups),*],
                parameters: &[#(#parameters),*],
                body: #body,
                request_media_type: #request_media_type,
                timeout_default_ms: #timeout,
                queue_timeout_default_ms: #queue_timeout,
                summary: #summary,
                pages: #pages,
            }
        }
    });
    // A match arm per operation that calls its builder constructor: the
    // table cannot name a method the client lacks without failing the
    // build, and tests can ask whether a name derived from the document is
    // a method of the client.
    let arms = operations.iter().zip(builders).map(|(op, builder)| {
        let name = &op.rust_name;
        let method = &builder.method;
        quote! {
            #name => {
                let _ = client.#method();
                true
            }
        }
    });
    source(quote! {
        /// Every operation of the effective document, as the normalizer saw it.
        pub(crate) const OPERATIONS: &[crate::runtime::OperationSpec] = &[#(#specs),*];

        /// Whether `rust_name` is an operation method of the generated client.
        pub(crate) fn has_operation_method(client: &Client, rust_name: &str) -> bool {
            match rust_name {
                #(#arms)*
                _ => false,
            }
        }
    })
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
    source(function.into_token_stream())
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
