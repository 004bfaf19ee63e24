//! What lets a test aim the mock at one case: faults applied to an
//! operation's next request or to a media URL's, the API's 404 for media
//! the mock does not know, and a request id on every answer.

use super::handlers::{Outcome, error_outcome, reason};
use super::request::{Checked, Route};
use super::{Fault, Shared, lock};

/// The operations that analyse the media at a `url`.
const MEDIA_OPERATIONS: [&str; 6] = [
    "get_file",
    "post_file",
    "get_media_stream_validator",
    "post_media_stream_validator",
    "get_c2pa",
    "post_c2pa",
];

/// The answer a test aimed at the media URL of a checked media request:
/// the next fault queued for the URL (`MockServer::inject_for_url`), the
/// fault its fixture always answers with (`MediaFixture::failing`), or
/// the API's 404 for a URL the mock does not know when asked for
/// (`MockServer::set_unknown_media`); `None` to answer normally.
pub(crate) async fn aimed_at_url(
    shared: &Shared,
    route: &Route,
    checked: &Checked,
) -> Option<Outcome> {
    use std::sync::atomic::Ordering;
    if !MEDIA_OPERATIONS.contains(&route.operation) {
        return None;
    }
    let url = checked.str("url")?;
    let queued = lock(&shared.url_faults)
        .get_mut(url)
        .and_then(|queue| queue.pop_front());
    let fixture = lock(&shared.media).get(url).cloned();
    let fault = queued.or_else(|| fixture.as_ref().and_then(|f| f.fault.clone()));
    if fault.is_some() {
        return apply_fault(shared, route, fault).await;
    }
    if fixture.is_none() && shared.unknown_media_404.load(Ordering::SeqCst) {
        return Some(error_outcome(
            shared,
            route,
            404,
            &format!("no media at {url}"),
        ));
    }
    None
}

/// Sets `x-request-id` on an answer that has none, fault answers included,
/// as the API does on every answer.
pub(crate) fn with_request_id(shared: &Shared, outcome: &mut Outcome) {
    use std::sync::atomic::Ordering;
    let Outcome::Respond { headers, .. } = outcome else {
        return;
    };
    if headers.iter().any(|(name, _)| *name == "x-request-id") {
        return;
    }
    let n = shared.request_ids.fetch_add(1, Ordering::SeqCst) + 1;
    // UUID-shaped, as the API's ids are, and deterministic: "mock" and a count.
    let id = uuid::Uuid::from_u128(0x6d6f_636b_0000_4000_8000_0000_0000_0000 | u128::from(n));
    headers.push(("x-request-id", id.to_string()));
}

/// The answer `fault` makes, after its delay; `None` to answer normally.
pub(crate) async fn apply_fault(
    shared: &Shared,
    route: &Route,
    fault: Option<Fault>,
) -> Option<Outcome> {
    match fault {
        Some(Fault::Delay(wait)) => tokio::time::sleep(wait).await,
        Some(Fault::DropConnection) => return Some(Outcome::Drop),
        Some(Fault::MalformedBody) => {
            return Some(Outcome::Respond {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: br#"{"success": true, "ffprobe": {"response": {"streams": [{"index": 0, "codec_"#
                    .to_vec(),
            });
        }
        Some(Fault::Html(status)) => {
            return Some(Outcome::Respond {
                status,
                headers: vec![("content-type", "text/html".into())],
                body: format!(
                    "<html>\r\n<head><title>{status} {}</title></head>\r\n<body>\r\n<center><h1>{status} {}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                    reason(status),
                    reason(status)
                )
                .into_bytes(),
            });
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut outcome = error_outcome(shared, route, status, "fault injected by the mock");
            if let (Some(value), Outcome::Respond { headers, .. }) = (retry_after, &mut outcome) {
                headers.push(("retry-after", value));
            }
            return Some(outcome);
        }
        None => {}
    }
    None
}
