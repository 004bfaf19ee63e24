//! The record of one finished probe, as a JSON object: one line of a
//! [`Journal`](super::Journal), and the `outcome` of an item in the
//! PostgreSQL ledger, so that both store, and give back, the same thing.
//!
//! ```text
//! {"url":"…","ok":true,"at":"…","status":200,"request_id":"…","attempts":1,"elapsed_ms":212,"response":{…}}
//! {"url":"…","ok":false,"at":"…","error":{"kind":"status","status":503,"message":"…","detail":"…","operation":"get_file","request_id":"…","attempts":3}}
//! ```
//!
//! `status`, `request_id`, `attempts`, `elapsed_ms` and the error's
//! `detail`, `operation`, `request_id` and `attempts` were added in 0.3;
//! records without them read back with no request id, 0 attempts and no
//! elapsed time.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::StoredError;
use crate::{Error, ErrorKind, Response, types};

/// A probe's result, as a batch holds it.
pub(crate) type Outcome = Result<Response<types::GetFileResponse>, Error>;

/// The record of `url`'s `outcome`.
pub(crate) fn to_json(url: &str, outcome: &Outcome) -> Value {
    match outcome {
        Ok(response) => json!({
            "url": url,
            "ok": true,
            "at": now(),
            "status": response.status().as_u16(),
            "request_id": response.request_id(),
            "attempts": response.attempts(),
            "elapsed_ms": response.elapsed().as_millis() as u64,
            "response": &**response,
        }),
        Err(error) => json!({
            "url": url,
            "ok": false,
            "at": now(),
            "error": {
                "kind": kind_name(error.kind()),
                "status": error.status().map(|s| s.as_u16()),
                "message": error.to_string(),
                "detail": error.message(),
                "operation": error.operation(),
                "request_id": error.request_id(),
                "attempts": error.attempts(),
            },
        }),
    }
}

/// The URL and outcome a record holds; `None` when `record` is not one.
/// A success whose response does not decode is an error that says so.
pub(crate) fn from_json(mut record: Value) -> Option<(String, Outcome)> {
    let object = record.as_object_mut()?;
    let url = object.get("url")?.as_str()?.to_string();
    let outcome = match object.get("ok")?.as_bool()? {
        true => {
            let response = object.remove("response").filter(Value::is_object)?;
            let status = object
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| http::StatusCode::from_u16(u16::try_from(s).ok()?).ok())
                .unwrap_or(http::StatusCode::OK);
            let request_id = text(object.get("request_id"));
            let attempts = number(object.get("attempts"));
            let elapsed = Duration::from_millis(
                object
                    .get("elapsed_ms")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            );
            match serde_json::from_value::<types::GetFileResponse>(response) {
                Ok(value) => Ok(Response::stored(
                    value, status, request_id, attempts, elapsed,
                )),
                Err(e) => Err(Error::stored(StoredError {
                    kind: ErrorKind::Decode,
                    operation: Some("get_file".to_string()),
                    status: None,
                    message: format!("the stored result does not decode: {e}"),
                    request_id,
                    attempts,
                })),
            }
        }
        false => {
            let error = object.get("error")?.as_object()?;
            let message = text(error.get("detail"))
                .or_else(|| text(error.get("message")))
                .unwrap_or_default();
            Err(Error::stored(StoredError {
                kind: error
                    .get("kind")
                    .and_then(Value::as_str)
                    .map_or(ErrorKind::Transport, kind_of),
                operation: text(error.get("operation")),
                status: error
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok()),
                message,
                request_id: text(error.get("request_id")),
                attempts: number(error.get("attempts")),
            }))
        }
    };
    Some((url, outcome))
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

fn number(value: Option<&Value>) -> u32 {
    value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::Connect => "connect",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Transport => "transport",
        ErrorKind::Status => "status",
        ErrorKind::Decode => "decode",
    }
}

fn kind_of(name: &str) -> ErrorKind {
    match name {
        "invalid_request" => ErrorKind::InvalidRequest,
        "connect" => ErrorKind::Connect,
        "timeout" => ErrorKind::Timeout,
        "status" => ErrorKind::Status,
        "decode" => ErrorKind::Decode,
        _ => ErrorKind::Transport,
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
