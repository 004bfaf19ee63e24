//! Lists active sessions and fetches one, authenticating with a JWT instead
//! of an API key: `PROBE_JWT` if set, else a sign-in with `PROBE_EMAIL` and
//! `PROBE_PASSWORD`.
//!
//! ```text
//! PROBE_EMAIL=me@example.com PROBE_PASSWORD=... cargo run -p probe-api --example sessions_jwt
//! ```
//!
//! Reads `PROBE_BASE_URL`, if set, from the environment.

use std::process::ExitCode;

use probe_api::Client;

#[path = "sessions.rs"]
#[allow(dead_code)]
mod sessions;

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

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The environment without an API key: this example shows the JWT.
    let env = std::env::vars().filter(|(name, _)| name != probe_api::ENV_API_TOKEN);
    let client = Client::builder().with_env_vars(env).build()?;
    let client = match client.auth_scheme() {
        Some(scheme) if scheme.is_jwt() => client,
        _ => {
            let email = std::env::var("PROBE_EMAIL")
                .map_err(|_| "set PROBE_JWT, or PROBE_EMAIL and PROBE_PASSWORD")?;
            let password =
                std::env::var("PROBE_PASSWORD").map_err(|_| "set PROBE_PASSWORD to sign in")?;
            let (client, signed_in) = client.sign_in(&email, password).await?;
            if let Some(expire) = signed_in.jwt_token.and_then(|t| t.expire) {
                println!(
                    "signed in as {email}; the JWT expires {}",
                    expire.to_rfc3339()
                );
            }
            client
        }
    };
    // The JWT travels as `Authorization: Bearer`; `ClientBuilder::auth_scheme`
    // or `Client::with_jwt` send it as the `jwt` cookie or query parameter.
    sessions::list_and_get(&client).await
}
