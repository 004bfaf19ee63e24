//! Wire drift: what the generated client puts on the wire against what the
//! effective document defines, compared in the generated code itself.
//!
//! The effective document (the pinned document with the overlay, OpenAPI
//! 3.1) says which query, header, path and cookie parameters each operation
//! has. The normalizer rewrites it for progenitor and the generator turns
//! that into `send()` methods; a parameter lost on the way would leave the
//! client unable to send it, and no test that derives its arguments from
//! the client's own table would notice. This file reads every `send()` of
//! the generated code (the names in `QueryParam::new(..)` and
//! `header_map.insert(..)`, the path format string and its arguments) and
//! compares them with the document, and shows that the comparison catches
//! a query parameter removed from the normalizer's output.
//!
//! `conformance_prism.rs` catches the same drift at run time: its
//! arguments come from the effective document, and `dynamic::call` refuses
//! a parameter the client does not have.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::Value;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use xtask::codegen::Pipeline;
use xtask::codegen::normalize::{METHODS, Normalized};
use xtask::codegen::refs::resolve;

/// What one operation puts on the wire.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Wire {
    query: BTreeSet<String>,
    headers: BTreeSet<String>,
    cookies: BTreeSet<String>,
    /// The path with each parameter as `{}`.
    path: String,
    /// Whether every path parameter is percent-encoded (generated side only).
    escaped: bool,
    body: bool,
}

type Operation = (String, String);

/// What the effective document defines for every operation.
fn document_wire(document: &Value) -> BTreeMap<Operation, Wire> {
    let mut out = BTreeMap::new();
    let paths = document["paths"].as_object().expect("paths");
    for (template, item) in paths {
        for verb in METHODS {
            let Some(operation) = item.get(verb) else {
                continue;
            };
            let at = vec!["paths".to_string(), template.clone(), verb.to_string()];
            let mut wire = Wire {
                path: path_pattern(template),
                escaped: true,
                body: operation.get("requestBody").is_some(),
                ..Wire::default()
            };
            let listed = item["parameters"]
                .as_array()
                .into_iter()
                .chain(operation["parameters"].as_array())
                .flatten();
            for parameter in listed {
                let parameter = resolve(document, parameter, &at).expect("parameter");
                let name = parameter["name"].as_str().expect("name").to_string();
                match parameter["in"].as_str() {
                    Some("query") if parameter["style"] == "deepObject" => {
                        let schema = resolve(document, &parameter["schema"], &at).expect("schema");
                        for property in schema["properties"].as_object().into_iter().flatten() {
                            wire.query.insert(format!("{name}[{}]", property.0));
                        }
                    }
                    Some("query") => {
                        wire.query.insert(name);
                    }
                    Some("header") => {
                        wire.headers.insert(name);
                    }
                    Some("cookie") => {
                        wire.cookies.insert(name);
                    }
                    _ => {}
                }
            }
            out.insert((verb.to_uppercase(), template.clone()), wire);
        }
    }
    out
}

/// `/a/{id}/b` as the generated code formats it: `{}/a/{}/b`.
fn path_pattern(template: &str) -> String {
    let mut pattern = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        pattern.push_str(&rest[..start]);
        pattern.push_str("{}");
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    pattern.push_str(rest);
    pattern
}

/// progenitor swaps the process's panic hook while it generates; tests of
/// this file generate one at a time so the hook is always restored.
static GENERATING: Mutex<()> = Mutex::new(());

/// What the code generated from `normalized` sends for every operation,
/// exactly as `build.rs` generates it.
fn generated_wire(normalized: &Normalized) -> BTreeMap<Operation, Wire> {
    let code = {
        let _one_at_a_time = GENERATING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        xtask::codegen::generate::generate(normalized).expect("the client generates")
    };
    let file = syn::parse_file(&code).expect("the generated code parses");

    // `impl Client { pub fn get_file(&self) -> builder::GetFile<'_> }`
    let mut builder_of: BTreeMap<String, String> = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if !is_type(&block.self_ty, "Client") {
            continue;
        }
        for impl_item in &block.items {
            if let syn::ImplItem::Fn(f) = impl_item
                && let syn::ReturnType::Type(_, ty) = &f.sig.output
                && let syn::Type::Path(ret) = ty.as_ref()
                && ret.path.segments.len() == 2
                && ret.path.segments[0].ident == "builder"
            {
                builder_of.insert(
                    f.sig.ident.to_string(),
                    ret.path.segments[1].ident.to_string(),
                );
            }
        }
    }
    let builders = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .expect("a builder module")
        .1
        .clone();

    let mut out = BTreeMap::new();
    for op in &normalized.operations {
        let builder = builder_of
            .get(&op.rust_name)
            .unwrap_or_else(|| panic!("Client::{} starts no builder", op.rust_name));
        let mut wire = Wire::default();
        for item in &builders {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            if !is_type(&block.self_ty, builder) {
                continue;
            }
            for impl_item in &block.items {
                let syn::ImplItem::Fn(f) = impl_item else {
                    continue;
                };
                match f.sig.ident.to_string().as_str() {
                    "body" => wire.body = true,
                    "send" => {
                        let mut visitor = SendVisitor::default();
                        visitor.visit_block_mut(&mut f.block.clone());
                        wire.query = visitor.query;
                        wire.headers = visitor.headers;
                        wire.path = visitor.path.unwrap_or_default();
                        wire.escaped = visitor.escaped;
                    }
                    _ => {}
                }
            }
        }
        // The generated methods take no cookies; the client layer sends the
        // ones the normalizer recorded for the operation.
        wire.cookies = op.cookies.iter().map(|c| c.name.clone()).collect();
        out.insert((op.method.clone(), op.path.clone()), wire);
    }
    out
}

fn is_type(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// Collects from a `send()` body the query and header names it sends and
/// the URL it formats.
#[derive(Default)]
struct SendVisitor {
    query: BTreeSet<String>,
    headers: BTreeSet<String>,
    path: Option<String>,
    escaped: bool,
}

fn string_literal(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        // `HeaderName::from_static("api-version")`
        syn::Expr::Call(call) => call.args.first().and_then(string_literal),
        syn::Expr::Reference(r) => string_literal(&r.expr),
        // `const { HeaderName::from_static("x-trace") }`
        syn::Expr::Const(block) => match block.block.stmts.as_slice() {
            [syn::Stmt::Expr(inner, None)] => string_literal(inner),
            _ => None,
        },
        _ => None,
    }
}

fn calls(expr: &syn::Expr, function: &str) -> bool {
    matches!(expr, syn::Expr::Call(call)
        if matches!(call.func.as_ref(), syn::Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == function)))
}

impl VisitMut for SendVisitor {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if let syn::Expr::Path(function) = call.func.as_ref() {
            let segments: Vec<String> = function
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segments.ends_with(&["QueryParam".to_string(), "new".to_string()])
                && let Some(name) = call.args.first().and_then(string_literal)
            {
                self.query.insert(name);
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        let on_header_map = matches!(call.receiver.as_ref(), syn::Expr::Path(p)
            if p.path.is_ident("header_map"));
        // progenitor's header map, merged into the request.
        if (call.method == "append" || call.method == "insert")
            && on_header_map
            && let Some(name) = call.args.first().and_then(string_literal)
        {
            self.headers.insert(name);
        }
        syn::visit_mut::visit_expr_method_call_mut(self, call);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if mac.path.is_ident("format")
            && self.path.is_none()
            && let Ok(args) =
                mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            && let Some(pattern) = args.first().and_then(string_literal)
            && let Some(path) = pattern.strip_prefix("{}")
        {
            // progenitor's `format!("{}/a/{}", client.baseurl, encode_path(&id.to_string()))`.
            self.escaped = args.iter().skip(2).all(|arg| calls(arg, "encode_path"));
            self.path = Some(path.to_string());
        }
        syn::visit_mut::visit_macro_mut(self, mac);
    }
}

/// Every difference between what the document defines and what the code
/// generated by `pipeline` sends, one sentence each.
fn drift(pipeline: &Pipeline) -> Vec<String> {
    let api_version = pipeline.effective["info"]["version"].is_string();
    let defined = document_wire(&pipeline.effective);
    let sent = generated_wire(&pipeline.normalized);
    let mut found = Vec::new();
    for (operation, expected) in &defined {
        let label = format!("{} {}", operation.0, operation.1);
        let Some(actual) = sent.get(operation) else {
            found.push(format!("{label}: the client has no method for it"));
            continue;
        };
        let mut compare = |kind: &str, expected: &BTreeSet<String>, actual: &BTreeSet<String>| {
            for name in expected.difference(actual) {
                found.push(format!(
                    "{label}: the document's {kind} `{name}` is not sent"
                ));
            }
            for name in actual.difference(expected) {
                found.push(format!(
                    "{label}: sends {kind} `{name}`, which the document does not define"
                ));
            }
        };
        compare("query parameter", &expected.query, &actual.query);
        let mut headers = expected.headers.clone();
        if api_version {
            // The client sends the document's `info.version` on every call.
            headers.insert("api-version".to_string());
        }
        compare("header", &headers, &actual.headers);
        compare("cookie", &expected.cookies, &actual.cookies);
        if actual.path != expected.path {
            found.push(format!(
                "{label}: the path is formatted as `{}`, not `{}`",
                actual.path, expected.path
            ));
        }
        if !actual.escaped {
            found.push(format!(
                "{label}: a path parameter is not written through encode_path"
            ));
        }
        if actual.body != expected.body {
            found.push(format!(
                "{label}: the document {} a request body, the builder {}",
                if expected.body { "has" } else { "has no" },
                if actual.body {
                    "takes one"
                } else {
                    "takes none"
                }
            ));
        }
    }
    for operation in sent.keys().filter(|o| !defined.contains_key(*o)) {
        found.push(format!(
            "{} {}: the client calls it, the document does not define it",
            operation.0, operation.1
        ));
    }
    found
}

fn pipeline() -> Pipeline {
    xtask::Layout::from_manifest_dir()
        .pipeline()
        .expect("the spec pipeline runs")
}

#[test]
fn the_generated_client_sends_every_parameter_of_the_document_and_nothing_else() {
    let pipeline = pipeline();
    let found = drift(&pipeline);
    assert!(
        found.is_empty(),
        "the generated client drifted from the effective document:\n{}",
        found.join("\n")
    );
    // The comparison saw every kind of parameter the document has.
    let defined = document_wire(&pipeline.effective);
    let count = |f: fn(&Wire) -> usize| defined.values().map(f).sum::<usize>();
    assert_eq!(defined.len(), 35);
    assert!(count(|w| w.query.len()) > 60, "query parameters");
    assert_eq!(count(|w| w.headers.len()), 1, "X-Recaptcha-Token");
    assert_eq!(count(|w| w.cookies.len()), 3, "the oauth cookies");
    assert_eq!(
        count(|w| w.path.matches("{}").count()),
        9,
        "path parameters (three of them the API token of GET, PUT and DELETE)"
    );
}

/// Removes the query parameter `name` from an operation of the
/// normalizer's output, as a normalizer bug would.
fn remove_query_parameter(normalized: &mut Normalized, path: &str, verb: &str, name: &str) {
    let parameters = normalized.document["paths"][path][verb]["parameters"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("{verb} {path} has no parameters"));
    let before = parameters.len();
    parameters.retain(|p| p["name"] != name);
    assert_eq!(parameters.len() + 1, before, "{name} was there once");
    for op in &mut normalized.operations {
        if op.path == path && op.method.eq_ignore_ascii_case(verb) {
            for group in &mut op.query_groups {
                group.parameters.retain(|p| p != name);
            }
        }
    }
}

#[test]
fn a_query_parameter_removed_from_the_normalizers_output_is_caught() {
    let mut pipeline = pipeline();
    remove_query_parameter(
        &mut pipeline.normalized,
        "/v1/probe/file",
        "get",
        "ffprobe[show_streams]",
    );
    remove_query_parameter(
        &mut pipeline.normalized,
        "/frontend/api/v1/auth/sign-out",
        "delete",
        "logout-all",
    );
    let found = drift(&pipeline);
    assert_eq!(
        found,
        [
            "DELETE /frontend/api/v1/auth/sign-out: the document's query parameter `logout-all` is not sent",
            "GET /v1/probe/file: the document's query parameter `ffprobe[show_streams]` is not sent",
        ]
    );
}

#[test]
fn path_patterns_put_a_placeholder_for_each_parameter() {
    assert_eq!(path_pattern("/v1/probe/file"), "/v1/probe/file");
    assert_eq!(
        path_pattern("/frontend/api/v1/auth/{user-id}/password"),
        "/frontend/api/v1/auth/{}/password"
    );
    assert_eq!(path_pattern("/a/{x}/{y}"), "/a/{}/{}");
}

/// `mock::full_example_call`, which `conformance_prism.rs` calls every
/// operation with, names exactly the parameters of the effective document:
/// so a parameter lost by the generator is one the Prism suite passes to
/// `dynamic::call`, which refuses it.
#[test]
fn the_full_example_calls_name_every_parameter_of_the_document() {
    let pipeline = pipeline();
    let defined = document_wire(&pipeline.effective);
    for op in probe_api::spec::operations() {
        let wire = &defined[&(op.method.to_string(), op.path.to_string())];
        let call = probe_api::mock::full_example_call(op.rust_name).expect("example arguments");
        let path_parameters = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string);
        let expected: BTreeSet<String> = wire
            .query
            .iter()
            .chain(&wire.headers)
            .cloned()
            .chain(path_parameters)
            .collect();
        let named: BTreeSet<String> = call.params.keys().cloned().collect();
        assert_eq!(named, expected, "{}: parameters", op.rust_name);
        let cookies: BTreeSet<String> = call.cookies.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(cookies, wire.cookies, "{}: cookies", op.rust_name);
        assert_eq!(call.body.is_some(), wire.body, "{}: body", op.rust_name);
        // An array parameter has two items, so its explode shows on the wire.
        for (name, value) in &call.params {
            if let Some(items) = value.as_array() {
                assert_eq!(items.len(), 2, "{}: `{name}` = {value}", op.rust_name);
            }
        }
    }
    let get_log = probe_api::mock::full_example_call("get_log").expect("get_log");
    assert_eq!(
        get_log.params["status"],
        serde_json::json!(["success", "error"])
    );
    assert!(get_log.params.contains_key("sort[order]"));
}
