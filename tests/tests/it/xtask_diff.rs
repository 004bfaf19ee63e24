//! `cargo xtask diff`: the June document against the effective one lists
//! exactly what the overlay adds: ten operations (the API tokens, JWTs and
//! account deletion of the 2025-07-30 reference among them), two request
//! bodies and three fields of a media log entry.

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
fn the_overlay_adds_ten_operations_two_request_bodies_and_three_log_fields() {
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
    let added = |subject, method, types| {
        (
            Kind::OperationAdded,
            Impact::Compatible,
            subject,
            Some(method),
            types,
        )
    };
    let log_field = (
        Kind::PropertyAdded,
        Impact::Compatible,
        "schema MediaGetLogEntryResponse",
        None,
        vec![],
    );
    assert_eq!(
        found,
        vec![
            added(
                "GET /frontend/api/v1/auth/api-token",
                "get_api_token_list",
                vec!["AuthApiToken", "AuthGetApiTokenListResponse"],
            ),
            added(
                "POST /frontend/api/v1/auth/api-token",
                "post_api_token",
                vec![
                    "AuthPostApiTokenRequest",
                    "AuthPostApiTokenResponse",
                    "FormDataAuthPostApiTokenRequest",
                ],
            ),
            added(
                "GET /frontend/api/v1/auth/api-token/{token}",
                "get_api_token",
                vec!["AuthGetApiTokenResponse"],
            ),
            added(
                "PUT /frontend/api/v1/auth/api-token/{token}",
                "put_api_token",
                vec![
                    "AuthPutApiTokenRequest",
                    "AuthPutApiTokenResponse",
                    "FormDataAuthPutApiTokenRequest",
                ],
            ),
            added(
                "DELETE /frontend/api/v1/auth/api-token/{token}",
                "delete_api_token",
                vec![],
            ),
            added(
                "POST /frontend/api/v1/auth/jwt",
                "post_jwt_token",
                vec![
                    "AuthPostJWTTokenRequest",
                    "AuthPostJWTTokenResponse",
                    "FormDataAuthPostJWTTokenRequest",
                ],
            ),
            added(
                "GET /frontend/api/v1/auth/session/{session-id}",
                "get_session",
                vec!["AuthGetSessionResponse"],
            ),
            added(
                "DELETE /frontend/api/v1/user/current",
                "delete_current_user",
                vec![],
            ),
            added(
                "GET /v1/probe/c2pa",
                "get_c2pa",
                vec!["GatewayGetC2paResponse"]
            ),
            added(
                "POST /v1/probe/c2pa",
                "post_c2pa",
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
            log_field.clone(),
            log_field.clone(),
            log_field,
        ]
    );
    let text = result.render_text();
    assert!(
        text.starts_with("15 change(s) for SDK users: 2 breaking, 13 compatible\n"),
        "{text}"
    );
    assert!(
        text.contains("the client now sends application/json instead of application/x-www-form-urlencoded, so `.body(..)` takes GatewayPostFileRequest instead of FormDataGatewayPostFileRequest"),
        "{text}"
    );
    for field in ["c2pa-response", "msv-response", "type"] {
        assert!(
            text.contains(&format!("property `{field}`: added (string, optional)")),
            "{text}"
        );
    }
    let json = result.to_json();
    assert_eq!(
        (json["breaking"].as_u64(), json["compatible"].as_u64()),
        (Some(2), Some(13))
    );
    assert_eq!(json["changes"][0]["kind"], "operation-added");
    assert_eq!(json["changes"][10]["impact"], "breaking");
}

#[test]
fn the_reverse_diff_removes_what_the_overlay_adds() {
    let result = diff(&effective(), &june()).expect("diff");
    assert_eq!(result.changes.len(), 15, "{}", result.render_text());
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
    assert_eq!(removed.len(), 18, "{removed:?}");
}

#[test]
fn a_document_against_itself_has_no_changes() {
    let result = diff(&effective(), &effective()).expect("diff");
    assert!(result.is_empty());
    assert_eq!(result.render_text(), "No changes for SDK users.\n");
}
