//! The one error type every operation returns.
//!
//! A failed call is one of a few kinds (see [`ErrorKind`]); whatever the
//! kind, the error carries what is known about the exchange: the operation,
//! the HTTP status, the API's own error body, the request id, the
//! `Retry-After` hint, how many attempts were made, and for bodies that did
//! not decode, a bounded snippet and the JSON path that failed.

use std::error::Error as StdError;
use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::call::Exchange;
use crate::retry::{is_retryable_status, retry_after};

/// The most bytes of an undecodable body kept in the error.
pub const BODY_SNIPPET_LIMIT: usize = 512;

/// Response headers that carry a request id, in the order they are consulted.
pub const REQUEST_ID_HEADERS: [&str; 6] = [
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "cf-ray",
];

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request could not be built from the caller's input (a parameter
    /// outside its constraints, a missing required cookie). Nothing was sent.
    InvalidRequest,
    /// No connection could be made (refused, DNS, TLS handshake).
    Connect,
    /// The request took longer than its timeout.
    Timeout,
    /// The connection failed after it was made (reset, closed mid-body).
    Transport,
    /// The API answered with a status the operation does not succeed with.
    Status,
    /// The API answered with success, but the body is not what the
    /// document says (empty, truncated, another type, another format).
    Decode,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Connect => "could not connect",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Transport => "connection failed",
            ErrorKind::Status => "error status",
            ErrorKind::Decode => "undecodable response",
        }
    }
}

/// The error body the Probe.dev API sends (`ErrorResponse`,
/// `UnauthorizedError`, and the gateway's `{"error": ...}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// Application-specific error code.
    pub code: Option<i64>,
    /// The error message.
    pub error: Option<String>,
    /// Status text.
    pub status: Option<String>,
    /// Application context.
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    /// Reads the fields the API's error bodies have, if `body` has any.
    fn from_body(body: &serde_json::Value) -> Option<ApiError> {
        let object = body.as_object()?;
        let api = ApiError {
            code: object.get("code").and_then(serde_json::Value::as_i64),
            error: object
                .get("error")
                .or_else(|| object.get("message"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            status: object
                .get("status")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            context: object
                .get("context")
                .and_then(serde_json::Value::as_object)
                .cloned(),
        };
        let empty = api.code.is_none()
            && api.error.is_none()
            && api.status.is_none()
            && api.context.is_none();
        (!empty).then_some(api)
    }
}

/// A failed call. See [`kind`](Error::kind) for what failed and the
/// accessors for what is known about the exchange.
///
/// `Display` is one line: the operation, the status, the API's message and
/// the request id. No credential appears in `Display`, `Debug` or the
/// [`source`](std::error::Error::source) chain.
pub struct Error {
    inner: Box<Inner>,
}

/// What a batch records of a failed call, to make it an [`Error`] again.
#[derive(Debug)]
pub(crate) struct StoredError {
    pub(crate) kind: ErrorKind,
    pub(crate) operation: Option<String>,
    pub(crate) status: Option<u16>,
    pub(crate) message: String,
    pub(crate) request_id: Option<String>,
    pub(crate) attempts: u32,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    operation: Option<&'static str>,
    method: Option<reqwest::Method>,
    path: Option<String>,
    status: Option<StatusCode>,
    api: Option<ApiError>,
    body: Option<serde_json::Value>,
    snippet: Option<String>,
    decode_path: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                operation: None,
                method: None,
                path: None,
                status: None,
                api: None,
                body: None,
                snippet: None,
                decode_path: None,
                request_id: None,
                retry_after: None,
                attempts: 0,
                source: None,
            }),
        }
    }

    /// An error read back from a batch's journal or ledger: what was
    /// recorded of it (see [`crate::batch::journal`]).
    pub(crate) fn stored(stored: StoredError) -> Self {
        let mut error = Error::new(stored.kind, stored.message);
        error.inner.operation = stored
            .operation
            .and_then(|name| crate::spec::operation(&name).map(|spec| spec.rust_name));
        error.inner.status = stored.status.and_then(|s| StatusCode::from_u16(s).ok());
        error.inner.request_id = stored.request_id;
        error.inner.attempts = stored.attempts;
        error
    }

    /// This error's own message, without what `Display` adds around it.
    pub(crate) fn message(&self) -> &str {
        &self.inner.message
    }

    /// The error of a call: its operation, request and attempts.
    pub(crate) fn for_exchange(mut self, exchange: &Exchange) -> Self {
        self.inner.operation = Some(exchange.operation);
        self.inner.method = Some(exchange.method.clone());
        self.inner.path = Some(exchange.path.clone());
        self.inner.attempts = exchange.attempts;
        self
    }

    /// The error of `operation`, raised before its request was made.
    pub(crate) fn for_operation(mut self, operation: &'static str) -> Self {
        self.inner.operation = Some(operation);
        self
    }

    /// The error of `operation`'s request, refused before it was sent.
    pub(crate) fn for_request(
        mut self,
        operation: &'static str,
        method: &reqwest::Method,
        path: &str,
    ) -> Self {
        self.inner.operation = Some(operation);
        self.inner.method = Some(method.clone());
        self.inner.path = Some(path.to_string());
        self
    }

    /// The status and what the headers say (request id, `Retry-After`) of
    /// the answer the error came with; the request id redacted of the
    /// exchange's credentials, as a server may echo anything into a header.
    pub(crate) fn with_response_head(
        mut self,
        status: StatusCode,
        headers: &HeaderMap,
        exchange: &Exchange,
    ) -> Self {
        self.inner.status = Some(status);
        self.inner.request_id = request_id(headers).map(|id| exchange.redact(id));
        self.inner.retry_after = retry_after(headers, SystemTime::now());
        self
    }

    /// A success response whose body is not what the operation says, as
    /// `message` explains.
    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Decode, message)
    }

    /// The JSON path where decoding stopped and a snippet of the body.
    pub(crate) fn with_undecoded(mut self, path: String, snippet: String) -> Self {
        self.inner.decode_path = Some(path);
        self.inner.snippet = Some(snippet);
        self
    }

    /// A request the client refused to send.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidRequest, message)
    }

    /// A failure of the connection or of the request's timeout, after
    /// `exchange.attempts` attempts.
    #[cold]
    pub(crate) fn transport(error: reqwest::Error, exchange: Option<&Exchange>) -> Self {
        let kind = if error.is_timeout() {
            ErrorKind::Timeout
        } else if error.is_connect() {
            ErrorKind::Connect
        } else if error.is_builder() {
            ErrorKind::InvalidRequest
        } else {
            ErrorKind::Transport
        };
        let status = error.status();
        // reqwest prints the URL, which may carry `token=` or `jwt=`. What
        // failed below this layer is the source's to say, not `Display`'s.
        let error = error.without_url();
        let mut out = Error::new(kind, "");
        if let Some(exchange) = exchange {
            out = out.for_exchange(exchange);
        }
        out.inner.status = status;
        out.inner.source = Some(Box::new(error));
        out
    }

    /// A timer of the SDK ran out (before the status line, while the body
    /// stalled, or at the call's deadline), after `exchange.attempts`.
    #[cold]
    pub(crate) fn timed_out(message: String, exchange: Option<&Exchange>) -> Self {
        let error = Error::new(ErrorKind::Timeout, message);
        match exchange {
            Some(exchange) => error.for_exchange(exchange),
            None => error,
        }
    }

    /// The error for an answer whose status the operation does not succeed
    /// with, from its body: the API's error body when it has one, else a
    /// bounded snippet, every text redacted of the exchange's credentials.
    pub(crate) fn from_status(
        status: StatusCode,
        headers: &HeaderMap,
        exchange: &Exchange,
        bytes: &[u8],
    ) -> Self {
        let mut error = Error::new(ErrorKind::Status, "")
            .for_exchange(exchange)
            .with_response_head(status, headers, exchange);
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(body) => {
                // Redacted once, before anything is read from it: the
                // message, the context and the body all come from here.
                let body = exchange.redact_json(body);
                error.inner.api = ApiError::from_body(&body);
                error.inner.message = match error.inner.api.as_ref() {
                    Some(api) => api_message(api),
                    None => format!(
                        "body without an error message: {}",
                        snippet(&body.to_string())
                    ),
                };
                error.inner.body = Some(body);
            }
            Err(_) if bytes.is_empty() => error.inner.message = "empty body".into(),
            Err(_) => {
                let text = exchange.redact(&String::from_utf8_lossy(bytes));
                let snippet = snippet(&text);
                error.inner.message = format!(
                    "{} body: {}",
                    content_type(headers).unwrap_or("untyped"),
                    one_line(&snippet)
                );
                error.inner.snippet = Some(snippet);
            }
        }
        error
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The client method (operation) that failed, such as `"get_file"`.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The API's error body (`code`, `error`, `status`, `context`), when the
    /// response carried one.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The API's error message (the `error` of its error body), when the
    /// response carried one. `Display` shows it too, with what else is known.
    pub fn api_message(&self) -> Option<&str> {
        self.inner.api.as_ref()?.error.as_deref()
    }

    /// The whole error body, when it was JSON.
    pub fn body(&self) -> Option<&serde_json::Value> {
        self.inner.body.as_ref()
    }

    /// The first bytes (at most [`BODY_SNIPPET_LIMIT`]) of a body that could
    /// not be decoded, as text.
    pub fn body_snippet(&self) -> Option<&str> {
        self.inner.snippet.as_deref()
    }

    /// Where decoding failed, as a path into the JSON body such as
    /// `ffprobe.response.streams[0].codec_name` (`.` for the top level). A
    /// segment serde could not name (inside a map key, an untagged enum or
    /// a value that ended early) is `?`, as in `streams[0].?`.
    pub fn decode_path(&self) -> Option<&str> {
        self.inner.decode_path.as_deref()
    }

    /// The request id the response carried (see [`REQUEST_ID_HEADERS`]),
    /// to quote when asking the provider about a call.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// How long the server asked to wait before trying again (`Retry-After`,
    /// in seconds or as an HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// How many times the request was sent (0 when it never was).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Whether sending the same request again may succeed: a connection
    /// failure, or status 408, 429, 500, 502, 503 or 504. Timeouts are not:
    /// the server may still be analysing, and each analysis is billed.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Connect | ErrorKind::Transport => true,
            ErrorKind::Status => self.inner.status.is_some_and(is_retryable_status),
            _ => false,
        }
    }

    /// Whether the API refused the call for its rate limit (status 429).
    pub fn is_rate_limited(&self) -> bool {
        self.inner.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether the credentials were missing, invalid or expired (status 401).
    pub fn is_unauthorized(&self) -> bool {
        self.inner.status == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the request ran out of time: the client's timeout, or the
    /// server or a gateway reporting one (408, 504).
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
            || matches!(
                self.inner.status,
                Some(StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT)
            )
    }
}

/// A request that reqwest could not build (a URL or header it refuses),
/// for `operation`; used by the generated code.
pub(crate) fn request_not_built(operation: &'static str, error: reqwest::Error) -> Error {
    let mut out = Error::new(
        ErrorKind::InvalidRequest,
        "the request cannot be built from the values given",
    );
    out.inner.operation = Some(operation);
    out.inner.source = Some(Box::new(error.without_url()));
    out
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if let Some(operation) = inner.operation {
            write!(f, "{operation}")?;
            if let (Some(method), Some(path)) = (&inner.method, &inner.path) {
                write!(f, " ({method} {path})")?;
            }
            f.write_str(": ")?;
        }
        match inner.status {
            Some(status) => write!(f, "{status}")?,
            None => f.write_str(inner.kind.describe())?,
        }
        if !inner.message.is_empty() {
            write!(f, ": {}", one_line(&inner.message))?;
        }
        if let Some(id) = &inner.request_id {
            write!(f, " (request id {id})")?;
        }
        if inner.attempts > 1 {
            write!(f, " after {} attempts", inner.attempts)?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

fn api_message(api: &ApiError) -> String {
    let mut message = api
        .error
        .clone()
        .or_else(|| api.status.clone())
        .unwrap_or_else(|| String::from("no error message"));
    if let Some(code) = api.code {
        message.push_str(&format!(" (code {code})"));
    }
    message
}

/// The first request id among [`REQUEST_ID_HEADERS`] (in their order; the
/// first value of each), trimmed, as the headers hold it.
///
/// One pass over the headers, which are few, rather than a lookup for each
/// name, each of which would parse and hash it.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    let mut best: Option<(usize, &str)> = None;
    let mut seen = [false; REQUEST_ID_HEADERS.len()];
    for (name, value) in headers {
        let Some(rank) = REQUEST_ID_HEADERS.iter().position(|n| *n == name.as_str()) else {
            continue;
        };
        // Later values of a name are not consulted, as `HeaderMap::get`
        // gives only the first.
        if std::mem::replace(&mut seen[rank], true) || best.is_some_and(|(b, _)| b < rank) {
            continue;
        }
        if let Some(id) = value.to_str().ok().map(str::trim).filter(|v| !v.is_empty()) {
            best = Some((rank, id));
        }
    }
    best.map(|(_, id)| id)
}

/// At most [`BODY_SNIPPET_LIMIT`] bytes of `text`, cut at a character
/// boundary, with `…` when cut.
/// The answer's `Content-Type`, when it is text.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

pub(crate) fn snippet(text: &str) -> String {
    if text.len() <= BODY_SNIPPET_LIMIT {
        return text.to_string();
    }
    let mut end = BODY_SNIPPET_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Whitespace runs (newlines included) folded to one space, and at most
/// 200 characters, so a `Display` stays on one line.
fn one_line(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_can_cross_threads_and_live_anywhere() {
        fn assert_send_sync_static<T: Send + Sync + 'static>() {}
        assert_send_sync_static::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn snippets_are_bounded_at_a_character_boundary() {
        let text = "é".repeat(BODY_SNIPPET_LIMIT);
        let cut = snippet(&text);
        assert!(cut.len() <= BODY_SNIPPET_LIMIT + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(snippet("short"), "short");
    }
}
