//! Calling operations by name with JSON arguments (`probe_api::dynamic`):
//! the parameter table against the normalized document, and dynamic calls
//! against a loopback wiremock server.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;

use probe_api::spec::{ParameterLocation, operations};
use probe_api::{Client, ErrorKind, dynamic};
use serde_json::{Map, Value, json};
use tests::loopback::{answering, object};
use wiremock::{MockServer, ResponseTemplate};
use xtask::codegen::refs::resolve;

const KEY: &str = "pk_test_5b1e0c7d9a2f4e68";
const SESSION: &str = "0b4f2c0e-8f43-4c0a-9a57-8d8f2a1c3e11";

type TestResult = Result<(), Box<dyn StdError>>;

fn client_for(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .build()
        .expect("client")
}

/// A parameter as the normalized document declares it: location and required.
type Declared = BTreeMap<String, (String, bool)>;

#[test]
fn every_parameter_and_body_of_the_normalized_document_is_in_the_table() -> TestResult {
    let pipeline = xtask::Layout::from_manifest_dir().pipeline()?;
    let document = &pipeline.normalized.document;
    let paths = document["paths"]
        .as_object()
        .ok_or("the document has no paths")?;
    let mut seen = 0;
    for (template, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (verb, operation) in item {
            let Some(spec) = operations()
                .iter()
                .find(|op| op.path == template && op.method.eq_ignore_ascii_case(verb))
            else {
                continue;
            };
            seen += 1;
            let at = vec!["paths".to_string(), template.clone(), verb.clone()];
            let mut declared = Declared::new();
            for listed in operation["parameters"].as_array().into_iter().flatten() {
                let parameter = resolve(document, listed, &at)?;
                let name = parameter["name"]
                    .as_str()
                    .ok_or("a parameter without a name")?;
                let location = parameter["in"].as_str().ok_or("a parameter without `in`")?;
                let required = parameter["required"].as_bool().unwrap_or(false);
                declared.insert(name.to_string(), (location.to_string(), required));
            }
            let table: Declared = spec
                .parameters
                .iter()
                .map(|p| {
                    (
                        p.name.to_string(),
                        (p.location.as_str().to_string(), p.required),
                    )
                })
                .collect();
            assert_eq!(table, declared, "{}: parameters", spec.rust_name);

            let body = operation
                .get("requestBody")
                .map(|b| resolve(document, b, &at))
                .transpose()?;
            match (body, spec.body) {
                (Some(body), Some(table)) => {
                    let content = body["content"]
                        .as_object()
                        .ok_or("a body without content")?;
                    assert!(
                        content.contains_key(table.media_type),
                        "{}: the body is sent as {}, which the document does not list",
                        spec.rust_name,
                        table.media_type
                    );
                    assert_eq!(Some(table.media_type), spec.request_media_type);
                    assert_eq!(
                        table.required,
                        body["required"].as_bool().unwrap_or(false),
                        "{}: body required",
                        spec.rust_name
                    );
                    assert!(!table.type_name.is_empty());
                }
                (None, None) => {}
                (document_body, table_body) => panic!(
                    "{}: the document has a body: {}, the table: {table_body:?}",
                    spec.rust_name,
                    document_body.is_some()
                ),
            }
        }
    }
    assert_eq!(
        seen,
        operations().len(),
        "every operation of the table is in the normalized document"
    );
    Ok(())
}

/// The setter names of the table against the builders in a fresh run of the
/// generator: each is a method of the operation's builder, and the body
/// setter exists where the table lists a body.
#[test]
fn every_setter_is_a_method_of_its_builder() -> TestResult {
    let pipeline = xtask::Layout::from_manifest_dir().pipeline()?;
    let code = xtask::codegen::generate::generate(&pipeline.normalized)?;
    let file = syn::parse_file(&code)?;
    let client = Client::builder().base_url("http://127.0.0.1:9").build()?;

    // `impl Client { pub fn get_file(&self) -> builder::GetFile<'_> }`
    let mut starts: BTreeMap<String, String> = BTreeMap::new();
    let mut methods: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut collect = |items: &[syn::Item], in_builder: bool| {
        for item in items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let syn::Type::Path(owner) = block.self_ty.as_ref() else {
                continue;
            };
            let Some(owner) = owner.path.segments.last().map(|s| s.ident.to_string()) else {
                continue;
            };
            for impl_item in &block.items {
                let syn::ImplItem::Fn(f) = impl_item else {
                    continue;
                };
                if in_builder {
                    methods
                        .entry(owner.clone())
                        .or_default()
                        .insert(f.sig.ident.to_string());
                } else if owner == "Client"
                    && let syn::ReturnType::Type(_, ty) = &f.sig.output
                    && let syn::Type::Path(ret) = ty.as_ref()
                    && ret.path.segments.len() == 2
                    && ret.path.segments[0].ident == "builder"
                {
                    starts.insert(
                        f.sig.ident.to_string(),
                        ret.path.segments[1].ident.to_string(),
                    );
                }
            }
        }
    };
    collect(&file.items, false);
    let builder = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .ok_or("no builder module in the generated code")?;
    collect(&builder.1, true);

    for op in operations() {
        assert!(probe_api::spec::has_operation_method(&client, op.rust_name));
        let name = starts
            .get(op.rust_name)
            .unwrap_or_else(|| panic!("Client::{} starts no builder", op.rust_name));
        let setters = &methods[name];
        for parameter in op.parameters {
            assert!(
                setters.contains(parameter.setter),
                "{}: `{}` is not a method of builder::{name}",
                op.rust_name,
                parameter.setter
            );
        }
        assert_eq!(
            op.body.is_some(),
            setters.contains("body"),
            "{}: the table and builder::{name} disagree about the body",
            op.rust_name
        );
    }
    Ok(())
}

#[test]
fn the_example_parameters_have_the_documented_setters_and_locations() {
    let get_file = probe_api::spec::operation("get_file").expect("get_file");
    let show_streams = get_file
        .parameters
        .iter()
        .find(|p| p.name == "ffprobe[show_streams]")
        .expect("ffprobe[show_streams]");
    assert_eq!(show_streams.setter, "ffprobe_show_streams");
    assert_eq!(show_streams.location, ParameterLocation::Query);
    assert!(!show_streams.required);
    assert!(get_file.body.is_none());

    let session = probe_api::spec::operation("get_session").expect("get_session");
    assert_eq!(session.parameters.len(), 1);
    assert_eq!(session.parameters[0].name, "session-id");
    assert_eq!(session.parameters[0].setter, "session_id");
    assert_eq!(session.parameters[0].location, ParameterLocation::Path);
    assert!(session.parameters[0].required);

    let verify = probe_api::spec::operation("post_verify").expect("post_verify");
    let token = verify
        .parameters
        .iter()
        .find(|p| p.name == "X-Recaptcha-Token")
        .expect("X-Recaptcha-Token");
    assert_eq!(token.setter, "x_recaptcha_token");
    assert_eq!(token.location, ParameterLocation::Header);

    let post_file = probe_api::spec::operation("post_file").expect("post_file");
    let body = post_file.body.expect("post_file has a body");
    assert_eq!(body.media_type, "application/json");
    assert_eq!(body.type_name, "PostFileRequest");
}

#[tokio::test]
async fn get_file_sends_the_query_pairs_and_decodes_the_answer() -> TestResult {
    let answer = json!({
        "success": true,
        "ffprobe": {"success": true, "duration": 120, "response": {"streams": [{"index": 0}]}},
        "not_in_the_document": "dropped by the generated type"
    });
    let server = answering(
        "GET",
        "/v1/probe/file",
        ResponseTemplate::new(200).set_body_json(&answer),
    )
    .await;
    let params = object(json!({
        "url": "https://example.com/media/trailer.mp4",
        "only": "ffprobe",
        "ffprobe[show_streams]": true,
    }));
    let value = dynamic::call(&client_for(&server), "get_file", &params, None).await?;

    let requests = server.received_requests().await.ok_or("recording")?;
    assert_eq!(requests.len(), 1);
    let mut pairs: Vec<(String, String)> = requests[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("ffprobe[show_streams]".into(), "true".into()),
            ("only".into(), "ffprobe".into()),
            ("url".into(), "https://example.com/media/trailer.mp4".into()),
        ]
    );
    // The answer went through `GetFileResponse`: the field the
    // document does not have is gone, the rest is as sent.
    assert_eq!(
        value,
        json!({
            "success": true,
            "ffprobe": {"success": true, "duration": 120, "response": {"streams": [{"index": 0}]}}
        })
    );
    Ok(())
}

#[tokio::test]
async fn post_file_sends_the_json_body() -> TestResult {
    let server = answering(
        "POST",
        "/v1/probe/file",
        ResponseTemplate::new(200).set_body_json(json!({"success": true})),
    )
    .await;
    // Every field with a default is given, so the body decodes and encodes
    // to the same JSON.
    let body = json!({
        "url": "https://example.com/media/trailer.mp4",
        "only": "mediainfo",
        "output": "json",
        "timeout": 30000,
        "queue_timeout": 10000,
        "inject_json": false
    });
    let value = dynamic::call(&client_for(&server), "post_file", &Map::new(), Some(&body)).await?;
    assert_eq!(value, json!({"success": true}));

    let requests = server.received_requests().await.ok_or("recording")?;
    assert_eq!(requests.len(), 1);
    let sent: Value = serde_json::from_slice(&requests[0].body)?;
    assert_eq!(sent, body);
    let content_type = requests[0]
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    Ok(())
}

#[tokio::test]
async fn get_session_puts_the_id_in_the_path() -> TestResult {
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"id": SESSION, "user-agent": "curl/8.5.0"})),
    )
    .await;
    let params = object(json!({"session-id": SESSION}));
    let value = dynamic::call(&client_for(&server), "get_session", &params, None).await?;
    assert_eq!(value, json!({"id": SESSION, "user-agent": "curl/8.5.0"}));
    assert_eq!(
        server.received_requests().await.ok_or("recording")?.len(),
        1
    );
    Ok(())
}

#[tokio::test]
async fn an_operation_without_a_response_body_returns_null() -> TestResult {
    let server = answering(
        "DELETE",
        "/frontend/api/v1/auth/session",
        ResponseTemplate::new(204),
    )
    .await;
    let value = dynamic::call(&client_for(&server), "delete_sessions", &Map::new(), None).await?;
    assert_eq!(value, Value::Null);
    Ok(())
}

#[tokio::test]
async fn an_error_status_is_the_same_error_a_typed_call_gives() -> TestResult {
    let server = answering(
        "GET",
        &format!("/frontend/api/v1/auth/session/{SESSION}"),
        ResponseTemplate::new(404).set_body_json(json!({"code": 404, "error": "no such session"})),
    )
    .await;
    let params = object(json!({"session-id": SESSION}));
    let error = dynamic::call(&client_for(&server), "get_session", &params, None)
        .await
        .expect_err("a 404 fails");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.operation(), Some("get_session"));
    assert_eq!(error.api_message(), Some("no such session"));
    Ok(())
}

/// A call that must be refused before anything is sent, and the words its
/// message must contain.
struct Refused {
    operation: &'static str,
    params: Value,
    body: Option<Value>,
    words: &'static [&'static str],
}

#[tokio::test]
async fn bad_arguments_are_invalid_requests_that_send_nothing() -> TestResult {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let bad_body = json!({"url": "https://example.com/a.mp4", "timeout": "soon"});
    let cases = [
        Refused {
            operation: "get_session",
            params: json!({"session-id": 5}),
            body: None,
            words: &[
                "get_session",
                "`session-id`",
                "Uuid",
                "invalid type: integer `5`",
            ],
        },
        Refused {
            operation: "get_session",
            params: json!({"session-id": SESSION, "sesion-id": SESSION}),
            body: None,
            words: &["get_session", "no parameter `sesion-id`", "`session-id`"],
        },
        Refused {
            operation: "get_file",
            params: json!({"url": "https://example.com/a.mp4", "ffprobe_show_streams": true}),
            body: None,
            words: &[
                "get_file",
                "no parameter `ffprobe_show_streams`",
                "`ffprobe[show_streams]`",
            ],
        },
        Refused {
            operation: "get_file",
            params: json!({"url": "https://example.com/a.mp4", "only": "ffmpeg"}),
            body: None,
            words: &[
                "get_file",
                "`only`",
                "GetFileOnly",
                "unknown variant `ffmpeg`",
            ],
        },
        Refused {
            operation: "post_file",
            params: json!({}),
            body: Some(bad_body.clone()),
            words: &[
                "post_file",
                "PostFileRequest",
                "at `timeout`",
                "invalid type",
            ],
        },
        Refused {
            operation: "get_sessions",
            params: json!({}),
            body: Some(bad_body),
            words: &["get_sessions", "takes no request body"],
        },
        Refused {
            operation: "routes/auth.GetSession",
            params: json!({}),
            body: None,
            words: &[
                "no operation is named `routes/auth.GetSession`",
                "`get_session`",
            ],
        },
        Refused {
            operation: "get_everything",
            params: json!({}),
            body: None,
            words: &["no operation is named `get_everything`"],
        },
    ];
    for Refused {
        operation,
        params,
        body,
        words,
    } in cases
    {
        let error = dynamic::call(&client, operation, &object(params), body.as_ref())
            .await
            .expect_err("refused");
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidRequest,
            "{operation}: {error}"
        );
        assert_eq!(error.attempts(), 0, "{operation}: {error}");
        let text = error.to_string();
        for word in words {
            assert!(text.contains(word), "{operation}: `{word}` not in: {text}");
        }
    }
    assert!(
        server
            .received_requests()
            .await
            .ok_or("recording")?
            .is_empty(),
        "nothing is sent"
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_required_parameter_is_reported_by_the_builder() -> TestResult {
    let server = MockServer::start().await;
    let error = dynamic::call(&client_for(&server), "get_session", &Map::new(), None)
        .await
        .expect_err("session-id is required");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        error.to_string(),
        "get_session: invalid request: the parameter `session-id` is required and was not set"
    );
    assert!(
        server
            .received_requests()
            .await
            .ok_or("recording")?
            .is_empty()
    );
    Ok(())
}
