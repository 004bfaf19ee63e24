//! Batches against services that refuse: one that refuses at once beyond
//! its capacity (no queue) is refused rarely and never stalls the batch,
//! and one whose quota is spent pauses the whole batch until its
//! `Retry-After` has passed, then the batch finishes.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use probe_api::batch::ProbeMany;
use probe_api::mock::{Capacity, MockServer, RecordedRequest};

fn urls(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://media.example/refusals/{i:04}.mp4"))
        .collect()
}

fn probes(mock: &MockServer) -> Vec<RecordedRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.operation == "get_file")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_refuses_at_once_refuses_a_default_batch_rarely_and_never_stalls_it() {
    // Probe times that keep each service near 250 probes a second: more
    // would make the machine, not the mock's workers, the limit (the
    // latency the limiter reads would rise). A capacity of 48 needs more
    // than a debug build on a shared machine keeps steady: the unit
    // simulation of `batch::limit` and the batch bench hold it.
    for (workers, service_ms, n) in [(6, 24, 300), (16, 64, 500)] {
        let mock = MockServer::start().await.expect("mock");
        // No queue: beyond `workers` probes at once, 429 with
        // `Retry-After: 1` at once, so latency never shows it is full.
        mock.set_capacity(Some(Capacity::refusing(
            workers,
            Duration::from_millis(service_ms),
        )));
        let client = mock.client().expect("client");
        let options =
            ProbeMany::new().request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe));
        let results: Vec<_> = client.probe_many(urls(n), options).collect().await;

        assert_eq!(results.len(), n);
        let failed = results.iter().filter(|r| r.result.is_err()).count();
        assert_eq!(failed, 0, "capacity {workers}: every probe succeeded");
        let log = probes(&mock);
        let refused: Vec<&RecordedRequest> = log.iter().filter(|r| r.status == 429).collect();
        let share = refused.len() as f64 / log.len() as f64;
        assert!(
            share <= 0.05,
            "capacity {workers}: {} of {} requests refused",
            refused.len(),
            log.len()
        );
        assert!(
            mock.max_in_flight() >= workers,
            "capacity {workers}: the limit found it ({} at most)",
            mock.max_in_flight()
        );
        // A refusal at capacity holds only its own probe: the batch goes
        // on sending within its `Retry-After`.
        for refusal in &refused {
            let window = refusal.answered..refusal.answered + Duration::from_millis(500);
            let more = log.iter().any(|r| window.contains(&r.received));
            let last = log.iter().map(|r| r.received).max().expect("requests");
            assert!(
                more || last < window.end,
                "capacity {workers}: nothing sent in the 500 ms after a refusal"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_pauses_the_whole_batch_until_its_retry_after_then_it_finishes() {
    let mock = MockServer::start().await.expect("mock");
    // After 100 probes, every probe is refused for 2 s with
    // `Retry-After: 2`.
    let window = Duration::from_secs(2);
    mock.set_capacity(Some(
        Capacity::new(16, Duration::from_millis(20))
            .retry_after(2)
            .quota(100, window),
    ));
    let client = mock.client().expect("client");
    let started = Instant::now();
    let results: Vec<_> = client
        .probe_many(urls(1000), ProbeMany::new())
        .collect()
        .await;

    assert_eq!(results.len(), 1000);
    assert!(
        results.iter().all(|r| r.result.is_ok()),
        "every refused probe was sent again after the window and succeeded"
    );
    let log = probes(&mock);
    let first = log
        .iter()
        .filter(|r| r.status == 429)
        .map(|r| r.received)
        .min()
        .expect("the quota refused");
    let in_window: Vec<Duration> = log
        .iter()
        .filter(|r| r.received >= first && r.received < first + window)
        .map(|r| r.received - first)
        .collect();
    // The refusals show it within the calls in flight and the few sent
    // after the first refusal; then nothing until the window is over
    // (900 probes were still to send: a batch that kept going would have
    // sent them all into the refusals).
    assert!(
        in_window.len() <= 100,
        "{} requests during the quota's window",
        in_window.len()
    );
    // They come in a burst at the start (a few milliseconds; the bound
    // leaves room for a loaded machine), then nothing.
    let late: Vec<_> = in_window.iter().filter(|at| **at >= window / 2).collect();
    assert!(late.is_empty(), "requests during the pause: {late:?}");
    assert!(
        log.iter().filter(|r| r.status == 200).count() == 1000,
        "the batch finished after the window"
    );
    assert!(started.elapsed() >= window);
}
