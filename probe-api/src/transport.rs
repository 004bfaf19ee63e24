//! Sends one operation's request: credentials, cookie parameters, the
//! request timeout, retries, and a tracing span. Every generated `send()`
//! calls [`execute`] (see `codegen/rewrite.rs`).

use std::sync::OnceLock;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use progenitor_client::OperationInfo;
use tracing::Instrument;

use crate::Client;
use crate::error::{Answer, Error, Exchange, is_retryable_status};
use crate::retry::Jitter;
use crate::spec::OperationSpec;

/// Sends `request` for the operation `info` names, retrying as the client's
/// [`RetryPolicy`](crate::RetryPolicy) allows. Unless `streams`, the body
/// is read within the attempt, so a connection that breaks mid-body is
/// retried like one that breaks before the status line.
pub(crate) async fn execute(
    client: &Client,
    mut request: reqwest::Request,
    info: &OperationInfo,
    streams: bool,
) -> Result<Answer, Error> {
    let spec = operation_spec(info.operation_id);
    let method = request.method().clone();
    // A path that carries a credential (an API token) is printed redacted
    // everywhere, and the values are kept to redact what the server echoes.
    let (path, path_secrets) = match spec.and_then(|op| op.redact_path(request.url().path())) {
        Some(redacted) => redacted,
        None => (request.url().path().to_string(), Vec::new()),
    };
    let state = &client.inner;
    let refuse =
        |message: String| Error::invalid_request_for(info.operation_id, &method, &path, message);

    // Operations the document lists without security (sign-in) get no
    // credentials; every other operation accepts the configured scheme or
    // rejects it on the server side with the API's own message.
    let needs_auth = spec.is_none_or(|op| op.security.iter().any(|alt| !alt.is_empty()));
    if let (Some(auth), true) = (&state.auth, needs_auth) {
        auth.apply(&mut request).map_err(&refuse)?;
    }
    if let Some(spec) = spec {
        apply_cookies(spec, state, &mut request).map_err(&refuse)?;
    }
    let timeout = crate::timeouts::request_timeout(spec, &request, state.timeout);
    *request.timeout_mut() = Some(timeout);

    let span = tracing::info_span!(
        "probe_api.request",
        operation = info.operation_id,
        method = %method,
        path = %path,
        timeout_ms = timeout.as_millis() as u64,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let exchange = Exchange {
        operation: info.operation_id,
        method: method.clone(),
        path,
        attempts: 0,
        secret: state.auth.as_ref().map(|a| a.secret.clone()),
        path_secrets,
        body: None,
    };
    // A walked report is decoded as its body arrives (`reports::walk`).
    let streams = streams || crate::reports::walk::walking();
    attempts(client, request, exchange, streams, &span)
        .instrument(span.clone())
        .await
}

async fn attempts(
    client: &Client,
    request: reqwest::Request,
    mut exchange: Exchange,
    streams: bool,
    span: &tracing::Span,
) -> Result<Answer, Error> {
    let policy = client.inner.retry;
    let retry_allowed = policy.allows(&exchange.method);
    // Seeded on the first retry: a call that succeeds at once needs none.
    let mut jitter: Option<Jitter> = None;
    let started = Instant::now();
    let mut pending = Some(request);
    loop {
        let Some(request) = pending.take() else {
            // Unreachable: each turn puts the next request back or returns.
            return Err(Error::invalid_request(
                "the request was consumed before it could be sent".into(),
            ));
        };
        exchange.attempts += 1;
        let attempt = exchange.attempts;
        // Keep a copy for the next attempt; a streaming body cannot be
        // copied, so such a request is sent once.
        let next = if retry_allowed && attempt <= policy.get_max_retries() {
            request.try_clone()
        } else {
            None
        };
        let attempt_started = if attempt == 1 {
            started
        } else {
            Instant::now()
        };
        let outcome = send_once(&client.client, request, streams).await;
        let ended = Instant::now();
        let elapsed_ms = ended.duration_since(attempt_started).as_millis() as u64;

        let (retryable, retry_after) = match &outcome {
            Ok((response, _)) => {
                let status = response.status();
                tracing::debug!(attempt, status = status.as_u16(), elapsed_ms, "response");
                let retryable = is_retryable_status(status);
                let retry_after = retryable
                    .then(|| {
                        crate::error::retry_after(response.headers(), std::time::SystemTime::now())
                    })
                    .flatten();
                (retryable, retry_after)
            }
            Err(failure) => {
                let error = &failure.error;
                tracing::debug!(attempt, elapsed_ms, error = %crate::error::transport_summary(error), "attempt failed");
                (
                    !error.is_timeout()
                        && (failure.reading_body || error.is_connect() || error.is_request()),
                    None,
                )
            }
        };
        let delay = match (&next, retryable) {
            (Some(_), true) => {
                let unit = jitter.get_or_insert_with(Jitter::from_entropy).next_unit();
                policy.delay(attempt, unit, retry_after)
            }
            _ => None,
        };
        match (delay, next) {
            (Some(delay), Some(next)) => {
                tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
                tokio::time::sleep(delay).await;
                pending = Some(next);
            }
            _ => {
                span.record("attempt", attempt);
                span.record(
                    "duration_ms",
                    ended.duration_since(started).as_millis() as u64,
                );
                return match outcome {
                    Ok((response, body)) => {
                        span.record("status", response.status().as_u16());
                        exchange.body = body;
                        Ok(Answer { response, exchange })
                    }
                    Err(failure) => Err(Error::transport(failure.error, Some(&exchange))),
                };
            }
        }
    }
}

/// Appends an operation's query parameters to the request URL in one edit.
/// Generated `send()`s call this instead of reqwest's `query()` once per
/// parameter (see `codegen/rewrite.rs`): that re-edits the URL for every
/// parameter, set or not, and the file probes have dozens. The encoding is
/// the same (serde_urlencoded into the URL's query pairs). An error names
/// the first parameter that could not be encoded.
pub(crate) fn append_query(
    request: &mut reqwest::Request,
    push_all: impl FnOnce(&mut QueryPairs<'_, '_>),
) -> Result<(), String> {
    let url = request.url_mut();
    let mut error = None;
    {
        let mut pairs = url.query_pairs_mut();
        push_all(&mut QueryPairs {
            pairs: &mut pairs,
            error: &mut error,
        });
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    error.map_or(Ok(()), Err)
}

/// The query of a request being built; see [`append_query`].
pub(crate) struct QueryPairs<'p, 'u> {
    pairs: &'p mut url::form_urlencoded::Serializer<'u, url::UrlQuery<'u>>,
    error: &'p mut Option<String>,
}

impl QueryPairs<'_, '_> {
    /// Appends the parameter `name` (progenitor's `QueryParam`, which
    /// encodes it in its style); after a failure the rest are skipped.
    pub(crate) fn push<T: serde::Serialize + ?Sized>(&mut self, name: &str, param: &T) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = param.serialize(serde_urlencoded::Serializer::new(self.pairs)) {
            *self.error = Some(format!(
                "the query parameter `{name}` cannot be encoded: {e}"
            ));
        }
    }
}

/// A failed attempt, and whether it failed while reading the body (the
/// status line had arrived).
struct Failure {
    error: reqwest::Error,
    reading_body: bool,
}

/// One attempt. Unless `streams`, the body is read here and returned
/// beside the response (whose own body is then spent); it travels to the
/// decoder in the [`Exchange`] of the [`Answer`], so the response keeps its status, headers
/// and URL without being rebuilt.
async fn send_once(
    http: &reqwest::Client,
    request: reqwest::Request,
    streams: bool,
) -> Result<(reqwest::Response, Option<Bytes>), Failure> {
    let mut response = http.execute(request).await.map_err(|error| Failure {
        error,
        reading_body: false,
    })?;
    if streams {
        return Ok((response, None));
    }
    let bytes = read_body(&mut response).await.map_err(|error| Failure {
        error,
        reading_body: true,
    })?;
    Ok((response, Some(bytes)))
}

/// Reads the whole body; a body that arrives in one chunk is not copied.
///
/// The body is copied once into a buffer of its exact size: a buffer grown
/// by doubling would hold up to twice the body while the report decoded
/// from it is built (see BENCHMARKS.md, peak memory of the user path).
async fn read_body(response: &mut reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    // reqwest hides the size when it may decompress, but removes the
    // `content-length` header when it does: the header is the body's size.
    // It is only a hint, capped so a wrong one cannot reserve much.
    let announced = response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .or(response.content_length())
        .map_or(0, |n| n.min(MAX_PREALLOCATED) as usize);
    let mut chunks = vec![first, second];
    let mut total = chunks[0].len() + chunks[1].len();
    let mut all = BytesMut::new();
    if announced >= total {
        all.reserve(announced);
        for chunk in chunks.drain(..) {
            all.extend_from_slice(&chunk);
        }
    }
    while let Some(chunk) = response.chunk().await? {
        total += chunk.len();
        if all.capacity() > 0 {
            all.extend_from_slice(&chunk);
        } else {
            chunks.push(chunk);
        }
    }
    if !chunks.is_empty() {
        all.reserve(total);
        for chunk in chunks {
            all.extend_from_slice(&chunk);
        }
    }
    Ok(all.freeze())
}

/// The most a `content-length` may reserve ahead of the body (128 MiB);
/// a larger body grows its buffer as it arrives.
const MAX_PREALLOCATED: u64 = 128 << 20;

/// The operation with the given Rust method name, by binary search in an
/// index sorted on first use (every call looks its operation up).
fn operation_spec(rust_name: &str) -> Option<&'static OperationSpec> {
    static INDEX: OnceLock<Vec<&'static OperationSpec>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index: Vec<_> = crate::spec::operations().iter().collect();
        index.sort_by_key(|op| op.rust_name);
        index
    });
    index
        .binary_search_by_key(&rust_name, |op| op.rust_name)
        .ok()
        .map(|i| index[i])
}

/// Adds the operation's cookie parameters that the client has values for;
/// a required one without a value refuses the request.
fn apply_cookies(
    spec: &OperationSpec,
    state: &crate::ClientState,
    request: &mut reqwest::Request,
) -> Result<(), String> {
    for cookie in spec.cookies {
        match state.cookies.iter().find(|(name, _)| name == cookie.name) {
            Some((name, value)) => {
                crate::auth::append_cookie(request, name, value.expose(), true)?;
            }
            None if cookie.required => {
                return Err(format!(
                    "{} requires the cookie `{}`; set it with Client::with_cookies",
                    spec.rust_name, cookie.name
                ));
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"))
    }

    #[test]
    fn parameters_are_appended_in_order_and_an_empty_query_leaves_no_question_mark() {
        let mut r = request("http://127.0.0.1/v1/probe/file");
        append_query(&mut r, |q| {
            q.push("a[x]", &[("a[x]", "1 2")]);
            q.push("none", &[("none", None::<u8>)]);
            q.push("url", &[("url", "https://m.example/a b.mp4?x=1&y")]);
        })
        .expect("encodes");
        assert_eq!(
            r.url().query(),
            Some("a%5Bx%5D=1+2&url=https%3A%2F%2Fm.example%2Fa+b.mp4%3Fx%3D1%26y")
        );

        let mut r = request("http://127.0.0.1/v1/probe/file");
        append_query(&mut r, |q| q.push("none", &[("none", None::<u8>)])).expect("encodes");
        assert_eq!(r.url().as_str(), "http://127.0.0.1/v1/probe/file");
    }

    #[test]
    fn a_parameter_that_cannot_be_encoded_is_named_and_stops_the_rest() {
        let mut r = request("http://127.0.0.1/x");
        let error = append_query(&mut r, |q| {
            q.push("count", &7u32);
            q.push("after", &[("after", "1")]);
        })
        .expect_err("a bare number is not a query");
        assert!(
            error.starts_with("the query parameter `count` cannot be encoded"),
            "{error}"
        );
        assert_eq!(r.url().query(), None);
    }
}
