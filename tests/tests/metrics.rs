//! The metrics a fleet's operators scrape, through a real Prometheus
//! exporter on loopback after a scripted run against the mock. (Its own
//! test binary: a metrics recorder is installed once per process, and the
//! counts must hold only this run's calls.)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use probe_api::RetryPolicy;
use probe_api::limit::{Limiter, PauseRule};
use probe_api::mock::{self, Fault, MockServer};

/// Every sample of a Prometheus text page: `name{labels}` to value.
fn samples(page: &str) -> HashMap<String, f64> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Every metric of a Prometheus text page with the label names its samples
/// carry (a histogram's `le`/`quantile` and its `_sum`/`_count`/`_bucket`
/// series folded into the metric they belong to).
fn families(page: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut kinds = HashMap::new();
    for line in page.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                kinds.insert(name.to_string(), kind.to_string());
            }
        }
    }
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for key in samples(page).keys() {
        let (series, labels) = match key.split_once('{') {
            Some((series, labels)) => (series, labels.trim_end_matches('}')),
            None => (key.as_str(), ""),
        };
        let name = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                series
                    .strip_suffix(suffix)
                    .filter(|base| kinds.get(*base).is_some_and(|k| k != "counter"))
            })
            .unwrap_or(series);
        let names = labels
            .split(',')
            .filter_map(|pair| pair.split_once('=').map(|(k, _)| k.to_string()))
            .filter(|k| k != "le" && k != "quantile");
        found.entry(name.to_string()).or_default().extend(names);
    }
    found
}

/// The user guide's metrics table: each metric with its labels.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let guide = std::fs::read_to_string(tests::root().join("probe-api/README.md")).expect("guide");
    let section = guide
        .split("### Metrics")
        .nth(1)
        .expect("the guide has a Metrics section");
    section
        .lines()
        .take_while(|line| !line.starts_with("### "))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let labels = cells
                .get(3)?
                .split(',')
                .map(|l| l.trim().trim_matches('`').to_string())
                .filter(|l| !l.is_empty())
                .collect();
            Some((name.to_string(), labels))
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {:#?}", samples.keys()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_retries_bytes_and_limits_are_scraped_with_bounded_labels() {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    let address: SocketAddr = listener.local_addr().expect("address");
    drop(listener);
    PrometheusBuilder::new()
        .with_http_listener(address)
        .install()
        .expect("the Prometheus exporter");

    let mock = MockServer::start().await.expect("mock");
    let client = mock
        .client_builder()
        .retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .expect("client");

    // One retried success, two plain successes, one client error.
    mock.inject("get_current_user", [Fault::status(503)])
        .expect("inject");
    let user = client.get_current_user().send().await.expect("user");
    assert_eq!(user.attempts(), 2);
    for _ in 0..2 {
        client
            .get_file()
            .url(mock::SAMPLE_URL)
            .send()
            .await
            .expect("probe");
    }
    mock.inject("get_sessions", [Fault::status(404)])
        .expect("inject");
    client.get_sessions().send().await.expect_err("not found");

    // A batch of four: the first URL refused for load once (429 with
    // Retry-After: 0), which pauses the batch's limiter (its rule pauses on
    // every refusal), then every probe done; the mock's sample reports its
    // tools' time.
    let urls: Vec<String> = (0..4)
        .map(|i| format!("https://media.example/batch/{i}.mp4"))
        .collect();
    mock.inject_for_url(&urls[0], [Fault::retry_after(429, "0")]);
    let limiter = Limiter::adaptive(2).pause_rule(PauseRule::new().confirmations(0));
    let results: Vec<_> = futures_util::StreamExt::collect(
        client.probe_many(urls, probe_api::batch::ProbeMany::new().limiter(limiter)),
    )
    .await;
    assert!(results.iter().all(|p| p.result.is_ok()), "{results:?}");
    // The analysis time the answers report, each tool's `duration`.
    let analysis_ms: u64 = results
        .iter()
        .filter_map(|p| p.result.as_ref().ok())
        .flat_map(|r| {
            [
                r.ffprobe.as_ref().and_then(|t| t.duration),
                r.mediainfo.as_ref().and_then(|t| t.duration),
                r.probe_report.as_ref().and_then(|t| t.duration),
            ]
        })
        .flatten()
        .sum();
    assert!(
        analysis_ms > 0,
        "the mock's answers report no analysis time"
    );

    let page = reqwest::get(format!("http://{address}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("page");
    let all = samples(&page);
    let get = |key: &str| value(&all, key);

    assert_eq!(
        get(r#"probe_api_calls_total{operation="get_current_user",outcome="success"}"#),
        1.0
    );
    assert_eq!(
        get(r#"probe_api_attempts_total{operation="get_current_user"}"#),
        2.0
    );
    assert_eq!(
        get(r#"probe_api_retries_total{operation="get_current_user",reason="status_503"}"#),
        1.0
    );
    // Two probes of their own and the batch's four.
    assert_eq!(
        get(r#"probe_api_calls_total{operation="get_file",outcome="success"}"#),
        6.0
    );
    assert_eq!(
        get(r#"probe_api_calls_total{operation="get_sessions",outcome="client_error"}"#),
        1.0
    );
    assert_eq!(
        get(r#"probe_api_call_duration_seconds_count{operation="get_file",outcome="success"}"#),
        6.0
    );
    assert_eq!(
        get(r#"probe_api_response_latency_seconds_count{operation="get_current_user"}"#),
        2.0
    );
    assert!(get(r#"probe_api_response_bytes_total{operation="get_file"}"#) > 1000.0);
    // The batch's four probes (and the retry of the refused one).
    assert_eq!(get(r#"probe_api_batch_probes_total{outcome="done"}"#), 4.0);
    assert_eq!(
        get(r#"probe_api_attempts_total{operation="get_file"}"#),
        7.0
    );
    assert_eq!(
        get(r#"probe_api_retries_total{operation="get_file",reason="status_429"}"#),
        1.0
    );
    assert_eq!(get("probe_api_limiter_refusals_total"), 1.0);
    assert_eq!(get("probe_api_limiter_in_flight"), 0.0);
    assert!(get("probe_api_limiter_limit") >= 1.0);
    assert_eq!(
        get("probe_api_batch_analysis_milliseconds_total"),
        analysis_ms as f64
    );
    // The refusal paused the batch's limiter once.
    assert_eq!(get("probe_api_limiter_pauses_total"), 1.0);

    // The guide's table lists every metric the run produced, with the
    // labels its samples carry, and nothing the SDK does not record.
    assert_eq!(families(&page), documented(), "the scrape:\n{page}");

    // No label holds a URL, a host or the credential.
    for forbidden in [mock::API_KEY, "media.example", "http", "127.0.0.1"] {
        assert!(
            !page.contains(forbidden),
            "the metrics hold {forbidden}:\n{page}"
        );
    }
}
