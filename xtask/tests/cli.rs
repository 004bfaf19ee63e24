//! The `xtask` binary: argument parsing, output and exit codes. Only
//! commands that read the workspace, or fail before writing, run here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const JUNE_TO_EFFECTIVE: &str = "\
15 change(s) for SDK users: 2 breaking, 13 compatible

GET /frontend/api/v1/auth/api-token (get_api_token_list)
  compatible  operation added
              new types: AuthApiToken, AuthGetApiTokenListResponse

POST /frontend/api/v1/auth/api-token (post_api_token)
  compatible  operation added
              new types: AuthPostApiTokenRequest, AuthPostApiTokenResponse, FormDataAuthPostApiTokenRequest

GET /frontend/api/v1/auth/api-token/{token} (get_api_token)
  compatible  operation added
              new types: AuthGetApiTokenResponse

PUT /frontend/api/v1/auth/api-token/{token} (put_api_token)
  compatible  operation added
              new types: AuthPutApiTokenRequest, AuthPutApiTokenResponse, FormDataAuthPutApiTokenRequest

DELETE /frontend/api/v1/auth/api-token/{token} (delete_api_token)
  compatible  operation added

POST /frontend/api/v1/auth/jwt (post_jwt_token)
  compatible  operation added
              new types: AuthPostJWTTokenRequest, AuthPostJWTTokenResponse, FormDataAuthPostJWTTokenRequest

GET /frontend/api/v1/auth/session/{session-id} (get_session)
  compatible  operation added
              new types: AuthGetSessionResponse

DELETE /frontend/api/v1/user/current (delete_current_user)
  compatible  operation added

GET /v1/probe/c2pa (get_c2pa)
  compatible  operation added
              new types: GatewayGetC2paResponse

POST /v1/probe/c2pa (post_c2pa)
  compatible  operation added
              new types: GatewayPostC2paRequest, GatewayPostC2paResponse

POST /v1/probe/file (post_file)
  breaking    request body: now also accepts application/json (GatewayPostFileRequest); the client now sends application/json instead of application/x-www-form-urlencoded, so `.body(..)` takes GatewayPostFileRequest instead of FormDataGatewayPostFileRequest
              new types: GatewayPostFileRequest

POST /v1/probe/mediastreamvalidator (post_media_stream_validator)
  breaking    request body: now also accepts application/json (GatewayPostMediaStreamValidatorRequest); the client now sends application/json instead of application/x-www-form-urlencoded, so `.body(..)` takes GatewayPostMediaStreamValidatorRequest instead of FormDataGatewayPostMediaStreamValidatorRequest
              new types: GatewayPostMediaStreamValidatorRequest

schema MediaGetLogEntryResponse
  compatible  property `c2pa-response`: added (string, optional)
  compatible  property `msv-response`: added (string, optional)
  compatible  property `type`: added (string, optional)
";

#[test]
fn diff_of_the_june_document_and_the_effective_one_lists_what_the_overlay_adds() {
    let out = xtask(&[
        "diff",
        "tests/fixtures/spec/probe-openapi-2025-06-24.json",
        ":effective",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), JUNE_TO_EFFECTIVE);
}

#[test]
fn diff_json_is_machine_readable() {
    let out = xtask(&[
        "diff",
        "--json",
        "tests/fixtures/spec/probe-openapi-2025-06-24.json",
        ":effective",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["breaking"], 2);
    assert_eq!(value["compatible"], 13);
    assert_eq!(value["changes"].as_array().map(Vec::len), Some(15));
    assert_eq!(value["changes"][0]["rust_method"], "get_api_token_list");
}

#[test]
fn diff_of_the_pinned_document_with_itself_is_empty() {
    let out = xtask(&["diff", ":pinned", "openapi.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "No changes for SDK users.\n");
}

#[test]
fn fetch_refuses_plain_http_in_one_line_and_exits_non_zero() {
    let before = std::fs::read(root().join("openapi.pin.json")).expect("pin");
    let out = xtask(&["fetch", "--url", "http://api.probedev.com/openapi.json"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: refusing http://api.probedev.com/openapi.json: plain http:// is allowed only for loopback hosts"), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("(nothing on disk changed)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(root().join("openapi.pin.json")).expect("pin"),
        before
    );
}

#[test]
fn fetch_flags_are_checked() {
    let out = xtask(&["fetch", "--url", "https://a.example/x", "--from", "x.json"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("give one of --url and --from"));
    let out = xtask(&[
        "fetch",
        "--document-date",
        "yesterday",
        "--dry-run",
        "--from",
        "Cargo.toml",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--document-date yesterday is not a date"));
}

#[test]
fn no_arguments_print_the_help() {
    let out = xtask(&[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in [
        "fetch [--url URL | --from FILE] [--dry-run]",
        "diff OLD NEW [--json]",
        "api [--check]",
        "spec effective [FILE]",
        "verify",
    ] {
        assert!(help.contains(command), "{command} is not in the help");
    }
}
