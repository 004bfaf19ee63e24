//! The one error type against real responses from loopback servers: the
//! API's error body, a 404, a proxy's HTML page, truncated JSON, a refused
//! connection, a timeout; and no secret in anything printable.

use std::error::Error as _;
use std::time::Duration;

use probe_api::{AuthScheme, Client, ErrorKind, RetryPolicy};
use tests::CapturedLogs;
use tests::faults::{Fault, FaultServer, refused_url};
use tests::loopback::answering;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "pk_live_7f3a9c2e41d8b6a0";
const SESSION: &str = "0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11";

fn session_id() -> uuid::Uuid {
    uuid::Uuid::parse_str(SESSION).expect("uuid")
}

fn client_for(url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(url)
        .api_key(KEY)
        .retry(retry)
        .build()
        .expect("client")
}

/// A policy that retries at once, so tests do not wait for backoff.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

async fn get_session_error(client: &Client) -> probe_api::Error {
    client
        .get_session()
        .session_id(session_id())
        .send()
        .await
        .expect_err("the call must fail")
}

#[tokio::test]
async fn a_401_with_the_api_error_body_is_unauthorized_with_its_message_and_request_id() {
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(401)
            .insert_header("x-request-id", "req-5b2e")
            .set_body_json(serde_json::json!({
                "code": 40101,
                "error": "token is expired",
                "status": "Unauthorized",
                "context": {"scheme": "bearer"}
            })),
    )
    .await;
    let error = get_session_error(&client_for(&server.uri(), quick_retries())).await;

    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert!(error.is_unauthorized());
    assert!(!error.is_retryable() && !error.is_rate_limited() && !error.is_timeout());
    let api = error.api_error().expect("the API's error body");
    assert_eq!(api.code, Some(40101));
    assert_eq!(api.error.as_deref(), Some("token is expired"));
    assert_eq!(api.status.as_deref(), Some("Unauthorized"));
    assert_eq!(
        api.context.as_ref().and_then(|c| c.get("scheme")),
        Some(&serde_json::json!("bearer"))
    );
    assert_eq!(error.request_id(), Some("req-5b2e"));
    assert_eq!(error.attempts(), 1, "401 is not retried");
    assert_eq!(
        error.to_string(),
        format!(
            "get_session (GET /frontend/api/v1/auth/session/{SESSION}): 401 Unauthorized: token is expired (code 40101) (request id req-5b2e)"
        )
    );
}

#[tokio::test]
async fn a_404_carries_the_rest_error_body() {
    let server = answering(
        "GET",
        "/frontend/api/v1/media/log/6a1c0f7e-3d2b-4f5a-9e8d-7c6b5a4f3e2d",
        ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "code": 404,
            "error": "log request not found",
            "status": "Not Found"
        })),
    )
    .await;
    let error = client_for(&server.uri(), quick_retries())
        .get_log_entry()
        .log_request_id("6a1c0f7e-3d2b-4f5a-9e8d-7c6b5a4f3e2d")
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.api_message(), Some("log request not found"));
    assert!(!error.is_retryable() && !error.is_unauthorized());
    assert_eq!(error.request_id(), None);
    assert_eq!(
        error.body().and_then(|b| b.get("status")),
        Some(&serde_json::json!("Not Found"))
    );
    assert_eq!(
        error.to_string(),
        "get_log_entry (GET /frontend/api/v1/media/log/6a1c0f7e-3d2b-4f5a-9e8d-7c6b5a4f3e2d): 404 Not Found: log request not found (code 404)"
    );
}

#[tokio::test]
async fn a_500_html_page_from_a_proxy_is_a_retryable_status_error_with_a_snippet() {
    let page = format!(
        "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>{}</body>\n</html>\n",
        "x".repeat(2000)
    );
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(500).set_body_raw(page, "text/html"),
    )
    .await;
    let error = get_session_error(&client_for(&server.uri(), quick_retries())).await;

    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert!(error.is_retryable());
    assert!(error.api_error().is_none() && error.body().is_none());
    let snippet = error.body_snippet().expect("snippet of the page");
    assert!(snippet.starts_with("<html>"), "{snippet}");
    assert!(
        snippet.len() <= probe_api::error::BODY_SNIPPET_LIMIT + 3,
        "bounded"
    );
    assert_eq!(error.attempts(), 3, "a GET is retried twice by default");
    let line = error.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(
        line.starts_with(&format!(
            "get_session (GET /frontend/api/v1/auth/session/{SESSION}): 500 Internal Server Error: text/html body: <html> <head><title>500"
        )),
        "{line}"
    );
    assert!(line.ends_with("after 3 attempts"), "{line}");
}

#[tokio::test]
async fn a_200_with_truncated_json_is_a_decode_error_naming_the_path() {
    let body = br#"{"id":"0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11","user-agent":"curl/8"#;
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_bytes(body.to_vec()),
    )
    .await;
    let error = get_session_error(&client_for(&server.uri(), quick_retries())).await;

    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.decode_path(), Some("user-agent"));
    assert!(!error.is_retryable());
    assert_eq!(
        error.body_snippet(),
        Some(std::str::from_utf8(body).expect("utf-8"))
    );
    let line = error.to_string();
    assert!(
        line.starts_with(&format!(
            "get_session (GET /frontend/api/v1/auth/session/{SESSION}): 200 OK: body is not a valid AuthGetSessionResponse at `user-agent`: EOF while parsing"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn a_wrong_type_deep_inside_names_its_json_path_and_other_bodies_are_clear() {
    let cases: [(&[u8], &str, Option<&str>); 3] = [
        (
            br#"{"id":"0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11","created":42}"#,
            "application/json",
            Some("created"),
        ),
        (b"", "application/json", None),
        (b"null", "application/json", None),
    ];
    for (body, content_type, path) in cases {
        let server = answering(
            "GET",
            &format!("/frontend/api/v1/auth/session/{SESSION}"),
            ResponseTemplate::new(200)
                .insert_header("content-type", content_type)
                .set_body_bytes(body.to_vec()),
        )
        .await;
        let error = get_session_error(&client_for(&server.uri(), quick_retries())).await;
        assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
        if let Some(path) = path {
            assert_eq!(error.decode_path(), Some(path), "{error}");
        }
        if body.is_empty() {
            assert!(error.to_string().contains("the body is empty"), "{error}");
        }
    }
}

#[tokio::test]
async fn a_parameter_outside_its_format_is_refused_before_sending() {
    let server = MockServer::start().await;
    let error = client_for(&server.uri(), quick_retries())
        .get_log_entry()
        .log_request_id("not-a-uuid")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert_eq!(error.operation(), Some("get_log_entry"));
    assert_eq!(error.attempts(), 0);
    assert!(
        error
            .to_string()
            .starts_with("get_log_entry: invalid request: "),
        "{error}"
    );
    assert_eq!(requests_received(&server).await, 0, "nothing was sent");
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording").len()
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_connect() {
    let url = refused_url();
    let error = get_session_error(&client_for(&url, quick_retries())).await;
    assert_eq!(error.kind(), ErrorKind::Connect);
    assert!(error.is_retryable());
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.status(), None);
    assert!(
        error.source().is_some(),
        "the transport error is the source"
    );
    // `Display` is this error's own line; what refused the connection is
    // the source's to say.
    let line = error.to_string();
    assert_eq!(
        line,
        format!(
            "get_session (GET /frontend/api/v1/auth/session/{SESSION}): could not connect after 3 attempts"
        ),
    );
    let causes = tests::causes(&error);
    assert!(
        causes.contains("Connection refused") || causes.contains("connect"),
        "{causes}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_once_and_is_not_retried() {
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = Client::builder()
        .base_url(server.url())
        .api_key(KEY)
        .timeout(Duration::from_millis(300))
        .retry(quick_retries())
        .build()
        .expect("client");
    let error = get_session_error(&client).await;
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.is_timeout() && !error.is_retryable());
    assert_eq!(error.attempts(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn the_client_keeps_working_after_a_failure() {
    let server = FaultServer::start(vec![
        Fault::Respond {
            status: 500,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html>down</html>".to_vec(),
        },
        Fault::json(
            200,
            &serde_json::json!({"id": SESSION, "user-agent": "curl/8.5.0"}),
        ),
    ]);
    let client = client_for(server.url(), RetryPolicy::none());
    let error = get_session_error(&client).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    let session = client
        .get_session()
        .session_id(session_id())
        .send()
        .await
        .expect("the next call succeeds");
    assert_eq!(session.id, session_id());
}

#[tokio::test]
async fn the_token_appears_in_no_error_text_debug_or_captured_tracing() {
    let (logs, _guard) = CapturedLogs::install();
    let mut printed = Vec::new();

    // The key travels in the URL (`token=`) and the server echoes it back.
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": format!("token {KEY} is not valid"),
            "code": 401
        })),
    )
    .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .auth_scheme(AuthScheme::ApiKeyQuery)
        .retry(quick_retries())
        .build()
        .expect("client");
    let error = get_session_error(&client).await;
    assert!(error.is_unauthorized());
    let received = server.received_requests().await.expect("recording");
    assert!(
        received[0].url.query().is_some_and(|q| q.contains(KEY)),
        "the key was sent"
    );
    printed.push(error.to_string());
    printed.push(format!("{error:?}"));
    printed.push(format!("{client:?}"));

    // A transport failure with the key in the URL, and its source chain.
    let refused = Client::builder()
        .base_url(refused_url())
        .api_key(KEY)
        .auth_scheme(AuthScheme::ApiKeyQuery)
        .retry(quick_retries())
        .build()
        .expect("client");
    let error = get_session_error(&refused).await;
    printed.push(error.to_string());
    printed.push(format!("{error:?}"));
    let mut source = error.source();
    while let Some(cause) = source {
        printed.push(cause.to_string());
        printed.push(format!("{cause:?}"));
        source = cause.source();
    }

    let traced = logs.text();
    assert!(
        traced.contains("probe_api.request"),
        "spans were recorded: {traced}"
    );
    assert!(traced.contains("retrying"), "retries were traced: {traced}");
    printed.push(traced);
    for text in printed {
        assert!(!text.contains(KEY), "the key leaked into: {text}");
    }
}

#[tokio::test]
async fn spans_record_operation_method_path_status_attempts_and_duration() {
    let (logs, _guard) = CapturedLogs::install();
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(503),
    )
    .await;
    let error = get_session_error(&client_for(&server.uri(), quick_retries())).await;
    assert_eq!(error.attempts(), 3);
    let traced = logs.text();
    for field in [
        "operation=\"get_session\"".to_string(),
        "method=GET".to_string(),
        format!("path=/frontend/api/v1/auth/session/{SESSION}"),
        "status=503".to_string(),
        "attempt=3".to_string(),
        "duration_ms=".to_string(),
    ] {
        assert!(traced.contains(&field), "{field} missing from: {traced}");
    }
}
