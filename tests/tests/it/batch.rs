//! Probing many files at once against the mock: every URL gets a result,
//! in completion order, failures included, within the concurrency limit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use probe_api::RetryPolicy;
use probe_api::batch::{ProbeMany, Progress};
use probe_api::mock::{Fault, MockServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_urls_thirty_two_at_a_time_with_faults() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock
        .client()
        .expect("client")
        .with_retry(RetryPolicy::none());
    // The first 40 probes are slow, so the batch fills its 32 slots; then
    // 10 fail with 503 and 5 lose their connection.
    let mut faults = vec![Fault::Delay(Duration::from_millis(40)); 40];
    faults.extend(vec![Fault::status(503); 10]);
    faults.extend(vec![Fault::DropConnection; 5]);
    mock.inject("get_file", faults)
        .expect("get_file is an operation");

    let urls: Vec<String> = (0..500)
        .map(|i| format!("https://media.example/batch/{i:03}.mp4"))
        .collect();
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let record = seen.clone();
    let options = ProbeMany::new()
        .concurrency(32)
        .on_progress(move |p| record.lock().expect("progress log").push(*p));
    let results: Vec<_> = client.probe_many(urls.clone(), options).collect().await;

    assert_eq!(results.len(), 500);
    let mut indices: Vec<usize> = results.iter().map(|r| r.index).collect();
    let completion_order = indices.clone();
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..500).collect::<Vec<_>>(),
        "each URL exactly once"
    );
    assert_ne!(
        completion_order, indices,
        "results come as they complete, not in input order"
    );
    for probed in &results {
        assert_eq!(probed.url, urls[probed.index]);
    }
    let failed: Vec<_> = results.iter().filter(|r| r.result.is_err()).collect();
    assert_eq!(failed.len(), 15, "the injected faults, and nothing else");
    assert_eq!(
        failed
            .iter()
            .filter(|r| r
                .result
                .as_ref()
                .err()
                .and_then(|e| e.status())
                .map(|s| s.as_u16())
                == Some(503))
            .count(),
        10
    );

    assert!(
        mock.max_in_flight() <= 32,
        "{} in flight",
        mock.max_in_flight()
    );
    assert!(mock.max_in_flight() > 1, "probes ran concurrently");
    assert_eq!(mock.requests_for("get_file"), 500);

    let progress = seen.lock().expect("progress log");
    assert_eq!(progress.len(), 500);
    let last = progress.last().expect("last");
    assert_eq!((last.finished, last.failed, last.started), (500, 15, 500));
    assert!(progress.iter().all(|p| p.in_flight() <= 32));
    assert!(
        progress
            .windows(2)
            .all(|w| w[1].finished == w[0].finished + 1)
    );
}

#[tokio::test]
async fn requests_are_customized_and_a_single_slot_runs_them_one_by_one() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let options = ProbeMany::new()
        .concurrency(0)
        .request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe));
    let results: Vec<_> = client
        .probe_many(
            probe_api::mock::MediaFixture::samples().map(|(_, url)| url),
            options,
        )
        .collect()
        .await;
    assert_eq!(results.len(), 5);
    for probed in &results {
        let report = probed.result.as_ref().expect("probe");
        assert!(report.mediainfo.is_none(), "only ffprobe was asked for");
        report.ffprobe().expect("typed report");
    }
    assert_eq!(mock.max_in_flight(), 1, "concurrency 0 means one at a time");
    let queries: Vec<_> = mock
        .requests()
        .into_iter()
        .filter_map(|r| r.query)
        .collect();
    assert!(
        queries.iter().all(|q| q.contains("only=ffprobe")),
        "{queries:?}"
    );
}
