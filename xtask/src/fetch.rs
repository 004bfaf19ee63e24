//! `cargo xtask fetch`: obtains a new provider document, checks it, and only
//! then replaces the pinned files.
//!
//! The document is downloaded (HTTPS only, plain HTTP only for loopback
//! hosts, redirects followed here so that none can lead to plain HTTP,
//! a size limit, a timeout) or read from a file. Before anything is
//! replaced it must parse as JSON and as an OpenAPI 3.x document, the
//! overlay must apply, and normalization, generation and the API surface
//! must succeed. Then `openapi.json`, `probe-api/spec/openapi.json`, the pin
//! record and `probe-api/API.md` are written, each atomically; if one write
//! fails the ones before it are put back. Any failure leaves every file as
//! it was.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::codegen::{self, overlay::ActionOutcome};
use crate::diff::{self, Diff};
use crate::pin::{Pin, sha256_hex};
use crate::{Layout, api, write_atomic};

/// The largest document `fetch` accepts: 16 MiB, about 300 times the
/// pinned one.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// How long a whole download may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// After how long a download starts printing progress lines.
pub const PROGRESS_AFTER: Duration = Duration::from_secs(2);

/// How many redirects a download follows.
const MAX_REDIRECTS: usize = 5;

/// Where the new document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The URL the pin record tracks.
    Pinned,
    /// Another URL.
    Url(String),
    /// A file on disk.
    File(PathBuf),
}

/// What `fetch` does and within which limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the document comes from.
    pub source: Source,
    /// Check everything and report, but write nothing.
    pub dry_run: bool,
    /// The document's date (`YYYY-MM-DD`) when the caller knows it; it wins
    /// over what the download says.
    pub document_date: Option<String>,
    /// The size limit in bytes.
    pub max_bytes: u64,
    /// The timeout for the whole download.
    pub timeout: Duration,
    /// When to start printing progress lines.
    pub progress_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            source: Source::Pinned,
            dry_run: false,
            document_date: None,
            max_bytes: MAX_BYTES,
            timeout: TIMEOUT,
            progress_after: PROGRESS_AFTER,
        }
    }
}

/// What `fetch` found and did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Where the document came from (the URL after redirects, or the file).
    pub origin: String,
    /// The new document's sha256.
    pub sha256: String,
    /// The new document's size in bytes.
    pub size: u64,
    /// Whether the document equals the pinned one byte for byte (then
    /// nothing else was checked and nothing was written).
    pub unchanged: bool,
    /// What each overlay action does to the new document.
    pub overlay: Vec<ActionOutcome>,
    /// Old effective document against new; `None` when unchanged or when
    /// the pinned document could not be read (see `notes`).
    pub diff: Option<Diff>,
    /// The new pin record (also for a dry run).
    pub pin: Option<Pin>,
    /// How the pin's `document_date` was decided.
    pub document_date_from: String,
    /// The files written, in order; empty for a dry run.
    pub written: Vec<PathBuf>,
    /// The files a dry run would have written.
    pub would_write: Vec<PathBuf>,
    /// Anything else worth saying.
    pub notes: Vec<String>,
}

impl Outcome {
    /// The report `cargo xtask fetch` prints.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "fetched {} ({} bytes, sha256 {})",
            self.origin, self.size, self.sha256
        );
        if self.unchanged {
            out.push_str("unchanged: the document equals the pinned openapi.json byte for byte; nothing written\n");
            return out;
        }
        let _ = writeln!(out, "\nOverlay: {} action(s)", self.overlay.len());
        for action in &self.overlay {
            let state = if action.is_stale() {
                "STALE: matches nothing in the new document; edit openapi.overlay.json (cargo xtask verify fails until then)"
            } else if action.is_redundant() {
                "REDUNDANT: the new document already contains it; the action can go from openapi.overlay.json"
            } else {
                "applies"
            };
            let _ = writeln!(out, "  [{}] {}: {state}", action.index, action.target);
        }
        out.push_str("\nNormalization and generation: ok\n");
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        if let Some(diff) = &self.diff {
            let _ = write!(
                out,
                "\nChanges from the pinned effective document:\n{}",
                diff.render_text()
            );
        }
        if let Some(pin) = &self.pin {
            let _ = writeln!(
                out,
                "\nPin: sha256 {}, {} bytes, obtained {}, document date {} ({})",
                pin.sha256,
                pin.size,
                pin.obtained,
                pin.document_date.as_deref().unwrap_or("not recorded"),
                self.document_date_from
            );
        }
        if !self.written.is_empty() {
            out.push_str("\nWrote:\n");
            for path in &self.written {
                let _ = writeln!(out, "  {}", path.display());
            }
            out.push_str("Next: review `git diff` (probe-api/API.md shows the API surface), then cargo xtask verify and the tests.\n");
        }
        if !self.would_write.is_empty() {
            out.push_str("\nDry run: nothing written; a fetch would write:\n");
            for path in &self.would_write {
                let _ = writeln!(out, "  {}", path.display());
            }
        }
        out
    }
}

/// Fetches, checks and (unless a dry run) pins a new document in `layout`.
/// Progress lines for a slow download go to `progress`.
///
/// # Errors
///
/// One line saying what failed; nothing on disk has changed.
pub fn fetch(
    layout: &Layout,
    options: &Options,
    progress: &mut dyn Write,
) -> Result<Outcome, String> {
    run(layout, options, progress).map_err(|e| format!("{e} (nothing on disk changed)"))
}

fn run(layout: &Layout, options: &Options, progress: &mut dyn Write) -> Result<Outcome, String> {
    if let Some(date) = &options.document_date {
        check_date(date)?;
    }
    let old_pin = crate::read(&layout.pin()).and_then(|b| Pin::parse(&b));
    let mut obtained = match &options.source {
        Source::Pinned => {
            let pin = old_pin.as_ref().map_err(|e| {
                format!(
                    "{e}; without the pin record there is no URL to fetch (use --url or --from)"
                )
            })?;
            download(&pin.url, options, progress)?
        }
        Source::Url(url) => download(url, options, progress)?,
        Source::File(path) => read_file(path, options.max_bytes)?,
    };
    let bytes = std::mem::take(&mut obtained.bytes);
    let mut outcome = Outcome {
        origin: obtained.origin.clone(),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
        unchanged: false,
        overlay: Vec::new(),
        diff: None,
        pin: None,
        document_date_from: String::new(),
        written: Vec::new(),
        would_write: Vec::new(),
        notes: Vec::new(),
    };
    let old_bytes = crate::read(&layout.document());
    if old_bytes.as_deref().ok() == Some(bytes.as_slice()) {
        outcome.unchanged = true;
        return Ok(outcome);
    }

    check_openapi(&bytes, &obtained)?;
    let overlay = crate::read(&layout.overlay())?;
    let pipeline = codegen::run(&bytes, Some(&overlay))
        .map_err(|e| format!("the new document cannot be normalized: {e}"))?;
    let source = codegen::generate::generate(&pipeline.normalized)
        .map_err(|e| format!("the client cannot be generated from the new document: {e}"))?;
    let surface = api::render(&pipeline, &source)
        .map_err(|e| format!("the API surface cannot be rendered: {e}"))?;
    outcome.overlay = pipeline.overlay.clone();

    match old_effective(old_bytes, &overlay) {
        Ok(old) => outcome.diff = Some(diff::diff(&old, &pipeline.effective)?),
        Err(e) => outcome.notes.push(format!(
            "No diff: the pinned effective document cannot be read: {e}"
        )),
    }

    let (document_date, from) = match &options.document_date {
        Some(date) => (Some(date.clone()), "given with --document-date".to_string()),
        None => decide_date(&obtained),
    };
    outcome.document_date_from = from;
    let url = match (&old_pin, &options.source) {
        (Ok(pin), _) => pin.url.clone(),
        (Err(_), Source::Url(url)) => url.clone(),
        (Err(_), _) => String::new(),
    };
    let pin = Pin {
        url,
        sha256: outcome.sha256.clone(),
        size: outcome.size,
        obtained: today_utc(),
        obtained_from: obtained.description.clone(),
        document_date,
    };
    let pin_text = serde_json::to_string_pretty(&pin)
        .map_err(|e| format!("cannot serialize the pin record: {e}"))?
        + "\n";
    outcome.pin = Some(pin);

    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (layout.document(), bytes.clone()),
        (layout.package_document(), bytes),
        (layout.pin(), pin_text.clone().into_bytes()),
        (layout.package_pin(), pin_text.into_bytes()),
        (layout.api_surface(), surface.into_bytes()),
    ];
    if options.dry_run {
        outcome.would_write = files.into_iter().map(|(p, _)| p).collect();
        return Ok(outcome);
    }
    outcome.written = write_all(&files)?;
    Ok(outcome)
}

/// Today's date in UTC, `YYYY-MM-DD`, as the pin record's `obtained`.
pub fn today_utc() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn check_date(date: &str) -> Result<(), String> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| format!("--document-date {date} is not a date like 2025-07-30"))
}

/// The document bytes and what is known about where they came from.
#[derive(Debug, Clone)]
struct Obtained {
    bytes: Vec<u8>,
    /// Short: the URL after redirects, or the file path.
    origin: String,
    /// For the pin record's `obtained_from`.
    description: String,
    /// The URL asked for first, if downloaded.
    requested: Option<String>,
    content_type: Option<String>,
    last_modified: Option<String>,
}

fn read_file(path: &Path, max_bytes: u64) -> Result<Obtained, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "{} is larger than the limit of {}",
            path.display(),
            human_size(max_bytes)
        ));
    }
    Ok(Obtained {
        bytes,
        origin: path.display().to_string(),
        description: format!("the file {}, read by cargo xtask fetch", path.display()),
        requested: None,
        content_type: None,
        last_modified: None,
    })
}

/// Checks that the bytes are JSON and an OpenAPI 3.x document, naming an
/// HTML page as what it is.
fn check_openapi(bytes: &[u8], obtained: &Obtained) -> Result<(), String> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &bytes[i..]);
    let html_type = obtained
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if start.starts_with(b"<") || html_type {
        return Err(format!(
            "{} sent an HTML page{}, not an OpenAPI document (an error or sign-in page?): {}",
            obtained.origin,
            obtained
                .content_type
                .as_deref()
                .map(|t| format!(" (content-type {t})"))
                .unwrap_or_default(),
            snippet(bytes)
        ));
    }
    let document = codegen::parse_json("the new document", bytes).map_err(|e| e.reason)?;
    let Some(root) = document.as_object() else {
        return Err(
            "the new document is JSON but not an object, so not an OpenAPI document".into(),
        );
    };
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.") => {}
        Some(v) => {
            return Err(format!(
                "the new document is OpenAPI {v}; only OpenAPI 3.x documents are supported"
            ));
        }
        None if root.contains_key("swagger") => {
            return Err(
                "the new document is a Swagger 2.0 document; only OpenAPI 3.x documents are supported"
                    .into(),
            );
        }
        None => {
            return Err(
                "the new document has no `openapi` version string, so it is not an OpenAPI document"
                    .into(),
            );
        }
    }
    if !root.get("info").is_some_and(Value::is_object) {
        return Err("the new document has no `info` object, which OpenAPI requires".into());
    }
    Ok(())
}

/// The pinned document with the overlay applied, for the diff.
fn old_effective(old_bytes: Result<Vec<u8>, String>, overlay: &[u8]) -> Result<Value, String> {
    let old_bytes = old_bytes?;
    let mut old = codegen::parse_json("the pinned document", &old_bytes).map_err(|e| e.reason)?;
    codegen::overlay::apply(&mut old, overlay).map_err(|e| e.to_string())?;
    Ok(old)
}

/// The document's date: the `v=YYYY-MM-DD` parameter of the URL (the
/// revision the provider's docs site asks for), else the `Last-Modified`
/// header, else none.
fn decide_date(obtained: &Obtained) -> (Option<String>, String) {
    let urls = [
        Some(obtained.origin.as_str()),
        obtained.requested.as_deref(),
    ];
    for url in urls.into_iter().flatten() {
        if let Some(date) = url_revision(url) {
            return (Some(date), format!("the v= parameter of {url}"));
        }
    }
    if let Some(header) = &obtained.last_modified
        && let Ok(time) = chrono::DateTime::parse_from_rfc2822(header)
    {
        return (
            Some(time.date_naive().format("%Y-%m-%d").to_string()),
            format!("the Last-Modified header ({header})"),
        );
    }
    (
        None,
        "unknown: no --document-date, no v=DATE in the URL, no Last-Modified header; left out of the pin".to_string(),
    )
}

fn url_revision(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("v="))
        .find(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok())
        .map(str::to_string)
}

/// Writes every file atomically; if one fails, puts back the ones written
/// before it.
fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<Vec<PathBuf>, String> {
    let mut previous: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    for (path, bytes) in files {
        let before = std::fs::read(path).ok();
        if let Err(e) = write_atomic(path, bytes) {
            let mut restore_errors = Vec::new();
            for (written, old) in previous.iter().rev() {
                let restored = match old {
                    Some(old) => write_atomic(written, old),
                    None => std::fs::remove_file(written).map_err(|e| e.to_string()),
                };
                if let Err(r) = restored {
                    restore_errors.push(format!("{}: {r}", written.display()));
                }
            }
            return Err(if restore_errors.is_empty() {
                format!("{e}; the files written before it were put back")
            } else {
                format!(
                    "{e}; putting back the files written before it failed too: {}",
                    restore_errors.join("; ")
                )
            });
        }
        previous.push((path.clone(), before));
    }
    Ok(files.iter().map(|(p, _)| p.clone()).collect())
}

/// Whether a host is a loopback name or address, the only hosts plain HTTP
/// may reach.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a URL `fetch` may download: `https://`, or `http://` to a
/// loopback host. Returns whether it is a loopback URL.
///
/// # Errors
///
/// The URL does not parse, has another scheme, or is plain HTTP to a host
/// that is not loopback.
pub fn check_url(url: &str) -> Result<bool, String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("{url} is not a valid URL: {e}"))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("{url} is not a valid URL: it has no host"))?;
    let loopback = is_loopback_host(host);
    match uri.scheme_str() {
        Some("https") => Ok(loopback),
        Some("http") if loopback => Ok(true),
        Some("http") => Err(format!(
            "refusing {url}: plain http:// is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1); use https://"
        )),
        Some(other) => Err(format!(
            "refusing {url}: the scheme {other} is not supported; use https://"
        )),
        None => Err(format!("{url} is not a valid URL: it has no scheme")),
    }
}

/// Resolves a `Location` header against the URL that sent it.
fn resolve_location(base: &str, location: &str) -> Result<String, String> {
    if location.contains("://") {
        return Ok(location.to_string());
    }
    let uri: ureq::http::Uri = base
        .parse()
        .map_err(|e| format!("{base} is not a valid URL: {e}"))?;
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Ok(format!("{scheme}://{authority}{location}"));
    }
    let path = uri.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Ok(format!("{scheme}://{authority}{dir}{location}"))
}

/// Downloads `url`, following redirects itself so that each hop is
/// checked with [`check_url`].
fn download(url: &str, options: &Options, progress: &mut dyn Write) -> Result<Obtained, String> {
    let started = Instant::now();
    let mut current = url.to_string();
    let mut hops = Vec::new();
    for _ in 0..=MAX_REDIRECTS {
        let loopback = check_url(&current)?;
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout.saturating_sub(started.elapsed())))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("probe-api-xtask/", env!("CARGO_PKG_VERSION")));
        if loopback {
            // A proxy from the environment must not see loopback requests.
            config = config.proxy(None);
        }
        let agent: ureq::Agent = config.build().into();
        let response = agent
            .get(&current)
            .call()
            .map_err(|e| transport_error(&current, &e, options.timeout))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("{current} answered {status} without a Location header"))?;
            let next = resolve_location(&current, location)?;
            check_url(&next).map_err(|e| format!("refusing the redirect from {current}: {e}"))?;
            hops.push(current);
            current = next;
            continue;
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let last_modified = header("last-modified");
        let declared = header("content-length").and_then(|v| v.parse::<u64>().ok());
        if !status.is_success() {
            let mut body = Vec::new();
            let _ = response
                .into_body()
                .into_reader()
                .take(512)
                .read_to_end(&mut body);
            return Err(format!(
                "{current} answered {status}{}",
                if body.is_empty() {
                    String::new()
                } else {
                    format!(": {}", snippet(&body))
                }
            ));
        }
        if let Some(length) = declared.filter(|l| *l > options.max_bytes) {
            return Err(format!(
                "{current} announces {} bytes, more than the limit of {}",
                length,
                human_size(options.max_bytes)
            ));
        }
        let reader = response.into_body().into_reader();
        let bytes = read_bounded(reader, &current, declared, options, started, progress)?;
        let description = if hops.is_empty() {
            format!("{current}, downloaded by cargo xtask fetch")
        } else {
            format!("{current} (redirected from {url}), downloaded by cargo xtask fetch")
        };
        return Ok(Obtained {
            bytes,
            origin: current,
            description,
            requested: Some(url.to_string()),
            content_type,
            last_modified,
        });
    }
    Err(format!(
        "{url} redirects more than {MAX_REDIRECTS} times (last to {current})"
    ))
}

/// Reads at most `max_bytes` (one more byte proves the body is too large),
/// printing a progress line every second once `progress_after` has passed.
fn read_bounded(
    reader: impl Read,
    url: &str,
    declared: Option<u64>,
    options: &Options,
    started: Instant,
    progress: &mut dyn Write,
) -> Result<Vec<u8>, String> {
    let mut limited = reader.take(options.max_bytes + 1);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_line: Option<Instant> = None;
    let of = declared
        .map(|d| format!(" of {}", human_size(d)))
        .unwrap_or_default();
    loop {
        let n = match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::TimedOut
                    || e.to_string().to_ascii_lowercase().contains("timeout")
                {
                    format!("timed out after {} s", options.timeout.as_secs_f64())
                } else {
                    one_line(&e.to_string())
                };
                return Err(format!(
                    "the download from {url} failed after {}{of} (truncated): {what}",
                    human_size(bytes.len() as u64)
                ));
            }
        };
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > options.max_bytes {
            return Err(format!(
                "{url} sent more than the limit of {}",
                human_size(options.max_bytes)
            ));
        }
        let elapsed = started.elapsed();
        if elapsed >= options.progress_after
            && last_line.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            let _ = writeln!(
                progress,
                "fetch: {}{of} so far from {url} ({:.1} s)",
                human_size(bytes.len() as u64),
                elapsed.as_secs_f64()
            );
            last_line = Some(Instant::now());
        }
    }
    if let Some(declared) = declared
        && (bytes.len() as u64) < declared
    {
        return Err(format!(
            "the download from {url} was cut short: {} of {declared} bytes (truncated)",
            bytes.len()
        ));
    }
    if last_line.is_some() {
        let _ = writeln!(
            progress,
            "fetch: {} from {url} in {:.1} s",
            human_size(bytes.len() as u64),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(bytes)
}

/// One line for a failed request, naming the host and what to check.
fn transport_error(url: &str, error: &ureq::Error, timeout: Duration) -> String {
    let host = url
        .parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| url.to_string());
    match error {
        ureq::Error::HostNotFound => format!(
            "cannot download {url}: the host {host} cannot be resolved (is the network reachable?)"
        ),
        ureq::Error::ConnectionFailed => {
            format!("cannot download {url}: cannot connect to {host} (is the network reachable?)")
        }
        ureq::Error::Timeout(_) => format!(
            "cannot download {url}: timed out after {} s",
            timeout.as_secs_f64()
        ),
        ureq::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("cannot download {url}: {host} refused the connection")
            }
            std::io::ErrorKind::TimedOut => format!(
                "cannot download {url}: timed out after {} s",
                timeout.as_secs_f64()
            ),
            _ => format!(
                "cannot download {url}: cannot reach {host}: {} (is the network reachable?)",
                one_line(&e.to_string())
            ),
        },
        ureq::Error::Tls(message) => {
            format!("cannot download {url}: TLS with {host} failed: {message}")
        }
        other => format!("cannot download {url}: {}", one_line(&other.to_string())),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The start of a body, on one line, for an error message.
fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    let line = one_line(&text);
    if bytes.len() > 120 {
        format!("{line}…")
    } else {
        line
    }
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert_eq!(check_url("https://api.probedev.com/x"), Ok(false));
        assert_eq!(check_url("http://127.0.0.1:8080/x"), Ok(true));
        assert_eq!(check_url("http://localhost/x"), Ok(true));
        assert_eq!(check_url("http://[::1]:80/x"), Ok(true));
        let refused = check_url("http://api.probedev.com/x").expect_err("plain http");
        assert!(refused.contains("loopback"), "{refused}");
        assert!(check_url("ftp://example.com/x").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn locations_resolve_against_the_url_that_sent_them() {
        let base = "https://a.example/docs/v1/openapi.json?x=1";
        assert_eq!(
            resolve_location(base, "/other.json").as_deref(),
            Ok("https://a.example/other.json")
        );
        assert_eq!(
            resolve_location(base, "next.json").as_deref(),
            Ok("https://a.example/docs/v1/next.json")
        );
        assert_eq!(
            resolve_location(base, "//b.example/x").as_deref(),
            Ok("https://b.example/x")
        );
        assert_eq!(
            resolve_location(base, "http://b.example/x").as_deref(),
            Ok("http://b.example/x")
        );
    }

    #[test]
    fn the_document_date_comes_from_the_url_then_the_header() {
        let mut obtained = Obtained {
            bytes: Vec::new(),
            origin: "https://x.example/openapi.json?include-base-path=true&v=2025-07-30".into(),
            description: String::new(),
            requested: None,
            content_type: None,
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        };
        assert_eq!(decide_date(&obtained).0.as_deref(), Some("2025-07-30"));
        obtained.origin = "https://x.example/openapi.json".into();
        assert_eq!(decide_date(&obtained).0.as_deref(), Some("2015-10-21"));
        obtained.last_modified = None;
        assert_eq!(decide_date(&obtained).0, None);
    }
}
