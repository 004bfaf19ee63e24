//! Bad input from the caller: a clear error from the builder, or correct
//! encoding on the wire; never a panic, never a request to the wrong path.

use probe_api::{Client, ErrorKind};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn settings_that_cannot_work_are_refused_naming_the_setting() {
    let cases: [(&str, &str, &str); 7] = [
        ("not a url", "key", "base_url"),
        ("", "key", "base_url"),
        ("https://", "key", "base_url"),
        ("ftp://api.probe.dev", "key", "base_url"),
        ("https://api.probe.dev", "line\nbreak", "api_key"),
        ("https://api.probe.dev", "clé-secrète", "api_key"),
        ("https://api.probe.dev", "", "api_key"),
    ];
    for (base_url, key, setting) in cases {
        let error = Client::builder()
            .base_url(base_url)
            .api_key(key)
            .build()
            .expect_err("refused");
        assert_eq!(error.setting, setting, "{base_url:?} {key:?}: {error}");
        assert!(
            !error.to_string().contains("clé"),
            "the key is not echoed: {error}"
        );
    }
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/probe/file"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn media_urls_with_spaces_unicode_and_reserved_characters_arrive_intact() {
    let server = server().await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key("key")
        .build()
        .expect("client");
    let urls = [
        "https://media.example/my file é.mp4",
        "https://media.example/a.mp4?sig=a+b/c&x=1#t=10",
        "https://media.example/日本語/動画.mkv",
        "",
    ];
    for url in urls {
        client
            .get_file()
            .url(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url:?}: {e}"));
    }
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), urls.len());
    for (request, url) in received.iter().zip(urls) {
        assert_eq!(request.url.path(), "/v1/probe/file", "{url:?}");
        let sent: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(sent, [("url".to_string(), url.to_string())], "{url:?}");
    }
}

#[tokio::test]
async fn path_parameters_that_are_not_their_type_are_refused_before_sending() {
    let server = server().await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key("key")
        .build()
        .expect("client");
    for (operation, name, value) in [
        ("get_session", "session-id", json!("a/b")),
        (
            "get_session",
            "session-id",
            json!("../../v1/probe/file?url=x"),
        ),
        ("get_session", "session-id", json!("%2e%2e")),
        ("get_user", "user-id", json!("1/2")),
        ("get_user", "user-id", json!(-1)),
    ] {
        let params = json!({ name: value });
        let error = probe_api::dynamic::call(
            &client,
            operation,
            params.as_object().expect("object"),
            None,
        )
        .await
        .expect_err("refused");
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidRequest,
            "{operation} {value}: {error}"
        );
        assert!(error.to_string().contains(name), "{error}");
    }
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}
