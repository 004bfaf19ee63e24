//! Prism (`@stoplight/prism-cli`, pinned by `tests/prism/package-lock.json`),
//! Stoplight's mock server, as a referee the project does not write: it
//! validates every request against the OpenAPI document and answers with
//! bodies shaped by the document's schemas.
//!
//! [`Prism::start`] writes the effective document (the pinned document with
//! the overlay, still OpenAPI 3.1, not the normalized copy progenitor sees) to
//! a temporary file, starts `prism mock` on a free loopback port, waits until
//! the port accepts connections, and puts a recording proxy in front of it.
//! The client talks to the proxy ([`Prism::url`]); the proxy keeps each
//! request as it arrived on the wire and Prism's verdict on it
//! ([`Exchange::violations`]). The verdict has to be read there: when an
//! operation documents a 400 response, Prism answers an invalid request with
//! that response's example and lists the violations only in its
//! `sl-violations` header, which the client does not expose.
//!
//! Dropping the [`Prism`] stops the process and the proxy and removes the
//! temporary file. Nothing here leaves the loopback interface.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The command that installs the pinned Prism, run from the workspace root
/// (the README's test command runs it first).
pub const INSTALL_COMMAND: &str = "npm ci --prefix tests/prism --no-audit --no-fund";

/// How long Prism may take to load the document and listen. It needs about
/// two seconds on an idle machine; the rest is for a CI machine busy
/// compiling and running the other tests.
const STARTUP_LIMIT: Duration = Duration::from_secs(90);

/// How many of Prism's last lines of output are kept for failure messages.
const LOG_LINES: usize = 80;

/// How Prism makes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `prism mock`: the document's examples, else a body Prism builds from
    /// the schema (the same body every time).
    Static,
    /// `prism mock -d`: random schema-shaped bodies (json-schema-faker).
    ///
    /// Prism 5.14.2 has `--seed`, but it reseeds the generator before every
    /// answer, so one seed gives the same body for every call of an
    /// operation. It also reads a seed per request (`Prefer: seed=...`, in
    /// prism-http-server's `getHttpConfigFromRequest`); the proxy sets one
    /// from the request's sequence number, so a run that makes its calls in
    /// a fixed order sees varied bodies and the same ones every run.
    Dynamic,
}

/// A running Prism behind a recording proxy; stops when dropped.
#[derive(Debug)]
pub struct Prism {
    process: Process,
    proxy: Proxy,
}

impl Prism {
    /// Starts Prism on the effective document of this workspace.
    ///
    /// # Panics
    ///
    /// Prism is not installed (the message names [`INSTALL_COMMAND`]), the
    /// document cannot be built, or Prism does not start; the message has
    /// Prism's output.
    pub async fn start(mode: Mode) -> Prism {
        let document = xtask::Layout::from_manifest_dir()
            .pipeline()
            .unwrap_or_else(|e| panic!("the effective document cannot be built: {e}"))
            .effective;
        Prism::start_with(document, mode).await
    }

    /// Starts Prism on `document`.
    ///
    /// # Panics
    ///
    /// As [`Prism::start`].
    pub async fn start_with(document: Value, mode: Mode) -> Prism {
        // Starting blocks until Prism listens, so it runs off the runtime; a
        // failure to start panics there and is re-raised here as it was.
        let process =
            match tokio::task::spawn_blocking(move || Process::start(&document, mode)).await {
                Ok(process) => process,
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(e) => panic!("starting Prism did not finish: {e}"),
                },
            };
        let proxy = Proxy::start(process.address, mode == Mode::Dynamic).await;
        Prism { process, proxy }
    }

    /// The base URL clients use: the recording proxy in front of Prism.
    pub fn url(&self) -> &str {
        &self.proxy.url
    }

    /// Prism's own address, without the proxy.
    pub fn direct_address(&self) -> SocketAddr {
        self.process.address
    }

    /// Every exchange so far, in the order the requests arrived.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.proxy.exchanges).clone()
    }

    /// The exchanges so far, leaving none recorded.
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        std::mem::take(&mut *lock(&self.proxy.exchanges))
    }

    /// The last lines Prism printed, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// One request as the client sent it and Prism's answer to it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP method.
    pub method: String,
    /// The path as sent, percent-encoding included.
    pub path: String,
    /// The query string as sent, if any.
    pub query: Option<String>,
    /// The request headers, names in lower case, in the order sent.
    pub request_headers: Vec<(String, String)>,
    /// The request body.
    pub request_body: Bytes,
    /// The seed the proxy asked Prism to generate the answer with.
    pub seed: Option<String>,
    /// Prism's status code (502 when Prism could not be reached).
    pub status: u16,
    /// Prism's response headers, names in lower case.
    pub response_headers: Vec<(String, String)>,
    /// Prism's response body.
    pub response_body: Bytes,
}

/// One problem Prism found with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, such as `request.query.only` or `path.session-id`.
    pub location: String,
    /// Prism's code for it, such as `enum`, `required` or `UNAUTHORIZED`.
    pub code: String,
    /// Prism's message.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]: {}", self.location, self.code, self.message)
    }
}

impl Exchange {
    /// The first request header called `name` (any case).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        find_header(&self.request_headers, name)
    }

    /// The first response header called `name` (any case).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find_header(&self.response_headers, name)
    }

    /// The query parameters, decoded, in the order sent.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let Some(query) = &self.query else {
            return Vec::new();
        };
        reqwest::Url::parse(&format!("http://query.invalid/?{query}"))
            .map(|url| {
                url.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cookies of the `Cookie` header, in the order sent.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.request_headers
            .iter()
            .filter(|(name, _)| name == "cookie")
            .flat_map(|(_, line)| line.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                Some((name.to_string(), value.to_string()))
            })
            .collect()
    }

    /// Prism's response body as JSON, if it is JSON.
    pub fn response_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.response_body).ok()
    }

    /// What Prism found wrong with the request: the violations of its
    /// `sl-violations` header, and an error Prism made up itself (a
    /// `application/problem+json` body whose type is one of Prism's, such
    /// as a 422 listing violations or a 401 for missing credentials).
    /// Violations of Prism's own answer (location `response`) are not the
    /// request's and are left out.
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        if let Some(header) = self.response_header("sl-violations") {
            match serde_json::from_str::<Value>(header) {
                Ok(Value::Array(entries)) => found.extend(entries.iter().map(violation)),
                _ => found.push(Violation {
                    location: "request".into(),
                    code: "sl-violations".into(),
                    message: format!("unreadable sl-violations header: {header}"),
                }),
            }
        }
        let problem = self
            .response_header("content-type")
            .is_some_and(|ct| ct.starts_with("application/problem+json"));
        if let Some(body) = self.response_json().filter(|_| problem) {
            let kind = body["type"].as_str().unwrap_or_default();
            if let Some(code) = kind.strip_prefix("https://stoplight.io/prism/errors#") {
                match body["validation"].as_array() {
                    Some(entries) if !entries.is_empty() => {
                        found.extend(entries.iter().map(violation));
                    }
                    _ => found.push(Violation {
                        location: "request".into(),
                        code: code.to_string(),
                        message: format!(
                            "{}: {}",
                            body["title"].as_str().unwrap_or_default(),
                            body["detail"].as_str().unwrap_or_default()
                        ),
                    }),
                }
            }
        }
        found.retain(|v| !v.location.starts_with("response"));
        found.dedup();
        found
    }
}

fn violation(entry: &Value) -> Violation {
    let location = entry["location"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default();
    Violation {
        location,
        code: entry["code"]
            .as_str()
            .map_or_else(|| entry["code"].to_string(), str::to_string),
        message: entry["message"].as_str().unwrap_or_default().to_string(),
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `prism mock` process, its output and its document file.
#[derive(Debug)]
struct Process {
    child: Child,
    address: SocketAddr,
    document: PathBuf,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Process {
    fn start(document: &Value, mode: Mode) -> Process {
        let binary = crate::root().join("tests/prism/node_modules/.bin/prism");
        if !binary.is_file() {
            panic!(
                "Prism is not installed ({} is missing): run `{INSTALL_COMMAND}` at the \
                 workspace root (the README's test command runs it before `cargo test`)",
                binary.display()
            );
        }
        let path = document_path();
        let text = serde_json::to_vec(document)
            .unwrap_or_else(|e| panic!("the document cannot be written as JSON: {e}"));
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        // A port taken by someone else between choosing it and Prism
        // binding it makes Prism exit with EADDRINUSE; another port is tried
        // then. Any other failure ends the test at once.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Process::spawn(&binary, &path, mode) {
                Ok(process) => return process,
                Err(failure) => {
                    let port_taken = failure.contains("EADDRINUSE");
                    failures.push(failure);
                    if !port_taken {
                        break;
                    }
                }
            }
        }
        // A running process owns the file; without one it goes here.
        let _ = std::fs::remove_file(&path);
        panic!(
            "Prism did not start ({} tries):\n{}",
            failures.len(),
            failures.join("\n---\n")
        );
    }

    fn spawn(binary: &Path, document: &Path, mode: Mode) -> Result<Process, String> {
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("mock")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(document)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        if mode == Mode::Dynamic {
            command.arg("-d");
        }
        let mut child = command.spawn().map_err(|e| {
            format!(
                "cannot run {}: {e} (Node.js must be on PATH; then `{INSTALL_COMMAND}`)",
                binary.display()
            )
        })?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (lines, output) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            // Prism logs every request: its pipes are drained for as long as
            // it runs, or it would block once they are full.
            let log = log.clone();
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut log = lock(&log);
                    if log.len() == LOG_LINES {
                        log.pop_front();
                    }
                    log.push_back(line);
                    drop(log);
                    let _ = lines.send(());
                }
            });
        }
        drop(lines);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let process = Process {
            child,
            address,
            document: document.to_path_buf(),
            log,
        };
        process.wait_until_ready(&output)
    }

    /// Polls the port until Prism accepts connections. Between attempts it
    /// waits for Prism's next line of output, at most 50 ms, so a failure
    /// (Prism exits) is seen at once and success within a poll interval.
    fn wait_until_ready(mut self, output: &mpsc::Receiver<()>) -> Result<Process, String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last lines (the reason) may still be in the pipes: read
                // on until the readers reach the end of both.
                while output.recv_timeout(Duration::from_secs(2)).is_ok() {}
                let log = self.log();
                // The document file stays: `Process::start` tries again with it.
                self.document = PathBuf::new();
                return Err(format!("Prism exited with {status}:\n{log}"));
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return Ok(self);
            }
            if started.elapsed() > STARTUP_LIMIT {
                let log = self.log();
                self.document = PathBuf::new();
                return Err(format!(
                    "Prism did not listen on {} within {STARTUP_LIMIT:?}:\n{log}",
                    self.address
                ));
            }
            let _ = output.recv_timeout(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        let log = lock(&self.log);
        log.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // `.bin/prism` is Node running Prism's CLI in this one process
        // (without `-m` it forks no server), so ending the child ends Prism.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.document.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.document);
        }
    }
}

/// A temporary file name for the document, unique in this process.
fn document_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "probe-api-prism-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ))
}

/// A loopback port nothing listens on right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// An HTTP/1.1 reverse proxy on a loopback port that forwards each request
/// to Prism unchanged (with a seed in dynamic mode) and records it.
#[derive(Debug)]
struct Proxy {
    url: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr, seeded: bool) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind a loopback port for the proxy: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read the proxy's address: {e}"));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let recorded = exchanges.clone();
        let counter = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let recorded = recorded.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let recorded = recorded.clone();
                        let seed =
                            seeded.then(|| counter.fetch_add(1, Ordering::SeqCst).to_string());
                        async move { forward(upstream, request, seed, &recorded).await }
                    });
                    // A connection the client closes ends here.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy {
            url: format!("http://{address}"),
            exchanges,
            task,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
];

async fn forward(
    upstream: SocketAddr,
    request: hyper::Request<Incoming>,
    seed: Option<String>,
    recorded: &Mutex<Vec<Exchange>>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let request_body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let request_headers = headers_of(&parts.headers);
    let mut exchange = Exchange {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        request_headers,
        request_body: request_body.clone(),
        seed: seed.clone(),
        status: 502,
        response_headers: Vec::new(),
        response_body: Bytes::new(),
    };
    let answer = match send_upstream(upstream, &parts, request_body, seed.as_deref()).await {
        Ok((status, headers, body)) => {
            exchange.status = status.as_u16();
            exchange.response_headers = headers_of(&headers);
            exchange.response_body = body.clone();
            let mut response = hyper::Response::new(Full::new(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if !HOP_BY_HOP.contains(&name.as_str()) {
                    response.headers_mut().append(name, value.clone());
                }
            }
            response
        }
        Err(problem) => {
            let text = format!("the proxy could not reach Prism at {upstream}: {problem}");
            exchange.response_body = Bytes::from(text.clone());
            let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
            *response.status_mut() = http::StatusCode::BAD_GATEWAY;
            response
        }
    };
    lock(recorded).push(exchange);
    Ok(answer)
}

/// Sends the request to Prism on a new connection and reads the whole answer.
async fn send_upstream(
    upstream: SocketAddr,
    parts: &http::request::Parts,
    body: Bytes,
    seed: Option<&str>,
) -> Result<(http::StatusCode, http::HeaderMap, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(target)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            request.headers_mut().append(name, value.clone());
        }
    }
    let host = http::HeaderValue::from_str(&upstream.to_string()).map_err(|e| e.to_string())?;
    request.headers_mut().insert(http::header::HOST, host);
    if let Some(seed) = seed {
        let prefer =
            http::HeaderValue::from_str(&format!("seed={seed}")).map_err(|e| e.to_string())?;
        request.headers_mut().insert("prefer", prefer);
    }
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((parts.status, parts.headers, body))
}

fn headers_of(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}
