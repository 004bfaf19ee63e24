//! Probes many media URLs at once, with a progress bar and a summary table.
//!
//! ```text
//! cargo run -p probe-api --features mock --example probe_many -- urls.txt
//! cat urls.txt | PROBE_API_TOKEN=... cargo run -p probe-api --features mock --example probe_many
//! ```
//!
//! Reads one URL per line (blank lines and `#` comments skipped) from the
//! file given, or from stdin. Without `PROBE_API_TOKEN` it runs against the
//! built-in mock, and without input it probes the mock's samples.
//! `--concurrency N` sets how many probes run at once (default 16).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Instant;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use probe_api::batch::ProbeMany;
use probe_api::mock::{MediaFixture, MockServer};
use probe_api::{Client, types};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut concurrency = 16;
    let mut file = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--concurrency" => {
                concurrency = rest
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--concurrency takes a number")?;
            }
            other => file = Some(other.to_string()),
        }
    }

    let text = match &file {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
        }
        None if !std::io::stdin().is_terminal() => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
        None => String::new(),
    };
    let mut urls: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();

    let (client, _mock) = match std::env::var(probe_api::ENV_API_TOKEN) {
        Ok(token) if !token.trim().is_empty() => (Client::from_env()?, None),
        _ => {
            let mock = MockServer::start().await?;
            eprintln!(
                "offline: PROBE_API_TOKEN is not set, so this runs against the built-in mock at {}",
                mock.url()
            );
            if urls.is_empty() {
                urls = MediaFixture::samples()
                    .map(|(_, url)| url.to_string())
                    .collect();
            }
            (mock.client()?, Some(mock))
        }
    };
    if urls.is_empty() {
        return Err("no URLs: give a file, or pipe one URL per line".into());
    }

    let bar = ProgressBar::new(urls.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} probed, {msg} [{elapsed}]")
            .map_err(|e| e.to_string())?,
    );
    let progress_bar = bar.clone();
    let options = ProbeMany::new()
        .concurrency(concurrency)
        .request(|probe| {
            probe
                .only(types::GetFileOnly::Ffprobe)
                .ffprobe_show_streams(true)
                .ffprobe_show_format(true)
        })
        .on_progress(move |p| {
            progress_bar.set_position(p.finished as u64);
            progress_bar.set_message(format!("{} failed, {} in flight", p.failed, p.in_flight()));
        });

    let started = Instant::now();
    let mut containers: BTreeMap<String, usize> = BTreeMap::new();
    let mut video_codecs: BTreeMap<String, usize> = BTreeMap::new();
    let mut total_seconds = 0.0;
    let mut failures = Vec::new();
    let mut results = client.probe_many(urls.iter().cloned(), options);
    while let Some(probed) = results.next().await {
        let report = probed
            .result
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_ffprobe().map_err(|e| e.to_string()));
        match report {
            Ok(report) => {
                let container = report
                    .format
                    .as_ref()
                    .and_then(|f| f.format_name.clone())
                    .unwrap_or_else(|| "?".into());
                *containers.entry(container).or_default() += 1;
                for stream in report.video_streams() {
                    let codec = stream.codec_name.clone().unwrap_or_else(|| "?".into());
                    *video_codecs.entry(codec).or_default() += 1;
                }
                total_seconds += report.duration().map_or(0.0, |d| d.as_secs_f64());
            }
            Err(error) => failures.push((probed.url, error)),
        }
    }
    bar.finish_and_clear();

    println!(
        "{} probed in {:.1} s: {} ok, {} failed, {:.1} s of media",
        urls.len(),
        started.elapsed().as_secs_f64(),
        urls.len() - failures.len(),
        failures.len(),
        total_seconds
    );
    println!("\n{:<32} {:>6}", "container", "files");
    for (name, count) in &containers {
        println!("{name:<32} {count:>6}");
    }
    println!("\n{:<32} {:>6}", "video codec", "streams");
    for (name, count) in &video_codecs {
        println!("{name:<32} {count:>6}");
    }
    if !failures.is_empty() {
        println!("\nfailures:");
        for (url, error) in &failures {
            println!("  {url}: {error}");
        }
    }
    Ok(())
}
