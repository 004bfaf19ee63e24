//! API tokens, minted JWTs and account deletion against the mock, and the
//! credentials they carry never printed: not in spans, errors or `Debug`,
//! whatever the server echoes back.

use std::time::Duration;

use probe_api::mock::{self, MockServer};
use probe_api::types::{
    AuthPostApiTokenRequest, AuthPostJwtTokenRequest, AuthPutApiTokenRequest,
    UserPermissionName as Permission,
};
use probe_api::{Client, RetryPolicy, Secret};
use serde_json::json;
use tests::CapturedLogs;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

/// Everything a user could print about a call, to search for a secret.
#[derive(Default)]
struct Printed(Vec<String>);

impl Printed {
    fn error(&mut self, error: &probe_api::Error) {
        self.0.push(format!("{error}"));
        self.0.push(format!("{error:?}"));
        self.0.push(format!("{:?}", error.api_error()));
        self.0.push(format!("{:?}", error.body()));
        self.0.push(format!("{:?}", error.request_id()));
        self.0.push(format!("{:?}", error.decode_path()));
        self.0.push(format!("{:?}", error.body_snippet()));
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            self.0.push(format!("{cause} {cause:?}"));
            source = cause.source();
        }
    }

    fn debug(&mut self, value: &impl std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
    }

    fn assert_free_of(&self, secret: &str, logs: &CapturedLogs) {
        for text in self.0.iter().chain(std::iter::once(&logs.text())) {
            assert!(!text.contains(secret), "the secret shows in: {text}");
        }
    }
}

fn permission_names(map: Option<&serde_json::Map<String, serde_json::Value>>) -> Vec<String> {
    let mut names: Vec<String> = map.into_iter().flat_map(|m| m.keys().cloned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_token_made_through_the_client_works_until_it_expires_or_is_deleted_and_never_prints() {
    let (logs, _guard) = CapturedLogs::install();
    let mut printed = Printed::default();
    let mock = MockServer::start().await.expect("mock");
    let owner = mock.client().expect("client");

    let created = owner
        .post_api_token()
        .body(AuthPostApiTokenRequest {
            permissions: vec![Permission::ReadMedia, Permission::ReadUser],
            ttl: 3600,
        })
        .send()
        .await
        .expect("a new token")
        .into_inner();
    printed.debug(&created);
    let token: Secret = created.token.clone().expect("the new token");
    let secret = token.expose().to_string();
    assert!(!secret.is_empty() && secret != mock::API_KEY);
    assert_eq!(
        permission_names(created.permissions.as_ref()),
        ["read:media", "read:user"]
    );
    assert!(created.expires_at.is_some(), "a TTL of an hour expires");

    // The new token is an API key of its own.
    let holder = mock
        .client_builder()
        .api_key(token.clone())
        .retry(RetryPolicy::none())
        .build()
        .expect("a client with the new token");
    printed.debug(&holder);
    let user = holder.get_current_user().send().await.expect("works");
    assert_eq!(user.email.as_deref(), Some(mock::EMAIL));

    // Listed, and fetched by its value (the value is in the path).
    let listed = owner.get_api_token_list().send().await.expect("list");
    printed.debug(&*listed);
    let tokens = listed.api_tokens.clone().unwrap_or_default();
    assert!(tokens.iter().any(|t| t.token.as_ref() == Some(&token)));
    let get = owner.get_api_token().token(secret.clone());
    printed.debug(&get);
    let fetched = get.send().await.expect("get").into_inner();
    printed.debug(&fetched);
    assert_eq!(fetched.expired, Some(false));

    // Refreshed: a new TTL, a permission added, then the permissions reset.
    let refreshed = owner
        .put_api_token()
        .token(secret.clone())
        .body(AuthPutApiTokenRequest {
            permissions: vec![Permission::WriteMedia],
            ttl: 60,
            ..Default::default()
        })
        .send()
        .await
        .expect("refresh")
        .into_inner();
    printed.debug(&refreshed);
    assert_eq!(
        permission_names(refreshed.permissions.as_ref()),
        ["read:media", "read:user", "write:media"]
    );
    assert!(refreshed.expires_at < fetched.expires_at, "60 s from now");
    let reset = owner
        .put_api_token()
        .token(secret.clone())
        .body(AuthPutApiTokenRequest {
            permissions: vec![Permission::ReadMedia],
            reset_permissions: true,
            ttl: 60,
            ..Default::default()
        })
        .send()
        .await
        .expect("reset")
        .into_inner();
    assert_eq!(permission_names(reset.permissions.as_ref()), ["read:media"]);

    // Expired: refused, listed only when asked for.
    mock.advance_clock(Duration::from_secs(61));
    let expired = holder
        .get_current_user()
        .send()
        .await
        .expect_err("an expired token");
    printed.error(&expired);
    assert!(expired.is_unauthorized(), "{expired}");
    let live = owner.get_api_token_list().send().await.expect("list");
    assert!(
        !live
            .api_tokens
            .iter()
            .flatten()
            .any(|t| t.token.as_ref() == Some(&token))
    );
    let all = owner
        .get_api_token_list()
        .include_expired(true)
        .send()
        .await
        .expect("list with expired");
    let shown = all
        .api_tokens
        .iter()
        .flatten()
        .find(|t| t.token.as_ref() == Some(&token))
        .expect("listed when expired ones are asked for");
    assert_eq!(shown.expired, Some(true));
    let gone = owner
        .get_api_token()
        .token(secret.clone())
        .send()
        .await
        .expect_err("an expired token is not found unless asked for");
    printed.error(&gone);
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404), "{gone}");
    assert!(
        gone.to_string()
            .contains("GET /frontend/api/v1/auth/api-token/<redacted>"),
        "{gone}"
    );

    // A refresh makes it valid again; deleting it ends it for good.
    owner
        .put_api_token()
        .token(secret.clone())
        .body(AuthPutApiTokenRequest::default())
        .send()
        .await
        .expect("refresh without expiry");
    holder.get_current_user().send().await.expect("valid again");
    let delete = owner.delete_api_token().token(secret.clone());
    printed.debug(&delete);
    delete.send().await.expect("delete");
    let deleted = holder
        .get_current_user()
        .send()
        .await
        .expect_err("a deleted token");
    printed.error(&deleted);
    assert!(deleted.is_unauthorized(), "{deleted}");
    let again = owner
        .delete_api_token()
        .token(secret.clone())
        .send()
        .await
        .expect_err("deleted already");
    printed.error(&again);
    assert_eq!(again.status().map(|s| s.as_u16()), Some(404));

    let url = format!("{}/frontend/api/v1/auth/api-token/{secret}", mock.url());
    printed
        .0
        .push(probe_api::auth::redact_url(&url.parse().expect("url")));
    let text = logs.text();
    assert!(
        text.contains("path=/frontend/api/v1/auth/api-token/<redacted>"),
        "the spans name the operation's path, redacted: {text}"
    );
    printed.assert_free_of(&secret, &logs);
}

#[tokio::test]
async fn a_minted_jwt_authenticates_and_deleting_the_user_ends_every_credential() {
    let mock = MockServer::start().await.expect("mock");
    let owner = mock.client().expect("client");

    let minted = owner
        .post_jwt_token()
        .body(AuthPostJwtTokenRequest {
            long_term_token: Some(true),
            permissions: vec![Permission::ReadUser],
            ..Default::default()
        })
        .send()
        .await
        .expect("a JWT")
        .into_inner();
    let jwt = minted.token.clone().expect("the JWT");
    assert!(format!("{minted:?}").contains("<redacted>"));
    let with_jwt = mock
        .client_builder()
        .jwt(jwt)
        .retry(RetryPolicy::none())
        .build()
        .expect("a JWT client");
    with_jwt
        .get_current_user()
        .send()
        .await
        .expect("the JWT is accepted");

    let (signed_in, _) = owner
        .sign_in(mock::EMAIL, mock::PASSWORD)
        .await
        .expect("sign-in");
    let token = owner
        .post_api_token()
        .body(AuthPostApiTokenRequest::default())
        .send()
        .await
        .expect("a token")
        .into_inner()
        .token
        .expect("the token");
    let with_token = mock
        .client_builder()
        .api_key(token)
        .retry(RetryPolicy::none())
        .build()
        .expect("a token client");
    with_token.get_current_user().send().await.expect("works");

    owner
        .delete_current_user()
        .send()
        .await
        .expect("the user is deleted");
    for (what, client) in [
        ("the minted JWT", &with_jwt),
        ("the session's JWT", &signed_in),
        ("the API token", &with_token),
        ("the mock's own key", &owner),
    ] {
        let error = client
            .get_current_user()
            .send()
            .await
            .expect_err("the user is gone");
        assert!(error.is_unauthorized(), "{what}: {error}");
    }
}

const KEY: &str = "pk_live_echoed_1b7e55c0";
const PATH_TOKEN: &str = "ptk_in_the_path_9d3f";

/// A client of `server` that holds [`KEY`] and does not retry.
fn echo_client(server: &wiremock::MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn credentials_a_server_echoes_show_in_no_error_accessor_or_trace() {
    let (logs, _guard) = CapturedLogs::install();
    let mut printed = Printed::default();
    let server = wiremock::MockServer::start().await;
    // The key in the error's message, its context and the request id.
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/auth/session"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-request-id", KEY)
                .set_body_json(json!({
                    "code": 401,
                    "error": format!("the key {KEY} is not valid"),
                    "status": "Unauthorized",
                    "context": {"token": KEY, KEY: [KEY]},
                })),
        )
        .mount(&server)
        .await;
    // The key in a 200's field of the wrong type, which serde quotes.
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/user/current"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", format!("req-{KEY}"))
                .set_body_json(json!({"id": KEY, "email": "user@example.com"})),
        )
        .mount(&server)
        .await;
    // A token from the path echoed in every way.
    Mock::given(method("GET"))
        .and(path_regex("^/frontend/api/v1/auth/api-token/.+$"))
        .respond_with(move |request: &wiremock::Request| {
            let path = request.url.path().to_string();
            ResponseTemplate::new(404)
                .insert_header("x-request-id", path.clone())
                .set_body_json(json!({
                    "code": 404,
                    "error": format!("no token at {path}"),
                    "context": {"path": path},
                }))
        })
        .mount(&server)
        .await;
    let client = echo_client(&server);

    let unauthorized = client.get_sessions().send().await.expect_err("401");
    printed.error(&unauthorized);
    assert!(unauthorized.is_unauthorized());
    let api = unauthorized.api_error().expect("the API's error body");
    assert_eq!(api.code, Some(401));
    let context = api.context.as_ref().expect("the context");
    assert_eq!(context.get("token"), Some(&json!("<redacted>")));
    assert_eq!(unauthorized.request_id(), Some("<redacted>"));
    assert!(
        unauthorized
            .to_string()
            .contains("the key <redacted> is not valid"),
        "{unauthorized}"
    );

    let undecodable = client
        .get_current_user()
        .send()
        .await
        .expect_err("a string where the id is a number");
    printed.error(&undecodable);
    assert_eq!(undecodable.kind(), probe_api::ErrorKind::Decode);
    assert_eq!(undecodable.decode_path(), Some("id"));
    assert!(
        undecodable.to_string().contains("<redacted>"),
        "serde's quote of the value is redacted: {undecodable}"
    );
    assert_eq!(undecodable.request_id(), Some("req-<redacted>"));

    let not_found = client
        .get_api_token()
        .token(PATH_TOKEN)
        .send()
        .await
        .expect_err("404");
    printed.error(&not_found);
    assert_eq!(not_found.status().map(|s| s.as_u16()), Some(404));
    assert!(
        not_found
            .to_string()
            .contains("no token at /frontend/api/v1/auth/api-token/<redacted>"),
        "{not_found}"
    );
    let received = server.received_requests().await.expect("recording");
    assert!(
        received
            .iter()
            .any(|r| r.url.path().ends_with(&format!("/api-token/{PATH_TOKEN}"))),
        "the token itself went on the wire"
    );

    printed.assert_free_of(KEY, &logs);
    printed.assert_free_of(PATH_TOKEN, &logs);
}
