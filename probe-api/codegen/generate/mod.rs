//! Code generation, in order: progenitor over the normalized document
//! ([`progenitor_file`], which also runs the lenient pass and the send
//! rewrite), the generated builders matched against the document
//! ([`builders`]), the setter docs and redacted `Debug`s ([`docs`]), and the
//! tables the hand-written layer reads ([`tables`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

use super::SpecError;
use super::normalize::Normalized;
use super::shape;

mod builders;
pub mod docs;
pub mod pages;
pub mod tables;

#[allow(
    unused_imports,
    reason = "read by `cargo xtask api`, not by the build script"
)]
pub use builders::{Body, Parameter, ValueFacts};
pub use builders::{Builder, Location, Response, builders};
use builders::{short_type_name, type_text};
pub use docs::{document_setters, redact_secret_fields};
pub use tables::{dynamic_dispatch, operations_table, success_bodies};

/// The progenitor settings every build uses.
pub fn settings() -> Result<GenerationSettings, SpecError> {
    // The hand-written layer keeps its state (credentials, timeouts) inside
    // the generated client, where every rewritten `send()` hands it to the
    // transport.
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
    let shape = shape::read(&file)?;
    let builders = builders(&shape, normalized)?;
    redact_secret_fields(&mut file, &normalized.operations, &builders)?;
    document_setters(&mut file, normalized, &builders);
    // Last: boxing reads the finished statements of each `send()`.
    super::rewrite::box_sends(&mut file)?;
    let paged = super::pages::paged(normalized);
    pages::add_paging(&mut file, &shape, &builders, &paged)?;
    // progenitor's method docs carry ```ignore examples; as `text` they read
    // the same and are not reported as ignored doctests.
    let mut code = prettyplease::unparse(&file).replace("```ignore", "```text");
    code.push_str(&success_bodies(&shape, &builders));
    code.push_str(&operations_table(normalized, &builders, &paged));
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
    let media = normalized
        .operations
        .iter()
        .filter(|op| op.timeout_default_ms.is_some() || op.queue_timeout_default_ms.is_some())
        .map(|op| op.rust_name.clone())
        .collect();
    super::rewrite::route_sends_through_layer(&mut file, &media)?;
    super::rewrite::hide_generator_items(&mut file)?;
    Ok(file)
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

#[cfg(test)]
mod tests;
