//! Metrics of calls and batches, recorded through the [`metrics`] facade
//! when the `metrics` feature is on; without it every function here is
//! empty and compiles away.
//!
//! The facade, not OpenTelemetry's API: it is one small crate with no
//! runtime, costs a relaxed atomic load per record when no recorder is
//! installed, and exporters exist for Prometheus
//! (`metrics-exporter-prometheus`), StatsD and OpenTelemetry itself
//! (`metrics-exporter-opentelemetry`), so an application picks its
//! pipeline and the SDK does not. Names follow Prometheus conventions
//! (`_total` counters, `_seconds` and `_bytes` units); labels hold only
//! bounded values: the operation's method name, an outcome, a retry
//! reason. The user guide's table lists every metric.

use std::time::Duration;

/// Calls finished, by `operation` and `outcome`.
pub const CALLS: &str = "probe_api_calls_total";
/// A call's whole time, retries included, by `operation` and `outcome`.
pub const CALL_DURATION: &str = "probe_api_call_duration_seconds";
/// Attempts sent, by `operation`.
pub const ATTEMPTS: &str = "probe_api_attempts_total";
/// Retries made, by `operation` and `reason`.
pub const RETRIES: &str = "probe_api_retries_total";
/// Time from sending an attempt to its status line, by `operation`.
pub const RESPONSE_LATENCY: &str = "probe_api_response_latency_seconds";
/// Response body bytes read (after decompression), by `operation`.
pub const RESPONSE_BYTES: &str = "probe_api_response_bytes_total";
/// Probes a limiter has in flight.
pub const LIMITER_IN_FLIGHT: &str = "probe_api_limiter_in_flight";
/// A limiter's current limit of probes in flight.
pub const LIMITER_LIMIT: &str = "probe_api_limiter_limit";
/// Answers a limiter saw refusing work for load (429, 503, 504).
pub const LIMITER_REFUSALS: &str = "probe_api_limiter_refusals_total";
/// Pauses of every request of a limiter (a service refusing everything).
pub const LIMITER_PAUSES: &str = "probe_api_limiter_pauses_total";
/// Batch items finished, by `outcome` (`done`, `failed`).
pub const BATCH_PROBES: &str = "probe_api_batch_probes_total";
/// Analysis time the API reports using for a batch's probes (the tools'
/// `duration`), in milliseconds, as the API reports it (a counter of whole
/// units, which the facade's counters are).
pub const BATCH_ANALYSIS: &str = "probe_api_batch_analysis_milliseconds_total";

/// How a call ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A 2xx answer.
    Success,
    /// A 4xx answer.
    ClientError,
    /// A 5xx answer, or another status.
    ServerError,
    /// No answer within the time allowed.
    Timeout,
    /// The connection failed.
    Transport,
}

impl Outcome {
    /// The outcome of an answer with `status`.
    pub(crate) fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Success,
            400..=499 => Outcome::ClientError,
            _ => Outcome::ServerError,
        }
    }

    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
            Outcome::Timeout => "timeout",
            Outcome::Transport => "transport",
        }
    }
}

/// An attempt of `operation` was sent.
#[inline]
pub(crate) fn attempt(operation: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(ATTEMPTS, "operation" => operation).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = operation;
}

/// A retry of `operation` for `reason` (a bounded word: `status_503`,
/// `stalled_body`, `connect`...).
pub(crate) fn retry(operation: &'static str, reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(RETRIES, "operation" => operation, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, reason);
}

/// A status line of `operation` arrived `latency` after its attempt began.
#[inline]
pub(crate) fn response_head(operation: &'static str, latency: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(RESPONSE_LATENCY, "operation" => operation).record(latency);
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, latency);
}

/// `bytes` of an answer's body to `operation` were read.
#[inline]
pub(crate) fn response_bytes(operation: &'static str, bytes: usize) {
    #[cfg(feature = "metrics")]
    metrics::counter!(RESPONSE_BYTES, "operation" => operation).increment(bytes as u64);
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, bytes);
}

/// A call of `operation` ended with `outcome` after `duration`.
#[inline]
pub(crate) fn call(operation: &'static str, outcome: Outcome, duration: Duration) {
    #[cfg(feature = "metrics")]
    {
        let outcome = outcome.label();
        metrics::counter!(CALLS, "operation" => operation, "outcome" => outcome).increment(1);
        metrics::histogram!(CALL_DURATION, "operation" => operation, "outcome" => outcome)
            .record(duration);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, outcome, duration);
}

/// A limiter now has `in_flight` probes out of a limit of `limit`.
pub(crate) fn limiter_state(in_flight: usize, limit: usize) {
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!(LIMITER_IN_FLIGHT).set(in_flight as f64);
        metrics::gauge!(LIMITER_LIMIT).set(limit as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (in_flight, limit);
}

/// A limiter saw an answer refusing work for load.
pub(crate) fn limiter_refusal() {
    #[cfg(feature = "metrics")]
    metrics::counter!(LIMITER_REFUSALS).increment(1);
}

/// A limiter paused every request.
pub(crate) fn limiter_pause() {
    #[cfg(feature = "metrics")]
    metrics::counter!(LIMITER_PAUSES).increment(1);
}

/// A batch item finished: `done` or failed, with the analysis time the API
/// reports using for it.
pub(crate) fn batch_probe(done: bool, analysis: Option<Duration>) {
    #[cfg(feature = "metrics")]
    {
        let outcome = if done { "done" } else { "failed" };
        metrics::counter!(BATCH_PROBES, "outcome" => outcome).increment(1);
        if let Some(analysis) = analysis {
            metrics::counter!(BATCH_ANALYSIS).increment(analysis.as_millis() as u64);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (done, analysis);
}
