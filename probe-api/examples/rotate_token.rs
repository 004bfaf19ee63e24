//! Rotates an API key without a browser: creates a token with the
//! permissions of the current one, switches to it, checks that it works,
//! then deletes the old one.
//!
//! ```text
//! cargo run -p probe-api --features mock --example rotate_token                  # offline, built-in mock
//! PROBE_API_TOKEN=... cargo run -p probe-api --features mock --example rotate_token -- --out new-key.txt
//! ```
//!
//! Against the real API (`PROBE_API_TOKEN` set) `--out FILE` is required:
//! the new key is written there (atomically, readable by the owner only)
//! before the old one is deleted, so no run can leave you without a key.
//! `--ttl SECONDS` gives the new token an expiry (default: none). No token
//! is ever printed; each step prints what it did.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use probe_api::mock::{self, MockServer};
use probe_api::types::{AuthPostApiTokenRequest, UserPermissionName};
use probe_api::{AuthScheme, Client, Secret};

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

struct Options {
    out: Option<PathBuf>,
    ttl: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options { out: None, ttl: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => options.out = Some(args.next().ok_or("--out takes a file")?.into()),
            "--ttl" => {
                options.ttl = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--ttl takes a number of seconds")?;
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; try --out FILE, --ttl SECONDS"
                ));
            }
        }
    }
    Ok(options)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    // The key in use: from the environment, or the built-in mock's.
    let (_mock, client, current) = match std::env::var(probe_api::ENV_API_TOKEN) {
        Ok(key) if !key.trim().is_empty() => {
            if options.out.is_none() {
                return Err("against the real API, --out FILE is required: the new key must be kept somewhere before the old one is deleted".into());
            }
            (None, Client::from_env()?, Secret::new(key.trim()))
        }
        _ => {
            let mock = MockServer::start().await?;
            eprintln!(
                "PROBE_API_TOKEN is not set: rotating the key of the built-in mock at {}",
                mock.url()
            );
            let client = mock.client()?;
            (Some(mock), client, Secret::new(mock::API_KEY))
        }
    };

    // 1. The permissions of the current key.
    let old = client
        .get_api_token()
        .token(current.expose())
        .send()
        .await?
        .into_inner();
    let mut permissions = Vec::new();
    for name in old.permissions.iter().flat_map(|p| p.keys()) {
        match name.parse::<UserPermissionName>() {
            Ok(permission) => permissions.push(permission),
            Err(_) => eprintln!(
                "note: the current key's permission `{name}` is not one this SDK knows; the new key will not have it"
            ),
        }
    }
    println!("the current key has {} permission(s)", permissions.len());

    // 2. A new token with the same permissions.
    let created = client
        .post_api_token()
        .body(AuthPostApiTokenRequest {
            permissions,
            ttl: options.ttl,
        })
        .send()
        .await?
        .into_inner();
    let new = created
        .token
        .ok_or("the API created a token but did not return it")?;
    let expiry = created
        .expires_at
        .map_or_else(|| "never expires".to_string(), |t| format!("expires {t}"));
    println!("created a new token ({expiry})");
    if let Some(out) = &options.out
        && let Err(e) = write_private(out, new.expose())
    {
        // Nothing may keep a token nobody can read: take it back.
        let undone = client.delete_api_token().token(new.expose()).send().await;
        let state = match undone {
            Ok(_) => "the new token is deleted again".to_string(),
            Err(undo) => format!("deleting the new token failed too ({undo})"),
        };
        return Err(format!(
            "cannot write the new token to {}: {e}; the old key is unchanged and {state}",
            out.display()
        )
        .into());
    }
    if let Some(out) = &options.out {
        println!("wrote the new token to {}", out.display());
    }

    // 3. Switch to it and check that it works.
    let rotated = client.with_api_key(new.clone(), AuthScheme::ApiKeyHeader)?;
    let user = rotated.get_current_user().send().await?;
    println!(
        "the new token works: the API answers as {}",
        user.email.as_deref().unwrap_or("the current user")
    );

    // 4. Delete the old key, with the new one, and show it is refused.
    rotated
        .delete_api_token()
        .token(current.expose())
        .send()
        .await?;
    println!("deleted the old token");
    match client.get_current_user().send().await {
        Err(e) if e.is_unauthorized() => println!("the old token is refused now (401)"),
        Err(e) => println!("the old token now gets: {e}"),
        Ok(_) => {
            println!("note: the old token still answers; the API may take a moment to forget it")
        }
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file and a rename, so the
/// file is whole or absent; on Unix only the owner may read it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut file = options.open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
