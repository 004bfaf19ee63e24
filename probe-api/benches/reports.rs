//! Decoding a large FFprobe report (`-show_frames -show_packets` of a longer
//! clip made by ffmpeg): the SDK's typed [`FfprobeReport`] against
//! `serde_json::Value`, from the same bytes, in alternating rounds; the
//! ratio of each round is taken and the median reported, so a machine busy
//! with other work slows both sides alike. Memory is measured by
//! `report_memory`, whose counting allocator would slow this one down.
//!
//! Run by `cargo xtask bench`, which makes the report and writes
//! BENCHMARKS.md.

mod common;

use std::hint::black_box;
use std::time::Instant;

use probe_api::reports::FfprobeReport;
use probe_api::types::GetFileResponse;
use serde_json::{Value, json};

const WARMUP_ROUNDS: usize = 2;
const ROUNDS: usize = 15;

fn main() {
    let printed = common::large_report();
    let compact = common::compact(&printed);
    let mediainfo = common::fixture("h264_aac.mediainfo.json");
    let response = common::get_file_body(&printed, Some(&mediainfo));
    check_round_trip(&printed);

    for (input, bytes) in [("printed", &printed), ("compact", &compact)] {
        let (typed, value) = alternate(
            || serde_json::from_slice::<FfprobeReport>(bytes).expect("typed decode"),
            || serde_json::from_slice::<Value>(bytes).expect("Value decode"),
        );
        report("decode", input, bytes.len(), &typed, &value);
    }

    // What a caller of `get_file` does: the response type (whose tool
    // output the document types as any JSON), then the typed report.
    let (typed, value) = alternate(
        || {
            let response: GetFileResponse =
                serde_json::from_slice(&response).expect("response decode");
            response.into_ffprobe().expect("typed report")
        },
        || serde_json::from_slice::<Value>(&response).expect("Value decode"),
    );
    report(
        "decode",
        "get_file_response",
        response.len(),
        &typed,
        &value,
    );
}

/// The typed report serializes back to the JSON ffprobe printed.
fn check_round_trip(printed: &[u8]) {
    let report: FfprobeReport = serde_json::from_slice(printed).expect("typed decode");
    let back = serde_json::to_value(&report).expect("serializes");
    let original: Value = serde_json::from_slice(printed).expect("JSON");
    assert!(
        back == original,
        "the typed report does not round-trip the large report"
    );
}

/// Times `typed` and `value` in alternating rounds (which goes first
/// alternates too); each is the time of one decode, in seconds, without
/// dropping the result.
fn alternate<A, B>(
    mut typed: impl FnMut() -> A,
    mut value: impl FnMut() -> B,
) -> (Vec<f64>, Vec<f64>) {
    let mut typed_times = Vec::new();
    let mut value_times = Vec::new();
    let mut time_typed = || {
        let started = Instant::now();
        let out = black_box(typed());
        let elapsed = started.elapsed().as_secs_f64();
        drop(out);
        elapsed
    };
    let mut time_value = || {
        let started = Instant::now();
        let out = black_box(value());
        let elapsed = started.elapsed().as_secs_f64();
        drop(out);
        elapsed
    };
    for round in 0..WARMUP_ROUNDS + ROUNDS {
        let (t, v) = if round % 2 == 0 {
            let t = time_typed();
            (t, time_value())
        } else {
            let v = time_value();
            (time_typed(), v)
        };
        if round >= WARMUP_ROUNDS {
            typed_times.push(t);
            value_times.push(v);
        }
    }
    (typed_times, value_times)
}

fn report(bench: &str, input: &str, bytes: usize, typed: &[f64], value: &[f64]) {
    // Speed of the typed decode relative to Value's: above 1 is faster.
    let speed: Vec<f64> = typed.iter().zip(value).map(|(t, v)| v / t).collect();
    common::emit(json!({
        "bench": bench,
        "input": input,
        "bytes": bytes,
        "rounds": typed.len(),
        "typed_ms": common::median(typed) * 1e3,
        "value_ms": common::median(value) * 1e3,
        "speed_ratio": common::median(&speed),
        "speed_ratio_p25": common::quantile(&speed, 0.25),
        "speed_ratio_p75": common::quantile(&speed, 0.75),
    }));
}
