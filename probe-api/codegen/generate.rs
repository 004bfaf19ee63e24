//! Code generation: progenitor over the normalized document, plus a table of
//! operation metadata for the hand-written layer.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

use super::SpecError;
use super::normalize::{Normalized, Operation};

/// The progenitor settings every build uses.
pub fn settings() -> Result<GenerationSettings, SpecError> {
    // The hand-written layer keeps its state (credentials, timeouts) inside
    // the generated client and implements progenitor's hooks for it.
    let inner = "crate::ClientState"
        .parse::<proc_macro2::TokenStream>()
        .map_err(|e| SpecError::new("#", format!("invalid inner type path: {e}")))?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        .with_inner_type(inner);
    Ok(settings)
}

/// Generates the client source for a normalized document.
///
/// # Errors
///
/// progenitor's errors, and its panics on shapes the normalizer should have
/// removed, become a [`SpecError`].
pub fn generate(normalized: &Normalized) -> Result<String, SpecError> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(normalized.document.clone()).map_err(|e| {
            SpecError::new(
                "#",
                format!("the normalized document is not OpenAPI 3.0: {e}"),
            )
        })?;
    let settings = settings()?;

    // progenitor reports some unsupported shapes by panicking; keep the
    // default hook from printing a backtrace-style message while we turn
    // the panic into an error.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&settings).generate_tokens(&spec)
    }));
    std::panic::set_hook(hook);

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
    super::rewrite::route_sends_through_layer(&mut file)?;
    // progenitor's method docs carry ```ignore examples; as `text` they read
    // the same and are not reported as ignored doctests.
    let mut code = prettyplease::unparse(&file).replace("```ignore", "```text");
    code.push_str(&operations_table(&normalized.operations));
    Ok(code)
}

/// A Rust `const` with one `OperationSpec` per operation. The type lives in
/// the hand-written `spec` module of `probe-api`.
pub fn operations_table(operations: &[Operation]) -> String {
    let mut out = String::from(
        "\n/// Every operation of the effective document, as the normalizer saw it.\npub(crate) const OPERATIONS: &[crate::spec::OperationSpec] = &[\n",
    );
    for op in operations {
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
                    "crate::spec::CookieSpec {{ name: {:?}, required: {} }}",
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
                    "crate::spec::QueryGroupSpec {{ name: {:?}, parameters: &[{}] }}",
                    g.name,
                    params.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "    crate::spec::OperationSpec {{ method: {:?}, path: {:?}, operation_id: {:?}, rust_name: {:?}, security: &[{security}], cookies: &[{cookies}], query_groups: &[{groups}], request_media_type: {:?}, timeout_default_ms: {:?}, queue_timeout_default_ms: {:?} }},",
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
