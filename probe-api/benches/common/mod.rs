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

/// A loopback HTTP/1.1 server on its own thread answering every request
/// with `body` as JSON, keeping connections open. It is plain std I/O and
/// writes the body from the one copy it holds, so it allocates almost
/// nothing per request: the memory bench counts every allocation of the
/// process, the server's included. Returns its base URL.
pub fn serve_fixed(body: std::sync::Arc<Vec<u8>>) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let mut buf = [0u8; 8192];
                let mut seen: Vec<u8> = Vec::with_capacity(8192);
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    // One request at a time: answer once its head is in.
                    if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        seen.clear();
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(&body).is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A `get_file` body of at least `min_bytes` whose FFprobe report repeats
/// the frames and packets of `report` (ffprobe's JSON) until it is that
/// large, written as text without building it as a `Value`.
pub fn huge_get_file_body(report: &[u8], min_bytes: usize) -> Vec<u8> {
    let value: Value = serde_json::from_slice(report).expect("the report is JSON");
    let key = ["packets_and_frames", "frames", "packets"]
        .into_iter()
        .find(|k| value.get(*k).is_some_and(Value::is_array))
        .expect("the report has frames or packets");
    let items: Vec<String> = value[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| item.to_string())
        .collect();
    let mut rest = value.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove(key);
    }
    let rest = rest.to_string();
    let mut body = Vec::with_capacity(min_bytes + (1 << 20));
    body.extend_from_slice(br#"{"success":true,"ffprobe":{"success":true,"response":{""#);
    body.extend_from_slice(key.as_bytes());
    body.extend_from_slice(b"\":[");
    let mut first = true;
    'fill: loop {
        for item in &items {
            if !first {
                body.push(b',');
            }
            first = false;
            body.extend_from_slice(item.as_bytes());
            if body.len() >= min_bytes {
                break 'fill;
            }
        }
    }
    body.push(b']');
    // The rest of the report (format, streams) after the items.
    let rest = rest.trim_start_matches('{');
    if rest != "}" {
        body.push(b',');
    }
    body.extend_from_slice(rest.as_bytes());
    body.extend_from_slice(b"}}");
    body
}
