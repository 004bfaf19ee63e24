//! Request timeouts that fit the analysis a request asks the server for.
//!
//! A media probe may legitimately take as long as its `timeout` (analysis)
//! plus its `queue_timeout` (waiting for a worker), both in milliseconds
//! and defaulting to 65 s and 60 s for files, 650 s and 600 s for
//! MediaStreamValidator. The client must never give up before the server
//! does, so the request timeout of a media operation is derived from the
//! values the request itself carries.

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
    fn form_decoding_handles_plus_escapes_and_stray_percents() {
        assert_eq!(decoded("a+b%2Fc"), "a b/c");
        assert_eq!(decoded("100%"), "100%");
        assert_eq!(decoded("%zz"), "%zz");
        assert!(matches!(decoded("plain"), Cow::Borrowed("plain")));
    }
}
