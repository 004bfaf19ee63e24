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
//! Offline, `--fault 503|429|html|malformed|drop|slow` makes the mock
//! misbehave on the file probe, to see what the client does about it.

use std::process::ExitCode;

use probe_api::Client;
use probe_api::mock::{Fault, MockServer, SAMPLE_URL};
use probe_api::reports::ffprobe::StreamKind;
use probe_api::reports::mediainfo::Track;
use probe_api::reports::{FfprobeReport, MediaInfoReport, Printed};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let fault = args
        .iter()
        .position(|a| a == "--fault")
        .map(|i| args.get(i + 1).cloned().unwrap_or_default());
    let url = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--fault"))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| SAMPLE_URL.to_string());
    match run(&url, json, fault.as_deref()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The faults `--fault NAME` injects, offline, three times in a row on the
/// file probe: one more than the client retries.
fn fault(name: &str) -> Result<Fault, String> {
    Ok(match name {
        "503" => Fault::status(503),
        "429" => Fault::retry_after(429, "1"),
        "html" => Fault::Html(502),
        "malformed" => Fault::MalformedBody,
        "drop" => Fault::DropConnection,
        "slow" => Fault::Delay(std::time::Duration::from_millis(300)),
        other => {
            return Err(format!(
                "unknown fault `{other}`; try 503, 429, html, malformed, drop or slow"
            ));
        }
    })
}

async fn run(
    url: &str,
    json: bool,
    fault_name: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    // Keep the mock alive for as long as the client uses it.
    let (client, _mock) = match std::env::var(probe_api::ENV_API_TOKEN) {
        Ok(token) if !token.trim().is_empty() => (Client::from_env()?, None),
        _ => {
            let mock = MockServer::start().await?;
            eprintln!(
                "offline: PROBE_API_TOKEN is not set, so this runs against the built-in mock at {}; set PROBE_API_TOKEN to use the real API",
                mock.url()
            );
            if let Some(name) = fault_name {
                mock.inject("get_file", vec![fault(name)?; 3])?;
                eprintln!("injecting the fault `{name}` into the next 3 file probes");
            }
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
    match report.ffprobe() {
        Ok(ffprobe) => print_ffprobe(ffprobe),
        Err(why) => println!("  FFprobe:   {why}"),
    }
    match report.mediainfo() {
        Ok(mediainfo) => print_mediainfo(mediainfo),
        Err(why) => println!("  MediaInfo: {why}"),
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

fn print_ffprobe(report: &FfprobeReport) {
    let format = report.format.clone().unwrap_or_default();
    println!(
        "  FFprobe:   {} ({}), {}, {}",
        format.format_long_name.as_deref().unwrap_or("?"),
        format.format_name.as_deref().unwrap_or("?"),
        seconds(report.duration()),
        rate(format.bit_rate.as_ref().and_then(|b| b.value())),
    );
    for stream in report.streams() {
        let detail = match stream.kind() {
            StreamKind::Video => format!(
                "{}x{}, {} fps",
                number(stream.width),
                number(stream.height),
                stream
                    .frame_rate()
                    .map_or("?".to_string(), |r| format!("{r} ({:.3})", r.as_f64()))
            ),
            StreamKind::Audio => format!(
                "{} Hz, {} channel(s), language {}",
                number(stream.sample_rate()),
                number(stream.channels),
                stream.language().unwrap_or("?")
            ),
            _ => String::new(),
        };
        println!(
            "    #{} {:<8} {:<10} {detail}",
            stream.index,
            stream.codec_type.as_deref().unwrap_or("?"),
            stream.codec_name.as_deref().unwrap_or("?"),
        );
    }
}

fn print_mediainfo(report: &MediaInfoReport) {
    for track in report.tracks() {
        let detail = match track {
            Track::General(g) => format!(
                "{}, {}, {}",
                text(&g.format),
                seconds(report.duration()),
                rate(g.overall_bit_rate.as_ref().and_then(|b| b.value()))
            ),
            Track::Video(v) => format!(
                "{} {}x{} at {} fps",
                text(&v.format),
                text(&v.width),
                text(&v.height),
                v.frame_rate_exact()
                    .map_or_else(|| text(&v.frame_rate), |r| r.to_string())
            ),
            Track::Audio(a) => format!(
                "{} {} Hz, {} channel(s)",
                text(&a.format),
                text(&a.sampling_rate),
                text(&a.channels)
            ),
            Track::Text(t) => format!("{} ({})", text(&t.format), text(&t.language)),
            Track::Menu(m) => format!("{} chapter marker(s)", m.chapters().len()),
            _ => String::new(),
        };
        println!("  MediaInfo: {:<8} {detail}", track.kind());
    }
}

fn text<T>(value: &Option<Printed<T>>) -> String {
    value
        .as_ref()
        .map_or("?".to_string(), |v| v.raw().to_string())
}

fn number<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or("?".to_string(), |v| v.to_string())
}

fn seconds(duration: Option<std::time::Duration>) -> String {
    duration.map_or("? s".to_string(), |d| format!("{:.3} s", d.as_secs_f64()))
}

fn rate(bits_per_second: Option<u64>) -> String {
    bits_per_second.map_or("? b/s".to_string(), |b| format!("{} kb/s", b / 1000))
}
