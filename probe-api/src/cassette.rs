//! Cassettes: the exchanges a client made, written to a file so that a
//! test can replay them later without the network (see
//! `mock::MockServer::replay`, feature `mock`).
//!
//! A client built with [`ClientBuilder::record`](crate::ClientBuilder::record)
//! writes every attempt it makes, retries included, as one [`Interaction`]:
//! the operation, the method, the path, the query (as a map sorted by name,
//! so parameter order is not part of it), the request body, the status, the
//! headers that matter (content type, request id, `Retry-After`) and the
//! response body.
//!
//! # The file
//!
//! Pretty-printed JSON, one interaction per entry of `interactions`, keys in
//! a fixed order, so a refreshed cassette diffs line by line:
//!
//! ```json
//! {
//!   "format": "probe-api-cassette",
//!   "version": 1,
//!   "document": "<revision of the API document the client was generated from>",
//!   "interactions": [
//!     {
//!       "operation": "get_file",
//!       "request": { "method": "GET", "path": "/v1/probe/file", "query": { "url": "https://…" } },
//!       "response": { "status": 200, "headers": { "content-type": "application/json" }, "body": { … } }
//!     }
//!   ]
//! }
//! ```
//!
//! A body that is not JSON is kept as text in `body_text`; an attempt that
//! got no answer (a dropped connection, a timeout) has status 0 and says why
//! in `failure` (and is replayed as a dropped connection). A body the
//! caller streams (`send_stream`) is not kept. The file is rewritten after
//! each interaction through a temporary file and a rename, so it is always
//! whole.
//!
//! # Credentials
//!
//! No credential reaches the file. The client's API key or JWT, a token in a
//! path (the parameters [`ParameterSpec::secret`](crate::spec::ParameterSpec::secret)
//! marks), a query parameter or body property whose name says it holds a
//! credential (the rule the generator uses to make a field a
//! [`Secret`](crate::Secret)), and anything shaped like a JWT, are replaced
//! by placeholders such as `REDACTED_TOKEN_1`. The same value gets the same
//! placeholder throughout a cassette, so a token created by one call and
//! used in the path of the next still ties the two together on replay.
//! Request headers, where the credential usually travels, are not written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[path = "../codegen/credential.rs"]
mod credential;

/// The `format` every cassette file names.
pub const FORMAT: &str = "probe-api-cassette";
/// The version of the file format this crate writes and reads.
pub const VERSION: u32 = 1;
/// The start of every placeholder that stands for a credential.
pub const PLACEHOLDER_PREFIX: &str = "REDACTED_";

/// The response headers a cassette keeps: the content type, the request
/// ids the client reads, and the wait a server asks for.
pub(crate) const KEPT_HEADERS: [&str; 8] = [
    "content-type",
    "retry-after",
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "cf-ray",
];

/// A secret shorter than this is replaced where it is a whole value, never
/// inside other text: a short one would match by chance.
const MIN_EMBEDDED_SECRET: usize = 8;

/// The recorded exchanges of one cassette file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cassette {
    /// Always [`FORMAT`].
    pub format: String,
    /// The file format's version, [`VERSION`] when written by this crate.
    pub version: u32,
    /// The revision (sha256 prefix) of the API document the recording
    /// client was generated from.
    pub document: String,
    /// Every attempt, in the order the answers arrived.
    pub interactions: Vec<Interaction>,
}

/// One attempt: what was asked and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interaction {
    /// The client method of the operation, such as `"get_file"`; empty for
    /// a raw request that is no operation of the document.
    pub operation: String,
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
}

/// The request of an [`Interaction`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, such as `"GET"`.
    pub method: String,
    /// The URL path as sent (percent-encoded), credentials replaced.
    pub path: String,
    /// The query parameters by name, sorted; a repeated name holds its
    /// values in the order they were sent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Vec<String>>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Any other body, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

/// The response of an [`Interaction`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedResponse {
    /// The HTTP status; 0 when no answer came (see `failure`).
    pub status: u16,
    /// The headers that matter, by lower-case name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Any other body, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Why no answer came: the connection broke or a timer ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A cassette cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassetteError {
    path: PathBuf,
    reason: String,
}

impl CassetteError {
    fn new(path: &Path, reason: impl Into<String>) -> CassetteError {
        CassetteError {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The cassette file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for CassetteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cassette {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for CassetteError {}

impl Default for Cassette {
    fn default() -> Self {
        Cassette {
            format: FORMAT.to_string(),
            version: VERSION,
            document: env!("PROBE_API_DOCUMENT_REVISION").to_string(),
            interactions: Vec::new(),
        }
    }
}

impl Cassette {
    /// A recording that writes to `path` (created or replaced, its folder
    /// must exist) once the first exchange is made; hand it to
    /// [`ClientBuilder::record`](crate::ClientBuilder::record).
    pub fn create(path: impl Into<PathBuf>) -> Recording {
        Recording {
            inner: Arc::new(Mutex::new(RecordingState {
                path: path.into(),
                cassette: Cassette::default(),
                redactor: Redactor::default(),
                error: None,
            })),
        }
    }

    /// Reads a cassette file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not a cassette, or has a version this
    /// crate does not read.
    pub fn load(path: impl AsRef<Path>) -> Result<Cassette, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CassetteError::new(path, format!("cannot be read: {e}")))?;
        Cassette::from_json(&text).map_err(|reason| CassetteError::new(path, reason))
    }

    /// Reads a cassette from its JSON text.
    ///
    /// # Errors
    ///
    /// The text is not a cassette of a version this crate reads, as a
    /// sentence.
    pub fn from_json(text: &str) -> Result<Cassette, String> {
        let cassette: Cassette =
            serde_json::from_str(text).map_err(|e| format!("is not a cassette: {e}"))?;
        if cassette.format != FORMAT {
            return Err(format!("has format `{}`, not `{FORMAT}`", cassette.format));
        }
        if cassette.version != VERSION {
            return Err(format!(
                "has version {}; this crate reads version {VERSION}: record it again",
                cassette.version
            ));
        }
        Ok(cassette)
    }

    /// The cassette as the file holds it: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    fn save(&self, path: &Path) -> Result<(), CassetteError> {
        let name = path
            .file_name()
            .ok_or_else(|| CassetteError::new(path, "is not a file path"))?;
        let mut temporary = name.to_os_string();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = path.with_file_name(temporary);
        std::fs::write(&temporary, self.to_json())
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                CassetteError::new(path, format!("cannot be written: {e}"))
            })
    }
}

/// Where a recording client writes its exchanges: made by
/// [`Cassette::create`], shared by every clone of the client (and every
/// client made from it with `with_*`). Cloning it shares the recording.
#[derive(Clone)]
pub struct Recording {
    inner: Arc<Mutex<RecordingState>>,
}

struct RecordingState {
    path: PathBuf,
    cassette: Cassette,
    redactor: Redactor,
    /// The first write that failed.
    error: Option<CassetteError>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Recording")
            .field("path", &state.path)
            .field("interactions", &state.cassette.interactions.len())
            .finish()
    }
}

impl Recording {
    fn lock(&self) -> std::sync::MutexGuard<'_, RecordingState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cassette file.
    pub fn path(&self) -> PathBuf {
        self.lock().path.clone()
    }

    /// What was recorded so far.
    pub fn cassette(&self) -> Cassette {
        self.lock().cassette.clone()
    }

    /// Writes the cassette (also when nothing was recorded, so a test that
    /// makes no call leaves an empty cassette rather than none) and
    /// reports the first write that failed.
    ///
    /// # Errors
    ///
    /// The file could not be written, now or after an earlier exchange.
    pub fn finish(&self) -> Result<(), CassetteError> {
        let mut state = self.lock();
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        state.cassette.save(&state.path)
    }

    fn push(&self, interaction: Interaction) {
        let mut state = self.lock();
        state.cassette.interactions.push(interaction);
        if let Err(error) = state.cassette.save(&state.path) {
            tracing::warn!(error = %error, "the cassette could not be written");
            state.error.get_or_insert(error);
        }
    }
}

/// Records one attempt of `exchange`: `request`, a copy of the request as
/// sent, with its credentials (`None` when its body could not be copied),
/// and the attempt's outcome. Called by the transport for every attempt of
/// a recording client.
pub(crate) fn record(
    recording: &Recording,
    request: Option<reqwest::Request>,
    outcome: Result<(&reqwest::Response, Option<&bytes::Bytes>), String>,
    exchange: &crate::call::Exchange,
) {
    let mut state = recording.lock();
    let redactor = &mut state.redactor;
    // What the exchange knows to be secret first: the client's credential
    // and the tokens its path carries.
    if let Some(secret) = exchange.redaction.secret.as_deref() {
        redactor.learn(&[secret.expose()], "CREDENTIAL");
    }
    if !exchange.redaction.path_secrets.is_empty() {
        let values: Vec<&str> = exchange
            .redaction
            .path_secrets
            .iter()
            .map(String::as_str)
            .collect();
        redactor.learn(&values, "TOKEN");
    }
    // A response body first: the tokens it hands out are learned before
    // anything of the exchange is written.
    let response = match outcome {
        Ok((response, body)) => {
            let mut headers = BTreeMap::new();
            for name in KEPT_HEADERS {
                if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
                    headers.insert(name.to_string(), value.to_string());
                }
            }
            let (body, body_text) = body.map_or((None, None), |b| redactor.body(b));
            RecordedResponse {
                status: response.status().as_u16(),
                headers: headers
                    .into_iter()
                    .map(|(k, v)| (k, redactor.text(&v)))
                    .collect(),
                body,
                body_text,
                failure: None,
            }
        }
        Err(failure) => RecordedResponse {
            status: 0,
            headers: BTreeMap::new(),
            body: None,
            body_text: None,
            failure: Some(redactor.text(&failure)),
        },
    };
    let request = match &request {
        Some(request) => redactor.request(request),
        None => RecordedRequest {
            method: exchange.method.to_string(),
            path: redactor.text(&exchange.path),
            query: BTreeMap::new(),
            body: None,
            body_text: None,
        },
    };
    drop(state);
    recording.push(Interaction {
        operation: exchange.operation.to_string(),
        request,
        response,
    });
}

/// Whether `text` is a placeholder a cassette put in place of a credential.
pub fn is_placeholder(text: &str) -> bool {
    text.strip_prefix(PLACEHOLDER_PREFIX).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Whether a query parameter or body property named `name` holds a
/// credential, by the rule that makes a generated field a `Secret`.
pub(crate) fn is_credential_name(name: &str) -> bool {
    credential::is_credential(name, None)
}

/// The credentials of one recording and the placeholder each became.
#[derive(Default)]
struct Redactor {
    /// `(secret, placeholder)`, longest secret first, so that a secret
    /// inside a longer one does not break the longer one's replacement.
    known: Vec<(String, String)>,
    /// How many placeholders of each kind were handed out.
    counts: BTreeMap<&'static str, usize>,
}

impl Redactor {
    /// The placeholder of `values`, which are one secret in different
    /// spellings (as sent and percent-decoded): the one an earlier value
    /// got, or a new one of `kind`.
    fn learn(&mut self, values: &[&str], kind: &'static str) -> String {
        let existing = values.iter().find_map(|value| {
            self.known
                .iter()
                .find(|(secret, _)| secret == value)
                .map(|(_, placeholder)| placeholder.clone())
        });
        let placeholder = existing.unwrap_or_else(|| {
            let count = self.counts.entry(kind).or_default();
            *count += 1;
            format!("{PLACEHOLDER_PREFIX}{kind}_{count}")
        });
        for value in values {
            if value.is_empty()
                || is_placeholder(value)
                || self.known.iter().any(|(secret, _)| secret == value)
            {
                continue;
            }
            self.known.push((value.to_string(), placeholder.clone()));
        }
        self.known
            .sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        placeholder
    }

    /// `text` with every known secret and every JWT replaced.
    fn text(&mut self, text: &str) -> String {
        if let Some((_, placeholder)) = self.known.iter().find(|(secret, _)| secret == text) {
            return placeholder.clone();
        }
        let mut out = text.to_string();
        for jwt in jwts(text) {
            let placeholder = self.learn(&[jwt], "JWT");
            out = out.replace(jwt, &placeholder);
        }
        for (secret, placeholder) in &self.known {
            if secret.len() >= MIN_EMBEDDED_SECRET && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), placeholder);
            }
        }
        out
    }

    /// A credential value found under a credential's name: learned, and
    /// replaced by its placeholder.
    fn credential(&mut self, value: &str) -> String {
        if value.is_empty() || is_placeholder(value) {
            return value.to_string();
        }
        self.learn(&[value], "TOKEN")
    }

    /// A JSON value with every credential property's strings replaced, and
    /// known secrets and JWTs replaced in every other string.
    fn json(&mut self, value: Value, under_credential: bool) -> Value {
        match value {
            Value::String(text) if under_credential => Value::String(self.credential(&text)),
            Value::String(text) => Value::String(self.text(&text)),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| self.json(item, under_credential))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, value)| {
                        let secret = is_credential_name(&key);
                        let value = self.json(value, secret);
                        (self.text(&key), value)
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// A body as JSON when it is JSON, else as text.
    fn body(&mut self, bytes: &[u8]) -> (Option<Value>, Option<String>) {
        if bytes.is_empty() {
            return (None, None);
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => (Some(self.json(value, false)), None),
            Err(_) => (None, Some(self.text(&String::from_utf8_lossy(bytes)))),
        }
    }

    fn request(&mut self, request: &reqwest::Request) -> RecordedRequest {
        let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in request.url().query_pairs() {
            let value = if is_credential_name(&name) {
                self.credential(&value)
            } else {
                self.text(&value)
            };
            query.entry(self.text(&name)).or_default().push(value);
        }
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .unwrap_or_default();
        let is_form = request
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let (body, body_text) = if is_form {
            (None, Some(self.form(body)))
        } else {
            self.body(body)
        };
        // Segment by segment: a token that is a whole segment is replaced
        // however short it is.
        let path: Vec<String> = request
            .url()
            .path()
            .split('/')
            .map(|segment| self.text(segment))
            .collect();
        RecordedRequest {
            method: request.method().to_string(),
            path: path.join("/"),
            query,
            body,
            body_text,
        }
    }

    /// A form body with credential fields replaced.
    fn form(&mut self, body: &[u8]) -> String {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .map(|(name, value)| {
                let value = if is_credential_name(&name) {
                    self.credential(&value)
                } else {
                    self.text(&value)
                };
                (name.into_owned(), value)
            })
            .collect();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }
}

/// The JWTs in `text`: three base64url parts joined by dots, the first
/// starting as a JSON object's encoding does (`eyJ`).
fn jwts(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("eyJ") {
        let start = from + at;
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map_or(text.len(), |n| start + n);
        let candidate = &text[start..end];
        if candidate.split('.').filter(|p| !p.is_empty()).count() >= 3 {
            found.push(candidate);
        }
        from = end.max(start + 3);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secret_gets_the_same_placeholder_everywhere() {
        let mut redactor = Redactor::default();
        let body = serde_json::json!({"token": "ptk_0123456789abcdef", "name": "n"});
        let body = redactor.json(body, false);
        assert_eq!(body["token"], "REDACTED_TOKEN_1");
        assert_eq!(
            redactor.text("/api-token/ptk_0123456789abcdef"),
            "/api-token/REDACTED_TOKEN_1"
        );
        assert_eq!(body["name"], "n");
    }

    #[test]
    fn jwts_are_found_inside_text() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let mut redactor = Redactor::default();
        let text = redactor.text(&format!("Bearer {jwt} was refused"));
        assert_eq!(text, "Bearer REDACTED_JWT_1 was refused");
        assert!(jwts("eyJ alone").is_empty());
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(is_placeholder("REDACTED_TOKEN_12"));
        assert!(!is_placeholder("REDACTED_"));
        assert!(!is_placeholder("ptk_1"));
    }
}
