//! A fleet sharing one PostgreSQL ledger against a busy service: 1, 4 and
//! 8 workers (each its own client, limiter and database connection, in
//! one process) work one batch of 2,000 URLs against the built-in mock
//! with a capacity of 16 workers, 50 ms a probe, a queue of 16, then 429
//! with `Retry-After: 1`, under a fleet ceiling of 32 probes in flight
//! (the workers and the queue: what the service admits). Reported: the
//! throughput against the nominal capacity and against a single
//! `probe_many` at a fixed 32 in the same run, the share of requests
//! refused, and probes of a URL beyond its first (duplicates). Then the
//! time to enqueue 1,000,000 URLs, to enqueue them again (all known), and
//! to read the batch's status.
//!
//! Needs PostgreSQL: `PROBE_TEST_DATABASE_URL` (`cargo xtask bench` runs it
//! under `tests/pg/with-postgres.sh`, which starts a throwaway cluster).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use probe_api::batch::{FleetLimits, PgLedger, ProbeMany};
use probe_api::mock::{Capacity, MockServer};
use serde_json::json;

const URLS: usize = 2000;
const WORKERS: usize = 16;
const SERVICE: Duration = Duration::from_millis(50);
const CEILING: u32 = 32;
const MILLION: usize = 1_000_000;

fn database() -> String {
    std::env::var("PROBE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        eprintln!(
            "PROBE_TEST_DATABASE_URL is not set: run `cargo xtask bench`, or this bench under tests/pg/with-postgres.sh"
        );
        std::process::exit(2);
    })
}

fn urls(round: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://media.example/fleet-bench/{round}/{i:07}.mp4"))
        .collect()
}

fn batch_name(what: &str) -> String {
    format!(
        "bench-{what}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

struct Measured {
    seconds: f64,
    succeeded: usize,
    requests: usize,
    refused: usize,
    duplicates: usize,
    max_in_flight: usize,
}

async fn mock() -> MockServer {
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(
        Capacity::new(WORKERS, SERVICE)
            .queue(WORKERS)
            .retry_after(1),
    ));
    // The mock builds each schema validator on first use.
    let client = mock.client_builder().build().expect("client");
    client
        .get_file()
        .url("https://media.example/warm-up.mp4")
        .only(probe_api::types::GetFileOnly::Ffprobe)
        .send()
        .await
        .expect("warm-up");
    mock
}

fn measured(mock: &MockServer, started: Instant, succeeded: usize) -> Measured {
    let seconds = started.elapsed().as_secs_f64();
    let requests: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| {
            r.operation == "get_file"
                && r.query_param("url") != Some("https://media.example/warm-up.mp4")
        })
        .collect();
    let mut answered: HashMap<String, usize> = HashMap::new();
    for r in requests.iter().filter(|r| r.status == 200) {
        *answered
            .entry(r.query_param("url").unwrap_or_default().to_string())
            .or_default() += 1;
    }
    Measured {
        seconds,
        succeeded,
        requests: requests.len(),
        refused: requests.iter().filter(|r| r.status == 429).count(),
        duplicates: answered.values().map(|n| n - 1).sum(),
        max_in_flight: mock.max_in_flight(),
    }
}

fn options() -> ProbeMany {
    ProbeMany::new()
        .concurrency(64)
        .request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe))
}

/// One `probe_many` at a fixed concurrency of the workers and the queue,
/// never refused: the best one client that knew the capacity could do.
async fn baseline() -> Measured {
    let mock = mock().await;
    let client = mock.client_builder().build().expect("client");
    let started = Instant::now();
    let options = ProbeMany::new()
        .fixed_concurrency(WORKERS * 2)
        .request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe));
    let results: Vec<_> = client
        .probe_many(urls("baseline", URLS), options)
        .collect()
        .await;
    let ok = results.iter().filter(|r| r.result.is_ok()).count();
    measured(&mock, started, ok)
}

async fn fleet(workers: usize) -> Measured {
    let mock = mock().await;
    let url = database();
    let name = batch_name(&format!("fleet{workers}"));
    let ledger = PgLedger::connect(&url, &name).await.expect("ledger");
    ledger.enqueue(urls(&name, URLS)).await.expect("enqueue");
    ledger
        .set_limits(FleetLimits::new().max_in_flight(CEILING))
        .await
        .expect("limits");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..workers {
        let client = mock.client_builder().build().expect("client");
        let ledger = PgLedger::connect(&url, &name)
            .await
            .expect("worker ledger")
            .worker(format!("w{i}"));
        tasks.push(tokio::spawn(async move {
            let results: Vec<_> = client.work(options().ledger(ledger)).collect().await;
            results
                .iter()
                .filter(|r| r.as_ref().is_ok_and(|p| p.result.is_ok()))
                .count()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += task.await.expect("worker");
    }
    measured(&mock, started, ok)
}

async fn million() -> (f64, f64, f64) {
    let url = database();
    let ledger = PgLedger::connect(&url, &batch_name("million"))
        .await
        .expect("ledger");
    let all = urls("million", MILLION);
    let started = Instant::now();
    let first = ledger.enqueue(&all).await.expect("enqueue");
    let enqueue = started.elapsed().as_secs_f64();
    assert_eq!(first.added, MILLION as u64);
    let started = Instant::now();
    let again = ledger.enqueue(&all).await.expect("enqueue again");
    let enqueue_again = started.elapsed().as_secs_f64();
    assert_eq!(again.added, 0);
    let started = Instant::now();
    let status = ledger.status().await.expect("status");
    let status_seconds = started.elapsed().as_secs_f64();
    assert_eq!(status.queued, MILLION as u64);
    (enqueue, enqueue_again, status_seconds)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let capacity = Capacity::new(WORKERS, SERVICE).throughput();
    eprintln!("fleet: baseline");
    let base = runtime.block_on(baseline());
    let measured_capacity = base.succeeded as f64 / base.seconds;
    for workers in [1, 4, 8] {
        eprintln!("fleet: {workers} workers");
        let m = runtime.block_on(fleet(workers));
        let rate = m.succeeded as f64 / m.seconds;
        common::emit(json!({
            "bench": "fleet",
            "workers": workers,
            "urls": URLS,
            "capacity_workers": WORKERS,
            "service_ms": SERVICE.as_millis() as u64,
            "ceiling": CEILING,
            "capacity_per_s": capacity,
            "measured_capacity_per_s": measured_capacity,
            "probes_per_s": rate,
            "of_capacity": rate / capacity,
            "of_measured_capacity": rate / measured_capacity,
            "refused_share": m.refused as f64 / m.requests.max(1) as f64,
            "requests": m.requests,
            "duplicates": m.duplicates,
            "max_in_flight": m.max_in_flight,
            "seconds": m.seconds,
            "succeeded": m.succeeded,
        }));
    }
    eprintln!("fleet: 1,000,000 URLs");
    let (enqueue, again, status) = runtime.block_on(million());
    common::emit(json!({
        "bench": "fleet_enqueue",
        "urls": MILLION,
        "enqueue_seconds": enqueue,
        "enqueue_again_seconds": again,
        "status_seconds": status,
    }));
}
