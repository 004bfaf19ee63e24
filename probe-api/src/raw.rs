//! Requests to paths the API document does not have, through the same
//! credentials, retries, timeouts, tracing and [`Error`] as every operation.
//!
//! ```no_run
//! use probe_api::{Client, Method};
//!
//! # async fn run(client: Client) -> Result<(), probe_api::Error> {
//! // An endpoint newer than the pinned document: JSON in, JSON out.
//! let invoice = client
//!     .request(Method::GET, "/frontend/api/v1/billing/invoice")
//!     .query(&[("month", "2026-11")])
//!     .send()
//!     .await?;
//! println!("{} after {} attempt(s)", invoice["total"], invoice.attempts());
//!
//! // Or decoded into a type of your own.
//! #[derive(serde::Deserialize)]
//! struct Invoice { total: f64 }
//! let typed = client
//!     .request(Method::GET, "/frontend/api/v1/billing/invoice")
//!     .send_json::<Invoice>()
//!     .await?;
//! # let _ = typed.total;
//! # Ok(()) }
//! ```

use std::fmt;

use progenitor_client::OperationInfo;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ByteStream, Client, Error, Response};

/// The name raw requests go by in spans and errors.
const OPERATION: &str = "request";

/// A request to any path of the API, built by [`Client::request`].
///
/// A raw request asks the server for no analysis time of its own, so its
/// timeout is the client's (see [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)),
/// not the media rule of the file probes: to send a media probe this way,
/// give the client a timeout that covers the analysis the request asks for.
#[must_use = "a request does nothing until it is sent"]
pub struct RawRequest<'c> {
    client: &'c Client,
    method: reqwest::Method,
    path: String,
    /// The request being built, or the first reason it cannot be.
    request: Result<reqwest::RequestBuilder, String>,
}

impl fmt::Debug for RawRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("path", &crate::spec::redact_any_path(&self.path))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A request to `path` (below the base URL, starting with `/`), for
    /// endpoints the document this client was generated from does not
    /// have. It goes through the client's credentials, retries (by method,
    /// as for operations), timeout and tracing span (`operation =
    /// "request"`), and fails with the same [`Error`]; a status outside
    /// 2xx is an error carrying the API's error body.
    pub fn request(&self, method: reqwest::Method, path: &str) -> RawRequest<'_> {
        let request = self
            .url_for(path)
            .map(|url| self.client.request(method.clone(), url));
        RawRequest {
            client: self,
            method,
            path: path.to_string(),
            request,
        }
    }

    fn url_for(&self, path: &str) -> Result<reqwest::Url, String> {
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(format!(
                "the path `{}` must start with one `/`: it is relative to the base URL",
                crate::spec::redact_any_path(path)
            ));
        }
        if path
            .split(['?', '#'])
            .next()
            .is_some_and(|p| p.split('/').any(|s| s == ".." || s == "."))
        {
            return Err("the path must not contain `.` or `..` segments".into());
        }
        format!("{}{path}", self.baseurl.trim_end_matches('/'))
            .parse()
            .map_err(|e| {
                format!(
                    "`{}` does not make a URL: {e}",
                    crate::spec::redact_any_path(path)
                )
            })
    }
}

impl RawRequest<'_> {
    fn with(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.request = self.request.map(f);
        self
    }

    /// Adds query parameters: anything serde serializes as pairs, such as
    /// `&[("page", "2")]` or a struct.
    pub fn query<Q: Serialize + ?Sized>(self, query: &Q) -> Self {
        self.with(|r| r.query(query))
    }

    /// Sends `body` as JSON.
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Self {
        self.with(|r| r.json(body))
    }

    /// Sends `body` as `application/x-www-form-urlencoded`.
    pub fn form<B: Serialize + ?Sized>(self, body: &B) -> Self {
        self.with(|r| r.form(body))
    }

    /// Adds a header. A name or value that a header cannot carry makes
    /// `send` fail without sending.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let header = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))
            .and_then(|n| {
                reqwest::header::HeaderValue::from_str(value)
                    .map(|v| (n, v))
                    .map_err(|_| {
                        format!("the value of header `{name}` has characters a header cannot carry")
                    })
            });
        self.request = match (self.request, header) {
            (Ok(r), Ok((n, v))) => Ok(r.header(n, v)),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        };
        self
    }

    /// Sends the request and decodes a JSON answer (an empty body is
    /// `null`).
    ///
    /// # Errors
    ///
    /// As any operation: the request could not be built or sent, the
    /// status is not 2xx, or the body is not JSON.
    pub async fn send(self) -> Result<Response<serde_json::Value>, Error> {
        let answer = self.execute(false).await?;
        if answer.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(crate::decode::empty_response(answer).map(|()| serde_json::Value::Null));
        }
        crate::decode::decode_response(answer).await
    }

    /// Sends the request and decodes the answer into `T`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); a body that is not a `T` is a
    /// [`Decode`](crate::ErrorKind::Decode) error naming the JSON path.
    pub async fn send_json<T: DeserializeOwned + Send + 'static>(
        self,
    ) -> Result<Response<T>, Error> {
        let answer = self.execute(false).await?;
        crate::decode::decode_response_with(answer, |_| None).await
    }

    /// Sends the request and returns the body's bytes as they are.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), but any body is accepted.
    pub async fn send_bytes(self) -> Result<Response<bytes::Bytes>, Error> {
        let answer = self.execute(false).await?;
        crate::decode::bytes_response(answer).await
    }

    /// Sends the request and returns the body as it arrives, unread: for
    /// large answers. A connection that breaks mid-body ends the stream
    /// with an error and is not retried.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), up to the status line.
    pub async fn send_stream(self) -> Result<Response<ByteStream>, Error> {
        let answer = self.execute(true).await?;
        Ok(crate::decode::stream_response(answer))
    }

    async fn execute(self, streams: bool) -> Result<crate::call::Answer, Error> {
        let RawRequest {
            client,
            method,
            path,
            request,
        } = self;
        let refused = |message: String| {
            Error::invalid_request(message).for_request(
                OPERATION,
                &method,
                &crate::spec::redact_any_path(&path),
            )
        };
        let template = request.map_err(refused)?.build().map_err(|e| {
            refused(format!(
                "the request cannot be built: {}",
                crate::call::transport_summary(&e)
            ))
        })?;
        let info = OperationInfo {
            operation_id: OPERATION,
        };
        // Each attempt sends a copy of the request as built (its body is
        // JSON, a form or nothing, so it always copies). A raw request asks
        // for no analysis time: its timeout is the client's.
        let build = |_: crate::timeouts::Analysis| {
            template.try_clone().ok_or_else(|| {
                refused(String::from(
                    "the request's body is a stream, which cannot be sent again",
                ))
            })
        };
        static FACTS: crate::facts::OperationFacts = crate::facts::OperationFacts::new();
        let answer = crate::transport::execute(
            client,
            &info,
            &FACTS,
            crate::timeouts::Analysis::NONE,
            &build,
            streams,
        )
        .await?;
        if answer.status().is_success() {
            Ok(answer)
        } else {
            Err(crate::decode::error_response(answer).await)
        }
    }
}
