//! A batch killed halfway with `kill -9` resumes from its journal: every
//! URL's result comes exactly once, and no URL the journal held is probed
//! (and billed) again.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use probe_api::mock::{API_KEY, Capacity, MockServer};

const URLS: usize = 200;

fn child(mock: &MockServer, journal: &Path, urls: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_probe_batch"));
    command
        .arg(journal)
        .arg(urls)
        .arg("4")
        .env("PROBE_BASE_URL", mock.url())
        .env("PROBE_API_TOKEN", API_KEY)
        .env_remove("PROBE_JWT")
        .env_remove("PROBE_TIMEOUT_SECS")
        .env_remove("PROBE_MAX_RETRIES")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

/// The URLs of the journal's complete successful records.
fn journaled(journal: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(journal).expect("journal");
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["ok"] == true)
        .filter_map(|record| record["url"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_halfway_resumes_without_probing_anything_twice() {
    let mock = MockServer::start().await.expect("mock");
    // 4 workers of 15 ms: the 200 probes take about 0.75 s, long enough to
    // kill the batch in the middle.
    mock.set_capacity(Some(Capacity::new(4, Duration::from_millis(15))));
    let dir = std::env::temp_dir().join(format!("probe-api-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let journal = dir.join("journal.jsonl");
    let urls = dir.join("urls.txt");
    let _ = std::fs::remove_file(&journal);
    let all: Vec<String> = (0..URLS)
        .map(|i| format!("https://media.example/resume/{i:03}.mp4"))
        .collect();
    std::fs::write(&urls, all.join("\n")).expect("urls");

    let mut first = child(&mock, &journal, &urls).spawn().expect("first run");
    // Poll until a quarter of the batch is journaled, then SIGKILL.
    let started = Instant::now();
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > URLS / 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run journaled {lines} lines in a minute"
        );
        assert!(
            first.try_wait().expect("wait").is_none(),
            "the first run ended early"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    let held: HashSet<String> = journaled(&journal).into_iter().collect();
    assert!(held.len() > URLS / 5, "{} journaled", held.len());
    assert!(held.len() < URLS, "killed before the end: {}", held.len());

    let output = tokio::task::spawn_blocking({
        let mut second = child(&mock, &journal, &urls);
        move || second.output()
    })
    .await
    .expect("join")
    .expect("second run");
    assert!(output.status.success(), "{:?}", output.status);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [how, result, url] = fields.as_slice() else {
            panic!("unexpected line {line:?}");
        };
        assert_eq!(*result, "ok", "{line}");
        assert!(seen.insert(url, how).is_none(), "{url} came twice");
    }
    assert_eq!(seen.len(), URLS, "every URL's result, once");
    for url in &held {
        assert_eq!(seen.get(url.as_str()), Some(&"resumed"), "{url}");
    }

    let mut requests: HashMap<String, usize> = HashMap::new();
    for request in mock.requests() {
        if let Some(url) = request.query_param("url") {
            *requests.entry(url.to_string()).or_default() += 1;
        }
    }
    for url in &held {
        assert_eq!(requests.get(url), Some(&1), "{url} was probed again");
    }
    assert!(requests.len() == URLS, "every URL was probed at least once");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_journal_never_holds_the_credential() {
    use probe_api::batch::{Journal, ProbeMany};
    use tests::faults::{Fault, FaultServer};
    const KEY: &str = "sk-journal-secret-7f3a";
    // A server that echoes the key in its error message.
    let server = FaultServer::start(vec![Fault::json(
        500,
        &serde_json::json!({"error": format!("token {KEY} is not allowed here"), "code": 500}),
    )]);
    let client = probe_api::Client::builder()
        .base_url(server.url())
        .api_key(KEY)
        .retry(probe_api::RetryPolicy::none())
        .build()
        .expect("client");
    let dir = std::env::temp_dir().join(format!("probe-api-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("journal.jsonl");
    let _ = std::fs::remove_file(&path);
    let journal = Journal::open(&path).expect("journal");
    let options = ProbeMany::new().journal(journal);
    let urls = ["https://media.example/secret/a.mp4".to_string()];
    let results: Vec<_> = futures_util::StreamExt::collect(client.probe_many(urls, options)).await;
    assert!(results[0].result.is_err());
    let text = std::fs::read_to_string(&path).expect("journal");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
