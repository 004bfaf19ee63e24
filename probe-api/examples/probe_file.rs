//! Probes a media URL with FFprobe only and prints a short summary.
//!
//! ```text
//! PROBE_API_TOKEN=... cargo run -p probe-api --example probe_file -- https://example.com/video.mp4
//! ```
//!
//! Reads `PROBE_API_TOKEN` (and `PROBE_BASE_URL`, if set) from the environment.

use std::process::ExitCode;

use probe_api::{Client, types};

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: probe_file <media URL>");
        return ExitCode::FAILURE;
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let report = client
        .get_file()
        .url(url)
        .only(types::GetFileOnly::Ffprobe)
        .ffprobe_show_streams(true)
        .ffprobe_show_format(true)
        .send()
        .await?
        .into_inner();

    let Some(ffprobe) = report.ffprobe else {
        return Err("the response has no FFprobe report".into());
    };
    if !ffprobe.success.unwrap_or(false) {
        let reason = ffprobe.error.unwrap_or_else(|| "no reason given".into());
        return Err(format!("FFprobe failed: {reason}").into());
    }
    let output = ffprobe.response.unwrap_or_default();
    let format = &output["format"];
    println!("{url}");
    println!(
        "  container: {}  duration: {} s  bit rate: {} b/s",
        text(&format["format_name"]),
        text(&format["duration"]),
        text(&format["bit_rate"]),
    );
    for stream in output["streams"].as_array().into_iter().flatten() {
        let kind = text(&stream["codec_type"]);
        let detail = match kind.as_str() {
            "video" => format!(
                "{}x{} at {} fps",
                text(&stream["width"]),
                text(&stream["height"]),
                text(&stream["avg_frame_rate"])
            ),
            "audio" => format!(
                "{} Hz, {} channels",
                text(&stream["sample_rate"]),
                text(&stream["channels"])
            ),
            _ => String::new(),
        };
        println!(
            "  #{} {kind}: {} {detail}",
            text(&stream["index"]),
            text(&stream["codec_name"])
        );
    }
    if let Some(ms) = ffprobe.duration {
        println!("  analysed in {ms} ms");
    }
    Ok(())
}

/// A JSON value as FFprobe prints it: strings without quotes, `?` when absent.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "?".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
