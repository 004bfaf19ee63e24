//! The fleet section of BENCHMARKS.md: `probe-api/benches/fleet.rs` runs
//! 1, 4 and 8 workers on one PostgreSQL ledger against the mock with a set
//! capacity, and enqueues a million URLs; this renders what it measured.
//!
//! It runs with the batch bench (`cargo xtask bench`, and `cargo xtask
//! bench --only batch`), under `tests/pg/with-postgres.sh`, which starts a
//! throwaway PostgreSQL cluster unless `PROBE_TEST_DATABASE_URL` names
//! one. Its section sits between the `<!-- fleet -->` markers.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::{Layout, write_atomic};

const START: &str = "<!-- fleet -->";
const END: &str = "<!-- /fleet -->";

/// Goals of issue 28 for 4 and 8 workers.
const THROUGHPUT_GOAL: f64 = 0.9;
const REFUSED_GOAL: f64 = 0.02;

/// Runs the fleet bench alone and splices its section into BENCHMARKS.md.
pub fn run(layout: &Layout) -> Result<(), String> {
    let started = Instant::now();
    let work = layout.root.join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let results_path = work.join("fleet.jsonl");
    let _ = std::fs::remove_file(&results_path);
    measure(&layout.root, &results_path)?;
    let bytes = crate::read(&results_path)?;
    let results: Vec<Value> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("a bench result is not JSON: {e}")))
        .collect::<Result<_, _>>()?;
    let path = layout.root.join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    write_atomic(&path, splice(&existing, &section(&results)).as_bytes())?;
    println!(
        "wrote the fleet section of {} in {} s",
        path.display(),
        started.elapsed().as_secs()
    );
    Ok(())
}

/// Runs the fleet bench (release) with PostgreSQL, appending its results
/// to `out`.
pub fn measure(root: &Path, out: &Path) -> Result<(), String> {
    eprintln!("bench: running fleet (PostgreSQL)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(root.join("tests/pg/with-postgres.sh"))
        .current_dir(root)
        .arg(cargo)
        .args([
            "bench",
            "-p",
            "probe-api",
            "--features",
            "mock,postgres",
            "--bench",
            "fleet",
        ])
        .env("PROBE_BENCH_OUT", out)
        .status()
        .map_err(|e| format!("cannot run tests/pg/with-postgres.sh: {e}"))?;
    if !status.success() {
        return Err(format!("the fleet bench failed ({status})"));
    }
    Ok(())
}

/// `document` with its fleet section replaced by `section`.
pub fn splice(document: &str, section: &str) -> String {
    let block = format!("{START}\n{section}{END}\n");
    match (document.find(START), document.find(END)) {
        (Some(start), Some(end)) if start < end => {
            let after = &document[end + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &document[..start])
        }
        _ => format!("{}\n{block}", document.trim_end_matches('\n')),
    }
}

fn num(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// The section for the fleet results among `results`.
pub fn section(results: &[Value]) -> String {
    let of = |name: &str| -> Vec<&Value> {
        results
            .iter()
            .filter(|r| r.get("bench").and_then(Value::as_str) == Some(name))
            .collect()
    };
    let rows = of("fleet");
    let mut out = String::new();
    let _ = writeln!(out, "## A fleet on one PostgreSQL ledger\n");
    let Some(first) = rows.first() else {
        let _ = writeln!(
            out,
            "No fleet results: run `cargo xtask bench --only batch`.\n"
        );
        return out;
    };
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(
        out,
        "Measured on {date} by `cargo xtask bench --only batch` (`probe-api/benches/fleet.rs`, release build,\n\
         PostgreSQL 15 started by `tests/pg/with-postgres.sh`). Workers (each its own client, adaptive limiter\n\
         and connection, in one process) work one batch of {} URLs against the mock with a capacity of {}\n\
         workers, {} ms a probe, a queue of {}, then 429 with `Retry-After: 1`, under a fleet ceiling of {}\n\
         probes in flight. Capacity: {:.0} probes/s nominal; {:.0} probes/s measured (one `probe_many` at a\n\
         fixed {} in the same run). Duplicates: successful probes of a URL beyond its first.\n",
        num(first, "urls"),
        num(first, "capacity_workers"),
        num(first, "service_ms"),
        num(first, "capacity_workers"),
        num(first, "ceiling"),
        num(first, "capacity_per_s"),
        num(first, "measured_capacity_per_s"),
        2.0 * num(first, "capacity_workers"),
    );
    let _ = writeln!(
        out,
        "| workers | probes/s | of measured capacity | of nominal capacity | requests answered 429 | requests | duplicates | most in flight at the mock | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let _ = writeln!(
            out,
            "| {:.0} | {:.0} | {:.1} % | {:.1} % | {:.1} % | {:.0} | {:.0} | {:.0} | {:.2} |",
            num(row, "workers"),
            num(row, "probes_per_s"),
            100.0 * num(row, "of_measured_capacity"),
            100.0 * num(row, "of_capacity"),
            100.0 * num(row, "refused_share"),
            num(row, "requests"),
            num(row, "duplicates"),
            num(row, "max_in_flight"),
            num(row, "seconds"),
        );
    }
    let goals: Vec<String> = rows
        .iter()
        .filter(|r| num(r, "workers") >= 4.0)
        .map(|r| {
            let met = num(r, "of_measured_capacity") >= THROUGHPUT_GOAL
                && num(r, "refused_share") <= REFUSED_GOAL
                && num(r, "duplicates") == 0.0;
            format!(
                "{:.0} workers {}",
                num(r, "workers"),
                if met { "met" } else { "**not met**" }
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "\nGoals for 4 and 8 workers: at least {:.0} % of the measured capacity, at most {:.0} % of requests\n\
         answered 429, no file probed twice: {}.\n",
        THROUGHPUT_GOAL * 100.0,
        REFUSED_GOAL * 100.0,
        goals.join(", ")
    );
    if let Some(million) = of("fleet_enqueue").first() {
        let _ = writeln!(
            out,
            "Enqueueing {:.0} URLs into a new batch (`COPY` into a temporary table, then one `INSERT`): {:.1} s;\n\
             enqueueing them again (all already there): {:.1} s; reading the batch's `status` then: {:.2} s.\n",
            num(million, "urls"),
            num(million, "enqueue_seconds"),
            num(million, "enqueue_again_seconds"),
            num(million, "status_seconds"),
        );
    }
    out
}
