//! Where the credential comes from, in order: `--api-key-file`, `--api-key`
//! (with a warning), `PROBE_API_TOKEN`, `PROBE_JWT`, the JWT `probe auth
//! login` stored. No credential is ever printed.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use probe_api::{AuthScheme, ClientBuilder};

use crate::args::Global;
use crate::exit::Failure;

/// Overrides the config directory (for tests and unusual setups).
pub const ENV_CONFIG_DIR: &str = "PROBE_CONFIG_DIR";

/// The directory `probe` keeps its stored JWT in: `$PROBE_CONFIG_DIR`, or
/// `probe` under the platform's config directory.
pub fn config_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(ENV_CONFIG_DIR) {
        return Some(PathBuf::from(dir));
    }
    let base = if cfg!(windows) {
        var("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))
    };
    base.map(|b| b.join("probe"))
}

fn jwt_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("jwt"))
}

/// Which credential a command uses, named, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Flag,
    Env(&'static str),
    Stored(PathBuf),
    None,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "the API key in {}", path.display()),
            Source::Flag => f.write_str("the API key given with --api-key"),
            Source::Env(name) => write!(f, "{name}"),
            Source::Stored(path) => write!(
                f,
                "the JWT stored by `probe auth login` ({})",
                path.display()
            ),
            Source::None => f.write_str("no credential"),
        }
    }
}

/// A client builder for the real API (or `--base-url`) with the credential
/// the options and the environment give, and where it came from.
pub fn client_builder(global: &Global) -> Result<(ClientBuilder, Source), Failure> {
    let mut builder = probe_api::Client::builder().with_env();
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url.clone());
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let source = if let Some(path) = &global.api_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::input(format!(
                "cannot read the API key file {}: {e}",
                path.display()
            ))
        })?;
        let key = text.lines().next().unwrap_or_default().trim().to_string();
        if key.is_empty() {
            return Err(Failure::input(format!(
                "the API key file {} is empty",
                path.display()
            )));
        }
        builder = builder.api_key(key);
        Source::File(path.clone())
    } else if let Some(key) = &global.api_key {
        eprintln!(
            "probe: warning: a credential on the command line is kept in shell history and shown by `ps`; use PROBE_API_TOKEN or --api-key-file"
        );
        builder = builder.api_key(key.clone());
        Source::Flag
    } else if env(probe_api::ENV_API_TOKEN).is_some() {
        Source::Env(probe_api::ENV_API_TOKEN)
    } else if env(probe_api::ENV_JWT).is_some() {
        Source::Env(probe_api::ENV_JWT)
    } else if let Some(path) = jwt_path().filter(|p| p.exists()) {
        let jwt = std::fs::read_to_string(&path)
            .map_err(|e| Failure::auth(format!("cannot read {}: {e}", path.display())))?;
        builder = builder
            .jwt(jwt.trim().to_string())
            .auth_scheme(AuthScheme::JwtHeader);
        Source::Stored(path)
    } else {
        Source::None
    };
    Ok((builder, source))
}

/// Where `auth login` found the password, in order: stdin with
/// `--password-stdin`, `PROBE_PASSWORD`, else a prompt on the terminal
/// that does not echo what is typed.
pub fn password(from_stdin: bool, email: &str) -> Result<String, Failure> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input(format!("cannot read the password from stdin: {e}")))?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_string());
    }
    if let Some(password) = std::env::var("PROBE_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return prompt(&format!("Password for {email}: "));
    }
    Err(Failure::input(
        "no password: pipe it with --password-stdin, set PROBE_PASSWORD, or run on a terminal to be asked",
    ))
}

/// Asks on stderr and reads a line from the terminal on stdin with its
/// echo off, so the password is neither shown nor left on the screen; the
/// terminal's settings are put back whatever happens to the read.
#[cfg(unix)]
fn prompt(question: &str) -> Result<String, Failure> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let failed = |e: &dyn std::fmt::Display| {
        Failure::input(format!("cannot ask for the password on the terminal: {e}"))
    };
    let saved = tcgetattr(&stdin).map_err(|e| failed(&e))?;
    let mut quiet = saved.clone();
    // ECHONL still shows the Enter key, so the next message starts on a
    // line of its own.
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).map_err(|e| failed(&e))?;
    eprint!("{question}");
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    read.map_err(|e| failed(&e))?;
    restored.map_err(|e| failed(&e))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::input("no password was typed"));
    }
    Ok(password)
}

/// Without a way to turn the echo off here, no prompt: the password comes
/// from stdin or the environment.
#[cfg(not(unix))]
fn prompt(_question: &str) -> Result<String, Failure> {
    Err(Failure::input(
        "no password: pipe it with --password-stdin or set PROBE_PASSWORD",
    ))
}

/// Stores the JWT: written to a temporary file created with mode 0600,
/// then renamed over the old one, so no reader sees half a token and no
/// other user can read it.
pub fn store_jwt(jwt: &str) -> Result<PathBuf, Failure> {
    let path = jwt_path()
        .ok_or_else(|| Failure::other("no config directory: set HOME or PROBE_CONFIG_DIR"))?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    let temporary = dir.join(format!(".jwt.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        use std::io::Write;
        file.write_all(jwt.as_bytes())?;
        file.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(Failure::other(format!(
            "cannot store the JWT in {}: {e}",
            path.display()
        )));
    }
    Ok(path)
}

/// Removes the stored JWT; whether there was one.
pub fn forget_jwt() -> Result<Option<PathBuf>, Failure> {
    let Some(path) = jwt_path() else {
        return Ok(None);
    };
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(Some(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::other(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}
