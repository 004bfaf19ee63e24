//! A Probe.dev mock server in the process, for tests and offline use
//! (cargo feature `mock`).
//!
//! [`MockServer::start`] binds a loopback port and serves every operation
//! of the API document the client was generated from. Each request is
//! checked against that document (path, query parameters including the
//! `name[prop]` ones, headers, cookies, body and its content type): an
//! invalid request gets 400 with an error body shaped as the document
//! says, a request without valid credentials 401. Valid requests get
//! realistic answers: real FFprobe and MediaInfo output of media made by
//! ffmpeg for the media operations (keyed by media URL, see
//! [`MockServer::add_media`]), in-memory sessions and users for the account
//! operations (signing in creates a session that the session operations
//! then list, get and delete), API tokens (created with permissions and a
//! TTL in seconds, listed, refreshed, deleted, and accepted as API keys
//! while they are valid; [`API_KEY`] is one of them) and JWTs minted by
//! `post_jwt_token`, all on a clock [`MockServer::advance_clock`] moves,
//! a media request log that records every probe answered and pages as the
//! API does (`pagination[page]`, `pagination[limit]`; the users too;
//! [`MockServer::seed_log`] fills it),
//! and schema-conformant data for the rest. Deleting the current user
//! ends its sessions, tokens and JWTs.
//! Every answer is checked against the document before it is sent.
//!
//! Faults can be queued per operation ([`MockServer::inject`]): error
//! statuses with or without `Retry-After`, delays, malformed bodies and
//! dropped connections, to test retries and error handling.
//!
//! A [`Capacity`] ([`MockServer::set_capacity`]) makes the media operations
//! behave like a busy service: a set number of workers, each analysis
//! taking a set time, a bounded queue (or none), and 429 with
//! `Retry-After` beyond it, or a window of refusals for a spent quota, so
//! that batch behaviour is measurable offline.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use probe_api::mock::{Fault, MockServer};
//!
//! let mock = MockServer::start().await?;
//! let client = mock.client()?;
//! mock.inject("get_sessions", [Fault::status(503)])?;
//! // The client retries the 503 and gets the sessions.
//! let sessions = client.get_sessions().send().await?;
//! assert!(sessions.sessions.is_some());
//! assert_eq!(mock.requests_for("get_sessions"), 2);
//! # Ok(()) }
//! ```

mod aim;
mod handlers;
mod media;
mod paging;
mod playback;
mod replay;
mod request;
mod schema;
mod server;
mod state;
mod tokens;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use media::MediaFixture;
pub use playback::{CassetteMode, ENV_CASSETTE, Playback};
pub use replay::{StaleAnswer, stale_answers, stale_answers_against};

use crate::{Client, ClientBuilder};

/// The API key the mock accepts.
pub const API_KEY: &str = "mock-api-key";
/// The email of the mock's user.
pub const EMAIL: &str = "user@example.com";
/// The password of the mock's user.
pub const PASSWORD: &str = "mock-password";
/// The media URL of the default sample: a 2 s H.264/AAC MP4 made by ffmpeg.
pub const SAMPLE_URL: &str = "https://media.example/fixtures/h264_aac.mp4";

/// One misbehaviour, used for one request to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers with this status and an error body shaped as the document
    /// says (or the API's usual error body), with `Retry-After` if given.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` value, such as `"2"` or an HTTP date.
        retry_after: Option<String>,
    },
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Answers 200 with a JSON body cut in the middle.
    MalformedBody,
    /// Answers with this status and an HTML page, as a proxy would.
    Html(u16),
    /// Closes the connection without answering.
    DropConnection,
}

impl Fault {
    /// An error status with the document's error body.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// An error status with a `Retry-After` header.
    pub fn retry_after(status: u16, retry_after: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            retry_after: Some(retry_after.into()),
        }
    }
}

/// A request the mock received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The client method of the operation, such as `"get_file"`; empty when
    /// no operation matched.
    pub operation: String,
    /// The HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string with `token` and `jwt` values redacted.
    pub query: Option<String>,
    /// The status the mock answered with (0 for a dropped connection).
    pub status: u16,
    /// When the mock received the request (its head and body).
    pub received: Instant,
    /// When the mock had its answer ready.
    pub answered: Instant,
}

impl RecordedRequest {
    /// The value of query parameter `name`, as recorded (decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            pair.split_once('=')
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| value)
        })
    }
}

/// How many media analyses the mock runs at once, for how long each, and
/// how many it lets wait: a busy service, to measure batches against.
///
/// A media probe (`get_file`, `post_file` and the other media operations)
/// that finds a worker free takes it for [`service_time`](Self::service_time);
/// one that finds all busy waits in the queue, unless the queue already
/// holds [`queue`](Self::queue) probes, and up to the request's
/// `queue_timeout`; a probe that cannot wait is answered 429 with
/// `Retry-After` ([`retry_after`](Self::retry_after)). Two kinds of service
/// come of it: one that queues before it refuses ([`new`](Self::new), so
/// latency rises first) and one that refuses at once beyond its workers
/// ([`refusing`](Self::refusing)). A [`quota`](Self::quota) adds a window
/// in which every probe is refused, as by a service whose quota is spent.
/// The refusals are counted in [`MockServer::rejected`], and
/// [`MockServer::requests`] tells when each probe arrived and was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capacity {
    /// Analyses at once.
    pub workers: usize,
    /// How long each analysis takes.
    pub service_time: Duration,
    /// How many probes may wait for a worker.
    pub queue: usize,
    /// The `Retry-After` of a refusal, in seconds.
    pub retry_after: u64,
    /// A window in which every probe is refused, if any.
    pub quota: Option<Quota>,
}

/// A spent quota: after [`after`](Self::after) probes, every probe is
/// refused for [`window`](Self::window) (429 with the capacity's
/// `Retry-After`), then they are let through again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quota {
    /// Probes let through before the quota is spent.
    pub after: usize,
    /// How long every probe is refused from the first refusal on.
    pub window: Duration,
}

impl Capacity {
    /// `workers` (at least 1) analyses at once, each taking `service_time`,
    /// with a queue as long again as the workers and `Retry-After: 1`.
    pub fn new(workers: usize, service_time: Duration) -> Capacity {
        let workers = workers.max(1);
        Capacity {
            workers,
            service_time,
            queue: workers,
            retry_after: 1,
            quota: None,
        }
    }

    /// A service without a queue: `workers` (at least 1) analyses at once,
    /// each taking `service_time`, and beyond them 429 with
    /// `Retry-After: 1` at once, so latency never shows that it is full.
    pub fn refusing(workers: usize, service_time: Duration) -> Capacity {
        Capacity::new(workers, service_time).queue(0)
    }

    /// After `after` probes, refuses every probe for `window` with the
    /// capacity's `Retry-After`, as a service whose quota is spent.
    #[must_use]
    pub fn quota(mut self, after: usize, window: Duration) -> Capacity {
        self.quota = Some(Quota { after, window });
        self
    }

    /// Lets at most `probes` wait for a worker (0: refuse when all are busy).
    #[must_use]
    pub fn queue(mut self, probes: usize) -> Capacity {
        self.queue = probes;
        self
    }

    /// The `Retry-After` of a refusal, in seconds.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Capacity {
        self.retry_after = seconds;
        self
    }

    /// Probes a second the workers can finish: `workers / service_time`.
    pub fn throughput(&self) -> f64 {
        self.workers as f64 / self.service_time.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// A [`Capacity`] in force: places for the probes let in (working or
/// waiting), and the workers.
#[derive(Debug)]
pub(crate) struct Workers {
    pub(crate) capacity: Capacity,
    /// Held from arrival to answer, so that exactly `workers + queue`
    /// probes are let in, however late a woken waiter runs.
    pub(crate) admitted: Arc<tokio::sync::Semaphore>,
    pub(crate) free: Arc<tokio::sync::Semaphore>,
    pub(crate) quota: Mutex<QuotaUse>,
}

/// How much of a [`Quota`] is used.
#[derive(Debug, Default)]
pub(crate) struct QuotaUse {
    let_through: usize,
    refusing_since: Option<Instant>,
}

impl Workers {
    /// Whether a probe arriving now is refused for a spent quota.
    pub(crate) fn quota_spent(&self) -> bool {
        let Some(quota) = self.capacity.quota else {
            return false;
        };
        let mut used = lock(&self.quota);
        match used.refusing_since {
            Some(since) => since.elapsed() < quota.window,
            None if used.let_through >= quota.after => {
                used.refusing_since = Some(Instant::now());
                true
            }
            None => {
                used.let_through += 1;
                false
            }
        }
    }
}

/// Arguments for one operation, made from the document: every required
/// parameter (keyed by wire name, as [`crate::dynamic::call`] takes them)
/// and the request body when the operation takes one; or, from
/// [`full_example_call`], every parameter the document defines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExampleCall {
    /// Path, query and header parameters by wire name (a `deepObject`
    /// property as `group[property]`).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Cookie parameters as `(name, value)`, ready for
    /// [`Client::with_cookies`](crate::Client::with_cookies).
    pub cookies: Vec<(String, String)>,
    /// The request body, when the operation takes one.
    pub body: Option<serde_json::Value>,
}

/// Valid arguments for `operation`, derived from the document's schemas
/// (their examples, defaults and enum values where they have them), for
/// smoke tests that walk every operation with [`crate::dynamic::call`].
/// Identifiers are examples too: a call that names a session or user may
/// need a real one from the mock's state.
///
/// # Errors
///
/// `operation` is not an operation of the document.
pub fn example_call(operation: &str) -> Result<ExampleCall, MockError> {
    example_arguments(operation, Parameters::Required)
}

/// Like [`example_call`], with every parameter the document defines for
/// `operation`, optional ones included: each property of a `deepObject`
/// group as its own `group[property]` entry, each cookie, and two items
/// for an array parameter (two enum values where the items have an enum),
/// so that a conformance test sends all of them and an exploded array shows
/// on the wire as a repeated name.
///
/// The list is read from the effective document (the pinned document with
/// the overlay, before the build normalizes it for the generator), not from
/// [`crate::spec`]: a parameter the generated client lost is still listed,
/// and [`crate::dynamic::call`] refuses it by name.
///
/// # Errors
///
/// `operation` is not an operation of the document, or one of its
/// parameters has no schema.
pub fn full_example_call(operation: &str) -> Result<ExampleCall, MockError> {
    example_arguments(operation, Parameters::All)
}

/// Which parameters an example call has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parameters {
    Required,
    All,
}

fn example_arguments(operation: &str, which: Parameters) -> Result<ExampleCall, MockError> {
    let spec = crate::spec::operation(operation)
        .ok_or_else(|| MockError(format!("`{operation}` is not an operation of the document")))?;
    let document = schema::Document::load().map_err(MockError)?;
    let pointer = format!(
        "/paths/{}/{}",
        schema::escape(spec.path),
        spec.method.to_ascii_lowercase()
    );
    let mut params = serde_json::Map::new();
    let mut cookies = Vec::new();
    match which {
        Parameters::Required => {
            for parameter in spec.parameters.iter().filter(|p| p.required) {
                let schema = request::parameter_schema(&document, &pointer, parameter.name)
                    .ok_or_else(|| {
                        MockError(format!(
                            "{operation}: the document has no schema for parameter `{}`",
                            parameter.name
                        ))
                    })?;
                params.insert(parameter.name.to_string(), document.example(schema));
            }
            for cookie in spec.cookies.iter().filter(|c| c.required) {
                let schema = request::parameter_schema(&document, &pointer, cookie.name)
                    .ok_or_else(|| {
                        MockError(format!(
                            "{operation}: the document has no schema for cookie `{}`",
                            cookie.name
                        ))
                    })?;
                cookies.push((
                    cookie.name.to_string(),
                    cookie_text(document.example(schema)),
                ));
            }
        }
        Parameters::All => {
            for parameter in request::parameters(&document, &pointer) {
                let schema = parameter.schema.ok_or_else(|| {
                    MockError(format!(
                        "{operation}: the document has no schema for parameter `{}`",
                        parameter.name
                    ))
                })?;
                match parameter.location {
                    "cookie" => cookies.push((
                        parameter.name.to_string(),
                        cookie_text(document.example(schema)),
                    )),
                    "query" if parameter.deep_object => {
                        let properties = document
                            .resolve(schema)
                            .get("properties")
                            .and_then(serde_json::Value::as_object);
                        for (property, property_schema) in properties.into_iter().flatten() {
                            params.insert(
                                format!("{}[{property}]", parameter.name),
                                document.example(property_schema),
                            );
                        }
                    }
                    _ => {
                        params.insert(
                            parameter.name.to_string(),
                            document.parameter_example(schema),
                        );
                    }
                }
            }
        }
    }
    let body = match spec.body {
        Some(body) => {
            let schema_pointer = format!(
                "{}/content/{}/schema",
                request::follow(&document, format!("{pointer}/requestBody")),
                schema::escape(body.media_type)
            );
            let schema = document.at(&schema_pointer).ok_or_else(|| {
                MockError(format!("{operation}: no body schema at {schema_pointer}"))
            })?;
            Some(document.example(schema))
        }
        None => None,
    };
    Ok(ExampleCall {
        params,
        cookies,
        body,
    })
}

/// A cookie value from an example: a string as it is, anything else as JSON.
fn cookie_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    }
}

/// A mock server cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockError(String);

impl std::fmt::Display for MockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MockError {}

/// What the server and the handle share.
pub(crate) struct Shared {
    pub(crate) document: schema::Document,
    pub(crate) routes: request::Routes,
    pub(crate) state: Mutex<state::State>,
    pub(crate) faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    pub(crate) media: Mutex<HashMap<String, Arc<MediaFixture>>>,
    pub(crate) log: Mutex<Vec<RecordedRequest>>,
    /// Requests being answered right now, and the most there ever were.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    /// TCP connections accepted.
    pub(crate) connections: AtomicUsize,
    pub(crate) workers: Mutex<Option<Arc<Workers>>>,
    /// Probes refused for want of capacity.
    pub(crate) rejected: AtomicUsize,
    /// The cassette served instead of the handlers, when replaying.
    pub(crate) replay: Option<replay::Replay>,
    /// Faults queued for a media URL ([`MockServer::inject_for_url`]).
    pub(crate) url_faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    /// Whether a media URL without a fixture gets the API's 404 rather
    /// than the default sample ([`MockServer::set_unknown_media`]).
    pub(crate) unknown_media_404: AtomicBool,
    /// Request ids handed out, for the `x-request-id` of every answer.
    pub(crate) request_ids: AtomicU64,
}

/// What the mock answers for a media URL it has no fixture for
/// ([`MockServer::set_unknown_media`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownMedia {
    /// The default sample (H.264/AAC), as if every URL held it.
    #[default]
    Sample,
    /// The API's 404 answer, so a mistyped URL in a test fails.
    NotFound,
}

/// A running mock server on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct MockServer {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds `127.0.0.1` on a free port and starts serving, on the current
    /// Tokio runtime.
    ///
    /// # Errors
    ///
    /// The port cannot be bound, or the embedded document cannot be read.
    pub async fn start() -> Result<MockServer, MockError> {
        let document = schema::Document::load().map_err(MockError)?;
        MockServer::serve(document, None).await
    }

    /// Binds `127.0.0.1` on a free port and answers from `cassette` only,
    /// its own handlers off: each request gets the recorded answer of the
    /// first interaction it matches that was not replayed yet (by
    /// operation, path, query parameters in any order, and body; a
    /// credential's placeholder matches any credential), so a recorded 503
    /// and then 200 replay as a retry. A request that matches none gets a
    /// 501 whose message names the closest recorded request and how it
    /// differs. Call [`verify`](Self::verify) at the end of a test to fail
    /// it when an interaction was never used.
    ///
    /// # Errors
    ///
    /// The port cannot be bound, or the cassette holds an answer the API
    /// document the client was generated from no longer accepts (each is
    /// listed with its operation and JSON path; see [`stale_answers`]).
    pub async fn replay(cassette: crate::cassette::Cassette) -> Result<MockServer, MockError> {
        let document = schema::Document::load().map_err(MockError)?;
        let replay = replay::Replay::new(cassette, &document)?;
        MockServer::serve(document, Some(replay)).await
    }

    async fn serve(
        document: schema::Document,
        replay: Option<replay::Replay>,
    ) -> Result<MockServer, MockError> {
        let routes = request::Routes::new(&document).map_err(MockError)?;
        let shared = Arc::new(Shared {
            document,
            routes,
            state: Mutex::new(state::State::new()),
            faults: Mutex::new(HashMap::new()),
            media: Mutex::new(media::builtin()),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            workers: Mutex::new(None),
            rejected: AtomicUsize::new(0),
            replay,
            url_faults: Mutex::new(HashMap::new()),
            unknown_media_404: AtomicBool::new(false),
            request_ids: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| MockError(format!("cannot bind a loopback port: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| MockError(format!("cannot read the bound address: {e}")))?;
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(MockServer {
            url: format!("http://{address}"),
            shared,
            task,
        })
    }

    /// Moves the mock's clock forward, so API tokens, sessions and JWTs
    /// expire without a test waiting for them.
    pub fn advance_clock(&self, by: Duration) {
        let by = chrono::TimeDelta::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
        let mut state = lock(&self.shared.state);
        state.clock_offset = state
            .clock_offset
            .checked_add(&by)
            .unwrap_or(chrono::TimeDelta::MAX);
    }

    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client builder for this server, holding its API key.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.url.clone())
            .api_key(API_KEY)
    }

    /// A client for this server, holding its API key; retries wait at most
    /// a few milliseconds so fault tests stay fast.
    ///
    /// # Errors
    ///
    /// The HTTP client cannot be built (its TLS backend failed to start).
    pub fn client(&self) -> Result<Client, crate::ConfigError> {
        let retry = crate::RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(2))
            .with_max_backoff(Duration::from_millis(20));
        self.client_builder().retry(retry).build()
    }

    /// Queues faults for `operation` (a client method name such as
    /// `"get_file"`): each of the next requests to it gets the next fault;
    /// then it answers normally again.
    ///
    /// # Errors
    ///
    /// `operation` is not an operation of the document.
    pub fn inject(
        &self,
        operation: &str,
        faults: impl IntoIterator<Item = Fault>,
    ) -> Result<(), MockError> {
        if crate::spec::operation(operation).is_none() {
            return Err(MockError(format!(
                "`{operation}` is not an operation of the document; see probe_api::spec::operations()"
            )));
        }
        let mut queues = lock(&self.shared.faults);
        queues
            .entry(operation.to_string())
            .or_default()
            .extend(faults);
        Ok(())
    }

    /// Queues faults for the media at `url`: each of the next requests of a
    /// media operation (`get_file`, `post_file`, the validators, C2PA) for
    /// that URL gets the next fault, whatever order the requests arrive in;
    /// then it answers normally again. For a fault every request gets, add
    /// the URL with [`MediaFixture::failing`].
    pub fn inject_for_url(&self, url: impl Into<String>, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.url_faults)
            .entry(url.into())
            .or_default()
            .extend(faults);
    }

    /// What a media URL the mock has no fixture for gets: the default
    /// sample ([`UnknownMedia::Sample`], the default) or the API's 404
    /// ([`UnknownMedia::NotFound`]).
    pub fn set_unknown_media(&self, answer: UnknownMedia) {
        self.shared
            .unknown_media_404
            .store(answer == UnknownMedia::NotFound, Ordering::SeqCst);
    }

    /// Strict replay: an error listing every interaction of the cassette
    /// ([`replay`](Self::replay)) that no request used. A mock that does
    /// not replay has nothing to check.
    ///
    /// # Errors
    ///
    /// An interaction was never replayed.
    pub fn verify(&self) -> Result<(), MockError> {
        let Some(replay) = &self.shared.replay else {
            return Ok(());
        };
        let unused = replay.unused();
        if unused.is_empty() {
            return Ok(());
        }
        Err(MockError(format!(
            "{} recorded interaction(s) never replayed: {}",
            unused.len(),
            unused.join("; ")
        )))
    }

    /// Limits the media operations to `capacity` from now on (probes already
    /// running keep the workers they have); `None` removes the limit.
    pub fn set_capacity(&self, capacity: Option<Capacity>) {
        *lock(&self.shared.workers) = capacity.map(|capacity| {
            Arc::new(Workers {
                capacity,
                admitted: Arc::new(tokio::sync::Semaphore::new(
                    capacity.workers.saturating_add(capacity.queue),
                )),
                free: Arc::new(tokio::sync::Semaphore::new(capacity.workers)),
                quota: Mutex::new(QuotaUse::default()),
            })
        });
    }

    /// How many probes were answered 429 for want of [`Capacity`] or for a
    /// spent [`Quota`].
    pub fn rejected(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }

    /// Answers probes of `url` with `fixture` instead of the default sample.
    pub fn add_media(&self, url: impl Into<String>, fixture: MediaFixture) {
        lock(&self.shared.media).insert(url.into(), Arc::new(fixture));
    }

    /// Adds `count` entries to the media request log, as if that many
    /// probes of `https://media.example/seeded/{n}` had been answered, so a
    /// test can page through a long log without making the probes.
    pub fn seed_log(&self, count: usize) {
        let mut state = lock(&self.shared.state);
        for n in 0..count {
            let id = state.next_uuid();
            let url = format!("https://media.example/seeded/{n}");
            let entry = handlers::log_entry(&self.shared, id, &url, 1);
            state.log.push(entry);
        }
    }

    /// How many entries the media request log holds: one per probe
    /// answered, and those [`seed_log`](Self::seed_log) added.
    pub fn log_len(&self) -> usize {
        lock(&self.shared.state).log.len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// The most requests the mock was answering at the same time, since it
    /// started: how many a client had in flight.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many TCP connections the mock accepted: with a client that
    /// reuses connections, far fewer than requests.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many requests `operation` received.
    pub fn requests_for(&self, operation: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.operation == operation)
            .count()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Locks a mutex, recovering the data if a holder panicked: the mock's
/// state stays usable for the requests that follow.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
