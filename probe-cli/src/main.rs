//! `probe`: the Probe.dev media analysis API on the command line.
//!
//! The commands written by hand are clap derive (`args.rs`); one command
//! per operation of the API is added from the operations table the SDK
//! generated from the document (`operations.rs`), and called by name
//! through `probe_api::dynamic`. Answers go to stdout, messages to stderr,
//! and the exit code says what kind of failure ended the command
//! (`exit.rs`).

mod args;
mod commands;
mod credentials;
mod exit;
mod operations;
mod output;

use std::process::ExitCode;

use clap::{Command, CommandFactory, FromArgMatches};

use crate::args::{AuthCommand, Cli, Fixed, Global};
use crate::exit::Failure;
use crate::output::Printer;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// The whole command line: the hand-written commands and one per operation.
fn command() -> Command {
    Cli::command()
        .subcommands(operations::commands())
        .after_help(exit::CODES)
}

fn run() -> Result<(), Failure> {
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => return Err(usage_error(error)),
    };
    let global = Global::from_arg_matches(&matches).map_err(usage_error)?;
    if global.verbose {
        verbose();
    }
    let Some((name, sub)) = matches.subcommand() else {
        return Err(Failure::input("no command; see `probe --help`"));
    };
    // An operation of the document.
    if let Some(op) = operations::find(name) {
        let call = operations::call(op, sub)?;
        return with_client(&global, |client, printer| async move {
            commands::operation(&client, op, call, printer, global.raw).await
        });
    }
    let fixed = Fixed::from_arg_matches(&matches).map_err(usage_error)?;
    match fixed {
        Fixed::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command(), "probe", &mut out);
            output::write_bytes(&out)
        }
        Fixed::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command())
                .render(&mut out)
                .map_err(|e| Failure::other(format!("cannot render the man page: {e}")))?;
            output::write_bytes(&out)
        }
        Fixed::File(args) => with_client(&global, |client, printer| async move {
            commands::file(&client, args, printer).await
        }),
        Fixed::Batch(args) => with_client(&global, |client, _| async move {
            commands::batch(&client, args).await
        }),
        Fixed::Log(args) => with_client(&global, |client, printer| async move {
            commands::log(&client, args, printer).await
        }),
        Fixed::Usage(args) => with_client(&global, |client, printer| async move {
            commands::usage(&client, args, printer).await
        }),
        Fixed::Api(args) => {
            let raw = global.raw;
            with_client(&global, |client, printer| async move {
                commands::api(&client, args, printer, raw).await
            })
        }
        Fixed::Auth(command) => auth(&global, command),
    }
}

/// A clap error as one line (help and version print as clap has them).
fn usage_error(error: clap::Error) -> Failure {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            std::process::exit(
                if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                },
            );
        }
        _ => {
            // clap's first paragraph, on one line: the problem and, for a
            // missing flag, the flags.
            let text = error.render().to_string();
            let paragraph: Vec<&str> = text
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = paragraph.join(" ");
            let first = first.trim_start_matches("error: ");
            let first = if first.is_empty() {
                "invalid arguments"
            } else {
                first
            };
            Failure::input(format!("{first} (see --help)"))
        }
    }
}

/// `--verbose`: the SDK's requests, retries and timings on stderr.
fn verbose() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("probe_api", tracing::Level::DEBUG);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}

/// Runs `job` on a runtime with the client the options ask for: the
/// built-in mock's with `--mock`, else the API's (or `--base-url`'s) with
/// the credential found.
fn with_client<F, Fut>(global: &Global, job: F) -> Result<(), Failure>
where
    F: FnOnce(probe_api::Client, Printer) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other(format!("cannot start the async runtime: {e}")))?;
    let printer = Printer::new(global.format);
    runtime.block_on(async {
        if global.mock {
            if global.base_url.is_some() {
                return Err(Failure::input("--mock and --base-url exclude each other"));
            }
            let mock = probe_api::mock::MockServer::start()
                .await
                .map_err(|e| Failure::other(format!("cannot start the mock: {e}")))?;
            let client = mock.client()?;
            // The mock lives until the job is done.
            let outcome = job(client, printer).await;
            drop(mock);
            return outcome;
        }
        let (builder, _) = credentials::client_builder(global)?;
        let client = builder.build()?;
        job(client, printer).await
    })
}

/// `probe auth …`.
fn auth(global: &Global, command: AuthCommand) -> Result<(), Failure> {
    match command {
        AuthCommand::Login {
            with_token: true, ..
        } => {
            let token = credentials::token_from_stdin()?;
            let mock = global.mock;
            with_client(global, |client, _| async move {
                // Checked before it is kept: a mistyped token fails here,
                // not at the next command.
                let client =
                    client.with_api_key(token.clone(), probe_api::AuthScheme::ApiKeyHeader)?;
                let who = signed_in_as(&client).await.map_err(|error| {
                    let mut failure = Failure::from(error);
                    failure.message =
                        format!("the API token was not accepted: {}", failure.message);
                    failure
                })?;
                keep(
                    mock,
                    credentials::Stored::ApiToken,
                    &token,
                    &format!("the API token is accepted ({who})"),
                )
            })
        }
        AuthCommand::Login {
            email,
            password_stdin,
            ..
        } => {
            let email = credentials::email(email)?;
            let password = credentials::password(password_stdin, &email)?;
            let mock = global.mock;
            with_client(global, |client, _| async move {
                let (_, response) = client.sign_in(&email, password).await?;
                let jwt = response
                    .jwt_token
                    .as_ref()
                    .and_then(|t| t.token.as_ref())
                    .map(|t| t.expose().to_string())
                    .ok_or_else(|| Failure::other("the API answered the sign-in without a JWT"))?;
                keep(
                    mock,
                    credentials::Stored::Jwt,
                    &jwt,
                    &format!("signed in as {email}"),
                )
            })
        }
        AuthCommand::Status => {
            let source = if global.mock {
                credentials::Source::Env("the built-in mock's API key")
            } else {
                credentials::client_builder(global)?.1
            };
            with_client(global, |client, _| async move {
                match signed_in_as(&client).await {
                    Ok(who) => {
                        eprintln!("probe: {source} is accepted: signed in as {who}");
                        Ok(())
                    }
                    Err(error) => {
                        let mut failure = Failure::from(error);
                        failure.message = format!("{source}: {}", failure.message);
                        Err(failure)
                    }
                }
            })
        }
        AuthCommand::Logout => {
            let removed = credentials::forget_all()?;
            if removed.is_empty() {
                eprintln!("probe: no credential was stored");
            }
            for (kind, path) in removed {
                eprintln!("probe: removed the stored {kind} ({})", path.display());
            }
            Ok(())
        }
    }
}

/// The e-mail of the account the client's credential belongs to, as the
/// API says.
async fn signed_in_as(client: &probe_api::Client) -> Result<String, probe_api::Error> {
    let user =
        probe_api::dynamic::call(client, "get_current_user", &Default::default(), None).await?;
    Ok(user
        .get("email")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("an account without an e-mail")
        .to_string())
}

/// Keeps the credential a login gave for later commands and says so, with
/// `what` happened; against the mock, which ends with the command, nothing
/// is kept.
fn keep(mock: bool, kind: credentials::Stored, secret: &str, what: &str) -> Result<(), Failure> {
    if mock {
        eprintln!("probe: {what} by the mock; nothing stored (the mock ends with this command)");
        return Ok(());
    }
    let path = credentials::store(kind, secret)?;
    eprintln!("probe: {what}; the {kind} is stored in {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        // Duplicate flags between the global options and an operation's
        // parameters, among other mistakes, fail here.
        super::command().debug_assert();
    }
}
