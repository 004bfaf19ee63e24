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
//! - `--keep-failed`: on resume, keep URLs that failed failed.
//!
//! A fleet on one PostgreSQL batch (run `work` on as many machines as you
//! like; see "Scaling out" in the user guide):
//!
//! ```text
//! probe_many --postgres URL --batch NAME enqueue [FILE|-] [--fleet-max N] [--fleet-rate R]
//! probe_many --postgres URL --batch NAME work [--worker NAME] [--lease SECS]
//! probe_many --postgres URL --batch NAME status
//! probe_many --postgres URL --batch NAME export > results.jsonl
//! ```
//!
//! `enqueue` adds URLs (from FILE or stdin) once each and sets the fleet's
//! limits when given; `work` works the batch until nothing is left (Ctrl-C
//! gives this worker's claims back to the queue at once); `status` prints
//! the counts as JSON; `export` prints every finished item as a JSON Lines
//! journal record. Exit codes: 0 done, 1 failure, 2 bad arguments, 130
//! interrupted.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use probe_api::batch::{FleetLimits, Journal, Limiter, PgLedger, ProbeMany};
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
    keep_failed: bool,
    postgres: Option<String>,
    batch: Option<String>,
    command: Option<String>,
    worker: Option<String>,
    lease: Option<Duration>,
    fleet_max: Option<u32>,
    fleet_rate: Option<f64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: None,
        journal: None,
        concurrency: probe_api::batch::DEFAULT_CONCURRENCY,
        fixed: false,
        rate: None,
        deadline: None,
        keep_failed: false,
        postgres: None,
        batch: None,
        command: None,
        worker: None,
        lease: None,
        fleet_max: None,
        fleet_rate: None,
    };
    let mut positional = Vec::new();
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
            "--keep-failed" => args.keep_failed = true,
            "--postgres" => args.postgres = Some(value("--postgres")?),
            "--batch" => args.batch = Some(value("--batch")?),
            "--worker" => args.worker = Some(value("--worker")?),
            "--lease" => {
                let seconds: f64 = value("--lease")?
                    .parse()
                    .map_err(|_| "--lease takes seconds")?;
                args.lease = Some(
                    Duration::try_from_secs_f64(seconds)
                        .map_err(|_| "--lease takes a positive number of seconds")?,
                );
            }
            "--fleet-max" => {
                args.fleet_max = Some(
                    value("--fleet-max")?
                        .parse()
                        .map_err(|_| "--fleet-max takes a whole number")?,
                );
            }
            "--fleet-rate" => {
                args.fleet_rate = Some(
                    value("--fleet-rate")?
                        .parse()
                        .map_err(|_| "--fleet-rate takes probes per second")?,
                );
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            other => positional.push(other.to_string()),
        }
    }
    let mut positional = positional.into_iter();
    if args.postgres.is_some() {
        args.command = positional.next();
        if args.batch.is_none() {
            return Err("--postgres needs --batch NAME".into());
        }
        match args.command.as_deref() {
            Some("enqueue" | "work" | "status" | "export") => {}
            Some(other) => {
                return Err(format!(
                    "unknown command {other}: enqueue, work, status or export"
                ));
            }
            None => {
                return Err("--postgres needs a command: enqueue, work, status or export".into());
            }
        }
    }
    args.file = positional.next().filter(|f| f != "-");
    if let Some(extra) = positional.next() {
        return Err(format!("unexpected argument {extra}"));
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let ran = match args.postgres.clone() {
        Some(url) => fleet(args, &url).await,
        None => run(args).await,
    };
    match ran {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The URLs of the file given, or of stdin when it is not a terminal.
fn read_urls(args: &Args) -> Result<Vec<String>, Box<dyn std::error::Error>> {
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
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// A client for the API, or, without `PROBE_API_TOKEN`, for a mock started
/// here (returned too, to keep it running).
async fn client() -> Result<(Client, Option<MockServer>), Box<dyn std::error::Error>> {
    Ok(match std::env::var(probe_api::ENV_API_TOKEN) {
        Ok(token) if !token.trim().is_empty() => (Client::from_env()?, None),
        _ => {
            let mock = MockServer::start().await?;
            mock.set_capacity(Some(Capacity::new(16, Duration::from_millis(50))));
            eprintln!(
                "offline: PROBE_API_TOKEN is not set, so this runs against the built-in mock at {} (16 workers, 50 ms a probe)",
                mock.url()
            );
            (mock.client()?, Some(mock))
        }
    })
}

async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut urls = read_urls(&args)?;
    let (client, mock) = client().await?;
    if urls.is_empty() && mock.is_some() {
        urls = MediaFixture::samples()
            .map(|(_, url)| url.to_string())
            .collect();
    }
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
    options = options.keep_failed(args.keep_failed);

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

/// The `--postgres` commands.
async fn fleet(args: Args, url: &str) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let batch = args.batch.as_deref().unwrap_or_default();
    let mut ledger = PgLedger::connect(url, batch).await?;
    if let Some(worker) = &args.worker {
        ledger = ledger.worker(worker.as_str());
    }
    if let Some(lease) = args.lease {
        ledger = ledger.lease(lease);
    }
    match args.command.as_deref() {
        Some("enqueue") => {
            let urls = read_urls(&args)?;
            let started = Instant::now();
            let enqueued = ledger.enqueue(&urls).await?;
            eprintln!(
                "{batch}: {} URLs added, {} already in the batch ({:.1} s)",
                enqueued.added,
                enqueued.given - enqueued.added,
                started.elapsed().as_secs_f64()
            );
            if args.fleet_max.is_some() || args.fleet_rate.is_some() {
                let mut limits = FleetLimits::new();
                if let Some(max) = args.fleet_max {
                    limits = limits.max_in_flight(max);
                }
                if let Some(rate) = args.fleet_rate {
                    limits = limits.per_second(rate);
                }
                ledger.set_limits(limits).await?;
            }
        }
        Some("status") => {
            let status = ledger.status().await?;
            let workers: Vec<_> = status
                .workers
                .iter()
                .map(|w| {
                    serde_json::json!({
                        "worker": w.worker, "in_flight": w.in_flight, "done": w.done, "failed": w.failed,
                    })
                })
                .collect();
            let line = serde_json::json!({
                "batch": batch,
                "total": status.total,
                "queued": status.queued,
                "in_flight": status.in_flight,
                "done": status.done,
                "failed": status.failed,
                "per_second_last_minute": status.rate,
                "paused_for_s": status.paused_for.map(|d| d.as_secs_f64()),
                "max_in_flight": status.max_in_flight,
                "rate_limit": status.per_second,
                "workers": workers,
            });
            println!("{line}");
        }
        Some("export") => {
            let mut out = std::io::stdout().lock();
            let mut results = std::pin::pin!(ledger.results());
            while let Some(probed) = results.next().await {
                writeln!(out, "{}", probed?.to_record())?;
            }
            out.flush()?;
        }
        _ => return work(args, ledger).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// `work`: one worker of the fleet, until the batch has nothing left.
async fn work(args: Args, ledger: PgLedger) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (client, _mock) = client().await?;
    let limiter = if args.fixed {
        Limiter::fixed(args.concurrency)
    } else {
        Limiter::adaptive(args.concurrency)
    };
    let limiter = match args.rate {
        Some(rate) => limiter.rate_limit(rate),
        None => limiter,
    };
    let bar = ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} by this worker [{elapsed}] {msg}")
            .map_err(|e| e.to_string())?,
    );
    let progress_bar = bar.clone();
    let mut options = ProbeMany::new()
        .limiter(limiter.clone())
        .ledger(ledger.clone())
        .request(|probe| {
            probe
                .only(types::GetFileOnly::Ffprobe)
                .ffprobe_show_streams(true)
                .ffprobe_show_format(true)
        })
        .on_progress(move |p| {
            if let Some(total) = p.total {
                progress_bar.set_length(total as u64);
            }
            progress_bar.set_position(p.finished as u64);
            progress_bar.set_message(format!(
                "{} at once (limit {}), {} rejected, {} failed",
                p.in_flight(),
                p.limit,
                p.rejected,
                p.failed
            ));
        });
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut results = Box::pin(client.work(options));
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let interrupted = loop {
        tokio::select! {
            probed = results.next() => match probed {
                Some(probed) => summary.add(probed?),
                None => break false,
            },
            _ = &mut interrupt => break true,
        }
    };
    // Dropped first: the worker stops renewing its claims.
    drop(results);
    bar.finish_and_clear();
    summary.print(
        summary.done(),
        started.elapsed(),
        limiter.limit(),
        limiter.overloads(),
    );
    if interrupted {
        // The probes in flight are dropped unrecorded: their items go back
        // to the queue now rather than when their leases run out.
        let released = ledger.release().await?;
        eprintln!(
            "interrupted: {released} claims of {} given back to the queue",
            ledger.worker_name()
        );
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
            .and_then(|r| r.into_inner().into_ffprobe().map_err(|e| e.to_string()));
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
