//! Hostile and random response bodies through every operation.
//!
//! - `every_operation_decodes_arbitrary_bodies`: every operation of
//!   `probe_api::spec::operations()` is called through
//!   `probe_api::dynamic::call` against a loopback server that answers with
//!   15 hostile bodies at its success status (empty, `null`, 10,000 nested
//!   arrays and objects, invalid UTF-8, a cut example, every number -1,
//!   u64::MAX + 1, i64::MIN - 1, 1e400 or 0.5, every string invalid or
//!   huge) and 4 of them at an error status, then 160 random answers (the
//!   example answer edited in places, cut, any JSON or any bytes, at any
//!   documented or undocumented status). Each call ends in success or an
//!   error of the expected kind, and the client makes a plain call right
//!   after.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use probe_api::spec::{OperationSpec, operations};
use probe_api::{Client, ErrorKind, RetryPolicy, dynamic, mock};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtask::codegen::escape_segment;

use super::json::{all_pointers, any_json, delete, number, set};
use super::{cases, check, fail, no_panic};

const KEY: &str = "pk_test_properties";

/// What the loopback server answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 200;
        let text = String::from_utf8_lossy(&self.body);
        let shown: String = text.chars().take(SHOWN).collect();
        write!(
            f,
            "{} {} with {} bytes: {shown:?}{}",
            self.status,
            self.content_type.unwrap_or("(no content type)"),
            self.body.len(),
            if text.chars().count() > SHOWN {
                "…"
            } else {
                ""
            }
        )
    }
}

/// The server answers every request with the current reply.
struct Scripted(Arc<Mutex<Reply>>);

impl wiremock::Respond for Scripted {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let reply = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let template = ResponseTemplate::new(reply.status);
        match reply.content_type {
            Some(content_type) => template.set_body_raw(reply.body, content_type),
            None => template.set_body_bytes(reply.body),
        }
    }
}

/// An operation with valid arguments and the schemas of its answers.
struct Operation {
    spec: &'static OperationSpec,
    params: Map<String, Value>,
    body: Option<Value>,
    success: u16,
    failure: u16,
    /// Status, and the example answer for it, from the normalized document.
    answers: Vec<(u16, Value)>,
}

/// The loopback server, a client for it, and every operation.
struct Exchanges {
    runtime: tokio::runtime::Runtime,
    reply: Arc<Mutex<Reply>>,
    _server: MockServer,
    client: Client,
    operations: Vec<Operation>,
}

/// Placeholders [`filled`] puts where numbers and strings go, so that a
/// rendering can put text there that no `serde_json::Value` can hold.
const NUMBER: &str = "\u{1}number";
const STRING: &str = "\u{1}string";

/// What [`filled`] puts in numbers and strings.
#[derive(Clone, Copy, PartialEq)]
enum Fill {
    /// Plain values of the schema's type and format.
    Plain,
    /// The [`NUMBER`] placeholder in every number.
    Numbers,
    /// The [`STRING`] placeholder in every string.
    Strings,
}

/// A value of `schema` with every property present and one item in every
/// array, or `null` past `depth` references.
fn filled(document: &Value, schema: &Value, fill: Fill, depth: u32) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if depth == 0 {
            return Value::Null;
        }
        let target = document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
        return filled(document, target, fill, depth - 1);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(members) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for member in members {
            match filled(document, member, fill, depth) {
                Value::Object(fields) => merged.extend(fields),
                other if members.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(first) = schema[combinator].as_array().and_then(|b| b.first()) {
            return filled(document, first, fill, depth);
        }
    }
    let string = |text: &str| {
        if fill == Fill::Strings {
            json!(STRING)
        } else {
            json!(text)
        }
    };
    let number = |n: Value| {
        if fill == Fill::Numbers {
            json!(NUMBER)
        } else {
            n
        }
    };
    match schema["type"].as_str() {
        Some("array") => json!([filled(document, &schema["items"], fill, depth)]),
        Some("string") => match schema["format"].as_str() {
            Some("uuid") => string("00000000-0000-0000-0000-000000000000"),
            Some("date-time") => string("2025-07-30T12:00:00Z"),
            Some("date") => string("2025-07-30"),
            Some("ip" | "ipv4") => string("192.0.2.1"),
            Some("uri" | "url") => string("https://example.com/a.mp4"),
            Some("email") => string("someone@example.com"),
            _ => string("text"),
        },
        Some("integer") => number(json!(1)),
        Some("number") => number(json!(1.5)),
        Some("boolean") => json!(true),
        _ => {
            let mut fields = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                fields.insert(name.clone(), filled(document, property, fill, depth));
            }
            if schema["additionalProperties"].is_object() {
                fields.insert(
                    "extra".into(),
                    filled(document, &schema["additionalProperties"], fill, depth),
                );
            }
            Value::Object(fields)
        }
    }
}

/// `value` as JSON text, with `number` and `string` where [`filled`] put
/// its placeholders.
fn render(value: &Value, number: &str, string: &[u8]) -> Vec<u8> {
    let text = serde_json::to_vec(value).expect("a JSON value serializes");
    let quoted = |placeholder: &str| serde_json::to_vec(placeholder).expect("a string serializes");
    let (number_at, string_at) = (quoted(NUMBER), quoted(STRING));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(&number_at) {
            out.extend_from_slice(number.as_bytes());
            i += number_at.len();
        } else if text[i..].starts_with(&string_at) {
            out.push(b'"');
            out.extend_from_slice(string);
            out.push(b'"');
            i += string_at.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// How deep [`filled`] follows references.
const DEPTH: u32 = 4;

fn response_schema<'a>(
    document: &'a Value,
    spec: &OperationSpec,
    status: &str,
) -> Option<&'a Value> {
    let at = format!(
        "/paths/{}/{}/responses/{}",
        escape_segment(spec.path),
        spec.method.to_ascii_lowercase(),
        escape_segment(status)
    );
    let mut response = document.pointer(&at)?;
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        response = document.pointer(reference.trim_start_matches('#'))?;
    }
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media_type, _)| media_type.contains("json"))
        .and_then(|(_, media)| media.get("schema"))
}

impl Exchanges {
    fn start() -> Exchanges {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let reply = Arc::new(Mutex::new(Reply {
            status: 204,
            content_type: None,
            body: Vec::new(),
        }));
        let server = runtime.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(wiremock::matchers::any())
                .respond_with(Scripted(reply.clone()))
                .mount(&server)
                .await;
            server
        });
        let client = Client::builder()
            .base_url(server.uri())
            .api_key(KEY)
            .retry(RetryPolicy::none())
            // Above the longest analysis an example asks for (MediaStreamValidator:
            // 1,250 s), which a timeout of the caller's must hold.
            .timeout(Duration::from_secs(1800))
            .build()
            .expect("client");
        let pipeline = xtask::Layout::from_manifest_dir()
            .pipeline()
            .expect("the pinned document goes through the pipeline");
        let document = &pipeline.normalized.document;
        let operations = operations()
            .iter()
            .map(|spec| {
                let example = mock::example_call(spec.rust_name)
                    .unwrap_or_else(|e| panic!("{}: no example arguments: {e}", spec.rust_name));
                let at = format!(
                    "/paths/{}/{}/responses",
                    escape_segment(spec.path),
                    spec.method.to_ascii_lowercase()
                );
                let statuses: Vec<u16> = document
                    .pointer(&at)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|m| m.keys())
                    .filter_map(|s| s.parse().ok())
                    .collect();
                let answers = statuses
                    .iter()
                    .map(|status| {
                        let schema = response_schema(document, spec, &status.to_string())
                            .cloned()
                            .unwrap_or(Value::Null);
                        (*status, filled(document, &schema, Fill::Plain, DEPTH))
                    })
                    .collect();
                Operation {
                    spec,
                    params: example.params,
                    body: example.body,
                    success: statuses.iter().copied().find(|s| *s < 300).unwrap_or(200),
                    failure: statuses.iter().copied().find(|s| *s >= 400).unwrap_or(500),
                    answers,
                }
            })
            .collect();
        Exchanges {
            runtime,
            reply,
            _server: server,
            client,
            operations,
        }
    }

    fn answer(&self, reply: Reply) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = reply;
    }

    fn call(&self, op: &Operation) -> Result<Result<Value, probe_api::Error>, String> {
        no_panic(|| {
            self.runtime.block_on(dynamic::call(
                &self.client,
                op.spec.rust_name,
                &op.params,
                op.body.as_ref(),
            ))
        })
    }

    /// Calls `op` answered by `reply` and checks the outcome; `Err` says
    /// what is wrong.
    fn exchange(&self, op: &Operation, reply: &Reply) -> Result<Result<(), ErrorKind>, String> {
        let name = op.spec.rust_name;
        self.answer(reply.clone());
        let outcome = self
            .call(op)
            .map_err(|panic| format!("{name} panicked on {reply:?}: {panic}"))?;
        let kind = match outcome {
            Ok(_) => Ok(()),
            Err(error) => {
                let text = no_panic(|| error.to_string())
                    .map_err(|panic| format!("{name}: the error's Display panicked: {panic}"))?;
                if error.kind() == ErrorKind::InvalidRequest || text.is_empty() {
                    return Err(format!(
                        "{name}: the example call was refused before it was sent: {text:?}"
                    ));
                }
                Err(error.kind())
            }
        };
        // A success the document lists decodes or fails to; any other
        // status, listed or not, is a status error whatever the body.
        let listed_success =
            reply.status < 300 && op.answers.iter().any(|(status, _)| *status == reply.status);
        match kind {
            Ok(()) | Err(ErrorKind::Decode) if listed_success => {}
            Err(ErrorKind::Status) if !listed_success => {}
            other => {
                let wanted = if listed_success {
                    "success or a decode error"
                } else {
                    "a status error"
                };
                return Err(format!("{name}: {other:?}, not {wanted}, on {reply:?}"));
            }
        }
        self.still_usable()
            .map_err(|e| format!("after {name} got {reply:?}: {e}"))?;
        Ok(kind)
    }

    /// A plain call after the hostile one succeeds.
    fn still_usable(&self) -> Result<(), String> {
        let op = self
            .operations
            .iter()
            .find(|op| op.spec.rust_name == "delete_sessions")
            .ok_or("no delete_sessions operation")?;
        self.answer(Reply {
            status: 204,
            content_type: None,
            body: Vec::new(),
        });
        match self.call(op)? {
            Ok(Value::Null) => Ok(()),
            other => Err(format!(
                "the client is not usable: the next call gave {other:?}"
            )),
        }
    }
}

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> Vec<u8> {
    [open.repeat(depth), inner.to_string(), close.repeat(depth)]
        .concat()
        .into_bytes()
}

/// What a hostile body must do at a success status the document lists.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Decode: it is a valid answer.
    Decodes,
    /// Fail to decode, when the answer has JSON content.
    Fails,
    /// Either, without panicking.
    Either,
}

/// Bodies every operation gets at its success status, made from the
/// success schema: a label, the body, and what it must do.
fn hostile_bodies(document: &Value, schema: &Value) -> Vec<(&'static str, Vec<u8>, Expect)> {
    let numbers = filled(document, schema, Fill::Numbers, DEPTH);
    let strings = filled(document, schema, Fill::Strings, DEPTH);
    let example = filled(document, schema, Fill::Plain, DEPTH);
    let plain = serde_json::to_vec(&example).expect("a JSON value serializes");
    let half = plain[..plain.len() / 2].to_vec();
    let long = "é".repeat(32 * 1024);
    use Expect::{Decodes, Either, Fails};
    vec![
        ("the example", plain.clone(), Decodes),
        ("an empty body", Vec::new(), Fails),
        ("null", b"null".to_vec(), Either),
        ("10,000 nested arrays", nested(10_000, "[", "", "]"), Fails),
        // Unknown fields are skipped without recursion, so this may decode.
        (
            "10,000 nested objects",
            nested(10_000, "{\"a\":", "1", "}"),
            Either,
        ),
        ("invalid UTF-8 bytes", b"\xff\xfe{}".to_vec(), Fails),
        (
            "the example cut in half",
            half,
            if plain.len() > 2 { Fails } else { Either },
        ),
        ("every number -1", render(&numbers, "-1", b""), Either),
        (
            "every number u64::MAX + 1",
            render(&numbers, "18446744073709551616", b""),
            Either,
        ),
        (
            "every number i64::MIN - 1",
            render(&numbers, "-9223372036854775809", b""),
            Either,
        ),
        ("every number 1e400", render(&numbers, "1e400", b""), Either),
        ("every number 0.5", render(&numbers, "0.5", b""), Either),
        (
            "every string invalid UTF-8",
            render(&strings, "", b"\xff\xfe"),
            Either,
        ),
        (
            "every string a lone surrogate",
            render(&strings, "", b"\\ud800"),
            Either,
        ),
        (
            "every string 64 KiB",
            render(&strings, "", long.as_bytes()),
            Either,
        ),
    ]
}

/// The hostile bodies an operation also gets at an error status.
const AT_AN_ERROR_STATUS: &[&str] = &[
    "an empty body",
    "10,000 nested arrays",
    "invalid UTF-8 bytes",
    "every number -1",
];

/// How a random answer is made.
#[derive(Debug, Clone)]
enum Body {
    /// The example answer for the status, changed in places.
    Edited(Vec<(Index, Option<Value>)>),
    /// The example answer, cut.
    Cut(Index),
    /// Any JSON.
    Json(Value),
    /// Any bytes.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Exchange {
    operation: Index,
    status: Index,
    content_type: Option<&'static str>,
    body: Body,
}

fn exchange_strategy() -> BoxedStrategy<Exchange> {
    let edit = (
        any::<Index>(),
        prop::option::weighted(0.8, prop_oneof![number(), any_json()]),
    );
    let body = prop_oneof![
        6 => prop::collection::vec(edit, 1..4).prop_map(Body::Edited),
        1 => any::<Index>().prop_map(Body::Cut),
        2 => any_json().prop_map(Body::Json),
        1 => prop::collection::vec(any::<u8>(), 0..48).prop_map(Body::Bytes),
    ];
    let content_type = select(vec![
        Some("application/json"),
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/html"),
        None,
    ]);
    (any::<Index>(), any::<Index>(), content_type, body)
        .prop_map(|(operation, status, content_type, body)| Exchange {
            operation,
            status,
            content_type,
            body,
        })
        .boxed()
}

impl Exchange {
    /// The operation and the reply this exchange stands for.
    fn resolve<'a>(&self, exchanges: &'a Exchanges) -> (&'a Operation, Reply) {
        let op = &exchanges.operations[self.operation.index(exchanges.operations.len())];
        // Documented statuses, and a few the document does not list.
        let mut statuses: Vec<u16> = op.answers.iter().map(|(s, _)| *s).collect();
        statuses.extend([200, 302, 404, 418, 503]);
        let status = statuses[self.status.index(statuses.len())];
        let example = op
            .answers
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(Value::Null, |(_, v)| v.clone());
        let body = match &self.body {
            Body::Edited(edits) => {
                let mut value = example;
                for (at, with) in edits {
                    let mut nodes = Vec::new();
                    all_pointers(&value, "", &mut nodes);
                    if nodes.is_empty() {
                        value = with.clone().unwrap_or(Value::Null);
                        continue;
                    }
                    let node = &nodes[at.index(nodes.len())];
                    match with {
                        Some(v) => set(&mut value, node, v.clone()),
                        None => delete(&mut value, node),
                    }
                }
                serde_json::to_vec(&value).expect("a JSON value serializes")
            }
            Body::Cut(at) => {
                let text = serde_json::to_vec(&example).expect("a JSON value serializes");
                text[..at.index(text.len() + 1)].to_vec()
            }
            Body::Json(value) => serde_json::to_vec(value).expect("a JSON value serializes"),
            Body::Bytes(bytes) => bytes.clone(),
        };
        (
            op,
            Reply {
                status,
                content_type: self.content_type,
                body,
            },
        )
    }
}

#[test]
fn every_operation_decodes_arbitrary_bodies() {
    let exchanges = Exchanges::start();
    let document = xtask::Layout::from_manifest_dir()
        .pipeline()
        .expect("the pinned document goes through the pipeline")
        .normalized
        .document;
    assert!(!exchanges.operations.is_empty());

    // Hostile bodies, at the success status and at an error status.
    let mut failures = Vec::new();
    for op in &exchanges.operations {
        let name = op.spec.rust_name;
        let schema = response_schema(&document, op.spec, &op.success.to_string());
        for (label, body, expect) in hostile_bodies(&document, schema.unwrap_or(&Value::Null)) {
            let reply = Reply {
                status: op.success,
                content_type: Some("application/json"),
                body,
            };
            let kind = match exchanges.exchange(op, &reply) {
                Ok(kind) => kind,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            match (expect, kind) {
                (Expect::Decodes, Err(kind)) => {
                    failures.push(format!("{name}: {label} gave {kind:?} ({reply:?})"));
                }
                (Expect::Fails, Ok(())) if schema.is_some() => {
                    failures.push(format!("{name}: {label} decoded ({reply:?})"));
                }
                _ => {}
            }
            if AT_AN_ERROR_STATUS.contains(&label) {
                let reply = Reply {
                    status: op.failure,
                    ..reply
                };
                if let Err(e) = exchanges.exchange(op, &reply) {
                    failures.push(format!("{label} at {}: {e}", op.failure));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    check(
        "decoding random answers to every operation",
        cases(160, 1),
        &exchange_strategy(),
        |exchange| {
            let (op, reply) = exchange.resolve(&exchanges);
            exchanges.exchange(op, &reply).map(drop).map_err(fail)
        },
    );
}
