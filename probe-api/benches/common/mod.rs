//! What the bench binaries share: their inputs, the realistic response
//! bodies built from them, medians, and how results are handed to
//! `cargo xtask bench`.
//!
//! Each binary uses a part of this module, so the rest is dead code there.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

/// The environment variable naming the large FFprobe report (frames and
/// packets of a longer clip), which `cargo xtask bench` makes with ffmpeg.
pub const LARGE_REPORT_VAR: &str = "PROBE_BENCH_LARGE_REPORT";

/// The environment variable naming the file results are appended to, one
/// JSON object a line; without it they are printed.
pub const OUT_VAR: &str = "PROBE_BENCH_OUT";

/// A committed fixture of `probe-api/fixtures/media`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/media")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The large FFprobe report, exactly as ffprobe printed it.
pub fn large_report() -> Vec<u8> {
    let Some(path) = std::env::var_os(LARGE_REPORT_VAR) else {
        eprintln!(
            "{LARGE_REPORT_VAR} is not set: run `cargo xtask bench`, which makes the report with ffmpeg"
        );
        std::process::exit(2);
    };
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", PathBuf::from(path).display()))
}

/// `bytes` (JSON) without insignificant whitespace, keys in their order.
pub fn compact(bytes: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(bytes).expect("the input is JSON");
    serde_json::to_vec(&value).expect("JSON serializes")
}

/// A `get_file` response body (`GetFileResponse`) as the API sends
/// it, compact, around these tool outputs.
pub fn get_file_body(ffprobe: &[u8], mediainfo: Option<&[u8]>) -> Vec<u8> {
    let parse = |bytes: &[u8]| -> Value { serde_json::from_slice(bytes).expect("tool output") };
    let mut body = json!({
        "success": true,
        "ffprobe": {"success": true, "duration": 182, "usage": 1, "response": parse(ffprobe)},
        "metadata": {
            "request_id": "0193a4f2-5c1e-7d2b-9a47-3f0c8e6b1d25",
            "queue_time": 3,
            "io_usage": 107415
        }
    });
    if let Some(mediainfo) = mediainfo {
        body["mediainfo"] =
            json!({"success": true, "duration": 97, "usage": 1, "response": parse(mediainfo)});
    }
    serde_json::to_vec(&body).expect("JSON serializes")
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The value at quantile `q` (0 to 1) of `values`, nearest rank.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Hands one result to `cargo xtask bench` (or prints it).
pub fn emit(record: Value) {
    let line = record.to_string();
    println!("{line}");
    if let Some(path) = std::env::var_os(OUT_VAR) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", PathBuf::from(&path).display()));
        writeln!(file, "{line}").expect("results are written");
    }
}
