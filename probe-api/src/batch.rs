//! Probing many media files at once through one client.
//!
//! [`Client::probe_many`] takes media URLs, sends at most
//! [`concurrency`](ProbeMany::concurrency) file probes at a time over the
//! client's connection pool (with its retries and timeouts), and yields each
//! result as it completes. A failed probe is a result like any other, so one
//! bad file never stops the batch.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use probe_api::batch::ProbeMany;
//! use probe_api::{Client, types};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let urls = ["https://example.com/a.mp4", "https://example.com/b.mkv"];
//! let options = ProbeMany::new()
//!     .concurrency(16)
//!     .request(|probe| probe.only(types::GetFileOnly::Ffprobe).ffprobe_show_streams(true))
//!     .on_progress(|p| eprintln!("{}/{} done, {} failed", p.finished, p.started, p.failed));
//! let mut results = client.probe_many(urls, options);
//! while let Some(probed) = results.next().await {
//!     match probed.result {
//!         Ok(report) => println!("{}: {:?}", probed.url, report.ffprobe().map(|r| r.duration())),
//!         Err(error) => eprintln!("{}: {error}", probed.url),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, Stream, StreamExt};

use crate::{Client, Error, builder, types};

/// Changes each file probe before it is sent (tools, options, timeouts).
type Customize = dyn for<'c> Fn(builder::GetFile<'c>) -> builder::GetFile<'c> + Send + Sync;
/// Hears about each completed probe.
type OnProgress = dyn Fn(&Progress) + Send + Sync;

/// How [`Client::probe_many`] runs.
#[derive(Clone)]
#[must_use]
pub struct ProbeMany {
    concurrency: usize,
    customize: Option<Arc<Customize>>,
    progress: Option<Arc<OnProgress>>,
}

/// How many probes run at once by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl Default for ProbeMany {
    fn default() -> Self {
        ProbeMany {
            concurrency: DEFAULT_CONCURRENCY,
            customize: None,
            progress: None,
        }
    }
}

impl fmt::Debug for ProbeMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeMany")
            .field("concurrency", &self.concurrency)
            .field("customizes_requests", &self.customize.is_some())
            .field("reports_progress", &self.progress.is_some())
            .finish()
    }
}

impl ProbeMany {
    /// [`DEFAULT_CONCURRENCY`] probes at a time, each with the API's
    /// default tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most this many probes in flight (at least 1).
    pub fn concurrency(mut self, probes: usize) -> Self {
        self.concurrency = probes.max(1);
        self
    }

    /// Sets tools and options on each probe, as on
    /// [`Client::get_file`](crate::Client::get_file); the URL is set for you.
    pub fn request<F>(mut self, customize: F) -> Self
    where
        F: for<'c> Fn(builder::GetFile<'c>) -> builder::GetFile<'c> + Send + Sync + 'static,
    {
        self.customize = Some(Arc::new(customize));
        self
    }

    /// Called after each probe completes, with the counts so far.
    pub fn on_progress<F>(mut self, progress: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'static,
    {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// Counts of a running batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Probes sent so far.
    pub started: usize,
    /// Probes completed, successfully or not.
    pub finished: usize,
    /// Completed probes that returned an error.
    pub failed: usize,
}

impl Progress {
    /// Probes sent and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.started - self.finished
    }
}

/// One completed probe.
#[derive(Debug)]
#[non_exhaustive]
pub struct Probed {
    /// Position of the URL in the input, from 0.
    pub index: usize,
    /// The media URL.
    pub url: String,
    /// The API's answer, or why there is none. A tool that could not read
    /// the media is a successful answer whose report says so
    /// ([`ffprobe()`](crate::types::GetFileResponse::ffprobe)).
    pub result: Result<types::GetFileResponse, Error>,
}

#[derive(Default)]
struct Counters {
    started: AtomicUsize,
    finished: AtomicUsize,
    failed: AtomicUsize,
}

impl Client {
    /// Probes every URL of `urls` with at most `options.concurrency` probes
    /// in flight, yielding each result as it completes (not in input order:
    /// [`Probed::index`] tells which URL it was). See [`crate::batch`].
    pub fn probe_many<'a, I>(
        &'a self,
        urls: I,
        options: ProbeMany,
    ) -> impl Stream<Item = Probed> + Send + 'a
    where
        I: IntoIterator,
        I::Item: Into<String>,
        I::IntoIter: Send + 'a,
    {
        let counters = Arc::new(Counters::default());
        let ProbeMany {
            concurrency,
            customize,
            progress,
        } = options;
        let started = counters.clone();
        stream::iter(urls.into_iter().enumerate())
            .map(move |(index, url)| {
                let url: String = url.into();
                let customize = customize.clone();
                let started = started.clone();
                async move {
                    started.started.fetch_add(1, Ordering::SeqCst);
                    let mut probe = self.get_file().url(url.clone());
                    if let Some(customize) = &customize {
                        probe = customize(probe);
                    }
                    let result = probe.send().await.map(crate::Response::into_inner);
                    Probed { index, url, result }
                }
            })
            .buffer_unordered(concurrency)
            .inspect(move |probed| {
                counters.finished.fetch_add(1, Ordering::SeqCst);
                if probed.result.is_err() {
                    counters.failed.fetch_add(1, Ordering::SeqCst);
                }
                if let Some(progress) = &progress {
                    progress(&Progress {
                        started: counters.started.load(Ordering::SeqCst),
                        finished: counters.finished.load(Ordering::SeqCst),
                        failed: counters.failed.load(Ordering::SeqCst),
                    });
                }
            })
    }
}
