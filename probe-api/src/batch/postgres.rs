//! A batch in PostgreSQL, shared by a fleet of workers on any number of
//! machines (cargo feature `postgres`).
//!
//! [`PgLedger::connect`] opens (and creates) a named batch;
//! [`enqueue`](PgLedger::enqueue) adds URLs to it, once each however often
//! they are added; every worker then runs [`Client::work`](crate::Client::work)
//! on it, which claims a few URLs at a time, probes them, and records each
//! result before yielding it. [`status`](PgLedger::status) counts the
//! items by state and by worker, and [`results`](PgLedger::results)
//! streams everything done.
//!
//! # One set of limits for the fleet
//!
//! Each worker keeps its own adaptive [`Limiter`](super::Limiter), and
//! claims no more items than its limit lets it run now. Over all of them:
//!
//! - **A ceiling of probes in flight** ([`FleetLimits::max_in_flight`]): a
//!   claim is a permit. A worker claims only while the batch's live claims
//!   are under the ceiling, counted in the same transaction that makes the
//!   claim, so no interleaving of workers can pass it. A claim is a lease:
//!   the worker renews it while its probe is in flight, and when a worker
//!   dies its leases run out and its items (and the permits they held) go
//!   back to the queue.
//! - **A rate** ([`FleetLimits::per_second`]): each claim is given a start
//!   time, spaced evenly after the last one handed out to any worker.
//! - **One pause**: when a worker's limiter pauses for a `Retry-After`, the
//!   worker writes the end of that pause into the batch
//!   ([`pause`](PgLedger::pause)); every claim made before it ends is
//!   refused with the time left, and each worker holds its own limiter,
//!   retries included, until then.
//!
//! # Schema (version 1)
//!
//! Created by [`PgLedger::connect`] in the schema `probe_api` when missing;
//! creating it again is harmless (every statement is `IF NOT EXISTS` or
//! `CREATE OR REPLACE`, under an advisory lock so that workers starting
//! together do not race). `probe_api.schema_version` holds the versions
//! applied; a database whose schema is of a later version than this crate
//! knows is refused, never changed.
//!
//! | table | column | what |
//! |---|---|---|
//! | `batches` | `name` | the batch's name (primary key) |
//! | | `max_in_flight`, `rate_per_second` | the fleet's limits (`NULL`: none) |
//! | | `next_start` | when the next probe may start under the rate |
//! | | `paused_until` | no claim is handed out before it (a `Retry-After`) |
//! | `items` | `batch`, `url` | one item per URL of a batch (primary key) |
//! | | `position` | the order in which URLs were first enqueued, from 0 |
//! | | `state` | `queued`, `claimed`, `done` or `failed` |
//! | | `worker`, `lease_until` | who holds the claim, until when; the worker that finished it |
//! | | `claims` | how many times the item was claimed (more than 1: a worker died or let go) |
//! | | `attempts` | requests the finishing probe sent, retries included |
//! | | `claimed_at`, `finished_at` | when |
//! | | `outcome` | the result, as a journal record ([`journal`](super::journal)): the response, or the error |
//!
//! The function `probe_api.claim(batch, worker, how_many, lease_seconds)`
//! makes a claim: one transaction that locks the batch's row, gives expired
//! leases back to the queue, applies the pause, the ceiling and the rate,
//! and claims the first queued items with `FOR UPDATE SKIP LOCKED`.
//!
//! # What a crash costs
//!
//! A result is committed before the worker yields it, so a result seen is
//! a result kept. When a worker dies, the probes it had in flight were
//! never recorded: their leases run out and other workers probe those
//! URLs again (and the service bills them again). Nothing else is lost or
//! repeated.
//!
//! # Connections
//!
//! The connection is made without TLS (`NoTls`): run the workers on the
//! database's network, or through a TLS-terminating proxy.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt;
use futures_util::stream::{self, Stream};
use tokio_postgres::NoTls;

use super::record::{self, Outcome};
use super::{Enqueued, LedgerError, Status, WorkerStatus};

/// The schema version this crate creates and reads.
pub const SCHEMA_VERSION: i32 = 1;

/// How long a claim lasts without being renewed, by default: longer than
/// the longest a file probe's request may take with the API's default
/// analysis time (65 s), queue time (60 s) and the SDK's margin (15 s), so
/// that a worker cut off from the database while its probe is still
/// running does not see another worker probe the same file.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(150);

/// The most items a worker claims at once.
pub const CLAIM_MAX: usize = 16;

/// Taken while the schema is created, so that workers starting together
/// do not race on `CREATE ... IF NOT EXISTS`.
const SCHEMA_LOCK: i64 = 0x7072_6f62_655f_3031;

const SCHEMA: &str = r#"
CREATE SCHEMA IF NOT EXISTS probe_api;
CREATE TABLE IF NOT EXISTS probe_api.schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS probe_api.batches (
    name text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    max_in_flight integer CHECK (max_in_flight > 0),
    rate_per_second double precision CHECK (rate_per_second > 0),
    next_start timestamptz,
    paused_until timestamptz
);
CREATE TABLE IF NOT EXISTS probe_api.items (
    -- No foreign key to batches: its check, once a row, costs an enqueue
    -- of a million URLs a third of its time.
    batch text NOT NULL,
    url text NOT NULL,
    position bigint NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'claimed', 'done', 'failed')),
    worker text,
    lease_until timestamptz,
    claims integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    claimed_at timestamptz,
    finished_at timestamptz,
    outcome jsonb,
    PRIMARY KEY (batch, url)
);
CREATE INDEX IF NOT EXISTS items_position ON probe_api.items (batch, position);
CREATE INDEX IF NOT EXISTS items_queued ON probe_api.items (batch, position) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS items_claimed ON probe_api.items (batch, lease_until) WHERE state = 'claimed';

CREATE OR REPLACE FUNCTION probe_api.claim(
    p_batch text, p_worker text, p_want integer, p_lease double precision
) RETURNS TABLE (
    url text, item_position bigint, claims integer, start_after double precision,
    paused_for double precision, open boolean
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    b probe_api.batches%ROWTYPE;
    t timestamptz := clock_timestamp();
    n integer := p_want;
    live integer;
    base timestamptz;
    got integer;
BEGIN
    -- The batch's row is the lock every claim takes: the ceiling is
    -- counted and used by one claimer at a time.
    SELECT * INTO b FROM probe_api.batches AS x WHERE x.name = p_batch FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'probe_api: there is no batch named %', p_batch;
    END IF;
    IF b.paused_until IS NOT NULL AND b.paused_until > t THEN
        RETURN QUERY SELECT NULL::text, NULL::bigint, NULL::integer, NULL::double precision,
            extract(epoch FROM b.paused_until - t)::double precision, true;
        RETURN;
    END IF;
    UPDATE probe_api.items AS i SET state = 'queued', worker = NULL, lease_until = NULL
        WHERE i.batch = p_batch AND i.state = 'claimed' AND i.lease_until < t;
    IF b.max_in_flight IS NOT NULL THEN
        SELECT count(*) INTO live FROM probe_api.items AS i
            WHERE i.batch = p_batch AND i.state = 'claimed';
        n := least(n, b.max_in_flight - live);
    END IF;
    IF n > 0 THEN
        base := greatest(coalesce(b.next_start, t), t);
        RETURN QUERY
        WITH picked AS (
            SELECT i.url AS picked_url FROM probe_api.items AS i
            WHERE i.batch = p_batch AND i.state = 'queued'
            ORDER BY i.position LIMIT n
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE probe_api.items AS i
            SET state = 'claimed', worker = p_worker, claims = i.claims + 1, claimed_at = t,
                lease_until = t + make_interval(secs => p_lease)
            FROM picked WHERE i.batch = p_batch AND i.url = picked.picked_url
            RETURNING i.url AS c_url, i.position AS c_position, i.claims AS c_claims
        )
        SELECT c.c_url, c.c_position, c.c_claims,
            CASE WHEN b.rate_per_second IS NULL THEN 0::double precision
                 ELSE extract(epoch FROM base - t)::double precision
                      + (row_number() OVER (ORDER BY c.c_position) - 1) / b.rate_per_second
            END,
            0::double precision, true
        FROM claimed AS c ORDER BY c.c_position;
        GET DIAGNOSTICS got = ROW_COUNT;
        IF got > 0 THEN
            IF b.rate_per_second IS NOT NULL THEN
                UPDATE probe_api.batches AS x
                    SET next_start = base + make_interval(secs => got / b.rate_per_second)
                    WHERE x.name = p_batch;
            END IF;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT NULL::text, NULL::bigint, NULL::integer, NULL::double precision,
        0::double precision,
        EXISTS (SELECT 1 FROM probe_api.items AS i WHERE i.batch = p_batch AND i.state = 'queued')
        OR EXISTS (SELECT 1 FROM probe_api.items AS i WHERE i.batch = p_batch AND i.state = 'claimed');
END
$fn$;

INSERT INTO probe_api.schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;
"#;

/// A batch in PostgreSQL, and the worker this handle works as: cheap to
/// clone (clones share the connection and the worker's name). See the
/// [module docs](self).
#[derive(Clone)]
pub struct PgLedger {
    inner: Arc<Connection>,
    worker: Arc<str>,
    lease: Option<Duration>,
}

/// The connection a ledger's clones share.
struct Connection {
    url: String,
    db: tokio_postgres::Client,
    task: tokio::task::JoinHandle<()>,
    batch: String,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for PgLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection string may carry a password: never shown.
        f.debug_struct("PgLedger")
            .field("batch", &self.inner.batch)
            .field("worker", &self.worker)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// The fleet's limits, stored with the batch and obeyed by every worker
/// (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct FleetLimits {
    /// The most probes in flight over all workers.
    pub max_in_flight: Option<u32>,
    /// The most probes started a second over all workers.
    pub per_second: Option<f64>,
}

impl FleetLimits {
    /// No limit: each worker's own limiter alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `probes` (at least 1) in flight over the fleet.
    #[must_use]
    pub fn max_in_flight(mut self, probes: u32) -> Self {
        self.max_in_flight = Some(probes.max(1));
        self
    }

    /// At most `per_second` probes started a second over the fleet; zero,
    /// negative or not a number removes the limit.
    #[must_use]
    pub fn per_second(mut self, per_second: f64) -> Self {
        self.per_second = (per_second.is_finite() && per_second > 0.0).then_some(per_second);
        self
    }
}

/// A claimed item.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub(crate) url: String,
    pub(crate) position: i64,
    pub(crate) claim: i32,
    pub(crate) start_after: Duration,
}

/// What a claim gave.
#[derive(Debug)]
pub(crate) enum Claim {
    Items(Vec<Claimed>),
    /// The fleet is paused for this long.
    Paused(Duration),
    /// Nothing to claim now; `open` when items are queued or claimed (by
    /// anyone), so that more may come.
    Nothing {
        open: bool,
    },
}

impl PgLedger {
    /// Connects to the PostgreSQL server at `url` (a connection string,
    /// `postgresql://user@host:port/db` or `host=… user=…`), creates the
    /// schema when missing and the batch `batch` when new.
    ///
    /// # Errors
    ///
    /// The server cannot be reached, refuses the connection, or holds a
    /// schema of a later version than this crate knows.
    pub async fn connect(url: &str, batch: &str) -> Result<PgLedger, LedgerError> {
        let (db, connection) = open(url).await?;
        create_schema(&db).await?;
        db.execute(
            "INSERT INTO probe_api.batches (name) VALUES ($1::text) ON CONFLICT DO NOTHING",
            &[&batch],
        )
        .await
        .map_err(|e| LedgerError::db("cannot create the batch", e))?;
        Ok(PgLedger {
            inner: Arc::new(Connection {
                url: url.to_string(),
                db,
                task: connection,
                batch: batch.to_string(),
            }),
            worker: default_worker_name().into(),
            lease: None,
        })
    }

    /// The same batch, working as `worker` (by default the host name, the
    /// process id and a random suffix), as [`status`](Self::status) shows.
    #[must_use]
    pub fn worker(mut self, worker: impl Into<String>) -> PgLedger {
        self.worker = worker.into().into();
        self
    }

    /// Claims last `lease` unless renewed, instead of [`DEFAULT_LEASE`]
    /// (or, when [`ProbeMany::deadline`](super::ProbeMany::deadline) is
    /// set, the deadline and 10 s). A worker renews its claims every third
    /// of it while their probes are in flight; a dead worker's claims come
    /// back to the queue after it.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> PgLedger {
        self.lease = Some(lease.max(Duration::from_millis(100)));
        self
    }

    /// The batch's name.
    pub fn batch(&self) -> &str {
        &self.inner.batch
    }

    /// The name this handle works under.
    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    pub(crate) fn lease_for(&self, deadline: Option<Duration>) -> Duration {
        self.lease.unwrap_or_else(|| match deadline {
            Some(deadline) => deadline + Duration::from_secs(10),
            None => DEFAULT_LEASE,
        })
    }

    /// Sets the fleet's limits for every worker of the batch, from their
    /// next claim on.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn set_limits(&self, limits: FleetLimits) -> Result<(), LedgerError> {
        let max = limits.max_in_flight.map(|n| n.min(i32::MAX as u32) as i32);
        self.inner
            .db
            .execute(
                "UPDATE probe_api.batches SET max_in_flight = $2::int4, rate_per_second = $3::float8 WHERE name = $1::text",
                &[&self.inner.batch, &max, &limits.per_second],
            )
            .await
            .map_err(|e| LedgerError::db("cannot set the fleet's limits", e))?;
        Ok(())
    }

    /// Adds `urls` to the batch; a URL already in it (or given twice) is
    /// one item. Streams them to the server with `COPY` into a temporary
    /// table, then inserts what is new in one statement.
    ///
    /// # Errors
    ///
    /// The database's; nothing is added then.
    pub async fn enqueue<I>(&self, urls: I) -> Result<Enqueued, LedgerError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        // A connection of its own: the copy needs a transaction, which
        // must not take the shared connection's other statements with it.
        let (mut db, connection) = open(&self.inner.url).await?;
        let _stop = AbortOnDrop(connection);
        let fail = |e| LedgerError::db("cannot enqueue", e);
        let transaction = db.transaction().await.map_err(fail)?;
        transaction
            .batch_execute(
                "CREATE TEMPORARY TABLE probe_api_enqueue (n bigint GENERATED ALWAYS AS IDENTITY, url text NOT NULL) ON COMMIT DROP",
            )
            .await
            .map_err(fail)?;
        let sink = transaction
            .copy_in::<_, Bytes>("COPY probe_api_enqueue (url) FROM STDIN")
            .await
            .map_err(fail)?;
        futures_util::pin_mut!(sink);
        let mut chunk = Vec::with_capacity(1 << 16);
        let mut given = 0u64;
        for url in urls {
            copy_text(url.as_ref(), &mut chunk);
            given += 1;
            if chunk.len() >= 1 << 16 {
                sink.send(Bytes::from(std::mem::take(&mut chunk)))
                    .await
                    .map_err(fail)?;
                chunk.reserve(1 << 16);
            }
        }
        if !chunk.is_empty() {
            sink.send(Bytes::from(chunk)).await.map_err(fail)?;
        }
        sink.finish().await.map_err(fail)?;
        // The batch's row is locked so that enqueues number their URLs one
        // after another; the sorts of a large list stay in memory.
        transaction
            .batch_execute("SET LOCAL work_mem = '256MB'")
            .await
            .map_err(fail)?;
        let locked = transaction
            .execute(
                "SELECT 1 FROM probe_api.batches WHERE name = $1::text FOR UPDATE",
                &[&self.inner.batch],
            )
            .await
            .map_err(fail)?;
        if locked == 0 {
            return Err(LedgerError::new(format!(
                "cannot enqueue: there is no batch named {}",
                self.inner.batch
            )));
        }
        // Only an enqueue adds items, under the lock above, and its
        // statement sees every earlier enqueue's items: no URL can
        // conflict, so no `ON CONFLICT`, whose check of each row took half
        // the time of a million (BENCHMARKS.md, the fleet).
        let added = transaction
            .execute(
                "INSERT INTO probe_api.items (batch, url, position) \
                 SELECT $1::text, e.url, \
                   (SELECT coalesce(max(i.position) + 1, 0) FROM probe_api.items AS i WHERE i.batch = $1::text) \
                   + row_number() OVER (ORDER BY e.n) - 1 \
                 FROM (SELECT DISTINCT ON (url) url, n FROM probe_api_enqueue ORDER BY url, n) AS e \
                 WHERE NOT EXISTS (SELECT 1 FROM probe_api.items AS i WHERE i.batch = $1::text AND i.url = e.url)",
                &[&self.inner.batch],
            )
            .await
            .map_err(fail)?;
        transaction.commit().await.map_err(fail)?;
        Ok(Enqueued { given, added })
    }

    /// Counts the batch's items by state and by worker, the probes in
    /// flight, and the rate over the last minute.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn status(&self) -> Result<Status, LedgerError> {
        let fail = |e| LedgerError::db("cannot read the batch's status", e);
        let rows = self
            .inner
            .db
            .query(
                "SELECT state, coalesce(worker, ''), count(*)::int8, \
                 count(*) FILTER (WHERE finished_at > now() - interval '60 seconds')::int8 \
                 FROM probe_api.items WHERE batch = $1::text GROUP BY 1, 2",
                &[&self.inner.batch],
            )
            .await
            .map_err(fail)?;
        let mut status = Status::default();
        let mut recent = 0u64;
        for row in rows {
            let state: String = row.get(0);
            let worker: String = row.get(1);
            let count = row.get::<_, i64>(2).max(0) as u64;
            recent += row.get::<_, i64>(3).max(0) as u64;
            status.total += count;
            let share = if worker.is_empty() {
                None
            } else {
                let at = match status.workers.iter().position(|w| w.worker == worker) {
                    Some(at) => at,
                    None => {
                        status.workers.push(WorkerStatus {
                            worker,
                            ..WorkerStatus::default()
                        });
                        status.workers.len() - 1
                    }
                };
                Some(&mut status.workers[at])
            };
            match state.as_str() {
                "queued" => status.queued += count,
                "claimed" => {
                    status.in_flight += count;
                    if let Some(share) = share {
                        share.in_flight += count;
                    }
                }
                "done" => {
                    status.done += count;
                    if let Some(share) = share {
                        share.done += count;
                    }
                }
                _ => {
                    status.failed += count;
                    if let Some(share) = share {
                        share.failed += count;
                    }
                }
            }
        }
        status.workers.sort_by(|a, b| a.worker.cmp(&b.worker));
        status.rate = recent as f64 / 60.0;
        let row = self
            .inner
            .db
            .query_one(
                "SELECT max_in_flight, rate_per_second, \
                 extract(epoch FROM paused_until - clock_timestamp())::float8 \
                 FROM probe_api.batches WHERE name = $1::text",
                &[&self.inner.batch],
            )
            .await
            .map_err(fail)?;
        status.max_in_flight = row.get::<_, Option<i32>>(0).map(|n| n.max(1) as u32);
        status.per_second = row.get(1);
        status.paused_for = row
            .get::<_, Option<f64>>(2)
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        Ok(status)
    }

    /// Every finished item (done or failed), in the order enqueued, with
    /// its stored result: a response says what the call said (status,
    /// request id, attempts, elapsed), an error what went wrong.
    pub fn results(
        &self,
    ) -> impl Stream<Item = Result<super::Probed, LedgerError>> + Send + 'static {
        let start = (self.clone(), -1i64, VecDeque::new(), false);
        stream::try_unfold(
            start,
            |(ledger, mut after, mut page, mut exhausted)| async move {
                loop {
                    if let Some(probed) = page.pop_front() {
                        return Ok(Some((probed, (ledger, after, page, exhausted))));
                    }
                    if exhausted {
                        return Ok(None);
                    }
                    let rows = ledger
                    .inner
                    .db
                    .query(
                        "SELECT position, outcome::text FROM probe_api.items \
                         WHERE batch = $1::text AND position > $2::int8 AND state IN ('done', 'failed') \
                         ORDER BY position LIMIT 1000",
                        &[&ledger.inner.batch, &after],
                    )
                    .await
                    .map_err(|e| LedgerError::db("cannot read the results", e))?;
                    exhausted = rows.len() < 1000;
                    for row in rows {
                        let position: i64 = row.get(0);
                        let text: Option<String> = row.get(1);
                        after = position;
                        let Some((url, result)) = text
                            .and_then(|t| serde_json::from_str(&t).ok())
                            .and_then(record::from_json)
                        else {
                            return Err(LedgerError::new(format!(
                                "item {position} of batch {} holds no readable result",
                                ledger.inner.batch
                            )));
                        };
                        page.push_back(super::Probed {
                            index: index_of(position),
                            url,
                            result,
                            resumed: true,
                        });
                    }
                }
            },
        )
    }

    /// Puts every failed item back in the queue, for workers to probe
    /// again; returns how many.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn requeue_failed(&self) -> Result<u64, LedgerError> {
        self.inner
            .db
            .execute(
                "UPDATE probe_api.items SET state = 'queued', worker = NULL, lease_until = NULL \
                 WHERE batch = $1::text AND state = 'failed'",
                &[&self.inner.batch],
            )
            .await
            .map_err(|e| LedgerError::db("cannot requeue the failed items", e))
    }

    /// Gives this worker's claims back to the queue at once (rather than
    /// when their leases run out), for a worker that stops: call it after
    /// dropping its [`work`](crate::Client::work) stream. Returns how many.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn release(&self) -> Result<u64, LedgerError> {
        self.inner
            .db
            .execute(
                "UPDATE probe_api.items SET state = 'queued', worker = NULL, lease_until = NULL \
                 WHERE batch = $1::text AND state = 'claimed' AND worker = $2::text",
                &[&self.inner.batch, &&*self.worker],
            )
            .await
            .map_err(|e| LedgerError::db("cannot release the claims", e))
    }

    /// Holds every worker of the batch for `wait`: no claim is handed out
    /// until it has passed (a longer pause already set is kept). Workers
    /// call it with the pause their own limiter decides on; anything else
    /// that knows the service wants a rest may too.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn pause(&self, wait: Duration) -> Result<(), LedgerError> {
        self.inner
            .db
            .execute(
                "UPDATE probe_api.batches SET paused_until = greatest(\
                 coalesce(paused_until, clock_timestamp()), \
                 clock_timestamp() + make_interval(secs => $2::float8)) WHERE name = $1::text",
                &[&self.inner.batch, &wait.as_secs_f64()],
            )
            .await
            .map_err(|e| LedgerError::db("cannot pause the batch", e))?;
        Ok(())
    }

    /// How long the fleet is still paused for, if it is.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn paused_for(&self) -> Result<Option<Duration>, LedgerError> {
        let row = self
            .inner
            .db
            .query_one(
                "SELECT extract(epoch FROM paused_until - clock_timestamp())::float8 \
                 FROM probe_api.batches WHERE name = $1::text",
                &[&self.inner.batch],
            )
            .await
            .map_err(|e| LedgerError::db("cannot read the pause", e))?;
        Ok(row
            .get::<_, Option<f64>>(0)
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok()))
    }

    /// Claims up to `want` items for this worker, for `lease`.
    pub(crate) async fn claim(&self, want: usize, lease: Duration) -> Result<Claim, LedgerError> {
        let want = want.min(CLAIM_MAX) as i32;
        let rows = self
            .inner
            .db
            .query(
                "SELECT url, item_position, claims, start_after, paused_for, open \
                 FROM probe_api.claim($1::text, $2::text, $3::int4, $4::float8)",
                &[
                    &self.inner.batch,
                    &&*self.worker,
                    &want,
                    &lease.as_secs_f64(),
                ],
            )
            .await
            .map_err(|e| LedgerError::db("cannot claim items", e))?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            match row.get::<_, Option<String>>(0) {
                Some(url) => items.push(Claimed {
                    url,
                    position: row.get(1),
                    claim: row.get(2),
                    start_after: seconds(row.get::<_, Option<f64>>(3)),
                }),
                None => {
                    let paused = seconds(row.get::<_, Option<f64>>(4));
                    if !paused.is_zero() {
                        return Ok(Claim::Paused(paused));
                    }
                    return Ok(Claim::Nothing {
                        open: row.get::<_, Option<bool>>(5).unwrap_or(true),
                    });
                }
            }
        }
        Ok(Claim::Items(items))
    }

    /// Records `outcome` for a claimed item; `false` when the claim was
    /// lost (its lease ran out and another worker took it), and the result
    /// was not recorded.
    pub(crate) async fn complete(
        &self,
        claimed: &Claimed,
        outcome: &Outcome,
    ) -> Result<bool, LedgerError> {
        let (state, attempts) = match outcome {
            Ok(response) => ("done", response.attempts()),
            Err(error) => ("failed", error.attempts()),
        };
        let text = record::to_json(&claimed.url, outcome).to_string();
        let attempts = attempts.min(i32::MAX as u32) as i32;
        // A lease that ran out but whose item no one took again still
        // gets the result: the probe is paid for.
        let changed = self
            .inner
            .db
            .execute(
                "UPDATE probe_api.items SET state = $4::text, outcome = $5::text::jsonb, \
                 attempts = $6::int4, finished_at = clock_timestamp(), lease_until = NULL, worker = $3::text \
                 WHERE batch = $1::text AND url = $2::text AND \
                 ((state = 'claimed' AND worker = $3::text AND claims = $7::int4) OR state = 'queued')",
                &[
                    &self.inner.batch,
                    &claimed.url,
                    &&*self.worker,
                    &state,
                    &text,
                    &attempts,
                    &claimed.claim,
                ],
            )
            .await
            .map_err(|e| LedgerError::db("cannot record a result", e))?;
        Ok(changed == 1)
    }

    /// Extends `claims` (URL and claim number) by `lease` from now, those
    /// this worker still holds: only claims whose probes are in flight, so
    /// that one given up (by a dropped stream, or by another process under
    /// the same worker name) runs out.
    pub(crate) async fn renew(
        &self,
        claims: &[(String, i32)],
        lease: Duration,
    ) -> Result<u64, LedgerError> {
        if claims.is_empty() {
            return Ok(0);
        }
        let (urls, numbers): (Vec<&str>, Vec<i32>) =
            claims.iter().map(|(url, n)| (url.as_str(), *n)).unzip();
        self.inner
            .db
            .execute(
                "UPDATE probe_api.items AS i \
                 SET lease_until = clock_timestamp() + make_interval(secs => $3::float8) \
                 FROM unnest($4::text[], $5::int4[]) AS c(url, claims) \
                 WHERE i.batch = $1::text AND i.state = 'claimed' AND i.worker = $2::text \
                 AND i.url = c.url AND i.claims = c.claims",
                &[
                    &self.inner.batch,
                    &&*self.worker,
                    &lease.as_secs_f64(),
                    &urls,
                    &numbers,
                ],
            )
            .await
            .map_err(|e| LedgerError::db("cannot renew the claims", e))
    }

    /// Items in the batch.
    pub(crate) async fn total(&self) -> Result<u64, LedgerError> {
        let row = self
            .inner
            .db
            .query_one(
                "SELECT count(*)::int8 FROM probe_api.items WHERE batch = $1::text",
                &[&self.inner.batch],
            )
            .await
            .map_err(|e| LedgerError::db("cannot count the batch", e))?;
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }
}

/// An item's position in the batch, as [`Probed::index`](super::Probed::index).
pub(crate) fn index_of(position: i64) -> usize {
    usize::try_from(position).unwrap_or(0)
}

fn seconds(value: Option<f64>) -> Duration {
    value
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or_default()
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn open(
    url: &str,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), LedgerError> {
    let (db, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| LedgerError::db("cannot connect to PostgreSQL", e))?;
    let task = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "the ledger's PostgreSQL connection ended");
        }
    });
    Ok((db, task))
}

async fn create_schema(db: &tokio_postgres::Client) -> Result<(), LedgerError> {
    let fail = |e| LedgerError::db("cannot create the ledger's schema", e);
    let exists = db
        .query_one(
            "SELECT to_regclass('probe_api.schema_version') IS NOT NULL",
            &[],
        )
        .await
        .map_err(fail)?
        .get::<_, bool>(0);
    let version = match exists {
        true => db
            .query_one("SELECT max(version) FROM probe_api.schema_version", &[])
            .await
            .map_err(fail)?
            .get::<_, Option<i32>>(0),
        false => None,
    };
    if let Some(version) = version
        && version > SCHEMA_VERSION
    {
        return Err(LedgerError::new(format!(
            "the database holds the probe_api schema version {version}; this version of probe-api knows version {SCHEMA_VERSION}: upgrade probe-api"
        )));
    }
    db.batch_execute(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA} COMMIT;"
    ))
    .await
    .map_err(fail)
}

/// Appends `url` as one line of `COPY`'s text format.
fn copy_text(url: &str, out: &mut Vec<u8>) {
    for byte in url.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            other => out.push(other),
        }
    }
    out.push(b'\n');
}

fn default_worker_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &suffix[..8])
}
