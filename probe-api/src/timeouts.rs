//! Request timeouts that fit the analysis a request asks the server for.
//!
//! A media probe may legitimately take as long as its `timeout` (analysis)
//! plus its `queue_timeout` (waiting for a worker), both in milliseconds
//! and defaulting to 65 s and 60 s for files, 650 s and 600 s for
//! MediaStreamValidator. The client must never give up before the server
//! does, so the request timeout of a media operation is derived from the
//! values the request itself carries.
//!
//! Under a deadline ([`Client::with_deadline`](crate::Client::with_deadline))
//! the rule turns around: the call may take no longer than the time left,
//! so the analysis it asks for must fit in it. A media request that does
//! not set `timeout` and `queue_timeout` is sent with values that fit the
//! time left at each attempt ([`fit_to_deadline`]): the time left minus
//! a margin for the network (a fifth of it, between 0.2 s and
//! [`ANALYSIS_MARGIN`]), split between the two in the proportion of the
//! document's defaults. Values the caller set are kept; when they cannot
//! fit, the call is refused before anything is sent.

use std::borrow::Cow;
use std::time::Duration;

use crate::spec::OperationSpec;

/// The request timeout of operations that do not analyse media, and the
/// least any request gets.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Time added to what a media request asks the server to allow, for the
/// network and for writing the response.
pub const ANALYSIS_MARGIN: Duration = Duration::from_secs(15);

// Hidden from the docs: the client applies it to every request, and users
// set timeouts on the builder; tests and the benches call it to compare a
// hand-written request with the SDK's on equal terms.
#[doc(hidden)]
/// The timeout for `request` to operation `spec`: for media operations the
/// `timeout` plus `queue_timeout` the request asks for (the document's
/// defaults when it does not say) plus [`ANALYSIS_MARGIN`]; never less than
/// `floor`.
#[inline]
pub fn request_timeout(
    spec: Option<&OperationSpec>,
    request: &reqwest::Request,
    floor: Duration,
) -> Duration {
    let Some(spec) = spec else {
        return floor;
    };
    if spec.timeout_default_ms.is_none() && spec.queue_timeout_default_ms.is_none() {
        return floor;
    }
    let (timeout, queue_timeout) = requested_ms(request);
    let analysis = timeout
        .or(spec.timeout_default_ms)
        .unwrap_or(0)
        .saturating_add(queue_timeout.or(spec.queue_timeout_default_ms).unwrap_or(0));
    Duration::from_millis(analysis)
        .saturating_add(ANALYSIS_MARGIN)
        .max(floor)
}

/// The least time kept out of a deadline for the network and for writing
/// the answer, when the SDK chooses the analysis time.
pub const DEADLINE_MARGIN_MIN: Duration = Duration::from_millis(200);

/// The `timeout` and `queue_timeout` (milliseconds) to add to a media
/// `request` of operation `spec` so that the analysis fits in `left`:
/// `None` for a value the caller set, or for an operation that asks for
/// no analysis time.
///
/// # Errors
///
/// A message saying why the values the caller set cannot fit in `left`.
pub fn fit_to_deadline(
    spec: Option<&OperationSpec>,
    request: &reqwest::Request,
    left: Duration,
) -> Result<(Option<u64>, Option<u64>), String> {
    fit_analysis(spec, request, left, "the deadline leaves")
}

/// [`fit_to_deadline`] for a limit named by `limit` in its messages ("the
/// deadline leaves", "the client's timeout allows").
pub(crate) fn fit_analysis(
    spec: Option<&OperationSpec>,
    request: &reqwest::Request,
    left: Duration,
    limit: &str,
) -> Result<(Option<u64>, Option<u64>), String> {
    let Some(spec) = spec else {
        return Ok((None, None));
    };
    let (Some(timeout_default), Some(queue_default)) =
        (spec.timeout_default_ms, spec.queue_timeout_default_ms)
    else {
        return Ok((None, None));
    };
    let margin = (left / 5).clamp(DEADLINE_MARGIN_MIN, ANALYSIS_MARGIN);
    let budget = left.saturating_sub(margin).as_millis() as u64;
    let name = spec.rust_name;
    match requested_ms(request) {
        (Some(timeout), Some(queue)) => {
            if timeout.saturating_add(queue) > left.as_millis() as u64 {
                return Err(format!(
                    "{name} asks the server for up to {} (timeout {timeout} ms + queue_timeout {queue} ms), more than the {} {limit}; lower them, or leave them unset for the SDK to fit them, or allow more time",
                    millis(timeout.saturating_add(queue)),
                    millis(left.as_millis() as u64),
                ));
            }
            Ok((None, None))
        }
        (Some(set), None) | (None, Some(set)) => {
            let which = if requested_ms(request).0.is_some() {
                "timeout"
            } else {
                "queue_timeout"
            };
            let rest = budget.checked_sub(set).filter(|rest| *rest > 0).ok_or_else(|| {
                format!(
                    "{name} sets {which} to {set} ms, which leaves no time for the other within the {} {limit}; lower it or allow more time",
                    millis(left.as_millis() as u64),
                )
            })?;
            Ok(if which == "timeout" {
                (None, Some(rest))
            } else {
                (Some(rest), None)
            })
        }
        (None, None) => {
            if budget == 0 {
                return Err(format!(
                    "{name}: the {} {limit} is too short to ask the server for any analysis",
                    millis(left.as_millis() as u64),
                ));
            }
            let total = timeout_default.saturating_add(queue_default).max(1);
            let queue = (budget as u128 * queue_default as u128 / total as u128) as u64;
            Ok((Some(budget - queue), Some(queue)))
        }
    }
}

/// Sets the `timeout` and `queue_timeout` chosen by [`fit_to_deadline`] on
/// the request: in its query when the operation takes them there, else in
/// its JSON or form body.
pub(crate) fn apply_fitted(
    spec: Option<&OperationSpec>,
    request: &mut reqwest::Request,
    fitted: (Option<u64>, Option<u64>),
) {
    let pairs: Vec<(&str, u64)> = [("timeout", fitted.0), ("queue_timeout", fitted.1)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect();
    if pairs.is_empty() {
        return;
    }
    let in_query = spec.is_some_and(|spec| {
        spec.parameters
            .iter()
            .any(|p| p.name == "timeout" && p.location == crate::spec::ParameterLocation::Query)
    });
    if !in_query && let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
        if body.trim_ascii_start().starts_with(b"{") {
            if let Ok(serde_json::Value::Object(mut object)) =
                serde_json::from_slice::<serde_json::Value>(body)
            {
                for (name, value) in &pairs {
                    object.insert((*name).to_string(), (*value).into());
                }
                if let Ok(bytes) = serde_json::to_vec(&object) {
                    *request.body_mut() = Some(bytes.into());
                    return;
                }
            }
        } else {
            let mut bytes = body.to_vec();
            for (name, value) in &pairs {
                if !bytes.is_empty() {
                    bytes.push(b'&');
                }
                bytes.extend_from_slice(format!("{name}={value}").as_bytes());
            }
            *request.body_mut() = Some(bytes.into());
            return;
        }
    }
    let mut query = request.url_mut().query_pairs_mut();
    for (name, value) in &pairs {
        query.append_pair(name, &value.to_string());
    }
}

fn millis(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The `timeout` and `queue_timeout` (milliseconds) the request sets, in
/// its query or, for one the query does not set, its JSON body. The query
/// is read once, decoding only the names that could match; the body is
/// read for those two fields only.
fn requested_ms(request: &reqwest::Request) -> (Option<u64>, Option<u64>) {
    let (mut timeout, mut queue_timeout) = (None, None);
    if let Some(query) = request.url().query() {
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            // Decoding shortens a key by two bytes per `%XX` at most, so a
            // key that cannot come out 7 or 13 bytes long is not decoded.
            let escapes = key.bytes().filter(|b| *b == b'%').count();
            let shortest = key.len().saturating_sub(2 * escapes);
            if ![7, 13].iter().any(|n| (shortest..=key.len()).contains(n)) {
                continue;
            }
            let slot = match decoded(key).as_ref() {
                "timeout" => &mut timeout,
                "queue_timeout" => &mut queue_timeout,
                _ => continue,
            };
            // The first occurrence counts, as a lookup in the pairs would.
            if slot.is_none() {
                *slot = Some(decoded(value).parse().ok());
            }
        }
    }
    let (mut timeout, mut queue_timeout) = (timeout.flatten(), queue_timeout.flatten());
    if (timeout.is_none() || queue_timeout.is_none())
        && let Some(body) = request.body().and_then(reqwest::Body::as_bytes)
        && body.trim_ascii_start().starts_with(b"{")
        && let Ok(asked) = serde_json::from_slice::<Asked>(body)
    {
        timeout = timeout.or(asked.timeout.as_ref().and_then(serde_json::Value::as_u64));
        queue_timeout = queue_timeout.or(asked
            .queue_timeout
            .as_ref()
            .and_then(serde_json::Value::as_u64));
    }
    (timeout, queue_timeout)
}

/// The two fields of a JSON request body that ask for analysis time; any
/// other field is skipped without being built.
#[derive(serde::Deserialize)]
struct Asked {
    timeout: Option<serde_json::Value>,
    queue_timeout: Option<serde_json::Value>,
}

/// A query component, form-decoded (`+` is a space, `%XX` a byte, invalid
/// UTF-8 replaced) only when it has any of those.
fn decoded(component: &str) -> Cow<'_, str> {
    if !component.contains(['%', '+']) {
        return Cow::Borrowed(component);
    }
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, body: Option<&str>) -> reqwest::Request {
        let mut request = reqwest::Request::new(
            reqwest::Method::POST,
            reqwest::Url::parse(url).expect("url"),
        );
        if let Some(body) = body {
            *request.body_mut() = Some(body.to_string().into());
        }
        request
    }

    #[test]
    fn the_query_is_read_once_with_its_first_value_and_decoded_names() {
        let r = request(
            "https://h/p?url=https%3A%2F%2Fm%2Fa.mp4&time%6Fut=5&timeout=9&queue_timeout=x",
            None,
        );
        assert_eq!(requested_ms(&r), (Some(5), None));
        // Names that decode to the two, whatever their escapes, and
        // bracketed names of the same length that do not.
        let r = request(
            "https://h/p?ffprobe%5Btimeout%5D=1&%71ueue%5Ftimeout=8&%74%69%6D%65%6F%75%74=6",
            None,
        );
        assert_eq!(requested_ms(&r), (Some(6), Some(8)));
    }

    #[test]
    fn the_body_fills_in_what_the_query_does_not_set() {
        let r = request(
            "https://h/p?timeout=1",
            Some(r#"{"timeout": 7, "url": "u", "queue_timeout": 8, "nested": {"timeout": 3}}"#),
        );
        assert_eq!(requested_ms(&r), (Some(1), Some(8)));
        let r = request(
            "https://h/p",
            Some(r#"{"timeout": "7", "queue_timeout": 8}"#),
        );
        assert_eq!(requested_ms(&r), (None, Some(8)));
        let r = request("https://h/p", Some("[1, 2]"));
        assert_eq!(requested_ms(&r), (None, None));
    }

    #[test]
    fn under_a_deadline_unset_analysis_times_fit_and_set_ones_are_checked() {
        let spec = crate::spec::operation("get_file");
        let left = Duration::from_secs(5);
        let r = request("https://h/v1/probe/file?url=a", None);
        // 5 s less a 1 s margin, split 65:60 as the defaults are.
        let fitted = fit_to_deadline(spec, &r, left).expect("fits");
        assert_eq!(fitted, (Some(2080), Some(1920)));
        let mut r = r;
        apply_fitted(spec, &mut r, fitted);
        assert_eq!(requested_ms(&r), (Some(2080), Some(1920)));

        let r = request("https://h/v1/probe/file?url=a&timeout=3000", None);
        assert_eq!(fit_to_deadline(spec, &r, left), Ok((None, Some(1000))));
        let r = request(
            "https://h/v1/probe/file?url=a&timeout=3000&queue_timeout=1000",
            None,
        );
        assert_eq!(fit_to_deadline(spec, &r, left), Ok((None, None)));
        let r = request(
            "https://h/v1/probe/file?url=a&timeout=65000&queue_timeout=60000",
            None,
        );
        let refused = fit_to_deadline(spec, &r, left).expect_err("cannot fit");
        assert!(
            refused.contains("more than the 5.0 s the deadline leaves"),
            "{refused}"
        );
        let r = request("https://h/v1/probe/file?url=a&queue_timeout=4000", None);
        assert!(fit_to_deadline(spec, &r, left).is_err());
        // Operations that analyse nothing are left alone.
        let r = request("https://h/frontend/api/v1/auth/session", None);
        assert_eq!(
            fit_to_deadline(crate::spec::operation("get_sessions"), &r, left),
            Ok((None, None))
        );
    }

    #[test]
    fn a_json_body_gets_the_fitted_times_when_the_query_takes_none() {
        let spec = crate::spec::operation("post_file");
        let mut r = request("https://h/v1/probe/file", Some(r#"{"url": "a"}"#));
        let fitted = fit_to_deadline(spec, &r, Duration::from_secs(10)).expect("fits");
        apply_fitted(spec, &mut r, fitted);
        assert_eq!(r.url().query(), None);
        let (timeout, queue) = requested_ms(&r);
        assert_eq!(timeout.zip(queue).map(|(t, q)| t + q), Some(8000));
    }

    #[test]
    fn form_decoding_handles_plus_escapes_and_stray_percents() {
        assert_eq!(decoded("a+b%2Fc"), "a b/c");
        assert_eq!(decoded("100%"), "100%");
        assert_eq!(decoded("%zz"), "%zz");
        assert!(matches!(decoded("plain"), Cow::Borrowed("plain")));
    }
}
