//! Request timeouts that fit the analysis a request asks the server for.
//!
//! A media probe may legitimately take as long as its `timeout` (analysis)
//! plus its `queue_timeout` (waiting for a worker), both in milliseconds
//! and defaulting to 65 s and 60 s for files, 650 s and 600 s for
//! MediaStreamValidator. The client must never give up before the server
//! does, so the request timeout of a media operation is derived from the
//! [`Analysis`] the request asks for, which the generated `send()` hands the
//! transport as the typed values its builder holds.
//!
//! Under a deadline ([`Client::with_deadline`](crate::Client::with_deadline))
//! the rule turns around: the call may take no longer than the time left,
//! so the analysis it asks for must fit in it. A media request that does
//! not set `timeout` and `queue_timeout` is sent with values that fit the
//! time left at each attempt ([`fit_analysis`]): the time left minus
//! a margin for the network (a fifth of it, between 0.2 s and
//! [`ANALYSIS_MARGIN`]), split between the two in the proportion of the
//! document's defaults. Values the caller set are kept; when they cannot
//! fit, the call is refused before anything is sent.

use std::time::Duration;

use crate::spec::OperationSpec;

/// The request timeout of operations that do not analyse media, and the
/// least any request gets.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Time added to what a media request asks the server to allow, for the
/// network and for writing the response.
pub const ANALYSIS_MARGIN: Duration = Duration::from_secs(15);

/// The least time kept out of a deadline for the network and for writing
/// the answer, when the SDK chooses the analysis time.
pub const DEADLINE_MARGIN_MIN: Duration = Duration::from_millis(200);

/// The analysis time a media request asks the server for, in
/// milliseconds: its `timeout` (analysis) and `queue_timeout` (waiting for
/// a worker). `None` leaves the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Analysis {
    /// The `timeout` parameter, in milliseconds.
    pub timeout: Option<u64>,
    /// The `queue_timeout` parameter, in milliseconds.
    pub queue_timeout: Option<u64>,
}

impl Analysis {
    /// A request that asks for no analysis time of its own.
    pub const NONE: Analysis = Analysis {
        timeout: None,
        queue_timeout: None,
    };

    /// What a builder's `timeout` and `queue_timeout` ask for (an optional
    /// query parameter, or a body field). A negative value asks for nothing
    /// the SDK can fit: it is sent as the caller set it.
    pub(crate) fn asked(
        timeout: impl Into<Option<i64>>,
        queue_timeout: impl Into<Option<i64>>,
    ) -> Analysis {
        let ms = |value: Option<i64>| value.and_then(|v| u64::try_from(v).ok());
        Analysis {
            timeout: ms(timeout.into()),
            queue_timeout: ms(queue_timeout.into()),
        }
    }

    /// The time the server may take: both values, each the operation's
    /// default where unset.
    fn total_ms(self, spec: &OperationSpec) -> u64 {
        self.timeout
            .or(spec.timeout_default_ms)
            .unwrap_or(0)
            .saturating_add(
                self.queue_timeout
                    .or(spec.queue_timeout_default_ms)
                    .unwrap_or(0),
            )
    }
}

/// The timeout of a request to operation `spec` that asks for `analysis`,
/// when the caller bounded neither the call nor its attempts: for a media
/// operation, the analysis it asks for (the document's defaults where it
/// does not say) plus [`ANALYSIS_MARGIN`]; never less than `floor`.
pub fn request_timeout(
    spec: Option<&OperationSpec>,
    analysis: Analysis,
    floor: Duration,
) -> Duration {
    match spec {
        Some(spec) if is_media(spec) => Duration::from_millis(analysis.total_ms(spec))
            .saturating_add(ANALYSIS_MARGIN)
            .max(floor),
        _ => floor,
    }
}

/// Whether the operation asks the server for analysis time.
fn is_media(spec: &OperationSpec) -> bool {
    spec.timeout_default_ms.is_some() || spec.queue_timeout_default_ms.is_some()
}

/// The analysis a media request of operation `spec` is sent with when an
/// attempt may take at most `left`: the values the caller set, kept, and
/// those it left unset chosen to fit what remains. `limit` names the bound
/// in messages ("the deadline leaves", "the client's timeout allows"). An
/// operation that asks for no analysis time gets `asked` back.
///
/// # Errors
///
/// A message saying why the values the caller set cannot fit in `left`.
pub fn fit_analysis(
    spec: Option<&OperationSpec>,
    asked: Analysis,
    left: Duration,
    limit: &str,
) -> Result<Analysis, String> {
    let Some(spec) = spec else {
        return Ok(asked);
    };
    let (Some(timeout_default), Some(queue_default)) =
        (spec.timeout_default_ms, spec.queue_timeout_default_ms)
    else {
        return Ok(asked);
    };
    let margin = (left / 5).clamp(DEADLINE_MARGIN_MIN, ANALYSIS_MARGIN);
    let budget = left.saturating_sub(margin).as_millis() as u64;
    let left_ms = left.as_millis() as u64;
    let name = spec.rust_name;
    match (asked.timeout, asked.queue_timeout) {
        (Some(timeout), Some(queue)) => {
            let total = timeout.saturating_add(queue);
            if total > left_ms {
                return Err(format!(
                    "{name} asks the server for up to {} (timeout {timeout} ms + queue_timeout {queue} ms), more than the {} {limit}; lower them, or leave them unset for the SDK to fit them, or allow more time",
                    seconds_of(total),
                    seconds_of(left_ms),
                ));
            }
            Ok(asked)
        }
        (Some(set), None) | (None, Some(set)) => {
            let which = if asked.timeout.is_some() {
                "timeout"
            } else {
                "queue_timeout"
            };
            let rest = budget.checked_sub(set).filter(|rest| *rest > 0).ok_or_else(|| {
                format!(
                    "{name} sets {which} to {set} ms, which leaves no time for the other within the {} {limit}; lower it or allow more time",
                    seconds_of(left_ms),
                )
            })?;
            Ok(Analysis {
                timeout: Some(asked.timeout.unwrap_or(rest)),
                queue_timeout: Some(asked.queue_timeout.unwrap_or(rest)),
            })
        }
        (None, None) => {
            if budget == 0 {
                return Err(format!(
                    "{name}: the {} {limit} is too short to ask the server for any analysis",
                    seconds_of(left_ms),
                ));
            }
            // Split in the proportion of the document's defaults.
            let total = timeout_default.saturating_add(queue_default).max(1);
            let queue = (budget as u128 * queue_default as u128 / total as u128) as u64;
            Ok(Analysis {
                timeout: Some(budget - queue),
                queue_timeout: Some(queue),
            })
        }
    }
}

/// Milliseconds as seconds with one decimal, for messages.
fn seconds_of(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(timeout: Option<u64>, queue_timeout: Option<u64>) -> Analysis {
        Analysis {
            timeout,
            queue_timeout,
        }
    }

    #[test]
    fn a_media_request_waits_for_the_analysis_it_asks_for() {
        let spec = crate::spec::operation("get_file");
        let floor = DEFAULT_TIMEOUT;
        // The document's defaults: 65 s + 60 s, plus the margin.
        assert_eq!(
            request_timeout(spec, Analysis::NONE, floor),
            Duration::from_secs(140)
        );
        assert_eq!(
            request_timeout(spec, asked(Some(1000), Some(2000)), floor),
            floor
        );
        assert_eq!(
            request_timeout(spec, asked(Some(100_000), None), floor),
            Duration::from_secs(175)
        );
        let sessions = crate::spec::operation("get_sessions");
        assert_eq!(
            request_timeout(sessions, asked(Some(999_999), None), floor),
            floor
        );
    }

    #[test]
    fn under_a_limit_unset_analysis_times_fit_and_set_ones_are_checked() {
        let spec = crate::spec::operation("get_file");
        let left = Duration::from_secs(5);
        let fit = |a| fit_analysis(spec, a, left, "the deadline leaves");
        // 5 s less a 1 s margin, split 65:60 as the defaults are.
        assert_eq!(fit(Analysis::NONE), Ok(asked(Some(2080), Some(1920))));
        assert_eq!(
            fit(asked(Some(3000), None)),
            Ok(asked(Some(3000), Some(1000)))
        );
        assert_eq!(
            fit(asked(None, Some(1000))),
            Ok(asked(Some(3000), Some(1000)))
        );
        assert_eq!(
            fit(asked(Some(3000), Some(1000))),
            Ok(asked(Some(3000), Some(1000)))
        );
        let refused = fit(asked(Some(65_000), Some(60_000))).expect_err("cannot fit");
        assert!(
            refused.contains("more than the 5.0 s the deadline leaves"),
            "{refused}"
        );
        assert!(fit(asked(None, Some(4000))).is_err());
        let refused = fit_analysis(
            spec,
            Analysis::NONE,
            Duration::from_millis(150),
            "the client's timeout allows",
        )
        .expect_err("no time for analysis");
        assert!(
            refused.contains("the 0.1 s the client's timeout allows"),
            "{refused}"
        );
        // Operations that analyse nothing are left alone.
        let sessions = crate::spec::operation("get_sessions");
        assert_eq!(
            fit_analysis(sessions, Analysis::NONE, left, "the deadline leaves"),
            Ok(Analysis::NONE)
        );
    }

    #[test]
    fn a_builder_value_becomes_milliseconds_and_a_negative_one_asks_nothing() {
        assert_eq!(Analysis::asked(Some(5), None), asked(Some(5), None));
        assert_eq!(Analysis::asked(7, 8), asked(Some(7), Some(8)));
        assert_eq!(Analysis::asked(-1, None), Analysis::NONE);
    }
}
