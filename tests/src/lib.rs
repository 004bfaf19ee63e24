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
