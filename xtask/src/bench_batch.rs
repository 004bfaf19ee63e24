//! The batch section of BENCHMARKS.md: `probe-api/benches/batch.rs` runs
//! `probe_many` against the mock with a set capacity, adaptive and at
//! fixed concurrencies, and this renders what it measured.
//!
//! `cargo xtask bench` runs it with the other benches; `cargo xtask bench
//! --only batch` runs only it and replaces only its section of the
//! existing BENCHMARKS.md (between the `<!-- batch -->` markers), so the
//! other figures keep the run they came from.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::{Layout, write_atomic};

const START: &str = "<!-- batch -->";
const END: &str = "<!-- /batch -->";

/// Goals the adaptive batch must meet.
const THROUGHPUT_GOAL: f64 = 0.9;
const REFUSED_GOAL: f64 = 0.02;

/// Runs the batch bench alone and splices its section into BENCHMARKS.md.
pub fn run(layout: &Layout) -> Result<(), String> {
    let started = Instant::now();
    let work = layout.root.join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let results_path = work.join("batch.jsonl");
    let _ = std::fs::remove_file(&results_path);
    measure(&layout.root, &results_path)?;
    let bytes = crate::read(&results_path)?;
    let results = parse(&bytes)?;
    let path = layout.root.join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let text = splice(&existing, &section(&results));
    write_atomic(&path, text.as_bytes())?;
    println!(
        "wrote the batch section of {} in {} s",
        path.display(),
        started.elapsed().as_secs()
    );
    Ok(())
}

/// Runs the batch bench (release), appending its results to `out`.
pub fn measure(root: &Path, out: &Path) -> Result<(), String> {
    eprintln!("bench: running batch");
    let status =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .args([
                "bench",
                "-p",
                "probe-api",
                "--features",
                "mock",
                "--bench",
                "batch",
            ])
            .env("PROBE_BENCH_OUT", out)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("the batch bench failed ({status})"));
    }
    Ok(())
}

fn parse(bytes: &[u8]) -> Result<Vec<Value>, String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("a bench result is not JSON: {e}")))
        .collect()
}

/// `document` with its batch section replaced by `section` (added at the
/// end when it has none).
pub fn splice(document: &str, section: &str) -> String {
    splice_marked(document, START, END, section)
}

/// `document` with the text between the `start` and `end` markers
/// replaced by `section` (added at the end when it has none): each
/// section of BENCHMARKS.md that one bench can rewrite alone.
pub fn splice_marked(
    document: &str,
    start_marker: &str,
    end_marker: &str,
    section: &str,
) -> String {
    let block = format!("{start_marker}\n{section}{end_marker}\n");
    match (document.find(start_marker), document.find(end_marker)) {
        (Some(start), Some(end)) if start < end => {
            let after = &document[end + end_marker.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &document[..start])
        }
        _ if document.is_empty() => format!("# Benchmarks\n\n{block}"),
        _ => format!(
            "{}\n{block}",
            document.trim_end_matches('\n').to_string() + "\n"
        ),
    }
}

fn num(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// The section for the batch results among `results` (other benches'
/// records are skipped).
pub fn section(results: &[Value]) -> String {
    let rows: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("bench").and_then(Value::as_str) == Some("batch"))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "## Batches against a busy service\n");
    let Some(first) = rows.first() else {
        let _ = writeln!(
            out,
            "No batch results: run `cargo xtask bench --only batch`.\n"
        );
        return out;
    };
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(
        out,
        "Measured on {date} by `cargo xtask bench --only batch` (`probe-api/benches/batch.rs`, release build).\n\
         The built-in mock runs with a capacity of {} workers, {} ms a probe, a queue of {} and then 429 with\n\
         `Retry-After: 1` (`probe_api::mock::Capacity`); `probe_many` probes {} URLs through a client with\n\
         the default retry policy, adaptive (ceiling 256) and at fixed concurrencies. The mock's capacity is\n\
         given nominally ({:.0} probes/s, workers / probe time) and measured ({:.0} probes/s: a fixed\n\
         concurrency of {}, which keeps every worker and queue place full and is never refused; the mock's\n\
         timers end a little late). Each figure is the median of {} rounds taken in turns.\n",
        num(first, "workers"),
        num(first, "service_ms"),
        num(first, "queue"),
        num(first, "urls"),
        num(first, "capacity_per_s"),
        num(first, "measured_capacity_per_s"),
        2.0 * num(first, "workers"),
        num(first, "rounds"),
    );
    let _ = writeln!(
        out,
        "| concurrency | probes/s | of measured capacity | of nominal capacity | requests answered 429 | requests | probes failed | most in flight at the mock | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.1} % | {:.1} % | {:.1} % | {:.0} | {:.0} | {:.0} | {:.2} |",
            row.get("mode").and_then(Value::as_str).unwrap_or("?"),
            num(row, "probes_per_s"),
            100.0 * num(row, "of_measured_capacity"),
            100.0 * num(row, "of_capacity"),
            100.0 * num(row, "refused_share"),
            num(row, "requests"),
            num(row, "failed"),
            num(row, "max_in_flight"),
            num(row, "seconds"),
        );
    }
    if let Some(adaptive) = rows.iter().find(|r| {
        r.get("mode")
            .and_then(Value::as_str)
            .is_some_and(|m| m.starts_with("adaptive"))
    }) {
        let throughput = num(adaptive, "of_measured_capacity");
        let refused = num(adaptive, "refused_share");
        let _ = writeln!(
            out,
            "\nGoals for the adaptive batch: at least {:.0} % of the capacity's throughput: {:.1} % of the measured, {:.1} % of the nominal ({}); at most {:.0} % of requests answered 429: {:.1} % ({}).",
            THROUGHPUT_GOAL * 100.0,
            throughput * 100.0,
            num(adaptive, "of_capacity") * 100.0,
            if throughput >= THROUGHPUT_GOAL {
                "met"
            } else {
                "**not met**"
            },
            REFUSED_GOAL * 100.0,
            refused * 100.0,
            if refused <= REFUSED_GOAL {
                "met"
            } else {
                "**not met**"
            },
        );
    }
    let _ = writeln!(
        out,
        "\nA fixed 256 overruns the queue: most of its requests are refused, every refusal's `Retry-After`\n\
         holds the whole batch for a second, and probes refused three times fail. A fixed 8 is never refused\n\
         but leaves half the workers idle. The adaptive limit starts at 4, grows while latency holds and\n\
         settles a few requests above the workers (see `probe_api::batch::limit`).\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_replaces_its_markers_and_nothing_else() {
        let document = "# Benchmarks\n\nbefore\n\n<!-- batch -->\nold\n<!-- /batch -->\nafter\n";
        let spliced = splice(document, "new\n");
        assert_eq!(
            spliced,
            "# Benchmarks\n\nbefore\n\n<!-- batch -->\nnew\n<!-- /batch -->\nafter\n"
        );
        let appended = splice("# Benchmarks\n\nbefore\n", "new\n");
        assert_eq!(
            appended,
            "# Benchmarks\n\nbefore\n\n<!-- batch -->\nnew\n<!-- /batch -->\n"
        );
        assert_eq!(splice(&appended, "new\n"), appended);
    }
}
