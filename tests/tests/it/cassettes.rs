//! Record once, replay everywhere: a client records its exchanges with the
//! mock into a cassette, a replaying mock with its handlers off answers the
//! same calls from it, and no credential ever reaches the file. And a mock
//! a test can aim: faults per media URL, a 404 for unknown media, request
//! ids on every answer.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use probe_api::batch::ProbeMany;
use probe_api::cassette::Cassette;
use probe_api::mock::{
    self, CassetteMode, Fault, MediaFixture, MockServer, Playback, UnknownMedia,
};
use probe_api::types::{
    AuthPostApiTokenRequest, AuthPostJwtTokenRequest, UserPermissionName as Permission,
};
use probe_api::{AuthScheme, Client, ClientBuilder, RetryPolicy};
use serde_json::Value;

/// A folder of its own for each test's cassettes, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir =
            std::env::temp_dir().join(format!("probe-api-cassettes-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary folder");
        Folder(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fails when any of `secrets` occurs anywhere in any file of `folder`, as
/// written or percent-encoded.
fn assert_no_secret_in(folder: &Folder, secrets: &[String]) {
    let mut scanned = 0;
    for entry in std::fs::read_dir(&folder.0).expect("the folder") {
        let path = entry.expect("an entry").path();
        let bytes = std::fs::read(&path).expect("a cassette");
        scanned += 1;
        for secret in secrets {
            assert!(
                secret.len() >= 8,
                "a secret too short to scan for: {secret:?}"
            );
            let encoded = percent_encode(secret);
            for form in [secret.as_bytes(), encoded.as_bytes()] {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == form),
                    "{} holds a credential",
                    path.display()
                );
            }
        }
    }
    assert!(scanned > 0, "no cassette was written");
}

/// `text` percent-encoded as a path segment or query value would carry it.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(20))
}

/// What a test sees of one call: the value (its `Debug`, which shows every
/// field and hides credentials), status, request id and attempts; or the
/// error's kind, status, message, request id and attempts.
#[derive(Debug, PartialEq)]
enum Seen {
    Value {
        value: String,
        status: u16,
        request_id: Option<String>,
        attempts: u32,
    },
    Error {
        display: String,
        kind: String,
        status: Option<u16>,
        api_message: Option<String>,
        request_id: Option<String>,
        attempts: u32,
    },
}

fn seen<T: std::fmt::Debug>(result: &Result<probe_api::Response<T>, probe_api::Error>) -> Seen {
    match result {
        Ok(response) => Seen::Value {
            value: format!("{:?}", &**response),
            status: response.status().as_u16(),
            request_id: response.request_id().map(str::to_string),
            attempts: response.attempts(),
        },
        Err(error) => Seen::Error {
            display: error.to_string(),
            kind: format!("{:?}", error.kind()),
            status: error.status().map(|s| s.as_u16()),
            api_message: error.api_message().map(str::to_string),
            request_id: error.request_id().map(str::to_string),
            attempts: error.attempts(),
        },
    }
}

/// The calls of the session that is recorded, then replayed: a probe
/// retried after a 503, a retry after a dropped connection, an error
/// status, an error after every retry, a token created and used as the
/// credential and in a path, a sign-in and a JWT. Returns what the test
/// sees, and the credentials the calls were handed.
async fn session(client: &Client) -> (Vec<Seen>, Vec<String>) {
    let mut seen_calls = Vec::new();
    let mut secrets = Vec::new();

    let probe = client.get_file().url(mock::SAMPLE_URL).send().await;
    seen_calls.push(seen(&probe));
    let user = client.get_current_user().send().await;
    seen_calls.push(seen(&user));
    let missing = client
        .get_session()
        .session_id(uuid::Uuid::from_u128(7))
        .send()
        .await;
    seen_calls.push(seen(&missing));
    let sessions = client.get_sessions().send().await;
    seen_calls.push(seen(&sessions));

    let created = client
        .post_api_token()
        .body(AuthPostApiTokenRequest {
            permissions: vec![Permission::ReadMedia, Permission::ReadUser],
            ttl: 3600,
        })
        .send()
        .await;
    seen_calls.push(seen(&created));
    let token = created
        .expect("a token")
        .into_inner()
        .token
        .expect("the token's value");
    secrets.push(token.expose().to_string());
    let with_token = client
        .with_api_key(token.clone(), AuthScheme::ApiKeyHeader)
        .expect("the token is a key");
    let read = with_token
        .get_api_token()
        .token(token.expose())
        .send()
        .await;
    seen_calls.push(seen(&read));
    // The token as a query parameter, where the recorder must find it too.
    let in_query = client
        .with_api_key(token.clone(), AuthScheme::ApiKeyQuery)
        .expect("the token is a key")
        .get_current_user()
        .send()
        .await;
    seen_calls.push(seen(&in_query));

    let (signed_in, answer) = client
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("signed in");
    if let Some(jwt) = answer.jwt_token.as_ref().and_then(|t| t.token.as_ref()) {
        secrets.push(jwt.expose().to_string());
    }
    seen_calls.push(Seen::Value {
        value: format!("{answer:?}"),
        status: 200,
        request_id: None,
        attempts: 1,
    });
    let jwt = signed_in
        .post_jwt_token()
        .body(AuthPostJwtTokenRequest::default())
        .send()
        .await;
    seen_calls.push(seen(&jwt));
    if let Ok(jwt) = &jwt
        && let Some(token) = &jwt.token
    {
        secrets.push(token.expose().to_string());
    }
    (seen_calls, secrets)
}

/// Queues the faults the recorded session meets on the mock.
fn queue_faults(mock: &MockServer) {
    mock.inject("get_file", [Fault::retry_after(503, "0")])
        .expect("get_file");
    mock.inject("get_current_user", [Fault::DropConnection])
        .expect("get_current_user");
    mock.inject("get_sessions", vec![Fault::status(500); 3])
        .expect("get_sessions");
}

#[tokio::test]
async fn a_recorded_session_replays_with_equal_values_attempts_and_errors() {
    let folder = Folder::new("session");
    let path = folder.path("session.json");

    let live = MockServer::start().await.expect("mock");
    queue_faults(&live);
    let recording = Cassette::create(&path);
    let recorder = live
        .client_builder()
        .retry(fast_retries())
        .record(recording.clone())
        .build()
        .expect("recording client");
    let (recorded, mut secrets) = session(&recorder).await;
    recording.finish().expect("the cassette is written");

    // The faults were met: a retry after the 503 and after the dropped
    // connection, and an error after every retry.
    let attempts: Vec<u32> = recorded
        .iter()
        .map(|s| match s {
            Seen::Value { attempts, .. } | Seen::Error { attempts, .. } => *attempts,
        })
        .collect();
    assert_eq!(&attempts[..4], &[2, 2, 1, 3], "{recorded:#?}");
    assert!(matches!(
        &recorded[2],
        Seen::Error {
            status: Some(404),
            ..
        }
    ));
    assert!(matches!(
        &recorded[3],
        Seen::Error {
            status: Some(500),
            ..
        }
    ));

    let cassette = Cassette::load(&path).expect("the cassette reads back");
    let interactions = &cassette.interactions;
    // Every attempt is an interaction: 2 + 2 + 1 + 3 + 1 + 1 + 1 + 1 + 1.
    assert_eq!(interactions.len(), 13, "{:#?}", interactions);
    assert_eq!(interactions[0].response.status, 503);
    assert_eq!(
        interactions[0]
            .response
            .headers
            .get("retry-after")
            .map(String::as_str),
        Some("0")
    );
    assert!(
        interactions[2].response.failure.is_some(),
        "the dropped connection"
    );

    secrets.extend([mock::API_KEY.to_string(), mock::PASSWORD.to_string()]);
    assert_no_secret_in(&folder, &secrets);

    // Replayed by a mock whose handlers are off: no fault is queued there,
    // yet the retries and errors come back as they were recorded.
    let replaying = MockServer::replay(cassette).await.expect("replay");
    let replayer = replaying
        .client_builder()
        .retry(fast_retries())
        .build()
        .expect("replaying client");
    let (replayed, _) = session(&replayer).await;
    assert_eq!(replayed, recorded);
    replaying
        .verify()
        .expect("strict: every interaction replayed");
    assert_eq!(replaying.requests().len(), 13);
}

#[tokio::test]
async fn the_tokens_a_cassette_hides_are_placeholders_that_tie_the_calls_together() {
    let folder = Folder::new("placeholders");
    let path = folder.path("tokens.json");
    let live = MockServer::start().await.expect("mock");
    let recording = Cassette::create(&path);
    let client = live
        .client_builder()
        .record(recording.clone())
        .build()
        .expect("client");
    let token = client
        .post_api_token()
        .body(AuthPostApiTokenRequest::default())
        .send()
        .await
        .expect("created")
        .into_inner()
        .token
        .expect("a token");
    client
        .get_api_token()
        .token(token.expose())
        .send()
        .await
        .expect("read back");
    recording.finish().expect("written");

    // Diff-friendly: pretty JSON, keys in a fixed order, one entry an
    // interaction, and a version to read it by.
    let text = std::fs::read_to_string(&path).expect("the file");
    assert!(
        text.starts_with(
            "{\n  \"format\": \"probe-api-cassette\",\n  \"version\": 1,\n  \"document\": "
        ),
        "{text}"
    );
    assert!(text.contains("\n    {\n      \"operation\": \"post_api_token\",\n      \"request\": {\n        \"method\": \"POST\","), "{text}");
    let cassette = Cassette::load(&path).expect("loads");
    assert_eq!(
        Cassette::from_json(&cassette.to_json()),
        Ok(cassette.clone())
    );
    let created = &cassette.interactions[0];
    assert_eq!(
        created.response.body.as_ref().expect("a body")["token"],
        "REDACTED_TOKEN_1"
    );
    let read = &cassette.interactions[1];
    assert!(
        read.request.path.ends_with("/REDACTED_TOKEN_1"),
        "{}",
        read.request.path
    );
    assert_no_secret_in(&folder, &[token.expose().to_string(), mock::API_KEY.into()]);
}

#[tokio::test]
async fn an_unmatched_request_is_answered_with_the_closest_recording_and_what_differs() {
    let folder = Folder::new("unmatched");
    let path = folder.path("probe.json");
    let live = MockServer::start().await.expect("mock");
    let recording = Cassette::create(&path);
    let client = live
        .client_builder()
        .record(recording.clone())
        .build()
        .expect("client");
    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .only("ffprobe")
        .send()
        .await
        .expect("probed");
    recording.finish().expect("written");

    let replaying = MockServer::replay(Cassette::load(&path).expect("loads"))
        .await
        .expect("replay");
    let client = replaying.client().expect("client");
    let error = client
        .get_file()
        .url("https://media.example/other.mp4")
        .only("ffprobe")
        .send()
        .await
        .expect_err("not recorded");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(501));
    assert_eq!(error.attempts(), 1, "not retried");
    let message = error.api_message().expect("a message");
    assert!(
        message.contains("closest, interaction 0 (get_file"),
        "{message}"
    );
    assert!(
        message.contains("query `url`: recorded [\"https://media.example/fixtures/h264_aac.mp4\"], sent [\"https://media.example/other.mp4\"]"),
        "{message}"
    );
    assert!(
        !message.contains("`only`"),
        "only the difference: {message}"
    );

    // Strict replay fails while the interaction is unused.
    let unused = replaying.verify().expect_err("interaction 0 unused");
    assert!(
        unused.to_string().contains("interaction 0 (get_file GET"),
        "{unused}"
    );

    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .only("ffprobe")
        .send()
        .await
        .expect("the recorded request is answered");
    replaying.verify().expect("now every interaction was used");
    let again = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .only("ffprobe")
        .send()
        .await
        .expect_err("replayed once only");
    assert!(
        again
            .api_message()
            .is_some_and(|m| m.contains("which was already replayed")),
        "{again}"
    );
}

#[tokio::test]
async fn query_parameter_order_is_not_part_of_the_match() {
    let folder = Folder::new("order");
    let path = folder.path("order.json");
    let live = MockServer::start().await.expect("mock");
    let recording = Cassette::create(&path);
    let client = live
        .client_builder()
        .record(recording.clone())
        .build()
        .expect("client");
    let recorded = client
        .request(probe_api::Method::GET, "/v1/probe/file")
        .query(&[("only", "ffprobe"), ("url", mock::SAMPLE_URL)])
        .send()
        .await
        .expect("answered");
    recording.finish().expect("written");

    let replaying = MockServer::replay(Cassette::load(&path).expect("loads"))
        .await
        .expect("replay");
    let replayed = replaying
        .client()
        .expect("client")
        .request(probe_api::Method::GET, "/v1/probe/file")
        .query(&[("url", mock::SAMPLE_URL), ("only", "ffprobe")])
        .send()
        .await
        .expect("matched in the other order");
    assert_eq!(*replayed, *recorded);
    replaying.verify().expect("used");
}

/// The pinned document with the overlay, as the client was generated from.
fn effective_document() -> Value {
    let root = tests::root();
    let document = std::fs::read(root.join("probe-api/spec/openapi.json")).expect("document");
    let overlay = std::fs::read(root.join("probe-api/spec/overlay.json")).expect("overlay");
    xtask::codegen::run(&document, Some(&overlay))
        .expect("the pipeline runs")
        .effective
}

/// The node `$ref`s lead to from `node`.
fn follow<'a>(document: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        node = document
            .pointer(target.trim_start_matches('#'))
            .expect("the reference resolves");
    }
    node
}

#[tokio::test]
async fn a_cassette_checked_against_a_changed_document_names_the_answer_and_path() {
    let folder = Folder::new("stale");
    let path = folder.path("stale.json");
    let live = MockServer::start().await.expect("mock");
    let recording = Cassette::create(&path);
    let client = live
        .client_builder()
        .record(recording.clone())
        .build()
        .expect("client");
    client.get_sessions().send().await.expect("sessions");
    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probed");
    recording.finish().expect("written");
    let cassette = Cassette::load(&path).expect("loads");

    // Against the document the client was generated from: nothing stale.
    assert_eq!(mock::stale_answers(&cassette).expect("checked"), vec![]);
    let document = effective_document();
    assert_eq!(
        mock::stale_answers_against(&cassette, &document).expect("checked"),
        vec![]
    );

    // A newer document in which the probe's `success` is a string.
    let spec = probe_api::spec::operation("get_file").expect("get_file");
    let operation = format!(
        "/paths/{}/get",
        spec.path.replace('~', "~0").replace('/', "~1")
    );
    let response = follow(
        &document,
        document
            .pointer(&format!("{operation}/responses/200"))
            .expect("a 200 response"),
    );
    let schema = follow(
        &document,
        &response["content"]["application/json"]["schema"],
    );
    let target = match response["content"]["application/json"]["schema"]
        .get("$ref")
        .and_then(Value::as_str)
    {
        Some(reference) => format!("{}/properties/success", &reference[1..]),
        None => {
            format!("{operation}/responses/200/content/application~1json/schema/properties/success")
        }
    };
    assert!(schema["properties"].get("success").is_some(), "{schema}");
    let mut changed = document.clone();
    *changed.pointer_mut(&target).expect("the property") = serde_json::json!({"type": "string"});

    let stale = mock::stale_answers_against(&cassette, &changed).expect("checked");
    assert_eq!(stale.len(), 1, "{stale:#?}");
    assert_eq!(stale[0].interaction, 1);
    assert_eq!(stale[0].operation, "get_file");
    assert_eq!(stale[0].status, 200);
    assert_eq!(stale[0].path, "/success");
    assert!(
        stale[0]
            .to_string()
            .contains("interaction 1 (get_file 200) at /success")
    );
}

#[tokio::test]
async fn playback_records_a_missing_cassette_then_replays_it() {
    let folder = Folder::new("playback");
    let path = folder.path("auto.json");
    let live = MockServer::start().await.expect("mock");
    // Stands for the real API and the user's builder (`with_env()`).
    let builder = || -> ClientBuilder { live.client_builder().retry(fast_retries()) };
    live.inject("get_file", [Fault::status(503)])
        .expect("get_file");

    let first = Playback::start(CassetteMode::Auto, &path, builder())
        .await
        .expect("records");
    assert!(first.is_recording());
    let recorded = first
        .client()
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probed");
    first.finish().expect("written");
    let requests = live.requests().len();

    let second = Playback::start(CassetteMode::Auto, &path, builder())
        .await
        .expect("replays");
    assert!(!second.is_recording());
    let replayed = second
        .client()
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("replayed");
    assert_eq!(
        live.requests().len(),
        requests,
        "the live mock was not called"
    );
    assert_eq!(format!("{:?}", *replayed), format!("{:?}", *recorded));
    assert_eq!((replayed.attempts(), recorded.attempts()), (2, 2));
    second.finish().expect("strict replay passes");

    assert_eq!(
        CassetteMode::parse("RECORD").expect("a mode"),
        CassetteMode::Record
    );
    assert!(CassetteMode::parse("tape").is_err());
    let missing = Playback::start(CassetteMode::Replay, folder.path("none.json"), builder())
        .await
        .expect_err("no cassette to replay");
    assert!(
        missing.to_string().contains("PROBE_CASSETTE=record"),
        "{missing}"
    );
}

/// Probes 20 URLs; returns the URLs that failed and their statuses.
async fn batch_failures(client: &Client, concurrency: usize) -> Vec<(String, Option<u16>)> {
    let urls: Vec<String> = (0..20)
        .map(|i| format!("https://media.example/aimed/{i:02}.mp4"))
        .collect();
    let results: Vec<_> = client
        .probe_many(urls, ProbeMany::new().concurrency(concurrency))
        .collect()
        .await;
    assert_eq!(results.len(), 20);
    results
        .into_iter()
        .filter_map(|r| {
            let status = r.result.err()?.status().map(|s| s.as_u16());
            Some((r.url, status))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_url_of_a_batch_fails_by_its_fault_whatever_the_concurrency_and_retries() {
    let failing = "https://media.example/aimed/13.mp4".to_string();
    for (concurrency, retry) in [
        (1, RetryPolicy::none()),
        (8, fast_retries()),
        (20, fast_retries().with_max_retries(5)),
    ] {
        let mock = MockServer::start().await.expect("mock");
        mock.add_media(failing.clone(), MediaFixture::failing(Fault::status(503)));
        let client = mock.client().expect("client").with_retry(retry);
        let failed = batch_failures(&client, concurrency).await;
        assert_eq!(
            failed,
            vec![(failing.clone(), Some(503))],
            "concurrency {concurrency}, {retry:?}"
        );
    }
    // Queued for one URL: that URL's next requests, whichever come first.
    let mock = MockServer::start().await.expect("mock");
    mock.inject_for_url(&failing, vec![Fault::status(503); 3]);
    let client = mock.client().expect("client").with_retry(fast_retries());
    let failed = batch_failures(&client, 20).await;
    assert_eq!(failed, vec![(failing.clone(), Some(503))]);
    let again = batch_failures(&client, 20).await;
    assert_eq!(again, vec![], "the queue is spent");
}

#[tokio::test]
async fn an_unknown_media_url_gets_the_apis_404_when_asked() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let typo = "https://media.example/fixtures/h264_acc.mp4";
    client
        .get_file()
        .url(typo)
        .send()
        .await
        .expect("by default any URL holds the sample");
    mock.set_unknown_media(UnknownMedia::NotFound);
    let error = client
        .get_file()
        .url(typo)
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert!(
        error.api_message().is_some_and(|m| m.contains(typo)),
        "{error}"
    );
    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("a known URL still answers");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_fault_answers_included() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock
        .client()
        .expect("client")
        .with_retry(RetryPolicy::none());
    mock.inject("get_sessions", [Fault::status(503)])
        .expect("op");
    let fault = client.get_sessions().send().await.expect_err("the fault");
    let fault_id = fault
        .request_id()
        .expect("a request id on the fault answer");
    mock.inject("get_current_user", [Fault::Html(502)])
        .expect("op");
    let html = client
        .get_current_user()
        .send()
        .await
        .expect_err("the page");
    let html_id = html.request_id().expect("a request id on the HTML page");
    let user = client.get_current_user().send().await.expect("user");
    let user_id = user.request_id().expect("a request id on a success");
    let ids = [fault_id, html_id, user_id];
    assert!(
        ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()),
        "{ids:?}"
    );
    assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");
    let probe = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probe");
    let body_id = probe.metadata.as_ref().and_then(|m| m.request_id.clone());
    assert_eq!(
        probe.request_id(),
        body_id.as_deref(),
        "the header is the body's id"
    );
}
