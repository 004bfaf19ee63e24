//! The user guide's (probe-api/README.md) reliability table names, for each guarantee, the tests
//! that show it; a renamed or deleted test must not leave it pointing at
//! nothing.

use std::path::Path;

const SECTION: &str = "## Reliability";

/// The `module::test` names of the table (`module` may be a path such as
/// `properties::overlay`), a bare `test` meaning the module of the name
/// before it in the same row.
fn named_tests(readme: &str) -> Result<Vec<(String, String)>, String> {
    let start = readme
        .find(SECTION)
        .ok_or_else(|| format!("README.md has no `{SECTION}` section"))?;
    let section = &readme[start..];
    let end = section[SECTION.len()..]
        .find("\n## ")
        .map_or(section.len(), |i| i + SECTION.len());
    let mut named = Vec::new();
    for row in section[..end].lines().filter(|l| l.starts_with('|')) {
        let Some(tests) = row.trim_end_matches('|').rsplit('|').next() else {
            continue;
        };
        let mut file: Option<String> = None;
        for code in tests.split('`').skip(1).step_by(2) {
            match code.rsplit_once("::") {
                Some((f, test)) => {
                    file = Some(f.to_string());
                    named.push((f.to_string(), test.to_string()));
                }
                None if code.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                    let f = file
                        .clone()
                        .ok_or_else(|| format!("`{code}` comes before any file::test in: {row}"))?;
                    named.push((f, code.to_string()));
                }
                None => {}
            }
        }
    }
    Ok(named)
}

#[test]
fn every_test_the_reliability_table_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../probe-api/README.md"))
        .expect("the user guide, probe-api/README.md");
    let named = named_tests(&readme).expect("the table parses");
    assert!(
        named.len() >= 20,
        "the table names too few tests: {named:?}"
    );
    let mut missing = Vec::new();
    for (module, test) in &named {
        let file = module.replace("::", "/");
        let source = [
            format!("tests/it/{file}.rs"),
            format!("tests/it/{file}/mod.rs"),
            format!("tests/{file}.rs"),
        ]
        .iter()
        .find_map(|path| std::fs::read_to_string(root.join(path)).ok())
        .unwrap_or_default();
        let defined = [format!("fn {test}("), format!("fn {test}<")]
            .iter()
            .any(|d| source.contains(d.as_str()));
        if !defined {
            missing.push(format!("{module}::{test}"));
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's reliability table names tests that do not exist in tests/tests/: {missing:?}"
    );
}

#[test]
fn a_bare_name_takes_the_file_of_the_name_before_it_and_unknown_names_are_reported() {
    let readme = "## Reliability\n\n| a | b |\n|---|---|\n| x | `faults::one`, `two` |\n| y | `load::three` |\n\n## Next\n| z | `nope::four` |\n";
    assert_eq!(
        named_tests(readme).expect("parses"),
        [
            ("faults".to_string(), "one".to_string()),
            ("faults".to_string(), "two".to_string()),
            ("load".to_string(), "three".to_string()),
        ]
    );
    let nested = "## Reliability\n| x | `properties::overlay::one`, `two` |\n";
    assert_eq!(
        named_tests(nested).expect("parses"),
        [
            ("properties::overlay".to_string(), "one".to_string()),
            ("properties::overlay".to_string(), "two".to_string()),
        ]
    );
    let orphan = "## Reliability\n| x | `two` |\n";
    assert!(named_tests(orphan).expect_err("no file").contains("`two`"));
    assert!(named_tests("# nothing").is_err());
}
