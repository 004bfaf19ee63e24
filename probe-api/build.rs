//! Generates the Probe.dev client from the pinned document at compile time.
//!
//! Reads only `spec/openapi.json` and `spec/overlay.json` inside this package,
//! writes only `$OUT_DIR/codegen.rs`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[allow(dead_code)]
#[path = "codegen/mod.rs"]
mod codegen;

fn main() -> ExitCode {
    match build() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // `cargo::error` shows the paragraph as the build's error, without
            // a backtrace.
            for line in message.lines() {
                println!("cargo::error={line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<(), String> {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let document_path = manifest_dir.join("spec/openapi.json");
    let overlay_path = manifest_dir.join("spec/overlay.json");
    for input in [
        "spec/openapi.json",
        "spec/overlay.json",
        "codegen/mod.rs",
        "codegen/normalize.rs",
        "codegen/overlay.rs",
        "codegen/generate.rs",
        "codegen/lenient.rs",
        "codegen/rewrite.rs",
        "codegen/reports.rs",
        "build.rs",
    ] {
        println!("cargo::rerun-if-changed={input}");
    }

    let document = read(&document_path)?;
    let overlay = read(&overlay_path)?;
    let pipeline = codegen::run(&document, Some(&overlay)).map_err(|e| {
        format!(
            "probe-api: the OpenAPI document {} with the overlay {} cannot be normalized {e}. \
             Fix the overlay, or run `cargo xtask spec report` to see the rewrites made so far.",
            document_path.display(),
            overlay_path.display()
        )
    })?;
    let code = codegen::generate::generate(&pipeline.normalized).map_err(|e| {
        format!(
            "probe-api: code generation failed for {} {e}. \
             Run `cargo xtask spec normalize` to inspect the document handed to progenitor.",
            document_path.display()
        )
    })?;
    // The document's revision goes into the User-Agent.
    let revision: String = sha256_prefix(&document);
    println!("cargo::rustc-env=PROBE_API_DOCUMENT_REVISION={revision}");
    // The effective document (pinned document with the overlay, still 3.1)
    // is what the built-in mock server validates requests against.
    let effective = serde_json::to_string(&pipeline.effective)
        .map_err(|e| format!("probe-api: cannot serialize the effective document: {e}"))?;
    let effective_path = out_dir.join("effective.json");
    std::fs::write(&effective_path, effective)
        .map_err(|e| format!("probe-api: cannot write {}: {e}", effective_path.display()))?;
    let target = out_dir.join("codegen.rs");
    std::fs::write(&target, code)
        .map_err(|e| format!("probe-api: cannot write {}: {e}", target.display()))?;
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        format!(
            "probe-api: cannot read {}: {e}. The package keeps its copy of the pinned document there; \
             run `cargo xtask spec sync` from the workspace root to restore it.",
            path.display()
        )
    })
}

/// The first 12 hex digits of the document's sha256.
fn sha256_prefix(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}
