//! wiremock servers and clients for them, shared by the loopback tests.

use probe_api::Client;
use serde_json::{Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server answering `verb route` with `response` (anything else: 404).
pub async fn answering(verb: &str, route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// A server answering `verb route` with 200 and the JSON `body`, and a
/// client for it holding the API key `api_key`.
pub async fn serving_json(
    verb: &str,
    route: &str,
    body: Value,
    api_key: &str,
) -> (MockServer, Client) {
    let server = answering(verb, route, ResponseTemplate::new(200).set_body_json(body)).await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(api_key)
        .build()
        .expect("client");
    (server, client)
}

/// The map inside a JSON object (the tests build them with `json!`).
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not a JSON object: {other}"),
    }
}
