//! Lists the account's active sessions and fetches the first one by id.
//!
//! ```text
//! PROBE_API_TOKEN=... cargo run -p probe-api --example sessions
//! ```
//!
//! Reads `PROBE_API_TOKEN` (and `PROBE_BASE_URL`, if set) from the environment.

use std::process::ExitCode;

use probe_api::Client;

#[tokio::main]
async fn main() -> ExitCode {
    let result = async {
        let client = Client::from_env()?;
        list_and_get(&client).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints every active session, then fetches the first one by its id.
pub async fn list_and_get(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    let sessions = client.get_sessions().send().await?.into_inner();
    let sessions = sessions.sessions.unwrap_or_default();
    println!("{} active session(s)", sessions.len());
    for session in &sessions {
        println!(
            "  {}  {}  expires {}",
            session.id,
            session.user_agent.as_deref().unwrap_or("?"),
            session
                .expire
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "?".into()),
        );
    }
    if let Some(first) = sessions.first() {
        let session = client
            .get_session()
            .session_id(first.id)
            .send()
            .await?
            .into_inner();
        println!(
            "session {}: created {}, from {}",
            session.id,
            session
                .created
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "?".into()),
            session
                .remote_ip
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "?".into()),
        );
    }
    Ok(())
}
