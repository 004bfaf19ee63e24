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

    print!("{url}\n{}", report.summary());

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
