//! A worker of a PostgreSQL batch: claims as many items as its own limiter
//! lets it run, probes them, records each result, and mirrors pauses
//! between its limiter and the fleet (see [`super::postgres`]).

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{self, Future};
use futures_util::stream::{self, FuturesUnordered, Stream, StreamExt};
use tokio::time::Instant;

use super::postgres::{CLAIM_MAX, Claim, Claimed, PgLedger, index_of};
use super::{Counters, Customize, LedgerError, Limiter, OnProgress, ProbeMany, Probed, Progress};
use crate::Client;

/// How often a worker looks at its limiter for a pause to share while its
/// probes are in flight.
const TICK: Duration = Duration::from_millis(10);
/// The first and the longest wait before claiming again after a claim
/// that found nothing (the fleet at its ceiling, or the queue empty while
/// other workers hold claims that may come back).
const IDLE_MIN: Duration = Duration::from_millis(5);
const IDLE_MAX: Duration = Duration::from_millis(250);

type Running = Pin<Box<dyn Future<Output = Result<Probed, LedgerError>> + Send>>;

/// The claims (URL and claim number) whose probes this worker runs now:
/// the heartbeat renews these and no others, so a claim whose probe
/// finished or was dropped runs out, whatever else holds the worker's name.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashSet<(String, i32)>>>);

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, i32)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Holds `item`'s claim in flight until the returned guard is dropped.
    fn hold(&self, item: &Claimed) -> Holding {
        let key = (item.url.clone(), item.claim);
        self.lock().insert(key.clone());
        Holding {
            in_flight: self.clone(),
            key,
        }
    }

    fn snapshot(&self) -> Vec<(String, i32)> {
        self.lock().iter().cloned().collect()
    }
}

/// A claim in flight, for as long as its probe's future lives.
struct Holding {
    in_flight: InFlight,
    key: (String, i32),
}

impl Drop for Holding {
    fn drop(&mut self) {
        self.in_flight.lock().remove(&self.key);
    }
}

/// `urls` added to the batch of `ledger`, then the batch worked; a ledger
/// failure is logged and ends the stream ([`Client::work`] yields it).
pub(crate) fn enqueue_and_work<'a>(
    client: &'a Client,
    ledger: PgLedger,
    urls: Vec<String>,
    options: ProbeMany,
) -> impl Stream<Item = Probed> + Send + 'a {
    let enqueued = {
        let ledger = ledger.clone();
        async move { ledger.enqueue(urls).await }
    };
    stream::once(enqueued)
        .map(move |enqueued| match enqueued {
            Ok(_) => work(client, ledger.clone(), options.clone()).left_stream(),
            Err(error) => stream::once(future::ready(Err(error))).right_stream(),
        })
        .flatten()
        .scan((), |(), item| {
            future::ready(match item {
                Ok(probed) => Some(probed),
                Err(error) => {
                    tracing::error!(%error, "the batch's ledger failed; the batch stops");
                    None
                }
            })
        })
}

/// A worker's stream of results.
pub(crate) fn work(
    client: &Client,
    ledger: PgLedger,
    options: ProbeMany,
) -> impl Stream<Item = Result<Probed, LedgerError>> + Send + 'static {
    let limiter = options.make_limiter();
    let mut client = client.with_limiter(limiter.clone());
    if let Some(deadline) = options.deadline {
        client = client.with_deadline(deadline);
    }
    let lease = ledger.lease_for(options.deadline);
    let worker = Worker {
        client: Arc::new(client),
        ledger,
        limiter,
        lease,
        customize: options.customize,
        progress: options.progress,
        counters: Counters::default(),
        total: None,
        running: FuturesUnordered::new(),
        in_flight: InFlight::default(),
        next_claim: Instant::now(),
        idle: IDLE_MIN,
        known_pause: None,
        closed: false,
        failed: false,
        heartbeat: None,
    };
    stream::unfold(worker, |mut worker| async move {
        let item = worker.next().await?;
        Some((item, worker))
    })
}

struct Worker {
    client: Arc<Client>,
    ledger: PgLedger,
    limiter: Limiter,
    lease: Duration,
    customize: Option<Arc<Customize>>,
    progress: Option<Arc<OnProgress>>,
    counters: Counters,
    total: Option<usize>,
    running: FuturesUnordered<Running>,
    in_flight: InFlight,
    /// No claim before this (after a claim that found nothing).
    next_claim: Instant,
    idle: Duration,
    /// The end of the last pause this worker shared or was told of.
    known_pause: Option<Instant>,
    /// The batch has nothing queued or claimed: finish what runs, then end.
    closed: bool,
    /// The ledger failed: the stream has ended.
    failed: bool,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
    }
}

impl Worker {
    async fn next(&mut self) -> Option<Result<Probed, LedgerError>> {
        if self.failed {
            return None;
        }
        if self.heartbeat.is_none() {
            // Started on the first poll, inside the caller's runtime.
            self.heartbeat = Some(tokio::spawn(heartbeat(
                self.ledger.clone(),
                self.limiter.clone(),
                self.in_flight.clone(),
                self.lease,
            )));
            match self.ledger.total().await {
                Ok(total) => self.total = usize::try_from(total).ok(),
                Err(error) => return self.fail(error),
            }
        }
        loop {
            if let Err(error) = self.share_pause().await {
                return self.fail(error);
            }
            let now = Instant::now();
            let free = self.limiter.limit().saturating_sub(self.running.len());
            if free > 0 && now >= self.next_claim && !self.closed {
                match self.ledger.claim(free, self.lease).await {
                    Err(error) => return self.fail(error),
                    Ok(Claim::Items(items)) if !items.is_empty() => {
                        // Fewer than asked for: the fleet is at its ceiling
                        // or the queue is empty, and asking again at once
                        // would only find nothing. The next claim comes when
                        // a probe of this worker ends, or after the idle
                        // wait: every claim takes the batch's row lock, so
                        // empty ones (one per probe at the ceiling) slow
                        // every worker's claims.
                        let short = items.len() < free.min(CLAIM_MAX);
                        for item in items {
                            self.start(item);
                        }
                        if short {
                            self.next_claim = now + self.idle;
                            self.idle = (self.idle * 2).min(IDLE_MAX);
                        } else {
                            self.idle = IDLE_MIN;
                        }
                        continue;
                    }
                    Ok(Claim::Paused(wait)) => {
                        self.limiter.pause(wait);
                        self.known_pause = Some(now + wait);
                        self.next_claim = now + wait;
                    }
                    Ok(Claim::Nothing { open: false }) => self.closed = true,
                    Ok(Claim::Items(_) | Claim::Nothing { open: true }) => {
                        self.next_claim = now + self.idle;
                        self.idle = (self.idle * 2).min(IDLE_MAX);
                    }
                }
            }
            if self.running.is_empty() {
                if self.closed {
                    return None;
                }
                tokio::time::sleep_until(self.next_claim).await;
                continue;
            }
            let wake = self.next_claim.max(now).min(now + TICK);
            tokio::select! {
                finished = self.running.next() => {
                    let Some(finished) = finished else { continue };
                    // A slot of this worker is free again: claim at once.
                    self.next_claim = Instant::now();
                    self.idle = IDLE_MIN;
                    return match finished {
                        Ok(probed) => Some(Ok(self.report(probed))),
                        Err(error) => self.fail(error),
                    };
                }
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn fail(&mut self, error: LedgerError) -> Option<Result<Probed, LedgerError>> {
        self.failed = true;
        // The stream ends here: nothing polls the probes still running, so
        // they are dropped and their claims left to run out.
        self.running.clear();
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.abort();
        }
        Some(Err(error))
    }

    /// Starts probing a claimed item.
    fn start(&mut self, item: Claimed) {
        self.counters.started.fetch_add(1, Ordering::SeqCst);
        let client = self.client.clone();
        let customize = self.customize.clone();
        let ledger = self.ledger.clone();
        let holding = self.in_flight.hold(&item);
        self.running.push(Box::pin(async move {
            // Renewed until the result is recorded, or this future dropped.
            let _holding = holding;
            if !item.start_after.is_zero() {
                tokio::time::sleep(item.start_after).await;
            }
            let mut probe = client.get_file().url(item.url.clone());
            if let Some(customize) = &customize {
                probe = customize(probe);
            }
            let result = probe.send().await;
            super::observe(&result);
            // Recorded before it is yielded: a result seen is a result kept.
            if !ledger.complete(&item, &result).await? {
                tracing::warn!(
                    url = %item.url,
                    "the claim ran out before the probe finished and another worker took the item; this result is not recorded"
                );
            }
            Ok(Probed {
                index: index_of(item.position),
                url: item.url,
                result,
                resumed: false,
            })
        }));
    }

    fn report(&self, probed: Probed) -> Probed {
        let counters = &self.counters;
        counters.finished.fetch_add(1, Ordering::SeqCst);
        if probed.result.is_err() {
            counters.failed.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(progress) = &self.progress {
            progress(&Progress {
                started: counters.started.load(Ordering::SeqCst),
                finished: counters.finished.load(Ordering::SeqCst),
                failed: counters.failed.load(Ordering::SeqCst),
                resumed: 0,
                total: self.total,
                limit: self.limiter.limit(),
                rejected: self.limiter.overloads(),
            });
        }
        probed
    }

    /// Tells the fleet of a pause this worker's limiter decided on (a
    /// `Retry-After`) that the fleet does not know of yet.
    async fn share_pause(&mut self) -> Result<(), LedgerError> {
        let Some(wait) = self.limiter.paused_for() else {
            return Ok(());
        };
        let until = Instant::now() + wait;
        // A pause the fleet told this worker of comes back through its
        // limiter: not shared again.
        if self
            .known_pause
            .is_some_and(|known| until <= known + Duration::from_millis(50))
        {
            return Ok(());
        }
        self.known_pause = Some(until);
        self.ledger.pause(wait).await
    }
}

/// Renews the claims of the probes in flight every third of the lease,
/// and holds the worker's limiter while the fleet is paused, until the
/// worker is dropped.
async fn heartbeat(ledger: PgLedger, limiter: Limiter, in_flight: InFlight, lease: Duration) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let claims = in_flight.snapshot();
        if let Err(error) = ledger.renew(&claims, lease).await {
            tracing::warn!(%error, "cannot renew the worker's claims");
        }
        if let Ok(Some(wait)) = ledger.paused_for().await {
            limiter.pause(wait);
        }
    }
}
