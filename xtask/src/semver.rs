//! `cargo xtask semver`: the public API of each published crate checked
//! against the last release with cargo-semver-checks, so a regenerated
//! client cannot break callers (a new required field, a new enum value, a
//! removed item) without the version saying so.
//!
//! The last release is recorded in `xtask/last-release.json` (version, tag
//! and commit), so a clone that fetched no tags still finds it; when the tag
//! is present it must name the recorded commit. A crate the release did not
//! have yet (it is new since) is skipped, and said so.

use std::path::Path;
use std::process::Command;

use crate::Layout;

/// The library crates users depend on, with the manifest each one has and
/// the features whose API is checked: every feature that adds public items.
/// The TLS and compression features add none, and leaving them out spares
/// the check two builds of a TLS library.
///
/// `probe-cli` is not here: it is a binary, and cargo-semver-checks checks
/// only a library's API (it refuses a crate without one). The command
/// line's own interface, its commands, flags and exit codes, is held by the
/// help snapshots in `probe-cli/tests/snapshots/`.
const PUBLISHED: [(&str, &str, &str); 1] = [("probe-api", "probe-api/Cargo.toml", "mock,metrics")];

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
        Some(rev) => rev.to_string(),
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
            "{} {} the public API of {tag} beyond what the version allows: bump the version \
             (a minor bump at 0.x) and list the breaks in CHANGELOG.md, or keep the items",
            broken.join(", "),
            if broken.len() == 1 { "breaks" } else { "break" }
        ))
    }
}

/// The record of the last release, `xtask/last-release.json`.
#[derive(Debug, serde::Deserialize)]
struct LastRelease {
    version: String,
    tag: String,
    commit: String,
}

/// The revision of the last release: its tag when this clone has it (and
/// it names the recorded commit), else the recorded commit.
fn last_release(root: &Path) -> Result<String, String> {
    let path = root.join("xtask/last-release.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let release: LastRelease = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a release record: {e}", path.display()))?;
    let commit_of = |rev: &str| -> Result<Option<String>, String> {
        let out = Command::new("git")
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    };
    match commit_of(&release.tag)? {
        Some(commit) if commit == release.commit => return Ok(release.tag),
        Some(commit) => {
            return Err(format!(
                "the tag {} names {commit}, but {} records {} as release {}: fix the tag or the record",
                release.tag,
                path.display(),
                release.commit,
                release.version
            ));
        }
        None => {}
    }
    match commit_of(&release.commit)? {
        Some(_) => {
            println!(
                "release {} ({}): no tag in this clone, checking against its commit {}",
                release.version, release.tag, release.commit
            );
            Ok(release.commit)
        }
        None => Err(format!(
            "release {} (tag {}, commit {}) is not in this clone: fetch it with \
             `git fetch --tags` (or `git fetch --unshallow` in a shallow clone), or pass --baseline REV",
            release.version, release.tag, release.commit
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::{PUBLISHED, last_release};
    use std::path::Path;
    use std::process::Command;

    /// Every crate of the workspace that is published and has a library is
    /// checked, and every crate checked has one (cargo-semver-checks
    /// refuses a binary-only crate, which would fail every run).
    #[test]
    fn the_checked_crates_are_the_published_libraries() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let read = |path: &Path| std::fs::read_to_string(path).expect("a manifest");
        let workspace = read(&root.join("Cargo.toml"));
        let members = workspace
            .lines()
            .find_map(|line| line.strip_prefix("members = "))
            .expect("the workspace lists its members");
        let mut libraries = Vec::new();
        for member in members.trim_matches(['[', ']']).split(',') {
            let member = member.trim().trim_matches('"');
            let manifest = read(&root.join(member).join("Cargo.toml"));
            let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
            let published = !lines.contains(&"publish = false");
            let library = lines.contains(&"[lib]") || root.join(member).join("src/lib.rs").exists();
            if published && library {
                libraries.push(member.to_string());
            }
        }
        let checked: Vec<String> = PUBLISHED
            .iter()
            .map(|(name, _, _)| name.to_string())
            .collect();
        assert_eq!(checked, libraries, "members: {members}");
        for (name, manifest, _) in PUBLISHED {
            assert_eq!(manifest, format!("{name}/Cargo.toml"));
        }
    }

    fn git(root: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "tag.gpgSign=false",
            ])
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn record(root: &Path, commit: &str) {
        std::fs::create_dir_all(root.join("xtask")).expect("mkdir");
        let json = format!(r#"{{"version":"0.1.0","tag":"v0.1.0","commit":"{commit}"}}"#);
        std::fs::write(root.join("xtask/last-release.json"), json).expect("write");
    }

    /// A scratch repository with two commits; returns (first, second).
    fn repository(root: &Path) -> (String, String) {
        git(root, &["init", "-q"]);
        git(root, &["commit", "-q", "--allow-empty", "-m", "release"]);
        let first = git(root, &["rev-parse", "HEAD"]);
        git(root, &["commit", "-q", "--allow-empty", "-m", "later"]);
        (first, git(root, &["rev-parse", "HEAD"]))
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-semver-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[test]
    fn a_clone_without_tags_checks_against_the_recorded_commit() {
        let root = scratch("untagged");
        let (first, _) = repository(&root);
        record(&root, &first);
        assert_eq!(last_release(&root).expect("found"), first);
        git(&root, &["tag", "v0.1.0", &first]);
        assert_eq!(last_release(&root).expect("found"), "v0.1.0");
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn a_tag_that_disagrees_with_the_record_or_a_missing_commit_is_named() {
        let root = scratch("mismatch");
        let (first, second) = repository(&root);
        record(&root, &first);
        git(&root, &["tag", "v0.1.0", &second]);
        let err = last_release(&root).expect_err("the tag names another commit");
        assert!(
            err.contains("the tag v0.1.0 names") && err.contains(&first),
            "{err}"
        );

        let absent = "0123456789abcdef0123456789abcdef01234567";
        git(&root, &["tag", "-d", "v0.1.0"]);
        record(&root, absent);
        let err = last_release(&root).expect_err("the commit is not here");
        assert!(
            err.contains("is not in this clone") && err.contains("git fetch --tags"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).ok();
    }
}
