//! Batch ledgers: results as rich as a call's (attempts, request id) from a
//! journal and from PostgreSQL, failures kept failed on request, and the
//! PostgreSQL ledger's schema, enqueue, claims, leases and failures against
//! a real server (`PROBE_TEST_DATABASE_URL`, see `tests::postgres`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use probe_api::RetryPolicy;
use probe_api::batch::{Journal, Ledger, PgLedger, ProbeMany, Progress};
use probe_api::mock::{Capacity, Fault, MockServer};
use tests::postgres::{batch_name, database_url, fresh_ledger};

fn urls(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://media.example/{prefix}/{i:04}.mp4"))
        .collect()
}

async fn sql() -> tokio_postgres::Client {
    let (db, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL of PROBE_TEST_DATABASE_URL");
    tokio::spawn(connection);
    db
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("probe-api-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_success_exposes_attempts_and_request_id_and_so_does_its_resume() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    // The first probe is refused once, then answered: 2 attempts.
    mock.inject("get_file", [Fault::status(503)])
        .expect("inject");
    let journal_path = scratch("rich.jsonl");
    let all = urls("rich", 6);
    let totals: Arc<Mutex<Vec<Option<usize>>>> = Arc::default();
    let seen = totals.clone();
    let options = ProbeMany::new()
        .fixed_concurrency(1)
        .journal(Journal::open(&journal_path).expect("journal"))
        .on_progress(move |p: &Progress| seen.lock().expect("totals").push(p.total));
    let results: Vec<_> = client.probe_many(all.clone(), options).collect().await;
    assert_eq!(results.len(), 6);
    let mut probed = std::collections::HashMap::new();
    for item in &results {
        let response = item.result.as_ref().expect("every probe answered");
        assert!(!item.resumed);
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.elapsed() > Duration::ZERO);
        let id = response.request_id().expect("a request id").to_string();
        probed.insert(item.url.clone(), (id, response.attempts()));
    }
    assert_eq!(probed[&all[0]].1, 2, "the refused probe took 2 attempts");
    assert!(all[1..].iter().all(|url| probed[url].1 == 1));
    assert!(
        totals.lock().expect("totals").iter().all(|t| *t == Some(6)),
        "Progress carries the batch's total"
    );

    // Resumed: the stored response says what the call said.
    let requests = mock.requests_for("get_file");
    let options = ProbeMany::new().journal(Journal::open(&journal_path).expect("reopen"));
    let resumed: Vec<_> = client.probe_many(all.clone(), options).collect().await;
    assert_eq!(
        mock.requests_for("get_file"),
        requests,
        "nothing probed again"
    );
    for item in &resumed {
        assert!(item.resumed, "{} says it was resumed", item.url);
        let response = item.result.as_ref().expect("stored success");
        let (id, attempts) = &probed[&item.url];
        assert_eq!(response.request_id(), Some(id.as_str()));
        assert_eq!(response.attempts(), *attempts);
        assert!(response.ffprobe().is_ok(), "the stored report decodes");
    }
    // The same through the ledger interface.
    let ledger = Ledger::from(Journal::open(&journal_path).expect("reopen"));
    let status = ledger.status().await.expect("status");
    assert_eq!((status.done, status.failed, status.total), (6, 0, 6));
    let stored: Vec<_> = ledger.results().collect().await;
    assert_eq!(stored.len(), 6);
    assert!(
        stored
            .iter()
            .all(|r| r.as_ref().is_ok_and(|p| p.result.is_ok()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_keeps_failed_urls_failed_when_asked() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock
        .client()
        .expect("client")
        .with_retry(RetryPolicy::none());
    mock.inject("get_file", [Fault::status(400)])
        .expect("inject");
    let journal_path = scratch("keep-failed.jsonl");
    let all = urls("keep-failed", 4);
    let options = ProbeMany::new()
        .fixed_concurrency(1)
        .journal(Journal::open(&journal_path).expect("journal"));
    let first: Vec<_> = client.probe_many(all.clone(), options).collect().await;
    assert_eq!(first.iter().filter(|p| p.result.is_err()).count(), 1);
    let requests = mock.requests_for("get_file");

    let keep = ProbeMany::new()
        .keep_failed(true)
        .journal(Journal::open(&journal_path).expect("reopen"));
    let kept: Vec<_> = client.probe_many(all.clone(), keep).collect().await;
    assert_eq!(mock.requests_for("get_file"), requests, "nothing probed");
    let failed: Vec<_> = kept.iter().filter(|p| p.result.is_err()).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].resumed);
    let error = failed[0].result.as_ref().expect_err("kept failed");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.operation(), Some("get_file"));

    let again = ProbeMany::new().journal(Journal::open(&journal_path).expect("reopen"));
    let retried: Vec<_> = client.probe_many(all, again).collect().await;
    assert_eq!(
        mock.requests_for("get_file"),
        requests + 1,
        "the failure probed again"
    );
    assert!(retried.iter().all(|p| p.result.is_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_versioned_and_creating_it_again_is_harmless() {
    let url = database_url();
    let name = batch_name("schema");
    // Two workers starting together create the schema once.
    let (a, b) = tokio::join!(
        PgLedger::connect(&url, &name),
        PgLedger::connect(&url, &name)
    );
    a.expect("first");
    b.expect("second, at the same time");
    PgLedger::connect(&url, &name).await.expect("again");
    let db = sql().await;
    let versions: Vec<i32> = db
        .query("SELECT version FROM probe_api.schema_version", &[])
        .await
        .expect("schema_version")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1]);

    // A database whose schema is newer than this crate is refused as it is.
    let database = format!("probe_api_future_{}", std::process::id());
    for statement in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        db.batch_execute(&statement)
            .await
            .expect("scratch database");
    }
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    let future_url = format!("{base}/{database}");
    PgLedger::connect(&future_url, "x").await.expect("fresh");
    let (future, connection) = tokio_postgres::connect(&future_url, tokio_postgres::NoTls)
        .await
        .expect("scratch");
    tokio::spawn(connection);
    future
        .batch_execute("INSERT INTO probe_api.schema_version (version) VALUES (2)")
        .await
        .expect("a later version");
    let error = PgLedger::connect(&future_url, "x")
        .await
        .expect_err("a later schema");
    assert!(error.to_string().contains("upgrade probe-api"), "{error}");
    drop(future);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_is_idempotent() {
    let ledger = fresh_ledger("enqueue").await;
    let first = ledger
        .enqueue(["https://m/a", "https://m/b", "https://m/a"])
        .await
        .expect("enqueue");
    assert_eq!((first.given, first.added), (3, 2));
    let second = ledger
        .enqueue(["https://m/b", "https://m/c\twith\\odd\nbytes"])
        .await
        .expect("again");
    assert_eq!((second.given, second.added), (2, 1));
    let status = ledger.status().await.expect("status");
    assert_eq!((status.queued, status.total), (3, 3));
    let db = sql().await;
    let stored: Vec<String> = db
        .query(
            "SELECT url FROM probe_api.items WHERE batch = $1 ORDER BY position",
            &[&ledger.batch()],
        )
        .await
        .expect("items")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        stored,
        [
            "https://m/a",
            "https://m/b",
            "https://m/c\twith\\odd\nbytes"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueues_at_once_of_overlapping_lists_add_each_url_once() {
    let ledger = fresh_ledger("enqueue-race").await;
    // Four enqueues on their own connections at once, each list half
    // shared with the next: every URL one item, numbered 0, 1, 2, ...
    let lists: Vec<Vec<String>> = (0..4)
        .map(|k| {
            (k * 500..k * 500 + 1_000)
                .map(|i| format!("https://media.example/race/{i:05}.mp4"))
                .collect()
        })
        .collect();
    let handles: Vec<_> = lists
        .into_iter()
        .map(|list| {
            let ledger = ledger.clone();
            tokio::spawn(async move { ledger.enqueue(list).await })
        })
        .collect();
    let mut added = 0;
    for handle in handles {
        added += handle.await.expect("task").expect("enqueue").added;
    }
    assert_eq!(added, 2_500);
    let db = sql().await;
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT url), min(position), max(position), count(DISTINCT position) \
             FROM probe_api.items WHERE batch = $1",
            &[&ledger.batch()],
        )
        .await
        .expect("items");
    let counts: Vec<i64> = (0..5).map(|i| row.get(i)).collect();
    assert_eq!(counts, [2_500, 2_500, 0, 2_499, 2_500]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_probes_every_item_once_and_records_it_before_yielding_it() {
    let mock = MockServer::start().await.expect("mock");
    mock.set_capacity(Some(Capacity::new(8, Duration::from_millis(5))));
    let client = mock.client().expect("client");
    let ledger = fresh_ledger("work").await;
    let all = urls("work", 60);
    ledger.enqueue(&all).await.expect("enqueue");
    let db = sql().await;

    let mut results = Box::pin(client.work(ProbeMany::new().ledger(ledger.clone())));
    let mut yielded = Vec::new();
    while let Some(probed) = results.next().await {
        let probed = probed.expect("the ledger works");
        // Recorded before it is yielded.
        let state: String = db
            .query_one(
                "SELECT state FROM probe_api.items WHERE batch = $1 AND url = $2",
                &[&ledger.batch(), &probed.url],
            )
            .await
            .expect("item")
            .get(0);
        assert_eq!(state, "done");
        yielded.push(probed);
    }
    assert_eq!(yielded.len(), 60);
    let unique: HashSet<_> = yielded.iter().map(|p| p.url.clone()).collect();
    assert_eq!(unique.len(), 60);
    assert_eq!(mock.requests_for("get_file"), 60);
    for probed in &yielded {
        assert_eq!(probed.url, all[probed.index], "index is the enqueue order");
        let response = probed.result.as_ref().expect("answered");
        assert!(response.attempts() >= 1 && response.request_id().is_some());
    }

    let status = ledger.status().await.expect("status");
    assert!(status.is_finished());
    assert_eq!((status.done, status.failed, status.in_flight), (60, 0, 0));
    assert_eq!(status.workers.len(), 1);
    assert_eq!(status.workers[0].worker, ledger.worker_name());
    assert_eq!(status.workers[0].done, 60);

    let stored: Vec<_> = ledger
        .results()
        .map(|r| r.expect("readable"))
        .collect()
        .await;
    assert_eq!(stored.len(), 60);
    for item in &stored {
        let original = yielded
            .iter()
            .find(|p| p.url == item.url)
            .expect("same URL");
        let (now, then) = (
            item.result.as_ref().expect("stored success"),
            original.result.as_ref().expect("success"),
        );
        assert!(item.resumed);
        assert_eq!(now.request_id(), then.request_id());
        assert_eq!(now.attempts(), then.attempts());
    }

    // A worker that comes to a finished batch sends nothing.
    let late: Vec<_> = client
        .work(ProbeMany::new().ledger(ledger.clone().worker("late")))
        .collect()
        .await;
    assert!(late.is_empty());
    assert_eq!(mock.requests_for("get_file"), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_puts_the_item_back_and_release_gives_claims_back_at_once() {
    let mock = MockServer::start().await.expect("mock");
    // A worker's first probe is answered at once, the others it has in
    // flight only after 3 s: dropped after its first result, it still
    // holds their claims.
    let slow = Fault::Delay(Duration::from_secs(3));
    let client = mock.client().expect("client");
    let ledger = fresh_ledger("lease").await;
    ledger.enqueue(urls("lease", 12)).await.expect("enqueue");
    let db = sql().await;
    let claimed = |worker: String| {
        let db = &db;
        let batch = ledger.batch().to_string();
        async move {
            db.query_one(
                "SELECT count(*) FROM probe_api.items WHERE batch = $1 AND state = 'claimed' AND worker = $2",
                &[&batch, &worker],
            )
            .await
            .expect("count")
            .get::<_, i64>(0)
        }
    };

    // A worker that stops without a word: its claims stay until they run out.
    mock.inject(
        "get_file",
        [
            Fault::Delay(Duration::ZERO),
            slow.clone(),
            slow.clone(),
            slow.clone(),
        ],
    )
    .expect("inject");
    let gone = ledger
        .clone()
        .worker("gone")
        .lease(Duration::from_millis(400));
    let mut stream = Box::pin(client.work(ProbeMany::new().fixed_concurrency(4).ledger(gone)));
    stream.next().await.expect("one").expect("ok");
    drop(stream);
    let held = claimed("gone".into()).await;
    assert!(held > 0, "the dropped worker still holds claims");

    // One that releases them gives them back at once.
    mock.inject("get_file", [Fault::Delay(Duration::ZERO), slow.clone()])
        .expect("inject");
    let polite = ledger.clone().worker("polite");
    let mut stream =
        Box::pin(client.work(ProbeMany::new().fixed_concurrency(2).ledger(polite.clone())));
    stream.next().await.expect("one").expect("ok");
    drop(stream);
    assert!(claimed("polite".into()).await > 0);
    polite.release().await.expect("release");
    assert_eq!(claimed("polite".into()).await, 0);

    // Another worker finishes the batch, the expired claims included.
    let rest: Vec<_> = client
        .work(ProbeMany::new().ledger(ledger.clone().worker("rest")))
        .collect()
        .await;
    assert!(rest.iter().all(Result::is_ok));
    let status = ledger.status().await.expect("status");
    assert_eq!((status.done, status.in_flight, status.queued), (12, 0, 0));
    let reclaimed: i64 = db
        .query_one(
            "SELECT count(*) FROM probe_api.items WHERE batch = $1 AND claims > 1",
            &[&ledger.batch()],
        )
        .await
        .expect("claims")
        .get(0);
    assert!(
        reclaimed >= held,
        "the {held} items the dropped worker held were claimed again ({reclaimed})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_renews_only_the_claims_it_has_in_flight() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let ledger = fresh_ledger("renew").await;
    ledger.enqueue(urls("renew", 12)).await.expect("enqueue");
    let db = sql().await;
    // Two streams under one worker name: the first is dropped after its
    // first result with three slow probes in flight, and gives up their
    // claims without releasing them.
    let shared = ledger
        .clone()
        .worker("same")
        .lease(Duration::from_millis(400));
    let slow = Fault::Delay(Duration::from_secs(3));
    mock.inject(
        "get_file",
        [
            Fault::Delay(Duration::ZERO),
            slow.clone(),
            slow.clone(),
            slow,
        ],
    )
    .expect("inject");
    let mut first =
        Box::pin(client.work(ProbeMany::new().fixed_concurrency(4).ledger(shared.clone())));
    first.next().await.expect("one").expect("ok");
    drop(first);
    let held: i64 = db
        .query_one(
            "SELECT count(*) FROM probe_api.items WHERE batch = $1 AND state = 'claimed'",
            &[&ledger.batch()],
        )
        .await
        .expect("count")
        .get(0);
    assert!(held > 0, "the dropped stream left claims behind");

    // The second stream's heartbeat renews its own probes' claims, not the
    // ones given up under the same name: those run out, and it probes them
    // itself. Renewing every claim of the name kept them from ever running
    // out, and this stream waited for them forever.
    let second = client
        .work(ProbeMany::new().ledger(shared.clone()))
        .collect::<Vec<_>>();
    let rest = tokio::time::timeout(Duration::from_secs(120), second)
        .await
        .expect("the claims given up ran out and the batch finished");
    assert!(rest.iter().all(Result::is_ok));
    assert_eq!(rest.len(), 11);
    let status = ledger.status().await.expect("status");
    assert_eq!((status.done, status.in_flight, status.queued), (12, 0, 0));
    let reclaimed: i64 = db
        .query_one(
            "SELECT count(*) FROM probe_api.items WHERE batch = $1 AND claims > 1",
            &[&ledger.batch()],
        )
        .await
        .expect("claims")
        .get(0);
    assert!(
        reclaimed >= held,
        "the {held} claims given up were claimed again ({reclaimed})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_item_stores_its_error_and_attempts_and_stays_failed_until_requeued() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client").with_retry(
        RetryPolicy::default()
            .with_max_retries(2)
            .with_initial_backoff(Duration::from_millis(1)),
    );
    // The first probe is refused three times: it fails after 3 attempts.
    mock.inject("get_file", vec![Fault::status(503); 3])
        .expect("inject");
    let ledger = fresh_ledger("failed").await;
    ledger.enqueue(urls("failed", 3)).await.expect("enqueue");
    let options = || ProbeMany::new().fixed_concurrency(1).ledger(ledger.clone());
    let first: Vec<_> = client
        .work(options())
        .map(|r| r.expect("ledger"))
        .collect()
        .await;
    let failed: Vec<_> = first.iter().filter(|p| p.result.is_err()).collect();
    assert_eq!(failed.len(), 1);
    let db = sql().await;
    let row = db
        .query_one(
            "SELECT state, attempts, outcome->'error'->>'status' FROM probe_api.items WHERE batch = $1 AND url = $2",
            &[&ledger.batch(), &failed[0].url],
        )
        .await
        .expect("item");
    assert_eq!(row.get::<_, String>(0), "failed");
    assert_eq!(row.get::<_, i32>(1), 3);
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("503"));
    let status = ledger.status().await.expect("status");
    assert_eq!((status.done, status.failed), (2, 1));

    let requests = mock.requests_for("get_file");
    let again: Vec<_> = client.work(options()).collect().await;
    assert!(again.is_empty(), "a failed item stays failed");
    assert_eq!(mock.requests_for("get_file"), requests);
    assert_eq!(ledger.requeue_failed().await.expect("requeue"), 1);
    let retried: Vec<_> = client
        .work(options())
        .map(|r| r.expect("ledger"))
        .collect()
        .await;
    assert_eq!(retried.len(), 1);
    assert!(retried[0].result.is_ok());
    let status = ledger.status().await.expect("status");
    assert_eq!((status.done, status.failed), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_many_on_a_postgres_ledger_enqueues_and_works_and_a_journal_refuses_work() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let ledger = fresh_ledger("probe-many").await;
    let all = urls("probe-many", 10);
    let results: Vec<_> = client
        .probe_many(all.clone(), ProbeMany::new().ledger(ledger.clone()))
        .collect()
        .await;
    assert_eq!(results.len(), 10);
    let again: Vec<_> = client
        .probe_many(all, ProbeMany::new().ledger(ledger.clone()))
        .collect()
        .await;
    assert!(again.is_empty(), "everything was done");
    assert_eq!(mock.requests_for("get_file"), 10);

    let journal = Journal::open(scratch("no-queue.jsonl")).expect("journal");
    let refused: Vec<_> = client
        .work(ProbeMany::new().journal(journal.clone()))
        .collect()
        .await;
    assert_eq!(refused.len(), 1);
    let error = refused[0].as_ref().expect_err("a journal has no queue");
    assert!(error.to_string().contains("probe_many"), "{error}");
    let error = Ledger::from(journal)
        .enqueue(["https://m/x"])
        .await
        .expect_err("no queue");
    assert!(error.to_string().contains("no queue"), "{error}");
}
