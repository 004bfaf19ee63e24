//! Generates the Probe.dev client from the pinned document at compile time.
//!
//! Reads only `spec/openapi.json`, `spec/overlay.json` and `spec/pin.json`
//! inside this package; writes only `$OUT_DIR/codegen.rs` (the client) and
//! `$OUT_DIR/effective.json` (the document the mock validates against).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    // The whole codegen folder: cargo watches every file below a folder,
    // so a module added to the pipeline needs no line here.
    for input in [
        "spec/openapi.json",
        "spec/overlay.json",
        "spec/pin.json",
        "codegen",
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
    // An overlay action that no longer applies is a maintainer's to fix
    // (cargo shows build-script warnings for workspace packages only).
    for action in &pipeline.overlay {
        if action.is_stale() {
            println!(
                "cargo::warning=overlay action {} ({}) matches nothing in the document: edit openapi.overlay.json",
                action.index, action.target
            );
        } else if action.is_redundant() {
            println!(
                "cargo::warning=overlay action {} ({}) changes nothing: the document already has it",
                action.index, action.target
            );
        }
    }
    // The document's revision goes into the User-Agent.
    let revision: String = sha256_prefix(&document);
    println!("cargo::rustc-env=PROBE_API_DOCUMENT_REVISION={revision}");
    // The API revision: the pinned document's date and the overlay's version.
    let api_revision = api_revision(&read(&manifest_dir.join("spec/pin.json"))?, &overlay)?;
    println!("cargo::rustc-env=PROBE_API_REVISION={api_revision}");
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

/// `{document_date}+overlay.{version}`, such as `2025-06-24+overlay.2025-07-30.2`:
/// what the provider published that the client was generated from.
fn api_revision(pin: &[u8], overlay: &[u8]) -> Result<String, String> {
    let field = |bytes: &[u8], pointer: &str, file: &str| -> Result<String, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("probe-api: spec/{file} is not JSON: {e}"))?;
        value
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                format!(
                    "probe-api: spec/{file} has no string at {pointer}; \
                     run `cargo xtask spec sync` from the workspace root to restore it"
                )
            })
    };
    let date = field(pin, "/document_date", "pin.json")?;
    let version = field(overlay, "/info/version", "overlay.json")?;
    Ok(format!("{date}+overlay.{version}"))
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
