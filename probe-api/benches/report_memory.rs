//! Peak memory of decoding the large FFprobe report: a counting global
//! allocator records the most bytes live while each decode runs, above
//! what was live before it (the body itself). Reported as the body plus
//! that peak, over the body size.
//!
//! Run by `cargo xtask bench`, which makes the report and writes
//! BENCHMARKS.md.

mod common;

use peak_alloc::PeakAlloc;
use probe_api::reports::FfprobeReport;
use probe_api::types::GatewayGetFileResponse;
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

fn main() {
    let printed = common::large_report();
    let compact = common::compact(&printed);
    let mediainfo = common::fixture("h264_aac.mediainfo.json");
    let response = common::get_file_body(&printed, Some(&mediainfo));

    for (input, bytes) in [("printed", &printed), ("compact", &compact)] {
        let typed = measure(|| serde_json::from_slice::<FfprobeReport>(bytes).expect("typed"));
        let value = measure(|| serde_json::from_slice::<Value>(bytes).expect("Value"));
        report(input, bytes.len(), typed, value);
    }
    let typed = measure(|| {
        let response: GatewayGetFileResponse =
            serde_json::from_slice(&response).expect("response decode");
        response.into_ffprobe().expect("typed report")
    });
    let value = measure(|| serde_json::from_slice::<Value>(&response).expect("Value"));
    report("get_file_response", response.len(), typed, value);
}

/// Bytes allocated by `decode` at its peak and when it returns, above what
/// was live before.
fn measure<T>(decode: impl FnOnce() -> T) -> (usize, usize) {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = decode();
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    let kept = ALLOCATOR.current_usage().saturating_sub(before);
    drop(out);
    (peak, kept)
}

fn report(input: &str, bytes: usize, typed: (usize, usize), value: (usize, usize)) {
    let times = |extra: usize| (bytes + extra) as f64 / bytes as f64;
    common::emit(json!({
        "bench": "memory",
        "input": input,
        "bytes": bytes,
        "typed_peak_bytes": typed.0,
        "typed_kept_bytes": typed.1,
        "value_peak_bytes": value.0,
        "value_kept_bytes": value.1,
        "typed_peak_times_body": times(typed.0),
        "value_peak_times_body": times(value.0),
    }));
}
