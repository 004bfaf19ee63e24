//! Reading OpenAPI documents the way the tests need them, apart from the
//! pipeline under test.

use serde_json::Value;

/// The OpenAPI fragment a published reference page carries in its
/// ```` ```yaml ```` block, as JSON.
pub fn yaml_fragment_of_markdown(markdown: &str) -> Value {
    let start = markdown
        .find("````yaml")
        .unwrap_or_else(|| panic!("no ````yaml block"));
    let body = &markdown[start..];
    let body = &body[body.find('\n').map_or(0, |i| i + 1)..];
    let end = body.find("````").unwrap_or(body.len());
    serde_yaml_ng::from_str(&body[..end])
        .unwrap_or_else(|e| panic!("the fragment is not YAML: {e}"))
}

/// `(METHOD, path, operationId)` of every operation in a document, read
/// directly from the JSON rather than through the normalizer.
pub fn operations_of(document: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(paths) = document["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in xtask::codegen::normalize::METHODS {
            if let Some(op) = item.get(method) {
                out.push((
                    method.to_uppercase(),
                    path.clone(),
                    op["operationId"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}
