//! Per-call overhead of the SDK against the same request written by hand
//! with reqwest and serde, and what compression does to a large report.
//!
//! A loopback HTTP/1.1 server (its own thread and runtime) answers with
//! fixed bodies: `get_file` with the real h264_aac FFprobe and MediaInfo
//! fixtures wrapped as the API wraps them, `get_session` with a session.
//! Both clients share one `reqwest::Client`, so one connection pool; the
//! server checks that they send the same request line and headers. Batches
//! of SDK calls and of hand-written calls alternate (which goes first
//! alternates too); each round gives a ratio, and the median is reported,
//! so a machine busy with other work slows both sides alike.
//!
//! Run by `cargo xtask bench`, which writes BENCHMARKS.md.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use probe_api::{Client, RetryPolicy, types};
use serde_json::json;

const API_KEY: &str = "bench-api-key";
const MEDIA_URL: &str = "https://media.example/fixtures/h264_aac.mp4";
const LARGE_MEDIA_URL: &str = "https://media.example/bench/large.mp4";
/// The large report, always answered uncompressed (the user-path rows).
const FRAMES_MEDIA_URL: &str = "https://media.example/bench/frames.mp4";
const SESSION_ID: &str = "3f6c1e2a-8b4d-4c7e-9a15-2d0b7e9f4a61";

/// Rounds whose times are thrown away (connections opened, caches warm).
const WARMUP_ROUNDS: usize = 3;
/// Calls in a sequential batch, and rounds of them. Small batches and many
/// rounds keep each SDK batch close in time to its hand-written pair; a
/// round's ratio spreads over ±8 %, so the median takes a thousand of them
/// to settle within a few tenths of a percent.
const SEQUENTIAL_CALLS: usize = 10;
const SEQUENTIAL_ROUNDS: usize = 1001;
/// Calls in a concurrent batch, how many are in flight at once, and rounds.
const CONCURRENT_CALLS: usize = 128;
const IN_FLIGHT: usize = 64;
const CONCURRENT_ROUNDS: usize = 301;
/// Rounds of the user path on the large report (one call each side).
const USER_PATH_ROUNDS: usize = 31;

/// A content coding the server can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    const ALL: [Coding; 4] = [Coding::Identity, Coding::Gzip, Coding::Brotli, Coding::Zstd];

    /// The token in `Accept-Encoding` and `Content-Encoding`.
    fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// What the server does with the large body: gzip at flate2's default
    /// level (6), Brotli at quality 5, zstd at level 3 (their usual levels
    /// for responses compressed on the fly).
    fn compress(self, body: &[u8]) -> Vec<u8> {
        match self {
            Coding::Identity => body.to_vec(),
            Coding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(body).expect("gzip");
                encoder.finish().expect("gzip")
            }
            Coding::Brotli => {
                let mut encoder = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
                encoder.write_all(body).expect("brotli");
                encoder.into_inner()
            }
            Coding::Zstd => zstd::encode_all(body, 3).expect("zstd"),
        }
    }
}

/// What the server answers with.
struct Bodies {
    get_file: Bytes,
    session: Bytes,
    /// The large `get_file` body in each coding.
    large: Vec<(Coding, Bytes)>,
    /// While set, each request's line and headers, for the check that both
    /// clients send the same request.
    recorded: Mutex<Option<Vec<String>>>,
}

impl Bodies {
    fn large(&self, coding: Coding) -> &Bytes {
        let found = self.large.iter().find(|(c, _)| *c == coding);
        &found.expect("every coding is prepared").1
    }
}

fn main() {
    let mediainfo = common::fixture("h264_aac.mediainfo.json");
    let get_file =
        common::get_file_body(&common::fixture("h264_aac.ffprobe.json"), Some(&mediainfo));
    let session = serde_json::to_vec(&json!({
        "id": SESSION_ID,
        "created": "2025-06-24T09:30:00Z",
        "expire": "2025-07-24T09:30:00Z",
        "remote-ip": "203.0.113.7",
        "user-agent": probe_api::USER_AGENT,
        "ua-type": "library"
    }))
    .expect("JSON");
    // `PROBE_BENCH_ONLY=user_path` (or `overhead`, `compression`) runs one
    // part, for work on it; `cargo xtask bench` runs them all. `loop` runs
    // one kind of call only, see [`call_loop`].
    let only = std::env::var("PROBE_BENCH_ONLY").ok();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    // The large report is made by `cargo xtask bench`; the parts that do
    // not use it run without it.
    let large = if runs("user_path") || runs("compression") {
        common::get_file_body(&common::large_report(), None)
    } else {
        Vec::new()
    };
    let bodies = Arc::new(Bodies {
        get_file: Bytes::from(get_file),
        session: Bytes::from(session),
        large: Coding::ALL
            .iter()
            .map(|c| (*c, Bytes::from(c.compress(&large))))
            .collect(),
        recorded: Mutex::new(None),
    });
    // `PROBE_BENCH_ONLY=serve`: this binary is the server of another run
    // (see `ServerProcess`): it serves the small bodies until its stdin
    // closes.
    if only.as_deref() == Some("serve") {
        let addr = serve(bodies);
        println!("{}", addr.port());
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        return;
    }
    let addr = serve(bodies.clone());
    let base = format!("http://{addr}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if only.as_deref() == Some("loop") {
        runtime.block_on(call_loop(&base));
        return;
    }
    if runs("user_path") {
        runtime.block_on(user_path(&base, &bodies));
    }
    if runs("overhead") {
        runtime.block_on(overhead(&base, &bodies));
    }
    if runs("compression") {
        runtime.block_on(compression(&base, &bodies));
    }
}

/// `PROBE_BENCH_ONLY=loop PROBE_BENCH_LOOP=<call>:<n>[:<in flight>]`: `n`
/// calls of one kind (`sdk_get_file`, `hand_get_file`, `sdk_get_session`,
/// `hand_get_session`, with the overhead part's clients and timeouts), one
/// at a time or `in flight` at once, after one to open the connection, and
/// nothing else. For counting
/// instructions: run it under `valgrind --tool=callgrind
/// --separate-threads=yes` for two values of `n`; the difference of the
/// client thread's (the main thread's) counts over the difference of `n`
/// is one call's work, setup and server excluded.
async fn call_loop(base: &str) {
    let spec = std::env::var("PROBE_BENCH_LOOP").unwrap_or_default();
    let mut fields = spec.split(':');
    let call = fields.next().unwrap_or_default().to_string();
    let n: usize = fields
        .next()
        .and_then(|n| n.parse().ok())
        .expect("PROBE_BENCH_LOOP=<call>:<n>[:<in flight>]");
    let in_flight: usize = fields.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let http = default_http_client();
    let sdk = default_sdk_client(base);
    let file_timeout = timeout_of("get_file");
    let session_timeout = timeout_of("get_session");
    let one = || async {
        match call.as_str() {
            "sdk_get_file" => drop(sdk_get_file(&sdk, MEDIA_URL).await),
            "hand_get_file" => {
                drop(hand_get_file(&http, base, MEDIA_URL, Some(file_timeout)).await)
            }
            "sdk_get_session" => drop(sdk_get_session(&sdk).await),
            "hand_get_session" => drop(hand_get_session(&http, base, session_timeout).await),
            other => panic!("PROBE_BENCH_LOOP: no call {other}"),
        }
    };
    one().await;
    futures_util::stream::iter(0..n)
        .for_each_concurrent(in_flight, |_| one())
        .await;
}

/// This bench binary run again as the server (`PROBE_BENCH_ONLY=serve`), so the
/// timed rows measure a client whose process the server does not share:
/// its CPU is the client's own. Dropping it closes the server's stdin,
/// which ends it.
struct ServerProcess {
    child: std::process::Child,
    base: String,
}

impl ServerProcess {
    fn start() -> ServerProcess {
        let mut child = std::process::Command::new(std::env::current_exe().expect("this binary"))
            .env("PROBE_BENCH_ONLY", "serve")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the server process");
        let stdout = child.stdout.take().expect("the server's stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the server's port");
        let port: u16 = line.trim().parse().expect("a port");
        ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Starts the loopback server on its own thread and runtime.
fn serve(bodies: Arc<Bodies>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let bodies = bodies.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, bodies.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

async fn answer(
    request: Request<Incoming>,
    bodies: Arc<Bodies>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(recorded) = bodies.recorded.lock().expect("lock").as_mut() {
        let mut headers: Vec<String> = request
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.sort();
        recorded.push(format!(
            "{} {}\n{}",
            request.method(),
            request.uri(),
            headers.join("\n")
        ));
    }
    let path = request.uri().path();
    let query = request.uri().query().unwrap_or("");
    let (body, coding) = if path == "/v1/probe/file" && query.contains("frames.mp4") {
        (bodies.large(Coding::Identity).clone(), Coding::Identity)
    } else if path == "/v1/probe/file" && query.contains("large.mp4") {
        let offered = request
            .headers()
            .get(ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The server's preference when several codings are offered.
        let coding = [Coding::Zstd, Coding::Brotli, Coding::Gzip]
            .into_iter()
            .find(|c| offered.split(',').any(|t| t.trim() == c.token()))
            .unwrap_or(Coding::Identity);
        (bodies.large(coding).clone(), coding)
    } else if path == "/v1/probe/file" {
        (bodies.get_file.clone(), Coding::Identity)
    } else if path.starts_with("/frontend/api/v1/auth/session/") {
        (bodies.session.clone(), Coding::Identity)
    } else {
        let mut response =
            Response::new(Full::new(Bytes::from_static(b"{\"error\":\"no route\"}")));
        *response.status_mut() = hyper::StatusCode::NOT_FOUND;
        return Ok(response);
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, "application/json".parse().expect("header"));
    headers.insert(
        "x-request-id",
        "0193a4f2-5c1e-7d2b-9a47-3f0c8e6b1d25"
            .parse()
            .expect("header"),
    );
    if coding != Coding::Identity {
        headers.insert(CONTENT_ENCODING, coding.token().parse().expect("header"));
    }
    Ok(response)
}

/// A `reqwest::Client` offering exactly `codings` (none: identity only).
/// A coding whose feature is off is never offered: reqwest has no setter
/// for it then (`cargo xtask bench` turns them all on).
fn http_client(codings: &[Coding]) -> reqwest::Client {
    let builder = reqwest::Client::builder().user_agent(probe_api::USER_AGENT);
    #[cfg(feature = "gzip")]
    let builder = builder.gzip(codings.contains(&Coding::Gzip));
    #[cfg(feature = "brotli")]
    let builder = builder.brotli(codings.contains(&Coding::Brotli));
    #[cfg(feature = "zstd")]
    let builder = builder.zstd(codings.contains(&Coding::Zstd));
    let _ = codings;
    builder.build().expect("reqwest client")
}

/// Whether this build can decode `coding`.
fn decodable(coding: Coding) -> bool {
    match coding {
        Coding::Identity => true,
        Coding::Gzip => cfg!(feature = "gzip"),
        Coding::Brotli => cfg!(feature = "brotli"),
        Coding::Zstd => cfg!(feature = "zstd"),
    }
}

fn sdk_client(base: &str, http: &reqwest::Client, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(base)
        .api_key(API_KEY)
        .http_client(http.clone())
        .retry(retry)
        .build()
        .expect("client")
}

/// The client a user builds: its own connection pool, the default retry
/// policy and timeouts.
fn default_sdk_client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .api_key(API_KEY)
        .build()
        .expect("client")
}

/// The `reqwest::Client` a user builds for hand-written calls (the SDK's
/// user agent, so both send the same headers).
fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(probe_api::USER_AGENT)
        .build()
        .expect("reqwest client")
}

fn session_id() -> uuid::Uuid {
    uuid::Uuid::parse_str(SESSION_ID).expect("uuid")
}

async fn sdk_get_file(client: &Client, media: &str) -> types::GetFileResponse {
    client
        .get_file()
        .url(media)
        .ffprobe_show_streams(true)
        .send()
        .await
        .expect("get_file")
        .into_inner()
}

/// `get_file` as someone would write it without the SDK: the same URL,
/// query and headers, and the same request timeout (`None`: no timeout),
/// decoded into the same generated type.
async fn hand_get_file(
    http: &reqwest::Client,
    base: &str,
    media: &str,
    timeout: Option<Duration>,
) -> types::GetFileResponse {
    let mut request = http
        .get(format!("{base}/v1/probe/file"))
        .query(&[("ffprobe[show_streams]", "true"), ("url", media)])
        .header(reqwest::header::ACCEPT, "application/json")
        .header("api-version", "v1.0")
        .bearer_auth(API_KEY);
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    let response = request.send().await.expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// `get_file` as a first hand-written call: `reqwest::Client::new()`, the
/// URL, query and credential, the body decoded into the same type.
async fn bare_get_file(http: &reqwest::Client, base: &str, media: &str) -> types::GetFileResponse {
    let response = http
        .get(format!("{base}/v1/probe/file"))
        .query(&[("ffprobe[show_streams]", "true"), ("url", media)])
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// `get_session` as a first hand-written call (see [`bare_get_file`]).
async fn bare_get_session(http: &reqwest::Client, base: &str) -> types::AuthGetSessionResponse {
    let response = http
        .get(format!("{base}/frontend/api/v1/auth/session/{SESSION_ID}"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// The hand-written typed call's type: the SDK's own report type in a
/// three-line wrapper.
#[derive(serde::Deserialize)]
struct HandFile {
    ffprobe: HandTool,
}

#[derive(serde::Deserialize)]
struct HandTool {
    response: probe_api::reports::FfprobeReport,
}

/// What a user of the SDK does with a large report: `get_file`, then the
/// typed report.
async fn sdk_frames(client: &Client) -> probe_api::reports::FfprobeReport {
    client
        .get_file()
        .url(FRAMES_MEDIA_URL)
        .ffprobe_show_streams(true)
        .send()
        .await
        .expect("get_file")
        .into_inner()
        .into_ffprobe()
        .expect("typed report")
}

/// The same request by hand, its body decoded as `T`.
async fn hand_frames<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    timeout: Duration,
) -> T {
    let response = http
        .get(format!("{base}/v1/probe/file"))
        .query(&[("ffprobe[show_streams]", "true"), ("url", FRAMES_MEDIA_URL)])
        .header(reqwest::header::ACCEPT, "application/json")
        .header("api-version", "v1.0")
        .bearer_auth(API_KEY)
        .timeout(timeout)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// The user path on the large report, with the clients users build: the
/// SDK's `get_file` and `into_ffprobe()` against the hand-written call
/// decoding into the same report type, and against one decoding a
/// `serde_json::Value`.
async fn user_path(base: &str, bodies: &Bodies) {
    let sdk = default_sdk_client(base);
    let http = default_http_client();
    let timeout = timeout_of("get_file");
    same_requests(
        bodies,
        "get_file (large)",
        async {
            drop(sdk_frames(&sdk).await);
        },
        async {
            drop(
                hand_frames::<HandFile>(&http, base, timeout)
                    .await
                    .ffprobe
                    .response,
            );
        },
    )
    .await;
    let batch = Batch::Sequential(1);
    for baseline in ["typed", "value"] {
        let (s, h) = alternate(
            batch,
            USER_PATH_ROUNDS,
            || async { drop(sdk_frames(&sdk).await) },
            || async {
                match baseline {
                    "typed" => drop(
                        hand_frames::<HandFile>(&http, base, timeout)
                            .await
                            .ffprobe
                            .response,
                    ),
                    _ => drop(hand_frames::<serde_json::Value>(&http, base, timeout).await),
                }
            },
        )
        .await;
        let r = ratios(&s, &h);
        let cpu: Vec<f64> = s.iter().zip(&h).map(|(s, h)| s.cpu / h.cpu).collect();
        common::emit(json!({
            "bench": "user_path",
            "baseline": baseline,
            "bytes": bodies.large(Coding::Identity).len(),
            "rounds": s.len(),
            "sdk_ms": common::median(&walls(&s)) * 1e3,
            "hand_ms": common::median(&walls(&h)) * 1e3,
            "ratio": common::median(&r),
            "ratio_p25": common::quantile(&r, 0.25),
            "ratio_p75": common::quantile(&r, 0.75),
            "sdk_cpu_ms": common::median(&cpus(&s)) * 1e3,
            "hand_cpu_ms": common::median(&cpus(&h)) * 1e3,
            "cpu_ratio": common::median(&cpu),
            "cpu_ratio_p25": common::quantile(&cpu, 0.25),
            "cpu_ratio_p75": common::quantile(&cpu, 0.75),
        }));
    }
}

async fn sdk_get_session(client: &Client) -> types::AuthGetSessionResponse {
    client
        .get_session()
        .session_id(session_id())
        .send()
        .await
        .expect("get_session")
        .into_inner()
}

async fn hand_get_session(
    http: &reqwest::Client,
    base: &str,
    timeout: Duration,
) -> types::AuthGetSessionResponse {
    let response = http
        .get(format!(
            "{base}/frontend/api/v1/auth/session/{}",
            session_id()
        ))
        .header(reqwest::header::ACCEPT, "application/json")
        .header("api-version", "v1.0")
        .bearer_auth(API_KEY)
        .timeout(timeout)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// How the calls of a batch are made.
#[derive(Debug, Clone, Copy)]
enum Batch {
    /// One after another.
    Sequential(usize),
    /// `calls` calls, `in_flight` at a time.
    Concurrent { calls: usize, in_flight: usize },
}

impl Batch {
    fn calls(self) -> usize {
        match self {
            Batch::Sequential(n) => n,
            Batch::Concurrent { calls, .. } => calls,
        }
    }

    /// Runs the batch; its wall time and the CPU time of this thread
    /// (where the client runs), per call, in seconds.
    async fn run<F, Fut>(self, call: &F) -> Sample
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()>,
    {
        let cpu = thread_cpu_ns();
        let started = Instant::now();
        match self {
            Batch::Sequential(n) => {
                for _ in 0..n {
                    call().await;
                }
            }
            Batch::Concurrent { calls, in_flight } => {
                futures_util::stream::iter(0..calls)
                    .for_each_concurrent(in_flight, |_| call())
                    .await;
            }
        }
        let calls = self.calls() as f64;
        Sample {
            wall: started.elapsed().as_secs_f64() / calls,
            cpu: match (cpu, thread_cpu_ns()) {
                (Some(before), Some(after)) => after.saturating_sub(before) as f64 / 1e9 / calls,
                _ => f64::NAN,
            },
        }
    }
}

/// One batch's time per call.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// Nanoseconds this thread has run on a CPU (Linux schedstat), if known.
/// The client runs on this thread alone, so its CPU time is the client's
/// work, which waiting for the server or for a busy machine does not add to.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs batches of `a` and `b` in alternating rounds (which goes first
/// alternates too): one sample of each per round.
async fn alternate<A, FutA, B, FutB>(
    batch: Batch,
    rounds: usize,
    a: A,
    b: B,
) -> (Vec<Sample>, Vec<Sample>)
where
    A: Fn() -> FutA,
    FutA: Future<Output = ()>,
    B: Fn() -> FutB,
    FutB: Future<Output = ()>,
{
    let (mut a_samples, mut b_samples) = (Vec::new(), Vec::new());
    for round in 0..WARMUP_ROUNDS + rounds {
        let (sa, sb) = if round % 2 == 0 {
            let sa = batch.run(&a).await;
            (sa, batch.run(&b).await)
        } else {
            let sb = batch.run(&b).await;
            (batch.run(&a).await, sb)
        };
        if round >= WARMUP_ROUNDS {
            a_samples.push(sa);
            b_samples.push(sb);
        }
    }
    (a_samples, b_samples)
}

/// The wall-time ratio of each round, a / b.
fn ratios(a: &[Sample], b: &[Sample]) -> Vec<f64> {
    a.iter().zip(b).map(|(a, b)| a.wall / b.wall).collect()
}

fn walls(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.wall).collect()
}

fn cpus(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.cpu).collect()
}

/// Checks that the SDK and the hand-written call send the same request
/// line and headers.
async fn same_requests<A: Future, B: Future>(bodies: &Bodies, what: &str, sdk: A, hand: B) {
    *bodies.recorded.lock().expect("lock") = Some(Vec::new());
    sdk.await;
    hand.await;
    let recorded = bodies
        .recorded
        .lock()
        .expect("lock")
        .take()
        .unwrap_or_default();
    assert!(
        recorded.len() == 2 && recorded[0] == recorded[1],
        "{what}: the SDK and the hand-written call send different requests:\n{recorded:#?}"
    );
}

async fn overhead(base: &str, bodies: &Bodies) {
    // The clients users build: the SDK's default (its own pool, the default
    // retry policy) and reqwest's default for the hand-written calls.
    let http = default_http_client();
    let sdk = default_sdk_client(base);
    // The SDK gives every request a timeout (for media operations, the
    // analysis time the request allows plus a margin), so the hand-written
    // calls set the same one; a last row shows a call without any.
    let file_timeout = timeout_of("get_file");
    let session_timeout = timeout_of("get_session");
    // The requests are checked against this process's server, which
    // records them; the timed rows use a server in a process of its own.
    same_requests(
        bodies,
        "get_file",
        sdk_get_file(&sdk, MEDIA_URL),
        hand_get_file(&http, base, MEDIA_URL, Some(file_timeout)),
    )
    .await;
    same_requests(
        bodies,
        "get_session",
        sdk_get_session(&sdk),
        hand_get_session(&http, base, session_timeout),
    )
    .await;

    let server = ServerProcess::start();
    let base = server.base.as_str();
    let sdk = default_sdk_client(base);
    // For comparison: the SDK on the hand-written call's reqwest client,
    // without retries.
    let sdk_shared = sdk_client(base, &http, RetryPolicy::none());
    // The baseline a user writes first: `reqwest::Client::new()`, the URL,
    // the credential, the body decoded into the same type; no timeout, no
    // user agent, no `Accept`.
    let bare = reqwest::Client::new();

    let sequential = Batch::Sequential(SEQUENTIAL_CALLS);
    let concurrent = Batch::Concurrent {
        calls: CONCURRENT_CALLS,
        in_flight: IN_FLIGHT,
    };
    for (batch, rounds, mode) in [
        (sequential, SEQUENTIAL_ROUNDS, "sequential"),
        (concurrent, CONCURRENT_ROUNDS, "concurrent"),
    ] {
        let (s, h) = alternate(
            batch,
            rounds,
            || async { drop(sdk_get_file(&sdk, MEDIA_URL).await) },
            || async { drop(bare_get_file(&bare, base, MEDIA_URL).await) },
        )
        .await;
        emit_overhead("get_file", mode, "bare", batch, &s, &h);
        let (s, h) = alternate(
            batch,
            rounds,
            || async { drop(sdk_get_session(&sdk).await) },
            || async { drop(bare_get_session(&bare, base).await) },
        )
        .await;
        emit_overhead("get_session", mode, "bare", batch, &s, &h);
        let (s, h) = alternate(
            batch,
            rounds,
            || async { drop(sdk_get_file(&sdk, MEDIA_URL).await) },
            || async { drop(hand_get_file(&http, base, MEDIA_URL, Some(file_timeout)).await) },
        )
        .await;
        emit_overhead("get_file", mode, "default", batch, &s, &h);
        let (s, h) = alternate(
            batch,
            rounds,
            || async { drop(sdk_get_session(&sdk).await) },
            || async { drop(hand_get_session(&http, base, session_timeout).await) },
        )
        .await;
        emit_overhead("get_session", mode, "default", batch, &s, &h);
    }
    let (s, h) = alternate(
        sequential,
        SEQUENTIAL_ROUNDS,
        || async { drop(sdk_get_session(&sdk_shared).await) },
        || async { drop(hand_get_session(&http, base, session_timeout).await) },
    )
    .await;
    emit_overhead("get_session", "sequential", "shared", sequential, &s, &h);
    let (s, h) = alternate(
        sequential,
        SEQUENTIAL_ROUNDS,
        || async { drop(sdk_get_file(&sdk, MEDIA_URL).await) },
        || async { drop(hand_get_file(&http, base, MEDIA_URL, None).await) },
    )
    .await;
    emit_overhead("get_file", "sequential", "untimed", sequential, &s, &h);
    // The method's floor: two identical hand-written clients, made
    // together, each with its own pool, in the same alternating rounds.
    let (first, second) = (default_http_client(), default_http_client());
    let (s, h) = alternate(
        sequential,
        SEQUENTIAL_ROUNDS,
        || async { drop(hand_get_session(&first, base, session_timeout).await) },
        || async { drop(hand_get_session(&second, base, session_timeout).await) },
    )
    .await;
    emit_overhead("get_session", "sequential", "a/a", sequential, &s, &h);

    // An application that logs at INFO (tracing-subscriber's `fmt`, writing
    // nowhere): the SDK's span is recorded on every call, the hand-written
    // call has none at that level.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish();
    let traced = tracing::subscriber::set_default(subscriber);
    let (s, h) = alternate(
        sequential,
        SEQUENTIAL_ROUNDS,
        || async { drop(sdk_get_file(&sdk, MEDIA_URL).await) },
        || async { drop(hand_get_file(&http, base, MEDIA_URL, Some(file_timeout)).await) },
    )
    .await;
    emit_overhead("get_file", "sequential", "traced", sequential, &s, &h);
    let (s, h) = alternate(
        sequential,
        SEQUENTIAL_ROUNDS,
        || async { drop(sdk_get_session(&sdk).await) },
        || async { drop(hand_get_session(&http, base, session_timeout).await) },
    )
    .await;
    emit_overhead("get_session", "sequential", "traced", sequential, &s, &h);
    drop(traced);
}

/// The request timeout the SDK gives `operation` (with no analysis time
/// asked for), by its public rule.
fn timeout_of(operation: &str) -> Duration {
    probe_api::timeouts::request_timeout(
        probe_api::spec::operation(operation),
        probe_api::timeouts::Analysis::NONE,
        probe_api::timeouts::DEFAULT_TIMEOUT,
    )
}

/// `setup`: `bare` (the SDK's default client against `reqwest::Client::new()`
/// and the plainest call), `default` (the clients users build on both sides), `shared`
/// (the SDK on the hand-written call's reqwest client, no retries),
/// `untimed` (default clients, the hand-written call without a timeout),
/// `a/a` (two hand-written clients, the method's floor) or `traced`
/// (default clients, a `tracing` subscriber at INFO installed).
fn emit_overhead(
    operation: &str,
    mode: &str,
    setup: &str,
    batch: Batch,
    sdk: &[Sample],
    hand: &[Sample],
) {
    let r = ratios(sdk, hand);
    let in_flight = match batch {
        Batch::Sequential(_) => 1,
        Batch::Concurrent { in_flight, .. } => in_flight,
    };
    // The kernel brings a running thread's CPU time up to date only when it
    // is scheduled out or at a timer tick; a sequential call blocks on every
    // exchange, but a concurrent batch keeps the thread running for whole
    // ticks, so its CPU time is too coarse to report.
    let (sdk_cpu, hand_cpu) = match batch {
        Batch::Sequential(_) => (common::median(&cpus(sdk)), common::median(&cpus(hand))),
        Batch::Concurrent { .. } => (f64::NAN, f64::NAN),
    };
    // Like the wall ratio, the median of the rounds' ratios: a round's two
    // sides ran back to back, so what slowed the machine then slowed both.
    let cpu_ratio = match batch {
        Batch::Sequential(_) => {
            let per_round: Vec<f64> = sdk.iter().zip(hand).map(|(s, h)| s.cpu / h.cpu).collect();
            common::median(&per_round)
        }
        Batch::Concurrent { .. } => f64::NAN,
    };
    common::emit(json!({
        "bench": "overhead",
        "operation": operation,
        "mode": mode,
        "in_flight": in_flight,
        "setup": setup,
        "calls_per_batch": batch.calls(),
        "rounds": sdk.len(),
        "sdk_us": common::median(&walls(sdk)) * 1e6,
        "hand_us": common::median(&walls(hand)) * 1e6,
        "ratio": common::median(&r),
        "ratio_p25": common::quantile(&r, 0.25),
        "ratio_p75": common::quantile(&r, 0.75),
        "sdk_cpu_us": sdk_cpu * 1e6,
        "hand_cpu_us": hand_cpu * 1e6,
        "cpu_ratio": cpu_ratio,
    }));
}

async fn compression(base: &str, bodies: &Bodies) {
    let plain_http = http_client(&[]);
    let plain = sdk_client(base, &plain_http, RetryPolicy::none());
    let identity = bodies.large(Coding::Identity).len();
    for coding in [Coding::Gzip, Coding::Brotli, Coding::Zstd]
        .into_iter()
        .filter(|c| decodable(*c))
    {
        let http = http_client(&[coding]);
        let compressed = sdk_client(base, &http, RetryPolicy::none());
        let batch = Batch::Sequential(1);
        let (c, p) = alternate(
            batch,
            21,
            || async { drop(sdk_get_file(&compressed, LARGE_MEDIA_URL).await) },
            || async { drop(sdk_get_file(&plain, LARGE_MEDIA_URL).await) },
        )
        .await;
        let r = ratios(&c, &p);
        let wire = bodies.large(coding).len();
        let (c_med, p_med) = (common::median(&walls(&c)), common::median(&walls(&p)));
        // Below this bandwidth the bytes saved take longer to send than
        // decompressing takes (on loopback, sending is nearly free).
        // The extra time is taken from the median ratio, the figure reported.
        let ratio = common::median(&r);
        let break_even_mbit =
            (ratio > 1.0).then(|| (identity - wire) as f64 * 8.0 / ((ratio - 1.0) * p_med) / 1e6);
        common::emit(json!({
            "bench": "compression",
            "coding": coding.token(),
            "rounds": c.len(),
            "identity_bytes": identity,
            "wire_bytes": wire,
            "compressed_ms": c_med * 1e3,
            "identity_ms": p_med * 1e3,
            "ratio": ratio,
            "break_even_mbit_s": break_even_mbit,
        }));
    }
}
