//! Probing many media files at once through one client.
//!
//! [`Client::probe_many`] takes media URLs, sends file probes over the
//! client's connection pool (with its retries and timeouts) under a shared
//! [`Limiter`], and yields each result as it completes. A failed probe is a
//! result like any other, so one bad file never stops the batch.
//!
//! - **Concurrency adapts** to the service: it starts at 4 probes in
//!   flight, doubles each round trip until the service first queues or
//!   refuses one, then grows while probes succeed and their latency holds,
//!   and shrinks when the service queues them, refuses them (429, 503,
//!   504) or times out, never above [`concurrency`](ProbeMany::concurrency)
//!   (see [`limit`] for the rule).
//!   [`fixed_concurrency`](ProbeMany::fixed_concurrency) keeps it fixed;
//!   [`rate_limit`](ProbeMany::rate_limit) caps requests per second.
//! - **Refusals in proportion**: a refused probe waits its own
//!   `Retry-After` and the limit drops, while the others go on; when the
//!   refusals show the service refusing everything (a spent quota), every
//!   probe of the batch, retries included, waits until the `Retry-After`
//!   has passed ([`limit::PauseRule`]).
//! - **Resumable**: with a [`Journal`] each finished probe is recorded as it
//!   completes, and a batch restarted with the same journal skips every URL
//!   already done, yielding the stored result (see [`journal`] for the
//!   format).
//! - **Across machines** (feature `postgres`): with a `PgLedger` the
//!   batch lives in PostgreSQL; `Client::work` makes this process one
//!   worker of a fleet that shares the batch, a ceiling of probes in
//!   flight, a rate and `Retry-After` pauses (see the `postgres` module).
//!   [`Ledger`] is a journal or a PostgreSQL batch, behind one interface.
//! - **Bounded**: [`deadline`](ProbeMany::deadline) bounds each probe,
//!   retries included, and the SDK asks the server for no more analysis
//!   time than fits (see [`Client::with_deadline`]).
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use probe_api::batch::{Journal, ProbeMany};
//! use probe_api::{Client, types};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let urls = ["https://example.com/a.mp4", "https://example.com/b.mkv"];
//! let options = ProbeMany::new()
//!     .concurrency(64)
//!     .journal(Journal::open("probes.jsonl")?)
//!     .deadline(std::time::Duration::from_secs(300))
//!     .request(|probe| probe.only(types::GetFileOnly::Ffprobe).ffprobe_show_streams(true))
//!     .on_progress(|p| eprintln!("{}/{} done, {} failed, {} at once", p.finished, p.started, p.failed, p.limit));
//! let mut results = client.probe_many(urls, options);
//! while let Some(probed) = results.next().await {
//!     match probed.result {
//!         Ok(report) => println!("{}: {:?}", probed.url, report.ffprobe().map(|r| r.duration())),
//!         Err(error) => eprintln!("{}: {error}", probed.url),
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod journal;
mod ledger;
/// The limiter lives beside the transport, which asks it for a permit on
/// every attempt; batches are its first users, so it is found here too.
pub use crate::limit;
#[cfg(feature = "postgres")]
pub mod postgres;
mod record;
#[cfg(feature = "postgres")]
mod work;

pub use journal::Journal;
pub use ledger::{Enqueued, Ledger, LedgerError, Status, WorkerStatus};
pub use limit::{Limiter, Permit};
#[cfg(feature = "postgres")]
pub use postgres::{FleetLimits, PgLedger};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::{self, Either};
use futures_util::stream::{self, Stream, StreamExt};

use crate::{Client, Error, Response, builder, types};

/// Changes each file probe before it is sent (tools, options, timeouts).
type Customize = dyn for<'c> Fn(builder::GetFile<'c>) -> builder::GetFile<'c> + Send + Sync;
/// Hears about each completed probe.
type OnProgress = dyn Fn(&Progress) + Send + Sync;

/// How [`Client::probe_many`] runs.
#[derive(Clone)]
#[must_use]
pub struct ProbeMany {
    concurrency: usize,
    adaptive: bool,
    rate: Option<f64>,
    limiter: Option<Limiter>,
    ledger: Option<Ledger>,
    keep_failed: bool,
    deadline: Option<Duration>,
    customize: Option<Arc<Customize>>,
    progress: Option<Arc<OnProgress>>,
}

/// The most probes in flight by default; the adaptive limit finds how many
/// of those the service takes. High enough not to cap a service that takes
/// hundreds at once, low enough to stay well within a process's usual
/// 1,024 open files and to bound what a service that never pushes back
/// receives.
pub const DEFAULT_CONCURRENCY: usize = 256;

impl Default for ProbeMany {
    fn default() -> Self {
        ProbeMany {
            concurrency: DEFAULT_CONCURRENCY,
            adaptive: true,
            rate: None,
            limiter: None,
            ledger: None,
            keep_failed: false,
            deadline: None,
            customize: None,
            progress: None,
        }
    }
}

impl fmt::Debug for ProbeMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeMany")
            .field("concurrency", &self.concurrency)
            .field("adaptive", &self.adaptive)
            .field("rate", &self.rate)
            .field("limiter", &self.limiter)
            .field("ledger", &self.ledger)
            .field("keep_failed", &self.keep_failed)
            .field("deadline", &self.deadline)
            .field("customizes_requests", &self.customize.is_some())
            .field("reports_progress", &self.progress.is_some())
            .finish()
    }
}

impl ProbeMany {
    /// At most [`DEFAULT_CONCURRENCY`] probes at a time, adaptive, each
    /// with the API's default tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most this many probes in flight (at least 1): the ceiling of the
    /// adaptive limit, or the fixed concurrency after
    /// [`fixed_concurrency`](Self::fixed_concurrency).
    pub fn concurrency(mut self, probes: usize) -> Self {
        self.concurrency = probes.max(1);
        self
    }

    /// Exactly this many probes in flight (at least 1), whatever the
    /// service's answers; a service refusing everything still pauses the
    /// batch.
    pub fn fixed_concurrency(mut self, probes: usize) -> Self {
        self.concurrency = probes.max(1);
        self.adaptive = false;
        self
    }

    /// Starts at most `per_second` probes a second (attempts, retries
    /// included), for a contractual quota.
    pub fn rate_limit(mut self, per_second: f64) -> Self {
        self.rate = Some(per_second);
        self
    }

    /// Runs the probes under `limiter`, shared with other work, instead of
    /// a limiter of the batch's own; its ceiling replaces
    /// [`concurrency`](Self::concurrency), and
    /// [`rate_limit`](Self::rate_limit) does not apply.
    pub fn limiter(mut self, limiter: Limiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Records each finished probe in `journal`, and skips the URLs it
    /// already holds a result for (see [`journal`]); the same as
    /// [`ledger`](Self::ledger) with a journal.
    pub fn journal(self, journal: Journal) -> Self {
        self.ledger(journal)
    }

    /// Records each finished probe in `ledger` (a [`Journal`], or with the
    /// `postgres` feature a `PgLedger` shared by a fleet), and skips
    /// the URLs it already holds a result for. With a PostgreSQL ledger,
    /// [`Client::probe_many`] adds its URLs to the batch and then works
    /// the batch as one worker: it yields what this process probes (not
    /// what the ledger held already, nor what other workers finish), and a
    /// database failure ends it (`Client::work` yields that failure).
    pub fn ledger(mut self, ledger: impl Into<Ledger>) -> Self {
        self.ledger = Some(ledger.into());
        self
    }

    /// On resume, yields a URL whose probe failed before as that stored
    /// failure instead of probing it again (by default failures are probed
    /// again: most refusals and timeouts are worth another try). A
    /// PostgreSQL ledger always keeps failures failed; see
    /// `PgLedger::requeue_failed`.
    pub fn keep_failed(mut self, keep: bool) -> Self {
        self.keep_failed = keep;
        self
    }

    /// Bounds each probe, retries and back-off included, to `deadline`
    /// (see [`Client::with_deadline`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets tools and options on each probe, as on
    /// [`Client::get_file`](crate::Client::get_file); the URL is set for you.
    pub fn request<F>(mut self, customize: F) -> Self
    where
        F: for<'c> Fn(builder::GetFile<'c>) -> builder::GetFile<'c> + Send + Sync + 'static,
    {
        self.customize = Some(Arc::new(customize));
        self
    }

    /// Called after each probe completes, with the counts so far.
    pub fn on_progress<F>(mut self, progress: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'static,
    {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// The batch's limiter: the one given, or one of the batch's own.
fn make_limiter(
    concurrency: usize,
    adaptive: bool,
    rate: Option<f64>,
    limiter: Option<Limiter>,
) -> Limiter {
    limiter.unwrap_or_else(|| {
        let limiter = if adaptive {
            Limiter::adaptive(concurrency)
        } else {
            Limiter::fixed(concurrency)
        };
        match rate {
            Some(rate) => limiter.rate_limit(rate),
            None => limiter,
        }
    })
}

impl ProbeMany {
    #[cfg(feature = "postgres")]
    fn make_limiter(&self) -> Limiter {
        make_limiter(
            self.concurrency,
            self.adaptive,
            self.rate,
            self.limiter.clone(),
        )
    }
}

/// Counts of a running batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Probes begun so far (sent, or waiting for a slot), and results
    /// taken from the journal.
    pub started: usize,
    /// Probes completed, successfully or not, and results taken from the
    /// journal.
    pub finished: usize,
    /// Completed probes that returned an error.
    pub failed: usize,
    /// Results taken from the journal instead of probing.
    pub resumed: usize,
    /// URLs in the batch, when known (the input's exact length, or the
    /// ledger's items).
    pub total: Option<usize>,
    /// How many probes may be in flight now (the adaptive limit).
    pub limit: usize,
    /// Answers so far that refused a probe for load (429, 503, 504) or
    /// timeouts, retried or not.
    pub rejected: u64,
}

impl Progress {
    /// Probes begun and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.started - self.finished
    }
}

/// One completed probe.
#[derive(Debug)]
#[non_exhaustive]
pub struct Probed {
    /// Position of the URL in the input, from 0.
    pub index: usize,
    /// The media URL.
    pub url: String,
    /// The API's answer with what a call tells ([`Response::attempts`],
    /// [`request_id`](Response::request_id), [`elapsed`](Response::elapsed),
    /// [`status`](Response::status)), or why there is none. A tool that
    /// could not read the media is a successful answer whose report says
    /// so ([`ffprobe()`](crate::types::GetFileResponse::ffprobe)). A result
    /// read back from a ledger has no headers, and the request id,
    /// attempts and elapsed time it recorded.
    pub result: Result<Response<types::GetFileResponse>, Error>,
    /// Whether the result was read from the ledger rather than probed now.
    pub resumed: bool,
}

/// Counts a probe just made in the batch metrics: done or failed, and the
/// analysis time the API reports its tools used (milliseconds each).
pub(crate) fn observe(result: &Result<Response<types::GetFileResponse>, Error>) {
    let analysis = result.as_ref().ok().map(|response| {
        let tools = [
            response.ffprobe.as_ref().and_then(|t| t.duration),
            response.mediainfo.as_ref().and_then(|t| t.duration),
            response.probe_report.as_ref().and_then(|t| t.duration),
        ];
        std::time::Duration::from_millis(tools.into_iter().flatten().sum())
    });
    crate::telemetry::batch_probe(result.is_ok(), analysis);
}

impl Probed {
    /// The result as a journal record (see [`journal`]): one line of a
    /// JSON Lines export.
    pub fn to_record(&self) -> serde_json::Value {
        record::to_json(&self.url, &self.result)
    }
}

#[derive(Default)]
struct Counters {
    started: AtomicUsize,
    finished: AtomicUsize,
    failed: AtomicUsize,
    resumed: AtomicUsize,
}

impl Client {
    /// Works the queue of the PostgreSQL batch given to
    /// [`ProbeMany::ledger`], as one worker of a fleet, yielding each
    /// result once it is recorded; ends when the batch has nothing queued
    /// or claimed. Claims as many items at a time as this worker's own
    /// limiter allows, within the fleet's limits (see [`postgres`]). A
    /// ledger failure is the last item. After dropping the stream early,
    /// [`PgLedger::release`] gives this worker's claims back at once.
    #[cfg(feature = "postgres")]
    pub fn work(
        &self,
        options: ProbeMany,
    ) -> impl Stream<Item = Result<Probed, LedgerError>> + Send + 'static {
        match options.ledger.clone().map(|l| l.kind) {
            // Boxed, so that the stream is `Unpin`: `next()` works on it as it is.
            Some(ledger::Kind::Postgres(ledger)) => work::work(self, ledger, options).boxed().left_stream(),
            _ => stream::once(future::ready(Err(LedgerError::new(
                "Client::work needs a PostgreSQL ledger (ProbeMany::ledger with a PgLedger); a journal keeps no queue: use Client::probe_many",
            ))))
            .right_stream(),
        }
    }

    /// Probes every URL of `urls`, yielding each result as it completes
    /// (not in input order: [`Probed::index`] tells which URL it was),
    /// with at most `options.concurrency` probes in flight under an
    /// adaptive limit. See [`crate::batch`].
    pub fn probe_many<'a, I>(
        &'a self,
        urls: I,
        options: ProbeMany,
    ) -> impl Stream<Item = Probed> + Send + 'a
    where
        I: IntoIterator,
        I::Item: Into<String>,
        I::IntoIter: Send + 'a,
    {
        let counters = Arc::new(Counters::default());
        let ProbeMany {
            concurrency,
            adaptive,
            rate,
            limiter,
            ledger,
            keep_failed,
            deadline,
            customize,
            progress,
        } = options;
        let urls = urls.into_iter();
        let total = match urls.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        let journal = match ledger.map(|l| l.kind) {
            Some(ledger::Kind::Journal(journal)) => Some(journal),
            #[cfg(feature = "postgres")]
            Some(ledger::Kind::Postgres(ledger)) => {
                let options = ProbeMany {
                    concurrency,
                    adaptive,
                    rate,
                    limiter,
                    ledger: None,
                    keep_failed,
                    deadline,
                    customize,
                    progress,
                };
                // Collected now: the stream outlives the borrow of `urls`.
                let urls: Vec<String> = urls.map(Into::into).collect();
                // Boxed, as the journal's stream below: one type either way.
                return work::enqueue_and_work(self, ledger, urls, options).boxed();
            }
            None => None,
        };
        let limiter = make_limiter(concurrency, adaptive, rate, limiter);
        // Probes wait for the limiter, not the stream: the stream only
        // keeps as many futures as the limit can ever allow.
        let buffer = limiter.ceiling();
        let mut client = self.with_limiter(limiter.clone());
        if let Some(deadline) = deadline {
            client = client.with_deadline(deadline);
        }
        let client = Arc::new(client);
        let started = counters.clone();
        let writer = journal.clone();
        stream::iter(urls.enumerate())
            .map(move |(index, url)| {
                let url: String = url.into();
                started.started.fetch_add(1, Ordering::SeqCst);
                match journal.as_ref().and_then(|j| j.stored(&url, keep_failed)) {
                    Some(Ok(result)) => {
                        started.resumed.fetch_add(1, Ordering::SeqCst);
                        return Either::Left(future::ready(Probed {
                            index,
                            url,
                            result,
                            resumed: true,
                        }));
                    }
                    // A record that cannot be read back is probed again
                    // rather than failing a file the service can answer.
                    Some(Err(problem)) => tracing::warn!(%problem, "probing again"),
                    None => {}
                }
                let client = client.clone();
                let customize = customize.clone();
                let writer = writer.clone();
                Either::Right(async move {
                    let mut probe = client.get_file().url(url.clone());
                    if let Some(customize) = &customize {
                        probe = customize(probe);
                    }
                    let result = probe.send().await;
                    observe(&result);
                    // Written before the result is yielded: whatever the
                    // caller did with it, a resumed batch knows it.
                    if let Some(journal) = &writer {
                        journal.record(&url, &result);
                    }
                    Probed {
                        index,
                        url,
                        result,
                        resumed: false,
                    }
                })
            })
            .buffer_unordered(buffer)
            .inspect(move |probed| {
                counters.finished.fetch_add(1, Ordering::SeqCst);
                if probed.result.is_err() {
                    counters.failed.fetch_add(1, Ordering::SeqCst);
                }
                if let Some(progress) = &progress {
                    progress(&Progress {
                        started: counters.started.load(Ordering::SeqCst),
                        finished: counters.finished.load(Ordering::SeqCst),
                        failed: counters.failed.load(Ordering::SeqCst),
                        resumed: counters.resumed.load(Ordering::SeqCst),
                        total,
                        limit: limiter.limit(),
                        rejected: limiter.overloads(),
                    });
                }
            })
            .boxed()
    }
}
