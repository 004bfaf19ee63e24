//! Batches against a mock with limited capacity: the adaptive limit keeps
//! rejections rare, and one refusal holds only its own probe.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use probe_api::batch::{Limiter, ProbeMany};
use probe_api::mock::{Capacity, Fault, MockServer};

fn urls(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://media.example/scale/{i:04}.mp4"))
        .collect()
}

/// The share of `get_file` requests the mock answered 429, and how many it
/// received.
fn rejected_share(mock: &MockServer) -> (f64, usize) {
    let requests: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.operation == "get_file")
        .collect();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    (
        refused as f64 / requests.len().max(1) as f64,
        requests.len(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_batch_of_two_thousand_keeps_rejections_under_two_percent() {
    let mock = MockServer::start().await.expect("mock");
    // 16 workers of 20 ms each: 800 probes a second at most, so 2,000 take
    // 2.5 s at full capacity.
    mock.set_capacity(Some(Capacity::new(16, Duration::from_millis(20))));
    let client = mock.client().expect("client");
    let all = urls(2000);
    let last = std::sync::Arc::new(std::sync::Mutex::new(None));
    let record = last.clone();
    // The default: adaptive under a ceiling of 256.
    let options = ProbeMany::new()
        .request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe))
        .on_progress(move |p| {
            let mut last = record.lock().expect("progress");
            let highest = last.map_or(0, |(_, highest): (probe_api::batch::Progress, usize)| {
                highest
            });
            *last = Some((*p, highest.max(p.limit)));
        });
    let results: Vec<_> = client.probe_many(all.clone(), options).collect().await;

    assert_eq!(results.len(), 2000);
    let seen: HashSet<&str> = results.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(seen.len(), 2000, "every URL exactly once");
    let failed: Vec<_> = results.iter().filter(|r| r.result.is_err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    let (share, requests) = rejected_share(&mock);
    assert!(
        share <= 0.02,
        "{:.1} % of {requests} requests refused",
        share * 100.0
    );
    let (last, highest) = last
        .lock()
        .expect("progress")
        .expect("progress was reported");
    assert_eq!((last.finished, last.failed, last.resumed), (2000, 0, 0));
    assert!(
        highest > 16,
        "the limit grew from 4 past the workers: {highest}"
    );
    assert_eq!(last.rejected as usize, mock.rejected());
    assert!(
        mock.max_in_flight() > 16,
        "the limit grew to the capacity: {} at most",
        mock.max_in_flight()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_concurrency_far_over_capacity_is_refused_often() {
    // The counterpart of the test above, so that its share means something:
    // the same service, 256 at once, is refused far more often.
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(
        Capacity::new(16, Duration::from_millis(20)).retry_after(0),
    ));
    let client = mock.client().expect("client");
    let options = ProbeMany::new()
        .fixed_concurrency(256)
        .request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe));
    let results: Vec<_> = client.probe_many(urls(300), options).collect().await;
    assert_eq!(results.len(), 300);
    let (share, requests) = rejected_share(&mock);
    assert!(
        share > 0.2,
        "{:.1} % of {requests} requests refused",
        share * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refusal_holds_only_its_own_probe() {
    let mock = MockServer::start().await.expect("mock");
    // Each probe takes 30 ms, so several are in flight when the sixth
    // request is refused with `Retry-After: 2`.
    mock.set_capacity(Some(Capacity::new(8, Duration::from_millis(30))));
    let mut faults = vec![Fault::Delay(Duration::ZERO); 5];
    faults.push(Fault::retry_after(429, "2"));
    mock.inject("get_file", faults).expect("get_file");
    let client = mock.client().expect("client");
    let options = ProbeMany::new().fixed_concurrency(4);
    let results: Vec<_> = client.probe_many(urls(24), options).collect().await;
    assert_eq!(results.len(), 24);
    assert!(
        results.iter().all(|r| r.result.is_ok()),
        "the 429 was retried"
    );

    let log: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.operation == "get_file")
        .collect();
    let refusal = log.iter().find(|r| r.status == 429).expect("the 429");
    let refused_url = refusal.query_param("url").expect("a url");
    let retry = log
        .iter()
        .find(|r| r.received > refusal.answered && r.query_param("url") == Some(refused_url))
        .expect("the refused probe was sent again");
    assert!(
        retry.received - refusal.answered >= Duration::from_millis(1950),
        "the refused probe waited its Retry-After: {:?}",
        retry.received - refusal.answered
    );
    // The other probes went on meanwhile: every probe not yet sent when
    // it was refused (24, less the 6 it completes and the 3 others that
    // can be in flight with it) was sent during its wait.
    let meanwhile = log
        .iter()
        .filter(|r| r.received > refusal.answered && r.received < retry.received)
        .count();
    assert!(meanwhile >= 15, "{meanwhile} probes during the wait");
}

#[tokio::test]
async fn a_limiter_shared_with_other_calls_counts_their_slots() {
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(Capacity::new(2, Duration::from_millis(20))));
    let limiter = Limiter::fixed(2);
    let client = mock.client().expect("client");
    // Another task holds one of the two slots for the whole batch.
    let held = limiter.acquire().await;
    let options = ProbeMany::new().limiter(limiter.clone());
    let results: Vec<_> = client.probe_many(urls(6), options).collect().await;
    assert_eq!(results.len(), 6);
    assert_eq!(mock.max_in_flight(), 1, "one slot was left for the batch");
    drop(held);
    assert_eq!(limiter.in_flight(), 0);
}

#[tokio::test]
async fn a_rate_limit_spaces_the_probes_of_a_batch() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let started = std::time::Instant::now();
    let options = ProbeMany::new().concurrency(8).rate_limit(20.0);
    let results: Vec<_> = client.probe_many(urls(6), options).collect().await;
    assert_eq!(results.len(), 6);
    // Six starts at 20 a second: the last one 250 ms after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // The limiter books each start 50 ms after the one before, so the k-th
    // request arrives no earlier than k × 50 ms after the first, less the
    // time the first spent on its way.
    let mut received: Vec<_> = mock.requests().iter().map(|r| r.received).collect();
    received.sort();
    for (k, at) in received.iter().enumerate() {
        let since = at.duration_since(received[0]);
        assert!(
            since + Duration::from_millis(30) >= Duration::from_millis(50) * k as u32,
            "request {k} arrived {since:?} after the first"
        );
    }
}

#[tokio::test]
async fn a_batch_deadline_bounds_each_probe() {
    use tests::faults::{Fault, FaultServer};
    let server = FaultServer::start(vec![Fault::Stall]);
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key("key")
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let options = ProbeMany::new().deadline(Duration::from_secs(1));
    let results: Vec<_> = client.probe_many(urls(3), options).collect().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(results.len(), 3);
    for probed in &results {
        let error = probed.result.as_ref().expect_err("never answered");
        assert!(error.is_timeout(), "{error}");
    }
}
