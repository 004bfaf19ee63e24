//! A journal of finished probes, so that a batch that stops halfway (a
//! crash, a deploy, Ctrl-C, `kill -9`) resumes without probing, and paying
//! for, any file again.
//!
//! # Format (version 1)
//!
//! A journal is a [JSON Lines](https://jsonlines.org) file, UTF-8, one
//! JSON object per line, each line ending in `\n`. The first line is the
//! header; every other line is one finished probe:
//!
//! ```text
//! {"probe_api_journal":1,"created":"2026-12-01T21:40:00Z"}
//! {"url":"https://example.com/a.mp4","ok":true,"at":"2026-12-01T21:40:01Z","status":200,"request_id":"…","attempts":1,"elapsed_ms":212,"response":{…}}
//! {"url":"https://example.com/b.mp4","ok":false,"at":"2026-12-01T21:40:02Z","error":{"kind":"status","status":503,"message":"…","detail":"…","operation":"get_file","request_id":"…","attempts":3}}
//! ```
//!
//! - `probe_api_journal` is the format version; a journal of a version
//!   this crate does not know is refused, never guessed at.
//! - `response` is the API's answer (`GetFileResponse`) as it
//!   serializes; `error` has the [`ErrorKind`](crate::ErrorKind) in
//!   snake case, the HTTP status when there was one, and the error's
//!   one-line message (credentials are never in it).
//! - `status`, `request_id`, `attempts`, `elapsed_ms` (and the error's
//!   `detail`, its own message, `operation`, `request_id`, `attempts`) say
//!   what the call said, so a resumed result has them too; records written
//!   before they were added read back without them.
//! - Fields may be added in later versions of the same number; readers
//!   skip fields they do not know.
//!
//! Each record is written with a single write of the whole line, and the
//! batch yields a result only after its record is written, so a record is
//! either complete or absent. Writes are plain file writes from the task
//! that finished the probe (a line of a few kilobytes to the page cache),
//! not a background thread that a crash could leave behind. A write goes to the operating system at once
//! (nothing is buffered in the process), so it survives the process being
//! killed; [`Journal::sync`] also asks the disk to keep it through a power
//! loss, and runs when the journal is dropped.
//!
//! When a journal is opened, a last line without its `\n` (the process was
//! killed while writing it) is cut off, and any other line that is not a
//! complete record is skipped and counted
//! ([`skipped_lines`](Journal::skipped_lines)); neither is ever read as a
//! result.
//!
//! # Resuming
//!
//! A batch with a journal skips every URL the journal holds a successful
//! result for, and yields that stored result instead
//! ([`Probed::resumed`](super::Probed::resumed)). Failed probes are
//! recorded too, for the record, but probed again on resume: most
//! failures (refusals, timeouts, broken connections) are worth another
//! try; with [`ProbeMany::keep_failed`](super::ProbeMany::keep_failed) the
//! stored failure is yielded instead. The journal does not record how the probes were customized:
//! resume with the same options.
//!
//! One batch at a time may write a journal.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::record::{self, Outcome};

/// The journal format version this crate writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// A journal file of finished probes; cheap to clone (clones write to the
/// same file). See the [module docs](self) for the format.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    file: Mutex<Files>,
    /// Where each stored success is. Only positions are kept, so a
    /// journal of millions of reports does not have to fit in memory.
    done: Mutex<Positions>,
    /// Where the last failure of each URL is.
    failed: Mutex<Positions>,
    skipped: usize,
    failed_writes: Mutex<Option<String>>,
}

struct Files {
    append: File,
    read: File,
    len: u64,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.inner.path)
            .field("done", &self.len())
            .field("skipped_lines", &self.inner.skipped)
            .finish()
    }
}

impl Journal {
    /// Opens the journal at `path`, creating it (with its header) if it
    /// does not exist, and reads which URLs it holds results for.
    ///
    /// # Errors
    ///
    /// The file cannot be created, read or written, or it is not a journal
    /// (its first line is not a header of [`FORMAT_VERSION`]).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Journal> {
        let path = path.as_ref().to_path_buf();
        let mut append = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut read = File::open(&path)?;
        let Index {
            done,
            failed,
            skipped,
            complete,
        } = index(&mut read, &path)?;
        let mut len = append.metadata()?.len();
        if complete < len {
            // The last line was cut off by a crash: remove it, so the next
            // record starts on a line of its own.
            append.set_len(complete)?;
            len = complete;
        }
        if len == 0 {
            let header = json!({
                "probe_api_journal": FORMAT_VERSION,
                "created": record::now(),
            });
            let mut line = header.to_string().into_bytes();
            line.push(b'\n');
            append.write_all(&line)?;
            len = line.len() as u64;
        }
        append.seek(SeekFrom::End(0))?;
        Ok(Journal {
            inner: Arc::new(Inner {
                path,
                file: Mutex::new(Files { append, read, len }),
                done: Mutex::new(done),
                failed: Mutex::new(failed),
                skipped,
                failed_writes: Mutex::new(None),
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many URLs have a successful result in the journal.
    pub fn len(&self) -> usize {
        lock(&self.inner.done).len()
    }

    /// Whether the journal holds no successful result.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the journal holds a successful result for `url`.
    pub fn contains(&self, url: &str) -> bool {
        lock(&self.inner.done).contains_key(url)
    }

    /// Lines found when opening that were not complete records (other than
    /// a last line cut off by a crash, which is removed).
    pub fn skipped_lines(&self) -> usize {
        self.inner.skipped
    }

    /// The first failure to write a record, if any: the result was still
    /// yielded, but a resumed batch will probe that URL again.
    pub fn write_error(&self) -> Option<String> {
        lock(&self.inner.failed_writes).clone()
    }

    /// Asks the operating system to put what was written on the disk.
    ///
    /// # Errors
    ///
    /// The operating system's error.
    pub fn sync(&self) -> io::Result<()> {
        lock(&self.inner.file).append.sync_data()
    }

    /// The stored result for `url`, read back from the file: its success,
    /// or with `failures` its last failure when it never succeeded.
    pub(crate) fn stored(&self, url: &str, failures: bool) -> Option<Result<Outcome, String>> {
        let (offset, length) = {
            let done = lock(&self.inner.done);
            match done.get(url) {
                Some(position) => *position,
                None if failures => *lock(&self.inner.failed).get(url)?,
                None => return None,
            }
        };
        let mut files = lock(&self.inner.file);
        let mut line = vec![0u8; length];
        let read = files
            .read
            .seek(SeekFrom::Start(offset))
            .and_then(|_| files.read.read_exact(&mut line));
        drop(files);
        Some(match read {
            Err(e) => Err(format!("cannot read {}: {e}", self.inner.path.display())),
            Ok(()) => match serde_json::from_slice(&line)
                .ok()
                .and_then(record::from_json)
            {
                Some((stored_url, outcome)) if stored_url == url => Ok(outcome),
                _ => Err(format!(
                    "the stored result in {} changed since it was opened",
                    self.inner.path.display()
                )),
            },
        })
    }

    /// Every finished probe the journal holds (a success, else the last
    /// failure), in the order first recorded.
    pub(crate) fn urls(&self) -> Vec<String> {
        let done = lock(&self.inner.done);
        let failed = lock(&self.inner.failed);
        let mut all: Vec<(u64, &String)> = done
            .iter()
            .map(|(url, (offset, _))| (*offset, url))
            .chain(
                failed
                    .iter()
                    .filter(|(url, _)| !done.contains_key(*url))
                    .map(|(url, (offset, _))| (*offset, url)),
            )
            .collect();
        all.sort_unstable();
        all.into_iter().map(|(_, url)| url.clone()).collect()
    }

    /// URLs whose last record is a failure and that never succeeded.
    pub fn failed_len(&self) -> usize {
        let done = lock(&self.inner.done);
        lock(&self.inner.failed)
            .keys()
            .filter(|url| !done.contains_key(*url))
            .count()
    }

    /// Appends the record of one finished probe. A failure is kept for
    /// [`write_error`](Self::write_error) and logged; the batch goes on.
    pub(crate) fn record(&self, url: &str, result: &Outcome) {
        let mut line = record::to_json(url, result).to_string().into_bytes();
        line.push(b'\n');
        let mut files = lock(&self.inner.file);
        let offset = files.len;
        // One write of the whole line: a kill leaves it whole or cut
        // short, and a cut line is recognised by its missing newline.
        match files.append.write_all(&line) {
            Ok(()) => {
                files.len += line.len() as u64;
                drop(files);
                let positions = match result {
                    Ok(_) => &self.inner.done,
                    Err(_) => &self.inner.failed,
                };
                lock(positions).insert(url.to_string(), (offset, line.len()));
            }
            Err(e) => {
                drop(files);
                tracing::error!(journal = %self.inner.path.display(), error = %e, "cannot write to the journal");
                lock(&self.inner.failed_writes).get_or_insert_with(|| {
                    format!("cannot write to {}: {e}", self.inner.path.display())
                });
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Best effort: the records are already with the operating system.
        let _ = lock(&self.file).append.sync_data();
    }
}

/// `(offset, length)` of the line of each stored success, by URL.
type Positions = HashMap<String, (u64, usize)>;

/// A line of a journal, once known to be a complete record.
enum Line {
    Header(u64),
    Success(String),
    Failure(String),
}

fn parse(line: &[u8]) -> Option<Line> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(line) else {
        return None;
    };
    if let Some(version) = object.get("probe_api_journal") {
        return version.as_u64().map(Line::Header);
    }
    let url = object.get("url")?.as_str()?.to_string();
    match object.get("ok")?.as_bool()? {
        true => object
            .get("response")
            .filter(|r| r.is_object())
            .map(|_| Line::Success(url)),
        false => Some(Line::Failure(url)),
    }
}

/// What opening a journal found.
struct Index {
    done: Positions,
    failed: Positions,
    /// Lines that were not records.
    skipped: usize,
    /// The length of the part that ends in a newline.
    complete: u64,
}

/// Reads the journal: where each success and last failure is, how many
/// lines were not records, and the length of the part that ends in a
/// newline.
fn index(file: &mut File, path: &Path) -> io::Result<Index> {
    let mut reader = BufReader::new(file);
    let mut found = Index {
        done: HashMap::new(),
        failed: HashMap::new(),
        skipped: 0,
        complete: 0,
    };
    let mut first = true;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            // End of file, or a last line cut off by a crash.
            return Ok(found);
        }
        let offset = found.complete;
        match parse(&line) {
            Some(Line::Header(version)) if first => {
                if version != FORMAT_VERSION {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} is a probe-api journal of format {version}; this version reads format {FORMAT_VERSION}",
                            path.display()
                        ),
                    ));
                }
            }
            _ if first => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a probe-api journal (its first line is not a journal header)",
                        path.display()
                    ),
                ));
            }
            Some(Line::Success(url)) => {
                found.done.insert(url, (offset, n));
            }
            Some(Line::Failure(url)) => {
                found.failed.insert(url, (offset, n));
            }
            Some(Line::Header(_)) | None => found.skipped += 1,
        }
        first = false;
        found.complete += n as u64;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("probe-api-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        path
    }

    fn success() -> Outcome {
        Ok(crate::Response::stored(
            crate::types::GetFileResponse {
                success: Some(true),
                ..Default::default()
            },
            http::StatusCode::OK,
            Some("req-1".to_string()),
            2,
            std::time::Duration::from_millis(40),
        ))
    }

    #[test]
    fn records_survive_reopening_and_a_cut_last_line_is_removed() {
        let path = scratch("cut.jsonl");
        let journal = Journal::open(&path).expect("open");
        journal.record("https://m/a.mp4", &success());
        journal.record(
            "https://m/b.mp4",
            &Err(crate::Error::invalid_request("refused")),
        );
        drop(journal);
        // A crash in the middle of the third record.
        let mut file = OpenOptions::new().append(true).open(&path).expect("append");
        file.write_all(br#"{"url":"https://m/c.mp4","ok":true,"response":{"succ"#)
            .expect("write");
        drop(file);

        let journal = Journal::open(&path).expect("reopen");
        assert!(journal.contains("https://m/a.mp4"));
        assert!(
            !journal.contains("https://m/b.mp4"),
            "failures are probed again"
        );
        assert!(
            !journal.contains("https://m/c.mp4"),
            "a cut line is no record"
        );
        assert_eq!(journal.skipped_lines(), 0);
        let stored = journal
            .stored("https://m/a.mp4", false)
            .expect("stored")
            .expect("reads back")
            .expect("a success");
        assert_eq!(stored.success, Some(true));
        assert_eq!(stored.request_id(), Some("req-1"));
        assert_eq!(stored.attempts(), 2);
        assert!(journal.stored("https://m/b.mp4", false).is_none());
        let failure = journal
            .stored("https://m/b.mp4", true)
            .expect("stored")
            .expect("reads back")
            .expect_err("a failure");
        assert_eq!(failure.kind(), crate::ErrorKind::InvalidRequest);
        assert!(failure.to_string().contains("refused"), "{failure}");
        journal.record("https://m/c.mp4", &success());
        drop(journal);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with('\n'));
        assert!(
            Journal::open(&path)
                .expect("again")
                .contains("https://m/c.mp4")
        );
    }

    #[test]
    fn other_files_and_other_versions_are_refused() {
        let path = scratch("other.jsonl");
        std::fs::write(&path, "{\"url\":\"x\",\"ok\":true,\"response\":{}}\n").expect("write");
        let error = Journal::open(&path).expect_err("not a journal");
        assert!(
            error.to_string().contains("not a probe-api journal"),
            "{error}"
        );
        std::fs::write(&path, "{\"probe_api_journal\":2}\n").expect("write");
        let error = Journal::open(&path).expect_err("a later format");
        assert!(error.to_string().contains("format 2"), "{error}");
    }

    #[test]
    fn a_damaged_line_in_the_middle_is_skipped_not_read() {
        let path = scratch("damaged.jsonl");
        std::fs::write(
            &path,
            "{\"probe_api_journal\":1}\n{\"url\":\"https://m/a\",\"ok\":tr\u{0}\u{0}\n{\"url\":\"https://m/b\",\"ok\":true,\"response\":{}}\n",
        )
        .expect("write");
        let journal = Journal::open(&path).expect("open");
        assert_eq!(journal.skipped_lines(), 1);
        assert!(!journal.contains("https://m/a"));
        assert!(journal.contains("https://m/b"));
    }
}
