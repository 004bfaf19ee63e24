//! Every operation of the document, called through the public client
//! against Prism, an independent mock server that validates each request
//! against the OpenAPI document (`tests/src/prism.rs` starts it).
//!
//! The arguments come from the effective document, not from the client's
//! operation table (`probe_api::mock::full_example_call`): every path, query
//! and header parameter the document defines (each `deepObject` property as
//! `group[property]`, arrays with two items), every cookie, and the request
//! body with every property. A parameter the generated client lost is refused
//! by `dynamic::call` by name, so the suite catches wire drift; one it sends
//! wrongly is a violation Prism reports.
//!
//! Two passes: the static one checks each request and decodes Prism's
//! example answer; the dynamic one (`prism mock -d`, a seed per request)
//! decodes [`CALLS_PER_OPERATION`] random schema-shaped answers for every
//! operation that answers JSON. Every answer must decode. Prism sometimes
//! breaks its own document (`remote-ip: "string"` for `format: ip`): the
//! client's decision for such values is a lenient type that keeps the text
//! as sent, so both passes check that each such value comes back unchanged
//! in the decoded answer, and a failure to decode names the value and what
//! of the document it breaks. Each pass prints a table of its results to the
//! test's standard output, whether the test passes or fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;

use probe_api::mock::{self, ExampleCall};
use probe_api::spec::{OperationSpec, ParameterLocation, operations};
use probe_api::{AuthScheme, Client, Error, ErrorKind, RetryPolicy, dynamic};
use serde_json::Value;
use tests::prism::{Exchange, Mode, Prism};

const API_KEY: &str = "pk_test_prism_5b1e0c7d9a2f4e68";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";

/// Random answers decoded per operation in the dynamic pass.
const CALLS_PER_OPERATION: usize = 24;

/// Every scheme the client sends a credential by.
const SCHEMES: [AuthScheme; 5] = [
    AuthScheme::ApiKeyHeader,
    AuthScheme::ApiKeyQuery,
    AuthScheme::JwtHeader,
    AuthScheme::JwtQuery,
    AuthScheme::JwtCookie,
];

/// One operation, the arguments it is called with and how it authenticates.
struct Plan {
    op: &'static OperationSpec,
    call: ExampleCall,
    /// `None` for an operation the document lists without security.
    scheme: Option<AuthScheme>,
}

/// A plan for every operation. Each operation gets the credential scheme
/// used least so far among those its document allows, so the suite sends
/// every scheme, spread over the operations.
fn plans() -> Vec<Plan> {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    operations()
        .iter()
        .map(|op| {
            let call = mock::full_example_call(op.rust_name)
                .unwrap_or_else(|e| panic!("{}: no example arguments: {e}", op.rust_name));
            let allowed: Vec<AuthScheme> = SCHEMES
                .into_iter()
                .filter(|s| {
                    op.security
                        .iter()
                        .any(|alternative| alternative == &[s.document_name()])
                })
                .collect();
            let scheme = allowed
                .into_iter()
                .min_by_key(|s| used.get(s.document_name()).copied().unwrap_or(0));
            if let Some(s) = scheme {
                *used.entry(s.document_name()).or_default() += 1;
            }
            Plan { op, call, scheme }
        })
        .collect()
}

fn client_for(prism: &Prism, plan: &Plan) -> Client {
    let builder = Client::builder()
        .base_url(prism.url())
        .retry(RetryPolicy::none());
    let builder = match plan.scheme {
        Some(scheme) if scheme.is_jwt() => builder.jwt(JWT).auth_scheme(scheme),
        Some(scheme) => builder.api_key(API_KEY).auth_scheme(scheme),
        None => builder.api_key(API_KEY),
    };
    let client = builder.build().expect("a client for Prism");
    if plan.call.cookies.is_empty() {
        client
    } else {
        client
            .with_cookies(plan.call.cookies.iter().cloned())
            .unwrap_or_else(|e| panic!("{}: cookies refused: {e}", plan.op.rust_name))
    }
}

/// Calls the operation once and returns what it gave and the one exchange
/// it made, or why there was not exactly one.
async fn call(
    prism: &Prism,
    client: &Client,
    plan: &Plan,
) -> Result<(Result<Value, Error>, Exchange), String> {
    prism.take_exchanges();
    let result = dynamic::call(
        client,
        plan.op.rust_name,
        &plan.call.params,
        plan.call.body.as_ref(),
    )
    .await;
    let mut exchanges = prism.take_exchanges();
    match (exchanges.len(), result) {
        (1, result) => Ok((result, exchanges.remove(0))),
        (0, Err(e)) => Err(format!(
            "nothing was sent: {e} (a parameter the effective document defines and the \
             client does not take is wire drift: the normalizer or the generator lost it)"
        )),
        (n, result) => Err(format!(
            "{n} requests for one call without retries: {result:?}"
        )),
    }
}

/// What of the arguments is missing from the request on the wire, and
/// whether the credential went where the scheme puts it.
fn wire_problems(plan: &Plan, exchange: &Exchange) -> Vec<String> {
    let mut problems = Vec::new();
    let query = exchange.query_pairs();
    let cookies = exchange.cookies();
    for (name, value) in &plan.call.params {
        let location = plan
            .op
            .parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.location);
        let expected = texts(value);
        let sent: Vec<String> = match location {
            Some(ParameterLocation::Query) => query
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect(),
            Some(ParameterLocation::Header) => exchange
                .request_header(name)
                .map(str::to_string)
                .into_iter()
                .collect(),
            Some(ParameterLocation::Path) => exchange
                .path
                .split('/')
                .filter(|segment| expected.iter().any(|e| e == segment))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if sent != expected {
            problems.push(format!(
                "parameter `{name}` is on the wire as {sent:?}, not {expected:?}"
            ));
        }
    }
    for (name, value) in &plan.call.cookies {
        if !cookies.contains(&(name.clone(), value.clone())) {
            problems.push(format!("cookie `{name}` is not on the wire"));
        }
    }
    if let Some(body) = plan.op.body.filter(|_| plan.call.body.is_some()) {
        let content_type = exchange.request_header("content-type").unwrap_or_default();
        if !content_type.starts_with(body.media_type) {
            problems.push(format!(
                "the body went as `{content_type}`, not `{}`",
                body.media_type
            ));
        }
    }
    let bearer = exchange.request_header("authorization");
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    let jwt_cookie = cookies.iter().any(|(k, _)| k == "jwt");
    let expected = match plan.scheme {
        None => bearer.is_none() && !has("token") && !has("jwt") && !jwt_cookie,
        Some(AuthScheme::ApiKeyHeader) => bearer == Some(&format!("Bearer {API_KEY}")),
        Some(AuthScheme::JwtHeader) => bearer == Some(&format!("Bearer {JWT}")),
        Some(AuthScheme::ApiKeyQuery) => query.contains(&("token".into(), API_KEY.into())),
        Some(AuthScheme::JwtQuery) => query.contains(&("jwt".into(), JWT.into())),
        Some(AuthScheme::JwtCookie) => cookies.contains(&("jwt".into(), JWT.into())),
        Some(other) => panic!("a scheme this suite does not know: {other:?}"),
    };
    if !expected {
        problems.push(format!(
            "the credential is not on the wire as {} puts it",
            scheme_name(plan.scheme)
        ));
    }
    problems
}

/// A parameter's value as the texts it goes on the wire as: one per item
/// of an (exploded) array, else one.
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(texts).collect(),
        Value::String(text) => vec![text.clone()],
        other => vec![other.to_string()],
    }
}

fn scheme_name(scheme: Option<AuthScheme>) -> &'static str {
    scheme.map_or("(none)", AuthScheme::document_name)
}

/// How many parameters of each kind the plan sends, such as `3q 1h 2c`.
fn sent_summary(plan: &Plan) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in plan.call.params.keys() {
        let kind = match plan
            .op
            .parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.location)
        {
            Some(ParameterLocation::Path) => "p",
            Some(ParameterLocation::Header) => "h",
            _ => "q",
        };
        *counts.entry(kind).or_default() += 1;
    }
    if !plan.call.cookies.is_empty() {
        counts.insert("c", plan.call.cookies.len());
    }
    let parts: Vec<String> = ["p", "q", "h", "c"]
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n}{k}")))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

/// Writes to the process's standard output directly, past the test
/// harness's capture, so the table is in the output of a passing test.
fn print_uncaptured(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A body that did not decode, and what Prism's value there breaks.
#[derive(Debug)]
struct DecodeFailure {
    /// Where decoding stopped, as the error's `decode_path()`.
    path: String,
    /// The value there in Prism's answer.
    value: Value,
    /// `Ok` with the `format` or `enum` of the document that the value
    /// breaks (Prism generated it against its own schema); `Err` when the
    /// value is one the document allows, so the generated type is wrong.
    explanation: Result<String, String>,
}

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.explanation {
            Ok(why) => write!(
                f,
                "`{}` = {}: Prism broke its own {why}, and the client refused it",
                self.path, self.value
            ),
            Err(why) => write!(
                f,
                "`{}` = {}: {why}, yet the generated type refused it",
                self.path, self.value
            ),
        }
    }
}

/// Why the answer in `exchange` did not decode at `path`.
fn explain(document: &Value, plan: &Plan, exchange: &Exchange, path: &str) -> DecodeFailure {
    let body = exchange.response_json().unwrap_or(Value::Null);
    let segments = parse_decode_path(path);
    let value = segments
        .iter()
        .try_fold(&body, |v, s| match s {
            Segment::Key(k) => v.get(k),
            Segment::Index(i) => v.get(i),
        })
        .cloned()
        .unwrap_or(Value::Null);
    let schema = response_schema(document, plan.op, exchange.status)
        .and_then(|schema| schema_at(document, schema, &segments));
    let explanation = match schema {
        None => Err(format!("the document has no schema at `{path}`")),
        Some(schema) => schema_violation(schema, &value).ok_or_else(|| {
            format!(
                "the value is valid for the document's schema {}",
                compact(schema, 200)
            )
        }),
    };
    DecodeFailure {
        path: path.to_string(),
        value,
        explanation,
    }
}

#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `sessions[0].remote-ip` (a decode path) as its segments.
fn parse_decode_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    if path == "." {
        return segments;
    }
    for part in path.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(i) = rest[1..end].parse() {
                segments.push(Segment::Index(i));
            }
            rest = &rest[end + 1..];
        }
    }
    segments
}

/// The JSON schema of the operation's answer with that status.
fn response_schema<'a>(document: &'a Value, op: &OperationSpec, status: u16) -> Option<&'a Value> {
    let operation = &document["paths"][op.path][op.method.to_ascii_lowercase()];
    let response = resolve(document, &operation["responses"][status.to_string()]);
    response["content"]["application/json"].get("schema")
}

fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match document.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            },
            None => break,
        }
    }
    schema
}

/// The schema of the value at `segments` inside an instance of `schema`.
fn schema_at<'a>(
    document: &'a Value,
    schema: &'a Value,
    segments: &[Segment],
) -> Option<&'a Value> {
    let schema = resolve(document, schema);
    let Some((first, rest)) = segments.split_first() else {
        return Some(schema);
    };
    let child = match first {
        Segment::Key(key) => schema["properties"]
            .get(key)
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
        Segment::Index(_) => schema.get("items"),
    };
    if let Some(child) = child {
        return schema_at(document, child, rest);
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array())
        .flatten()
        .find_map(|part| schema_at(document, part, segments))
}

/// The `format` or `enum` of `schema` that `value` breaks, if any.
fn schema_violation(schema: &Value, value: &Value) -> Option<String> {
    if let Some(allowed) = schema["enum"].as_array()
        && !value.is_null()
        && !allowed.contains(value)
    {
        return Some(format!(
            "enum: {value} is not one of {}",
            compact(&schema["enum"], 120)
        ));
    }
    let format = schema["format"].as_str()?;
    let broken = match (format, value) {
        ("ip", Value::String(s)) => s.parse::<std::net::IpAddr>().is_err(),
        ("ipv4", Value::String(s)) => s.parse::<std::net::Ipv4Addr>().is_err(),
        ("ipv6", Value::String(s)) => s.parse::<std::net::Ipv6Addr>().is_err(),
        ("url" | "uri", Value::String(s)) => reqwest::Url::parse(s).is_err(),
        ("uuid", Value::String(s)) => uuid::Uuid::parse_str(s).is_err(),
        ("int32", Value::Number(n)) => n.as_i64().is_none_or(|n| i32::try_from(n).is_err()),
        ("int64", Value::Number(n)) => n.as_i64().is_none(),
        _ => false,
    };
    broken.then(|| format!("format `{format}`: {value} is not a valid `{format}`"))
}

/// Every value in `value` (an instance of `schema`) that breaks a `format`
/// or `enum` of the document, by JSON pointer, with what it breaks.
fn broken_values(
    document: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    out: &mut Vec<(String, String)>,
) {
    let schema = resolve(document, schema);
    if let Some(why) = schema_violation(schema, value) {
        out.push((pointer.to_string(), why));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        broken_values(document, part, value, pointer, out);
    }
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                let child = schema["properties"]
                    .get(name)
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(child) = child {
                    let escaped = name.replace('~', "~0").replace('/', "~1");
                    broken_values(document, child, field, &format!("{pointer}/{escaped}"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(child) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    broken_values(document, child, item, &format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// The values of Prism's answer that break their `format` or `enum` (the
/// answer decoded all the same), each checked to be in the decoded value
/// as sent: the client's decision for such values is a lenient type that
/// keeps the text (`crate::lenient` of `probe-api`), not an error and not a
/// silent `None`. `Ok` lists them as `pointer: why`; `Err` names one that
/// was lost or changed.
fn kept_as_sent(
    document: &Value,
    plan: &Plan,
    exchange: &Exchange,
    decoded: &Value,
) -> Result<Vec<String>, String> {
    let (Some(body), Some(schema)) = (
        exchange.response_json(),
        response_schema(document, plan.op, exchange.status),
    ) else {
        return Ok(Vec::new());
    };
    let mut broken = Vec::new();
    broken_values(document, schema, &body, "", &mut broken);
    let mut kept = Vec::new();
    for (pointer, why) in broken {
        let sent = body.pointer(&pointer);
        let got = decoded.pointer(&pointer);
        if got != sent {
            return Err(format!(
                "`{pointer}` broke its {why}; it decoded as {} instead of as sent",
                got.map_or_else(|| "nothing".to_string(), Value::to_string)
            ));
        }
        kept.push(format!("{pointer}: {why}"));
    }
    Ok(kept)
}

fn compact(value: &Value, limit: usize) -> String {
    let text = value.to_string();
    if text.len() <= limit {
        text
    } else {
        let cut = (0..=limit)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    }
}

/// `(METHOD, path)` of every operation of the effective document, against
/// the client's table: the suite walks the table, so it must be the document.
fn assert_the_table_is_the_document(document: &Value) {
    let from_document: BTreeSet<(String, String)> = tests::operations_of(document)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let from_table: BTreeSet<(String, String)> = operations()
        .iter()
        .map(|op| (op.method.to_string(), op.path.to_string()))
        .collect();
    assert_eq!(
        from_table, from_document,
        "the client's operations are not the effective document's"
    );
}

fn effective_document() -> Value {
    xtask::Layout::from_manifest_dir()
        .pipeline()
        .expect("the effective document")
        .effective
}

/// One line of the static pass's table.
fn row(cells: [&str; 7], verdict: &str) -> String {
    let [operation, method, path, auth, sent, body, status] = cells;
    format!(
        "{operation:<28} {method:<6} {path:<44} {auth:<14} {sent:<11} {body:<34} {status:>6}  {verdict}\n"
    )
}

fn plan_row(plan: &Plan, body: &str, status: &str, verdict: &str) -> String {
    row(
        [
            plan.op.rust_name,
            plan.op.method,
            plan.op.path,
            scheme_name(plan.scheme),
            &sent_summary(plan),
            body,
            status,
        ],
        verdict,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_passes_prisms_request_validation_and_decodes() {
    let document = effective_document();
    assert_the_table_is_the_document(&document);
    let prism = Prism::start_with(document.clone(), Mode::Static).await;
    let plans = plans();

    let mut table = format!(
        "\nPrism {} (static): every operation of the effective document\n",
        prism.direct_address()
    );
    table.push_str(&row(
        [
            "operation",
            "method",
            "path",
            "auth",
            "sent",
            "body",
            "status",
        ],
        "result",
    ));
    let mut failures = Vec::new();
    let mut schemes_used = BTreeSet::new();
    let mut media_types_sent = BTreeSet::new();
    for plan in &plans {
        let client = client_for(&prism, plan);
        let (result, exchange) = match call(&prism, &client, plan).await {
            Ok(outcome) => outcome,
            Err(problem) => {
                table.push_str(&plan_row(plan, "-", "-", &format!("FAILED: {problem}")));
                failures.push(format!("{}: {problem}", plan.op.rust_name));
                continue;
            }
        };
        let mut problems: Vec<String> = exchange
            .violations()
            .iter()
            .map(|v| format!("Prism: {v}"))
            .collect();
        problems.extend(wire_problems(plan, &exchange));
        let mut kept = Vec::new();
        match &result {
            Ok(decoded) => match kept_as_sent(&document, plan, &exchange, decoded) {
                Ok(values) => kept = values,
                Err(problem) => problems.push(problem),
            },
            Err(e) if e.kind() == ErrorKind::Decode => {
                let failure = explain(&document, plan, &exchange, e.decode_path().unwrap_or("."));
                problems.push(format!("the answer does not decode at {failure} ({e})"));
            }
            Err(e) => problems.push(format!(
                "{e}; body: {}",
                e.body().map_or_else(
                    || e.body_snippet().unwrap_or_default().to_string(),
                    |b| b.to_string()
                )
            )),
        }
        if let Some(scheme) = plan.scheme {
            schemes_used.insert(scheme.document_name());
        }
        if let (Some(body), Some(_)) = (plan.op.body, &plan.call.body) {
            media_types_sent.insert(body.media_type);
        }
        let verdict = if !problems.is_empty() {
            format!("FAILED: {}", problems.join("; "))
        } else if kept.is_empty() {
            "ok: no violations, decoded".to_string()
        } else {
            format!(
                "ok: no violations, decoded; kept as sent: {}",
                kept.join(", ")
            )
        };
        let body = plan
            .op
            .body
            .filter(|_| plan.call.body.is_some())
            .map_or("-", |b| b.media_type);
        table.push_str(&plan_row(
            plan,
            body,
            &exchange.status.to_string(),
            &verdict,
        ));
        if !problems.is_empty() {
            failures.push(format!("{}: {}", plan.op.rust_name, problems.join("\n  ")));
        }
    }
    let _ = writeln!(
        table,
        "{} of {} operations answered without a request violation and decoded; \
         schemes sent: {}; body media types sent: {}",
        plans.len() - failures.len(),
        plans.len(),
        schemes_used.iter().copied().collect::<Vec<_>>().join(", "),
        media_types_sent
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
    );
    print_uncaptured(&table);

    assert!(
        failures.is_empty(),
        "{} of {} operations failed against Prism:\n{}\n\nPrism's last lines:\n{}",
        failures.len(),
        plans.len(),
        failures.join("\n"),
        prism.log()
    );
    let all_schemes: BTreeSet<&str> = SCHEMES.iter().map(|s| s.document_name()).collect();
    assert_eq!(
        schemes_used, all_schemes,
        "every scheme is sent at least once"
    );
    let all_media_types: BTreeSet<&str> = operations()
        .iter()
        .filter_map(|op| op.body.map(|b| b.media_type))
        .collect();
    assert_eq!(
        media_types_sent, all_media_types,
        "every body media type the client sends is sent"
    );
}

/// Whether the operation answers JSON with a 2xx status.
fn answers_json(document: &Value, op: &OperationSpec) -> bool {
    let responses = &document["paths"][op.path][op.method.to_ascii_lowercase()]["responses"];
    responses
        .as_object()
        .into_iter()
        .flatten()
        .any(|(code, r)| {
            code.starts_with('2')
                && resolve(document, r)["content"]
                    .get("application/json")
                    .is_some()
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prisms_random_answers_decode_for_every_json_operation() {
    let document = effective_document();
    let prism = Prism::start_with(document.clone(), Mode::Dynamic).await;
    let plans: Vec<Plan> = plans()
        .into_iter()
        .filter(|plan| answers_json(&document, plan.op))
        .collect();

    let mut table = String::new();
    let _ = writeln!(
        table,
        "\nPrism {} (dynamic, seeded per request): {CALLS_PER_OPERATION} random answers \
         per operation that answers JSON\n{:<28} {:>8} {:>7} {:>7}  values breaking the document's format or enum, kept as sent",
        prism.direct_address(),
        "operation",
        "distinct",
        "decoded",
        "failed",
    );
    let mut failures = Vec::new();
    let mut same_every_time = Vec::new();
    for plan in &plans {
        let client = client_for(&prism, plan);
        let mut decoded = 0;
        let mut failed = 0;
        let mut bodies = BTreeSet::new();
        // Values that break the document, by pointer (indices as `*`) and
        // reason: how many, and one of them.
        let mut kept: BTreeMap<String, (usize, Value)> = BTreeMap::new();
        for _ in 0..CALLS_PER_OPERATION {
            let (result, exchange) = match call(&prism, &client, plan).await {
                Ok(outcome) => outcome,
                Err(problem) => {
                    failures.push(format!("{}: {problem}", plan.op.rust_name));
                    failed += 1;
                    break;
                }
            };
            bodies.insert(exchange.response_body.clone());
            let seed = exchange.seed.as_deref().unwrap_or("-");
            let mut problems: Vec<String> = exchange
                .violations()
                .iter()
                .map(|v| format!("Prism: {v}"))
                .collect();
            match &result {
                Ok(value) => match kept_as_sent(&document, plan, &exchange, value) {
                    Ok(values) => {
                        let body = exchange.response_json().unwrap_or(Value::Null);
                        for entry in values {
                            let (pointer, why) = entry.split_once(": ").unwrap_or((&entry, ""));
                            let example = body.pointer(pointer).cloned().unwrap_or(Value::Null);
                            let pattern: Vec<&str> = pointer
                                .split('/')
                                .map(|s| if s.parse::<usize>().is_ok() { "*" } else { s })
                                .collect();
                            let reason = why.split(": ").next().unwrap_or_default();
                            kept.entry(format!("{} {reason}", pattern.join("/")))
                                .or_insert((0, example))
                                .0 += 1;
                        }
                    }
                    Err(problem) => problems.push(problem),
                },
                Err(e) if e.kind() == ErrorKind::Decode => {
                    let failure =
                        explain(&document, plan, &exchange, e.decode_path().unwrap_or("."));
                    problems.push(format!("the answer does not decode at {failure}"));
                }
                Err(e) => problems.push(e.to_string()),
            }
            if problems.is_empty() && result.is_ok() {
                decoded += 1;
            } else {
                failed += 1;
                failures.push(format!(
                    "{} (seed {seed}): {}\n  answer: {}",
                    plan.op.rust_name,
                    problems.join("; "),
                    String::from_utf8_lossy(&exchange.response_body)
                ));
            }
        }
        if bodies.len() < 2 {
            same_every_time.push(plan.op.rust_name);
        }
        let notes: Vec<String> = kept
            .iter()
            .map(|(what, (n, example))| format!("{n}x {what} (such as {example})"))
            .collect();
        let _ = writeln!(
            table,
            "{:<28} {:>8} {:>7} {:>7}  {}",
            plan.op.rust_name,
            bodies.len(),
            decoded,
            failed,
            if notes.is_empty() {
                "-".to_string()
            } else {
                notes.join("; ")
            }
        );
    }
    let _ = writeln!(
        table,
        "{} operations, {} answers, {} did not decode",
        plans.len(),
        plans.len() * CALLS_PER_OPERATION,
        failures.len()
    );
    print_uncaptured(&table);

    assert!(
        failures.is_empty(),
        "{} of Prism's random answers failed (each a schema-valid answer of the document \
         unless it says Prism broke its own format or enum):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        same_every_time.is_empty(),
        "Prism gave the same answer to every call of {same_every_time:?}: \
         the per-request seed did not reach it, so the pass saw no variety"
    );
}
