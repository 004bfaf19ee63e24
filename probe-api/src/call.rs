//! What one call carries from its attempts to the caller: the [`Exchange`]
//! (operation, method, redacted path, attempts, start, and the credentials
//! nothing shown may carry), the [`Answer`] an attempt ends with, and the
//! reading of a body within the stall timeout. The bottom of the runtime:
//! it imports nothing of the crate but the credential type and the walk's
//! callback.

use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use std::error::Error as StdError;
use std::fmt;

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;

/// A response as the transport hands it on: the head, the body when it
/// was read within the attempt, and the [`Exchange`] it belongs to.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) response: reqwest::Response,
    /// The body, read within the attempt so that a connection breaking
    /// mid-body is retried; `None` when the caller streams it.
    pub(crate) body: Option<Bytes>,
    pub(crate) exchange: Exchange,
    /// Where a walking client's FFprobe frames and packets go: the body
    /// was left unread to be decoded as it arrives.
    pub(crate) walk: Option<crate::reports::walk::Walk>,
}

impl Answer {
    /// The response status.
    pub(crate) fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response head, the body if it was read, and the exchange.
    pub(crate) fn into_parts(self) -> (reqwest::Response, Option<Bytes>, Exchange) {
        (self.response, self.body, self.exchange)
    }
}

/// What the transport knows about the exchange a response belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) operation: &'static str,
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) attempts: u32,
    /// When the call began, for [`Response::elapsed`].
    pub(crate) started: std::time::Instant,
    /// The credential, and any the request carried in its path (an API
    /// token, as sent and decoded), so that nothing echoed by the server
    /// shows them.
    pub(crate) redaction: Redaction,
}

impl Exchange {
    /// `value` with the credential replaced in every string it holds.
    pub(crate) fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.redact(&k), self.redact_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// `text` with every credential of the exchange replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.redaction.redact(text)
    }
}

/// The credentials of a call, which nothing shown of its answer may carry:
/// the configured one and any the request carried in its path.
#[derive(Clone, Default)]
pub(crate) struct Redaction {
    pub(crate) secret: Option<std::sync::Arc<crate::auth::Secret>>,
    pub(crate) path_secrets: Vec<String>,
}

impl fmt::Debug for Redaction {
    // What is redacted, never the values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redaction")
            .field("secret", &self.secret.is_some())
            .field("path_secrets", &self.path_secrets.len())
            .finish()
    }
}

impl Redaction {
    /// `text` with every credential replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = std::borrow::Cow::Borrowed(text);
        let credential = self.secret.as_deref().map(crate::auth::Secret::expose);
        for secret in credential
            .into_iter()
            .chain(self.path_secrets.iter().map(String::as_str))
        {
            if !secret.is_empty() && out.contains(secret) {
                out = std::borrow::Cow::Owned(out.replace(secret, "<redacted>"));
            }
        }
        out.into_owned()
    }
}

/// A failed attempt, and whether it failed while reading the body (the
/// status line had arrived).
pub(crate) struct Failure {
    pub(crate) cause: Cause,
    pub(crate) reading_body: bool,
    /// The body stopped delivering bytes for the stall timeout.
    pub(crate) stalled: bool,
}

pub(crate) enum Cause {
    Http(reqwest::Error),
    /// A timer of the SDK ran out, as this says.
    TimedOut(String),
}

impl Failure {
    pub(crate) fn http(error: reqwest::Error, reading_body: bool) -> Failure {
        Failure {
            cause: Cause::Http(error),
            reading_body,
            stalled: false,
        }
    }

    #[cold]
    pub(crate) fn no_response(timeout: Duration) -> Failure {
        Failure {
            cause: Cause::TimedOut(format!("no response within {}", seconds(timeout))),
            reading_body: false,
            stalled: false,
        }
    }

    /// A body that delivered nothing for `stall` after `total` bytes of
    /// the `expected`.
    #[cold]
    pub(crate) fn stalled(stall: Duration, total: usize, expected: Option<u64>) -> Failure {
        let expected = expected.map_or(String::new(), |n| format!(" of {n}"));
        Failure {
            cause: Cause::TimedOut(format!(
                "the response body stalled: no bytes for {} after {total}{expected} bytes",
                seconds(stall)
            )),
            reading_body: true,
            stalled: true,
        }
    }

    /// A body still coming when the attempt's `limit` (the caller's
    /// timeout or the deadline) ran out, after `total` of the `expected`
    /// bytes.
    #[cold]
    pub(crate) fn body_too_slow(limit: Duration, total: usize, expected: Option<u64>) -> Failure {
        let expected = expected.map_or(String::new(), |n| format!(" of {n}"));
        Failure {
            cause: Cause::TimedOut(format!(
                "the response body was not complete within the attempt's {} ({total}{expected} bytes arrived)",
                seconds(limit)
            )),
            reading_body: true,
            stalled: false,
        }
    }

    pub(crate) fn is_timeout(&self) -> bool {
        match &self.cause {
            Cause::Http(error) => error.is_timeout(),
            Cause::TimedOut(_) => true,
        }
    }

    /// A timeout before the status line is not retried: the server may
    /// still be analysing. A stalled body is: the answer was written.
    pub(crate) fn is_retryable(&self) -> bool {
        match &self.cause {
            Cause::Http(error) => {
                !error.is_timeout()
                    && (self.reading_body || error.is_connect() || error.is_request())
            }
            Cause::TimedOut(_) => self.stalled,
        }
    }

    pub(crate) fn summary(&self) -> String {
        match &self.cause {
            Cause::Http(error) => transport_summary(error),
            Cause::TimedOut(message) => format!("timeout: {message}"),
        }
    }
}

/// What kind of transport failure `error` is, with the messages of its
/// causes; reqwest's own message is left out because it prints the URL.
pub(crate) fn transport_summary(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else {
        "request"
    };
    match error.source() {
        Some(cause) => format!("{kind}: {}", error_chain(cause)),
        None => kind.to_string(),
    }
}

/// The messages of an error and its sources, joined by `: `.
fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Reads the whole body, each chunk within `stall` of the last and all of
/// it before the attempt's end (`bound`: when, and the attempt's limit, for
/// the message), on the attempt's `timer`. The timer is moved only when a
/// read has to wait: a body that is there when it is read (a small one
/// usually is) costs no timer work.
///
/// A body that arrives in one chunk is not copied; any other is copied
/// once, into a buffer of its exact size: a buffer grown by doubling would
/// hold up to twice the body while the report decoded from it is built
/// (see BENCHMARKS.md, peak memory of the user path).
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    mut timer: Pin<&mut tokio::time::Sleep>,
    stall: Duration,
    bound: Option<(Instant, Duration)>,
) -> Result<Bytes, Failure> {
    let mut first: Option<Bytes> = None;
    // Chunks after the first of a body whose size is not known in time.
    let mut rest: Vec<Bytes> = Vec::new();
    let mut all = BytesMut::new();
    let mut total = 0usize;
    loop {
        // Whether the timer runs out `stall` after the last chunk.
        let mut armed = false;
        let read = {
            let mut chunk = std::pin::pin!(response.chunk());
            std::future::poll_fn(|cx| {
                if let Poll::Ready(read) = chunk.as_mut().poll(cx) {
                    return Poll::Ready(Some(read));
                }
                if !armed {
                    let stalls_at = Instant::now() + stall;
                    let end = bound.map_or(stalls_at, |(until, _)| stalls_at.min(until));
                    timer.as_mut().reset(end.into());
                    armed = true;
                }
                timer.as_mut().poll(cx).map(|()| None)
            })
            .await
        };
        let Some(read) = read else {
            return Err(match bound {
                Some((until, limit)) if Instant::now() >= until => {
                    Failure::body_too_slow(limit, total, response.content_length())
                }
                _ => Failure::stalled(stall, total, response.content_length()),
            });
        };
        let Some(chunk) = read.map_err(|error| Failure::http(error, true))? else {
            break;
        };
        total += chunk.len();
        if all.capacity() > 0 {
            all.extend_from_slice(&chunk);
            continue;
        }
        let Some(head) = &first else {
            first = Some(chunk);
            continue;
        };
        // With two chunks the body is not one piece: from here on it goes
        // into the buffer, sized by the announced length when it covers
        // what came so far; else the chunks are kept until the end. (A body
        // of one chunk, as most small ones are, never reads the length.)
        match rest.is_empty().then(|| announced_size(response)) {
            Some(announced) if announced >= total => {
                all.reserve(announced);
                all.extend_from_slice(head);
                all.extend_from_slice(&chunk);
                first = None;
            }
            _ => rest.push(chunk),
        }
    }
    if all.capacity() > 0 {
        return Ok(all.freeze());
    }
    let Some(head) = first else {
        return Ok(Bytes::new());
    };
    if rest.is_empty() {
        return Ok(head);
    }
    all.reserve(total);
    all.extend_from_slice(&head);
    for chunk in rest {
        all.extend_from_slice(&chunk);
    }
    Ok(all.freeze())
}

/// The body's size as the response announces it, for the buffer of a body
/// that arrives in pieces. reqwest hides the size when it may decompress,
/// but removes the `content-length` header when it does: the header is the
/// body's size. It is only a hint, capped so a wrong one cannot reserve
/// much.
fn announced_size(response: &reqwest::Response) -> usize {
    response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .or(response.content_length())
        .map_or(0, |n| n.min(MAX_PREALLOCATED) as usize)
}

/// The most a `content-length` may reserve ahead of the body (128 MiB);
/// a larger body grows its buffer as it arrives.
const MAX_PREALLOCATED: u64 = 128 << 20;

pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}
