//! Batches against busy services, run by `cargo xtask bench` (or alone:
//! `cargo xtask bench --only batch`), which writes BENCHMARKS.md.
//!
//! First, the built-in mock with a set capacity (16 workers, 50 ms a
//! probe, a queue of 16, then 429 with `Retry-After: 1`), probed by
//! `probe_many` with the default adaptive limit (ceiling 256) and with
//! fixed concurrencies of 8 and 256, 2,000 URLs each, through a client with
//! the default retry policy. For each it reports the throughput of
//! successful probes against what the workers can do, the share of
//! requests answered 429, and the probes that failed. What the workers can
//! do is given two ways: nominally, 16 / 50 ms = 320 a second; and
//! measured, as the throughput of a fixed concurrency of 32, which keeps
//! every worker and queue place full and is never refused (the best a
//! client that knew the capacity could do; it is below nominal because the
//! mock's timers end a little late).
//!
//! Then each kind of service at three capacities: one that queues (a queue
//! as long as its workers) and one that refuses at once beyond its workers
//! (no queue), with 6, 16 and 48 workers of 0.2 s a probe and
//! `Retry-After: 1`, probed with 400, 800 and 1,600 URLs by the default
//! batch and by a fixed concurrency equal to the capacity, which a user
//! would have to know to choose.
//!
//! The modes take turns, and each figure is the median of its rounds (the
//! mean of two for each kind of service).

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use probe_api::batch::ProbeMany;
use probe_api::mock::{Capacity, MockServer};
use serde_json::json;

const URLS: usize = 2000;
const WORKERS: usize = 16;
const SERVICE: Duration = Duration::from_millis(50);
const ROUNDS: usize = 3;
const WARM_UP: &str = "https://media.example/bench/warm-up.mp4";
/// The probe time of the services of each kind.
const KIND_SERVICE: Duration = Duration::from_millis(200);
/// Their capacities, with the URLs probed at each.
const KIND_CAPACITIES: [(usize, usize); 3] = [(6, 400), (16, 800), (48, 1600)];
/// Rounds of each kind and capacity: two keep the whole bench within a
/// few minutes (one round of the six is over two minutes).
const KIND_ROUNDS: usize = 2;

/// One way of running the batch.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Default,
    Fixed(usize),
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::Default => "adaptive (default, ceiling 256)".to_string(),
            Mode::Fixed(n) => format!("fixed {n}"),
        }
    }

    fn options(self) -> ProbeMany {
        let options = match self {
            Mode::Default => ProbeMany::new(),
            Mode::Fixed(n) => ProbeMany::new().fixed_concurrency(n),
        };
        options.request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe))
    }
}

/// A kind of service.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A queue as long as the workers, then 429.
    Queueing,
    /// 429 at once beyond the workers.
    Refusing,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Queueing => "queueing",
            Kind::Refusing => "refusing",
        }
    }

    fn capacity(self, workers: usize) -> Capacity {
        match self {
            Kind::Queueing => Capacity::new(workers, KIND_SERVICE),
            Kind::Refusing => Capacity::refusing(workers, KIND_SERVICE),
        }
        .retry_after(1)
    }
}

/// What one round measured.
struct Round {
    seconds: f64,
    succeeded: usize,
    failed: usize,
    requests: usize,
    refused: usize,
    max_in_flight: usize,
}

impl Round {
    fn refused_share(&self) -> f64 {
        self.refused as f64 / self.requests.max(1) as f64
    }
}

async fn round(mode: Mode, capacity: Capacity, urls: usize) -> Round {
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(capacity));
    let client = mock.client_builder().build().expect("client");
    let urls: Vec<String> = (0..urls)
        .map(|i| format!("https://media.example/bench/{i:05}.mp4"))
        .collect();
    // The mock builds each schema validator on first use: one probe before
    // the clock starts, so that its capacity is what is measured.
    client
        .get_file()
        .url(WARM_UP)
        .only(probe_api::types::GetFileOnly::Ffprobe)
        .send()
        .await
        .expect("warm-up probe");
    let started = Instant::now();
    let results: Vec<_> = client.probe_many(urls, mode.options()).collect().await;
    let seconds = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    let requests: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.operation == "get_file" && r.query_param("url") != Some(WARM_UP))
        .collect();
    Round {
        seconds,
        succeeded: results.len() - failed,
        failed,
        requests: requests.len(),
        refused: requests.iter().filter(|r| r.status == 429).count(),
        max_in_flight: mock.max_in_flight(),
    }
}

fn median(rounds: &[Round], f: impl Fn(&Round) -> f64) -> f64 {
    common::median(&rounds.iter().map(f).collect::<Vec<_>>())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let busy = Capacity::new(WORKERS, SERVICE)
        .queue(WORKERS)
        .retry_after(1);
    // One warm-up round, so that the first mode does not pay for the
    // process's start (the mock's document, the connection pool).
    runtime.block_on(round(Mode::Fixed(8), busy, URLS));

    let modes = [
        Mode::Default,
        Mode::Fixed(8),
        Mode::Fixed(256),
        Mode::Fixed(WORKERS * 2),
    ];
    let mut rounds: Vec<Vec<Round>> = modes.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (mode, out) in modes.iter().zip(rounds.iter_mut()) {
            eprintln!("batch: {}", mode.name());
            out.push(runtime.block_on(round(*mode, busy, URLS)));
        }
    }
    let capacity = busy.throughput();
    let rate_of = |out: &[Round]| median(out, |r| r.succeeded as f64 / r.seconds);
    let measured = rate_of(&rounds[3]);
    for (mode, out) in modes.iter().zip(&rounds) {
        let rate = rate_of(out);
        common::emit(json!({
            "bench": "batch",
            "mode": mode.name(),
            "urls": URLS,
            "workers": WORKERS,
            "service_ms": SERVICE.as_millis() as u64,
            "queue": WORKERS,
            "capacity_per_s": capacity,
            "measured_capacity_per_s": measured,
            "rounds": out.len(),
            "probes_per_s": rate,
            "of_capacity": rate / capacity,
            "of_measured_capacity": rate / measured,
            "refused_share": median(out, Round::refused_share),
            "seconds": median(out, |r| r.seconds),
            "requests": median(out, |r| r.requests as f64),
            "refused": median(out, |r| r.refused as f64),
            "failed": median(out, |r| r.failed as f64),
            "max_in_flight": median(out, |r| r.max_in_flight as f64),
        }));
    }

    for kind in [Kind::Queueing, Kind::Refusing] {
        for (workers, urls) in KIND_CAPACITIES {
            let capacity = kind.capacity(workers);
            let (mut adaptive, mut fixed) = (Vec::new(), Vec::new());
            for _ in 0..KIND_ROUNDS {
                eprintln!("batch: {} service of {workers}", kind.name());
                adaptive.push(runtime.block_on(round(Mode::Default, capacity, urls)));
                fixed.push(runtime.block_on(round(Mode::Fixed(workers), capacity, urls)));
            }
            let seconds = median(&adaptive, |r| r.seconds);
            let fixed_seconds = median(&fixed, |r| r.seconds);
            let nominal = urls as f64 / capacity.throughput();
            common::emit(json!({
                "bench": "batch_service",
                "service": kind.name(),
                "workers": workers,
                "queue": capacity.queue,
                "service_ms": KIND_SERVICE.as_millis() as u64,
                "retry_after_s": capacity.retry_after,
                "urls": urls,
                "rounds": KIND_ROUNDS,
                "seconds": seconds,
                "fixed_seconds": fixed_seconds,
                "nominal_seconds": nominal,
                "time_ratio": seconds / fixed_seconds,
                "of_capacity": nominal / seconds,
                "fixed_of_capacity": nominal / fixed_seconds,
                "refused_share": median(&adaptive, Round::refused_share),
                "fixed_refused_share": median(&fixed, Round::refused_share),
                "failed": median(&adaptive, |r| r.failed as f64),
                "fixed_failed": median(&fixed, |r| r.failed as f64),
                "max_in_flight": median(&adaptive, |r| r.max_in_flight as f64),
            }));
        }
    }
}
