//! When and how soon a failed request is sent again.
//!
//! Requests with idempotent methods (GET, PUT, DELETE, HEAD) are retried
//! after a connection failure or a 408, 429, 500, 502, 503 or 504 answer.
//! POST is retried only when the policy says so, because every media
//! analysis is billed. The wait before retry `n` (counting from 1) is a
//! random duration between zero and `min(max_backoff, initial_backoff *
//! 2^(n-1))` ("full jitter"), or exactly what the server's `Retry-After`
//! asks for when it asks. A `Retry-After` longer than
//! [`max_retry_after`](RetryPolicy::max_retry_after) ends the retries: the
//! error reports the hint so the caller can schedule the call later.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How failed requests are retried. The default makes at most 2 retries.
///
/// ```
/// use std::time::Duration;
/// use probe_api::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_retries(4)
///     .with_initial_backoff(Duration::from_millis(200))
///     .with_retry_non_idempotent(false);
/// assert_eq!(policy.max_retries(), 4);
/// assert_eq!(policy.initial_backoff(), Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
}

/// The number of retries a client makes by default.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy::default().with_max_retries(0)
    }

    /// At most this many retries after the first attempt.
    #[must_use]
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The upper bound of the first wait; each retry doubles it.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The most any computed wait can be.
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends
    /// the retries and is reported on the error.
    #[must_use]
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Also retry POST requests. Off by default: a POST of a media probe
    /// that reached the server is billed again when it is sent again.
    #[must_use]
    pub fn with_retry_non_idempotent(mut self, retry: bool) -> Self {
        self.retry_non_idempotent = retry;
        self
    }

    /// The most retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The upper bound of the first wait.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The most any computed wait can be.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest `Retry-After` the client waits for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether POST requests are retried too.
    pub fn retry_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// Whether requests with `method` may be sent again under this policy.
    pub(crate) fn allows(&self, method: &reqwest::Method) -> bool {
        self.max_retries > 0 && (is_idempotent(method) || self.retry_non_idempotent)
    }

    /// The wait before retry number `retry` (1 for the first), for a random
    /// `unit` in `[0, 1)`, unless the server asked for `retry_after`.
    /// `None` when the server asks for more than
    /// [`max_retry_after`](Self::max_retry_after).
    pub(crate) fn delay(
        &self,
        retry: u32,
        unit: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if let Some(asked) = retry_after {
            return (asked <= self.max_retry_after).then_some(asked);
        }
        let exponent = retry.saturating_sub(1).min(31);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        Some(ceiling.mul_f64(unit.clamp(0.0, 1.0)))
    }
}

/// Whether a status is worth sending the same request again for.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as a wait from `now`: delay-seconds or an HTTP date
/// (RFC 9110 section 10.2.3). A date in the past means no wait.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// GET, PUT, DELETE, HEAD, OPTIONS and TRACE (RFC 9110 section 9.2.2).
pub(crate) fn is_idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method;
    [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
    ]
    .contains(method)
}

/// A small pseudo-random source for jitter (SplitMix64), seeded per call
/// from the standard library's randomly keyed hasher.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x5052_4f42_4520_4150);
        Jitter(hasher.finish())
    }

    /// A value in `[0, 1)`.
    pub(crate) fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().expect("header"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        headers.insert("retry-after", later.parse().expect("header"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        headers.insert("retry-after", past.parse().expect("header"));
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert("retry-after", "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_scales_with_jitter() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        let ceiling = |n| policy.delay(n, 1.0, None).expect("no retry-after");
        assert_eq!(ceiling(1), Duration::from_millis(100));
        assert_eq!(ceiling(2), Duration::from_millis(200));
        assert_eq!(ceiling(3), Duration::from_millis(350));
        assert_eq!(ceiling(40), Duration::from_millis(350));
        assert_eq!(policy.delay(2, 0.5, None), Some(Duration::from_millis(100)));
        assert_eq!(policy.delay(2, 0.0, None), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_wins_unless_it_is_too_long() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(10));
        assert_eq!(
            policy.delay(1, 0.3, Some(Duration::from_secs(4))),
            Some(Duration::from_secs(4))
        );
        assert_eq!(policy.delay(1, 0.3, Some(Duration::from_secs(11))), None);
    }

    #[test]
    fn only_idempotent_methods_are_retried_unless_asked() {
        let policy = RetryPolicy::default();
        assert!(policy.allows(&reqwest::Method::GET));
        assert!(policy.allows(&reqwest::Method::DELETE));
        assert!(!policy.allows(&reqwest::Method::POST));
        assert!(
            policy
                .with_retry_non_idempotent(true)
                .allows(&reqwest::Method::POST)
        );
        assert!(!RetryPolicy::none().allows(&reqwest::Method::GET));
    }

    #[test]
    fn jitter_stays_in_the_unit_interval_and_varies() {
        let mut jitter = Jitter(42);
        let values: Vec<f64> = (0..1000).map(|_| jitter.next_unit()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }
}
