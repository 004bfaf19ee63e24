//! One worker of a fleet in a process of its own, for the fleet test
//! (`tests/tests/it/batch_fleet.rs`): works the PostgreSQL batch BATCH
//! against `PROBE_BASE_URL` with `PROBE_API_TOKEN`, and prints one line per
//! result (`ok` or `failed`, the URL, the attempts), tab-separated.
//!
//! ```text
//! probe_worker DATABASE_URL BATCH WORKER LEASE_MS [CONCURRENCY]
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use probe_api::Client;
use probe_api::batch::limit::PauseRule;
use probe_api::batch::{Limiter, PgLedger, ProbeMany};

#[tokio::main]
async fn main() -> ExitCode {
    tests::helper_bin::exit("probe_worker", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ([database, batch, worker, lease], concurrency) = tests::helper_bin::arguments(
        "usage: probe_worker DATABASE_URL BATCH WORKER LEASE_MS [CONCURRENCY]",
        16,
    )?;
    let ledger = PgLedger::connect(&database, &batch)
        .await?
        .worker(worker.as_str())
        .lease(Duration::from_millis(lease.parse()?));
    let client = Client::from_env()?;
    // The fleet test aims one refusal at the fleet and checks that every
    // worker holds for its `Retry-After`: this worker pauses on the first
    // refusal it sees (the default waits for refusals to confirm a spent
    // quota, which `batch_refusals` tests), and shares the pause.
    let limiter = Limiter::adaptive(concurrency).pause_rule(PauseRule::new().confirmations(0));
    let options = ProbeMany::new().limiter(limiter).ledger(ledger);
    let mut results = client.work(options);
    let mut out = std::io::stdout().lock();
    while let Some(probed) = results.next().await {
        let probed = probed?;
        let attempts = match &probed.result {
            Ok(response) => response.attempts(),
            Err(error) => error.attempts(),
        };
        writeln!(
            out,
            "{}\t{}\t{attempts}",
            if probed.result.is_ok() {
                "ok"
            } else {
                "failed"
            },
            probed.url
        )?;
        out.flush()?;
    }
    Ok(())
}
