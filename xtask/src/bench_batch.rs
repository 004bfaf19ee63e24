//! The batch section of BENCHMARKS.md: `probe-api/benches/batch.rs` runs
//! `probe_many` against the mock with a set capacity, adaptive and at
//! fixed concurrencies, then against a queueing and a refusing service at
//! three capacities, and this renders what it measured.
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

/// Goals the adaptive batch must meet against a service that queues.
const THROUGHPUT_GOAL: f64 = 0.9;
const REFUSED_GOAL: f64 = 0.02;
/// Goals against a service that refuses at once: the time against a fixed
/// concurrency equal to the capacity, and the share refused.
const REFUSING_TIME_GOAL: f64 = 1.25;
const REFUSING_REFUSED_GOAL: f64 = 0.05;

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
        services(&mut out, results);
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
            verdict(throughput >= THROUGHPUT_GOAL),
            REFUSED_GOAL * 100.0,
            refused * 100.0,
            verdict(refused <= REFUSED_GOAL),
        );
    }
    let _ = writeln!(
        out,
        "\nA fixed 256 overruns the queue: most of its requests are refused, each refused probe waits its\n\
         `Retry-After`, and probes refused three times fail. A fixed 8 is never refused but leaves half the\n\
         workers idle. The adaptive limit starts at 4, doubles each round trip until latency rises, and\n\
         settles a few requests above the workers (see `probe_api::batch::limit`).\n"
    );
    services(&mut out, results);
    out
}

/// Whether `met` holds, as the section says it.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

/// The table of each kind of service at each capacity.
fn services(out: &mut String, results: &[Value]) {
    let rows: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("bench").and_then(Value::as_str) == Some("batch_service"))
        .collect();
    let Some(first) = rows.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "### Each kind of service\n\n\
         A service that queues (a queue as long as its workers, then 429) and one that refuses at once beyond\n\
         its workers (429 with no queue, so latency never shows it is full), each at three capacities, {} ms a\n\
         probe and `Retry-After: {}`: the default batch (`ProbeMany::new()`) beside a fixed concurrency equal\n\
         to the capacity, which a user would have to know to choose, in the same run. Of capacity: the\n\
         URLs over the time the workers would take at full use. Each figure is the median of {} rounds.\n",
        num(first, "service_ms"),
        num(first, "retry_after_s"),
        num(first, "rounds"),
    );
    let _ = writeln!(
        out,
        "| service | capacity | URLs | default batch | fixed = capacity | time ratio | of capacity (default / fixed) | requests answered 429 (default / fixed) | probes failed | most in flight at the mock | goal |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let service = row.get("service").and_then(Value::as_str).unwrap_or("?");
        let ratio = num(row, "time_ratio");
        let refused = num(row, "refused_share");
        let goal = if service == "refusing" {
            format!(
                "at most {REFUSING_TIME_GOAL:.2}x the time, {:.0} % refused: {}",
                REFUSING_REFUSED_GOAL * 100.0,
                verdict(ratio <= REFUSING_TIME_GOAL && refused <= REFUSING_REFUSED_GOAL)
            )
        } else {
            // The fixed concurrency fills every worker and is never
            // refused: the measured capacity.
            format!(
                "at least {:.0} % of the fixed's throughput, {:.0} % refused: {}",
                THROUGHPUT_GOAL * 100.0,
                REFUSED_GOAL * 100.0,
                verdict(1.0 / ratio >= THROUGHPUT_GOAL && refused <= REFUSED_GOAL)
            )
        };
        let _ = writeln!(
            out,
            "| {service} | {:.0} | {:.0} | {:.1} s | {:.1} s | {:.2}x | {:.1} % / {:.1} % | {:.1} % / {:.1} % | {:.0} | {:.0} | {goal} |",
            num(row, "workers"),
            num(row, "urls"),
            num(row, "seconds"),
            num(row, "fixed_seconds"),
            ratio,
            100.0 * num(row, "of_capacity"),
            100.0 * num(row, "fixed_of_capacity"),
            100.0 * refused,
            100.0 * num(row, "fixed_refused_share"),
            num(row, "failed"),
            num(row, "max_in_flight"),
        );
    }
    let _ = writeln!(
        out,
        "\nThe default batch finds each capacity by itself: it doubles until the first refusal or rise in\n\
         latency, then a refusal lowers the limit to 90 % of what the service was taking and only the refused\n\
         probe waits its `Retry-After`; the whole batch pauses only when the service refuses everything\n\
         (`probe_api::batch::limit::PauseRule`).\n"
    );
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

    #[test]
    fn each_kind_of_service_is_judged_by_its_own_goal() {
        let row = |service: &str, ratio: f64, refused: f64| {
            serde_json::json!({
                "bench": "batch_service", "service": service, "workers": 6, "urls": 400,
                "service_ms": 200, "retry_after_s": 1, "rounds": 3, "seconds": 16.0 * ratio,
                "fixed_seconds": 16.0, "time_ratio": ratio, "of_capacity": 0.8 / ratio,
                "fixed_of_capacity": 0.8, "refused_share": refused, "fixed_refused_share": 0.0,
                "failed": 0, "max_in_flight": 7,
            })
        };
        let rendered = section(&[
            row("refusing", 1.2, 0.04),
            row("refusing", 1.3, 0.01),
            row("queueing", 1.05, 0.01),
            row("queueing", 1.05, 0.03),
        ]);
        let goals: Vec<&str> = rendered
            .lines()
            .filter(|l| l.starts_with("| refusing") || l.starts_with("| queueing"))
            .map(|l| l.rsplit(": ").next().unwrap_or(""))
            .collect();
        assert_eq!(
            goals,
            ["met |", "**not met** |", "met |", "**not met** |"],
            "{rendered}"
        );
        assert!(rendered.contains("| refusing | 6 | 400 | 19.2 s | 16.0 s | 1.20x |"));
    }
}
