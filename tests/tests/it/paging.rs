//! Lists that page themselves (`probe_api::pages`) against the mock, which
//! pages its log and users as the API does.

use std::collections::HashSet;

use futures_util::StreamExt;
use probe_api::mock::{MockServer, SAMPLE_URL};

#[tokio::test]
async fn every_entry_of_a_long_log_comes_exactly_once() {
    let mock = MockServer::start().await.expect("mock");
    mock.seed_log(2_500);
    let client = mock.client().expect("client");
    let mut seen = HashSet::new();
    let mut items = client.get_log().items();
    while let Some(entry) = items.next().await {
        let entry = entry.expect("a page");
        assert!(seen.insert(entry.id), "{} came twice", entry.id);
    }
    assert_eq!(seen.len(), 2_500);
    // 100 a page by default: 25 pages, no request past the total.
    assert_eq!(mock.requests_for("get_log"), 25);
}

#[tokio::test]
async fn pages_report_their_position_and_the_walk_resumes_from_a_page() {
    let mock = MockServer::start().await.expect("mock");
    mock.seed_log(25);
    let client = mock.client().expect("client");
    let pages: Vec<_> = client
        .get_log()
        .pagination_limit(10u32)
        .pages()
        .map(|page| page.expect("a page"))
        .collect()
        .await;
    let seen: Vec<(u32, i32, usize)> = pages
        .iter()
        .map(|p| {
            let position = p.pagination.clone().expect("pagination");
            (
                position.page.get(),
                position.count,
                p.log.as_ref().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(seen, [(1, 10, 10), (2, 10, 10), (3, 5, 5)]);
    assert!(
        pages
            .iter()
            .all(|p| p.pagination.as_ref().is_some_and(|p| p.total == 25))
    );

    let resumed: Vec<_> = client
        .get_log()
        .pagination_limit(10u32)
        .pagination_page(3u32)
        .items()
        .collect()
        .await;
    assert_eq!(resumed.len(), 5, "page 3 alone");
}

#[tokio::test]
async fn an_entry_pushed_onto_the_next_page_while_the_log_grows_is_seen_once() {
    let mock = MockServer::start().await.expect("mock");
    mock.seed_log(30);
    let client = mock.client().expect("client");
    let mut items = client.get_log().pagination_limit(10u32).items();
    let mut seen = Vec::new();
    while let Some(entry) = items.next().await {
        seen.push(entry.expect("a page").id);
        if seen.len() % 10 == 0 {
            // A probe between two pages: the newest entry goes first, and
            // the last of the page just read becomes the first of the next.
            client
                .get_file()
                .url(SAMPLE_URL)
                .send()
                .await
                .expect("probe");
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an entry came twice");
    assert_eq!(seen.len(), 30, "every entry of the walk's start, once");
}

#[tokio::test]
async fn a_cap_ends_the_walk_and_an_error_is_its_last_item() {
    let mock = MockServer::start().await.expect("mock");
    mock.seed_log(300);
    let client = mock.client().expect("client");
    let first: Vec<_> = client.get_log().items().max_items(150).collect().await;
    assert_eq!(first.len(), 150);
    assert_eq!(mock.requests_for("get_log"), 2, "no page past the cap");

    let broken = probe_api::Client::builder()
        .base_url(mock.url())
        .api_key("not-a-key")
        .build()
        .expect("client");
    let outcome: Vec<_> = broken.get_log().items().collect().await;
    assert_eq!(outcome.len(), 1);
    let error = outcome
        .into_iter()
        .next()
        .and_then(Result::err)
        .expect("an error");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn the_mock_records_each_probe_and_pages_its_users() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    client
        .get_file()
        .url(SAMPLE_URL)
        .send()
        .await
        .expect("probe");
    client
        .get_media_stream_validator()
        .url("https://media.example/live.m3u8")
        .send()
        .await
        .expect("validation");
    let log = client.get_log().send().await.expect("log");
    let urls: Vec<_> = log
        .log
        .iter()
        .flatten()
        .filter_map(|e| e.url.clone())
        .collect();
    assert_eq!(urls, ["https://media.example/live.m3u8", SAMPLE_URL]);

    let users: Vec<_> = client
        .get_users()
        .pagination_limit(1u32)
        .items()
        .map(|u| u.expect("a page").id)
        .collect()
        .await;
    assert_eq!(users, [1, 2]);
    assert_eq!(mock.requests_for("get_users"), 2);
}

#[tokio::test]
async fn the_by_name_walk_pages_like_the_typed_one() {
    let mock = MockServer::start().await.expect("mock");
    mock.seed_log(250);
    let client = mock.client().expect("client");
    let params = serde_json::Map::new();
    let items: Vec<_> = probe_api::dynamic::items(&client, "get_log", &params)
        .expect("get_log pages")
        .map(|i| i.expect("a page"))
        .collect()
        .await;
    let ids: HashSet<_> = items
        .iter()
        .map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 250);
    let refused = probe_api::dynamic::items(&client, "get_file", &params).expect_err("no list");
    assert!(refused.to_string().contains("does not page"), "{refused}");
    assert_eq!(
        probe_api::spec::operations()
            .iter()
            .filter(|op| op.pages.is_some())
            .map(|op| (op.rust_name, op.pages.map(|p| p.items)))
            .collect::<Vec<_>>(),
        [("get_log", Some("log")), ("get_users", Some("users"))]
    );
}
