//! What a successful call returns: the decoded value, and what the SDK did
//! to get it.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::call::Redaction;

/// A successful answer: the decoded body (the response derefs to it), its
/// status and headers, the request id to quote to the provider, and how
/// many attempts and how long the call took, retries and back-off included.
///
/// ```no_run
/// # async fn run(client: probe_api::Client) -> Result<(), probe_api::Error> {
/// let sessions = client.get_sessions().send().await?;
/// println!(
///     "{} sessions in {:?} after {} attempt(s), request id {:?}",
///     sessions.sessions.as_ref().map_or(0, Vec::len),
///     sessions.elapsed(),
///     sessions.attempts(),
///     sessions.request_id(),
/// );
/// let body = sessions.into_inner();
/// # let _ = body;
/// # Ok(()) }
/// ```
pub struct Response<T> {
    value: T,
    parts: Parts,
}

/// Everything a [`Response`] says besides its value.
#[derive(Clone)]
pub struct Parts {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) request_id: RequestId,
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
}

/// A response's request id, found in its headers when first asked for:
/// most callers never ask, and looking costs a pass over the headers and
/// a copy of the id on every call.
#[derive(Clone, Default)]
pub(crate) struct RequestId {
    /// The body's own request id (a media probe's `metadata.request_id`),
    /// for when no header carries one.
    pub(crate) body: Option<String>,
    /// What the id is redacted of: a server may echo anything.
    pub(crate) redaction: Redaction,
    found: std::sync::OnceLock<Option<String>>,
}

impl RequestId {
    /// A request id found, when asked for, in the headers or else in
    /// `body`, and redacted of `redaction`.
    pub(crate) fn new(body: Option<String>, redaction: Redaction) -> Self {
        RequestId {
            body,
            redaction,
            found: std::sync::OnceLock::new(),
        }
    }

    fn get<'p>(&'p self, headers: &HeaderMap) -> Option<&'p str> {
        self.found
            .get_or_init(|| {
                let id = crate::error::request_id(headers).or(self.body.as_deref())?;
                Some(self.redaction.redact(id))
            })
            .as_deref()
    }
}

impl Parts {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request id: from the response headers (see
    /// [`REQUEST_ID_HEADERS`](crate::error::REQUEST_ID_HEADERS)), or else
    /// the `metadata.request_id` a media probe's body carries.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.get(&self.headers)
    }

    /// How many times the request was sent: 1, or more after retries.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long the call took until its body had arrived, every attempt
    /// and back-off included (decoding is not).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Debug for Parts {
    // Header values may carry cookies or tokens a server set: only names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parts")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("attempts", &self.attempts)
            .field("elapsed", &self.elapsed)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, parts: Parts) -> Self {
        Response { value, parts }
    }

    /// A response read back from a batch's journal or ledger: what was
    /// recorded of it, without headers (none are kept).
    pub(crate) fn stored(
        value: T,
        status: StatusCode,
        request_id: Option<String>,
        attempts: u32,
        elapsed: Duration,
    ) -> Self {
        let parts = Parts {
            status,
            headers: HeaderMap::new(),
            request_id: RequestId::new(request_id, Redaction::default()),
            attempts,
            elapsed,
        };
        Response { value, parts }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.parts.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request id (see [`Parts::request_id`]).
    pub fn request_id(&self) -> Option<&str> {
        self.parts.request_id()
    }

    /// How many times the request was sent: 1, or more after retries.
    pub fn attempts(&self) -> u32 {
        self.parts.attempts
    }

    /// How long the call took until its body had arrived, every attempt
    /// and back-off included.
    pub fn elapsed(&self) -> Duration {
        self.parts.elapsed
    }

    /// The decoded value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The decoded value and the rest of the response.
    pub fn into_parts(self) -> (T, Parts) {
        (self.value, self.parts)
    }

    /// The same response with its value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            parts: self.parts,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("value", &self.value)
            .field("parts", &self.parts)
            .finish()
    }
}

/// A body read as it arrives, for answers the SDK does not decode (see
/// [`RawRequest::send_stream`](crate::raw::RawRequest::send_stream)).
pub struct ByteStream {
    inner: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, crate::Error>>,
}

impl ByteStream {
    pub(crate) fn new(
        inner: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, crate::Error>>,
    ) -> Self {
        ByteStream { inner }
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ByteStream")
    }
}

impl futures_util::Stream for ByteStream {
    type Item = Result<bytes::Bytes, crate::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Where a decoded body keeps its request id, if it has one: generated for
/// every success type (the media probes' `metadata.request_id`).
pub(crate) trait SuccessBody {
    /// The request id the body carries.
    fn request_id(&self) -> Option<&str> {
        None
    }
}

impl SuccessBody for serde_json::Value {
    fn request_id(&self) -> Option<&str> {
        self.pointer("/metadata/request_id")?.as_str()
    }
}

impl SuccessBody for () {}
impl SuccessBody for bytes::Bytes {}
impl SuccessBody for String {}
impl<T> SuccessBody for Vec<T> {}
impl SuccessBody for serde_json::Map<String, serde_json::Value> {}
impl<K, V, S> SuccessBody for std::collections::HashMap<K, V, S> {}
