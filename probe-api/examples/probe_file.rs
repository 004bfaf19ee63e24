//! Probes a media URL with FFprobe only and prints a short summary.
//!
//! ```text
//! PROBE_API_TOKEN=... cargo run -p probe-api --example probe_file -- https://example.com/video.mp4
//! ```
//!
//! Reads `PROBE_API_TOKEN` (and `PROBE_BASE_URL`, if set) from the environment.

use std::process::ExitCode;

use probe_api::reports::ffprobe::StreamKind;
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

    // The typed FFprobe report, or why there is none (not requested, the
    // tool failed with its message, or unexpected output).
    let ffprobe = report.ffprobe()?;
    println!("{url}");
    if let Some(format) = &ffprobe.format {
        println!(
            "  container: {}  duration: {:?}  bit rate: {} b/s",
            format.format_name.as_deref().unwrap_or("?"),
            ffprobe.duration(),
            format.bit_rate.as_ref().map_or("?", |b| b.raw()),
        );
    }
    for stream in ffprobe.streams() {
        let detail = match stream.kind() {
            StreamKind::Video => format!(
                "{}x{} at {} fps",
                stream.width.unwrap_or(0),
                stream.height.unwrap_or(0),
                stream.frame_rate().map_or("?".into(), |r| r.to_string())
            ),
            StreamKind::Audio => format!(
                "{} Hz, {} channels",
                stream.sample_rate().unwrap_or(0),
                stream.channels.unwrap_or(0)
            ),
            _ => String::new(),
        };
        println!(
            "  #{} {}: {} {detail}",
            stream.index,
            stream.codec_type.as_deref().unwrap_or("?"),
            stream.codec_name.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}
