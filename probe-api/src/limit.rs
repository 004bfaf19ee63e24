//! A concurrency limit shared by many calls, which finds how many calls the
//! service takes, holds every call when the service refuses everything, and
//! can hold a request rate.
//!
//! # How the limit moves
//!
//! A service shows that it is full in one of two ways: it queues the work
//! (latency rises before anything is refused), or it refuses at once beyond
//! its capacity (429 with `Retry-After`, latency unchanged). The limit reads
//! both.
//!
//! - **Slow start.** It starts at [`initial`](Limiter::initial)
//!   ([`DEFAULT_INITIAL`], never above the ceiling) and grows by one call
//!   per success, doubling each round trip, until the first sign of
//!   queueing or the first refusal. A service that takes 48 at once is
//!   reached in four round trips rather than forty.
//! - **Queueing** is estimated as TCP Vegas does: the latency of recent
//!   calls against the lowest seen tells how many requests wait in the
//!   service's queue (`limit × (1 − lowest / recent)`). Under 3 the limit
//!   grows by one call per round trip; above 6 it shrinks by one per round
//!   trip, so a service that slows down gets fewer requests before it
//!   refuses any.
//! - **A refusal** (429, 503, 504) shows where the capacity is: the calls
//!   the service was serving when it refused one (those in flight, less
//!   any the latency shows queued). The limit drops to 90 % of that, at
//!   most once per round trip (calls already in flight when it dropped do
//!   not lower it again), and then grows by only a quarter of a call per
//!   round trip until it is a quarter past that capacity, where it grows
//!   at the usual pace again. A gentle cut keeps a service that refuses at
//!   once nearly full; the slow return keeps its refusals rare (one per
//!   some forty calls at a capacity of 6, far fewer above).
//! - **A timeout** halves the limit (once per round trip): it says the
//!   service is slow, not how many it takes.
//! - It never exceeds the ceiling and never drops below 1.
//!
//! "Recent" is an average of the last few calls, so one slow file does not
//! move the limit; "lowest" is the lowest such average of the last few
//! thousand calls. When files differ widely in analysis time the latency
//! signal is noisy and the limit settles lower than the service could
//! take; refusals still keep it safe. A [`fixed`](Limiter::fixed) limiter
//! keeps its concurrency and only pauses and paces.
//!
//! The ceiling of a batch is [`DEFAULT_CONCURRENCY`](crate::batch::DEFAULT_CONCURRENCY)
//! (256) unless the caller sets one: far above what most services take, so
//! the limit, not the ceiling, finds the capacity, while staying well
//! within a process's usual 1,024 open files and bounding what a service
//! that never pushes back receives.
//!
//! # When the whole batch pauses
//!
//! A refusal is answered in proportion. The refused call waits its own
//! `Retry-After` before it is sent again (the retry policy), and the limit
//! drops; the other calls go on. A single 429 from a service at its
//! capacity says "one too many", not "stop": pausing every call for its
//! `Retry-After` would leave the service idle for that long each time the
//! limit touches the capacity.
//!
//! Every call pauses only when the refusals show the service refusing
//! everything, as one whose quota is spent does: [`PauseRule`] decides.
//! After a refusal, calls sent *after* it was answered are the evidence,
//! since they were sent knowing of it and under the lowered limit: when
//! [`DEFAULT_CONFIRMATIONS`] (3) of them are refused with no success of such
//! a call between them, and within the `Retry-After` window the first
//! refusal asked for, no call starts until the latest `Retry-After` of those
//! refusals has passed (1 s when none gave one), while calls in flight
//! finish. Calls that were already on their way when the first refusal came
//! say nothing more: a service at capacity refuses a burst of them and
//! accepts the next ones, where a spent quota refuses the next ones too. A
//! timeout is neither evidence nor a success. [`Limiter::pause`] pauses by
//! hand.

use std::fmt;
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
// Tokio's clock, so that a paused test runtime moves pauses and rates too.
use tokio::time::Instant;

use crate::Error;

/// How many calls an adaptive limiter allows at first.
pub const DEFAULT_INITIAL: usize = 4;

/// Refusals of calls sent after a first refusal that make a [`PauseRule`]
/// pause every call.
pub const DEFAULT_CONFIRMATIONS: u32 = 3;

/// The pause after refusals that gave no `Retry-After`.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Queued requests (estimated) under which the limit grows.
const ALPHA: f64 = 3.0;
/// Queued requests (estimated) over which the limit shrinks.
const BETA: f64 = 6.0;
/// Weight of a new latency in the recent average.
const SMOOTHING: f64 = 0.125;
/// Calls per window of the lowest latency; the lowest of the current and
/// the previous window counts.
const WINDOW: u32 = 2_000;
/// The share of the capacity a refusal showed that the limit drops to.
const BACK_OFF: f64 = 0.9;
/// Round trips per call of growth while the limit is near the capacity a
/// refusal showed.
const PROBE_ROUNDS: f64 = 4.0;
/// How far past the capacity a refusal showed the limit grows slowly.
const NEAR: f64 = 1.25;

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
    /// No request starts before this instant (a pause).
    paused_until: Option<Instant>,
    /// Whether the refusals show the service refusing everything.
    rule: PauseRule<Instant>,
    /// The least time between two starts, for a rate limit.
    interval: Option<Duration>,
    next_start: Option<Instant>,
    /// Counts the decreases, so a call started before the last one does
    /// not decrease the limit again.
    epoch: u64,
    overloads: u64,
}

impl State {
    /// Holds every start until `until`; a longer pause already set is kept.
    fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|current| current < until) {
            self.paused_until = Some(until);
            crate::telemetry::limiter_pause();
        }
    }
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
    /// when the service refuses everything and paces to a rate limit.
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
                    rule: PauseRule::new(),
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

    /// Pauses every call by `rule` instead of [`PauseRule::new`]'s default;
    /// for example `PauseRule::new().confirmations(0)` to pause on every
    /// `Retry-After`, for a service known to answer 429 only when a quota
    /// is spent.
    #[must_use]
    pub fn pause_rule(self, rule: PauseRule<Instant>) -> Limiter {
        self.lock().rule = rule;
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

    /// How long calls are still paused for, if they are: the service
    /// refusing everything, or [`pause`](Self::pause).
    pub fn paused_for(&self) -> Option<Duration> {
        let until = self.lock().paused_until?;
        until.checked_duration_since(Instant::now())
    }

    /// Holds every call that has not started yet for `wait`; a longer
    /// pause already set is kept.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        self.lock().pause_until(until);
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
        crate::telemetry::limiter_state(state.in_flight, state.control.current());
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
    /// A refusal for load (429, 503, 504), with the wait the service asked
    /// for.
    Refused(Option<Duration>),
    /// No answer in time.
    TimedOut,
    /// Says nothing about load (a client error, a refused connection).
    Neutral,
}

impl Permit {
    /// The call succeeded; its latency counts.
    pub fn succeeded(self) {
        self.finish(Outcome::Success);
    }

    /// The service refused the call for load (429, 503, 504), asking for
    /// `retry_after`: the limit drops, and the refusal counts towards a
    /// pause of every call ([`PauseRule`]).
    pub fn overloaded(self, retry_after: Option<Duration>) {
        self.finish(Outcome::Refused(retry_after));
    }

    /// Reports a call's result: a success, a refusal for load (429, 503,
    /// 504), a timeout, or neither (any other error frees the slot only).
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
                state.rule.succeeded(self.started);
                let busy = state.in_flight + 1;
                state
                    .control
                    .on_success(now.saturating_duration_since(self.started), busy);
            }
            Outcome::Refused(retry_after) => {
                state.overloads += 1;
                crate::telemetry::limiter_refusal();
                if let Some(until) = state.rule.refused(self.started, now, retry_after) {
                    state.pause_until(until);
                }
                let (others, fresh) = (state.in_flight, self.epoch == state.epoch);
                if state.control.on_refusal(others, fresh) {
                    state.epoch += 1;
                }
            }
            Outcome::TimedOut => {
                state.overloads += 1;
                if self.epoch == state.epoch && state.control.on_timeout() {
                    state.epoch += 1;
                }
            }
            Outcome::Neutral => {}
        }
        let grown = state.control.current().saturating_sub(before);
        crate::telemetry::limiter_state(state.in_flight, state.control.current());
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
            crate::telemetry::limiter_state(state.in_flight, state.control.current());
            drop(state);
            self.shared.slots.notify_one();
        }
    }
}

/// What an error says about the service's load.
pub(crate) fn classify_error(error: &Error) -> Outcome {
    if error.is_timeout() {
        Outcome::TimedOut
    } else if matches!(error.status().map(|s| s.as_u16()), Some(429 | 503 | 504)) {
        Outcome::Refused(error.retry_after())
    } else {
        Outcome::Neutral
    }
}

/// Decides when refusals show a service refusing everything (a spent
/// quota), so that every call stops until the service's `Retry-After` has
/// passed, rather than when one call was refused at capacity. A pure
/// record of outcomes and their times: the [`Limiter`] feeds it its own
/// calls, and a fleet of processes can feed one the calls of all of them on
/// a shared clock, to pause together. The [module docs](self#when-the-whole-batch-pauses)
/// give the rule and the reasoning.
///
/// `T` is the clock: [`std::time::Instant`], [`tokio::time::Instant`],
/// [`std::time::SystemTime`], or a [`Duration`] since some start.
///
/// ```
/// use std::time::Duration;
/// use probe_api::batch::limit::PauseRule;
///
/// let s = Duration::from_secs;
/// let mut rule = PauseRule::new();
/// // Calls sent at 0 s are refused at 1 s, asking for 2 s: the first shows
/// // the refusals, the others were on their way before it and add nothing.
/// assert_eq!(rule.refused(s(0), s(1), Some(s(2))), None);
/// assert_eq!(rule.refused(s(0), s(1), Some(s(2))), None);
/// // Calls sent after it are refused too: the third pauses until 3 s.
/// assert_eq!(rule.refused(s(1), s(1), Some(s(2))), None);
/// assert_eq!(rule.refused(s(1), s(1), Some(s(2))), None);
/// assert_eq!(rule.refused(s(1), s(1), Some(s(2))), Some(s(3)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseRule<T> {
    confirmations: u32,
    run: Option<Run<T>>,
}

/// Refusals since the last success of a call sent after the first of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run<T> {
    /// When the first refusal was answered.
    seen: T,
    /// Refusals of calls sent at or after `seen`.
    confirmed: u32,
    /// The latest time a refusal of the run asked to wait until.
    until: T,
}

impl<T> Default for PauseRule<T> {
    fn default() -> Self {
        PauseRule {
            confirmations: DEFAULT_CONFIRMATIONS,
            run: None,
        }
    }
}

impl<T: Copy + Ord + Add<Duration, Output = T>> PauseRule<T> {
    /// A rule that pauses after [`DEFAULT_CONFIRMATIONS`] refusals of calls
    /// sent after a first refusal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pauses after `refusals` refusals of calls sent after a first
    /// refusal, instead of [`DEFAULT_CONFIRMATIONS`]; 0 pauses on the first
    /// refusal, for a service that refuses only when a quota is spent.
    #[must_use]
    pub fn confirmations(mut self, refusals: u32) -> Self {
        self.confirmations = refusals;
        self
    }

    /// A call sent at `sent` succeeded: when it was sent after the first
    /// refusal of the current run, the service is not refusing everything
    /// and the run ends.
    pub fn succeeded(&mut self, sent: T) {
        if self.run.is_some_and(|run| sent >= run.seen) {
            self.run = None;
        }
    }

    /// A call sent at `sent` was refused at `answered`, the service asking
    /// for `retry_after`; returns the time until which every call should
    /// wait when this refusal completes the evidence that the service is
    /// refusing everything, and starts collecting afresh.
    pub fn refused(&mut self, sent: T, answered: T, retry_after: Option<Duration>) -> Option<T> {
        let until = answered + retry_after.unwrap_or(DEFAULT_PAUSE);
        let run = match &mut self.run {
            // Within the wait the run's first refusal asked for.
            Some(run) if answered <= run.until => {
                run.until = run.until.max(until);
                if sent >= run.seen {
                    run.confirmed += 1;
                }
                *run
            }
            _ => {
                let run = Run {
                    seen: answered,
                    confirmed: 0,
                    until,
                };
                self.run = Some(run);
                run
            }
        };
        if run.confirmed < self.confirmations {
            return None;
        }
        self.run = None;
        Some(run.until)
    }
}

/// The limit itself, apart from slots and clocks, so that it can be
/// driven by a simulated service in tests.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub(crate) ceiling: usize,
    adaptive: bool,
    limit: f64,
    /// Doubling each round trip, until the first sign of queueing or the
    /// first refusal.
    slow_start: bool,
    /// The calls the service was serving when it last refused one: its
    /// capacity as last seen, near which the limit grows slowly.
    refused_at: Option<f64>,
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
            slow_start: true,
            refused_at: None,
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

    /// The lowest recent latency against the recent one: the share of the
    /// calls in flight the service works on rather than queues.
    fn unqueued(&self) -> f64 {
        let lowest = self.window_low.min(self.previous_low);
        match self.recent {
            Some(recent) if recent > 0.0 && lowest.is_finite() => (lowest / recent).min(1.0),
            _ => 1.0,
        }
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
        let queued = self.limit * (1.0 - self.unqueued());
        if queued >= ALPHA {
            self.slow_start = false;
            if queued > BETA {
                self.limit = (self.limit - 1.0 / self.limit).max(1.0);
            }
            return;
        }
        // A limit the caller does not use tells nothing about a larger one.
        if (busy as f64 + 1.0) < self.limit * 0.5 {
            return;
        }
        let step = if self.slow_start {
            1.0
        } else if self
            .refused_at
            .is_some_and(|capacity| self.limit < capacity * NEAR)
        {
            1.0 / (PROBE_ROUNDS * self.limit)
        } else {
            // Well past the capacity last seen: the service took more since.
            self.refused_at = None;
            1.0 / self.limit
        };
        self.limit = (self.limit + step).min(self.ceiling as f64);
    }

    /// A refusal with `others` calls still in flight, of a call sent
    /// before the last decrease or not (`fresh`); whether the limit was
    /// decreased (it drops at most once per round trip).
    pub(crate) fn on_refusal(&mut self, others: usize, fresh: bool) -> bool {
        if !self.adaptive {
            return false;
        }
        self.slow_start = false;
        // Those in flight were let in (or are about to be refused too),
        // less the ones the latency shows waiting in a queue.
        let taken = (others as f64 * self.unqueued()).max(1.0);
        if fresh {
            let capacity = taken.min(self.limit);
            self.refused_at = Some(capacity);
            self.limit = (capacity * BACK_OFF).max(1.0);
        } else {
            // A call sent before the last decrease: each such refusal
            // leaves fewer in flight, a closer bound of what the service
            // took, without decreasing the limit again.
            self.refused_at = Some(self.refused_at.map_or(taken, |at| at.min(taken)));
            self.limit = self.limit.min((taken * BACK_OFF).max(1.0));
        }
        fresh
    }

    /// A timeout; whether the limit was lowered.
    pub(crate) fn on_timeout(&mut self) -> bool {
        if !self.adaptive {
            return false;
        }
        self.slow_start = false;
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
mod tests;
