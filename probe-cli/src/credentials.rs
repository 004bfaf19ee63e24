//! Where the credential comes from, in order: `--api-key-file`, `--api-key`
//! (with a warning), `PROBE_API_TOKEN`, `PROBE_JWT`, the credential `probe
//! auth login` stored (an API token with `--with-token`, else a JWT). No
//! credential is ever printed.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use probe_api::{AuthScheme, ClientBuilder};

use crate::args::Global;
use crate::exit::Failure;

/// Overrides the config directory (for tests and unusual setups).
pub const ENV_CONFIG_DIR: &str = "PROBE_CONFIG_DIR";

/// The directory `probe` keeps its stored credential in: `$PROBE_CONFIG_DIR`, or
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

/// A credential `probe auth login` keeps in the config directory; one at
/// a time, the last login's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The JWT a sign-in with e-mail and password gave.
    Jwt,
    /// An API token given with `--with-token`.
    ApiToken,
}

impl std::fmt::Display for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what())
    }
}

impl Stored {
    const ALL: [Stored; 2] = [Stored::ApiToken, Stored::Jwt];

    fn file_name(self) -> &'static str {
        match self {
            Stored::Jwt => "jwt",
            Stored::ApiToken => "api-token",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Stored::Jwt => "JWT",
            Stored::ApiToken => "API token",
        }
    }

    fn path(self) -> Option<PathBuf> {
        config_dir().map(|d| d.join(self.file_name()))
    }
}

/// Which credential a command uses, named, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Flag,
    Env(&'static str),
    Stored(Stored, PathBuf),
    None,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "the API key in {}", path.display()),
            Source::Flag => f.write_str("the API key given with --api-key"),
            Source::Env(name) => write!(f, "{name}"),
            Source::Stored(kind, path) => write!(
                f,
                "the {} stored by `probe auth login` ({})",
                kind.what(),
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
    } else if let Some((kind, path)) = Stored::ALL
        .into_iter()
        .find_map(|kind| kind.path().filter(|p| p.exists()).map(|p| (kind, p)))
    {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::auth(format!("cannot read {}: {e}", path.display())))?;
        let secret = text.trim().to_string();
        builder = match kind {
            Stored::Jwt => builder.jwt(secret).auth_scheme(AuthScheme::JwtHeader),
            Stored::ApiToken => builder.api_key(secret),
        };
        Source::Stored(kind, path)
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
///
/// The terminal hands over each key as it is typed (no line editing, no
/// signals), and the prompt does the editing itself: Enter ends the line,
/// Backspace and Ctrl-U erase, and Ctrl-C or Ctrl-D cancel. Ctrl-C is read
/// as a key rather than left to kill the process, because a process killed
/// here would leave the shell with its echo off.
#[cfg(unix)]
fn prompt(question: &str) -> Result<String, Failure> {
    use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let failed = |e: &dyn std::fmt::Display| {
        Failure::input(format!("cannot ask for the password on the terminal: {e}"))
    };
    let saved = tcgetattr(&stdin).map_err(|e| failed(&e))?;
    let mut keys = saved.clone();
    keys.local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    keys.special_codes[SpecialCodeIndex::VMIN] = 1;
    keys.special_codes[SpecialCodeIndex::VTIME] = 0;
    tcsetattr(&stdin, OptionalActions::Now, &keys).map_err(|e| failed(&e))?;
    eprint!("{question}");
    let typed = read_password(&mut stdin.lock());
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    // Enter was not echoed: the next message starts on a line of its own.
    eprintln!();
    let typed = typed.map_err(|e| failed(&e))?;
    restored.map_err(|e| failed(&e))?;
    match typed {
        Typed::Line(password) if password.is_empty() => {
            Err(Failure::input("no password was typed"))
        }
        Typed::Line(password) => Ok(password),
        Typed::Interrupted => Err(Failure::interrupted("the password prompt was cancelled")),
        Typed::End => Err(Failure::input("no password was typed")),
    }
}

/// How typing at the password prompt ended.
#[cfg(unix)]
#[derive(Debug, PartialEq)]
enum Typed {
    /// Enter, after the line.
    Line(String),
    /// Ctrl-C.
    Interrupted,
    /// Ctrl-D on an empty line, or the terminal closed.
    End,
}

/// Reads keys until Enter, Ctrl-C or Ctrl-D, doing the line editing the
/// terminal no longer does: Backspace erases the last character (all the
/// bytes of a multi-byte one) and Ctrl-U the whole line.
#[cfg(unix)]
fn read_password(keys: &mut impl std::io::Read) -> std::io::Result<Typed> {
    const INTERRUPT: u8 = 0x03;
    const END: u8 = 0x04;
    const ERASE_LINE: u8 = 0x15;
    let mut line: Vec<u8> = Vec::new();
    let mut key = [0u8; 1];
    loop {
        if keys.read(&mut key)? == 0 {
            return Ok(Typed::End);
        }
        match key[0] {
            b'\r' | b'\n' => break,
            INTERRUPT => return Ok(Typed::Interrupted),
            END if line.is_empty() => return Ok(Typed::End),
            END => {}
            0x7f | 0x08 => {
                // Past every continuation byte to the character's first.
                while let Some(byte) = line.pop() {
                    if byte & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            ERASE_LINE => line.clear(),
            byte => line.push(byte),
        }
    }
    String::from_utf8(line).map(Typed::Line).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "the password is not UTF-8")
    })
}

/// Without a way to turn the echo off here, no prompt: the password comes
/// from stdin or the environment.
#[cfg(not(unix))]
fn prompt(_question: &str) -> Result<String, Failure> {
    Err(Failure::input(
        "no password: pipe it with --password-stdin or set PROBE_PASSWORD",
    ))
}

/// Stores a credential `kind`, in place of any stored before: written to
/// a temporary file created with mode 0600, then renamed over the old one,
/// so no reader sees half a credential and no other user can read it.
pub fn store(kind: Stored, secret: &str) -> Result<PathBuf, Failure> {
    let path = kind
        .path()
        .ok_or_else(|| Failure::other("no config directory: set HOME or PROBE_CONFIG_DIR"))?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    let temporary = dir.join(format!(".{}.{}", kind.file_name(), std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        use std::io::Write;
        file.write_all(secret.as_bytes())?;
        file.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(Failure::other(format!(
            "cannot store the {} in {}: {e}",
            kind.what(),
            path.display()
        )));
    }
    // The last login's credential is the one used: the other kind goes.
    for other in Stored::ALL.into_iter().filter(|other| *other != kind) {
        forget(other)?;
    }
    Ok(path)
}

/// Removes the stored credential `kind`; its path if there was one.
pub fn forget(kind: Stored) -> Result<Option<PathBuf>, Failure> {
    let Some(path) = kind.path() else {
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

/// Removes every stored credential; what was removed.
pub fn forget_all() -> Result<Vec<(Stored, PathBuf)>, Failure> {
    let mut removed = Vec::new();
    for kind in Stored::ALL {
        if let Some(path) = forget(kind)? {
            removed.push((kind, path));
        }
    }
    Ok(removed)
}

/// The API token `auth login --with-token` reads from stdin: its first
/// line, trimmed.
pub fn token_from_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::input(format!("cannot read the API token from stdin: {e}")))?;
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    if token.is_empty() {
        return Err(Failure::input(
            "no API token on stdin: pipe it, for example `probe auth login --with-token < token.txt`",
        ));
    }
    Ok(token)
}

/// The e-mail address to sign in with: `--email`, else asked for on the
/// terminal.
pub fn email(given: Option<String>) -> Result<String, Failure> {
    if let Some(email) = given {
        return Ok(email);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(
            "no e-mail address: pass --email (or --with-token to store an API token)",
        ));
    }
    eprint!("E-mail: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::input(format!("cannot read the e-mail address: {e}")))?;
    let email = line.trim().to_string();
    if email.is_empty() {
        return Err(Failure::input("no e-mail address was typed"));
    }
    Ok(email)
}

#[cfg(all(test, unix))]
mod tests {
    use super::{Typed, read_password};

    fn typed(keys: &[u8]) -> Typed {
        read_password(&mut &keys[..]).expect("read")
    }

    #[test]
    fn enter_ends_the_line_and_the_keys_after_it_stay_unread() {
        let mut keys = &b"s3cret\rnext"[..];
        assert_eq!(
            read_password(&mut keys).expect("read"),
            Typed::Line("s3cret".into())
        );
        assert_eq!(keys, b"next");
        assert_eq!(typed(b"pw\n"), Typed::Line("pw".into()));
    }

    #[test]
    fn backspace_erases_a_whole_character_and_ctrl_u_the_line() {
        assert_eq!(typed(b"abd\x7fc\r"), Typed::Line("abc".into()));
        assert_eq!(typed("pé\x7fa\r".as_bytes()), Typed::Line("pa".into()));
        assert_eq!(typed(b"\x7f\x08ok\r"), Typed::Line("ok".into()));
        assert_eq!(typed(b"wrong\x15right\r"), Typed::Line("right".into()));
    }

    #[test]
    fn ctrl_c_cancels_and_ctrl_d_or_a_closed_terminal_ends() {
        assert_eq!(typed(b"half\x03rest\r"), Typed::Interrupted);
        assert_eq!(typed(b"\x04"), Typed::End);
        assert_eq!(typed(b"ab\x04c\r"), Typed::Line("abc".into()));
        assert_eq!(typed(b"no enter"), Typed::End);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error() {
        assert!(read_password(&mut &b"\xff\r"[..]).is_err());
    }
}
