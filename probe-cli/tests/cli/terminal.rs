//! `probe auth login` on a pseudo-terminal, as a person at a terminal runs
//! it: the prompts, what the terminal shows, and the terminal's settings
//! afterwards.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use probe_api::mock::{self, MockServer};

use super::{blocking, scratch};

/// What `probe auth login` did on a pseudo-terminal once it asked for the
/// password and was typed `keys`.
struct OnATerminal {
    code: i32,
    stderr: String,
    /// What the terminal showed back.
    shown: String,
    /// Whether the terminal echoes again once probe has ended.
    echo_after: bool,
}

/// Runs `probe auth login` against `url` with a pseudo-terminal as its
/// stdin, types `keys` once the prompt is shown, and reads what the
/// terminal showed.
async fn login_on_a_terminal(url: String, dir: PathBuf, keys: Vec<u8>) -> OnATerminal {
    let args = vec!["--email".to_string(), mock::EMAIL.to_string()];
    on_a_terminal(url, dir, args, vec![("Password for", keys)]).await
}

/// Runs `probe auth login` with `args` against `url` with a pseudo-terminal
/// as its stdin; for each of `answers`, waits for its prompt on stderr and
/// types its keys; then reads what the terminal showed.
async fn on_a_terminal(
    url: String,
    dir: PathBuf,
    args: Vec<String>,
    answers: Vec<(&'static str, Vec<u8>)>,
) -> OnATerminal {
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use rustix::termios::{LocalModes, tcgetattr};
    use std::io::{Read, Write};

    blocking(move || {
        // Close-on-exec, so the other tests' children hold neither side and
        // the read below ends when this child does.
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY;
        #[cfg(target_os = "linux")]
        let flags = flags | OpenptFlags::CLOEXEC;
        let master = openpt(flags).expect("a pty");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let terminal = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("the pty's terminal side");
        let mut child = Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(["--base-url", &url, "auth", "login"])
            .args(&args)
            .env_clear()
            .env("HOME", &dir)
            .env("PROBE_CONFIG_DIR", &dir)
            .env("PROBE_MAX_RETRIES", "0")
            .stdin(Stdio::from(terminal))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("probe starts");
        let mut master = std::fs::File::from(master);
        // A prompt comes once the terminal is set for it: answer it then.
        let mut stderr = child.stderr.take().expect("stderr");
        let mut said = Vec::new();
        let mut chunk = [0u8; 256];
        for (prompt, keys) in answers {
            while !String::from_utf8_lossy(&said).contains(prompt) {
                let n = stderr.read(&mut chunk).expect("the prompt");
                assert!(
                    n > 0,
                    "probe ended without asking `{prompt}`: {}",
                    String::from_utf8_lossy(&said)
                );
                said.extend_from_slice(&chunk[..n]);
            }
            master.write_all(&keys).expect("typed");
        }
        // A probe still waiting for keys after a minute never reads them
        // (it would wait forever): it is ended, and the run fails on its
        // exit code.
        let waited = std::time::Instant::now();
        while child.try_wait().expect("probe's state").is_none() {
            if waited.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().expect("probe ended");
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let status = child.wait().expect("probe ends");
        stderr.read_to_end(&mut said).expect("stderr");
        // The terminal's settings, which both sides share, as probe left
        // them.
        let echo_after = tcgetattr(&master)
            .expect("the terminal's settings")
            .local_modes
            .contains(LocalModes::ECHO);
        // What the terminal showed: with the child gone, the read ends
        // (EIO on Linux) after what was echoed.
        let mut shown = Vec::new();
        loop {
            match master.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => shown.extend_from_slice(&chunk[..n]),
            }
        }
        OnATerminal {
            code: status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&said).into_owned(),
            shown: String::from_utf8_lossy(&shown).into_owned(),
            echo_after,
        }
    })
    .await
}

/// `auth login` on a terminal asks for the password with the echo off: run
/// on a pseudo-terminal, what the terminal shows back holds no password,
/// and the echo is on again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_a_terminal_asks_for_the_password_without_echo() {
    let server = MockServer::start().await.expect("mock");
    let config = scratch("login-tty");
    // A mistyped key erased with Backspace on the way.
    let keys = format!("{}x\x7f\r", mock::PASSWORD).into_bytes();
    let run = login_on_a_terminal(server.url().to_string(), config.clone(), keys).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.shown.contains(mock::PASSWORD),
        "the terminal echoed the password: {:?}",
        run.shown
    );
    assert!(run.echo_after, "the echo was left off");
    assert!(!run.stderr.contains(mock::PASSWORD), "{}", run.stderr);
    assert!(run.stderr.contains("signed in as"), "{}", run.stderr);
    assert!(config.join("jwt").exists(), "the JWT is stored");
}

/// Without `--email` on a terminal, the e-mail is asked for first (shown
/// as typed), then the password (not shown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_a_terminal_asks_for_the_email_when_not_given() {
    let server = MockServer::start().await.expect("mock");
    let config = scratch("login-tty-email");
    let answers = vec![
        ("E-mail:", format!("{}\n", mock::EMAIL).into_bytes()),
        ("Password for", format!("{}\r", mock::PASSWORD).into_bytes()),
    ];
    let run = on_a_terminal(server.url().to_string(), config.clone(), vec![], answers).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.shown.contains(mock::EMAIL), "{:?}", run.shown);
    assert!(!run.shown.contains(mock::PASSWORD), "{:?}", run.shown);
    assert!(run.stderr.contains("signed in as"), "{}", run.stderr);
    assert!(config.join("jwt").exists(), "the JWT is stored");
}

/// Ctrl-C at the password prompt cancels the login (exit 130, nothing
/// sent) and leaves the terminal echoing as it found it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_password_prompt_cancels_and_puts_the_echo_back() {
    let server = MockServer::start().await.expect("mock");
    let config = scratch("login-tty-cancel");
    let keys = b"half a passw\x03".to_vec();
    let run = login_on_a_terminal(server.url().to_string(), config.clone(), keys).await;
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
    assert!(run.echo_after, "the echo was left off");
    assert!(!run.shown.contains("half"), "{:?}", run.shown);
    assert_eq!(server.requests_for("post_sign_in"), 0, "nothing was sent");
    assert!(!config.join("jwt").exists());
}
