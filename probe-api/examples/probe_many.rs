//! Probes many media URLs at once: an adaptive concurrency limit, a journal
//! to resume from, a progress bar and a summary table.
//!
//! ```text
//! cargo run -p probe-api --features mock --example probe_many -- urls.txt --journal probes.jsonl
//! cat urls.txt | PROBE_API_TOKEN=... cargo run -p probe-api --features mock --example probe_many -- --concurrency 64
//! ```
//!
//! Reads one URL per line (blank lines and `#` comments skipped) from the
//! file given, or from stdin (also with `-`). Without `PROBE_API_TOKEN` it
//! runs against the built-in mock (16 workers of 50 ms each, so the
//! adaptive limit has something to find), and without input it probes the
//! mock's samples.
//!
//! - `--concurrency N`: at most N probes in flight (default 256); the limit
//!   adapts below it. `--fixed` keeps exactly N.
//! - `--rate R`: at most R requests a second.
//! - `--deadline SECS`: bound each probe, retries included.
//! - `--journal PATH`: record each finished probe in PATH (JSON Lines);
//!   rerun with the same PATH to skip what is done. Ctrl-C stops at once
//!   and leaves the journal whole.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use probe_api::batch::{Journal, Limiter, ProbeMany};
use probe_api::mock::{Capacity, MediaFixture, MockServer};
use probe_api::{Client, types};

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    file: Option<String>,
    journal: Option<String>,
    concurrency: usize,
    fixed: bool,
    rate: Option<f64>,
    deadline: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: None,
        journal: None,
        concurrency: probe_api::batch::DEFAULT_CONCURRENCY,
        fixed: false,
        rate: None,
        deadline: None,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| rest.next().ok_or(format!("{flag} takes a value"));
        match arg.as_str() {
            "--concurrency" => {
                args.concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|_| "--concurrency takes a whole number")?;
            }
            "--fixed" => args.fixed = true,
            "--rate" => {
                args.rate = Some(
                    value("--rate")?
                        .parse()
                        .map_err(|_| "--rate takes requests per second")?,
                );
            }
            "--deadline" => {
                let seconds: f64 = value("--deadline")?
                    .parse()
                    .map_err(|_| "--deadline takes seconds")?;
                args.deadline = Some(
                    Duration::try_from_secs_f64(seconds)
                        .map_err(|_| "--deadline takes a positive number of seconds")?,
                );
            }
            "--journal" => args.journal = Some(value("--journal")?),
            "-" => args.file = None,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => args.file = Some(file.to_string()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let text = match &args.file {
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
            mock.set_capacity(Some(Capacity::new(16, Duration::from_millis(50))));
            eprintln!(
                "offline: PROBE_API_TOKEN is not set, so this runs against the built-in mock at {} (16 workers, 50 ms a probe)",
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

    let journal = match &args.journal {
        Some(path) => {
            let journal = Journal::open(path).map_err(|e| format!("journal {path}: {e}"))?;
            if !journal.is_empty() {
                eprintln!(
                    "resuming: {path} holds {} finished probes; they are not probed again",
                    journal.len()
                );
            }
            Some(journal)
        }
        None => None,
    };
    let limiter = if args.fixed {
        Limiter::fixed(args.concurrency)
    } else {
        Limiter::adaptive(args.concurrency)
    };
    let limiter = match args.rate {
        Some(rate) => limiter.rate_limit(rate),
        None => limiter,
    };

    let bar = ProgressBar::new(urls.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} probed [{elapsed}] {msg}")
            .map_err(|e| e.to_string())?,
    );
    let progress_bar = bar.clone();
    let mut options = ProbeMany::new()
        .limiter(limiter.clone())
        .request(|probe| {
            probe
                .only(types::GetFileOnly::Ffprobe)
                .ffprobe_show_streams(true)
                .ffprobe_show_format(true)
        })
        .on_progress(move |p| {
            progress_bar.set_position(p.finished as u64);
            progress_bar.set_message(format!(
                "{} at once (limit {}), {} rejected, {} failed, {} resumed",
                p.in_flight(),
                p.limit,
                p.rejected,
                p.failed,
                p.resumed
            ));
        });
    if let Some(journal) = &journal {
        options = options.journal(journal.clone());
    }
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }

    let started = Instant::now();
    let mut summary = Summary::default();
    let mut results = client.probe_many(urls.iter().cloned(), options);
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let interrupted = loop {
        tokio::select! {
            probed = results.next() => match probed {
                Some(probed) => summary.add(probed),
                None => break false,
            },
            // Stopping drops the probes in flight: their results were not
            // journaled, and a rerun probes them; every record written is whole.
            _ = &mut interrupt => break true,
        }
    };
    drop(results);
    bar.finish_and_clear();
    if let Some(journal) = &journal {
        journal.sync()?;
    }

    summary.print(
        urls.len(),
        started.elapsed(),
        limiter.limit(),
        limiter.overloads(),
    );
    if let Some(problem) = journal.as_ref().and_then(Journal::write_error) {
        eprintln!("warning: {problem}; a rerun probes those files again");
    }
    if interrupted {
        match &args.journal {
            Some(path) => eprintln!(
                "interrupted: rerun with --journal {path} to probe the {} files left",
                urls.len() - summary.done()
            ),
            None => eprintln!("interrupted; with --journal PATH a rerun skips what is done"),
        }
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the batch found.
#[derive(Default)]
struct Summary {
    ok: usize,
    resumed: usize,
    containers: BTreeMap<String, usize>,
    video_codecs: BTreeMap<String, usize>,
    total_seconds: f64,
    failures: Vec<(String, String)>,
}

impl Summary {
    fn add(&mut self, probed: probe_api::batch::Probed) {
        if probed.resumed {
            self.resumed += 1;
        }
        let report = probed
            .result
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_ffprobe().map_err(|e| e.to_string()));
        match report {
            Ok(report) => {
                self.ok += 1;
                let container = report
                    .format
                    .as_ref()
                    .and_then(|f| f.format_name.as_deref())
                    .unwrap_or("?")
                    .to_string();
                *self.containers.entry(container).or_default() += 1;
                for stream in report.video_streams() {
                    let codec = stream.codec_name.as_deref().unwrap_or("?").to_string();
                    *self.video_codecs.entry(codec).or_default() += 1;
                }
                self.total_seconds += report.duration().map_or(0.0, |d| d.as_secs_f64());
            }
            Err(error) => self.failures.push((probed.url, error)),
        }
    }

    fn done(&self) -> usize {
        self.ok + self.failures.len()
    }

    fn print(&self, total: usize, elapsed: Duration, limit: usize, rejected: u64) {
        let probed = self.done() - self.resumed;
        println!(
            "{} of {total} done in {:.1} s ({:.1} probes/s): {} ok, {} failed, {} from the journal; {:.1} s of media",
            self.done(),
            elapsed.as_secs_f64(),
            probed as f64 / elapsed.as_secs_f64().max(1e-9),
            self.ok,
            self.failures.len(),
            self.resumed,
            self.total_seconds
        );
        println!("concurrency limit at the end: {limit}; answers refusing for load: {rejected}");
        println!("\n{:<32} {:>6}", "container", "files");
        for (name, count) in &self.containers {
            println!("{name:<32} {count:>6}");
        }
        println!("\n{:<32} {:>6}", "video codec", "streams");
        for (name, count) in &self.video_codecs {
            println!("{name:<32} {count:>6}");
        }
        if !self.failures.is_empty() {
            println!("\nfailures:");
            for (url, error) in &self.failures {
                println!("  {url}: {error}");
            }
        }
    }
}
