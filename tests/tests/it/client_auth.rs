//! The client layer on a loopback server: credentials on the wire as the
//! document defines each security scheme, configuration precedence, and
//! secrets kept out of everything printable.

use probe_api::{AuthScheme, Client, types};
use tests::loopback::serving_json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "pk_live_7f3a9c2e41d8b6a0";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
const SESSION: &str = "0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11";

async fn session_server() -> MockServer {
    let body = serde_json::json!({"id": SESSION, "user-agent": "curl/8.5.0", "ua-type": "other"});
    serving_json(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        body,
        KEY,
    )
    .await
    .0
}

async fn one_request(client: &Client, server: &MockServer) -> wiremock::Request {
    let session = client
        .get_session()
        .session_id(uuid::Uuid::parse_str(SESSION).expect("uuid"))
        .send()
        .await
        .expect("get_session succeeds");
    assert_eq!(session.id.to_string(), SESSION);
    let mut requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

fn query(request: &wiremock::Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn header<'a>(request: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn each_security_scheme_is_on_the_wire_as_the_document_defines_it() {
    let cases: [(AuthScheme, &str, bool); 5] = [
        (AuthScheme::ApiKeyHeader, KEY, false),
        (AuthScheme::ApiKeyQuery, KEY, false),
        (AuthScheme::JwtHeader, JWT, true),
        (AuthScheme::JwtQuery, JWT, true),
        (AuthScheme::JwtCookie, JWT, true),
    ];
    for (scheme, secret, is_jwt) in cases {
        let server = session_server().await;
        let builder = Client::builder().base_url(server.uri()).auth_scheme(scheme);
        let builder = if is_jwt {
            builder.jwt(secret)
        } else {
            builder.api_key(secret)
        };
        let client = builder.build().expect("client");
        let request = one_request(&client, &server).await;
        let bearer = format!("Bearer {secret}");
        let (auth, q, cookie) = (
            header(&request, "authorization"),
            query(&request),
            header(&request, "cookie"),
        );
        match scheme {
            AuthScheme::ApiKeyHeader | AuthScheme::JwtHeader => {
                assert_eq!(auth, Some(bearer.as_str()), "{scheme:?}");
                assert!(q.is_empty() && cookie.is_none(), "{scheme:?}");
            }
            AuthScheme::ApiKeyQuery => {
                assert_eq!(q, [("token".to_string(), KEY.to_string())]);
                assert!(auth.is_none() && cookie.is_none());
            }
            AuthScheme::JwtQuery => {
                assert_eq!(q, [("jwt".to_string(), JWT.to_string())]);
                assert!(auth.is_none() && cookie.is_none());
            }
            AuthScheme::JwtCookie => {
                assert_eq!(cookie, Some(format!("jwt={JWT}").as_str()));
                assert!(auth.is_none() && q.is_empty());
            }
            other => panic!("untested scheme {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_default_scheme_for_an_api_key_is_the_bearer_header_and_headers_name_the_sdk() {
    let server = session_server().await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .build()
        .expect("client");
    assert_eq!(client.auth_scheme(), Some(AuthScheme::ApiKeyHeader));
    let request = one_request(&client, &server).await;
    assert_eq!(
        header(&request, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let agent = header(&request, "user-agent").unwrap_or_default();
    assert_eq!(agent, probe_api::USER_AGENT);
    assert!(
        agent.starts_with("probe-api/")
            && agent.contains("(api 2025-06-24+overlay.2025-07-30.2; openapi 62c58eb3b03f)"),
        "{agent}"
    );
    assert_eq!(probe_api::API_REVISION, "2025-06-24+overlay.2025-07-30.2");
    assert_eq!(header(&request, "api-version"), Some("v1.0"));
}

#[tokio::test]
async fn operations_without_security_get_no_credentials() {
    let (server, client) = serving_json(
        "POST",
        "/frontend/api/v1/auth/sign-in",
        serde_json::json!({}),
        KEY,
    )
    .await;
    client
        .post_sign_in()
        .body(
            types::AuthPostSignInRequest::builder()
                .email("ada@example.com")
                .password(Some(
                    "correct horse"
                        .parse::<types::AuthPostSignInRequestPassword>()
                        .expect("valid password"),
                )),
        )
        .send()
        .await
        .expect("sign-in");
    let requests = server.received_requests().await.expect("recording");
    assert!(header(&requests[0], "authorization").is_none());
    assert!(requests[0].url.query().is_none());
}

#[tokio::test]
async fn a_deep_object_parameter_arrives_as_bracketed_query_parameters() {
    let (server, client) = serving_json(
        "GET",
        "/v1/probe/file",
        serde_json::json!({"success": true}),
        KEY,
    )
    .await;
    client
        .get_file()
        .url("https://example.com/a.mp4")
        .only(types::GetFileOnly::Ffprobe)
        .ffprobe_show_streams(true)
        .mediainfo_full(false)
        .send()
        .await
        .expect("get_file");
    let requests = server.received_requests().await.expect("recording");
    let q = query(&requests[0]);
    for expected in [
        ("url", "https://example.com/a.mp4"),
        ("only", "ffprobe"),
        ("ffprobe[show_streams]", "true"),
        ("mediainfo[full]", "false"),
    ] {
        assert!(
            q.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not in {q:?}"
        );
    }
    // Unset properties are not sent at all.
    assert!(!q.iter().any(|(k, _)| k == "ffprobe[show_frames]"), "{q:?}");
}

#[test]
fn explicit_settings_win_over_the_environment_which_wins_over_defaults() {
    let env = [
        ("PROBE_API_TOKEN", KEY),
        ("PROBE_BASE_URL", "https://api.probedev.com/"),
    ];
    let from_env = Client::builder()
        .with_env_vars(env)
        .build()
        .expect("client");
    assert_eq!(from_env.base_url(), "https://api.probedev.com");
    assert_eq!(from_env.auth_scheme(), Some(AuthScheme::ApiKeyHeader));

    let explicit = Client::builder()
        .base_url("http://127.0.0.1:9")
        .jwt(JWT)
        .with_env_vars(env)
        .build()
        .expect("client");
    assert_eq!(explicit.base_url(), "http://127.0.0.1:9");
    assert_eq!(explicit.auth_scheme(), Some(AuthScheme::JwtHeader));

    let defaults = Client::builder()
        .with_env_vars::<&str, &str>([])
        .build()
        .expect("client");
    assert_eq!(defaults.base_url(), "https://api.probe.dev");
    assert_eq!(defaults.auth_scheme(), None);
}

#[test]
fn invalid_settings_are_refused_naming_the_setting_and_the_reason() {
    let cases: Vec<(probe_api::ClientBuilder, &str, &str)> = vec![
        (
            Client::builder().base_url("api.probe.dev"),
            "base_url",
            "not an absolute URL",
        ),
        (
            Client::builder().base_url("http://api.probe.dev"),
            "base_url",
            "unencrypted",
        ),
        (
            Client::builder().base_url("ftp://api.probe.dev"),
            "base_url",
            "scheme `ftp`",
        ),
        (
            Client::builder().with_env_vars([("PROBE_BASE_URL", "https://x.test/?a=1")]),
            "PROBE_BASE_URL",
            "query",
        ),
        (Client::builder().api_key(""), "api_key", "empty"),
        (
            Client::builder().with_env_vars([("PROBE_API_TOKEN", "two words")]),
            "PROBE_API_TOKEN",
            "whitespace",
        ),
        (
            Client::builder()
                .api_key(KEY)
                .auth_scheme(AuthScheme::JwtCookie),
            "auth_scheme",
            "API key",
        ),
        (
            Client::builder().connect_timeout(std::time::Duration::ZERO),
            "connect_timeout",
            "zero",
        ),
        (
            Client::builder().with_env_vars([("PROBE_CONNECT_TIMEOUT_SECS", "soon")]),
            "PROBE_CONNECT_TIMEOUT_SECS",
            "not a number",
        ),
    ];
    for (builder, setting, reason) in cases {
        let err = builder.build().expect_err(setting);
        assert_eq!(err.setting, setting, "{err}");
        assert!(err.to_string().contains(reason), "{err}");
        assert!(
            err.to_string().starts_with(&format!("invalid {setting}: ")),
            "{err}"
        );
    }
    // Loopback over plain http is fine, for tests and local mocks.
    for url in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:2",
    ] {
        Client::builder()
            .base_url(url)
            .build()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn secrets_appear_in_no_debug_or_display() {
    let builder = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:1");
    let printed = format!("{builder:?}");
    assert!(!printed.contains(KEY), "{printed}");
    let client = builder.build().expect("client");
    let printed = format!("{client:?}");
    assert!(!printed.contains(KEY), "{printed}");
    let jwt_client = client
        .with_jwt(JWT, AuthScheme::JwtCookie)
        .expect("jwt client");
    assert!(!format!("{jwt_client:?}").contains(JWT));
    let err = Client::builder()
        .with_env_vars([("PROBE_API_TOKEN", format!("{KEY} trailing"))])
        .build()
        .expect_err("whitespace");
    assert!(!format!("{err} {err:?}").contains(KEY));
    let secret = probe_api::Secret::new(KEY);
    assert!(!format!("{secret} {secret:?}").contains(KEY));
    let url = reqwest::Url::parse(&format!(
        "https://api.probe.dev/v1/probe/file?url=a&token={KEY}&jwt={JWT}"
    ))
    .expect("url");
    let redacted = probe_api::auth::redact_url(&url);
    assert!(
        !redacted.contains(KEY) && !redacted.contains(JWT),
        "{redacted}"
    );
    assert!(redacted.contains("url=a"), "{redacted}");
}

#[tokio::test]
async fn cookie_parameters_go_only_to_the_operations_that_declare_them() {
    let (server, client) = serving_json(
        "POST",
        "/frontend/api/v1/auth/oauth-sign-in",
        serde_json::json!({"email": "user@example.com"}),
        KEY,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/auth/session"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"sessions": []})))
        .mount(&server)
        .await;
    let client = client
        .with_cookies([
            ("oauth-provider-name", "google"),
            ("oauth-email", "user@example.com"),
            ("oauth-provider-token", "ya29.provider-secret"),
        ])
        .expect("cookies of the document");
    client
        .post_oauth_sign_in()
        .body(types::AuthPostOAuthSignInRequest::builder())
        .send()
        .await
        .expect("oauth sign-in");
    client.get_sessions().send().await.expect("sessions");
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(
        header(&requests[0], "cookie"),
        Some(
            "oauth-provider-name=google; oauth-email=user@example.com; oauth-provider-token=ya29.provider-secret"
        )
    );
    assert_eq!(header(&requests[1], "cookie"), None, "{:?}", requests[1]);
    assert!(!format!("{client:?}").contains("ya29.provider-secret"));

    let unknown = client
        .with_cookies([("session", "x")])
        .expect_err("unknown");
    assert_eq!(unknown.setting, "cookie `session`");
    let bad = client
        .with_cookies([("oauth-email", "a b;c")])
        .expect_err("not a cookie value");
    assert!(bad.reason.contains("cookie-octet"), "{bad}");
}

#[tokio::test]
async fn sign_in_returns_a_client_that_uses_the_issued_jwt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/frontend/api/v1/auth/sign-in"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "email": "user@example.com",
            "user-id": 7,
            "jwt-token": {"token": JWT, "expire": "2026-12-13T10:00:00Z"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/auth/session"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"sessions": []})))
        .mount(&server)
        .await;
    let anonymous = Client::builder()
        .base_url(server.uri())
        .build()
        .expect("client");
    let (client, response) = anonymous
        .sign_in("user@example.com", "correct horse")
        .await
        .expect("sign-in");
    assert_eq!(response.user_id, Some(7));
    assert_eq!(client.auth_scheme(), Some(AuthScheme::JwtHeader));
    client.get_sessions().send().await.expect("sessions");

    let requests = server.received_requests().await.expect("recording");
    let sent: serde_json::Value =
        serde_json::from_slice(&requests[0].body).expect("JSON sign-in body");
    assert_eq!(sent["email"], "user@example.com");
    assert_eq!(sent["password"], "correct horse");
    assert_eq!(
        header(&requests[1], "authorization"),
        Some(format!("Bearer {JWT}").as_str())
    );

    let short = anonymous
        .sign_in("user@example.com", "123")
        .await
        .expect_err("passwords have at least 6 characters");
    assert_eq!(short.kind(), probe_api::ErrorKind::InvalidRequest);
    assert!(!short.to_string().contains("123"), "{short}");
}

#[test]
fn retry_and_timeout_settings_come_from_the_environment_unless_set() {
    let env = [
        ("PROBE_MAX_RETRIES", "5"),
        ("PROBE_TIMEOUT_SECS", "90"),
        ("PROBE_API_TOKEN", KEY),
    ];
    let client = Client::builder()
        .with_env_vars(env)
        .build()
        .expect("client");
    assert_eq!(client.retry_policy().max_retries(), 5);
    assert_eq!(client.timeout(), std::time::Duration::from_secs(90));
    let explicit = Client::builder()
        .with_env_vars(env)
        .max_retries(0)
        .build()
        .expect("client");
    assert_eq!(explicit.retry_policy().max_retries(), 0);
    let defaults = Client::builder().build().expect("client");
    assert_eq!(
        defaults.retry_policy(),
        probe_api::RetryPolicy::default(),
        "2 retries by default"
    );
    assert_eq!(defaults.retry_policy().max_retries(), 2);
    let bad = Client::builder()
        .with_env_vars([("PROBE_MAX_RETRIES", "many")])
        .build()
        .expect_err("not a number");
    assert_eq!(bad.setting, "PROBE_MAX_RETRIES");
}
