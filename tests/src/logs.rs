//! Capturing what the client logs through `tracing`.

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
        Self::install_at(tracing::Level::TRACE)
    }

    /// [`CapturedLogs::install`] with a subscriber that records `level` and
    /// above, as an application's would.
    pub fn install_at(level: tracing::Level) -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
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
            .with_max_level(level)
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
