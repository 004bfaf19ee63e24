//! The request bytes Prism does not judge, on a loopback server this test
//! controls: the exact query string (`name[prop]` groups, exploded arrays,
//! percent-encoding), header names and values on every operation, the
//! `Content-Type` and bytes of form and JSON bodies, the `Cookie` header
//! when cookie parameters and the `jwt` cookie scheme meet, and how path
//! parameters are written into the path.
//!
//! `client_auth.rs` covers each security scheme on the wire and one
//! `deepObject` group; this file does not repeat those.

use std::collections::BTreeSet;

use probe_api::spec::operations;
use probe_api::{AuthScheme, Client, RetryPolicy, USER_AGENT, dynamic, mock, types};
use serde_json::{Value, json};
use tests::loopback::object;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "pk_test_wire_9c2e41d8b6a07f3a";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.d2lyZQ";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
}

/// A server answering every request with `status` and a JSON body.
async fn answering(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn deep_object_groups_and_exploded_arrays_have_the_exact_query_string() {
    let server = answering(200, json!({})).await;
    let params = object(json!({
        "status": ["success", "with-errors"],
        "status-ffprobe": ["error"],
        "user-id": [3, 14],
        "url": "https://media.example/a b.mp4?x=1&y=2",
        "request": "req+1/ü",
        "send[from]": "2025-06-01T00:00:00Z",
        "send[to]": "2025-06-02T12:30:00Z",
        "pagination[limit]": 50,
        "pagination[page]": 2,
        "sort[field]": "send",
        "sort[order]": "desc",
    }));
    dynamic::call(&client(&server), "get_log", &params, None)
        .await
        .expect("get_log");
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/frontend/api/v1/media/log");
    // application/x-www-form-urlencoded, as OpenAPI's `form` and
    // `deepObject` styles use it: the brackets of `name[prop]` and every
    // reserved character of a value percent-encoded, a space as `+`; an
    // array with `explode` (the default for `form`) as the name repeated.
    assert_eq!(
        request.url.query(),
        Some(
            "pagination%5Blimit%5D=50&pagination%5Bpage%5D=2\
             &request=req%2B1%2F%C3%BC\
             &send%5Bfrom%5D=2025-06-01T00%3A00%3A00Z&send%5Bto%5D=2025-06-02T12%3A30%3A00Z\
             &sort%5Bfield%5D=send&sort%5Border%5D=desc\
             &status=success&status=with-errors&status-ffprobe=error\
             &url=https%3A%2F%2Fmedia.example%2Fa+b.mp4%3Fx%3D1%26y%3D2\
             &user-id=3&user-id=14"
        )
    );
}

#[tokio::test]
async fn every_deep_object_group_of_a_file_probe_is_bracketed_and_values_are_escaped() {
    let server = answering(200, json!({"success": true})).await;
    let params = object(json!({
        "url": "https://media.example/clip.mp4",
        "ffprobe[show_entries]": "format=duration,size:stream=codec_name",
        "ffprobe[read_intervals]": "%+#10",
        "ffprobe[show_streams]": false,
        "mediainfo[output]": "EBUCore_1.8_ps_JSON",
        "mediainfo[parse_speed]": 0.25,
        "probe_report[prefer]": "mediainfo",
    }));
    dynamic::call(&client(&server), "get_file", &params, None)
        .await
        .expect("get_file");
    let request = only_request(&server).await;
    assert_eq!(
        request.url.query(),
        Some(
            "ffprobe%5Bread_intervals%5D=%25%2B%2310\
             &ffprobe%5Bshow_entries%5D=format%3Dduration%2Csize%3Astream%3Dcodec_name\
             &ffprobe%5Bshow_streams%5D=false\
             &mediainfo%5Boutput%5D=EBUCore_1.8_ps_JSON&mediainfo%5Bparse_speed%5D=0.25\
             &probe_report%5Bprefer%5D=mediainfo\
             &url=https%3A%2F%2Fmedia.example%2Fclip.mp4"
        )
    );
    // Decoded, the pairs are the wire names of the document's properties.
    let names: Vec<String> = request
        .url
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n == "url" || n.ends_with(']')),
        "{names:?}"
    );
}

#[tokio::test]
async fn every_operation_sends_the_api_version_user_agent_and_accept_headers() {
    let document = xtask::Layout::from_manifest_dir()
        .pipeline()
        .expect("the effective document")
        .effective;
    let api_version = document["info"]["version"].as_str().expect("info.version");
    assert_eq!(api_version, "v1.0");
    let server = answering(200, json!({})).await;
    let client = client(&server);
    for op in operations() {
        let call = mock::example_call(op.rust_name).expect("example arguments");
        // The answer may not decode as every operation's type; only the
        // request matters here.
        let _ = dynamic::call(&client, op.rust_name, &call.params, call.body.as_ref()).await;
    }
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), operations().len());
    for (op, request) in operations().iter().zip(&requests) {
        let name = op.rust_name;
        assert_eq!(request.method.as_str(), op.method, "{name}");
        assert_eq!(header(request, "api-version"), Some(api_version), "{name}");
        assert_eq!(header(request, "user-agent"), Some(USER_AGENT), "{name}");
        assert_eq!(
            header(request, "accept"),
            Some("application/json"),
            "{name}"
        );
        let content_type = header(request, "content-type");
        match op.body {
            Some(body) if !request.body.is_empty() => {
                assert_eq!(content_type, Some(body.media_type), "{name}");
            }
            _ => assert_eq!(content_type, None, "{name}: no body, no content type"),
        }
        // The credential goes only where the document asks for one.
        let sends_key = header(request, "authorization") == Some(&format!("Bearer {KEY}"));
        assert_eq!(sends_key, !op.security.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn a_header_parameter_goes_by_the_documents_name() {
    let server = answering(200, json!({})).await;
    let params = object(json!({"X-Recaptcha-Token": "03AGdBq24PBCbwiDRaS_MJ7Z"}));
    let body = json!({"verify-token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"});
    dynamic::call(&client(&server), "post_verify", &params, Some(&body))
        .await
        .expect("post_verify");
    let request = only_request(&server).await;
    // Header names are case-insensitive; the value is sent as given.
    assert_eq!(
        header(&request, "x-recaptcha-token"),
        Some("03AGdBq24PBCbwiDRaS_MJ7Z")
    );
    // Sign-up verification is a call without security: no credential.
    assert_eq!(header(&request, "authorization"), None);
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn a_form_body_is_urlencoded_with_its_content_type() {
    let server = answering(204, json!(null)).await;
    let body = types::FormDataAuthPutCurrentPasswordRequest::builder()
        .old_password(
            "p@ss w0rd&="
                .parse::<types::AuthPassword>()
                .expect("password"),
        )
        .new_password(
            "ünïcode+½"
                .parse::<types::AuthPassword>()
                .expect("password"),
        );
    client(&server)
        .put_current_password()
        .logout_all(true)
        .body(body)
        .send()
        .await
        .expect("put_current_password");
    let request = only_request(&server).await;
    assert_eq!(
        header(&request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        "new-password=%C3%BCn%C3%AFcode%2B%C2%BD&old-password=p%40ss+w0rd%26%3D"
    );
    assert_eq!(request.url.query(), Some("logout-all=true"));
}

#[tokio::test]
async fn a_json_body_has_its_content_type_and_the_documents_property_names() {
    let server = answering(200, json!({"id": 7})).await;
    let body = types::UserPutUserProfileRequest::builder()
        .first_name(Some("Ada".to_string()))
        .last_name(Some("Lovelace \"Byron\"".to_string()));
    let profile = client(&server)
        .put_user_profile()
        .user_id(7)
        .body(body)
        .send()
        .await
        .expect("put_user_profile");
    assert_eq!(profile.id, 7);
    let request = only_request(&server).await;
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        r#"{"first-name":"Ada","last-name":"Lovelace \"Byron\""}"#
    );
    // Optional properties left unset are not sent as null.
    let server = answering(200, json!({"id": 7})).await;
    client(&server)
        .put_user_profile()
        .user_id(7)
        .body(types::UserPutUserProfileRequest::builder().first_name(Some("Ada".to_string())))
        .send()
        .await
        .expect("put_user_profile");
    let request = only_request(&server).await;
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        r#"{"first-name":"Ada"}"#
    );
}

#[tokio::test]
async fn cookie_parameters_and_the_jwt_cookie_share_no_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/frontend/api/v1/auth/oauth-sign-in"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/auth/session"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sessions": []})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .jwt(JWT)
        .auth_scheme(AuthScheme::JwtCookie)
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
        .with_cookies([
            ("oauth-provider-name", "github"),
            (
                "oauth-provider-token",
                "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            ),
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
    assert_eq!(requests.len(), 2);
    // The sign-in has no security, so no `jwt` cookie; only the cookies set,
    // in the document's order, in one header.
    let cookies: Vec<&str> = requests[0]
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        cookies,
        [
            "oauth-provider-name=github; oauth-provider-token=gho_16C7e42F292c6912E7710c838347Ae178B4a"
        ]
    );
    // The session list takes no cookie parameter: only the credential.
    let cookies: Vec<&str> = requests[1]
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies, [format!("jwt={JWT}").as_str()]);
    assert_eq!(header(&requests[1], "authorization"), None);
}

#[tokio::test]
async fn path_parameters_are_written_canonically_and_escaped() {
    let server = answering(204, json!(null)).await;
    let client = client(&server);
    // A UUID given in upper case goes out in its canonical lower-case form;
    // an integer in decimal.
    let params = object(json!({"session-id": "0B4F2C0E-8F43-4C0A-9A57-8D8F2A1C3E11"}));
    dynamic::call(&client, "delete_session", &params, None)
        .await
        .expect("delete_session");
    let params = object(json!({"user-id": 4_294_967_297_u64}));
    let body = json!({"old-password": "secret1", "new-password": "secret2"});
    dynamic::call(&client, "put_user_password", &params, Some(&body))
        .await
        .expect("put_user_password");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/frontend/api/v1/auth/session/0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11",
            "/frontend/api/v1/auth/4294967297/password",
        ]
    );
    // The document's path parameters are UUIDs and integers, which need no
    // escaping. The generated code writes every path parameter through the
    // runtime's `PathSegment` (`conformance_drift.rs` checks that it does),
    // which encodes as `progenitor_client::encode_path` does (a unit test in
    // `transport.rs` compares them); a string parameter would be escaped
    // like this, so it stays one path segment and cannot add a query or
    // fragment.
    assert_eq!(
        progenitor_client::encode_path("a b/c?d#e%f\"<>`{}"),
        "a%20b%2Fc%3Fd%23e%25f%22%3C%3E%60%7B%7D"
    );
    assert_eq!(progenitor_client::encode_path("ü~-._"), "%C3%BC~-._");
}

#[test]
fn the_wire_tests_cover_every_body_media_type_the_client_sends() {
    let sent: BTreeSet<&str> = operations()
        .iter()
        .filter_map(|op| op.body.map(|b| b.media_type))
        .collect();
    assert_eq!(
        sent,
        BTreeSet::from(["application/json", "application/x-www-form-urlencoded"]),
        "a new media type needs a wire test above"
    );
}
