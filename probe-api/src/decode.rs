//! A response made into what the caller holds: the body decoded into the
//! operation's type on serde_json's fast path (or an [`Error`] naming the
//! JSON path where it stopped), the headers moved into the [`Response`],
//! the request id, attempts and elapsed time from the exchange.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::call::{Answer, Exchange};
use crate::error::{Error, content_type, snippet};
use crate::response::{Parts, RequestId, Response, SuccessBody};

/// Decodes a success body into `T`, or explains why it is not one: the
/// status, the JSON path where decoding stopped, and a snippet of the body.
pub(crate) fn decode_response<T: DeserializeOwned + SuccessBody + Send + 'static>(
    answer: Answer,
) -> impl Future<Output = Result<Response<T>, Error>> + Send {
    decode_response_with(answer, T::request_id)
}

/// [`decode_response`] for any `T`, reading the body's request id with
/// `body_request_id`.
///
/// The future holds the answer and nothing else until it is polled, so it
/// is made where the caller awaits it rather than copied there. The body,
/// which the transport has nearly always read already, is decoded on its
/// first poll; a body still to read, or one a walk decodes as it arrives,
/// is read by a boxed future, so neither enlarges every call's state.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would store the answer twice"
)]
pub(crate) fn decode_response_with<T: DeserializeOwned + Send + 'static>(
    answer: Answer,
    body_request_id: fn(&T) -> Option<&str>,
) -> impl Future<Output = Result<Response<T>, Error>> + Send {
    async move {
        let walk = answer.walk.clone();
        // The headers move into the value rather than being copied.
        let (mut response, body, exchange) = answer.into_parts();
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // A body read within the attempt is no walk's: a walked call
        // streams (`transport::start`), its body decoded as it arrives.
        if let Some(bytes) = body {
            return decode_read(&bytes, status, headers, exchange, body_request_id);
        }
        Box::pin(read_and_decode(
            response,
            status,
            headers,
            exchange,
            walk,
            body_request_id,
        ))
        .await
    }
}

/// [`decode_response_with`] of a body still to read, or walked.
async fn read_and_decode<T: DeserializeOwned + Send + 'static>(
    response: reqwest::Response,
    status: StatusCode,
    headers: HeaderMap,
    exchange: Exchange,
    walk: Option<crate::reports::walk::Walk>,
    body_request_id: fn(&T) -> Option<&str>,
) -> Result<Response<T>, Error> {
    if let Some(walk) = walk {
        return match crate::reports::walk::decode::<T>(response, walk).await {
            Ok(value) => {
                let parts = parts(status, headers, exchange, body_request_id(&value));
                Ok(Response::new(value, parts))
            }
            Err(crate::reports::walk::Failure::Transport(e)) => {
                Err(Error::transport(e, Some(&exchange))
                    .with_response_head(status, &headers, &exchange))
            }
            Err(crate::reports::walk::Failure::Decode(cause)) => {
                let cause = exchange.redact(&cause);
                Err(Error::decode(format!(
                    "body is not a valid {}: {cause}",
                    short_type_name::<T>()
                ))
                .for_exchange(&exchange)
                .with_response_head(status, &headers, &exchange))
            }
        };
    }
    let bytes = read_unread(response, &exchange, status, &headers).await?;
    decode_read(&bytes, status, headers, exchange, body_request_id)
}

/// The response for a body that was read: its value, or the error that says
/// where it did not decode.
fn decode_read<T: DeserializeOwned>(
    bytes: &[u8],
    status: StatusCode,
    headers: HeaderMap,
    exchange: Exchange,
    body_request_id: fn(&T) -> Option<&str>,
) -> Result<Response<T>, Error> {
    match decode_json::<T>(bytes) {
        Ok(value) => {
            let parts = parts(status, headers, exchange, body_request_id(&value));
            Ok(Response::new(value, parts))
        }
        Err((path, cause)) => Err(undecodable::<T>(
            bytes, status, &headers, exchange, &path, &cause,
        )),
    }
}

/// The error for a body that did not decode as `T`: where and why, a
/// snippet of it and its content type, every text redacted.
#[cold]
fn undecodable<T>(
    bytes: &[u8],
    status: StatusCode,
    headers: &HeaderMap,
    exchange: Exchange,
    path: &str,
    cause: &str,
) -> Error {
    // serde's message quotes the value that did not fit, and the path names
    // object keys: either may be an echoed credential.
    let redact = |text: &str| exchange.redact(text);
    let (path, cause) = (redact(path), redact(cause));
    let text = redact(&String::from_utf8_lossy(bytes));
    let snippet = snippet(&text);
    let what = if bytes.iter().all(u8::is_ascii_whitespace) {
        String::from(": the body is empty")
    } else {
        format!(" at `{path}`: {cause}")
    };
    let mut message = format!("body is not a valid {}{what}", short_type_name::<T>());
    if let Some(ct) = content_type(headers).filter(|ct| !is_json_media_type(ct)) {
        message.push_str(&format!(" (content type {ct})"));
    }
    Error::decode(message)
        .for_exchange(&exchange)
        .with_response_head(status, headers, &exchange)
        .with_undecoded(path, snippet)
}

/// Decodes `bytes` as `T`, or gives the JSON path where it stopped and why.
///
/// Bodies that decode take serde_json's fast path; only a body that fails
/// is decoded again, tracking the path, to say where.
pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, (String, String)> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(_) => decode_json_again(bytes),
    }
}

/// [`decode_json`] of a body that failed the fast path.
#[cold]
fn decode_json_again<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, (String, String)> {
    // A tool report that does not fit its type fails the strict pass but
    // not the response: read again with such reports set aside as their
    // text (see `reports::ToolReport`), which leaves only errors outside
    // reports.
    if let Ok(value) = crate::reports::isolate_reports(bytes)
        && let Ok(decoded) = serde_json::from_value(value)
    {
        return Ok(decoded);
    }
    // Where the body stops fitting `T`, read with its path tracked.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer)
        .map_err(|e| (e.path().to_string(), e.inner().to_string()))?;
    deserializer
        .end()
        .map_err(|e| (String::from("."), e.to_string()))?;
    Ok(value)
}

/// The value of a response without a body (204), its headers moved rather
/// than copied.
pub(crate) fn empty_response(answer: Answer) -> Response<()> {
    let (mut response, _, exchange) = answer.into_parts();
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    Response::new((), parts(status, headers, exchange, None))
}

/// A response whose value is its body's bytes, as they came.
pub(crate) async fn bytes_response(answer: Answer) -> Result<Response<bytes::Bytes>, Error> {
    let (mut response, body, exchange) = answer.into_parts();
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let bytes = match body {
        Some(bytes) => bytes,
        None => read_unread(response, &exchange, status, &headers).await?,
    };
    Ok(Response::new(bytes, parts(status, headers, exchange, None)))
}

/// A response whose body the caller reads as it arrives.
pub(crate) fn stream_response(answer: Answer) -> Response<crate::ByteStream> {
    use futures_util::StreamExt;
    let (mut response, _, exchange) = answer.into_parts();
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let context = exchange.clone();
    let body = response
        .bytes_stream()
        .map(move |chunk| chunk.map_err(|e| Error::transport(e, Some(&context))))
        .boxed();
    Response::new(
        crate::ByteStream::new(body),
        parts(status, headers, exchange, None),
    )
}

/// The error for an answer whose status the operation does not succeed
/// with: the API's error body when it has one, else a bounded snippet
/// (see [`Error::from_status`]). The body is read here only if the
/// transport has not.
pub(crate) async fn error_response(answer: Answer) -> Error {
    let (mut response, body, exchange) = answer.into_parts();
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let bytes = match body {
        Some(bytes) => bytes,
        None => match read_unread(response, &exchange, status, &headers).await {
            Ok(bytes) => bytes,
            Err(error) => return error,
        },
    };
    Error::from_status(status, &headers, &exchange, &bytes)
}

/// What a successful response says besides its value: attempts and time
/// from the exchange, and what its request id is found from when asked
/// for (the headers, else the body's id).
fn parts(
    status: StatusCode,
    headers: HeaderMap,
    exchange: Exchange,
    body_request_id: Option<&str>,
) -> Parts {
    Parts {
        status,
        headers,
        request_id: RequestId::new(body_request_id.map(str::to_owned), exchange.redaction),
        attempts: exchange.attempts,
        elapsed: exchange.started.elapsed(),
    }
}

/// The body of a response the transport did not read (a streamed or
/// walked one), read now; the read is boxed so that it does not enlarge
/// every call's future.
async fn read_unread(
    response: reqwest::Response,
    exchange: &Exchange,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<bytes::Bytes, Error> {
    Box::pin(response.bytes()).await.map_err(|e| {
        Error::transport(e, Some(exchange)).with_response_head(status, headers, exchange)
    })
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// `T`'s name without module paths: `Vec<GetFileError>` rather than
/// `alloc::vec::Vec<probe_api::generated::types::GetFileError>`.
pub(crate) fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut token = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
        } else {
            out.push_str(token.rsplit("::").next().unwrap_or(&token));
            token.clear();
            out.push(c);
        }
    }
    out.push_str(token.rsplit("::").next().unwrap_or(&token));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_lose_their_module_paths() {
        assert_eq!(short_type_name::<Vec<std::string::String>>(), "Vec<String>");
    }

    #[test]
    fn decode_errors_name_the_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        let (path, cause) =
            decode_json::<Outer>(br#"{"items":[{"n":1},{"n":"x"}]}"#).expect_err("must fail");
        assert_eq!(path, "items[1].n");
        assert!(cause.contains("invalid type"), "{cause}");
        let (_, trailing) = decode_json::<Inner>(br#"{"n":1} x"#).expect_err("must fail");
        assert!(trailing.contains("trailing"), "{trailing}");
    }
}
