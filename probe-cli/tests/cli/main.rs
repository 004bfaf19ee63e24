//! The `probe` binary, run as a user runs it, against the built-in mock on
//! loopback (started by each test) or `--mock`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use probe_api::mock::{self, Fault, MockServer};
use serde_json::Value;

/// `probe auth login` on a pseudo-terminal: the prompts.
#[cfg(unix)]
mod terminal;

/// A directory of this test's own, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probe-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A run of `probe`.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `probe` with `args` in a clean environment (no credential of the
/// user's, the config directory `config`), `env` added and `stdin` fed.
fn probe_in(config: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_probe"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", config)
        .env("PROBE_CONFIG_DIR", config)
        .env("PROBE_MAX_RETRIES", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("probe starts");
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("stdin written");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("probe ends");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    // What probe says itself never holds the credential it was given.
    // (stdout is the API's answer: signing in or creating a token answers
    // with one, and the tests that give no such call check stdout too.)
    assert!(
        !run.stderr.contains(mock::API_KEY),
        "the API key was printed by probe {args:?}:\n{}",
        run.stderr
    );
    run
}

/// A blocking run from an async test: the mock serves on the runtime's
/// other threads meanwhile.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("the run")
}

/// Compares `actual` with the snapshot file `name`; with
/// `PROBE_UPDATE_SNAPSHOTS=1` the file is rewritten instead.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("PROBE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("snapshot written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from the output; if the change is intended, run \
         `PROBE_UPDATE_SNAPSHOTS=1 cargo test -p probe-cli` and commit the file.\n--- output:\n{actual}",
        path.display()
    );
}

#[test]
fn help_lists_every_operation_and_is_held_by_snapshots() {
    let config = scratch("help");
    let help = probe_in(&config, &["--help"], &[], "");
    assert_eq!(help.code, 0, "{}", help.stderr);
    let operations = probe_api::spec::operations();
    assert_eq!(operations.len(), 35);
    for op in operations {
        let name = op.rust_name.replace('_', "-");
        assert!(
            help.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))),
            "`{name}` is not in probe --help:\n{}",
            help.stdout
        );
    }
    snapshot("help.txt", &help.stdout);
    let get_file = probe_in(&config, &["get-file", "--help"], &[], "");
    assert_eq!(get_file.code, 0);
    assert!(get_file.stdout.contains("--ffprobe-show-streams"));
    snapshot("get-file-help.txt", &get_file.stdout);
    let get_log = probe_in(&config, &["get-log", "--help"], &[], "");
    assert!(get_log.stdout.contains("--all"), "{}", get_log.stdout);
    snapshot("get-log-help.txt", &get_log.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_runs_as_a_command() {
    let server = MockServer::start().await.expect("mock");
    let client = server.client().expect("client");
    client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("a probe for the log");
    let (_, signed_in) = client
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("sign-in");
    let user_id = signed_in.user_id.expect("user id");
    let log = client.get_log().send().await.expect("log").into_inner();
    let log_id = log.log.unwrap_or_default()[0].id.to_string();
    let token = client
        .post_api_token()
        .body(probe_api::types::AuthPostApiTokenRequest::default())
        .send()
        .await
        .expect("a token")
        .into_inner()
        .token
        .expect("the token");
    let session = client
        .get_sessions()
        .send()
        .await
        .expect("sessions")
        .into_inner()
        .sessions
        .and_then(|s| s.last().map(|s| s.id.to_string()))
        .expect("a session");

    // Deleting operations last, deleting the current user after all.
    let mut operations: Vec<_> = probe_api::spec::operations().iter().collect();
    operations.sort_by_key(|op| {
        (
            op.method == "DELETE",
            !op.path.contains('{'),
            op.rust_name == "delete_current_user",
        )
    });
    let dir = scratch("every");
    for op in operations {
        let example = mock::example_call(op.rust_name).expect("example");
        let mut args: Vec<String> = vec![op.rust_name.replace('_', "-")];
        for (name, value) in &example.params {
            let value = match name.as_str() {
                "session-id" => Value::from(session.clone()),
                "user-id" => Value::from(user_id),
                "log-request-id" => Value::from(log_id.clone()),
                "token" => Value::from(token.expose()),
                _ => value.clone(),
            };
            let flag = name
                .replace(['[', '_'], "-")
                .replace(']', "")
                .to_ascii_lowercase();
            let text = match value {
                Value::String(s) => s,
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            args.push(format!("--{flag}={text}"));
        }
        if let Some(mut body) = example.body {
            if let Value::Object(fields) = &mut body {
                for key in ["password", "old-password", "new-password"] {
                    if let Some(slot) = fields.get_mut(key) {
                        *slot = Value::from(mock::PASSWORD);
                    }
                }
                if let Some(slot) = fields.get_mut("email") {
                    *slot = Value::from(mock::EMAIL);
                }
            }
            let path = dir.join(format!("{}.json", op.rust_name));
            std::fs::write(&path, body.to_string()).expect("body file");
            args.push("--body".into());
            args.push(path.display().to_string());
        }
        let url = server.url().to_string();
        let secret = token.expose().to_string();
        let run = blocking(move || {
            let mut all = vec!["--base-url".to_string(), url];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let run = probe_in(
                &scratch("every-run"),
                &all,
                &[("PROBE_API_TOKEN", mock::API_KEY)],
                "",
            );
            (all.join(" "), run)
        })
        .await;
        let (command, run) = run;
        assert_eq!(run.code, 0, "probe {command}: {}", run.stderr);
        serde_json::from_str::<Value>(&run.stdout)
            .unwrap_or_else(|e| panic!("probe {command} printed no JSON ({e}): {}", run.stdout));
        // The token a call names may be in the API's answer (creating one
        // shows it), never in what probe says itself.
        assert!(
            !run.stderr.contains(&secret),
            "probe {command}: {}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_prints_every_entry_of_a_long_log_once() {
    let server = MockServer::start().await.expect("mock");
    server.seed_log(2_500);
    let url = server.url().to_string();
    let run = blocking(move || {
        probe_in(
            &scratch("all"),
            &["--base-url", &url, "get-log", "--all", "--format", "jsonl"],
            &[("PROBE_API_TOKEN", mock::API_KEY)],
            "",
        )
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<String> = run
        .stdout
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).expect("a JSON line");
            entry["id"].as_str().expect("an id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2_500);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2_500);

    let url = server.url().to_string();
    let capped = blocking(move || {
        probe_in(
            &scratch("all-capped"),
            &["--base-url", &url, "log", "--all", "--max-items", "7"],
            &[("PROBE_API_TOKEN", mock::API_KEY)],
            "",
        )
    })
    .await;
    assert_eq!(capped.code, 0, "{}", capped.stderr);
    assert_eq!(
        capped.stdout.lines().count(),
        7,
        "log --all is a line an entry"
    );
}

/// Exit code 2 and one line on stderr, naming the problem.
fn assert_bad_input(run: &Run, says: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains(says), "`{says}` not in: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_line_and_exit_code_2_with_nothing_sent() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let runs = blocking(move || {
        let run = |args: &[&str], stdin: &str| {
            let mut all = vec!["--base-url", url.as_str()];
            all.extend_from_slice(args);
            probe_in(
                &scratch("bad"),
                &all,
                &[("PROBE_API_TOKEN", mock::API_KEY)],
                stdin,
            )
        };
        [
            run(&["get-file"], ""),
            run(
                &["get-file", "--url", "https://a/b.mp4", "--timeout", "soon"],
                "",
            ),
            run(
                &[
                    "post-verify",
                    "--x-recaptcha-token",
                    "abcdefg",
                    "--body",
                    "-",
                ],
                "{\"email\": ",
            ),
            run(&["get-session", "--session-id", "not-a-uuid"], ""),
            run(&["no-such-command"], ""),
        ]
    })
    .await;
    assert_bad_input(&runs[0], "--url");
    assert_bad_input(&runs[1], "soon");
    assert_bad_input(&runs[2], "not JSON");
    assert_bad_input(&runs[3], "session-id");
    assert_bad_input(&runs[4], "no-such-command");
    assert_eq!(server.requests().len(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_their_exit_codes_and_name_the_request() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    server
        .inject("get_sessions", [Fault::retry_after(429, "0")])
        .expect("fault");
    server
        .inject("get_current_user", [Fault::status(503)])
        .expect("fault");
    let runs = blocking(move || {
        let run = |args: &[&str], token: &str| {
            let mut all = vec!["--base-url", url.as_str()];
            all.extend_from_slice(args);
            probe_in(&scratch("codes"), &all, &[("PROBE_API_TOKEN", token)], "")
        };
        [
            run(&["get-users"], "not-the-key"),
            run(&["get-sessions"], mock::API_KEY),
            run(&["get-current-user"], mock::API_KEY),
            run(
                &[
                    "get-log-entry",
                    "--log-request-id",
                    "7072be4e-2d6d-4000-8000-000000000001",
                ],
                mock::API_KEY,
            ),
        ]
    })
    .await;
    for (run, code) in runs.iter().zip([3, 5, 7, 4]) {
        assert!(!run.stdout.contains(mock::API_KEY) && !run.stderr.contains("not-the-key"));
        assert_eq!(run.code, code, "{}", run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
    assert!(runs[0].stderr.contains("401"), "{}", runs[0].stderr);
    assert!(
        runs[0].stderr.contains("probe auth login"),
        "{}",
        runs[0].stderr
    );
    assert!(runs[1].stderr.contains("429"), "{}", runs[1].stderr);
    assert!(
        !runs[0].stderr.contains("not-the-key"),
        "{}",
        runs[0].stderr
    );
}

#[test]
fn the_mock_answers_the_done_when_commands() {
    let config = scratch("mock");
    let json = probe_in(
        &config,
        &["--mock", "get-file", "--url", mock::SAMPLE_URL],
        &[],
        "",
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let answer: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        json.stdout.trim_end().lines().count(),
        1,
        "one line off a terminal"
    );
    assert!(answer["ffprobe"]["success"].as_bool().unwrap_or(false));

    let summary = probe_in(&config, &["--mock", "file", mock::SAMPLE_URL], &[], "");
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    assert!(summary.stdout.contains("FFprobe:"), "{}", summary.stdout);
    assert!(summary.stdout.contains("h264"), "{}", summary.stdout);
    assert!(summary.stdout.contains("aac"), "{}", summary.stdout);
    assert!(summary.stdout.contains("MediaInfo:"), "{}", summary.stdout);

    let only = probe_in(
        &config,
        &["--mock", "file", mock::SAMPLE_URL, "--only", "ffprobe"],
        &[],
        "",
    );
    assert!(only.stdout.contains("FFprobe:") && !only.stdout.contains("MediaInfo:"));

    let urls: String = (1..=50)
        .map(|n| format!("https://media.example/x/{n}\n"))
        .collect();
    let batch = probe_in(&config, &["--mock", "batch"], &[], &urls);
    assert_eq!(batch.code, 0, "{}", batch.stderr);
    let lines: Vec<Value> = batch
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 50);
    assert!(lines.iter().all(|l| l.get("result").is_some()));
    assert!(
        batch.stderr.is_empty(),
        "no progress off a terminal: {}",
        batch.stderr
    );

    let table = probe_in(
        &config,
        &["--mock", "get-users", "--format", "table"],
        &[],
        "",
    );
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("ID "), "{}", table.stdout);

    let profile = probe_in(
        &config,
        &[
            "--mock",
            "put-current-user-profile",
            "--first-name",
            "Grace",
        ],
        &[],
        "",
    );
    assert_eq!(profile.code, 0, "{}", profile.stderr);
    let profile: Value = serde_json::from_str(&profile.stdout).expect("JSON");
    assert_eq!(
        profile["first-name"], "Grace",
        "a flat body's field as a flag"
    );
    let sign_in = probe_in(
        &config,
        &[
            "--mock",
            "post-sign-in",
            "--email",
            mock::EMAIL,
            "--password",
            mock::PASSWORD,
        ],
        &[],
        "",
    );
    assert_eq!(sign_in.code, 0, "{}", sign_in.stderr);
    assert!(
        sign_in.stderr.contains("--password holds a credential"),
        "{}",
        sign_in.stderr
    );
    assert!(
        !sign_in.stderr.contains(mock::PASSWORD),
        "{}",
        sign_in.stderr
    );

    let usage = probe_in(&config, &["--mock", "usage"], &[], "");
    assert_eq!(usage.code, 0, "{}", usage.stderr);
    serde_json::from_str::<Value>(&usage.stdout).expect("usage JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_prints_the_bytes_and_api_sends_any_request() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let (raw, api, journal_runs) = blocking(move || {
        let env = [("PROBE_API_TOKEN", mock::API_KEY)];
        let dir = scratch("raw");
        let raw = probe_in(
            &dir,
            &[
                "--base-url",
                &url,
                "--raw",
                "get-file",
                "--url",
                mock::SAMPLE_URL,
                "--only",
                "ffprobe",
            ],
            &env,
            "",
        );
        let api = probe_in(
            &dir,
            &[
                "--base-url",
                &url,
                "api",
                "GET",
                "/v1/probe/file",
                "-q",
                &format!("url={}", mock::SAMPLE_URL),
            ],
            &env,
            "",
        );
        let journal = dir.join("journal.jsonl");
        let journal = journal.to_str().expect("utf-8");
        let urls = "https://media.example/a.mp4\nhttps://media.example/b.mp4\n";
        let first = probe_in(
            &dir,
            &["--base-url", &url, "batch", "--journal", journal],
            &env,
            urls,
        );
        let again = probe_in(
            &dir,
            &["--base-url", &url, "batch", "--journal", journal],
            &env,
            urls,
        );
        (raw, api, [first, again])
    })
    .await;
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    let answer: Value = serde_json::from_str(&raw.stdout).expect("the API's JSON");
    assert!(answer.get("ffprobe").is_some());
    assert!(!raw.stdout.ends_with('\n'), "exactly the bytes sent");
    assert_eq!(api.code, 0, "{}", api.stderr);
    serde_json::from_str::<Value>(&api.stdout).expect("JSON");
    let [first, again] = journal_runs;
    assert_eq!(first.stdout.lines().count(), 2);
    assert!(
        again.stdout.lines().all(|l| l.contains("\"resumed\":true")),
        "{}",
        again.stdout
    );
    assert_eq!(
        server.requests_for("get_file"),
        4,
        "raw, api, and the first batch only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_a_file_or_a_login_and_are_never_printed() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let config = scratch("login");
    let (from_file, flag, login, status, jwt, logout, after) = blocking(move || {
        let key_file = config.join("key");
        std::fs::write(&key_file, format!("{}\n", mock::API_KEY)).expect("key file");
        let key_file = key_file.to_str().expect("utf-8").to_string();
        let from_file = probe_in(
            &config,
            &[
                "--base-url",
                &url,
                "--api-key-file",
                &key_file,
                "get-current-user",
            ],
            &[],
            "",
        );
        let flag = probe_in(
            &config,
            &[
                "--base-url",
                &url,
                "--api-key",
                mock::API_KEY,
                "get-current-user",
            ],
            &[],
            "",
        );
        let login = probe_in(
            &config,
            &[
                "--base-url",
                &url,
                "auth",
                "login",
                "--email",
                mock::EMAIL,
                "--password-stdin",
            ],
            &[],
            &format!("{}\n", mock::PASSWORD),
        );
        let status = probe_in(&config, &["--base-url", &url, "auth", "status"], &[], "");
        let jwt = std::fs::read_to_string(config.join("jwt")).unwrap_or_default();
        let logout = probe_in(&config, &["auth", "logout"], &[], "");
        let after = probe_in(&config, &["--base-url", &url, "auth", "status"], &[], "");
        (from_file, flag, login, status, jwt, logout, after)
    })
    .await;
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    for run in [&from_file, &flag, &login, &status, &logout, &after] {
        assert!(!run.stdout.contains(mock::API_KEY), "{}", run.stdout);
    }
    assert_eq!(flag.code, 0, "{}", flag.stderr);
    assert!(flag.stderr.contains("shell history"), "{}", flag.stderr);
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(!jwt.is_empty(), "the JWT is stored");
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stderr.contains(mock::EMAIL), "{}", status.stderr);
    assert!(
        status.stderr.contains("probe auth login"),
        "{}",
        status.stderr
    );
    for run in [&login, &status, &logout] {
        assert!(!run.stdout.contains(jwt.trim()) && !run.stderr.contains(jwt.trim()));
        assert!(!run.stdout.contains(mock::PASSWORD) && !run.stderr.contains(mock::PASSWORD));
    }
    assert_eq!(logout.code, 0);
    assert_eq!(after.code, 3, "no credential left: {}", after.stderr);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_jwt_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let config = scratch("mode");
    let dir = config.clone();
    let login = blocking(move || {
        probe_in(
            &dir,
            &[
                "--base-url",
                &url,
                "auth",
                "login",
                "--email",
                mock::EMAIL,
                "--password-stdin",
            ],
            &[],
            mock::PASSWORD,
        )
    })
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let mode = std::fs::metadata(config.join("jwt"))
        .expect("stored")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// `auth login --with-token` keeps an API token from stdin once the API
/// accepted it (mode 0600, in place of a stored JWT); later commands use
/// it, and `auth logout` forgets it. A token the API refuses is not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_token_keeps_an_accepted_token_in_place_of_the_jwt() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let config = scratch("with-token");
    let dir = config.clone();
    /// What the config directory held after the token's login.
    struct Stored {
        kept: Option<String>,
        mode: Option<u32>,
        jwt_left: bool,
    }
    let (refused, jwt_login, stored_jwt, login, stored, status, logout, after) =
        blocking(move || {
            let at = |args: &[&str], stdin: &str| {
                let mut all = vec!["--base-url", url.as_str()];
                all.extend_from_slice(args);
                probe_in(&dir, &all, &[], stdin)
            };
            let refused = at(&["auth", "login", "--with-token"], "not-a-token\n");
            let jwt_login = at(
                &["auth", "login", "--email", mock::EMAIL, "--password-stdin"],
                mock::PASSWORD,
            );
            let stored_jwt = dir.join("jwt").exists();
            let login = at(
                &["auth", "login", "--with-token"],
                &format!("{}\n", mock::API_KEY),
            );
            let kept = std::fs::read_to_string(dir.join("api-token")).ok();
            #[cfg(unix)]
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(dir.join("api-token"))
                    .map(|m| m.permissions().mode() & 0o777)
                    .ok()
            };
            #[cfg(not(unix))]
            let mode = Some(0o600);
            let jwt_left = dir.join("jwt").exists();
            let status = at(&["auth", "status"], "");
            let logout = at(&["auth", "logout"], "");
            let after = at(&["auth", "status"], "");
            let stored = Stored {
                kept,
                mode,
                jwt_left,
            };
            (
                refused, jwt_login, stored_jwt, login, stored, status, logout, after,
            )
        })
        .await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("not accepted"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("not-a-token"),
        "{}",
        refused.stderr
    );
    assert_eq!(jwt_login.code, 0, "{}", jwt_login.stderr);
    assert!(stored_jwt, "the sign-in stored a JWT");
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(login.stderr.contains(mock::EMAIL), "{}", login.stderr);
    assert_eq!(
        stored.kept.as_deref(),
        Some(mock::API_KEY),
        "the token is stored"
    );
    assert_eq!(stored.mode, Some(0o600));
    assert!(!stored.jwt_left, "the JWT it replaces is gone");
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stderr.contains("API token stored"),
        "{}",
        status.stderr
    );
    for run in [&refused, &login, &status, &logout] {
        assert!(!run.stdout.contains(mock::API_KEY) && !run.stderr.contains(mock::API_KEY));
    }
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        !config.join("api-token").exists(),
        "logout forgets the token"
    );
    assert_eq!(after.code, 3, "no credential left: {}", after.stderr);
}

#[test]
fn login_without_an_email_off_a_terminal_names_the_flag() {
    let run = probe_in(
        &scratch("login-no-email"),
        &[
            "--base-url",
            "http://127.0.0.1:9",
            "auth",
            "login",
            "--password-stdin",
        ],
        &[],
        "",
    );
    assert_bad_input(&run, "--email");
}

#[test]
fn completions_and_the_man_page_cover_the_operations() {
    let config = scratch("completions");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = probe_in(&config, &["completions", shell], &[], "");
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("get-file"), "{shell}");
    }
    let man = probe_in(&config, &["man"], &[], "");
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("get\\-file") || man.stdout.contains("get-file"));
}

#[test]
fn verbose_shows_the_requests_on_stderr_only() {
    let config = scratch("verbose");
    let run = probe_in(&config, &["--mock", "--verbose", "get-sessions"], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("get_sessions"), "{}", run.stderr);
    serde_json::from_str::<Value>(&run.stdout).expect("stdout holds only the answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_without_a_password_or_a_terminal_says_where_to_give_one() {
    let server = MockServer::start().await.expect("mock");
    let url = server.url().to_string();
    let run = blocking(move || {
        probe_in(
            &scratch("login-none"),
            &["--base-url", &url, "auth", "login", "--email", mock::EMAIL],
            &[],
            // Piped, not a terminal, and not asked for with --password-stdin.
            mock::PASSWORD,
        )
    })
    .await;
    assert_bad_input(&run, "--password-stdin");
    assert_eq!(server.requests_for("post_sign_in"), 0, "nothing was sent");
}
