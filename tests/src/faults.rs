//! A loopback HTTP/1.1 server that misbehaves on purpose, one scripted
//! behaviour per connection: what wiremock cannot do (close without
//! answering, cut a body short, never answer, send a body without framing).
//!
//! The server runs on a thread of its own with its own Tokio runtime, so the
//! same type serves the async tests and blocking callers such as `cargo
//! xtask fetch`; dropping it stops the thread and closes every connection
//! it still holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What the server does with one connection, after reading the request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers with this status, extra headers and body, then closes.
    Respond {
        /// Status code.
        status: u16,
        /// Extra header lines, such as `("content-type", "text/html")`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Closes the connection without answering.
    Close,
    /// Sends the status line and headers declaring `declared` body bytes,
    /// then only `sent`, then closes.
    CutBody {
        /// The `content-length` announced.
        declared: usize,
        /// The bytes actually sent.
        sent: Vec<u8>,
    },
    /// Reads the request and never answers; holds the connection until
    /// the client closes it or the server drops.
    Stall,
    /// Resets the connection (TCP RST) without answering.
    Reset,
    /// Sends the head declaring `declared` body bytes and `sent` of them,
    /// then resets the connection.
    ResetMidBody {
        /// The `content-length` announced.
        declared: usize,
        /// The bytes actually sent.
        sent: Vec<u8>,
    },
    /// Sends the head declaring `declared` body bytes and `sent` of them,
    /// then holds the connection without sending more (until the client
    /// closes it or the server drops).
    StallBody {
        /// The `content-length` announced.
        declared: usize,
        /// The bytes actually sent.
        sent: Vec<u8>,
    },
    /// Answers 200 with this JSON body, sent in `chunk`-byte pieces with
    /// `every` between them: a slow body that keeps moving.
    Trickle {
        /// The whole body.
        body: Vec<u8>,
        /// Bytes per piece.
        chunk: usize,
        /// The pause before each piece after the first.
        every: Duration,
    },
    /// Answers 200 without `content-length`: the body ends when the
    /// connection closes, so only the client's own limit stops it.
    Unframed {
        /// The body.
        body: Vec<u8>,
    },
}

impl Fault {
    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Fault {
        Fault::json_bytes(status, body.to_string().as_bytes())
    }

    /// An answer labelled JSON with exactly these bytes, JSON or not.
    pub fn json_bytes(status: u16, body: &[u8]) -> Fault {
        Fault::body(status, "application/json", body)
    }

    /// An answer with this content type and body.
    pub fn body(status: u16, content_type: &str, body: &[u8]) -> Fault {
        Fault::Respond {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Fault {
        Fault::Respond {
            status,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// The running server. Connections take the script's behaviours in order;
/// the last one repeats.
#[derive(Debug)]
pub struct FaultServer {
    url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Binds a loopback port and serves `script` on a thread of its own,
    /// from async code and blocking code alike.
    pub fn start(script: Vec<Fault>) -> FaultServer {
        assert!(!script.is_empty(), "a fault script needs a behaviour");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a Tokio runtime for the fault server");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a Tokio listener");
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let fault = script[n.min(script.len() - 1)].clone();
                        tokio::spawn(serve(stream, fault, log.clone()));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here drops the connections still held.
        });
        FaultServer {
            url,
            connections,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The base URL followed by `path`, such as
    /// `http://127.0.0.1:40123/openapi.json`.
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// How many connections were accepted (one per attempt: every answer
    /// closes its connection).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The head of every request read so far, as it arrived: the request
    /// line, every header, and the blank line that ends them.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The request line of every request read so far, such as
    /// `GET /openapi.json HTTP/1.1`.
    pub fn request_lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|head| head.lines().next().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A loopback URL nothing listens on: bound, then released.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}")
}

async fn serve(mut stream: TcpStream, fault: Fault, log: Arc<Mutex<Vec<String>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let head = find(&request, b"\r\n\r\n").map_or(&request[..], |end| &request[..end + 4]);
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(String::from_utf8_lossy(head).into_owned());
    let bytes = match fault {
        Fault::Stall => {
            hold(&mut stream).await;
            return;
        }
        Fault::Trickle { body, chunk, every } => {
            let _ = stream.write_all(&partial_head(body.len(), &[])).await;
            for (i, piece) in body.chunks(chunk.max(1)).enumerate() {
                if i > 0 {
                    tokio::time::sleep(every).await;
                }
                if stream.write_all(piece).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
            }
            let _ = stream.shutdown().await;
            return;
        }
        Fault::Reset => {
            let _ = stream.set_zero_linger();
            return;
        }
        Fault::ResetMidBody { declared, sent } => {
            let _ = stream.write_all(&partial_head(declared, &sent)).await;
            let _ = stream.flush().await;
            let _ = stream.set_zero_linger();
            return;
        }
        Fault::StallBody { declared, sent } => {
            let _ = stream.write_all(&partial_head(declared, &sent)).await;
            let _ = stream.flush().await;
            hold(&mut stream).await;
            return;
        }
        Fault::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body);
            bytes
        }
        Fault::CutBody { declared, sent } => partial_head(declared, &sent),
        Fault::Unframed { body } => {
            let mut bytes =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_vec();
            bytes.extend_from_slice(&body);
            bytes
        }
        Fault::Close => Vec::new(),
    };
    let _ = stream.write_all(&bytes).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

/// Holds the connection open, sending nothing, until the client gives up
/// and closes it (or the server drops, and its runtime with this task).
async fn hold(stream: &mut TcpStream) {
    let mut rest = [0u8; 64];
    while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
}

/// Reads one request (head and `content-length` body); `None` if the
/// client went away first.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&data, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(data);
            }
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// A 200 JSON head announcing `declared` bytes, followed by `sent`.
fn partial_head(declared: usize, sent: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(sent);
    bytes
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
