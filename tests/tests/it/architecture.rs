//! ARCHITECTURE.md's path of one call names files and functions; each must
//! exist, so the page cannot drift from the code without a failing test.

use tests::root;

/// The `| step | file | function | what |` rows of the call-path table.
fn call_path(page: &str) -> Vec<(String, String)> {
    let table = page
        .split("## The path of one call")
        .nth(1)
        .expect("ARCHITECTURE.md has a call-path section");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| step"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("| step") && !l.starts_with("|---"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let unquote = |c: &str| c.trim_matches('`').to_string();
            Some((unquote(cells.get(2)?), unquote(cells.get(3)?)))
        })
        .collect()
}

#[test]
fn the_call_path_names_files_and_functions_that_exist() {
    let page = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let rows = call_path(&page);
    assert!(rows.len() >= 10, "{rows:?}");
    let mut missing = Vec::new();
    for (file, function) in &rows {
        match std::fs::read_to_string(root().join(file)) {
            Ok(source) if source.contains(&format!("fn {function}")) => {}
            Ok(_) => missing.push(format!("{file} has no fn {function}")),
            Err(_) => missing.push(format!("{file} does not exist")),
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md names: {missing:?}");
    // Every file of the pipeline the page lists is there.
    for file in [
        "overlay.rs",
        "normalize.rs",
        "names.rs",
        "generate.rs",
        "lenient.rs",
        "rewrite.rs",
    ] {
        assert!(
            root().join("probe-api/codegen").join(file).exists(),
            "codegen/{file}"
        );
    }
}

#[test]
fn the_reader_catches_a_name_that_is_gone() {
    let page = "## The path of one call\n\n| step | file | function | what |\n|---|---|---|---|\n| 1 | `probe-api/src/client.rs` | `no_such_function` | x |\n";
    assert_eq!(
        call_path(page),
        [(
            "probe-api/src/client.rs".to_string(),
            "no_such_function".to_string()
        )]
    );
}
