//! Batches against a busy service: the built-in mock with a set capacity
//! (16 workers, 50 ms a probe, a queue of 16, then 429 with
//! `Retry-After: 1`), probed by `probe_many` with the adaptive limit (ceiling
//! 256) and with fixed concurrencies of 8 and 256, 2,000 URLs each, through
//! a client with the default retry policy.
//!
//! For each it reports the throughput of successful probes against what
//! the workers can do, the share of requests answered 429, and the probes
//! that failed. What the workers can do is given two ways: nominally,
//! 16 / 50 ms = 320 a second; and measured, as the throughput of a fixed
//! concurrency of 32, which keeps every worker and queue place full and is
//! never refused (the best a client that knew the capacity could do; it
//! is below nominal because the mock's timers end a little late).
//! The modes take turns, and each figure is the median of its rounds.
//!
//! Run by `cargo xtask bench` (or alone: `cargo xtask bench --only batch`),
//! which writes BENCHMARKS.md.

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

/// One way of running the batch.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Adaptive(usize),
    Fixed(usize),
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::Adaptive(ceiling) => format!("adaptive (ceiling {ceiling})"),
            Mode::Fixed(n) => format!("fixed {n}"),
        }
    }

    fn options(self) -> ProbeMany {
        let options = match self {
            Mode::Adaptive(ceiling) => ProbeMany::new().concurrency(ceiling),
            Mode::Fixed(n) => ProbeMany::new().fixed_concurrency(n),
        };
        options.request(|probe| probe.only(probe_api::types::GetFileOnly::Ffprobe))
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

async fn round(mode: Mode) -> Round {
    let mock = MockServer::start().await.expect("mock");
    let capacity = Capacity::new(WORKERS, SERVICE)
        .queue(WORKERS)
        .retry_after(1);
    mock.set_capacity(Some(capacity));
    let client = mock.client_builder().build().expect("client");
    let urls: Vec<String> = (0..URLS)
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

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let modes = [
        Mode::Adaptive(256),
        Mode::Fixed(8),
        Mode::Fixed(256),
        Mode::Fixed(WORKERS * 2),
    ];
    let mut rounds: Vec<Vec<Round>> = modes.iter().map(|_| Vec::new()).collect();
    // One warm-up round, so that the first mode does not pay for the
    // process's start (the mock's document, the connection pool).
    runtime.block_on(round(Mode::Fixed(8)));
    for _ in 0..ROUNDS {
        for (mode, out) in modes.iter().zip(rounds.iter_mut()) {
            eprintln!("batch: {}", mode.name());
            out.push(runtime.block_on(round(*mode)));
        }
    }
    let capacity = Capacity::new(WORKERS, SERVICE).throughput();
    let rate_of = |out: &[Round]| {
        common::median(
            &out.iter()
                .map(|r| r.succeeded as f64 / r.seconds)
                .collect::<Vec<_>>(),
        )
    };
    let measured = rate_of(&rounds[3]);
    for (mode, out) in modes.iter().zip(&rounds) {
        let rate = rate_of(out);
        let share: Vec<f64> = out
            .iter()
            .map(|r| r.refused as f64 / r.requests.max(1) as f64)
            .collect();
        let median =
            |f: &dyn Fn(&Round) -> f64| common::median(&out.iter().map(f).collect::<Vec<_>>());
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
            "refused_share": common::median(&share),
            "seconds": median(&|r| r.seconds),
            "requests": median(&|r| r.requests as f64),
            "refused": median(&|r| r.refused as f64),
            "failed": median(&|r| r.failed as f64),
            "max_in_flight": median(&|r| r.max_in_flight as f64),
        }));
    }
}
