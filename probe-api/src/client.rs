//! The client users start from: configuration by builder and environment,
//! and the state every call of a client shares (credentials, timeouts,
//! retries, the limiter), which the transport reads.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::auth::{Auth, AuthScheme, Secret};
use crate::retry::RetryPolicy;
use crate::{Client, Error, types};

/// The base URL the Probe.dev documents and docs use.
pub const DEFAULT_BASE_URL: &str = "https://api.probe.dev";
/// The other host the provider serves the API from.
pub const ALTERNATE_BASE_URL: &str = "https://api.probedev.com";
/// How long to wait for a TCP and TLS connection by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response body may deliver no bytes, after its status line,
/// before the attempt ends, by default.
///
/// A server writes a body it has already made: once the status line is
/// there, the bytes follow within milliseconds even for a large report, so
/// ten seconds of silence means a broken connection or a proxy holding
/// it, not a slow answer. Ten seconds (aws-sdk-rust's stalled-stream
/// protection waits five) leaves room for a loaded network, and a call
/// gives stalled bodies at most [`STALL_BUDGET_PERIODS`] grace periods in
/// all, retries included: 30 s by default.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How many stall timeouts a call may spend on bodies that stall, retries
/// included: a retry after a stalled body is made only when it could
/// stall in its turn and still end within this many grace periods of the
/// call's start.
pub const STALL_BUDGET_PERIODS: u32 = 3;

/// Environment variable holding the API key, as the Probe.dev docs name it.
pub const ENV_API_TOKEN: &str = "PROBE_API_TOKEN";
/// Environment variable overriding the base URL.
pub const ENV_BASE_URL: &str = "PROBE_BASE_URL";
/// Environment variable holding a JWT, used when no API key is set.
pub const ENV_JWT: &str = "PROBE_JWT";
/// Environment variable for the connect timeout, in seconds.
pub const ENV_CONNECT_TIMEOUT: &str = "PROBE_CONNECT_TIMEOUT_SECS";
/// Environment variable for the least request timeout, in seconds.
pub const ENV_TIMEOUT: &str = "PROBE_TIMEOUT_SECS";
/// Environment variable for the most retries of a failed request.
pub const ENV_MAX_RETRIES: &str = "PROBE_MAX_RETRIES";

/// What the hand-written layer keeps inside the generated client. Only
/// [`ClientBuilder::build`] makes one, after checking every setting (a
/// zero timeout would fail every call before sending), so it has no
/// `Default` and is not public.
#[derive(Clone)]
pub(crate) struct ClientState {
    pub(crate) auth: Option<Auth>,
    pub(crate) timeout: Duration,
    /// The caller set the timeout (builder, environment or
    /// [`Client::with_timeout`]): it then bounds each attempt whole, status
    /// line and body, and a media request's analysis times are fitted in
    /// it. Otherwise it is a floor that media operations raise.
    pub(crate) timeout_is_bound: bool,
    pub(crate) retry: RetryPolicy,
    /// Values for the operations' cookie parameters, by cookie name.
    pub(crate) cookies: Arc<[(String, Secret)]>,
    /// `None` for [`DEFAULT_STALL_TIMEOUT`].
    pub(crate) stall_timeout: Option<Duration>,
    /// The time each call may take, retries included.
    pub(crate) deadline: Option<Duration>,
    /// The limit every attempt goes through.
    pub(crate) limiter: Option<crate::limit::Limiter>,
    /// Where every attempt is recorded, when the client records.
    pub(crate) recording: Option<crate::cassette::Recording>,
    /// Where the frames and packets of the FFprobe reports this client
    /// receives go, when it walks them (`reports::walk_ffprobe`).
    pub(crate) walk: Option<crate::reports::walk::Walk>,
}

impl ClientState {
    /// How long a body may stall after the status line.
    pub(crate) fn stall_timeout(&self) -> Duration {
        self.stall_timeout.unwrap_or(DEFAULT_STALL_TIMEOUT)
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("auth_scheme", &self.auth.as_ref().map(|a| a.scheme))
            .field("timeout", &self.timeout)
            .field("timeout_is_bound", &self.timeout_is_bound)
            .field("retry", &self.retry)
            .field("stall_timeout", &self.stall_timeout())
            .field("deadline", &self.deadline)
            .field("limiter", &self.limiter)
            .field("recording", &self.recording)
            .field("walks", &self.walk.is_some())
            .field(
                "cookies",
                &self
                    .cookies
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A setting `ClientBuilder::build` refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The setting, as the builder method or environment variable names it.
    pub setting: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn config_error(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.into(),
        reason: reason.into(),
    }
}

/// Builds a [`Client`]. Explicit settings win over environment variables,
/// which win over defaults.
///
/// It is the only way to make a client, so every client has checked
/// settings; the generated constructor is not public:
///
/// ```compile_fail
/// let client = probe_api::Client::new("https://api.probe.dev", Default::default());
/// ```
///
/// ```
/// # fn main() -> Result<(), probe_api::ConfigError> {
/// let client = probe_api::Client::builder()
///     .api_key("my-key")
///     .base_url("http://127.0.0.1:8080")
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Clone, Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    credential: Option<(Secret, bool)>,
    auth_scheme: Option<AuthScheme>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    stall_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    env: Option<HashMap<String, String>>,
    http: Option<reqwest::Client>,
    recording: Option<crate::cassette::Recording>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "<redacted>"),
            )
            .field("auth_scheme", &self.auth_scheme)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("retry", &self.retry)
            .field("reads_environment", &self.env.is_some())
            .field("recording", &self.recording)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with no settings: the defaults, no environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this API key, sent as `Authorization: Bearer` unless
    /// [`auth_scheme`](Self::auth_scheme) says otherwise.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.credential = Some((key.into(), false));
        self
    }

    /// Uses this JWT (from sign-in), sent as `Authorization: Bearer` unless
    /// [`auth_scheme`](Self::auth_scheme) says otherwise.
    pub fn jwt(mut self, jwt: impl Into<Secret>) -> Self {
        self.credential = Some((jwt.into(), true));
        self
    }

    /// Chooses where the credential goes: header, query parameter or cookie.
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = Some(scheme);
        self
    }

    /// The API's base URL: `https://api.probe.dev` (the default),
    /// `https://api.probedev.com`, or any other, such as a local mock.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How long to wait for a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The most time each attempt of a request may take, status line and
    /// body, as reqwest's own `timeout` means it. A media probe that does
    /// not set its analysis time (`timeout`, `queue_timeout`) asks the
    /// server for what fits in it; one that sets more than fits is refused
    /// before anything is sent (see [`crate::timeouts`]). Retries each get
    /// the whole timeout again, after their back-off.
    ///
    /// Unset (and without [`ENV_TIMEOUT`]), each request waits at least
    /// [`DEFAULT_TIMEOUT`](crate::timeouts::DEFAULT_TIMEOUT) for its status
    /// line, a media probe as long as the analysis it asks for, and the
    /// [stall timeout](Self::stall_timeout) governs the body.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long a response body may deliver no bytes after its status line
    /// ([`DEFAULT_STALL_TIMEOUT`] unless set): a stalled body ends the
    /// attempt with a [`Timeout`](crate::ErrorKind::Timeout) error that
    /// says so, and is retried as a broken connection is. A body that keeps
    /// delivering, however slowly, is never cut.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = Some(timeout);
        self
    }

    /// How failed requests are retried; by default at most 2 retries of
    /// idempotent requests (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The most retries of a failed request, keeping the rest of the policy.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry = Some(self.retry.unwrap_or_default().with_max_retries(retries));
        self
    }

    /// Uses this `reqwest::Client` (and its connection pool) instead of
    /// building one; the connect timeout setting then does not apply.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Records every attempt the client makes (retries included) into a
    /// cassette file, credentials replaced by placeholders, for a test to
    /// replay later with `mock::MockServer::replay`
    /// (feature `mock`); see [`crate::cassette`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use probe_api::cassette::Cassette;
    ///
    /// let recording = Cassette::create("tests/cassettes/probe.json");
    /// let client = probe_api::Client::builder()
    ///     .with_env()
    ///     .record(recording.clone())
    ///     .build()?;
    /// // ... calls ...
    /// recording.finish()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn record(mut self, recording: crate::cassette::Recording) -> Self {
        self.recording = Some(recording);
        self
    }

    /// Reads unset settings from the process environment: `PROBE_API_TOKEN`
    /// (or `PROBE_JWT`), `PROBE_BASE_URL`, `PROBE_CONNECT_TIMEOUT_SECS`,
    /// `PROBE_TIMEOUT_SECS`, `PROBE_MAX_RETRIES`.
    pub fn with_env(self) -> Self {
        self.with_env_vars(std::env::vars())
    }

    /// Reads unset settings from these variables, as [`with_env`](Self::with_env)
    /// does from the process environment.
    pub fn with_env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.env
            .as_ref()
            .and_then(|env| env.get(name))
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting, when the base URL is not an
    /// absolute `https` URL (plain `http` only for loopback hosts), a
    /// credential is empty or cannot be sent in a header, the scheme does
    /// not fit the credential, or a timeout is zero or unreadable.
    pub fn build(self) -> Result<Client, ConfigError> {
        let (base_url, base_setting) = match (&self.base_url, self.env(ENV_BASE_URL)) {
            (Some(url), _) => (url.clone(), "base_url"),
            (None, Some(url)) => (url.to_string(), ENV_BASE_URL),
            (None, None) => (DEFAULT_BASE_URL.to_string(), "base_url"),
        };
        let base = validate_base_url(&base_url).map_err(|r| config_error(base_setting, r))?;
        let base_url = base.as_str().trim_end_matches('/').to_string();

        let credential = match &self.credential {
            Some((secret, is_jwt)) => Some((
                secret.clone(),
                *is_jwt,
                if *is_jwt { "jwt" } else { "api_key" },
            )),
            None => match (self.env(ENV_API_TOKEN), self.env(ENV_JWT)) {
                (Some(key), _) => Some((Secret::new(key.trim()), false, ENV_API_TOKEN)),
                (None, Some(jwt)) => Some((Secret::new(jwt.trim()), true, ENV_JWT)),
                (None, None) => None,
            },
        };
        let auth = credential
            .map(|(secret, is_jwt, setting)| auth(secret, is_jwt, setting, self.auth_scheme))
            .transpose()?;

        let connect_timeout = self.duration(
            self.connect_timeout,
            "connect_timeout",
            ENV_CONNECT_TIMEOUT,
            DEFAULT_CONNECT_TIMEOUT,
        )?;
        let timeout_is_bound = self.timeout.is_some() || self.env(ENV_TIMEOUT).is_some();
        let timeout = self.duration(
            self.timeout,
            "timeout",
            ENV_TIMEOUT,
            crate::timeouts::DEFAULT_TIMEOUT,
        )?;
        if self.stall_timeout.is_some_and(|t| t.is_zero()) {
            return Err(config_error("stall_timeout", "must be longer than zero"));
        }

        let retry = match (self.retry, self.env(ENV_MAX_RETRIES)) {
            (Some(policy), _) => policy,
            (None, Some(text)) => {
                RetryPolicy::default().with_max_retries(text.trim().parse().map_err(|_| {
                    config_error(ENV_MAX_RETRIES, format!("`{text}` is not a whole number"))
                })?)
            }
            (None, None) => RetryPolicy::default(),
        };

        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                .user_agent(crate::USER_AGENT)
                .build()
                .map_err(|e| config_error("http_client", e.to_string()))?,
        };
        Ok(Client::new_with_client(
            &base_url,
            http,
            ClientState {
                auth,
                timeout,
                timeout_is_bound,
                retry,
                cookies: Arc::from(Vec::new()),
                stall_timeout: self.stall_timeout,
                deadline: None,
                limiter: None,
                recording: self.recording,
                walk: None,
            },
        ))
    }

    /// A duration setting: explicit, else the environment variable (seconds),
    /// else the default; zero is refused.
    fn duration(
        &self,
        explicit: Option<Duration>,
        setting: &str,
        variable: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let (value, source) = match (explicit, self.env(variable)) {
            (Some(t), _) => (t, setting),
            (None, Some(text)) => {
                let secs: f64 = text.trim().parse().map_err(|_| {
                    config_error(variable, format!("`{text}` is not a number of seconds"))
                })?;
                let t = Duration::try_from_secs_f64(secs)
                    .map_err(|_| config_error(variable, format!("`{text}` is not a duration")))?;
                (t, variable)
            }
            (None, None) => (default, setting),
        };
        if value.is_zero() {
            return Err(config_error(source, "must be longer than zero"));
        }
        Ok(value)
    }
}

/// A credential with the scheme that sends it: `scheme` if given and it
/// carries this kind of credential, else the Bearer header default.
fn auth(
    secret: Secret,
    is_jwt: bool,
    setting: &str,
    scheme: Option<AuthScheme>,
) -> Result<Auth, ConfigError> {
    validate_secret(&secret).map_err(|r| config_error(setting, r))?;
    let scheme = match scheme {
        None if is_jwt => AuthScheme::JwtHeader,
        None => AuthScheme::ApiKeyHeader,
        Some(s) if s.is_jwt() == is_jwt => s,
        Some(s) => {
            return Err(config_error(
                "auth_scheme",
                format!(
                    "{} carries a {}, but the credential is {}",
                    s.document_name(),
                    if s.is_jwt() { "JWT" } else { "API key" },
                    if is_jwt { "a JWT" } else { "an API key" }
                ),
            ));
        }
    };
    warn_about_query_credentials(scheme);
    Ok(Auth::new(scheme, secret))
}

fn validate_secret(secret: &Secret) -> Result<(), String> {
    let s = secret.expose();
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters (a copy-paste error?)".into());
    }
    if !s.is_ascii() {
        return Err(
            "contains non-ASCII characters; API keys and JWTs are ASCII (a copy-paste error?)"
                .into(),
        );
    }
    Ok(())
}

/// Warns once per process that a credential sent in the query string
/// ends up in server and proxy logs.
fn warn_about_query_credentials(scheme: AuthScheme) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if matches!(scheme, AuthScheme::ApiKeyQuery | AuthScheme::JwtQuery)
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            scheme = scheme.document_name(),
            "the credential is sent as a query parameter, so it will appear in the logs of servers and proxies on the way; prefer the Authorization header"
        );
    }
}

fn validate_base_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| format!("`{text}` is not an absolute URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` must not have a query or fragment"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("`{text}` has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "`{text}` uses plain http to a host that is not loopback; credentials would travel unencrypted"
            ));
        }
        other => return Err(format!("`{text}` has scheme `{other}`; use https")),
    }
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A builder with no settings; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment (`PROBE_API_TOKEN`,
    /// `PROBE_BASE_URL`, ...), with defaults for the rest.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when a variable holds an invalid value.
    pub fn from_env() -> Result<Client, ConfigError> {
        ClientBuilder::new().with_env().build()
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// The request timeout: each attempt's bound when the caller set it
    /// ([`Client::timeout_is_bound`]), else the least time a request waits
    /// for its status line (media operations may wait longer).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Whether the caller set the timeout, so that it bounds each attempt
    /// whole (see [`ClientBuilder::timeout`]).
    pub fn timeout_is_bound(&self) -> bool {
        self.inner.timeout_is_bound
    }

    /// The security scheme credentials are sent with, if the client has any.
    pub fn auth_scheme(&self) -> Option<AuthScheme> {
        self.inner.auth.as_ref().map(|a| a.scheme)
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// How long a response body may stall after its status line.
    pub fn stall_timeout(&self) -> Duration {
        self.inner.stall_timeout()
    }

    /// The time each call may take, retries included, if bounded.
    pub fn deadline(&self) -> Option<Duration> {
        self.inner.deadline
    }

    /// The limiter every request goes through, if any.
    pub fn limiter(&self) -> Option<&crate::limit::Limiter> {
        self.inner.limiter.as_ref()
    }

    /// The same client, sharing its connection pool, with other state.
    pub(crate) fn with_state(&self, change: impl FnOnce(&mut ClientState)) -> Client {
        let mut state = self.inner.clone();
        change(&mut state);
        Client::new_with_client(&self.baseurl, self.client.clone(), state)
    }

    /// The same client bounding each attempt of the calls made through it
    /// to `timeout`, status line and body (see [`ClientBuilder::timeout`]);
    /// zero keeps the current setting.
    ///
    /// ```
    /// # fn main() -> Result<(), probe_api::ConfigError> {
    /// # let client = probe_api::Client::builder().api_key("k").build()?;
    /// use std::time::Duration;
    /// let patient = client.with_timeout(Duration::from_secs(300));
    /// assert_eq!(patient.timeout(), Duration::from_secs(300));
    /// # Ok(()) }
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        if timeout.is_zero() {
            return self.clone();
        }
        self.with_state(|state| {
            state.timeout = timeout;
            state.timeout_is_bound = true;
        })
    }

    /// The same client with another retry policy, for the calls made
    /// through it; for example one that also retries a POST.
    pub fn with_retry(&self, policy: RetryPolicy) -> Client {
        self.with_state(|state| state.retry = policy)
    }

    /// The same client with another [stall
    /// timeout](ClientBuilder::stall_timeout) for response bodies (zero
    /// keeps the current one).
    pub fn with_stall_timeout(&self, timeout: Duration) -> Client {
        if timeout.is_zero() {
            return self.clone();
        }
        self.with_state(|state| state.stall_timeout = Some(timeout))
    }

    /// The same client (sharing its connection pool) bounding each call made
    /// through it to `deadline` from when it is sent: every attempt, every
    /// back-off and every wait for a [`Limiter`](crate::batch::Limiter)
    /// fits in it, and a call that runs out ends with a
    /// [`Timeout`](crate::ErrorKind::Timeout) error.
    ///
    /// Media probes ask the server for analysis time (`timeout` and
    /// `queue_timeout`); under a deadline the SDK sends values that fit
    /// the time left, so the server stops before the caller gives up
    /// instead of billing an answer nobody waits for. Values the caller set
    /// are kept, and a call whose values cannot fit is refused before
    /// anything is sent (see [`crate::timeouts`]).
    ///
    /// ```
    /// # fn main() -> Result<(), probe_api::ConfigError> {
    /// # let client = probe_api::Client::builder().api_key("k").build()?;
    /// use std::time::Duration;
    /// let bounded = client.with_deadline(Duration::from_secs(5));
    /// assert_eq!(bounded.deadline(), Some(Duration::from_secs(5)));
    /// assert_eq!(client.deadline(), None);
    /// # Ok(()) }
    /// ```
    pub fn with_deadline(&self, deadline: Duration) -> Client {
        self.with_state(|state| state.deadline = Some(deadline))
    }

    /// The same client (sharing its connection pool) sending every request
    /// under `limiter`: each attempt, retries included, waits for a slot,
    /// its outcome moves the limit, and refusals that show the service
    /// refusing everything hold every request of the limiter until their
    /// `Retry-After` has passed ([`PauseRule`](crate::limit::PauseRule)).
    pub fn with_limiter(&self, limiter: crate::limit::Limiter) -> Client {
        self.with_state(|state| state.limiter = Some(limiter))
    }

    /// The same client sending these values for the operations' cookie
    /// parameters (such as `oauth-provider-token` of
    /// [`post_oauth_sign_in`](Client::post_oauth_sign_in)); each cookie goes
    /// only to the operations whose document lists it. Values are treated
    /// as secrets.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when a name is not a cookie parameter of any
    /// operation, or a value cannot be sent in a `Cookie` header.
    pub fn with_cookies<N, V>(
        &self,
        cookies: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Client, ConfigError>
    where
        N: Into<String>,
        V: Into<Secret>,
    {
        let mut merged: Vec<(String, Secret)> = self.inner.cookies.to_vec();
        for (name, value) in cookies {
            let (name, value) = (name.into(), value.into());
            let known = crate::spec::operations()
                .iter()
                .any(|op| op.cookies.iter().any(|c| c.name == name));
            if !known {
                return Err(config_error(
                    format!("cookie `{name}`"),
                    "no operation of the document takes this cookie",
                ));
            }
            if !value.expose().bytes().all(is_cookie_octet) {
                return Err(config_error(
                    format!("cookie `{name}`"),
                    "the value has characters a cookie cannot carry (RFC 6265 cookie-octet)",
                ));
            }
            merged.retain(|(existing, _)| *existing != name);
            merged.push((name, value));
        }
        Ok(self.with_state(|state| state.cookies = Arc::from(merged)))
    }

    /// The same client (sharing its connection pool) authenticating with
    /// another API key, for example one [`post_api_token`](Client::post_api_token)
    /// created, sent as `scheme` says ([`AuthScheme::ApiKeyHeader`] is the
    /// documented default).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the key is empty or has whitespace, or the
    /// scheme carries a JWT.
    pub fn with_api_key(
        &self,
        key: impl Into<Secret>,
        scheme: AuthScheme,
    ) -> Result<Client, ConfigError> {
        let auth = auth(key.into(), false, "api_key", Some(scheme))?;
        Ok(self.with_state(|state| state.auth = Some(auth)))
    }

    /// The same client (sharing its connection pool) authenticating with a
    /// JWT, for example the one [`post_sign_in`](Client::post_sign_in) returns.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the JWT is empty or has whitespace, or the
    /// scheme carries an API key.
    pub fn with_jwt(
        &self,
        jwt: impl Into<Secret>,
        scheme: AuthScheme,
    ) -> Result<Client, ConfigError> {
        let auth = auth(jwt.into(), true, "jwt", Some(scheme))?;
        Ok(self.with_state(|state| state.auth = Some(auth)))
    }

    /// Signs in with an email and a password
    /// ([`post_sign_in`](Client::post_sign_in)) and returns a client that
    /// authenticates with the JWT the API issued (as a Bearer header), with
    /// the sign-in response.
    ///
    /// # Errors
    ///
    /// The [`Error`] of the sign-in call; an error of kind
    /// [`Decode`](crate::ErrorKind::Decode) when the response has no JWT.
    pub async fn sign_in(
        &self,
        email: &str,
        password: impl Into<Secret>,
    ) -> Result<(Client, types::AuthPostSignInResponse), Error> {
        let password: types::AuthPostSignInRequestPassword =
            password.into().expose().parse().map_err(|e| {
                Error::invalid_request(format!("post_sign_in: the password is not accepted: {e}"))
            })?;
        let response = self
            .post_sign_in()
            .body(
                types::AuthPostSignInRequest::builder()
                    .email(email)
                    .password(Some(password)),
            )
            .send()
            .await?
            .into_inner();
        let jwt = response
            .jwt_token
            .as_ref()
            .and_then(|t| t.token.clone())
            .filter(|t| !t.expose().is_empty())
            .ok_or_else(|| {
                Error::decode("the response has no jwt-token.token").for_operation("post_sign_in")
            })?;
        let client = self.with_jwt(jwt, AuthScheme::JwtHeader).map_err(|e| {
            Error::decode(format!(
                "the response has no usable jwt-token.token ({})",
                e.reason
            ))
            .for_operation("post_sign_in")
        })?;
        Ok((client, response))
    }
}

/// RFC 6265 section 4.1.1 `cookie-octet`.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}
