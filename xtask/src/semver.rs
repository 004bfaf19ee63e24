//! `cargo xtask semver`: the public API of each published crate checked
//! against the last release with cargo-semver-checks, so a regenerated
//! client cannot break callers (a new required field, a new enum value, a
//! removed item) without the version saying so.
//!
//! The last release is the newest `v*` tag reachable from `HEAD`. A crate
//! the release did not have yet (it is new since) is skipped, and said so.

use std::path::Path;
use std::process::Command;

use crate::Layout;

/// The crates users depend on, with the manifest each one has and the
/// features whose API is checked: every feature that adds public items.
/// The TLS and compression features add none, and leaving them out spares
/// the check two builds of a TLS library.
const PUBLISHED: [(&str, &str, &str); 2] = [
    ("probe-api", "probe-api/Cargo.toml", "mock,metrics"),
    ("probe-cli", "probe-cli/Cargo.toml", ""),
];

/// The cargo-semver-checks release the check is run with (CI installs it).
pub const TOOL_VERSION: &str = "0.51.0";

/// Runs the check for every published crate; `baseline` overrides the tag.
///
/// # Errors
///
/// The tool is missing, no release tag exists, or a crate breaks its API
/// without the version bump semver asks for (the tool's report says which
/// items).
pub fn run(layout: &Layout, baseline: Option<&str>) -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["semver-checks", "--version"])
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false);
    if !installed {
        return Err(format!(
            "cargo-semver-checks is not installed; install it with \
             `cargo install --locked cargo-semver-checks@{TOOL_VERSION}`"
        ));
    }
    let tag = match baseline {
        Some(tag) => tag.to_string(),
        None => last_release(&layout.root)?,
    };
    let mut broken = Vec::new();
    for (name, manifest, features) in PUBLISHED {
        if !layout.root.join(manifest).exists() {
            continue;
        }
        if !released(&layout.root, &tag, manifest)? {
            println!("{name}: not in {tag}, its first release has nothing to compare with");
            continue;
        }
        println!("{name}: checking the public API against {tag}");
        let status = Command::new("cargo")
            .args(["semver-checks", "check-release", "--package", name])
            .args(["--baseline-rev", &tag, "--only-explicit-features"])
            .args((!features.is_empty()).then(|| format!("--features={features}")))
            .current_dir(&layout.root)
            .status()
            .map_err(|e| format!("cannot run cargo semver-checks: {e}"))?;
        if !status.success() {
            broken.push(name);
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} break the public API of {tag} beyond what the version allows: bump the version \
             (a minor bump at 0.x) and list the breaks in CHANGELOG.md, or keep the items",
            broken.join(", ")
        ))
    }
}

/// The newest `v*` tag reachable from `HEAD`.
fn last_release(root: &Path) -> Result<String, String> {
    let out = Command::new("git")
        .args(["describe", "--tags", "--abbrev=0", "--match", "v*"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let tag = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || tag.is_empty() {
        return Err(
            "no release tag (v*) is reachable from HEAD: tag the last release, or pass \
             --baseline REV"
                .to_string(),
        );
    }
    Ok(tag)
}

/// Whether `manifest` exists at `rev`.
fn released(root: &Path, rev: &str, manifest: &str) -> Result<bool, String> {
    let out = Command::new("git")
        .args(["cat-file", "-e", &format!("{rev}:{manifest}")])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(out.status.success())
}
