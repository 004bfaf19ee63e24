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
    // Every file and folder of the pipeline the page names is there.
    let pipeline = page
        .split("## How the document becomes a client")
        .nth(1)
        .expect("ARCHITECTURE.md has a pipeline section");
    let named: Vec<&str> = pipeline
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("codegen/"))
        .collect();
    assert!(named.len() >= 8, "{named:?}");
    for path in named {
        assert!(root().join("probe-api").join(path).exists(), "{path}");
    }
}

/// The Rust sources of the workspace, without build output and packages.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !matches!(name.to_str(), Some("target" | "node_modules" | ".git")) {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether the source matches one of syn's item enums by variant: the
/// layout of progenitor's output, which only `codegen/shape.rs` may know.
fn walks_items(source: &str) -> bool {
    source.match_indices("Item::").any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let word = source[..at]
            .rsplit(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap_or_default();
        before.is_none_or(|c| !c.is_alphanumeric() && c != '_') || word == "Impl"
    })
}

#[test]
fn only_the_shape_module_reads_the_layout_of_the_generated_client() {
    let mut files = Vec::new();
    sources(&root().join("probe-api/codegen"), &mut files);
    sources(&root().join("xtask/src"), &mut files);
    let readers: Vec<String> = files
        .iter()
        .filter(|f| walks_items(&std::fs::read_to_string(f).expect("source")))
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    assert_eq!(readers, ["probe-api/codegen/shape.rs"]);
    assert!(walks_items("let Item::Fn(f) = item"));
    assert!(walks_items("syn::ImplItem::Fn(f)"));
    assert!(!walks_items("TypeItem::Model { .. }"));
}

#[test]
fn no_source_file_is_over_a_thousand_lines_but_the_document_diff() {
    let mut files = Vec::new();
    sources(&root(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("xtask/src/diff.rs"))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > 1000).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(files.len() > 50, "{} files", files.len());
    assert!(long.is_empty(), "{long:?}");
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

#[test]
fn the_generated_client_opens_at_the_path_the_page_names() {
    let page = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let layout = xtask::Layout::at(&root());
    let path = layout
        .write_generated_client()
        .expect("cargo xtask codegen");
    let relative = path.strip_prefix(root()).expect("inside the workspace");
    assert!(
        page.contains(&format!("`{}`", relative.display())),
        "ARCHITECTURE.md does not name {}",
        relative.display()
    );
    let code = std::fs::read_to_string(&path).expect("the generated client");
    assert!(code.contains("pub struct Client"), "{}", path.display());
    assert!(code.contains("crate::runtime::"), "{}", path.display());
}
