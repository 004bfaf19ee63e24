//! A fleet of worker processes on one PostgreSQL batch: 4 processes share
//! 2,000 URLs against the mock (capacity 16) under a fleet ceiling of 12,
//! one is killed with SIGKILL halfway, and one `Retry-After` is answered.
//! Every URL is done exactly once, only the killed worker's probes in
//! flight are probed twice, the mock never has more than 12 probes at
//! once, the `Retry-After` holds every worker, and a worker that comes
//! after the end sends nothing.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use probe_api::batch::{FleetLimits, PgLedger};
use probe_api::mock::{API_KEY, Capacity, Fault, MockServer, RecordedRequest};
use tests::postgres::{database_url, fresh_ledger};

const URLS: usize = 2_000;
const WORKERS: usize = 4;
const CEILING: u32 = 12;
/// Short, so the killed worker's claims come back quickly.
const LEASE_MS: &str = "1000";
/// Requests a worker had already started when the pause was written may
/// still arrive this long after the refusal.
const PAUSE_MARGIN: Duration = Duration::from_millis(250);

fn worker(mock: &MockServer, ledger: &PgLedger, name: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_probe_worker"))
        .arg(database_url())
        .arg(ledger.batch())
        .arg(name)
        .arg(LEASE_MS)
        .arg("16")
        .env("PROBE_BASE_URL", mock.url())
        .env("PROBE_API_TOKEN", API_KEY)
        .env_remove("PROBE_JWT")
        .env_remove("PROBE_TIMEOUT_SECS")
        .env_remove("PROBE_MAX_RETRIES")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("a worker process")
}

/// The most probes the mock was answering at once, from its log.
fn most_at_once(log: &[&RecordedRequest]) -> usize {
    let mut events: Vec<(Instant, i32)> = log
        .iter()
        .flat_map(|r| [(r.received, 1), (r.answered, -1)])
        .collect();
    // An answer and an arrival at the same instant: the answer first.
    events.sort_by_key(|&(at, change)| (at, change));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, change) in events {
        now += change;
        most = most.max(now);
    }
    most as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_one_batch_and_one_set_of_limits_and_survives_a_kill() {
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(Capacity::new(16, Duration::from_millis(15))));
    let ledger = fresh_ledger("fleet").await;
    let all: Vec<String> = (0..URLS)
        .map(|i| format!("https://media.example/fleet/{i:04}.mp4"))
        .collect();
    ledger.enqueue(&all).await.expect("enqueue");
    ledger
        .set_limits(FleetLimits::new().max_in_flight(CEILING))
        .await
        .expect("limits");

    let mut children: Vec<Child> = (0..WORKERS)
        .map(|i| worker(&mock, &ledger, &format!("w{i}")))
        .collect();
    let (mut refused, mut killed_in_flight) = (false, None::<HashSet<String>>);
    let mut killed = None::<usize>;
    let started = Instant::now();
    loop {
        let status = ledger.status().await.expect("status");
        if status.is_finished() {
            break;
        }
        if !refused && status.done >= 300 {
            // The next probe is answered 429 with Retry-After: 1.
            mock.inject("get_file", [Fault::retry_after(429, "1")])
                .expect("inject");
            refused = true;
        }
        if killed_in_flight.is_none() && status.done >= 800 {
            // The worker holding the most claims now, so that the kill
            // catches probes in flight.
            let busiest = status
                .workers
                .iter()
                .filter(|w| w.worker.starts_with('w'))
                .max_by_key(|w| w.in_flight)
                .map(|w| w.worker.clone())
                .expect("workers hold claims");
            let at: usize = busiest[1..].parse().expect("w<n>");
            children[at].kill().expect("SIGKILL");
            children[at].wait().expect("reaped");
            let db = sql().await;
            let held: HashSet<String> = db
                .query(
                    "SELECT url FROM probe_api.items WHERE batch = $1 AND state = 'claimed' AND worker = $2",
                    &[&ledger.batch(), &busiest],
                )
                .await
                .expect("claims of the killed worker")
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect();
            killed = Some(at);
            killed_in_flight = Some(held);
        }
        // A few seconds on an idle machine; minutes when the machine's
        // cores are shared many times over (debug build, five processes).
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the fleet did not finish in 5 minutes: {status:?}"
        );
        for (i, child) in children.iter_mut().enumerate() {
            if killed == Some(i) {
                continue;
            }
            let exited = child.try_wait().expect("wait");
            assert!(
                exited.is_none_or(|code| code.success()),
                "a worker failed: {exited:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_in_flight = killed_in_flight.expect("the batch outlasted the kill");
    assert!(
        !killed_in_flight.is_empty(),
        "the killed worker had probes in flight"
    );
    let mut printed = 0;
    for (i, child) in children.into_iter().enumerate() {
        if killed == Some(i) {
            continue;
        }
        let output = child.wait_with_output().expect("a worker's end");
        assert!(output.status.success(), "{output:?}");
        printed += String::from_utf8_lossy(&output.stdout).lines().count();
    }
    assert!(printed > 0);

    // Every URL done exactly once in the ledger.
    let status = ledger.status().await.expect("status");
    assert_eq!(
        (status.done, status.failed, status.total),
        (URLS as u64, 0, URLS as u64)
    );
    assert_eq!(
        status.workers.iter().map(|w| w.done).sum::<u64>(),
        URLS as u64
    );
    assert!(
        status.workers.iter().filter(|w| w.done > 0).count() >= 3,
        "{status:?}"
    );

    let log = mock.requests();
    let probes: Vec<&RecordedRequest> = log.iter().filter(|r| r.operation == "get_file").collect();
    let refusal = probes
        .iter()
        .find(|r| r.status == 429)
        .expect("the Retry-After was answered");
    let refused_url = refusal.query_param("url").expect("url").to_string();

    // A URL probed twice only if the killed worker had it in flight (or it
    // was the one refused, which its worker retried).
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for probe in &probes {
        *counts
            .entry(probe.query_param("url").expect("url"))
            .or_default() += 1;
    }
    assert_eq!(counts.len(), URLS);
    for (url, count) in &counts {
        let allowed =
            1 + usize::from(killed_in_flight.contains(*url)) + usize::from(*url == refused_url);
        assert!(
            *count <= allowed,
            "{url} probed {count} times; the killed worker held {:?}",
            killed_in_flight.len()
        );
    }

    // Never more than the ceiling at the mock.
    let most = most_at_once(&probes);
    assert!(
        most <= CEILING as usize,
        "{most} probes at once at the mock"
    );
    assert!(mock.max_in_flight() <= CEILING as usize);

    // After the refusal, no worker sent anything until its Retry-After ended.
    let quiet_from = refusal.answered + PAUSE_MARGIN;
    let quiet_until = refusal.answered + Duration::from_secs(1);
    let during: Vec<_> = probes
        .iter()
        .filter(|r| r.received > quiet_from && r.received < quiet_until)
        .collect();
    assert!(
        during.is_empty(),
        "{} probes were sent during the fleet's pause",
        during.len()
    );

    // A worker started after the batch finished sends nothing.
    let before = mock.requests_for("get_file");
    let late = worker(&mock, &ledger, "late")
        .wait_with_output()
        .expect("the late worker");
    assert!(late.status.success(), "{late:?}");
    assert!(late.stdout.is_empty());
    assert_eq!(mock.requests_for("get_file"), before);
    eprintln!(
        "fleet: {} probes for {URLS} URLs, {} in flight at the kill probed again at most, {most} at once, {:.1} s",
        probes.len(),
        killed_in_flight.len(),
        started.elapsed().as_secs_f64()
    );
}

async fn sql() -> tokio_postgres::Client {
    let (db, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(connection);
    db
}
