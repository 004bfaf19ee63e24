//! `cargo xtask diff`: the June document against the effective one lists
//! exactly what the overlay adds.

use serde_json::Value;
use tests::{fixture, read, root};
use xtask::diff::{Impact, Kind, diff};

/// A change as the test compares it: kind, impact, subject, detail, notes.
type Found<'a> = (Kind, Impact, &'a str, Option<&'a str>, Vec<&'a str>);

fn june() -> Value {
    serde_json::from_slice(&read(&fixture("spec/probe-openapi-2025-06-24.json"))).expect("JSON")
}

fn effective() -> Value {
    xtask::Layout::at(&root())
        .effective()
        .expect("effective document")
}

#[test]
fn the_overlay_adds_three_operations_and_two_request_bodies_and_nothing_else() {
    let result = diff(&june(), &effective()).expect("diff");
    let found: Vec<Found<'_>> = result
        .changes
        .iter()
        .map(|c| {
            (
                c.kind,
                c.impact,
                c.subject.as_str(),
                c.rust_method.as_deref(),
                c.new_types.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Kind::OperationAdded,
                Impact::Compatible,
                "GET /frontend/api/v1/auth/session/{session-id}",
                Some("get_session"),
                vec!["AuthGetSessionResponse"],
            ),
            (
                Kind::OperationAdded,
                Impact::Compatible,
                "GET /v1/probe/c2pa",
                Some("get_c2pa"),
                vec!["GatewayGetC2paResponse"],
            ),
            (
                Kind::OperationAdded,
                Impact::Compatible,
                "POST /v1/probe/c2pa",
                Some("post_c2pa"),
                vec!["GatewayPostC2paRequest", "GatewayPostC2paResponse"],
            ),
            // The client sends the JSON body when there is one, so the type
            // `.body(..)` takes changes: breaking for existing callers.
            (
                Kind::RequestMediaTypeAdded,
                Impact::Breaking,
                "POST /v1/probe/file",
                Some("post_file"),
                vec!["GatewayPostFileRequest"],
            ),
            (
                Kind::RequestMediaTypeAdded,
                Impact::Breaking,
                "POST /v1/probe/mediastreamvalidator",
                Some("post_media_stream_validator"),
                vec!["GatewayPostMediaStreamValidatorRequest"],
            ),
        ]
    );
    let text = result.render_text();
    assert!(
        text.starts_with("5 change(s) for SDK users: 2 breaking, 3 compatible\n"),
        "{text}"
    );
    assert!(
        text.contains("the client now sends application/json instead of application/x-www-form-urlencoded, so `.body(..)` takes GatewayPostFileRequest instead of FormDataGatewayPostFileRequest"),
        "{text}"
    );
    let json = result.to_json();
    assert_eq!(
        (json["breaking"].as_u64(), json["compatible"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(json["changes"][0]["kind"], "operation-added");
    assert_eq!(json["changes"][3]["impact"], "breaking");
}

#[test]
fn the_reverse_diff_removes_what_the_overlay_adds() {
    let result = diff(&effective(), &june()).expect("diff");
    assert_eq!(result.changes.len(), 5, "{}", result.render_text());
    assert!(
        result.changes.iter().all(|c| c.impact == Impact::Breaking),
        "{}",
        result.render_text()
    );
    let removed: Vec<&str> = result
        .changes
        .iter()
        .flat_map(|c| c.removed_types.iter().map(String::as_str))
        .collect();
    assert_eq!(removed.len(), 6, "{removed:?}");
}

#[test]
fn a_document_against_itself_has_no_changes() {
    let result = diff(&effective(), &effective()).expect("diff");
    assert!(result.is_empty());
    assert_eq!(result.render_text(), "No changes for SDK users.\n");
}
