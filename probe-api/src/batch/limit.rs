//! A concurrency limit shared by many calls, which adapts to how the
//! service copes, pauses every call when the service asks for a pause, and
//! can hold a request rate.
//!
//! # How the limit moves
//!
//! The limit follows TCP Vegas, as concurrency limiters for services do:
//! it compares the latency of recent calls with the lowest latency seen,
//! which estimates how many requests wait in the service's queue
//! (`limit × (1 − lowest / recent)`):
//!
//! - it starts at [`initial`](Limiter::initial) (4 by default, never above
//!   the ceiling) and, while that estimate stays under 3 requests, grows by
//!   half a request per successful call (about ×1.5 per round trip) until
//!   the first sign of queueing, then by one request per round trip;
//! - above 6 queued requests it shrinks by one request per round trip, so
//!   a service that slows down gets fewer requests before it refuses any;
//! - a refusal (429, 503, 504) or a timeout halves it, at most once per
//!   round trip (calls that were already in flight when it was halved do
//!   not halve it again);
//! - it never exceeds the ceiling and never drops below 1.
//!
//! "Recent" is an average of the last few calls, so one slow file does not
//! move the limit; "lowest" is the lowest such average of the last few
//! thousand calls. When files differ widely in analysis time the latency
//! signal is noisy and the limit settles lower than the service could
//! take; refusals still keep it safe. A [`fixed`](Limiter::fixed) limiter
//! keeps its concurrency and only pauses and paces.
//!
//! A `Retry-After` on any answer pauses every call of the limiter for that
//! long: no request is sent until it has passed, while the calls already
//! in flight finish.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
// Tokio's clock, so that a paused test runtime moves pauses and rates too.
use tokio::time::Instant;

use crate::Error;

/// How many calls an adaptive limiter allows at first.
pub const DEFAULT_INITIAL: usize = 4;

/// Queued requests (estimated) under which the limit grows.
const ALPHA: f64 = 3.0;
/// Queued requests (estimated) over which the limit shrinks.
const BETA: f64 = 6.0;
/// Weight of a new latency in the recent average.
const SMOOTHING: f64 = 0.125;
/// Calls per window of the lowest latency; the lowest of the current and
/// the previous window counts.
const WINDOW: u32 = 2_000;

/// A shared concurrency limit: cheap to clone, every clone is the same
/// limit. See the [module docs](self) for how it adapts.
///
/// [`Client::with_limiter`](crate::Client::with_limiter) puts every request
/// of a client under it (each attempt takes a slot, so retries count too);
/// [`acquire`](Limiter::acquire) guards any other work.
///
/// ```
/// # async fn run(client: probe_api::Client) -> Result<(), probe_api::Error> {
/// use probe_api::batch::Limiter;
///
/// let limiter = Limiter::adaptive(64).rate_limit(20.0); // at most 20 requests a second
/// let limited = client.with_limiter(limiter.clone());
/// let user = limited.get_current_user().send().await?;
/// println!("{} (limit now {})", user.id, limiter.limit());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Limiter {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes a caller waiting for a slot when one frees up or the limit grows.
    slots: Notify,
}

struct State {
    control: Control,
    in_flight: usize,
    /// No request starts before this instant (a `Retry-After`).
    paused_until: Option<Instant>,
    /// The least time between two starts, for a rate limit.
    interval: Option<Duration>,
    next_start: Option<Instant>,
    /// Counts the decreases, so a call started before the last one does
    /// not decrease the limit again.
    epoch: u64,
    overloads: u64,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Limiter")
            .field("adaptive", &state.control.adaptive)
            .field("limit", &state.control.current())
            .field("ceiling", &state.control.ceiling)
            .field("in_flight", &state.in_flight)
            .field("interval", &state.interval)
            .field("paused_until", &state.paused_until)
            .finish()
    }
}

impl Limiter {
    /// A limit that adapts between 1 and `ceiling` (at least 1), starting
    /// at [`DEFAULT_INITIAL`].
    pub fn adaptive(ceiling: usize) -> Limiter {
        Limiter::new(Control::adaptive(ceiling.max(1), DEFAULT_INITIAL))
    }

    /// A limit of exactly `concurrency` calls (at least 1); it still pauses
    /// for `Retry-After` and paces to a rate limit.
    pub fn fixed(concurrency: usize) -> Limiter {
        Limiter::new(Control::fixed(concurrency.max(1)))
    }

    fn new(control: Control) -> Limiter {
        Limiter {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    control,
                    in_flight: 0,
                    paused_until: None,
                    interval: None,
                    next_start: None,
                    epoch: 0,
                    overloads: 0,
                }),
                slots: Notify::new(),
            }),
        }
    }

    /// Starts an adaptive limit at `calls` (between 1 and the ceiling)
    /// instead of [`DEFAULT_INITIAL`], for a service known to take more.
    #[must_use]
    pub fn initial(self, calls: usize) -> Limiter {
        {
            let mut state = self.lock();
            let ceiling = state.control.ceiling as f64;
            state.control.limit = (calls.max(1) as f64).min(ceiling);
        }
        self
    }

    /// Starts at most `per_second` calls a second (evenly spaced), for a
    /// contractual quota; zero, negative or not a number removes the limit.
    #[must_use]
    pub fn rate_limit(self, per_second: f64) -> Limiter {
        self.lock().interval = (per_second.is_finite() && per_second > 0.0)
            .then(|| Duration::from_secs_f64(1.0 / per_second));
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// How many calls may run at once right now.
    pub fn limit(&self) -> usize {
        self.lock().control.current()
    }

    /// The most the limit can grow to.
    pub fn ceiling(&self) -> usize {
        self.lock().control.ceiling
    }

    /// Calls holding a slot now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Refusals (429, 503, 504) and timeouts reported so far.
    pub fn overloads(&self) -> u64 {
        self.lock().overloads
    }

    /// How long calls are still paused for a `Retry-After`, if they are.
    pub fn paused_for(&self) -> Option<Duration> {
        let until = self.lock().paused_until?;
        until.checked_duration_since(Instant::now())
    }

    /// Holds every call that has not started yet for `wait`, as a
    /// `Retry-After` does; a longer pause already set is kept.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Waits for a slot (and for a pause or the rate limit to allow a
    /// start), then holds it until the [`Permit`] is dropped or reported.
    /// Cancel-safe: a dropped wait takes no slot.
    pub async fn acquire(&self) -> Permit {
        loop {
            let notified = self.shared.slots.notified();
            tokio::pin!(notified);
            // Registered before the state is read, so a slot freed in
            // between is not missed.
            notified.as_mut().enable();
            match self.try_start() {
                Start::Now(permit, start) => {
                    if start > Instant::now() {
                        // The slot is held while waiting for the start; a
                        // cancelled wait drops the permit and frees it.
                        tokio::time::sleep_until(start).await;
                    }
                    return permit;
                }
                Start::PausedUntil(until) => tokio::time::sleep_until(until).await,
                Start::NoSlot => notified.await,
            }
        }
    }

    fn try_start(&self) -> Start {
        let mut state = self.lock();
        let now = Instant::now();
        if let Some(until) = state.paused_until {
            if until > now {
                return Start::PausedUntil(until);
            }
            state.paused_until = None;
        }
        if state.in_flight >= state.control.current() {
            return Start::NoSlot;
        }
        state.in_flight += 1;
        let start = match state.interval {
            Some(interval) => {
                let start = state.next_start.map_or(now, |next| next.max(now));
                state.next_start = Some(start + interval);
                start
            }
            None => now,
        };
        let permit = Permit {
            shared: self.shared.clone(),
            started: start,
            epoch: state.epoch,
            done: false,
        };
        Start::Now(permit, start)
    }
}

/// What [`Limiter::acquire`] does next.
enum Start {
    Now(Permit, Instant),
    PausedUntil(Instant),
    NoSlot,
}

/// A slot of a [`Limiter`]. Report how the call went with
/// [`record`](Permit::record) (or [`succeeded`](Permit::succeeded),
/// [`overloaded`](Permit::overloaded)); dropped unreported, it frees the
/// slot without moving the limit.
#[must_use = "a permit holds a slot until it is dropped or reported"]
pub struct Permit {
    shared: Arc<Shared>,
    started: Instant,
    epoch: u64,
    done: bool,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

/// How a call under a permit went, for the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A success: its latency is a sample.
    Success,
    /// A refusal or a timeout, with the wait the service asked for.
    Overloaded(Option<Duration>),
    /// Says nothing about load (a client error, a refused connection).
    Neutral,
}

impl Permit {
    /// The call succeeded; its latency counts.
    pub fn succeeded(self) {
        self.finish(Outcome::Success);
    }

    /// The service refused the call for load or it timed out; `retry_after`
    /// pauses every call of the limiter.
    pub fn overloaded(self, retry_after: Option<Duration>) {
        self.finish(Outcome::Overloaded(retry_after));
    }

    /// Reports a call's result: a success, a refusal for load (429, 503,
    /// 504) or timeout, or neither (any other error frees the slot only).
    /// A `Retry-After` on the error pauses every call of the limiter.
    pub fn record<T>(self, result: &Result<T, Error>) {
        let outcome = match result {
            Ok(_) => Outcome::Success,
            Err(error) => classify_error(error),
        };
        self.finish(outcome);
    }

    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.done = true;
        let now = Instant::now();
        let mut state = lock(&self.shared.state);
        state.in_flight = state.in_flight.saturating_sub(1);
        let before = state.control.current();
        match outcome {
            Outcome::Success => {
                let busy = state.in_flight + 1;
                state
                    .control
                    .on_success(now.saturating_duration_since(self.started), busy);
            }
            Outcome::Overloaded(retry_after) => {
                state.overloads += 1;
                if let Some(wait) = retry_after {
                    let until = now + wait;
                    if state.paused_until.is_none_or(|current| current < until) {
                        state.paused_until = Some(until);
                    }
                }
                if self.epoch == state.epoch && state.control.on_overload() {
                    state.epoch += 1;
                }
            }
            Outcome::Neutral => {}
        }
        let grown = state.control.current().saturating_sub(before);
        drop(state);
        // One slot freed, plus any the limit grew by.
        for _ in 0..=grown {
            self.shared.slots.notify_one();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            let mut state = lock(&self.shared.state);
            state.in_flight = state.in_flight.saturating_sub(1);
            drop(state);
            self.shared.slots.notify_one();
        }
    }
}

/// What an error says about the service's load.
pub(crate) fn classify_error(error: &Error) -> Outcome {
    let overloaded =
        error.is_timeout() || matches!(error.status().map(|s| s.as_u16()), Some(429 | 503 | 504));
    if overloaded {
        Outcome::Overloaded(error.retry_after())
    } else {
        Outcome::Neutral
    }
}

/// The limit itself, apart from slots and clocks, so that it can be
/// driven by a simulated service in tests.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub(crate) ceiling: usize,
    adaptive: bool,
    limit: f64,
    starting: bool,
    /// Recent latency (seconds), smoothed.
    recent: Option<f64>,
    window_low: f64,
    previous_low: f64,
    window_calls: u32,
}

impl Control {
    pub(crate) fn adaptive(ceiling: usize, initial: usize) -> Control {
        Control {
            ceiling,
            adaptive: true,
            limit: initial.clamp(1, ceiling) as f64,
            starting: true,
            recent: None,
            window_low: f64::INFINITY,
            previous_low: f64::INFINITY,
            window_calls: 0,
        }
    }

    pub(crate) fn fixed(concurrency: usize) -> Control {
        Control {
            adaptive: false,
            limit: concurrency as f64,
            ..Control::adaptive(concurrency, concurrency)
        }
    }

    pub(crate) fn current(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.ceiling)
    }

    /// A success that took `latency` with `busy` calls in flight.
    pub(crate) fn on_success(&mut self, latency: Duration, busy: usize) {
        if !self.adaptive {
            return;
        }
        let sample = latency.as_secs_f64();
        let recent = match self.recent {
            Some(recent) => recent + SMOOTHING * (sample - recent),
            None => sample,
        };
        self.recent = Some(recent);
        self.window_low = self.window_low.min(recent);
        self.window_calls += 1;
        if self.window_calls >= WINDOW {
            self.previous_low = self.window_low;
            self.window_low = recent;
            self.window_calls = 0;
        }
        let lowest = self.window_low.min(self.previous_low);
        let queued = if recent > 0.0 {
            self.limit * (1.0 - lowest / recent)
        } else {
            0.0
        };
        // A limit the caller does not use tells nothing about a larger one.
        let used = busy as f64 + 1.0 >= self.limit * 0.5;
        if queued < ALPHA {
            if used {
                let step = if self.starting { 0.5 } else { 1.0 / self.limit };
                self.limit = (self.limit + step).min(self.ceiling as f64);
            }
        } else {
            self.starting = false;
            if queued > BETA {
                self.limit = (self.limit - 1.0 / self.limit).max(1.0);
            }
        }
    }

    /// A refusal or timeout; whether the limit was lowered.
    pub(crate) fn on_overload(&mut self) -> bool {
        if !self.adaptive {
            return false;
        }
        self.starting = false;
        self.limit = (self.limit * 0.5).max(1.0);
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service with `workers` that each take `service` per request and a
    /// queue of `queue` more, driven in simulated time by a client under
    /// `control` with `calls` to make; returns (calls per second, refused).
    fn simulate(mut control: Control, workers: usize, queue: usize, calls: usize) -> (f64, usize) {
        let service = 0.02;
        // Each request in the service: when it started and when it ends.
        let mut running: Vec<(f64, f64)> = Vec::new();
        let mut waiting: std::collections::VecDeque<f64> = Default::default();
        let (mut now, mut done, mut refused, mut sent) = (0.0f64, 0usize, 0usize, 0usize);
        while done < calls {
            // Start as many as the limit allows.
            while running.len() + waiting.len() < control.current() && sent < calls {
                sent += 1;
                if running.len() < workers {
                    running.push((now, now + service));
                } else if waiting.len() < queue {
                    waiting.push_back(now);
                } else {
                    refused += 1;
                    sent -= 1;
                    control.on_overload();
                    break;
                }
            }
            // The next completion.
            let Some((i, _)) = running
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
            else {
                break;
            };
            let (started, ended) = running.swap_remove(i);
            now = ended;
            done += 1;
            let in_flight = running.len() + waiting.len();
            control.on_success(Duration::from_secs_f64(ended - started), in_flight + 1);
            if let Some(queued_at) = waiting.pop_front() {
                running.push((queued_at, now + service));
            }
        }
        (calls as f64 / now, refused)
    }

    #[test]
    fn an_adaptive_limit_finds_a_queueing_service_capacity_without_refusals() {
        let (rate, refused) = simulate(Control::adaptive(256, 4), 16, 16, 2000);
        let capacity = 16.0 / 0.02;
        assert!(rate >= 0.9 * capacity, "{rate} of {capacity}");
        assert_eq!(refused, 0);
        // A fixed 256 overruns it, a fixed 8 leaves half of it unused.
        let (_, refused) = simulate(Control::fixed(256), 16, 16, 2000);
        assert!(refused > 0);
        let (rate, _) = simulate(Control::fixed(8), 16, 16, 2000);
        assert!(rate <= 0.55 * capacity, "{rate}");
    }

    #[test]
    fn refusals_halve_the_limit_and_it_stays_within_bounds() {
        let mut control = Control::adaptive(10, 40);
        assert_eq!(control.current(), 10, "the ceiling caps the start");
        assert!(control.on_overload());
        assert_eq!(control.current(), 5);
        for _ in 0..10 {
            control.on_overload();
        }
        assert_eq!(control.current(), 1);
        for _ in 0..1000 {
            control.on_success(Duration::from_millis(10), 10);
        }
        assert_eq!(control.current(), 10);
        let mut fixed = Control::fixed(3);
        assert!(!fixed.on_overload());
        fixed.on_success(Duration::from_millis(1), 3);
        assert_eq!(fixed.current(), 3);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_pause_holds_new_permits_and_slots_are_shared() {
        let limiter = Limiter::fixed(2);
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        assert_eq!(limiter.in_flight(), 2);
        let waiting = limiter.clone();
        let third = tokio::spawn(async move { waiting.acquire().await.succeeded() });
        tokio::task::yield_now().await;
        assert!(!third.is_finished(), "no third slot");
        let started = tokio::time::Instant::now();
        a.overloaded(Some(Duration::from_secs(2)));
        third.await.expect("third permit");
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(limiter.overloads(), 1);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_initial_limit_admits_that_many_and_a_dropped_permit_frees_its_slot() {
        let limiter = Limiter::adaptive(16).initial(3);
        assert_eq!((limiter.limit(), limiter.ceiling()), (3, 16));
        let permits = [
            limiter.acquire().await,
            limiter.acquire().await,
            limiter.acquire().await,
        ];
        let fourth = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(fourth.is_err(), "a fourth slot was given");
        drop(permits);
        assert_eq!(limiter.in_flight(), 0);
        limiter.acquire().await.succeeded();
        assert_eq!(
            Limiter::adaptive(2).initial(40).limit(),
            2,
            "never above the ceiling"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_rate_limit_spaces_the_starts() {
        let limiter = Limiter::fixed(100).rate_limit(10.0);
        let started = tokio::time::Instant::now();
        for _ in 0..5 {
            limiter.acquire().await.succeeded();
        }
        // The first starts at once, the next four a tenth of a second apart.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    }
}
