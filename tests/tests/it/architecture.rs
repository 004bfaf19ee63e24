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
    // Rows of the generated client name no file: it lives in `OUT_DIR`.
    assert!(rows.iter().any(|(file, _)| file == "generated"), "{rows:?}");
    for (file, function) in rows.iter().filter(|(file, _)| file != "generated") {
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

/// The modules of the hand-written runtime (`probe-api/src`), each with the
/// modules its code names through `crate::` paths: a module and its
/// ancestors or descendants are one unit, and the generated client
/// (`Client`, `builder`, `types`), above every module, is not in the graph.
fn import_graph(files: &[(String, String)]) -> std::collections::BTreeMap<String, Vec<String>> {
    let modules: Vec<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let lib = files
        .iter()
        .find(|(m, _)| m.is_empty())
        .map_or("", |(_, s)| s.as_str());
    let mut graph = std::collections::BTreeMap::new();
    for (module, source) in files.iter().filter(|(m, _)| !m.is_empty()) {
        let mut targets = std::collections::BTreeSet::new();
        for path in crate_paths(code_of(source)) {
            let segments: Vec<&str> = path.split("::").collect();
            let found = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|candidate| modules.contains(&candidate.as_str()))
                .or_else(|| reexported_from(lib, segments[0]));
            let Some(target) = found else { continue };
            let related = target == *module
                || module.starts_with(&format!("{target}::"))
                || target.starts_with(&format!("{module}::"));
            if !related && !target.is_empty() {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets.into_iter().collect());
    }
    graph
}

/// The code of a source file: no comment lines, no test module.
fn code_of(source: &str) -> String {
    let end = source
        .find("#[cfg(test)]\nmod tests")
        .unwrap_or(source.len());
    source[..end]
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b` path of `code`, with each path of a
/// `use crate::{a, b::c}` group.
fn crate_paths(code: String) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    paths.push(item.split_whitespace().next().unwrap_or(item).to_string());
                }
            }
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        paths.push(path.trim_end_matches(':').to_string());
    }
    paths
}

/// The module a root re-export `name` of `lib.rs` comes from
/// (`pub use client::{Client..}`), if any.
fn reexported_from(lib: &str, name: &str) -> Option<String> {
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("pub use "))
        .find_map(|rest| {
            let (module, items) = rest.split_once("::")?;
            let listed = items
                .trim_matches(|c| matches!(c, '{' | '}' | ';'))
                .split(',')
                .any(|item| item.trim() == name);
            let generated = module == "generated" || module.contains(' ');
            (listed && !generated).then(|| module.to_string())
        })
}

/// A circle of the graph, if it has one, as the modules around it.
fn circle(graph: &std::collections::BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The runtime's sources as (module path, source); `lib.rs` is `""`.
fn runtime_sources() -> Vec<(String, String)> {
    let src = root().join("probe-api/src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).expect("below src");
            let mut module = relative.with_extension("").display().to_string();
            if module == "lib" {
                module.clear();
            }
            let module = module.trim_end_matches("/mod").replace('/', "::");
            (module, std::fs::read_to_string(file).expect("source"))
        })
        .collect()
}

#[test]
fn the_runtime_modules_import_each_other_without_a_circle() {
    let files = runtime_sources();
    let graph = import_graph(&files);
    assert!(graph.len() > 30, "{} modules", graph.len());
    // The bottom of a call's path names only the credential and the
    // walk's callback, which it carries.
    assert_eq!(
        graph["call"],
        ["auth", "reports::walk"],
        "{:?}",
        graph["call"]
    );
    assert!(
        !graph["error"].contains(&"decode".to_string()),
        "{:?}",
        graph["error"]
    );
    assert_eq!(circle(&graph), None, "{graph:#?}");
}

#[test]
fn no_runtime_module_but_the_mock_keeps_ambient_state() {
    // What a call does is in its signature: no task-local or thread-local
    // changes it (the mock, a test server, is exempt).
    let ambient: Vec<String> = runtime_sources()
        .into_iter()
        .filter(|(module, _)| module != "mock" && !module.starts_with("mock::"))
        .filter(|(_, source)| {
            let code = code_of(source);
            code.contains("task_local!") || code.contains("thread_local!")
        })
        .map(|(module, _)| module)
        .collect();
    assert!(ambient.is_empty(), "{ambient:?}");
}

#[test]
fn the_import_graph_sees_a_circle_through_a_use_group_and_a_root_reexport() {
    let files = [
        (String::new(), "pub use b::{Thing, Other};".to_string()),
        (
            "a".to_string(),
            "use crate::{c::x, other};\nfn f() {}".to_string(),
        ),
        (
            "b".to_string(),
            "// crate::a in a comment is not an import\nfn g() {}".to_string(),
        ),
        (
            "c".to_string(),
            "fn h() -> crate::Thing { make() }".to_string(),
        ),
        ("other".to_string(), "fn i() {}".to_string()),
    ];
    let graph = import_graph(&files);
    assert_eq!(graph["a"], ["c", "other"]);
    assert_eq!(graph["c"], ["b"]);
    assert_eq!(circle(&graph), None);
    let mut files = files.to_vec();
    files[2].1 = "fn g() { crate::a::f() }".to_string();
    assert_eq!(
        circle(&import_graph(&files)),
        Some(vec!["a".into(), "c".into(), "b".into(), "a".into()])
    );
}
