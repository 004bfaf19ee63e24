//! Request timeouts that fit the analysis a request asks the server for.
//!
//! A media probe may legitimately take as long as its `timeout` (analysis)
//! plus its `queue_timeout` (waiting for a worker), both in milliseconds
//! and defaulting to 65 s and 60 s for files, 650 s and 600 s for
//! MediaStreamValidator. The client must never give up before the server
//! does, so the request timeout of a media operation is derived from the
//! values the request itself carries.

use std::time::Duration;

use crate::spec::OperationSpec;

/// The request timeout of operations that do not analyse media, and the
/// least any request gets.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Time added to what a media request asks the server to allow, for the
/// network and for writing the response.
pub const ANALYSIS_MARGIN: Duration = Duration::from_secs(15);

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
    let asked =
        |name: &str, default: Option<u64>| requested_ms(request, name).or(default).unwrap_or(0);
    let analysis = asked("timeout", spec.timeout_default_ms)
        .saturating_add(asked("queue_timeout", spec.queue_timeout_default_ms));
    Duration::from_millis(analysis)
        .saturating_add(ANALYSIS_MARGIN)
        .max(floor)
}

/// A millisecond value the request sets, in its query or its JSON body.
fn requested_ms(request: &reqwest::Request, name: &str) -> Option<u64> {
    let from_query = request
        .url()
        .query_pairs()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok());
    from_query.or_else(|| {
        let body = request.body()?.as_bytes()?;
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        value.get(name)?.as_u64()
    })
}
