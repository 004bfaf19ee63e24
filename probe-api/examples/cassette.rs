//! Records a session against the mock into a cassette, replays it on a
//! mock whose handlers are off, and prints the cassette.
//!
//! ```text
//! cargo run -p probe-api --features mock --example cassette                 # a temporary file
//! cargo run -p probe-api --features mock --example cassette -- session.json # keep the cassette
//! ```
//!
//! The session meets a 503 (retried), creates an API token and reads it
//! back by its value (a token in the path): the cassette shows the retry
//! as two interactions and the token as `REDACTED_TOKEN_1` wherever it
//! went. In a test of your own, `probe_api::mock::Playback::from_env`
//! chooses recording or replaying with `PROBE_CASSETTE`.

use std::process::ExitCode;

use probe_api::Client;
use probe_api::cassette::Cassette;
use probe_api::mock::{self, Fault, MockServer};
use probe_api::types::AuthPostApiTokenRequest;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What the session shows of each call: the attempts and the token's
/// permissions, which recording and replaying must agree on.
async fn session(client: &Client) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let report = client.get_file().url(mock::SAMPLE_URL).send().await?;
    let created = client
        .post_api_token()
        .body(AuthPostApiTokenRequest::default())
        .send()
        .await?;
    let token = created.token.clone().ok_or("the API returned no token")?;
    let read = client.get_api_token().token(token.expose()).send().await?;
    Ok(vec![
        format!(
            "get_file: {} attempt(s), success {:?}",
            report.attempts(),
            report.success
        ),
        format!("post_api_token: {} attempt(s)", created.attempts()),
        format!("get_api_token: permissions {:?}", read.permissions),
    ])
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let keep = std::env::args().nth(1);
    let path = match &keep {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            std::env::temp_dir().join(format!("probe-api-cassette-{}.json", std::process::id()))
        }
    };

    // Record against the mock, standing in for the API.
    let live = MockServer::start().await?;
    live.inject("get_file", [Fault::status(503)])?;
    let recording = Cassette::create(&path);
    let recorder = live.client_builder().record(recording.clone()).build()?;
    let recorded = session(&recorder).await?;
    recording.finish()?;
    eprintln!(
        "recorded {} interactions:",
        recording.cassette().interactions.len()
    );
    for line in &recorded {
        eprintln!("  {line}");
    }

    // Replay with the handlers off: no fault is queued, yet the retry
    // comes back, because the 503 is in the cassette.
    let replaying = MockServer::replay(Cassette::load(&path)?).await?;
    let replayed = session(&replaying.client()?).await?;
    replaying.verify()?;
    eprintln!("replayed, every interaction used:");
    for line in &replayed {
        eprintln!("  {line}");
    }
    if replayed != recorded {
        return Err("the replay differs from the recording".into());
    }

    print!("{}", std::fs::read_to_string(&path)?);
    if keep.is_none() {
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
