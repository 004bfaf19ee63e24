//! The public API as a user meets it: every way to build a client works,
//! a successful response says what the SDK did, errors follow the
//! ecosystem's conventions, any path can be called through the same
//! machinery, and the generator stays out of sight.

use std::time::Duration;

use probe_api::mock::{self, Fault, MockServer};
use probe_api::{AuthScheme, Client, ClientBuilder, ErrorKind, Method, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

/// Retries that do not wait, so tests stay fast.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2))
}

#[tokio::test]
async fn every_public_way_to_make_a_client_sends_and_gets_an_answer() {
    let mock = MockServer::start().await.expect("mock");
    let env = [
        (probe_api::ENV_API_TOKEN, mock::API_KEY.to_string()),
        (probe_api::ENV_BASE_URL, mock.url().to_string()),
    ];
    let built = Client::builder()
        .base_url(mock.url())
        .api_key(mock::API_KEY)
        .build()
        .expect("builder");
    let mut clients: Vec<(&str, Client)> = vec![
        ("Client::builder", built.clone()),
        (
            "ClientBuilder::new",
            ClientBuilder::new()
                .base_url(mock.url())
                .api_key(mock::API_KEY)
                .build()
                .expect("ClientBuilder::new"),
        ),
        (
            "with_env_vars",
            Client::builder()
                .with_env_vars(env.clone())
                .build()
                .expect("environment"),
        ),
        (
            "http_client",
            Client::builder()
                .base_url(mock.url())
                .api_key(mock::API_KEY)
                .http_client(reqwest::Client::new())
                .build()
                .expect("own reqwest client"),
        ),
        (
            "query scheme",
            Client::builder()
                .base_url(mock.url())
                .api_key(mock::API_KEY)
                .auth_scheme(AuthScheme::ApiKeyQuery)
                .build()
                .expect("query"),
        ),
        ("MockServer::client", mock.client().expect("mock client")),
        (
            "MockServer::client_builder",
            mock.client_builder().build().expect("mock builder"),
        ),
        ("with_timeout", built.with_timeout(Duration::from_secs(5))),
        ("with_retry", built.with_retry(RetryPolicy::none())),
        (
            "with_api_key",
            built
                .with_api_key(mock::API_KEY, AuthScheme::ApiKeyHeader)
                .expect("with_api_key"),
        ),
        (
            "with_cookies",
            built
                .with_cookies([("oauth-email", mock::EMAIL)])
                .expect("with_cookies"),
        ),
    ];
    let (signed_in, _) = built
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("sign-in");
    clients.push(("sign_in", signed_in));
    let jwt = built
        .post_jwt_token()
        .body(probe_api::types::AuthPostJwtTokenRequest::default())
        .send()
        .await
        .expect("a JWT")
        .into_inner()
        .token
        .expect("the JWT");
    clients.push((
        "with_jwt",
        built
            .with_jwt(jwt, AuthScheme::JwtCookie)
            .expect("with_jwt"),
    ));
    for (how, client) in &clients {
        let user = client
            .get_current_user()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{how}: {e}"));
        assert_eq!(user.email.as_deref(), Some(mock::EMAIL), "{how}");
        assert_eq!(user.status(), reqwest::StatusCode::OK, "{how}");
    }
}

#[tokio::test]
async fn a_success_after_a_503_says_it_took_two_attempts_and_how_long() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    mock.inject("get_file", [Fault::status(503)])
        .expect("an operation");
    let report = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("retried, then a success");
    assert_eq!(report.attempts(), 2);
    assert_eq!(report.status(), reqwest::StatusCode::OK);
    assert!(report.elapsed() > Duration::ZERO);
    assert!(report.elapsed() < Duration::from_secs(10));
    // The mock sends no request-id header: the probe's body carries it.
    let body_id = report
        .metadata
        .as_ref()
        .and_then(|m| m.request_id.clone())
        .expect("a request id in the body");
    assert_eq!(report.request_id(), Some(body_id.as_str()));
    assert_eq!(report.success, Some(true), "derefs to the body");
    let (value, parts) = report.into_parts();
    assert_eq!(parts.attempts(), 2);
    assert!(value.ffprobe.is_some());
    assert!(format!("{parts:?}").contains("attempts: 2"));
}

/// A server whose current user comes with `x-request-id: request_id`, and
/// a client of it with `api_key` (the server keeps running while it lives).
async fn current_user_with_request_id(
    request_id: &str,
    api_key: &str,
) -> (wiremock::MockServer, Client) {
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/user/current"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", request_id)
                .set_body_json(json!({"id": 1, "email": "a@example.com"})),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(api_key)
        .build()
        .expect("client");
    (server, client)
}

/// The request id of a success is found when asked for, and, like every
/// other text of an answer, never shows the credential a server echoed;
/// the parts keep it after the value is taken.
#[tokio::test]
async fn a_success_request_id_is_read_when_asked_for_and_redacted() {
    let (_server, client) =
        current_user_with_request_id("req-sk-echoed-key", "sk-echoed-key").await;
    let user = client.get_current_user().send().await.expect("user");
    assert_eq!(user.request_id(), Some("req-<redacted>"));
    let (_, parts) = user.into_parts();
    assert_eq!(parts.request_id(), Some("req-<redacted>"));
    let shown = format!("{parts:?}");
    assert!(
        shown.contains("req-<redacted>") && !shown.contains("sk-echoed-key"),
        "{shown}"
    );
    let copy = parts.clone();
    assert_eq!(copy.request_id(), Some("req-<redacted>"));
}

#[tokio::test]
async fn a_request_id_header_wins_over_the_body() {
    let (_server, client) = current_user_with_request_id("req-7", "k").await;
    let user = client.get_current_user().send().await.expect("user");
    assert_eq!(user.request_id(), Some("req-7"));
    assert_eq!(user.attempts(), 1);
    assert_eq!(
        user.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"req-7"[..])
    );
}

#[tokio::test]
async fn anyhow_prints_each_cause_once() {
    let url = tests::faults::refused_url();
    let client = Client::builder()
        .base_url(&url)
        .api_key("k")
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let error = client
        .get_sessions()
        .send()
        .await
        .expect_err("nothing listens");
    assert_eq!(error.kind(), ErrorKind::Connect);
    let own = error.to_string();
    assert_eq!(
        own,
        "get_sessions (GET /frontend/api/v1/auth/session): could not connect"
    );
    let causes = tests::causes(&error);
    assert!(!causes.is_empty(), "the transport failure is the source");
    let chain = format!("{:#}", anyhow::Error::from(error));
    assert!(chain.starts_with(&own), "{chain}");
    // Every cause's text appears exactly once in the chain.
    for cause in causes.split(": ").filter(|c| c.len() > 8) {
        assert_eq!(chain.matches(cause).count(), 1, "{cause} in {chain}");
    }
}

#[tokio::test]
async fn any_path_goes_through_the_credentials_and_retries_of_the_client() {
    let server = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/frontend/api/v1/billing/invoice"))
        .and(header("authorization", "Bearer key-9"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": "busy"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/frontend/api/v1/billing/invoice"))
        .and(header("authorization", "Bearer key-9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 12.5})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key("key-9")
        .retry(quick().with_retry_non_idempotent(true))
        .build()
        .expect("client");
    let invoice = client
        .request(Method::POST, "/frontend/api/v1/billing/invoice")
        .query(&[("month", "2026-11")])
        .json(&json!({"detail": true}))
        .send()
        .await
        .expect("retried, then answered");
    assert_eq!(invoice["total"], json!(12.5));
    assert_eq!(invoice.attempts(), 2);
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(request.url.query(), Some("month=2026-11"));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&request.body).expect("JSON"),
            json!({"detail": true})
        );
    }

    #[derive(serde::Deserialize)]
    struct Invoice {
        total: f64,
    }
    // A request's own `Authorization` gives way to the client's credential:
    // one header, the client's.
    let typed = client
        .request(Method::POST, "/frontend/api/v1/billing/invoice")
        .header("Authorization", "Bearer someone-else")
        .send_json::<Invoice>()
        .await
        .expect("typed");
    assert_eq!(typed.total, 12.5);
    let received = server.received_requests().await.expect("recording");
    let sent: Vec<_> = received[received.len() - 1]
        .headers
        .get_all("authorization")
        .iter()
        .collect();
    assert_eq!(sent, ["Bearer key-9"]);
    let bytes = client
        .request(Method::POST, "/frontend/api/v1/billing/invoice")
        .send_bytes()
        .await
        .expect("bytes");
    assert_eq!(&bytes[..], br#"{"total":12.5}"#);
    let mut stream = client
        .request(Method::POST, "/frontend/api/v1/billing/invoice")
        .send_stream()
        .await
        .expect("stream")
        .into_inner();
    let mut streamed = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        streamed.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(streamed, br#"{"total":12.5}"#);

    let refused = client
        .request(Method::GET, "frontend/no-slash")
        .send()
        .await
        .expect_err("a relative path");
    assert_eq!(refused.kind(), ErrorKind::InvalidRequest);
    assert!(
        refused.to_string().contains("must start with one `/`"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_mock_answers_a_path_the_document_lacks_with_the_apis_404() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let error = client
        .request(Method::GET, "/frontend/api/v1/billing/invoice")
        .send()
        .await
        .expect_err("not in the document");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.api_error().and_then(|a| a.code), Some(404));
    assert_eq!(error.operation(), Some("request"));
    assert!(
        error
            .to_string()
            .starts_with("request (GET /frontend/api/v1/billing/invoice): 404 Not Found: "),
        "{error}"
    );
}

/// The version requirement of `name` in a manifest's dependency table,
/// written `name = "…"` or `name = { version = "…", … }`.
fn requirement<'m>(manifest: &'m str, table: &str, name: &str) -> Option<&'m str> {
    let body = manifest.split(&format!("[{table}]\n")).nth(1)?;
    let body = body.split("\n[").next()?;
    let line = body
        .lines()
        .find(|l| l.split('=').next().is_some_and(|k| k.trim() == name))?;
    let value = line.split_once('=')?.1.trim();
    let quoted = match value.find("version") {
        Some(at) if value.starts_with('{') => value[at..].split_once('=')?.1.trim(),
        _ => value,
    };
    quoted.strip_prefix('"')?.split('"').next()
}

#[test]
fn the_generator_versions_are_exact() {
    let workspace =
        std::fs::read_to_string(tests::root().join("Cargo.toml")).expect("the workspace manifest");
    for name in [
        "progenitor",
        "progenitor-impl",
        "progenitor-client",
        "typify",
        "typify-impl",
    ] {
        let version = requirement(&workspace, "workspace.dependencies", name)
            .unwrap_or_else(|| panic!("{name} has no version requirement"));
        assert!(
            version.starts_with('=') && !version.contains(','),
            "{name} = {version:?} is a range: a patch release could change the generated code"
        );
    }
    // probe-api takes them from the workspace.
    let package = std::fs::read_to_string(tests::root().join("probe-api/Cargo.toml"))
        .expect("the package manifest");
    for name in ["progenitor", "progenitor-impl", "typify", "typify-impl"] {
        assert!(
            package.contains(&format!("\n{name}.workspace = true\n")),
            "{name} is not a build-dependency from the workspace"
        );
    }
    assert!(package.contains("\nprogenitor-client.workspace = true\n"));
    // The reader itself: a range is caught.
    let range = "[workspace.dependencies]\nprogenitor = { version = \"0.15.1\", x = 1 }\n";
    assert_eq!(
        requirement(range, "workspace.dependencies", "progenitor"),
        Some("0.15.1")
    );
}

/// No item of progenitor-client is public: not re-exported, not in a
/// signature of the generated client (read from the generated source),
/// not on the API surface.
#[test]
fn no_generator_type_is_public() {
    let layout = xtask::Layout::at(&tests::root());
    let pipeline = layout.pipeline().expect("pipeline");
    let source =
        xtask::codegen::generate::generate(&pipeline.normalized).expect("the client generates");
    for line in source.lines().map(str::trim) {
        if line.starts_with("pub ") && !line.starts_with("pub(crate)") {
            for generator in ["progenitor_client", "ResponseValue", "ClientInfo"] {
                assert!(!line.contains(generator), "public: {line}");
            }
        }
    }
    assert!(
        source.contains("pub(crate) fn new(baseurl: &str, inner: crate::runtime::ClientState)"),
        "the generated constructors are not public"
    );
    let surface = std::fs::read_to_string(layout.api_surface()).expect("API.md");
    for generator in ["ResponseValue", "progenitor", "ByteStream<"] {
        assert!(!surface.contains(generator), "API.md names {generator}");
    }
}

#[tokio::test]
async fn a_value_that_does_not_convert_names_the_operation_parameter_and_type() {
    let server = wiremock::MockServer::start().await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key("k")
        .build()
        .expect("client");
    // An id that is not a UUID: refused at `send()`, before any request.
    let error = client
        .get_session()
        .session_id("not-a-uuid")
        .send()
        .await
        .expect_err("not a UUID");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert_eq!(error.operation(), Some("get_session"));
    assert_eq!(
        error.to_string(),
        "get_session: invalid request: the parameter `session-id` must be a `Uuid`; \
         the value given does not convert to it"
    );
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

/// A builder refuses what it cannot send as progenitor's builders did, from
/// its compact form (one bit per parameter whose value did not convert):
/// the first parameter in declaration order that did not convert or is
/// required and missing, whatever order the setters were called in; a
/// later valid value replaces a failed one. Nothing is sent.
#[tokio::test]
async fn a_builder_names_the_first_parameter_it_cannot_send_in_declaration_order() {
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/probe/file"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key("k")
        .build()
        .expect("client");
    let refused = |error: probe_api::Error| {
        assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{error}");
        assert_eq!(error.operation(), Some("get_file"));
        error.to_string()
    };
    // `u64::MAX` does not fit the `i64` these parameters take.
    let message = refused(
        client
            .get_file()
            .url("https://media.example/a.mp4")
            .ffprobe_max_probe_packets(u64::MAX)
            .ffprobe_analyzeduration(u64::MAX)
            .send()
            .await
            .expect_err("two values that do not convert"),
    );
    assert_eq!(
        message,
        "get_file: invalid request: the parameter `ffprobe[analyzeduration]` must be a `i64`; \
         the value given does not convert to it"
    );
    // A parameter declared before the required `url` is named before it.
    let message = refused(
        client
            .get_file()
            .ffprobe_probesize(u64::MAX)
            .send()
            .await
            .expect_err("no url"),
    );
    assert!(
        message.contains("`ffprobe[probesize]` must be a `i64`"),
        "{message}"
    );
    let message = refused(client.get_file().send().await.expect_err("no url"));
    assert_eq!(
        message,
        "get_file: invalid request: the parameter `url` is required and was not set"
    );
    // A valid value given after one that did not convert is the one sent.
    let sent = client
        .get_file()
        .ffprobe_probesize(u64::MAX)
        .ffprobe_probesize(4096u64)
        .url("https://media.example/a.mp4")
        .send()
        .await;
    assert!(sent.is_ok(), "{:?}", sent.err());
    // And a value that did not convert, given after a valid one, refuses.
    let message = refused(
        client
            .get_file()
            .url("https://media.example/a.mp4")
            .ffprobe_probesize(4096u64)
            .ffprobe_probesize(u64::MAX)
            .send()
            .await
            .expect_err("the last value does not convert"),
    );
    assert!(message.contains("`ffprobe[probesize]`"), "{message}");
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "only the valid call is sent");
    assert!(
        requests[0]
            .url
            .query()
            .unwrap_or_default()
            .contains("ffprobe%5Bprobesize%5D=4096"),
        "{}",
        requests[0].url
    );
}

/// Setters carry the document's facts, units included, so a first program
/// can be written from rustdoc (read here from the generated source).
#[test]
fn setters_are_documented_with_location_default_and_unit() {
    let layout = xtask::Layout::at(&tests::root());
    let pipeline = layout.pipeline().expect("pipeline");
    let source =
        xtask::codegen::generate::generate(&pipeline.normalized).expect("the client generates");
    let file = syn::parse_file(&source).expect("parses");
    let builder = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .expect("a builder module");
    let mut undocumented = Vec::new();
    let mut timeout_doc = None;
    let mut send_from_doc = None;
    for item in &builder.1 {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() {
            continue;
        }
        let owner = quote_type(&block.self_ty);
        for item in &block.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            let name = f.sig.ident.to_string();
            if name == "new" || name == "send" || name.ends_with("_map") {
                continue;
            }
            let doc: String = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .filter_map(|a| match &a.meta {
                    syn::Meta::NameValue(nv) => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            if doc.is_empty() {
                undocumented.push(format!("{owner}::{name}"));
            }
            if owner == "GetFile" && name == "timeout" {
                timeout_doc = Some(doc.clone());
            }
            if owner == "GetLog" && name == "send_from" {
                send_from_doc = Some(doc);
            }
        }
    }
    assert!(undocumented.is_empty(), "{undocumented:?}");
    let timeout_doc = timeout_doc.expect("GetFile::timeout");
    assert!(
        timeout_doc.contains("The query parameter `timeout`"),
        "{timeout_doc}"
    );
    assert!(timeout_doc.contains("In milliseconds"), "{timeout_doc}");
    assert!(timeout_doc.contains("Default: `65000`"), "{timeout_doc}");
    // The document's fixed instant is an example, never the API's default.
    let send_from_doc = send_from_doc.expect("GetLog::send_from");
    assert!(
        send_from_doc.contains("Example: `\"2025-06-19T10:52:53.815938106Z\"`")
            && !send_from_doc.contains("Default:"),
        "{send_from_doc}"
    );
}

fn quote_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}
