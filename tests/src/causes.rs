//! An error's chain of sources, as one line.

/// The messages of an error's sources, outermost first, joined by `: `.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push(cause.to_string());
        source = cause.source();
    }
    out.join(": ")
}
