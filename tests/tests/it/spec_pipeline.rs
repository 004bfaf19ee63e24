//! The spec pipeline over the pinned document and over every spec fixture.

use serde_json::Value;
use tests::{fixture, operations_of, read, root, yaml_fragment_of_markdown};
use xtask::codegen::{self, generate::generate, normalize::Rule};

fn effective_pinned() -> Value {
    let mut document: Value =
        serde_json::from_slice(&read(&root().join("openapi.json"))).expect("JSON");
    codegen::overlay::apply(&mut document, &read(&root().join("openapi.overlay.json")))
        .expect("overlay applies");
    document
}

/// Normalizes and generates; `generate` parses the code with `syn`.
fn generates(label: &str, document: &[u8], overlay: Option<&[u8]>) -> codegen::Pipeline {
    let pipeline = codegen::run(document, overlay).unwrap_or_else(|e| panic!("{label}: {e}"));
    let code = generate(&pipeline.normalized).unwrap_or_else(|e| panic!("{label}: {e}"));
    syn::parse_file(&code)
        .unwrap_or_else(|e| panic!("{label}: generated code does not parse: {e}"));
    pipeline
}

#[test]
fn the_june_document_alone_generates() {
    let doc = read(&fixture("spec/probe-openapi-2025-06-24.json"));
    let pipeline = generates("June document", &doc, None);
    assert_eq!(pipeline.normalized.operations.len(), 25);
    // Without the overlay, POST /v1/probe/file takes only a form body whose
    // nested tool options must be flattened to reach the wire.
    let post_file = pipeline
        .normalized
        .operations
        .iter()
        .find(|op| op.rust_name == "post_file")
        .expect("post_file");
    assert_eq!(
        post_file.request_media_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let form = &pipeline.normalized.document["components"]["schemas"]["FormDataPostFileRequest"];
    assert!(
        form["properties"].get("ffprobe[show_streams]").is_some(),
        "{form}"
    );
}

#[test]
fn the_june_document_with_the_overlay_generates_28_operations() {
    let pipeline = generates(
        "June document + overlay",
        &read(&fixture("spec/probe-openapi-2025-06-24.json")),
        Some(&read(&fixture("spec/probe-overlay.json"))),
    );
    assert_eq!(pipeline.normalized.operations.len(), 35);
    assert!(pipeline.overlay.iter().all(|a| a.matched > 0 && a.changed));
}

#[test]
fn the_seed_page_fragment_generates_on_its_own() {
    let markdown = String::from_utf8(read(&fixture("spec/seed-get-session.md"))).expect("UTF-8");
    let fragment = yaml_fragment_of_markdown(&markdown);
    let bytes = serde_json::to_vec(&fragment).expect("JSON");
    let pipeline = generates("seed page fragment", &bytes, None);
    let ops = &pipeline.normalized.operations;
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (
            ops[0].method.as_str(),
            ops[0].path.as_str(),
            ops[0].rust_name.as_str()
        ),
        (
            "GET",
            "/frontend/api/v1/auth/session/{session-id}",
            "get_session"
        )
    );
}

#[test]
fn the_pinned_document_generates_and_the_fixture_copy_is_the_pinned_one() {
    generates(
        "pinned document",
        &read(&root().join("openapi.json")),
        Some(&read(&root().join("openapi.overlay.json"))),
    );
    assert_eq!(
        read(&root().join("openapi.json")),
        read(&fixture("spec/probe-openapi-2025-06-24.json")),
        "openapi.json is the June document byte for byte"
    );
}

#[test]
fn every_operation_of_the_effective_document_is_a_client_method() {
    let effective = effective_pinned();
    let operations = operations_of(&effective);
    assert_eq!(operations.len(), 35, "{operations:?}");
    assert!(operations.iter().any(|(m, p, id)| m == "GET"
        && p == "/frontend/api/v1/auth/session/{session-id}"
        && id == "routes/auth.GetSession"));
    let client = probe_api::Client::builder()
        .base_url("http://127.0.0.1:1")
        .build()
        .expect("client");
    for (method, path, operation_id) in &operations {
        let name = codegen::ident::rust_method_name(operation_id);
        assert!(
            probe_api::spec::has_operation_method(&client, &name),
            "{method} {path} ({operation_id}) has no method `{name}` on the client"
        );
        let spec =
            probe_api::spec::operation(&name).unwrap_or_else(|| panic!("no spec for {name}"));
        assert_eq!((spec.method, spec.path), (method.as_str(), path.as_str()));
    }
    assert!(!probe_api::spec::has_operation_method(
        &client,
        "no_such_operation"
    ));
    assert_eq!(probe_api::spec::operations().len(), operations.len());
}

#[test]
fn the_report_shows_every_rewrite_of_the_pinned_document() {
    let pipeline = xtask::Layout::at(&root()).pipeline().expect("pipeline");
    let report = xtask::report::render(&pipeline);
    for rewrite in &pipeline.normalized.rewrites {
        let line = format!("  {}: {}", rewrite.pointer, rewrite.detail);
        assert!(report.contains(&line), "missing from the report: {line}");
    }
    for rule in [
        Rule::OpenApiVersion,
        Rule::TypeArray,
        Rule::Examples,
        Rule::RefSiblings,
        Rule::DeepObject,
        Rule::CookieParameter,
        Rule::RequestMediaType,
        Rule::ResponseSchemas,
        Rule::OperationId,
        Rule::Credential,
        Rule::SchemaName,
        Rule::ToolReport,
    ] {
        assert!(report.contains(&format!("\n{rule} (")), "no {rule} section");
    }
    // The renames, each with the document's name and the new one.
    for line in [
        "#/components/schemas/UsercommonStatus: `UsercommonStatus` -> `UserStatus`",
        "#/components/schemas/SortfieldSortInternalRouterRoutesUserSortFieldInternalToolsOrderfieldString: `SortfieldSortInternalRouterRoutesUserSortFieldInternalToolsOrderfieldString` -> `UserSort`",
        "#/paths/~1v1~1probe~1file/get/responses/400: inline error body -> `GetFileError`",
    ] {
        assert!(report.contains(line), "missing from the report: {line}");
    }
}

/// Nothing the normalizer is meant to remove survives it, so every change
/// it had to make was made (and therefore reported).
#[test]
fn the_normalized_pinned_document_has_no_3_1_or_unsupported_constructs_left() {
    let pipeline = xtask::Layout::at(&root()).pipeline().expect("pipeline");
    let doc = &pipeline.normalized.document;
    assert_eq!(doc["openapi"], "3.0.3");
    fn walk(v: &Value, at: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.get("type").is_some_and(Value::is_array) {
                    found.push(format!("{at}: type array"));
                }
                if m.contains_key("$ref") && m.len() > 1 {
                    found.push(format!("{at}: $ref siblings"));
                }
                if m.get("style").and_then(Value::as_str) == Some("deepObject") {
                    found.push(format!("{at}: deepObject"));
                }
                if m.get("in").and_then(Value::as_str) == Some("cookie") && m.contains_key("schema")
                {
                    found.push(format!("{at}: cookie parameter"));
                }
                if m.contains_key("const") || m.get("examples").is_some_and(Value::is_array) {
                    found.push(format!("{at}: const/examples"));
                }
                for (k, x) in m {
                    walk(x, &format!("{at}/{k}"), found);
                }
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &format!("{at}/{i}"), found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(doc, "#", &mut found);
    assert!(found.is_empty(), "{found:#?}");
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(content) = op["requestBody"]["content"].as_object() {
                assert_eq!(
                    content.len(),
                    1,
                    "{method} {path} keeps one request media type"
                );
            }
        }
    }
}

#[test]
fn the_workspace_passes_verify() {
    let problems = xtask::verify::check(&xtask::Layout::at(&root()));
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `probe-api/codegen` is compiled by probe-api's build script and by
/// xtask from one source, so every crate the build script compiles it with
/// must reach xtask at the same requirement and features (read from
/// `cargo metadata`, so a manifest edit on one side fails here).
#[test]
fn the_codegen_dependencies_of_the_build_and_of_xtask_agree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let package = |name: &str| {
        metadata["packages"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("no package {name}"))
            .clone()
    };
    let deps = |package: &serde_json::Value, kind: serde_json::Value| {
        package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"] == kind)
            .map(|d| {
                let name = d["name"].as_str().unwrap_or_default().to_string();
                let shape = (
                    d["req"].as_str().unwrap_or_default().to_string(),
                    d["features"].to_string(),
                    d["uses_default_features"].as_bool(),
                );
                (name, shape)
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let build = deps(&package("probe-api"), serde_json::json!("build"));
    let xtask = deps(&package("xtask"), serde_json::Value::Null);
    assert!(
        build.contains_key("progenitor") && build.len() > 10,
        "{build:?}"
    );
    for (name, shape) in &build {
        assert_eq!(
            xtask.get(name),
            Some(shape),
            "the build script compiles codegen with {name} {shape:?}; xtask must too"
        );
    }
}

/// The generated client names the hand-written layer only through
/// `crate::runtime`, the one module that states the contract.
#[test]
fn generated_code_reaches_the_crate_only_through_the_runtime_module() {
    let pipeline = xtask::Layout::at(&root()).pipeline().expect("pipeline");
    let source = xtask::codegen::generate::generate(&pipeline.normalized).expect("generates");
    let mut others: Vec<String> = source
        .match_indices("crate::")
        .map(|(at, _)| {
            source[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|path| !path.starts_with("crate::runtime::"))
        .collect();
    others.sort();
    others.dedup();
    assert!(others.is_empty(), "generated code names {others:?}");
    assert!(source.contains("crate::runtime::execute("));
}
