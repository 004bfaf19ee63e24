//! The limit against simulated services, the pause rule, and the limiter's
//! slots, pauses and rate in a paused runtime.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::*;

/// A simulated service: `workers` that each take `service` seconds per
/// call, a queue of `queue` more (0: a refusal at once beyond the
/// workers), and a `Retry-After` of `retry_after` seconds that the
/// refused call waits before it is sent again.
struct Service {
    workers: usize,
    queue: usize,
    service: f64,
    retry_after: f64,
}

/// What a simulated batch measured.
#[derive(Debug)]
struct Run {
    seconds: f64,
    sent: usize,
    refused: usize,
}

impl Run {
    fn refused_share(&self) -> f64 {
        self.refused as f64 / self.sent as f64
    }
}

/// An answer the client will read: when, whether it is a success, and
/// the epoch and time its call was sent in.
#[derive(Debug)]
struct Event {
    at: f64,
    success: bool,
    sent: f64,
    epoch: u64,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.total_cmp(&other.at)
    }
}

/// `calls` calls under `control` against `service`, in simulated time
/// (a refusal is answered after 1 ms).
fn simulate(mut control: Control, service: &Service, calls: usize) -> Run {
    let mut answers: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
    let mut waiting: VecDeque<(f64, u64)> = VecDeque::new();
    let mut retries: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
    let (mut now, mut fresh, mut done, mut in_flight, mut working) = (0.0, calls, 0, 0, 0);
    let (mut epoch, mut sent, mut refused) = (0u64, 0usize, 0usize);
    while done < calls {
        // Send what the limit allows: retries whose wait is over first.
        while in_flight < control.current() {
            if retries.peek().is_some_and(|r| r.0.at <= now) {
                retries.pop();
            } else if fresh > 0 {
                fresh -= 1;
            } else {
                break;
            }
            in_flight += 1;
            sent += 1;
            if working < service.workers {
                working += 1;
                answers.push(Reverse(Event {
                    at: now + service.service,
                    success: true,
                    sent: now,
                    epoch,
                }));
            } else if waiting.len() < service.queue {
                waiting.push_back((now, epoch));
            } else {
                answers.push(Reverse(Event {
                    at: now + 0.001,
                    success: false,
                    sent: now,
                    epoch,
                }));
            }
        }
        let next_retry = retries.peek().map(|r| r.0.at).filter(|at| *at > now);
        let Some(Reverse(answer)) = answers.pop() else {
            now = next_retry.expect("a retry is waiting");
            continue;
        };
        if let Some(at) = next_retry.filter(|at| *at < answer.at) {
            answers.push(Reverse(answer));
            now = at;
            continue;
        }
        now = answer.at;
        in_flight -= 1;
        if answer.success {
            done += 1;
            control.on_success(Duration::from_secs_f64(now - answer.sent), in_flight + 1);
            working -= 1;
            if let Some((queued_at, queued_epoch)) = waiting.pop_front() {
                working += 1;
                answers.push(Reverse(Event {
                    at: now + service.service,
                    success: true,
                    sent: queued_at,
                    epoch: queued_epoch,
                }));
            }
        } else {
            refused += 1;
            if control.on_refusal(in_flight, answer.epoch == epoch) {
                epoch += 1;
            }
            retries.push(Reverse(Event {
                at: now + service.retry_after,
                ..answer
            }));
        }
    }
    Run {
        seconds: now,
        sent,
        refused,
    }
}

fn refusing(workers: usize) -> Service {
    Service {
        workers,
        queue: 0,
        service: 0.2,
        retry_after: 1.0,
    }
}

#[test]
fn against_a_service_that_refuses_at_once_the_limit_stays_near_its_capacity() {
    for (workers, calls) in [(6, 400), (16, 800), (48, 1600)] {
        let service = refusing(workers);
        let adaptive = simulate(Control::adaptive(256, DEFAULT_INITIAL), &service, calls);
        let fixed = simulate(Control::fixed(workers), &service, calls);
        assert_eq!(fixed.refused, 0);
        let ratio = adaptive.seconds / fixed.seconds;
        assert!(
            ratio <= 1.15 && adaptive.refused_share() <= 0.05,
            "capacity {workers}: {ratio:.2}x the time, {adaptive:?}"
        );
    }
}

#[test]
fn an_adaptive_limit_finds_a_queueing_service_capacity_with_few_refusals() {
    for workers in [6, 16, 48] {
        let service = Service {
            workers,
            queue: workers,
            service: 0.02,
            retry_after: 1.0,
        };
        let calls = 125 * workers;
        let run = simulate(Control::adaptive(256, DEFAULT_INITIAL), &service, calls);
        let capacity = workers as f64 / 0.02;
        let rate = calls as f64 / run.seconds;
        assert!(
            rate >= 0.9 * capacity && run.refused_share() <= 0.02,
            "capacity {workers}: {rate} of {capacity}, {run:?}"
        );
    }
    // A fixed 256 overruns it, a fixed 8 leaves half of it unused.
    let service = Service {
        workers: 16,
        queue: 16,
        service: 0.02,
        retry_after: 1.0,
    };
    assert!(simulate(Control::fixed(256), &service, 2000).refused > 0);
    let run = simulate(Control::fixed(8), &service, 2000);
    assert!(2000.0 / run.seconds <= 0.55 * 800.0, "{run:?}");
}

#[test]
fn slow_start_doubles_each_round_trip_until_the_first_refusal() {
    let mut control = Control::adaptive(256, 4);
    // Four calls succeed at full use: the limit doubles.
    for _ in 0..4 {
        control.on_success(Duration::from_millis(200), 4);
    }
    assert_eq!(control.current(), 8);
    for _ in 0..8 {
        control.on_success(Duration::from_millis(200), 8);
    }
    assert_eq!(control.current(), 16);
    // Refused with 12 others in flight: 90 % of 12, then slow growth.
    assert!(control.on_refusal(12, true));
    assert_eq!(control.current(), 10);
    for _ in 0..10 {
        control.on_success(Duration::from_millis(200), 10);
    }
    assert_eq!(control.current(), 11, "a quarter of a call per round trip");
}

#[test]
fn refusals_lower_the_limit_and_it_stays_within_bounds() {
    let mut control = Control::adaptive(10, 40);
    assert_eq!(control.current(), 10, "the ceiling caps the start");
    assert!(control.on_refusal(10, true));
    assert_eq!(control.current(), 9);
    assert!(
        !control.on_refusal(9, false),
        "a call sent before the decrease"
    );
    assert_eq!(control.current(), 8, "90 % of the 9 still in flight");
    for _ in 0..10 {
        control.on_refusal(0, true);
    }
    assert_eq!(control.current(), 1);
    for _ in 0..1000 {
        control.on_success(Duration::from_millis(10), 10);
    }
    assert_eq!(control.current(), 10);
    assert!(control.on_timeout());
    assert_eq!(control.current(), 5, "a timeout halves it");
    let mut fixed = Control::fixed(3);
    assert!(!fixed.on_refusal(2, true));
    assert!(!fixed.on_timeout());
    fixed.on_success(Duration::from_millis(1), 3);
    assert_eq!(fixed.current(), 3);
}

#[test]
fn the_pause_rule_pauses_only_when_calls_sent_after_a_refusal_are_refused_too() {
    let ms = Duration::from_millis;
    let wait = Some(Duration::from_secs(1));
    // A burst of refusals of calls sent before the first was seen, as
    // when the limit overshoots a capacity: no pause.
    let mut rule = PauseRule::new();
    for _ in 0..20 {
        assert_eq!(rule.refused(ms(0), ms(10), wait), None);
    }
    // Two calls sent after it are refused, then one succeeds: no pause,
    // and the next refusals start afresh.
    assert_eq!(rule.refused(ms(20), ms(21), wait), None);
    assert_eq!(rule.refused(ms(20), ms(22), wait), None);
    rule.succeeded(ms(5));
    assert_eq!(
        rule.refused(ms(23), ms(24), wait),
        Some(ms(1024)),
        "an old success says nothing"
    );
    let mut rule = PauseRule::new();
    rule.refused(ms(0), ms(10), wait);
    rule.refused(ms(20), ms(21), wait);
    rule.refused(ms(20), ms(22), wait);
    rule.succeeded(ms(20));
    for answered in [31, 32, 33, 41, 42] {
        let sent = if answered < 40 { 30 } else { 40 };
        assert_eq!(rule.refused(ms(sent), ms(answered), wait), None);
    }
    assert_eq!(rule.refused(ms(40), ms(43), wait), Some(ms(1043)));
    // Refusals further apart than the wait the first asked for are
    // not one run; without a `Retry-After` the wait is a second.
    let mut rule = PauseRule::new().confirmations(1);
    rule.refused(ms(0), ms(0), Some(ms(100)));
    assert_eq!(rule.refused(ms(200), ms(200), None), None);
    assert_eq!(rule.refused(ms(300), ms(300), None), Some(ms(1300)));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn refusals_of_calls_sent_after_a_refusal_pause_new_permits_and_slots_are_shared() {
    let limiter = Limiter::fixed(2);
    let a = limiter.acquire().await;
    let b = limiter.acquire().await;
    assert_eq!(limiter.in_flight(), 2);
    tokio::time::advance(Duration::from_millis(10)).await;
    let waiting = limiter.clone();
    let third = tokio::spawn(async move { waiting.acquire().await });
    tokio::task::yield_now().await;
    assert!(!third.is_finished(), "no third slot");
    // One refusal frees its slot without pausing anyone.
    a.overloaded(Some(Duration::from_secs(2)));
    let c = third.await.expect("third permit");
    assert_eq!(limiter.paused_for(), None);
    // `b` was on its way before the refusal; three calls sent after it
    // are refused too: a pause of 2 s.
    b.overloaded(None);
    c.overloaded(Some(Duration::from_secs(2)));
    limiter
        .acquire()
        .await
        .overloaded(Some(Duration::from_secs(2)));
    assert_eq!(limiter.paused_for(), None);
    limiter
        .acquire()
        .await
        .overloaded(Some(Duration::from_secs(2)));
    assert_eq!(limiter.paused_for(), Some(Duration::from_secs(2)));
    let started = tokio::time::Instant::now();
    limiter.acquire().await.succeeded();
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(limiter.overloads(), 5);
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

#[test]
fn a_rule_without_confirmations_pauses_on_the_first_refusal() {
    let s = Duration::from_secs;
    let mut rule = PauseRule::new().confirmations(0);
    assert_eq!(rule.refused(s(0), s(1), Some(s(2))), Some(s(3)));
}
