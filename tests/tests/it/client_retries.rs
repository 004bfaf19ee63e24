//! Retries on a loopback server: idempotent requests after 503 and broken
//! connections, POST only when asked, `Retry-After` waited for.

use std::time::{Duration, Instant, SystemTime};

use probe_api::{Client, RetryPolicy, types};
use tests::faults::{Fault, FaultServer};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "pk_live_7f3a9c2e41d8b6a0";
const SESSION: &str = "0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11";

fn session_path() -> String {
    format!("/frontend/api/v1/auth/session/{SESSION}")
}

fn session_body() -> serde_json::Value {
    serde_json::json!({"id": SESSION, "user-agent": "curl/8.5.0"})
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

fn client_for(url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(url)
        .api_key(KEY)
        .retry(retry)
        .build()
        .expect("client")
}

/// A server answering `verb route` with `first` for the first `times`
/// requests and 200 with `body` afterwards.
async fn failing_then_ok(
    verb: &str,
    route: &str,
    first: ResponseTemplate,
    times: u64,
    body: serde_json::Value,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording").len()
}

async fn get_session(client: &Client) -> Result<types::AuthGetSessionResponse, probe_api::Error> {
    client
        .get_session()
        .session_id(uuid::Uuid::parse_str(SESSION).expect("uuid"))
        .send()
        .await
        .map(probe_api::Response::into_inner)
}

#[tokio::test]
async fn a_get_answered_503_then_200_is_retried_and_succeeds() {
    let server = failing_then_ok(
        "GET",
        &session_path(),
        ResponseTemplate::new(503),
        1,
        session_body(),
    )
    .await;
    let session = get_session(&client_for(&server.uri(), quick_retries()))
        .await
        .expect("the retry succeeds");
    assert_eq!(session.id.to_string(), SESSION);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn each_retryable_status_is_retried_and_others_are_not() {
    for (status, retried) in [
        (408, true),
        (429, true),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (501, false),
    ] {
        let server = failing_then_ok(
            "GET",
            &session_path(),
            ResponseTemplate::new(status),
            1,
            session_body(),
        )
        .await;
        let result = get_session(&client_for(&server.uri(), quick_retries())).await;
        assert_eq!(result.is_ok(), retried, "status {status}");
        assert_eq!(
            requests(&server).await,
            if retried { 2 } else { 1 },
            "status {status}"
        );
    }
}

#[tokio::test]
async fn retries_stop_at_the_maximum_and_the_error_counts_the_attempts() {
    for retries in [0, 1, 4] {
        let server = failing_then_ok(
            "GET",
            &session_path(),
            ResponseTemplate::new(503),
            100,
            session_body(),
        )
        .await;
        let error = get_session(&client_for(
            &server.uri(),
            quick_retries().with_max_retries(retries),
        ))
        .await
        .expect_err("always 503");
        assert_eq!(error.attempts(), retries + 1);
        assert_eq!(requests(&server).await, (retries + 1) as usize);
    }
}

#[tokio::test]
async fn a_post_is_not_retried_unless_the_caller_opts_in() {
    let probe =
        || types::PostFileRequest::builder().url(Some("https://media.example/a.mp4".to_string()));
    let server = failing_then_ok(
        "POST",
        "/v1/probe/file",
        ResponseTemplate::new(503),
        1,
        serde_json::json!({"success": true}),
    )
    .await;
    let client = client_for(&server.uri(), quick_retries());
    let error = client
        .post_file()
        .body(probe())
        .send()
        .await
        .expect_err("a POST answered 503 is not sent again");
    assert_eq!(error.attempts(), 1);
    assert_eq!(requests(&server).await, 1);

    let server = failing_then_ok(
        "POST",
        "/v1/probe/file",
        ResponseTemplate::new(503),
        1,
        serde_json::json!({"success": true}),
    )
    .await;
    let opted_in = client_for(&server.uri(), quick_retries())
        .with_retry(quick_retries().with_retry_non_idempotent(true));
    opted_in
        .post_file()
        .body(probe())
        .send()
        .await
        .expect("the opted-in POST is retried and succeeds");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_for() {
    let server = failing_then_ok(
        "GET",
        &session_path(),
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        1,
        session_body(),
    )
    .await;
    // Backoff alone would wait at most 5 ms.
    let started = Instant::now();
    get_session(&client_for(&server.uri(), quick_retries()))
        .await
        .expect("succeeds after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_for() {
    // HTTP dates have whole seconds: two seconds ahead is at least one.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let server = failing_then_ok(
        "GET",
        &session_path(),
        ResponseTemplate::new(503).insert_header("retry-after", date.as_str()),
        1,
        session_body(),
    )
    .await;
    let started = Instant::now();
    get_session(&client_for(&server.uri(), quick_retries()))
        .await
        .expect("succeeds after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_retries_and_is_reported() {
    let server = failing_then_ok(
        "GET",
        &session_path(),
        ResponseTemplate::new(429).insert_header("retry-after", "3600"),
        1,
        session_body(),
    )
    .await;
    let error = get_session(&client_for(&server.uri(), quick_retries()))
        .await
        .expect_err("not waiting an hour");
    assert!(error.is_rate_limited() && error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(error.attempts(), 1);
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_or_mid_body_is_retried() {
    let body = session_body().to_string().into_bytes();
    let server = FaultServer::start(vec![
        Fault::Close,
        Fault::CutBody {
            declared: body.len(),
            sent: body[..body.len() / 2].to_vec(),
        },
        Fault::json(200, &session_body()),
    ]);
    let session = get_session(&client_for(server.url(), quick_retries()))
        .await
        .expect("the third attempt succeeds");
    assert_eq!(session.id.to_string(), SESSION);
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn at_info_a_retry_is_one_event_that_names_its_call_and_requests_make_no_span() {
    let (logs, _guard) = tests::CapturedLogs::install_at(tracing::Level::INFO);
    let server = failing_then_ok(
        "GET",
        &session_path(),
        ResponseTemplate::new(503),
        1,
        session_body(),
    )
    .await;
    let client = client_for(&server.uri(), quick_retries());
    let session: uuid::Uuid = SESSION.parse().expect("uuid");
    let response = client
        .get_session()
        .session_id(session)
        .send()
        .await
        .expect("retried to a 200");
    assert_eq!(response.attempts(), 2);
    let traced = logs.text();
    let retries: Vec<&str> = traced.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 1, "{traced}");
    for field in [
        "operation=\"get_session\"",
        "method=GET",
        &format!("path={}", session_path()),
        "attempt=1",
    ] {
        assert!(retries[0].contains(field), "{field} not in {}", retries[0]);
    }
    // The per-request span is DEBUG: an application at INFO pays nothing
    // for it and sees only the retry.
    assert!(!traced.contains("probe_api.request"), "{traced}");
    assert!(!traced.contains("DEBUG"), "{traced}");
}
