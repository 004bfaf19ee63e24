//! The built-in mock server through the public client: credentials, the
//! document's checks, account state, media fixtures and fault injection.

use std::time::Duration;

use probe_api::mock::{self, Fault, MediaFixture, MockServer};
use probe_api::{Client, ErrorKind, types};
use serde_json::Value;

async fn start() -> (MockServer, Client) {
    let mock = MockServer::start().await.expect("mock starts");
    let client = mock.client().expect("client");
    (mock, client)
}

/// A raw request to the mock, bypassing the client's checks.
async fn raw(
    mock: &MockServer,
    method: reqwest::Method,
    path_and_query: &str,
    body: Option<(&str, &str)>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path_and_query}", mock.url()));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some((content_type, text)) = body {
        request = request
            .header("content-type", content_type)
            .body(text.to_string());
    }
    let response = request.send().await.expect("the mock answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_operation_family_answers_401_without_credentials() {
    let (mock, _) = start().await;
    let anonymous = Client::builder()
        .base_url(mock.url())
        .build()
        .expect("client without credentials");
    let families: [(&str, &str); 6] = [
        ("GET", "/v1/probe/file?url=https://media.example/a.mp4"),
        (
            "GET",
            "/v1/probe/mediastreamvalidator?url=https://media.example/a.m3u8",
        ),
        ("GET", "/frontend/api/v1/auth/session"),
        ("GET", "/frontend/api/v1/user/current"),
        ("GET", "/frontend/api/v1/statistics/summary"),
        ("GET", "/frontend/api/v1/media/log"),
    ];
    for (method, path) in families {
        let (status, body) = raw(&mock, method.parse().expect("method"), path, None, None).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert!(
            body.get("error").and_then(Value::as_str).is_some(),
            "{body}"
        );
        let (status, _) = raw(
            &mock,
            method.parse().expect("method"),
            path,
            None,
            Some("wrong-key"),
        )
        .await;
        assert_eq!(status, 401, "{method} {path} with a wrong key");
    }
    let error = anonymous
        .get_sessions()
        .send()
        .await
        .expect_err("no credentials");
    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(
        error.api_message(),
        Some("no credentials: send the API key as `Authorization: Bearer <key>`")
    );
}

#[tokio::test]
async fn malformed_requests_get_400_naming_the_problem() {
    let (mock, _) = start().await;
    let cases = [
        ("/v1/probe/file", "query parameter `url` is required"),
        (
            "/v1/probe/file?url=https://media.example/a.mp4&ffprobe[show_streams]=maybe",
            "ffprobe",
        ),
        (
            "/v1/probe/file?url=https://media.example/a.mp4&ffprobe[show_everything]=true",
            "`ffprobe` has no property `show_everything`",
        ),
        (
            "/v1/probe/file?url=https://media.example/a.mp4&colour=blue",
            "query parameter `colour` is not defined",
        ),
    ];
    for (path, expected) in cases {
        let (status, body) =
            raw(&mock, reqwest::Method::GET, path, None, Some(mock::API_KEY)).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{path}: {message}");
    }
    let (status, body) = raw(
        &mock,
        reqwest::Method::POST,
        "/frontend/api/v1/auth/sign-in",
        Some(("text/plain", "email=user@example.com")),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("content type `text/plain` is not accepted"),
        "{body}"
    );
    let (status, body) = raw(
        &mock,
        reqwest::Method::POST,
        "/frontend/api/v1/auth/sign-in",
        Some(("application/json", r#"{"email": "a"}"#)),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("/email"),
        "names the field: {body}"
    );
}

#[tokio::test]
async fn sign_in_creates_a_session_that_the_session_operations_list_get_and_delete() {
    let (_mock, client) = start().await;
    let before = client.get_sessions().send().await.expect("sessions");
    let before = before.sessions.clone().unwrap_or_default().len();

    let (signed_in, response) = client
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("sign-in with the mock's user");
    assert_eq!(response.email.as_deref(), Some(mock::EMAIL));
    let sessions = signed_in
        .get_sessions()
        .send()
        .await
        .expect("sessions with the JWT")
        .into_inner()
        .sessions
        .unwrap_or_default();
    assert_eq!(sessions.len(), before + 1);
    let newest = sessions.last().expect("the new session");
    assert!(
        newest
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("probe-api/")),
        "{newest:?}"
    );
    let fetched = client
        .get_session()
        .session_id(newest.id)
        .send()
        .await
        .expect("get by id");
    assert_eq!(fetched.id, newest.id);

    client
        .delete_session()
        .session_id(newest.id)
        .send()
        .await
        .expect("delete");
    let gone = client
        .get_session()
        .session_id(newest.id)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    let after = signed_in
        .get_sessions()
        .send()
        .await
        .expect_err("the JWT's session is gone");
    assert!(after.is_unauthorized(), "{after}");

    let wrong = client
        .sign_in(mock::EMAIL, "not-the-password")
        .await
        .expect_err("wrong password");
    assert!(wrong.is_unauthorized(), "{wrong}");
}

#[tokio::test]
async fn profile_changes_are_kept_by_the_mock() {
    let (_mock, client) = start().await;
    client
        .put_current_user_profile()
        .body(
            types::UserPutCurrentUserProfileRequest::builder()
                .first_name(Some("Grace".to_string())),
        )
        .send()
        .await
        .expect("update");
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("current user");
    assert_eq!(user.first_name.as_deref(), Some("Grace"));
    assert_eq!(user.email.as_deref(), Some(mock::EMAIL));
}

#[tokio::test]
async fn media_probes_answer_with_the_fixture_for_the_url() {
    let (mock, client) = start().await;
    for (name, url) in MediaFixture::samples() {
        let report = client
            .get_file()
            .url(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .into_inner();
        let ffprobe = report.ffprobe.expect("ffprobe ran");
        assert_eq!(ffprobe.success, Some(true));
        let output = ffprobe
            .response
            .expect("output")
            .into_inner()
            .expect("typed");
        let format = output.format.as_ref().expect("format");
        assert_eq!(format.filename.as_deref(), Some(url), "{name}");
        let mediainfo = report
            .mediainfo
            .expect("mediainfo ran")
            .response
            .expect("output")
            .into_inner()
            .expect("typed");
        assert_eq!(mediainfo.media.reference.as_deref(), Some(url), "{name}");
    }

    let only = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .only(types::GetFileOnly::Ffprobe)
        .ffprobe_show_streams(false)
        .send()
        .await
        .expect("ffprobe only");
    assert!(only.mediainfo.is_none() && only.probe_report.is_none());
    let output = only
        .ffprobe
        .as_ref()
        .and_then(|t| t.response.as_ref())
        .expect("output")
        .get()
        .expect("typed");
    assert!(output.streams.is_none() && output.format.is_some());

    mock.add_media(
        "https://media.example/broken.mp4",
        MediaFixture::unreadable("moov atom not found"),
    );
    let broken = client
        .get_file()
        .url("https://media.example/broken.mp4")
        .send()
        .await
        .expect("answered");
    assert_eq!(broken.success, Some(false));
    let tool = broken.ffprobe.as_ref().expect("ffprobe");
    assert_eq!(tool.error.as_deref(), Some("moov atom not found"));

    let log = client.get_log().send().await.expect("log").into_inner();
    assert_eq!(
        log.log.as_ref().map(Vec::len),
        Some(MediaFixture::samples().count() + 2)
    );
}

#[tokio::test]
async fn queued_statuses_are_answered_in_order_then_normal_answers_resume() {
    let (mock, client) = start().await;
    mock.inject("get_sessions", [Fault::status(503), Fault::status(503)])
        .expect("known operation");
    client
        .get_sessions()
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(mock.requests_for("get_sessions"), 3);
    let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);

    mock.inject("get_sessions", [Fault::retry_after(429, "1")])
        .expect("known");
    let started = std::time::Instant::now();
    client.get_sessions().send().await.expect("after the wait");
    assert!(started.elapsed() >= Duration::from_secs(1));

    assert!(mock.inject("get_everything", [Fault::status(500)]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_capacity_and_a_spent_quota_answer_429_with_retry_after() {
    let (mock, client) = start().await;
    let client = client.with_retry(probe_api::RetryPolicy::none());
    let probe = |url: &'static str| {
        let client = client.clone();
        async move { client.get_file().url(url).send().await }
    };
    // No queue: of two probes at once on one worker, one is refused at once.
    mock.set_capacity(Some(mock::Capacity::refusing(
        1,
        Duration::from_millis(300),
    )));
    let (a, b) = tokio::join!(probe(mock::SAMPLE_URL), probe(mock::SAMPLE_URL));
    let refused = match (&a, &b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("one success and one refusal: {other:?}"),
    };
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));

    // A quota of two probes, then every probe refused for 300 ms.
    mock.set_capacity(Some(
        mock::Capacity::new(4, Duration::ZERO)
            .retry_after(2)
            .quota(2, Duration::from_millis(300)),
    ));
    probe(mock::SAMPLE_URL).await.expect("first of the quota");
    probe(mock::SAMPLE_URL).await.expect("second of the quota");
    for _ in 0..3 {
        let error = probe(mock::SAMPLE_URL).await.expect_err("quota spent");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    }
    // The window is the behaviour under test, so the test waits it out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    probe(mock::SAMPLE_URL).await.expect("the window is over");
    assert_eq!(
        mock.rejected(),
        4,
        "one for the capacity, three for the quota"
    );
}

#[tokio::test]
async fn malformed_bodies_html_pages_and_dropped_connections_become_typed_errors() {
    let (mock, client) = start().await;
    mock.inject("get_current_user", [Fault::MalformedBody])
        .expect("known");
    let error = client
        .get_current_user()
        .send()
        .await
        .expect_err("truncated");
    assert_eq!(error.kind(), ErrorKind::Decode);

    mock.inject("get_current_user", vec![Fault::Html(502); 3])
        .expect("known");
    let error = client
        .get_current_user()
        .send()
        .await
        .expect_err("proxy page");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.attempts(), 3);
    assert!(
        error
            .body_snippet()
            .is_some_and(|s| s.contains("502 Bad Gateway"))
    );

    mock.inject("get_current_user", [Fault::DropConnection])
        .expect("known");
    client
        .get_current_user()
        .send()
        .await
        .expect("a dropped connection is retried");

    mock.inject("get_current_user", [Fault::Delay(Duration::from_secs(30))])
        .expect("known");
    let impatient = client.with_timeout(Duration::from_millis(200));
    let error = impatient
        .get_current_user()
        .send()
        .await
        .expect_err("too slow");
    assert!(error.is_timeout(), "{error}");
}

#[test]
fn the_media_fixtures_validate_against_the_documents_schemas() {
    let layout = xtask::Layout::from_manifest_dir();
    let effective = layout.pipeline().expect("pipeline").effective;
    let components = effective["components"].clone();
    let tool_schema = serde_json::json!({
        "components": components,
        "$ref": "#/components/schemas/GatewayGetFileResponse"
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&tool_schema)
        .expect("schema compiles");
    for (name, _) in MediaFixture::samples() {
        for tool in ["ffprobe", "mediainfo"] {
            let path = tests::root().join(format!("probe-api/fixtures/media/{name}.{tool}.json"));
            let output: Value = serde_json::from_slice(&tests::read(&path)).expect("JSON");
            let wrapped = serde_json::json!({
                "success": true,
                tool: {"success": true, "error": null, "duration": 212, "usage": 1, "response": output},
                "metadata": {"request_id": "r", "queue_time": 0, "io_usage": 1}
            });
            let errors: Vec<String> = validator
                .iter_errors(&wrapped)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name} {tool}: {errors:?}");
        }
    }
}

/// Every operation of the document, called through the public client with
/// arguments made from the document, gets a decoded success answer. Calls
/// that name a session, user or log entry get a real one from the mock.
#[tokio::test]
async fn every_operation_of_the_document_succeeds_through_the_client() {
    let (mock, client) = start().await;
    // State the identifiers point at: a probe for the log, a second session.
    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probe");
    let (_, signed_in) = client
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("sign-in");
    let log = client.get_log().send().await.expect("log").into_inner();
    let log_id = log.log.unwrap_or_default()[0].id.to_string();
    let user_id = signed_in.user_id.expect("user id");

    // An API token for the operations that name one.
    let token = client
        .post_api_token()
        .body(probe_api::types::AuthPostApiTokenRequest::default())
        .send()
        .await
        .expect("a new API token")
        .into_inner()
        .token
        .expect("the token");

    // Deleting operations run last, one resource before all of them, and
    // deleting the user whose key the client holds after everything else.
    let mut operations: Vec<_> = probe_api::spec::operations().iter().collect();
    operations.sort_by_key(|op| {
        (
            op.method == "DELETE",
            !op.path.contains('{'),
            op.rust_name == "delete_current_user",
        )
    });
    assert!(operations.len() >= 35, "{} operations", operations.len());
    for op in operations {
        let example = mock::example_call(op.rust_name).expect("example arguments");
        let mut params = example.params;
        let mut body = example.body;
        for (name, value) in params.iter_mut() {
            match name.as_str() {
                "session-id" => {
                    let sessions = client.get_sessions().send().await.expect("sessions");
                    let id = sessions
                        .sessions
                        .as_ref()
                        .and_then(|s| s.last())
                        .map(|s| s.id);
                    *value = serde_json::json!(id.expect("a session").to_string());
                }
                "user-id" => *value = serde_json::json!(user_id),
                "log-request-id" => *value = serde_json::json!(log_id),
                "token" => *value = serde_json::json!(token.expose()),
                _ => {}
            }
        }
        if let Some(Value::Object(fields)) = body.as_mut() {
            for key in ["password", "old-password", "new-password"] {
                if let Some(slot) = fields.get_mut(key) {
                    *slot = serde_json::json!(mock::PASSWORD);
                }
            }
            if let Some(slot) = fields.get_mut("email") {
                *slot = serde_json::json!(mock::EMAIL);
            }
        }
        // The answer was decoded into the operation's generated type.
        probe_api::dynamic::call(&client, op.rust_name, &params, body.as_ref())
            .await
            .unwrap_or_else(|e| panic!("{} with {params:?} {body:?}: {e}", op.rust_name));
    }
    let failures: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.status >= 300)
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}
