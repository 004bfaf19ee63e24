//! The time the caller allowed is never exceeded: a timeout the caller set
//! bounds each attempt whole (status line and body), media probes ask the
//! server only for what fits in it, stalled bodies end within the stall
//! budget, retries included, and a body that keeps moving is never cut.
//!
//! Times are scaled down from the defaults they stand for (a 3 s timeout
//! is 300 ms here, the 10 s stall grace 200 ms) so the suite stays short;
//! the rules are the same at every scale.

use std::time::{Duration, Instant};

use probe_api::{Client, ErrorKind, RetryPolicy};
use tests::faults::{Fault, FaultServer};

const TIMEOUT: Duration = Duration::from_millis(300);
const MAX_BACKOFF: Duration = Duration::from_millis(20);

fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(MAX_BACKOFF)
}

/// A client whose caller set only the timeout (and a short back-off): the
/// stall timeout stays the default, so only the caller's bound can end a
/// stalled or slow body in time.
fn bounded(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("key")
        .timeout(TIMEOUT)
        .retry(retry())
        .build()
        .expect("client")
}

fn head_then_stall() -> Fault {
    Fault::StallBody {
        declared: 4096,
        sent: b"{\"id\": 7, ".to_vec(),
    }
}

fn trickle(pieces: usize, every: Duration) -> Fault {
    let body = format!(
        "{{\"id\": 7, \"email\": \"{}\"}}",
        "x".repeat(pieces.saturating_sub(24))
    );
    Fault::Trickle {
        body: body.into_bytes(),
        chunk: 1,
        every,
    }
}

/// Every scenario of the fault server, each repeated for every attempt.
fn scenarios() -> Vec<(&'static str, Fault)> {
    vec![
        ("never answers", Fault::Stall),
        ("stalls after the status line", head_then_stall()),
        (
            "trickles past the timeout",
            trickle(60, Duration::from_millis(50)),
        ),
        ("closes", Fault::Close),
        ("resets", Fault::Reset),
        (
            "resets mid-body",
            Fault::ResetMidBody {
                declared: 100,
                sent: b"{\"id\"".to_vec(),
            },
        ),
        (
            "cuts the body",
            Fault::CutBody {
                declared: 100,
                sent: b"{\"id\"".to_vec(),
            },
        ),
        (
            "unavailable",
            Fault::Respond {
                status: 503,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"error": "busy"}"#.to_vec(),
            },
        ),
        (
            "asks to wait longer than the timeout",
            Fault::Respond {
                status: 429,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("retry-after".into(), "30".into()),
                ],
                body: br#"{"error": "slow down"}"#.to_vec(),
            },
        ),
        (
            "not found",
            Fault::Respond {
                status: 404,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"error": "no"}"#.to_vec(),
            },
        ),
    ]
}

async fn call(client: &Client, operation: &str) -> Result<u32, probe_api::Error> {
    match operation {
        "get_session" => client
            .get_session()
            .session_id(uuid::Uuid::nil())
            .send()
            .await
            .map(|r| r.attempts()),
        "get_file" => client
            .get_file()
            .url("https://media.example/a.mp4")
            .send()
            .await
            .map(|r| r.attempts()),
        "get_current_user" => client.get_current_user().send().await.map(|r| r.attempts()),
        other => panic!("no scenario for {other}"),
    }
}

const OPERATIONS: [&str; 3] = ["get_session", "get_file", "get_current_user"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timeout_the_caller_set_bounds_every_attempt_of_every_scenario() {
    let mut cases = Vec::new();
    for operation in OPERATIONS {
        for (name, fault) in scenarios() {
            cases.push(tokio::spawn(async move {
                let server = FaultServer::start(vec![fault]);
                let client = bounded(server.url());
                let started = Instant::now();
                let result = call(&client, operation).await;
                let elapsed = started.elapsed();
                (operation, name, result, elapsed, server.connections())
            }));
        }
    }
    for case in cases {
        let (operation, name, result, elapsed, connections) = case.await.expect("no panic");
        let attempts = match &result {
            Ok(attempts) => *attempts,
            Err(error) => error.attempts(),
        };
        assert!(
            (1..=3).contains(&attempts),
            "{operation}, {name}: {attempts} attempts"
        );
        assert!(connections >= 1, "{operation}, {name}: nothing was sent");
        // Each attempt may take the whole timeout, each retry its back-off;
        // two seconds of slack for a loaded machine (thirty cases run at once).
        let bound = (TIMEOUT + MAX_BACKOFF) * attempts + Duration::from_secs(2);
        assert!(
            elapsed <= bound,
            "{operation}, {name}: took {elapsed:?} over {attempts} attempts, more than {bound:?}"
        );
        if name.contains("stall") || name.contains("never") || name.contains("trickles") {
            let error = result.expect_err(name);
            assert_eq!(
                error.kind(),
                ErrorKind::Timeout,
                "{operation}, {name}: {error}"
            );
        }
    }
}

/// The figure the rule was asked for, unscaled: a client built with
/// `.timeout(3 s)` and the default retries ends a file probe within 3 s an
/// attempt plus back-off, at most 12 s, where a server that never answers
/// held it 140 s and a stalled body 90 s. (A probe with no status line is
/// not retried, since the server may still be analysing it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_second_timeout_ends_a_file_probe_within_twelve_seconds() {
    let scenarios = [
        ("never answers", Fault::Stall),
        ("stalls after the status line", head_then_stall()),
        (
            "trickles past the timeout",
            trickle(60, Duration::from_millis(200)),
        ),
    ];
    let mut cases = Vec::new();
    for (name, fault) in scenarios {
        cases.push(tokio::spawn(async move {
            let server = FaultServer::start(vec![fault]);
            let client = Client::builder()
                .base_url(server.url())
                .api_key("key")
                .timeout(Duration::from_secs(3))
                .build()
                .expect("client");
            let started = Instant::now();
            let result = call(&client, "get_file").await;
            (name, result, started.elapsed())
        }));
    }
    for case in cases {
        let (name, result, elapsed) = case.await.expect("no panic");
        let error = result.expect_err(name);
        assert_eq!(error.kind(), ErrorKind::Timeout, "{name}: {error}");
        assert!((1..=3).contains(&error.attempts()), "{name}: {error}");
        assert!(
            elapsed <= Duration::from_secs(12),
            "{name}: took {elapsed:?} over {} attempts",
            error.attempts()
        );
    }
}

#[tokio::test]
async fn a_file_probe_under_a_timeout_asks_the_server_only_for_what_fits() {
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = bounded(server.url());
    let error = call(&client, "get_file").await.expect_err("never answers");
    assert!(error.is_timeout(), "{error}");
    let line = &server.request_lines()[0];
    let asked = query_ms(line, "timeout") + query_ms(line, "queue_timeout");
    assert!(
        asked > 0 && asked < TIMEOUT.as_millis() as u64,
        "asked the server for {asked} ms within a {TIMEOUT:?} timeout: {line}"
    );
}

/// The milliseconds of the query parameter `key` in a request `line`.
fn query_ms(line: &str, key: &str) -> u64 {
    let query = line.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_whitespace().next().unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// The `key=value` of `field` in the request span's closing line.
fn span_field(logs: &str, field: &str) -> Option<u64> {
    let line = logs.lines().find(|l| l.contains("probe_api.request"))?;
    let start = line.find(&format!(" {field}="))? + field.len() + 2;
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[tokio::test]
async fn the_request_span_shows_the_timeout_and_analysis_actually_sent() {
    let (logs, _guard) = tests::CapturedLogs::install();
    let server = FaultServer::start(vec![Fault::Stall]);
    let deadline = Duration::from_millis(2000);
    let client = bounded(server.url()).with_deadline(deadline);
    call(&client, "get_file").await.expect_err("never answers");
    let line = &server.request_lines()[0];
    let sent = |key: &str| query_ms(line, key);
    let text = logs.text();
    // The attempt's time is the caller's 300 ms (shorter than the deadline),
    // and the span says what the query carried, not the 140 s a file probe
    // without a limit would wait.
    assert_eq!(span_field(&text, "timeout_ms"), Some(300), "{text}");
    assert_eq!(
        span_field(&text, "analysis_timeout_ms"),
        Some(sent("timeout")),
        "{text}"
    );
    assert_eq!(
        span_field(&text, "queue_timeout_ms"),
        Some(sent("queue_timeout")),
        "{text}"
    );
    let left = span_field(&text, "deadline_left_ms").expect("the deadline's time left");
    assert!(left <= 2000 && left > 1000, "{text}");
}

#[tokio::test]
async fn analysis_the_caller_set_beyond_the_timeout_is_refused_before_sending() {
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = bounded(server.url());
    let error = client
        .get_file()
        .url("https://media.example/a.mp4")
        .timeout(65_000)
        .queue_timeout(60_000)
        .send()
        .await
        .expect_err("cannot fit");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{error}");
    assert!(
        error.to_string().contains("the client's timeout allows"),
        "{error}"
    );
    assert_eq!(server.connections(), 0, "nothing was sent");
}

#[tokio::test]
async fn without_a_caller_timeout_a_file_probe_still_waits_for_its_analysis() {
    let client = Client::builder().api_key("key").build().expect("client");
    assert!(!client.timeout_is_bound());
    assert!(client.with_timeout(TIMEOUT).timeout_is_bound());
    let from_env = Client::builder()
        .api_key("key")
        .with_env_vars([("PROBE_TIMEOUT_SECS", "3")])
        .build()
        .expect("client");
    assert!(
        from_env.timeout_is_bound(),
        "the environment is the caller's too"
    );
}

#[test]
fn the_default_stall_grace_and_budget_are_short() {
    assert!(probe_api::DEFAULT_STALL_TIMEOUT <= Duration::from_secs(10));
    assert!(
        probe_api::DEFAULT_STALL_TIMEOUT * probe_api::STALL_BUDGET_PERIODS
            <= Duration::from_secs(30)
    );
}

#[tokio::test]
async fn stalled_bodies_end_the_call_within_the_stall_budget_retries_included() {
    let stall = Duration::from_millis(200);
    let server = FaultServer::start(vec![head_then_stall()]);
    let client = Client::builder()
        .base_url(server.url())
        .api_key("key")
        .stall_timeout(stall)
        .retry(retry())
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client
        .get_sessions()
        .send()
        .await
        .expect_err("every body stalls");
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.to_string().contains("stalled"), "{error}");
    // Retried once (the first stall leaves room for another), not twice: a
    // third stall would end past three grace periods.
    assert_eq!(error.attempts(), 2, "{error}");
    let budget = stall * probe_api::STALL_BUDGET_PERIODS + Duration::from_millis(300);
    assert!(elapsed <= budget, "took {elapsed:?}, more than {budget:?}");
}

#[tokio::test]
async fn a_body_that_keeps_moving_is_never_cut_without_a_caller_timeout() {
    // A piece every 100 ms for about 3 s, under a 500 ms stall grace: the
    // body takes six grace periods and twice the stall budget, and moves.
    let stall = Duration::from_millis(500);
    let server = FaultServer::start(vec![trickle(30, Duration::from_millis(100))]);
    let client = Client::builder()
        .base_url(server.url())
        .api_key("key")
        .stall_timeout(stall)
        .build()
        .expect("client");
    let started = Instant::now();
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("a slow body that keeps moving completes");
    assert!(started.elapsed() > stall * probe_api::STALL_BUDGET_PERIODS);
    assert_eq!(user.attempts(), 1);
}
