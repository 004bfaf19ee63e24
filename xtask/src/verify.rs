//! `cargo xtask verify`: the pinned files are what the pin record says, the
//! package copies equal them, and the pipeline runs.

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
    let refetch = "git checkout -- openapi.json openapi.pin.json (restore the pinned pair; a new document comes with its own pin record)";
    let document = crate::read(&layout.document());
    let pin = crate::read(&layout.pin()).and_then(|b| Pin::parse(&b));
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
    ] {
        match (crate::read(&root), crate::read(&copy)) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(_), Ok(_)) => problem(format!("{} differs from {label}", copy.display()), sync),
            (Err(e), _) | (_, Err(e)) => problem(e, sync),
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
                if let Err(e) = crate::codegen::generate::generate(&pipeline.normalized) {
                    problem(
                        format!("generation fails: {e}"),
                        "cargo xtask spec report, then adjust the overlay or the normalizer",
                    );
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
