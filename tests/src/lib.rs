//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A file under `tests/fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// Reads a file or fails the test with its name.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The OpenAPI fragment a published reference page carries in its
/// ```` ```yaml ```` block, as JSON.
pub fn yaml_fragment_of_markdown(markdown: &str) -> Value {
    let start = markdown
        .find("````yaml")
        .unwrap_or_else(|| panic!("no ````yaml block"));
    let body = &markdown[start..];
    let body = &body[body.find('\n').map_or(0, |i| i + 1)..];
    let end = body.find("````").unwrap_or(body.len());
    serde_yaml_ng::from_str(&body[..end])
        .unwrap_or_else(|e| panic!("the fragment is not YAML: {e}"))
}

/// `(METHOD, path, operationId)` of every operation in a document, read
/// directly from the JSON rather than through the normalizer.
pub fn operations_of(document: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(paths) = document["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in xtask::codegen::normalize::METHODS {
            if let Some(op) = item.get(method) {
                out.push((
                    method.to_uppercase(),
                    path.clone(),
                    op["operationId"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

pub mod faults;

/// The messages of an error's sources, outermost first, joined by `: `.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push(cause.to_string());
        source = cause.source();
    }
    out.join(": ")
}

/// Tracing output of everything the current thread logs while the guard
/// lives, at every level, as plain text.
#[derive(Clone, Default, Debug)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Installs a subscriber writing into the capture for the current thread.
    ///
    /// tracing caches, per callsite, whether any subscriber wants it. A
    /// callsite first reached on another test's thread while no subscriber
    /// is installed can be cached as unwanted just as this thread installs
    /// its own, and its spans are then lost here. A process-wide subscriber
    /// that wants everything (and writes it nowhere) keeps every callsite
    /// wanted, so the thread's own subscriber always sees its spans.
    pub fn install() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
        static WANT_EVERYTHING: std::sync::Once = std::sync::Once::new();
        WANT_EVERYTHING.call_once(|| {
            let everything = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(std::io::sink)
                .finish();
            // Another global subscriber, if a test set one, serves as well.
            let _ = tracing::subscriber::set_global_default(everything);
        });
        let logs = CapturedLogs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(logs.clone())
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A loopback HTTP/1.1 server on its own thread, for blocking clients such
/// as `cargo xtask fetch`: each connection gets the next scripted reply
/// (the last one repeats), then the connection closes.
pub mod script_server {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// What the server answers one connection with.
    #[derive(Debug, Clone)]
    pub enum Reply {
        /// A complete answer with `content-length`.
        Full {
            /// Status code.
            status: u16,
            /// Extra header lines.
            headers: Vec<(String, String)>,
            /// The body.
            body: Vec<u8>,
        },
        /// A 200 answer without `content-length`: the body ends when the
        /// connection closes, so only the client's own limit stops it.
        Unframed {
            /// The body.
            body: Vec<u8>,
        },
        /// A 200 answer announcing `declared` bytes that sends only `sent`.
        Cut {
            /// The `content-length` announced.
            declared: usize,
            /// The bytes actually sent.
            sent: Vec<u8>,
        },
        /// Never answers; the connection stays open until the server drops.
        Stall,
    }

    impl Reply {
        /// 200 with a JSON body.
        pub fn json(body: &[u8]) -> Reply {
            Reply::Full {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_vec(),
            }
        }

        /// Any status with a content type and body.
        pub fn status(status: u16, content_type: &str, body: &[u8]) -> Reply {
            Reply::Full {
                status,
                headers: vec![("content-type".into(), content_type.into())],
                body: body.to_vec(),
            }
        }

        /// A redirect to `location`.
        pub fn redirect(status: u16, location: &str) -> Reply {
            Reply::Full {
                status,
                headers: vec![("location".into(), location.into())],
                body: Vec::new(),
            }
        }
    }

    /// The running server; dropping it stops the thread.
    #[derive(Debug)]
    pub struct ScriptServer {
        address: SocketAddr,
        requests: Arc<Mutex<Vec<String>>>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl ScriptServer {
        /// Binds a loopback port, then serves `script` on a thread.
        pub fn start(script: Vec<Reply>) -> ScriptServer {
            assert!(!script.is_empty(), "a script needs a reply");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            let address = listener.local_addr().expect("local address");
            let requests = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let (seen, stopping) = (requests.clone(), stop.clone());
            let thread = std::thread::spawn(move || {
                let mut held = Vec::new();
                for (n, stream) in listener.incoming().enumerate() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some(line) = read_request_line(&mut stream) else {
                        continue;
                    };
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(line);
                    }
                    let reply = script[n.min(script.len() - 1)].clone();
                    if matches!(reply, Reply::Stall) {
                        held.push(stream);
                    } else {
                        answer(stream, reply);
                    }
                }
            });
            ScriptServer {
                address,
                requests,
                stop,
                thread: Some(thread),
            }
        }

        /// `http://127.0.0.1:PORT` followed by `path`.
        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.address)
        }

        /// The request lines received so far, such as `GET /x HTTP/1.1`.
        pub fn requests(&self) -> Vec<String> {
            self.requests.lock().map(|r| r.clone()).unwrap_or_default()
        }
    }

    impl Drop for ScriptServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wakes the accept loop so it sees the flag.
            let _ = TcpStream::connect(self.address);
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    fn read_request_line(stream: &mut TcpStream) -> Option<String> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        while !data.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            data.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&data);
        text.lines().next().map(str::to_string)
    }

    fn answer(mut stream: TcpStream, reply: Reply) {
        let bytes = match reply {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                [head.into_bytes(), body].concat()
            }
            Reply::Unframed { body } => [
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_vec(),
                body,
            ]
            .concat(),
            Reply::Cut { declared, sent } => [
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n"
                )
                .into_bytes(),
                sent,
            ]
            .concat(),
            Reply::Stall => Vec::new(),
        };
        let _ = stream.write_all(&bytes);
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

/// A copy of the workspace's spec files in a temporary directory, laid out
/// as `xtask::Layout` expects, for commands that write.
/// The directory is removed when the value drops.
#[derive(Debug)]
pub struct SpecWorkspace {
    dir: PathBuf,
}

impl SpecWorkspace {
    /// Copies the pinned document, pin record, overlay, package copies and
    /// API surface of this workspace.
    pub fn copy() -> SpecWorkspace {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "probe-api-spec-workspace-{}-{n}",
            std::process::id()
        ));
        // A directory left by an earlier process with the same id goes first.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        for file in [
            "openapi.json",
            "openapi.pin.json",
            "openapi.overlay.json",
            "probe-api/spec/openapi.json",
            "probe-api/spec/overlay.json",
            "probe-api/API.md",
        ] {
            let to = dir.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).expect("create directory");
            }
            std::fs::write(&to, read(&root().join(file))).expect("copy");
        }
        SpecWorkspace { dir }
    }

    /// The root directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The layout rooted there.
    pub fn layout(&self) -> xtask::Layout {
        xtask::Layout::at(&self.dir)
    }

    /// Every file below the root and its bytes.
    pub fn snapshot(&self) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).expect("read directory").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.insert(path.clone(), read(&path));
                }
            }
        }
        let mut out = std::collections::BTreeMap::new();
        walk(&self.dir, &mut out);
        out
    }
}

impl Drop for SpecWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
pub mod prism;

/// wiremock servers and clients for them, shared by the loopback tests.
pub mod loopback {
    use probe_api::Client;
    use serde_json::{Map, Value};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A server answering `verb route` with `response` (anything else: 404).
    pub async fn answering(verb: &str, route: &str, response: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(response)
            .mount(&server)
            .await;
        server
    }

    /// A server answering `verb route` with 200 and the JSON `body`, and a
    /// client for it holding the API key `api_key`.
    pub async fn serving_json(
        verb: &str,
        route: &str,
        body: Value,
        api_key: &str,
    ) -> (MockServer, Client) {
        let server = answering(verb, route, ResponseTemplate::new(200).set_body_json(body)).await;
        let client = Client::builder()
            .base_url(server.uri())
            .api_key(api_key)
            .build()
            .expect("client");
        (server, client)
    }

    /// The map inside a JSON object (the tests build them with `json!`).
    pub fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not a JSON object: {other}"),
        }
    }
}
