//! Peak memory of decoding the large FFprobe report: a counting global
//! allocator records the most bytes live while each decode runs, above
//! what was live before it (the body itself). Reported as the body plus
//! that peak, over the body size.
//!
//! Then the user path over loopback: the SDK's `get_file` and
//! `into_ffprobe()` against the same request written by hand decoding into
//! the same report type, each measured for the whole call (the body
//! arrives inside it). Last, a walk ([`probe_api::reports::walk_ffprobe`])
//! over a `get_file` response of at least 200 MB made by repeating the
//! report's frames and packets.
//!
//! Run by `cargo xtask bench`, which makes the report and writes
//! BENCHMARKS.md.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use peak_alloc::PeakAlloc;
use probe_api::reports::FfprobeReport;
use probe_api::types::GetFileResponse;
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
        let response: GetFileResponse = serde_json::from_slice(&response).expect("response decode");
        response.into_ffprobe().expect("typed report")
    });
    let value = measure(|| serde_json::from_slice::<Value>(&response).expect("Value"));
    report("get_file_response", response.len(), typed, value);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(calls(&compact));
}

/// The typed report inside a `get_file` response, by hand.
#[derive(serde::Deserialize)]
struct HandFile {
    ffprobe: HandTool,
}

#[derive(serde::Deserialize)]
struct HandTool {
    response: FfprobeReport,
}

/// Peak memory of whole calls: the user path, then a walk of a huge report.
async fn calls(report: &[u8]) {
    let body = common::get_file_body(report, None);
    let bytes = body.len();
    let base = common::serve_fixed(Arc::new(body));
    let client = probe_api::Client::builder()
        .base_url(&base)
        .api_key("bench-api-key")
        .build()
        .expect("client");
    let http = reqwest::Client::builder()
        .user_agent(probe_api::USER_AGENT)
        .build()
        .expect("reqwest client");
    let sdk = || async {
        client
            .get_file()
            .url("https://media.example/bench/frames.mp4")
            .send()
            .await
            .expect("get_file")
            .into_inner()
            .into_ffprobe()
            .expect("typed")
    };
    let hand = || async {
        let response = http
            .get(format!("{base}/v1/probe/file"))
            .query(&[("url", "https://media.example/bench/frames.mp4")])
            .bearer_auth("bench-api-key")
            .send()
            .await
            .expect("sent");
        let bytes = response.bytes().await.expect("body");
        serde_json::from_slice::<HandFile>(&bytes)
            .expect("decodes")
            .ffprobe
            .response
    };
    // Connections open and buffers settle before anything is measured.
    drop(sdk().await);
    drop(hand().await);
    let sdk_peak = measure_async(sdk()).await;
    let hand_peak = measure_async(hand()).await;
    common::emit(json!({
        "bench": "call_memory",
        "bytes": bytes,
        "sdk_peak_bytes": sdk_peak.0,
        "hand_peak_bytes": hand_peak.0,
        "sdk_peak_times_body": sdk_peak.0 as f64 / bytes as f64,
        "hand_peak_times_body": hand_peak.0 as f64 / bytes as f64,
    }));

    let huge = common::huge_get_file_body(report, HUGE_BYTES);
    let huge_bytes = huge.len();
    let base = common::serve_fixed(Arc::new(huge));
    let client = probe_api::Client::builder()
        .base_url(&base)
        .api_key("bench-api-key")
        .build()
        .expect("client");
    let items = Arc::new(AtomicU64::new(0));
    let counted = items.clone();
    let started = std::time::Instant::now();
    let (peak, _) = measure_async(async {
        probe_api::reports::walk_ffprobe(
            &client,
            move |_item| {
                counted.fetch_add(1, Ordering::Relaxed);
            },
            async |walking| {
                walking
                    .get_file()
                    .url("https://media.example/bench/huge.mp4")
                    .send()
                    .await
            },
        )
        .await
        .expect("walked")
        .into_inner()
    })
    .await;
    common::emit(json!({
        "bench": "walk_memory",
        "bytes": huge_bytes,
        "items": items.load(Ordering::Relaxed),
        "seconds": started.elapsed().as_secs_f64(),
        "peak_bytes": peak,
    }));
}

/// The smallest body the walk is measured on.
const HUGE_BYTES: usize = 200_000_000;

/// Bytes allocated by `call` at its peak and when it ends, above what was
/// live before.
async fn measure_async<T>(call: impl std::future::Future<Output = T>) -> (usize, usize) {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = call.await;
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    let kept = ALLOCATOR.current_usage().saturating_sub(before);
    drop(out);
    (peak, kept)
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
