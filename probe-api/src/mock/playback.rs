//! One switch for a test suite: record a cassette against the API, or
//! replay it on the mock, chosen by `PROBE_CASSETTE`.

use std::path::{Path, PathBuf};

use super::{API_KEY, MockError, MockServer};
use crate::cassette::{Cassette, Recording};
use crate::{Client, ClientBuilder};

/// The environment variable that chooses the [`CassetteMode`]: `record`,
/// `replay` (the default when unset) or `auto`.
pub const ENV_CASSETTE: &str = "PROBE_CASSETTE";

/// Whether a [`Playback`] records or replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CassetteMode {
    /// Call the API with the client given, writing the cassette anew.
    Record,
    /// Answer from the cassette on a replaying [`MockServer`]; no network,
    /// no credentials.
    Replay,
    /// Replay when the cassette file exists, record otherwise.
    Auto,
}

impl CassetteMode {
    /// The mode a value of [`ENV_CASSETTE`] names (`record`, `replay`,
    /// `auto`, in any case).
    ///
    /// # Errors
    ///
    /// The value names no mode.
    pub fn parse(text: &str) -> Result<CassetteMode, MockError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "record" => Ok(CassetteMode::Record),
            "replay" => Ok(CassetteMode::Replay),
            "auto" => Ok(CassetteMode::Auto),
            _ => Err(MockError(format!(
                "{ENV_CASSETTE}=`{text}` names no mode; use record, replay or auto"
            ))),
        }
    }

    /// The mode [`ENV_CASSETTE`] names; [`Replay`](Self::Replay) when it
    /// is unset or empty, so a test run without the variable (CI) never
    /// calls the API.
    ///
    /// # Errors
    ///
    /// The variable names no mode.
    pub fn from_env() -> Result<CassetteMode, MockError> {
        match std::env::var(ENV_CASSETTE) {
            Ok(text) if !text.trim().is_empty() => CassetteMode::parse(&text),
            _ => Ok(CassetteMode::Replay),
        }
    }
}

/// A client for one test, recording to or replaying from one cassette.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use probe_api::Client;
/// use probe_api::mock::Playback;
///
/// // PROBE_CASSETTE=record (with PROBE_API_TOKEN set) calls the API and
/// // writes the cassette; unset, the test replays it offline.
/// let playback = Playback::from_env("tests/cassettes/probe.json", Client::builder().with_env()).await?;
/// let report = playback.client().get_file().url("https://media.example/a.mp4").send().await?;
/// # let _ = report;
/// playback.finish()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Playback {
    client: Client,
    path: PathBuf,
    recording: Option<Recording>,
    mock: Option<MockServer>,
}

impl Playback {
    /// Starts recording or replaying the cassette at `path` as `mode` says.
    /// Recording builds `client` with the recording; replaying starts a
    /// [`MockServer::replay`] of the cassette and builds `client` aimed at
    /// it (its base URL and credential replaced, its retry policy and
    /// timeouts kept, so retries replay as they were recorded).
    ///
    /// # Errors
    ///
    /// The client cannot be built; replaying, the cassette cannot be read
    /// or holds answers the document no longer accepts.
    pub async fn start(
        mode: CassetteMode,
        path: impl Into<PathBuf>,
        client: ClientBuilder,
    ) -> Result<Playback, MockError> {
        let path = path.into();
        let record = match mode {
            CassetteMode::Record => true,
            CassetteMode::Replay => false,
            CassetteMode::Auto => !path.exists(),
        };
        let built = |builder: ClientBuilder| {
            builder
                .build()
                .map_err(|e| MockError(format!("the client cannot be built: {e}")))
        };
        if record {
            let recording = Cassette::create(path.clone());
            let client = built(client.record(recording.clone()))?;
            return Ok(Playback {
                client,
                path,
                recording: Some(recording),
                mock: None,
            });
        }
        let cassette = Cassette::load(&path).map_err(|e| {
            MockError(format!(
                "{e}; record it with {ENV_CASSETTE}=record and the API's credentials"
            ))
        })?;
        let mock = MockServer::replay(cassette).await?;
        let client = built(client.base_url(mock.url()).api_key(API_KEY))?;
        Ok(Playback {
            client,
            path,
            recording: None,
            mock: Some(mock),
        })
    }

    /// [`start`](Self::start) in the mode [`ENV_CASSETTE`] names.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start), and when the variable names no mode.
    pub async fn from_env(
        path: impl Into<PathBuf>,
        client: ClientBuilder,
    ) -> Result<Playback, MockError> {
        Playback::start(CassetteMode::from_env()?, path, client).await
    }

    /// The client to call: recording, or aimed at the replaying mock.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether this run records (rather than replays).
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// The cassette file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The replaying mock, when replaying.
    pub fn mock(&self) -> Option<&MockServer> {
        self.mock.as_ref()
    }

    /// Ends the run: recording, writes the cassette; replaying, checks
    /// that every recorded interaction was used ([`MockServer::verify`]).
    ///
    /// # Errors
    ///
    /// The cassette could not be written, or an interaction was never
    /// replayed.
    pub fn finish(self) -> Result<(), MockError> {
        if let Some(recording) = &self.recording {
            recording.finish().map_err(|e| MockError(e.to_string()))?;
        }
        match &self.mock {
            Some(mock) => mock.verify(),
            None => Ok(()),
        }
    }
}
