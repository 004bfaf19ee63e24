//! Faults from the network and the server, each with its exact outcome:
//! the error kind, the attempts made, a total time bounded by the
//! configured timeouts, no panic, and a client that works for the next call.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use probe_api::{Client, ErrorKind, RetryPolicy};
use tests::faults::{Fault, FaultServer, refused_url};

const TIMEOUT: Duration = Duration::from_millis(500);
const STALL: Duration = Duration::from_millis(250);
const USER: &str = r#"{"id": 7, "email": "user@example.com"}"#;

fn ok() -> Fault {
    respond(200, "application/json", USER.as_bytes())
}

fn respond(status: u16, content_type: &str, body: &[u8]) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.to_vec(),
    }
}

/// A client whose caller set a timeout: it bounds each attempt whole, and
/// a body that stalls is caught first, by a stall timeout of half of it.
fn client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("key")
        .timeout(TIMEOUT)
        .stall_timeout(STALL)
        .retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client")
}

/// What a fault must lead to.
struct Expect {
    kind: Option<ErrorKind>,
    attempts: u32,
    decode_path: Option<&'static str>,
}

fn fails(kind: ErrorKind, attempts: u32) -> Expect {
    Expect {
        kind: Some(kind),
        attempts,
        decode_path: None,
    }
}

fn decode_error(path: &'static str) -> Expect {
    Expect {
        kind: Some(ErrorKind::Decode),
        attempts: 1,
        decode_path: Some(path),
    }
}

fn succeeds() -> Expect {
    Expect {
        kind: None,
        attempts: 0,
        decode_path: None,
    }
}

/// A client whose caller set no timeout, so that a `Retry-After` longer
/// than [`TIMEOUT`] is waited out (under the caller's timeout it ends the
/// call with the answer that asked for it).
fn unbounded_client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("key")
        .stall_timeout(STALL)
        .retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client")
}

/// Runs `fault` as many times as the call attempts it, then checks the
/// outcome, the time taken, and that the next call on the same client
/// succeeds.
async fn case(name: &str, faults: Vec<Fault>, expect: Expect, least: Duration) {
    case_on(client, name, faults, expect, least).await;
}

/// [`case`] on the client `make` makes for the server's URL.
async fn case_on(
    make: fn(&str) -> Client,
    name: &str,
    faults: Vec<Fault>,
    expect: Expect,
    least: Duration,
) {
    let mut script = faults;
    script.push(ok());
    let server = FaultServer::start(script);
    let client = make(server.url());
    let started = Instant::now();
    let result = client.get_current_user().send().await;
    let elapsed = started.elapsed();
    // Every attempt may take the whole timeout; the backoff adds at most
    // 20 ms per retry; one second of slack for a loaded machine.
    let bound = TIMEOUT * expect.attempts.max(1) + least + Duration::from_secs(1);
    assert!(
        elapsed >= least,
        "{name}: returned after {elapsed:?}, before {least:?}"
    );
    assert!(
        elapsed <= bound,
        "{name}: took {elapsed:?}, more than {bound:?}"
    );
    match (result, expect.kind) {
        (Ok(user), None) => assert_eq!(user.id, 7, "{name}"),
        (Ok(_), Some(kind)) => panic!("{name}: succeeded, expected {kind:?}"),
        (Err(error), None) => panic!("{name}: failed: {error}"),
        (Err(error), Some(kind)) => {
            assert_eq!(error.kind(), kind, "{name}: {error}");
            assert_eq!(error.attempts(), expect.attempts, "{name}: {error}");
            if let Some(path) = expect.decode_path {
                assert_eq!(error.decode_path(), Some(path), "{name}: {error}");
            }
            let line = error.to_string();
            assert!(!line.contains('\n') && line.len() < 600, "{name}: {line}");
        }
    }
    let next = client.get_current_user().send().await;
    assert!(next.is_ok(), "{name}: the next call failed: {next:?}");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let client = client(&refused_url());
    let started = Instant::now();
    let error = client.get_current_user().send().await.expect_err("refused");
    assert_eq!((error.kind(), error.attempts()), (ErrorKind::Connect, 3));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn resets_before_and_during_the_body_are_retried() {
    let cut = USER.as_bytes()[..10].to_vec();
    case(
        "reset before the answer",
        vec![Fault::Reset; 3],
        fails(ErrorKind::Transport, 3),
        Duration::ZERO,
    )
    .await;
    case(
        "reset during the body",
        vec![
            Fault::ResetMidBody {
                declared: USER.len(),
                sent: cut.clone()
            };
            3
        ],
        fails(ErrorKind::Transport, 3),
        Duration::ZERO,
    )
    .await;
    case(
        "one reset, then an answer",
        vec![Fault::Reset],
        succeeds(),
        Duration::ZERO,
    )
    .await;
}

#[tokio::test]
async fn headers_that_never_come_time_out_once_and_a_body_that_stalls_is_retried() {
    case(
        "headers never come",
        vec![Fault::Stall],
        fails(ErrorKind::Timeout, 1),
        TIMEOUT,
    )
    .await;
    // The status line came, so the server is done analysing: a stalled
    // body is retried like a broken connection, each attempt cut by the
    // stall timeout, while a retry could still stall and end within the
    // stall budget (three stall timeouts): here, once.
    let stall = Fault::StallBody {
        declared: USER.len(),
        sent: USER.as_bytes()[..5].to_vec(),
    };
    case(
        "the body stalls every time",
        vec![stall.clone(); 3],
        fails(ErrorKind::Timeout, 2),
        STALL * 2,
    )
    .await;
    case("the body stalls once", vec![stall], succeeds(), STALL).await;
}

#[tokio::test]
async fn a_stalled_body_is_caught_within_the_stall_timeout_and_a_get_is_retried() {
    let stall = Duration::from_secs(1);
    let server = FaultServer::start(vec![
        Fault::StallBody {
            declared: USER.len(),
            sent: USER.as_bytes()[..5].to_vec(),
        },
        ok(),
    ]);
    // A request timeout far longer than the stall: the stall timer, not
    // the request timeout, ends the attempt once the status line is in.
    let client = Client::builder()
        .base_url(server.url())
        .api_key("key")
        .timeout(Duration::from_secs(120))
        .stall_timeout(stall)
        .retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .expect("client");
    let started = Instant::now();
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("the retry answers");
    let elapsed = started.elapsed();
    assert_eq!(user.id, 7);
    assert!(elapsed >= stall, "{elapsed:?}");
    assert!(elapsed < stall + Duration::from_millis(700), "{elapsed:?}");
    assert_eq!(server.connections(), 2, "one stalled attempt, one retry");

    // Without a retry the error says what happened.
    let server = FaultServer::start(vec![Fault::StallBody {
        declared: USER.len(),
        sent: USER.as_bytes()[..5].to_vec(),
    }]);
    let error = Client::builder()
        .base_url(server.url())
        .api_key("key")
        .stall_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
        .get_current_user()
        .send()
        .await
        .expect_err("stalls");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.is_timeout());
    assert!(
        error
            .to_string()
            .contains("the response body stalled: no bytes for 0.3 s after 5 of"),
        "{error}"
    );
}

#[tokio::test]
async fn a_body_that_trickles_past_the_stall_timeout_completes() {
    // Eight pieces 250 ms apart: 1.75 s in all, more than the stall timeout
    // and the stall budget, but never 700 ms without a byte; the caller set
    // no timeout, which would bound the attempt whole.
    let server = FaultServer::start(vec![Fault::Trickle {
        body: USER.as_bytes().to_vec(),
        chunk: USER.len().div_ceil(8),
        every: Duration::from_millis(250),
    }]);
    let client = Client::builder()
        .base_url(server.url())
        .api_key("key")
        .stall_timeout(Duration::from_millis(700))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let started = Instant::now();
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("slow but moving");
    assert_eq!(user.id, 7);
    assert!(
        started.elapsed() >= Duration::from_millis(1750),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn rate_limits_and_unavailability_are_waited_out() {
    let seconds = Fault::Respond {
        status: 429,
        headers: vec![("retry-after".into(), "1".into())],
        body: Vec::new(),
    };
    case_on(
        unbounded_client,
        "429 with Retry-After: 1",
        vec![seconds],
        succeeds(),
        Duration::from_secs(1),
    )
    .await;
    // An HTTP date holds whole seconds, and `now + 2 s` cut to its second
    // can be barely one second away once the server has started. The first
    // whole second at least 1.25 s away asks for a wait of 1.25 s to 2.25 s,
    // whatever the fraction of the clock.
    let soon = (SystemTime::now() + Duration::from_millis(1250))
        .duration_since(UNIX_EPOCH)
        .expect("the clock is past 1970");
    let whole = soon.as_secs() + u64::from(soon.subsec_nanos() > 0);
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(whole));
    let dated = Fault::Respond {
        status: 429,
        headers: vec![("retry-after".into(), date)],
        body: Vec::new(),
    };
    case_on(
        unbounded_client,
        "429 with an HTTP date",
        vec![dated],
        succeeds(),
        Duration::from_secs(1),
    )
    .await;
    case_on(
        unbounded_client,
        "503 then 200",
        vec![respond(503, "text/plain", b"busy")],
        succeeds(),
        Duration::ZERO,
    )
    .await;
}

#[tokio::test]
async fn bad_answers_are_typed_errors() {
    let html = b"<html><body><h1>500 Internal Server Error</h1></body></html>";
    case(
        "500 with an HTML page",
        vec![respond(500, "text/html", html); 3],
        fails(ErrorKind::Status, 3),
        Duration::ZERO,
    )
    .await;
    case(
        "200 with an empty body",
        vec![respond(200, "application/json", b"")],
        decode_error("."),
        Duration::ZERO,
    )
    .await;
    // Cut inside a key: serde_path_to_error names the unknown key `?`.
    case(
        "200 with truncated JSON",
        vec![respond(200, "application/json", br#"{"id": 7, "ema"#)],
        decode_error("?"),
        Duration::ZERO,
    )
    .await;
    case(
        "200 cut inside a value",
        vec![respond(
            200,
            "application/json",
            br#"{"id": 7, "email": "a@"#,
        )],
        decode_error("email"),
        Duration::ZERO,
    )
    .await;
    case(
        "200 with JSON null",
        vec![respond(200, "application/json", b"null")],
        decode_error("."),
        Duration::ZERO,
    )
    .await;
    case(
        "200 without the required id",
        vec![respond(200, "application/json", br#"{"email": "a@b.c"}"#)],
        decode_error("."),
        Duration::ZERO,
    )
    .await;
    case(
        "200 with a string for a number",
        vec![respond(200, "application/json", br#"{"id": "seven"}"#)],
        decode_error("id"),
        Duration::ZERO,
    )
    .await;
    case(
        "200 with an HTML page",
        vec![respond(200, "text/html", html)],
        decode_error("."),
        Duration::ZERO,
    )
    .await;
    // A wrong content type on a body that is the document's JSON: the body
    // decides, not the label (servers mislabel JSON often).
    case(
        "200 JSON labelled text/plain",
        vec![respond(200, "text/plain", USER.as_bytes())],
        succeeds(),
        Duration::ZERO,
    )
    .await;
}

#[tokio::test]
async fn ten_megabytes_of_garbage_is_a_decode_error_with_a_bounded_snippet() {
    // Deterministic bytes: a linear congruential sequence.
    let mut state: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..10 * 1024 * 1024)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    let server = FaultServer::start(vec![
        respond(200, "application/octet-stream", &garbage),
        ok(),
    ]);
    let client = client(server.url());
    let error = client.get_current_user().send().await.expect_err("garbage");
    assert_eq!(error.kind(), ErrorKind::Decode);
    let snippet = error.body_snippet().expect("snippet");
    assert!(
        snippet.len() <= probe_api::error::BODY_SNIPPET_LIMIT + 3,
        "{}",
        snippet.len()
    );
    assert!(
        error
            .to_string()
            .contains("content type application/octet-stream"),
        "{error}"
    );
    client
        .get_current_user()
        .send()
        .await
        .expect("the next call works");
}
