//! Many requests through one client: connections are reused, and futures
//! dropped in flight leave the client usable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use probe_api::mock::{Fault, MockServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_requests_from_sixty_four_tasks_reuse_connections() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let client = client.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < 1000 {
                    if let Err(e) = client.get_sessions().send().await {
                        failures.push(e.to_string());
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.expect("task"))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(mock.requests_for("get_sessions"), 1000);
    // A connection goes back to the pool only after its response is read,
    // so a task can start its next request just before and open another;
    // under load that adds some. Reuse shows as far fewer connections than
    // requests, not as an exact count.
    let connections = mock.connections();
    assert!(
        connections <= 250,
        "{connections} connections for 1000 requests from 64 tasks: connections are not reused"
    );
    assert!(mock.max_in_flight() <= 64);
}

#[tokio::test]
async fn futures_dropped_in_flight_leave_the_client_usable() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    mock.inject(
        "get_sessions",
        vec![Fault::Delay(Duration::from_secs(5)); 32],
    )
    .expect("known operation");
    let calls = join_all((0..32).map(|_| client.get_sessions().send()));
    // Give up on all 32 halfway; dropping the futures cancels them.
    let gave_up = tokio::time::timeout(Duration::from_millis(200), calls).await;
    assert!(gave_up.is_err(), "the delayed calls cannot have finished");
    let sessions = client
        .get_sessions()
        .send()
        .await
        .expect("the client still works");
    assert!(sessions.sessions.is_some());
}
