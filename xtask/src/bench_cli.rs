//! The command-line section of BENCHMARKS.md: how long `probe --help`
//! takes, from the process's start to its exit, against a process that
//! does nothing (`true`), so the figure separates the binary's own start
//! from what any process costs on the machine.
//!
//! `cargo xtask bench` runs it with the other benches; `cargo xtask bench
//! --only cli` runs only it and replaces only its section (between the
//! `<!-- cli -->` markers).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Layout, write_atomic};

const START: &str = "<!-- cli -->";
const END: &str = "<!-- /cli -->";

/// The start-up `probe --help` must stay under.
const GOAL: Duration = Duration::from_millis(50);
/// Runs not counted, then runs counted, of each command.
const WARMUP: usize = 3;
const RUNS: usize = 41;

/// What was measured.
#[derive(Debug)]
pub struct Startup {
    help: Vec<Duration>,
    baseline: Vec<Duration>,
}

/// Measures alone and splices the section into BENCHMARKS.md.
pub fn run(layout: &Layout) -> Result<(), String> {
    let startup = measure(&layout.root)?;
    let path = layout.root.join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let text = splice(&existing, &startup);
    write_atomic(&path, text.as_bytes())?;
    println!("wrote the command-line section of {}", path.display());
    Ok(())
}

/// `document` with the command-line section replaced.
pub fn splice(document: &str, startup: &Startup) -> String {
    crate::bench_batch::splice_marked(document, START, END, &section(startup))
}

/// Builds `probe` (release) and times `probe --help` and `true`, in turn.
pub fn measure(root: &Path) -> Result<Startup, String> {
    eprintln!("bench: building probe (release)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "probe-cli",
            "--message-format",
            "json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building probe failed ({})", output.status));
    }
    let binary = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| {
            (m["target"]["name"] == "probe")
                .then(|| m["executable"].as_str().map(str::to_string))
                .flatten()
        })
        .ok_or("cargo did not name the probe executable")?;
    eprintln!("bench: timing probe --help");
    let mut help = Vec::with_capacity(RUNS);
    let mut baseline = Vec::with_capacity(RUNS);
    for run in 0..WARMUP + RUNS {
        let a = time(Command::new(&binary).arg("--help"))?;
        let b = time(&mut Command::new("true"))?;
        if run >= WARMUP {
            help.push(a);
            baseline.push(b);
        }
    }
    Ok(Startup { help, baseline })
}

fn time(command: &mut Command) -> Result<Duration, String> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!("{command:?} failed ({status})"));
    }
    Ok(elapsed)
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The section's text.
pub fn section(startup: &Startup) -> String {
    let help = median(&startup.help);
    let baseline = median(&startup.baseline);
    let max = startup.help.iter().max().copied().unwrap_or_default();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let mut out = String::new();
    let _ = writeln!(out, "## Command line\n");
    let _ = writeln!(
        out,
        "Measured on {date} by `cargo xtask bench --only cli` (`xtask/src/bench_cli.rs`, release build):\n\
         wall time from spawning the process to its exit, {RUNS} runs after {WARMUP} not counted, each\n\
         followed by a run of `true` (a process that does nothing) as the machine's floor.\n"
    );
    let _ = writeln!(out, "| what | median | max | `true`, median | goal | met |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
    let _ = writeln!(
        out,
        "| `probe --help` (a command per operation of the document, built from its table) | {} | {} | {} | < {} | {} |\n",
        millis(help),
        millis(max),
        millis(baseline),
        millis(GOAL),
        if help < GOAL { "yes" } else { "no" }
    );
    out
}
