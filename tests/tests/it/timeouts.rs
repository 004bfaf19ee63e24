//! Request timeouts are always longer than the analysis a request asks for.

use std::time::Duration;

use probe_api::spec::operation;
use probe_api::timeouts::{ANALYSIS_MARGIN, Analysis, DEFAULT_TIMEOUT, request_timeout};

fn asked(timeout: Option<u64>, queue_timeout: Option<u64>) -> Analysis {
    Analysis {
        timeout,
        queue_timeout,
    }
}

#[test]
fn a_file_probe_asking_for_120_s_of_analysis_waits_longer_than_120_s() {
    let t = request_timeout(
        operation("get_file"),
        asked(Some(120_000), None),
        DEFAULT_TIMEOUT,
    );
    assert!(t > Duration::from_secs(120), "{t:?}");
    // 120 s of analysis, the document's 60 s default queue time, the margin.
    assert_eq!(t, Duration::from_secs(180) + ANALYSIS_MARGIN);
}

#[test]
fn defaults_come_from_the_document_for_each_media_operation() {
    let get = |name: &str| request_timeout(operation(name), Analysis::NONE, DEFAULT_TIMEOUT);
    assert_eq!(get("get_file"), Duration::from_secs(125) + ANALYSIS_MARGIN);
    assert_eq!(
        get("get_media_stream_validator"),
        Duration::from_secs(1250) + ANALYSIS_MARGIN
    );
    // Account operations analyse nothing: the client's timeout applies.
    assert_eq!(get("get_sessions"), DEFAULT_TIMEOUT);
}

#[test]
fn a_post_waits_for_the_analysis_time_its_body_asks_for() {
    let body = asked(Some(300_000), Some(1000));
    let t = request_timeout(operation("post_file"), body, DEFAULT_TIMEOUT);
    assert_eq!(t, Duration::from_secs(301) + ANALYSIS_MARGIN);
    // A longer client timeout is a floor that still wins.
    let floor = Duration::from_secs(900);
    assert_eq!(request_timeout(operation("post_file"), body, floor), floor);
}

#[test]
fn the_client_timeout_follows_builder_environment_default_precedence() {
    let env = [("PROBE_TIMEOUT_SECS", "90")];
    let client = probe_api::Client::builder()
        .with_env_vars(env)
        .build()
        .expect("client");
    assert_eq!(client.timeout(), Duration::from_secs(90));
    let client = probe_api::Client::builder()
        .timeout(Duration::from_secs(5))
        .with_env_vars(env)
        .build()
        .expect("client");
    assert_eq!(client.timeout(), Duration::from_secs(5));
    assert_eq!(
        probe_api::Client::builder()
            .build()
            .expect("client")
            .timeout(),
        DEFAULT_TIMEOUT
    );
    let err = probe_api::Client::builder()
        .with_env_vars([("PROBE_TIMEOUT_SECS", "0")])
        .build()
        .expect_err("zero");
    assert_eq!(err.setting, "PROBE_TIMEOUT_SECS");
}

#[tokio::test]
async fn a_per_call_timeout_applies_to_the_calls_made_through_it() {
    use tests::faults::{Fault, FaultServer};
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key("key")
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let impatient = client.with_timeout(Duration::from_millis(200));
    assert_eq!(
        client.timeout(),
        Duration::from_secs(600),
        "the original is unchanged"
    );
    let call = impatient.get_session().session_id(uuid::Uuid::nil()).send();
    // Without the override the call would wait 600 s; the guard only keeps
    // a broken build from hanging the suite.
    let error = tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the per-call timeout ended the call")
        .expect_err("the server never answers");
    assert!(error.is_timeout(), "{error}");
    assert_eq!(error.attempts(), 1);
}

#[tokio::test]
async fn a_file_probe_with_a_five_second_deadline_ends_in_five_seconds_and_asks_for_less() {
    use tests::faults::{Fault, FaultServer};
    let server = FaultServer::start(vec![Fault::Stall]);
    // The client's own rule would wait 140 s for a default file probe.
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key("key")
        .build()
        .expect("client")
        .with_deadline(Duration::from_secs(5));
    let started = std::time::Instant::now();
    let call = client.get_file().url("https://media.example/a.mp4").send();
    let error = tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the deadline ended the call")
        .expect_err("the server never answers");
    let elapsed = started.elapsed();
    assert!(error.is_timeout(), "{error}");
    assert!(elapsed >= Duration::from_millis(4900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(6000), "{elapsed:?}");
    assert_eq!(error.attempts(), 1, "a timeout is not retried");

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let line = requests[0].lines().next().expect("request line");
    let asked = |name: &str| -> u64 {
        let prefix = format!("{name}=");
        line.split(['?', '&', ' '])
            .find_map(|pair| pair.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    let (timeout, queue) = (asked("timeout"), asked("queue_timeout"));
    assert!(timeout > 0 && queue > 0, "{line}");
    assert!(
        timeout + queue <= 5000,
        "{timeout} + {queue} ms do not fit in 5 s"
    );
}

#[tokio::test]
async fn analysis_times_that_cannot_fit_the_deadline_are_refused_before_sending() {
    use tests::faults::{Fault, FaultServer};
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key("key")
        .build()
        .expect("client")
        .with_deadline(Duration::from_secs(5));
    let error = client
        .get_file()
        .url("https://media.example/a.mp4")
        .timeout(65_000)
        .queue_timeout(60_000)
        .send()
        .await
        .expect_err("cannot fit");
    assert_eq!(
        error.kind(),
        probe_api::ErrorKind::InvalidRequest,
        "{error}"
    );
    assert_eq!(error.attempts(), 0);
    assert!(
        error
            .to_string()
            .contains("timeout 65000 ms + queue_timeout 60000 ms"),
        "{error}"
    );
    assert!(error.to_string().contains("the deadline leaves"), "{error}");
    assert_eq!(server.connections(), 0, "nothing was sent");

    // Values that fit are sent as they are.
    let error = client
        .get_file()
        .url("https://media.example/a.mp4")
        .timeout(1_000)
        .queue_timeout(500)
        .send()
        .await
        .expect_err("the server never answers");
    assert!(error.is_timeout(), "{error}");
    let requests = server.requests();
    assert!(
        requests[0].contains("timeout=1000") && requests[0].contains("queue_timeout=500"),
        "{requests:?}"
    );
}

#[tokio::test]
async fn under_a_deadline_a_retry_that_could_not_start_in_time_is_not_made() {
    use tests::faults::{Fault, FaultServer};
    // The server asks for 3 s; the deadline leaves 2: the 503 is the answer.
    let server = FaultServer::start(vec![Fault::Respond {
        status: 503,
        headers: vec![("retry-after".into(), "3".into())],
        body: Vec::new(),
    }]);
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key("key")
        .build()
        .expect("client")
        .with_deadline(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let error = client
        .get_current_user()
        .send()
        .await
        .expect_err("unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(server.connections(), 1);
}
