//! `cargo xtask readme-crate`: the user guide's (`probe-api/README.md`)
//! Rust examples built in a fresh crate that has exactly the dependencies
//! the guide tells a user to add.
//!
//! Doctests compile the examples with every dependency of the workspace at
//! hand, so an example that needs a crate the README never mentions still
//! passes them. This builds each example as a binary of a scratch crate
//! whose `[dependencies]` are the README's TOML snippets (probe-api by path,
//! with the features they name), offline, against the workspace's lockfile.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Layout;

/// One fenced Rust example of the README, as rustdoc would compile it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The line of the README where the fence opens.
    pub line: usize,
    /// The program: hidden `# ` lines shown, wrapped in `fn main` when the
    /// example has none (as rustdoc does).
    pub source: String,
}

/// The README's fenced Rust examples that compile (not `ignore`,
/// `compile_fail` or `text`).
pub fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let tags: Vec<&str> = info.split(',').map(str::trim).collect();
                    let rust = tags.first().is_some_and(|t| *t == "rust");
                    let skipped = tags
                        .iter()
                        .any(|t| matches!(*t, "ignore" | "compile_fail" | "text"));
                    if rust && !skipped {
                        current = Some((index + 1, Vec::new()));
                    }
                }
            }
            Some((start, lines)) => {
                if trimmed.starts_with("```") {
                    out.push(Example {
                        line: *start,
                        source: program(lines),
                    });
                    current = None;
                } else {
                    let shown = match trimmed.strip_prefix('#') {
                        Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                            rest.strip_prefix(' ').unwrap_or(rest).to_string()
                        }
                        _ => line.to_string(),
                    };
                    lines.push(shown);
                }
            }
        }
    }
    out
}

/// rustdoc's wrapping: a body without `fn main` goes inside one, which
/// returns a `Result` when the body ends with `Ok::<(), E>(())`.
fn program(lines: &[String]) -> String {
    let body = lines.join("\n");
    if body.contains("fn main") {
        return format!("{body}\n");
    }
    let last = lines.iter().rev().map(|l| l.trim()).find(|l| !l.is_empty());
    if last.is_some_and(|l| l.starts_with("Ok::<")) {
        format!(
            "#![allow(unused)]\nfn main() {{\n    fn inner() -> Result<(), impl core::fmt::Debug> {{\n{body}\n    }}\n    let _ = inner;\n}}\n"
        )
    } else {
        format!("#![allow(unused)]\nfn main() {{\n{body}\n}}\n")
    }
}

/// The README's `[dependencies]` and `[dev-dependencies]` lines, merged:
/// probe-api by `path` with the union of the features the snippets name.
pub fn dependencies(readme: &str, probe_api: &Path) -> Result<String, String> {
    let mut lines = Vec::new();
    let mut features: Vec<String> = Vec::new();
    let mut in_toml = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```toml") {
            in_toml = true;
            continue;
        }
        if in_toml && trimmed.starts_with("```") {
            in_toml = false;
            continue;
        }
        if !in_toml || trimmed.starts_with('[') || trimmed.is_empty() {
            continue;
        }
        let Some((name, _)) = trimmed.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name == "probe-api" {
            if let Some(list) = trimmed.split("features").nth(1) {
                for feature in list.split('"').skip(1).step_by(2) {
                    if !features.iter().any(|f| f == feature) {
                        features.push(feature.to_string());
                    }
                }
            }
        } else if !lines
            .iter()
            .any(|l: &String| l.split('=').next().map(str::trim) == Some(name))
        {
            lines.push(trimmed.split(" #").next().unwrap_or(trimmed).to_string());
        }
    }
    if lines.is_empty() {
        return Err("the README has no `[dependencies]` snippet besides probe-api".into());
    }
    let features = features
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    lines.insert(
        0,
        format!(
            "probe-api = {{ path = {:?}, features = [{features}] }}",
            probe_api.display().to_string()
        ),
    );
    Ok(lines.join("\n"))
}

/// Writes the scratch crate below `target/readme-crate` and builds it,
/// offline, sharing the workspace's target directory for dependencies.
///
/// # Errors
///
/// The README has no examples or dependencies, a file cannot be written,
/// or an example does not build (cargo's output says which).
pub fn run(layout: &Layout) -> Result<(), String> {
    let root = &layout.root;
    let readme = std::fs::read_to_string(root.join("probe-api/README.md"))
        .map_err(|e| format!("cannot read probe-api/README.md: {e}"))?;
    let examples = examples(&readme);
    if examples.is_empty() {
        return Err("probe-api/README.md has no Rust examples".into());
    }
    let crate_dir: PathBuf = root.join("target/readme-crate");
    let bin_dir = crate_dir.join("src/bin");
    let _ = std::fs::remove_dir_all(&bin_dir);
    std::fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    let manifest = format!(
        // The examples that need the mock or PostgreSQL say
        // `#[cfg(feature = "mock")]` or `"postgres"`, which this crate turns
        // on, so they are built, not skipped.
        "[package]\nname = \"readme-crate\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[features]\ndefault = [\"mock\", \"postgres\"]\nmock = []\npostgres = []\n\n[dependencies]\n{}\n",
        dependencies(&readme, &root.join("probe-api"))?
    );
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(crate_dir.join("Cargo.toml"), &manifest)?;
    std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    for example in &examples {
        write(
            bin_dir.join(format!("readme_line_{}.rs", example.line)),
            &example.source,
        )?;
    }
    println!(
        "building {} README example(s) with only: {}",
        examples.len(),
        manifest
            .split("[dependencies]\n")
            .nth(1)
            .unwrap_or("")
            .replace('\n', "; ")
    );
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--offline", "--bins", "--quiet"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .current_dir(&crate_dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "a README example does not build with the README's dependencies (src/bin/readme_line_N.rs is the example at README line N, in {})",
            crate_dir.display()
        ));
    }
    println!("every README example builds");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "\
```toml
[dependencies]
probe-api = { git = \"https://x\" }
tokio = { version = \"1\", features = [\"macros\"] }
futures-util = \"0.3\" # for streams
```

```rust,no_run
use probe_api::Client;
# fn f() -> Result<(), probe_api::ConfigError> {
let c = Client::builder().build()?;
# Ok(()) }
```

```text
not rust
```

```toml
[dev-dependencies]
probe-api = { git = \"https://x\", features = [\"mock\"] }
```
";

    #[test]
    fn examples_show_hidden_lines_and_get_a_main() {
        let found = examples(README);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 8);
        let source = &found[0].source;
        assert!(
            source.contains("fn main() {\nuse probe_api::Client;"),
            "{source}"
        );
        assert!(
            source.contains("fn f() -> Result<(), probe_api::ConfigError> {"),
            "{source}"
        );
        assert!(source.contains("Ok(()) }"), "{source}");
    }

    #[test]
    fn dependencies_are_the_readmes_with_probe_api_by_path() {
        let deps = dependencies(README, Path::new("/p/probe-api")).expect("deps");
        assert_eq!(
            deps,
            "probe-api = { path = \"/p/probe-api\", features = [\"mock\"] }\n\
             tokio = { version = \"1\", features = [\"macros\"] }\n\
             futures-util = \"0.3\""
        );
    }
}
