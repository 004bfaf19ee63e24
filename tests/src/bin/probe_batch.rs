//! A batch in a process of its own, for the test that kills it halfway
//! (`tests/tests/it/batch_resume.rs`): probes the URLs of a file (one a line)
//! against `PROBE_BASE_URL` with `PROBE_API_TOKEN`, recording them in a
//! journal, and prints one line per result: `probed` or `resumed`, `ok` or
//! `failed`, and the URL, tab-separated.
//!
//! ```text
//! probe_batch JOURNAL URLS [CONCURRENCY]
//! ```

use std::io::Write;
use std::process::ExitCode;

use futures_util::StreamExt;
use probe_api::Client;
use probe_api::batch::{Journal, ProbeMany};

#[tokio::main]
async fn main() -> ExitCode {
    tests::helper_bin::exit("probe_batch", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ([journal, urls], concurrency) =
        tests::helper_bin::arguments("usage: probe_batch JOURNAL URLS [CONCURRENCY]", 4)?;
    let urls: Vec<String> = std::fs::read_to_string(urls)?
        .lines()
        .map(str::to_string)
        .collect();
    let client = Client::from_env()?;
    let options = ProbeMany::new()
        .fixed_concurrency(concurrency)
        .journal(Journal::open(journal)?);
    let mut results = client.probe_many(urls, options);
    let mut out = std::io::stdout().lock();
    while let Some(probed) = results.next().await {
        writeln!(
            out,
            "{}\t{}\t{}",
            if probed.resumed { "resumed" } else { "probed" },
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
