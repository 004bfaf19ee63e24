//! The first thing to run: probes a sample media file with FFprobe and
//! MediaInfo, then lists your active sessions and fetches one.
//!
//! ```text
//! cargo run -p probe-api --features mock --example quickstart            # offline, built-in mock
//! PROBE_API_TOKEN=... cargo run -p probe-api --features mock --example quickstart -- https://example.com/a.mp4
//! ```
//!
//! With `PROBE_API_TOKEN` unset it starts the built-in mock server in this
//! process and says so on stderr. `--json` prints the raw responses.

use std::process::ExitCode;

use probe_api::Client;
use probe_api::mock::{MockServer, SAMPLE_URL};
use serde_json::Value;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let url = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| SAMPLE_URL.to_string());
    match run(&url, json).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    // Keep the mock alive for as long as the client uses it.
    let (client, _mock) = match std::env::var(probe_api::ENV_API_TOKEN) {
        Ok(token) if !token.trim().is_empty() => (Client::from_env()?, None),
        _ => {
            let mock = MockServer::start().await?;
            eprintln!(
                "offline: PROBE_API_TOKEN is not set, so this runs against the built-in mock at {}; set PROBE_API_TOKEN to use the real API",
                mock.url()
            );
            (mock.client()?, Some(mock))
        }
    };

    let report = client
        .get_file()
        .url(url)
        .ffprobe_show_streams(true)
        .ffprobe_show_format(true)
        .mediainfo_enabled(true)
        .send()
        .await?
        .into_inner();
    let sessions = client.get_sessions().send().await?.into_inner();
    let first = sessions.sessions.as_deref().unwrap_or_default().first();
    let session = match first {
        Some(s) => Some(
            client
                .get_session()
                .session_id(s.id)
                .send()
                .await?
                .into_inner(),
        ),
        None => None,
    };

    if json {
        let raw = serde_json::json!({"file": report, "sessions": sessions, "session": session});
        println!("{}", serde_json::to_string_pretty(&raw)?);
        return Ok(());
    }

    println!("{url}");
    match report.ffprobe.as_ref() {
        Some(tool) if tool.success == Some(true) => {
            print_ffprobe(tool.response.as_ref().unwrap_or(&Value::Null));
        }
        Some(tool) => println!(
            "  FFprobe failed: {}",
            tool.error.as_deref().unwrap_or("no reason given")
        ),
        None => println!("  FFprobe was not run"),
    }
    match report.mediainfo.as_ref() {
        Some(tool) if tool.success == Some(true) => {
            print_mediainfo(tool.response.as_ref().unwrap_or(&Value::Null));
        }
        Some(tool) => println!(
            "  MediaInfo failed: {}",
            tool.error.as_deref().unwrap_or("no reason given")
        ),
        None => println!("  MediaInfo was not run"),
    }

    let all = sessions.sessions.unwrap_or_default();
    println!("\n{} active session(s)", all.len());
    if let Some(session) = session {
        println!(
            "  {}  {}  from {}",
            session.id,
            session.user_agent.as_deref().unwrap_or("?"),
            session
                .remote_ip
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "?".into())
        );
    }
    Ok(())
}

fn print_ffprobe(output: &Value) {
    let format = &output["format"];
    println!(
        "  FFprobe:   {} ({}), {} s, {} b/s",
        text(&format["format_long_name"]),
        text(&format["format_name"]),
        text(&format["duration"]),
        text(&format["bit_rate"])
    );
    for stream in output["streams"].as_array().into_iter().flatten() {
        let kind = text(&stream["codec_type"]);
        let detail = match kind.as_str() {
            "video" => format!(
                "{}x{}, {} fps",
                text(&stream["width"]),
                text(&stream["height"]),
                text(&stream["avg_frame_rate"])
            ),
            "audio" => format!(
                "{} Hz, {} channel(s), language {}",
                text(&stream["sample_rate"]),
                text(&stream["channels"]),
                text(&stream["tags"]["language"])
            ),
            _ => String::new(),
        };
        println!(
            "    #{} {kind:<8} {:<10} {detail}",
            text(&stream["index"]),
            text(&stream["codec_name"])
        );
    }
}

fn print_mediainfo(output: &Value) {
    for track in output["media"]["track"].as_array().into_iter().flatten() {
        let kind = text(&track["@type"]);
        let detail = match kind.as_str() {
            "General" => format!(
                "{}, {} s, {} b/s",
                text(&track["Format"]),
                text(&track["Duration"]),
                text(&track["OverallBitRate"])
            ),
            "Video" => format!(
                "{} {}x{} at {} fps",
                text(&track["Format"]),
                text(&track["Width"]),
                text(&track["Height"]),
                text(&track["FrameRate"])
            ),
            "Audio" => format!(
                "{} {} Hz, {} channel(s)",
                text(&track["Format"]),
                text(&track["SamplingRate"]),
                text(&track["Channels"])
            ),
            _ => match &track["Format"] {
                Value::Null => String::new(),
                format => text(format),
            },
        };
        println!("  MediaInfo: {kind:<8} {detail}");
    }
}

/// A JSON value as the tools print it: strings without quotes, `?` when absent.
fn text(value: &Value) -> String {
    match value {
        Value::Null => "?".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
