//! Where a batch keeps its results: a [`Journal`] file for one process, or
//! a PostgreSQL ledger (`PgLedger`, feature
//! `postgres`) for a fleet; [`Ledger`] is either, behind one interface.

use std::fmt;
use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt};

use super::{Journal, Probed};

/// A batch's record of finished probes: a [`Journal`] or a PostgreSQL
/// ledger. Cheap to clone. Given to
/// [`ProbeMany::ledger`](super::ProbeMany::ledger), it decides what a
/// batch skips and where its results go; on its own it answers
/// [`status`](Self::status) and [`results`](Self::results).
#[derive(Clone, Debug)]
pub struct Ledger {
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Journal(Journal),
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::PgLedger),
}

impl From<Journal> for Ledger {
    fn from(journal: Journal) -> Ledger {
        Ledger {
            kind: Kind::Journal(journal),
        }
    }
}

#[cfg(feature = "postgres")]
impl From<super::postgres::PgLedger> for Ledger {
    fn from(ledger: super::postgres::PgLedger) -> Ledger {
        Ledger {
            kind: Kind::Postgres(ledger),
        }
    }
}

/// What [`Ledger::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Enqueued {
    /// URLs given.
    pub given: u64,
    /// URLs new to the batch; the rest were in it already.
    pub added: u64,
}

/// Counts of a batch, from [`Ledger::status`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Status {
    /// Items waiting for a worker (always 0 for a journal, which keeps no
    /// queue).
    pub queued: u64,
    /// Items claimed by a worker: probes in flight.
    pub in_flight: u64,
    /// Items done (a response recorded).
    pub done: u64,
    /// Items failed (an error recorded, and no response).
    pub failed: u64,
    /// All items.
    pub total: u64,
    /// Items finished a second, over the last minute.
    pub rate: f64,
    /// How long the fleet is still paused for a `Retry-After`, if it is.
    pub paused_for: Option<Duration>,
    /// The fleet's ceiling of probes in flight, if it has one.
    pub max_in_flight: Option<u32>,
    /// The fleet's rate limit (probes started a second), if it has one.
    pub per_second: Option<f64>,
    /// Per worker, by name: items it holds now, and items it finished.
    pub workers: Vec<WorkerStatus>,
}

impl Status {
    /// Whether every item is done or failed.
    pub fn is_finished(&self) -> bool {
        self.queued == 0 && self.in_flight == 0
    }
}

/// One worker's share of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStatus {
    /// The worker's name.
    pub worker: String,
    /// Items it holds claims on now.
    pub in_flight: u64,
    /// Items it finished with a response.
    pub done: u64,
    /// Items it finished with an error.
    pub failed: u64,
}

/// A ledger could not be read or written: the database or the file said
/// no. The probes themselves fail with [`Error`](crate::Error), in
/// [`Probed::result`].
#[derive(Debug)]
pub struct LedgerError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl LedgerError {
    pub(crate) fn new(message: impl Into<String>) -> LedgerError {
        LedgerError {
            message: message.into(),
            source: None,
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn db(what: &str, error: tokio_postgres::Error) -> LedgerError {
        LedgerError {
            message: what.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Ledger {
    /// Adds `urls` to the batch's queue, once each. A journal keeps no
    /// queue (its batch is the URLs given to
    /// [`Client::probe_many`](crate::Client::probe_many)): it refuses.
    ///
    /// # Errors
    ///
    /// The database's, or a journal's refusal.
    pub async fn enqueue<I>(&self, urls: I) -> Result<Enqueued, LedgerError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        match &self.kind {
            Kind::Journal(journal) => {
                let _ = urls;
                Err(LedgerError::new(format!(
                    "{} is a journal, which keeps no queue: give the URLs to Client::probe_many",
                    journal.path().display()
                )))
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres(ledger) => ledger.enqueue(urls).await,
        }
    }

    /// Counts the batch's items by state (and, in PostgreSQL, by worker).
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn status(&self) -> Result<Status, LedgerError> {
        match &self.kind {
            Kind::Journal(journal) => {
                let done = journal.len() as u64;
                let failed = journal.failed_len() as u64;
                Ok(Status {
                    done,
                    failed,
                    total: done + failed,
                    ..Status::default()
                })
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres(ledger) => ledger.status().await,
        }
    }

    /// Every finished probe the ledger holds, with its stored result
    /// ([`Probed::resumed`] is set): a response (status, request id,
    /// attempts, elapsed), or the error.
    pub fn results(&self) -> impl Stream<Item = Result<Probed, LedgerError>> + Send + 'static {
        match &self.kind {
            Kind::Journal(journal) => {
                let journal = journal.clone();
                let urls = journal.urls();
                stream::iter(urls.into_iter().enumerate())
                    .filter_map(move |(index, url)| {
                        let read = journal.stored(&url, true);
                        async move {
                            Some(match read? {
                                Ok(result) => Ok(Probed {
                                    index,
                                    url,
                                    result,
                                    resumed: true,
                                }),
                                Err(problem) => Err(LedgerError::new(problem)),
                            })
                        }
                    })
                    .boxed()
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres(ledger) => ledger.results().boxed(),
        }
    }
}
