//! Calling an operation by name, with JSON arguments.
//!
//! The typed builders ([`Client::get_file`] and the rest) are the normal
//! API. This module is for code that only knows an operation from the
//! document: generic tools (a command line that takes an operation name and
//! `key=value` pairs) and tests that walk every operation of
//! [`spec::operations`](crate::spec::operations) with arguments derived from
//! the document.
//!
//! A dynamic call goes through the same generated builder a typed call
//! does: each parameter is decoded into the type its setter takes, the
//! request is validated and sent the same way, and the response is decoded
//! into its generated type before it is returned as JSON. Parameters are
//! named as on the wire ([`ParameterSpec::name`](crate::spec::ParameterSpec::name)),
//! so `ffprobe[show_streams]`, not `ffprobe_show_streams`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::decode::short_type_name;
use crate::{Client, Error};

/// Calls `operation` (its method name, such as `"get_file"`) with the
/// parameters in `params`, keyed by wire name, and the request body `body`,
/// and returns the decoded response as JSON (`null` when the operation
/// answers without a body).
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let client = probe_api::Client::from_env()?;
/// let params = serde_json::json!({
///     "url": "https://example.com/media/trailer.mp4",
///     "only": "ffprobe",
///     "ffprobe[show_streams]": true,
/// });
/// let params = params.as_object().cloned().unwrap_or_default();
/// let report = probe_api::dynamic::call(&client, "get_file", &params, None).await?;
/// println!("{}", report["ffprobe"]["success"]);
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// An [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest), with
/// nothing sent, when no operation has that name, a parameter is not one of
/// the operation's, a value does not decode into the parameter's type, or a
/// body is given to an operation without one (or does not decode); then
/// every error a typed call can return.
pub async fn call(
    client: &Client,
    operation: &str,
    params: &Map<String, Value>,
    body: Option<&Value>,
) -> Result<Value, Error> {
    crate::generated::call_dynamic(client, operation, params, body).await
}

/// Every element of the list a paging operation answers (one marked in
/// [`OperationSpec::pages`](crate::spec::OperationSpec::pages)), page after
/// page, as JSON: the walk [`pages`](crate::pages) describes, with the
/// parameters of [`call`]. `pagination[page]` in `params` is the page to
/// start from, `pagination[limit]` the page size.
///
/// # Errors
///
/// An [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) when
/// no operation has that name or it does not page; the stream yields the
/// errors of each call.
pub fn items<'a>(
    client: &'a Client,
    operation: &str,
    params: &Map<String, Value>,
) -> Result<crate::pages::Items<'a, Value>, Error> {
    let spec = crate::spec::operation(operation).ok_or_else(|| unknown_operation(operation))?;
    let pages = spec.pages.ok_or_else(|| {
        Error::invalid_request(format!(
            "`{operation}` does not page: its answer is not a list with `pagination`"
        ))
    })?;
    let number = |name: &str| params.get(name).and_then(Value::as_u64);
    let (start, size) = (number(PAGE), number(LIMIT));
    let params = params.clone();
    let name = spec.rust_name;
    let walk = crate::pages::Pages::walk(
        start,
        size,
        move |page: &Value| {
            let len = page
                .get(pages.items)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let view = crate::pages::PageView::holding(len);
            let at = |field: &str| {
                page.get("pagination")
                    .and_then(|p| p.get(field))
                    .and_then(Value::as_u64)
            };
            match (at("page"), at("limit"), at("total")) {
                (Some(page), Some(limit), Some(total)) => view.position(page, limit, total),
                _ => view,
            }
        },
        move |page, limit| {
            let mut params = params.clone();
            params.insert(PAGE.to_string(), Value::from(page));
            params.insert(LIMIT.to_string(), Value::from(limit));
            async move { call(client, name, &params, None).await }
        },
    );
    Ok(crate::pages::Items::new(
        walk,
        move |mut page: Value| match page.get_mut(pages.items).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        move |item: &Value| {
            let key = item.get(pages.key?)?;
            Some(key.as_str().map_or_else(|| key.to_string(), str::to_string))
        },
    ))
}

/// The query parameters of a paging operation (see [`crate::pages`]).
const PAGE: &str = "pagination[page]";
const LIMIT: &str = "pagination[limit]";

/// The value of parameter `name` as the type its setter takes.
pub(crate) fn argument<T: DeserializeOwned>(
    operation: &'static str,
    name: &str,
    value: &Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let at = at_path(&e.path().to_string());
        Error::invalid_request(format!(
            "parameter `{name}` takes {}{at}: {}",
            short_type_name::<T>(),
            e.inner()
        ))
        .for_operation(operation)
    })
}

/// The request body as the type the `body` setter takes.
pub(crate) fn body<T: DeserializeOwned>(
    operation: &'static str,
    value: &Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let at = at_path(&e.path().to_string());
        Error::invalid_request(format!(
            "the request body is not a valid {}{at}: {}",
            short_type_name::<T>(),
            e.inner()
        ))
        .for_operation(operation)
    })
}

/// ` at `path`` for a path inside a value, nothing for the value itself.
fn at_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}

/// A decoded response as JSON.
pub(crate) fn response<T: Serialize>(operation: &'static str, value: T) -> Result<Value, Error> {
    serde_json::to_value(&value).map_err(|e| {
        Error::decode(format!(
            "the response decoded as {} but cannot be written as JSON: {e}",
            short_type_name::<T>()
        ))
        .for_operation(operation)
    })
}

/// A parameter the operation does not have, with what it does take.
pub(crate) fn unknown_parameter(operation: &'static str, name: &str) -> Error {
    let mut message = format!("no parameter `{name}`");
    if let Some(spec) = crate::spec::operation(operation) {
        if spec.cookies.iter().any(|c| c.name == name) {
            message.push_str(
                " among the arguments: it is a cookie, which the client sends from `Client::with_cookies`",
            );
        } else if name == "body" && spec.body.is_some() {
            message.push_str(": the request body is the separate `body` argument");
        } else if let Some(setter) = spec.parameters.iter().find(|p| p.setter == name) {
            message.push_str(&format!(
                ": parameters go by their wire name, `{}` here",
                setter.name
            ));
        } else if spec.parameters.is_empty() {
            message.push_str(": the operation takes no parameters");
        } else {
            let names: Vec<String> = spec
                .parameters
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect();
            message.push_str(&format!(": the parameters are {}", names.join(", ")));
        }
    }
    Error::invalid_request(message).for_operation(operation)
}

/// A request body for an operation without one.
pub(crate) fn unexpected_body(operation: &'static str) -> Error {
    Error::invalid_request("the operation takes no request body").for_operation(operation)
}

/// An operation whose response is a byte stream, which has no JSON value.
#[allow(
    dead_code,
    reason = "called by the generated dispatch only for documents with a streaming operation"
)]
pub(crate) fn streaming(operation: &'static str) -> Error {
    Error::invalid_request(
        "the operation streams its response, which a dynamic call cannot return as JSON; use its builder",
    )
    .for_operation(operation)
}

/// A name that is no operation's method name.
pub(crate) fn unknown_operation(name: &str) -> Error {
    let hint = crate::spec::operations()
        .iter()
        .find(|op| op.operation_id == name || op.rust_name.eq_ignore_ascii_case(name))
        .map(|op| format!("; did you mean `{}`?", op.rust_name))
        .unwrap_or_else(|| "; `probe_api::spec::operations()` lists them".to_string());
    Error::invalid_request(format!("no operation is named `{name}`{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn arguments_name_the_parameter_the_type_and_the_place() {
        let error = argument::<Vec<u32>>("get_file", "ids", &serde_json::json!([1, "two"]))
            .expect_err("a string is not a u32");
        assert_eq!(error.kind(), ErrorKind::InvalidRequest);
        let text = error.to_string();
        assert!(text.starts_with("get_file: "), "{text}");
        assert!(
            text.contains("parameter `ids` takes Vec<u32> at `[1]`"),
            "{text}"
        );
        assert!(text.contains("invalid type: string"), "{text}");
        let ok: Vec<u32> =
            argument("get_file", "ids", &serde_json::json!([1, 2])).expect("decodes");
        assert_eq!(ok, [1, 2]);
    }

    #[test]
    fn unknown_parameters_point_to_the_wire_name() {
        let text = unknown_parameter("get_file", "ffprobe_show_streams").to_string();
        assert!(text.contains("`ffprobe[show_streams]`"), "{text}");
        let text = unknown_parameter("get_sessions", "x").to_string();
        assert!(text.contains("takes no parameters"), "{text}");
    }

    #[test]
    fn unknown_operations_suggest_the_method_name() {
        let text = unknown_operation("routes/auth.GetSession").to_string();
        assert!(text.contains("did you mean `get_session`"), "{text}");
        let text = unknown_operation("nope").to_string();
        assert!(text.contains("no operation is named `nope`"), "{text}");
    }
}
