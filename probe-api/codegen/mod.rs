//! The spec pipeline: overlay, normalization and code generation.
//!
//! This module is compiled twice from the same source: by `probe-api/build.rs`,
//! which generates the client at compile time, and by the `xtask` library,
//! which reports, verifies and fetches documents. Keeping one copy means the
//! report printed by `cargo xtask spec report` is exactly what the build did.

pub mod credential;
pub mod generate;
pub mod ident;
pub mod lenient;
pub mod names;
pub mod normalize;
pub mod overlay;
pub mod pages;
pub mod refs;
pub mod reports;
pub mod rewrite;
pub mod shape;

use std::fmt;

/// A document the pipeline cannot handle, with the place and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// JSON pointer (RFC 6901, `#`-prefixed) of the offending node.
    pub pointer: String,
    /// What is wrong there, in one sentence.
    pub reason: String,
}

impl SpecError {
    pub fn new(pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.pointer, self.reason)
    }
}

impl std::error::Error for SpecError {}

/// Escapes one JSON pointer segment (RFC 6901 section 3).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a `#`-prefixed JSON pointer from segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::from("#");
    for segment in segments {
        out.push('/');
        out.push_str(&escape_segment(segment.as_ref()));
    }
    out
}

/// Parses JSON text, reporting the line and column of a syntax error.
pub fn parse_json(what: &str, text: &[u8]) -> Result<serde_json::Value, SpecError> {
    serde_json::from_slice(text).map_err(|e| {
        SpecError::new(
            "#",
            format!(
                "{what} is not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Everything the pipeline produces from one document and its overlay.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The provider's document with the overlay applied (OpenAPI 3.1).
    pub effective: serde_json::Value,
    /// What the overlay did, one entry per action.
    pub overlay: Vec<overlay::ActionOutcome>,
    /// The normalized 3.0.3 document, its rewrites and operation metadata.
    pub normalized: normalize::Normalized,
}

/// Runs overlay and normalization over raw document and overlay bytes.
pub fn run(document: &[u8], overlay_doc: Option<&[u8]>) -> Result<Pipeline, SpecError> {
    let mut effective = parse_json("the OpenAPI document", document)?;
    let outcomes = match overlay_doc {
        Some(bytes) => overlay::apply(&mut effective, bytes)?,
        None => Vec::new(),
    };
    let normalized = normalize::normalize(&effective)?;
    Ok(Pipeline {
        effective,
        overlay: outcomes,
        normalized,
    })
}
