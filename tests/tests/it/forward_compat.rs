//! Forward-compatible models. Responses the document does not fully
//! describe (a new enum value, an IP address that is not one, a new field)
//! decode through the public client from a loopback server and keep what was
//! sent; requests still take only the values the document lists. And the
//! generator does the same for any document: `tests/fixtures/spec/forward-compat.json`
//! places enums and formats on each side on purpose.

use std::collections::BTreeMap;
use std::net::IpAddr;

use probe_api::lenient::{IpText, OrUnknown};
use probe_api::types::{MediaRequestFfprobeStatus, MediaRequestStatus, UserRole, UserStatus};
use probe_api::{Client, ErrorKind};
use serde_json::{Map, Value, json};
use tests::loopback::serving_json;
use tests::{fixture, read};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "pk_test_5b1e7c9a";
const SESSION: &str = "0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11";
const LOG_ENTRY: &str = "6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";

async fn session_with(remote_ip: Value) -> probe_api::types::AuthGetSessionResponse {
    let (_server, client) = serving_json(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        json!({"id": SESSION, "remote-ip": remote_ip, "user-agent": "curl/8.5.0"}),
        KEY,
    )
    .await;
    client
        .get_session()
        .session_id(uuid::Uuid::parse_str(SESSION).expect("uuid"))
        .send()
        .await
        .expect("the session decodes")
        .into_inner()
}

#[tokio::test]
async fn a_session_decodes_whatever_its_remote_ip_holds() {
    // Go's unset net.IP, Prism's placeholder, then two real addresses.
    for (sent, parsed) in [
        ("", None),
        ("string", None),
        ("192.0.2.7", Some("192.0.2.7")),
        ("2001:db8::7", Some("2001:db8::7")),
    ] {
        let session = session_with(json!(sent)).await;
        let remote_ip: &IpText = session.remote_ip.as_ref().expect("remote-ip");
        assert_eq!(remote_ip.as_str(), sent, "the raw text is kept");
        let expected: Option<IpAddr> = parsed.map(|p| p.parse().expect("an address"));
        assert_eq!(remote_ip.parsed(), expected, "{sent:?}");
        assert_eq!(
            remote_ip.to_string(),
            sent,
            "Display shows the text as sent"
        );
        let again = serde_json::to_value(&session).expect("encodes");
        assert_eq!(again["remote-ip"], json!(sent), "re-encodes as sent");
    }
    let session = session_with(Value::Null).await;
    assert_eq!(session.remote_ip, None);
}

#[tokio::test]
async fn a_session_list_with_an_unset_address_decodes() {
    let (_server, client) = serving_json(
        "GET",
        "/frontend/api/v1/auth/session",
        json!({"sessions": [
            {"id": SESSION, "remote-ip": ""},
            {"id": SESSION, "remote-ip": "198.51.100.4"}
        ]}),
        KEY,
    )
    .await;
    let sessions = client
        .get_sessions()
        .send()
        .await
        .expect("the list decodes")
        .into_inner()
        .sessions
        .unwrap_or_default();
    let parsed: Vec<Option<IpAddr>> = sessions
        .iter()
        .map(|s| s.remote_ip.as_ref().and_then(IpText::parsed))
        .collect();
    assert_eq!(parsed, [None, Some(IpAddr::from([198, 51, 100, 4]))]);
}

/// A user as a newer API could send it: a status, a role and a permission
/// name the document does not list, and a field it does not have.
fn newer_user() -> Value {
    json!({
        "id": 7,
        "username": "ada",
        "status": "archived",
        "role": "auditor",
        "permissions": {"media": {"name": "write:media", "scopes": ["own"]}},
        "loyalty-tier": {"level": 3, "since": "2025-07-30"}
    })
}

#[tokio::test]
async fn a_user_with_values_the_document_does_not_list_decodes_and_keeps_them() {
    let (_server, client) =
        serving_json("GET", "/frontend/api/v1/user/current", newer_user(), KEY).await;
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("the user decodes")
        .into_inner();
    assert_eq!(user.status, Some(OrUnknown::Unknown("archived".into())));
    let status = user.status.as_ref().expect("a status");
    assert_eq!((status.unknown(), status.known()), (Some("archived"), None));
    assert_eq!(
        user.role.as_ref().and_then(OrUnknown::unknown),
        Some("auditor")
    );
    let permission = &user.permissions["media"];
    assert_eq!(
        permission.name.as_ref().map(ToString::to_string).as_deref(),
        Some("write:media")
    );

    // Re-encoded, every value is the string that came in; the field this
    // version does not know is dropped, not an error.
    let again = serde_json::to_value(&user).expect("encodes");
    assert_eq!(again["status"], "archived");
    assert_eq!(again["role"], "auditor");
    assert_eq!(again["permissions"]["media"]["name"], "write:media");
    assert_eq!(again.get("loyalty-tier"), None);
    assert_eq!(again["username"], "ada");
}

#[tokio::test]
async fn known_values_still_map_to_their_variants() {
    let mut body = newer_user();
    body["status"] = json!("active");
    body["role"] = json!("admin");
    let (_server, client) = serving_json("GET", "/frontend/api/v1/user/current", body, KEY).await;
    let user = client
        .get_current_user()
        .send()
        .await
        .expect("the user decodes")
        .into_inner();
    assert_eq!(user.status, Some(OrUnknown::Known(UserStatus::Active)));
    let status = user.status.expect("a status");
    assert!(status.is_known() && status == UserStatus::Active);
    assert_eq!(
        user.role.and_then(OrUnknown::into_known),
        Some(UserRole::Admin)
    );
}

#[tokio::test]
async fn a_log_entry_with_new_request_statuses_decodes() {
    let (_server, client) = serving_json(
        "GET",
        &format!("/frontend/api/v1/media/log/{LOG_ENTRY}"),
        json!({
            "id": LOG_ENTRY,
            "status": "partially-cached",
            "status-ffprobe": "success",
            "status-mediainfo": "timed-out",
            "url": "https://example.com/a.mp4"
        }),
        KEY,
    )
    .await;
    let entry = client
        .get_log_entry()
        .log_request_id(uuid::Uuid::parse_str(LOG_ENTRY).expect("uuid"))
        .send()
        .await
        .expect("the entry decodes")
        .into_inner();
    assert_eq!(
        entry.status,
        Some(OrUnknown::<MediaRequestStatus>::Unknown(
            "partially-cached".into()
        ))
    );
    assert_eq!(
        entry.status_ffprobe,
        Some(OrUnknown::Known(MediaRequestFfprobeStatus::Success))
    );
    assert_eq!(
        entry
            .status_mediainfo
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("timed-out")
    );
}

#[tokio::test]
async fn a_dynamic_call_returns_the_unknown_values_as_sent() {
    let (_server, client) =
        serving_json("GET", "/frontend/api/v1/user/current", newer_user(), KEY).await;
    let value = probe_api::dynamic::call(&client, "get_current_user", &Map::new(), None)
        .await
        .expect("decodes");
    assert_eq!(value["status"], "archived");
    assert_eq!(value["role"], "auditor");
    assert_eq!(value["permissions"]["media"]["name"], "write:media");
}

#[tokio::test]
async fn request_enums_stay_closed() {
    // The enum itself refuses a value the document does not list, however
    // it is made.
    assert!("archived".parse::<UserStatus>().is_err());
    assert!(UserStatus::try_from("archived").is_err());
    assert!(serde_json::from_value::<UserStatus>(json!("archived")).is_err());

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/frontend/api/v1/user"))
        .and(query_param("status", "active"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": []})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .build()
        .expect("client");

    // A dynamic call, whose JSON arguments a caller may take from anywhere,
    // is refused before anything is sent.
    let params = json!({"status": ["archived"]});
    let error = probe_api::dynamic::call(
        &client,
        "get_users",
        params.as_object().expect("an object"),
        None,
    )
    .await
    .expect_err("an unknown status is refused");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert!(
        error.to_string().contains("unknown variant `archived`"),
        "{error}"
    );

    // A known value is sent as the document spells it.
    client
        .get_users()
        .status(vec![UserStatus::Active])
        .send()
        .await
        .expect("sent and decoded");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 1, "only the typed call reached the server");
}

/// A type as source text, paths and generic arguments only.
fn render(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => {
            let mut out = String::new();
            if p.path.leading_colon.is_some() {
                out.push_str("::");
            }
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| {
                    let mut text = s.ident.to_string();
                    if let syn::PathArguments::AngleBracketed(args) = &s.arguments {
                        let inner: Vec<String> = args
                            .args
                            .iter()
                            .map(|a| match a {
                                syn::GenericArgument::Type(t) => render(t),
                                _ => "?".to_string(),
                            })
                            .collect();
                        text.push_str(&format!("<{}>", inner.join(", ")));
                    }
                    text
                })
                .collect();
            out.push_str(&segments.join("::"));
            out
        }
        _ => "?".to_string(),
    }
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> &'a [syn::Item] {
    items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, i)| i.as_slice()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no module {name}"))
}

/// The fields of struct `name` and their types.
fn fields(types: &[syn::Item], name: &str) -> BTreeMap<String, String> {
    let model = types
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no struct {name}"));
    model
        .fields
        .iter()
        .map(|f| {
            (
                f.ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                render(&f.ty),
            )
        })
        .collect()
}

/// Whether the struct `name` refuses unknown fields.
fn denies_unknown_fields(types: &[syn::Item], name: &str) -> bool {
    types.iter().any(|item| match item {
        syn::Item::Struct(s) if s.ident == name => s.attrs.iter().any(|a| {
            a.path().is_ident("serde")
                && a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|metas| {
                    metas
                        .iter()
                        .any(|m| m.path().is_ident("deny_unknown_fields"))
                })
        }),
        _ => false,
    })
}

/// The enum `name`: whether all its variants are unit variants (no
/// catch-all), and whether it derives `Copy`.
fn closed_enum(types: &[syn::Item], name: &str) -> (bool, bool) {
    let e = types
        .iter()
        .find_map(|item| match item {
            syn::Item::Enum(e) if e.ident == name => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no enum {name}"));
    let unit_only = e
        .variants
        .iter()
        .all(|v| matches!(v.fields, syn::Fields::Unit));
    let copy = e.attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| paths.iter().any(|p| p.is_ident("Copy")))
    });
    (unit_only, copy)
}

/// `T` in `fn setter<V>(..) where V: TryInto<T>` of an operation builder.
fn setter_type(builder: &[syn::Item], operation: &str, setter: &str) -> String {
    builder
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(block)
                if matches!(block.self_ty.as_ref(), syn::Type::Path(p)
                    if p.path.segments.last().is_some_and(|s| s.ident == operation)) =>
            {
                Some(block)
            }
            _ => None,
        })
        .flat_map(|block| block.items.iter())
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == setter => f
                .sig
                .generics
                .where_clause
                .as_ref()
                .and_then(|w| w.predicates.first())
                .and_then(|p| match p {
                    syn::WherePredicate::Type(t) => t.bounds.first(),
                    _ => None,
                })
                .and_then(|b| match b {
                    syn::TypeParamBound::Trait(t) => t.path.segments.last(),
                    _ => None,
                })
                .and_then(|s| match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.first(),
                    _ => None,
                })
                .and_then(|a| match a {
                    syn::GenericArgument::Type(t) => Some(render(t)),
                    _ => None,
                }),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no setter {operation}::{setter}"))
}

#[test]
fn the_generator_opens_response_enums_and_keeps_request_enums_closed() {
    let document = read(&fixture("spec/forward-compat.json"));
    let pipeline = xtask::codegen::run(&document, None).expect("normalizes");
    let code = xtask::codegen::generate::generate(&pipeline.normalized).expect("generates");
    let file = syn::parse_file(&code).expect("the generated code parses");
    let types = module(&file.items, "types");
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    // Paint, a response: every enum holds unknown values too, the address
    // is kept as text; `url` was a plain string already.
    assert_eq!(
        fields(types, "Paint"),
        map(&[
            ("color", "crate::runtime::OrUnknown<Color>"),
            ("drying", "crate::runtime::OrUnknown<PaintDrying>"),
            (
                "finish",
                "::std::option::Option<crate::runtime::OrUnknown<Finish>>"
            ),
            ("homepage", "::std::option::Option<::std::string::String>"),
            ("mixed_at", "::std::option::Option<crate::runtime::IpText>"),
            (
                "shades",
                "::std::vec::Vec<crate::runtime::OrUnknown<Color>>"
            ),
        ])
    );
    // Order, a request body: closed enums and a parsed address; its
    // password, a credential, never prints.
    assert_eq!(
        fields(types, "Order"),
        map(&[
            ("client_ip", "::std::option::Option<::std::net::IpAddr>"),
            ("finish", "::std::option::Option<Finish>"),
            ("password", "::std::option::Option<crate::runtime::Secret>"),
            ("size", "Size"),
        ])
    );
    // The error body and the other success body are responses too.
    assert_eq!(
        fields(types, "Problem")["kind"],
        "::std::option::Option<crate::runtime::OrUnknown<ProblemKind>>"
    );
    assert_eq!(
        fields(types, "Receipt")["state"],
        "::std::option::Option<crate::runtime::OrUnknown<ReceiptState>>"
    );
    // Finish is on both sides: the query parameter takes the closed enum.
    let builder = module(&file.items, "builder");
    assert_eq!(setter_type(builder, "GetPaint", "finish"), "types::Finish");

    // The enums themselves stay closed, and Copy.
    for name in [
        "Color",
        "Size",
        "Finish",
        "PaintDrying",
        "ReceiptState",
        "ProblemKind",
    ] {
        assert_eq!(closed_enum(types, name), (true, true), "{name}");
    }
    // additionalProperties: false refuses unknown fields in requests only.
    assert!(denies_unknown_fields(types, "Order"));
    assert!(!denies_unknown_fields(types, "Paint"));
    assert!(!denies_unknown_fields(types, "Problem"));
}
