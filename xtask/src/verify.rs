//! `cargo xtask verify`: the pinned files are what the pin record says, the
//! package copies equal them, the pipeline runs, and the committed API
//! surface is current.

use crate::Layout;
use crate::pin::{Pin, sha256_hex};

/// One problem found, with the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub what: String,
    /// The command that fixes it.
    pub fix: String,
}

/// Checks the layout; an empty list means everything holds.
pub fn check(layout: &Layout) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |what: String, fix: &str| {
        problems.push(Problem {
            what,
            fix: fix.to_string(),
        })
    };
    let refetch = "git checkout -- openapi.json openapi.pin.json (restore the pinned pair), or cargo xtask fetch (pin a new document with its own record)";
    let document = crate::read(&layout.document());
    let pin = crate::read(&layout.pin()).and_then(|b| Pin::parse(&b));
    let mut document_matches_pin = false;
    match (&document, &pin) {
        (Ok(document), Ok(pin)) => {
            let sha = sha256_hex(document);
            if sha != pin.sha256 {
                problem(
                    format!(
                        "openapi.json has sha256 {sha}, the pin record says {}",
                        pin.sha256
                    ),
                    refetch,
                );
            }
            if document.len() as u64 != pin.size {
                problem(
                    format!(
                        "openapi.json has {} bytes, the pin record says {}",
                        document.len(),
                        pin.size
                    ),
                    refetch,
                );
            }
            document_matches_pin = sha == pin.sha256 && document.len() as u64 == pin.size;
        }
        (Err(e), _) | (_, Err(e)) => problem(e.clone(), refetch),
    }
    let sync = "cargo xtask spec sync";
    for (root, copy, label) in [
        (layout.document(), layout.package_document(), "openapi.json"),
        (
            layout.overlay(),
            layout.package_overlay(),
            "openapi.overlay.json",
        ),
        (layout.pin(), layout.package_pin(), "openapi.pin.json"),
    ] {
        // When openapi.json itself no longer matches its pin, copying it
        // into the package would spread the damage; restoring it comes first.
        let fix = if label == "openapi.json" && !document_matches_pin {
            refetch
        } else {
            sync
        };
        match (crate::read(&root), crate::read(&copy)) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(_), Ok(_)) => problem(format!("{} differs from {label}", copy.display()), fix),
            (Err(e), _) | (_, Err(e)) => problem(e, fix),
        }
    }
    if document.is_ok() {
        match layout.pipeline() {
            Ok(pipeline) => {
                for action in pipeline.overlay.iter().filter(|a| a.is_stale()) {
                    problem(
                        format!(
                            "overlay action [{}] ({}) matches nothing",
                            action.index, action.target
                        ),
                        "edit openapi.overlay.json, then cargo xtask spec sync",
                    );
                }
                match crate::codegen::generate::generate(&pipeline.normalized) {
                    Ok(source) => {
                        let fresh = crate::api::render(&pipeline, &source);
                        let committed = std::fs::read_to_string(layout.api_surface());
                        match (fresh, committed) {
                            (Ok(fresh), Ok(committed)) if fresh == committed => {}
                            (Ok(_), _) => problem(
                                format!(
                                    "{} is missing or out of date",
                                    layout.api_surface().display()
                                ),
                                crate::api::REFRESH,
                            ),
                            (Err(e), _) => problem(
                                format!("the API surface cannot be rendered: {e}"),
                                "fix xtask/src/api.rs for the new shape of the generated client",
                            ),
                        }
                    }
                    Err(e) => problem(
                        format!("generation fails: {e}"),
                        "cargo xtask spec report, then adjust the overlay or the normalizer",
                    ),
                }
            }
            Err(e) => problem(
                format!("normalization fails: {e}"),
                "cargo xtask spec report, then adjust the overlay or the normalizer",
            ),
        }
    }
    problems
}
