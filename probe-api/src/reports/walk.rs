//! Walking the frames and packets of an FFprobe report one at a time, as
//! the body arrives, with memory bounded by a constant instead of the body.
//!
//! A two-hour movie's `-show_frames -show_packets` output runs to hundreds
//! of megabytes: decoded whole, it is the body plus about twice that again.
//! [`walk_ffprobe`] sends the request as usual but decodes the body while
//! it is still arriving: each frame and packet of the FFprobe report goes
//! to a callback and is dropped, and the response comes back with the rest
//! of the report (format, streams, chapters) and no frames or packets.
//!
//! serde_json has no incremental parser, so the decoder runs on a thread of
//! its own reading the body chunks from a bounded channel; the call's task
//! feeds that channel as chunks arrive. At most [`CHUNKS_IN_FLIGHT`] chunks
//! wait between the two, and the decoder holds one frame at a time.

use std::cell::RefCell;
use std::future::Future;
use std::io::Read;

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::FfprobeReport;
use super::ffprobe::{Frame, Packet, PacketOrFrame};

/// How many body chunks may wait for the decoder; with hyper's chunks of
/// up to a few hundred kilobytes this bounds the body held in memory.
pub const CHUNKS_IN_FLIGHT: usize = 16;

/// What a walk hands each frame and packet to. It runs on the decoder's
/// thread, hence `Send`.
pub type Sink = Box<dyn FnMut(PacketOrFrame) + Send>;

tokio::task_local! {
    /// The sink of the walk this task's call is part of.
    static WALK: RefCell<Option<Sink>>;
}

thread_local! {
    /// On the decoder's thread: where the report's frames and packets go.
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Sends a file probe built as usual and hands every frame and packet of
/// its FFprobe report to `each` as the body arrives, instead of keeping
/// them: peak memory is bounded by a constant, not by the report.
///
/// `send` is the builder's `send()` (of `get_file` or `post_file`). The
/// response it returns holds the rest of the report (`format`, `streams`,
/// `chapters`, ...); its `frames`, `packets` and `packets_and_frames` are
/// `None`, their items having gone to `each`, in body order. `each` runs on
/// a thread of the walk's own (so it is `Send`); what it keeps is up to it.
///
/// ```no_run
/// # async fn run(client: probe_api::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use probe_api::reports::ffprobe::PacketOrFrame;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// let key_frames = Arc::new(AtomicU64::new(0));
/// let counter = key_frames.clone();
/// let response = probe_api::reports::walk_ffprobe(
///     client
///         .get_file()
///         .url("https://example.com/media/movie.mp4")
///         .ffprobe_show_frames(true)
///         .send(),
///     move |item| {
///         if let PacketOrFrame::Frame(frame) = item {
///             if frame.key_frame == Some(1) {
///                 counter.fetch_add(1, Ordering::Relaxed);
///             }
///         }
///     },
/// )
/// .await?;
/// println!("{} key frames in {:?}", key_frames.load(Ordering::Relaxed),
///     response.ffprobe()?.duration());
/// # Ok(()) }
/// ```
///
/// A walked call is sent once: its body is decoded as it arrives, so a
/// connection that breaks mid-body cannot be retried without handing the
/// same frames to `each` twice. A report sent as JSON text (`inject_json`
/// off) is not walked: it decodes whole.
///
/// # Errors
///
/// Those of `send`; a body that does not decode is an
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) error.
pub async fn walk_ffprobe<F>(send: F, each: impl FnMut(PacketOrFrame) + Send + 'static) -> F::Output
where
    F: Future,
{
    WALK.scope(RefCell::new(Some(Box::new(each))), send).await
}

/// Whether the current call is walked (see [`walk_ffprobe`]).
#[inline]
pub(crate) fn walking() -> bool {
    WALK.try_with(|w| w.borrow().is_some()).unwrap_or(false)
}

/// The current walk's sink, taken: a call decodes its body once.
pub(crate) fn take_sink() -> Option<Sink> {
    WALK.try_with(|w| w.borrow_mut().take()).ok().flatten()
}

/// Decodes `response`'s body as `T` as it arrives, with the FFprobe
/// report's frames and packets going to `sink`.
///
/// # Errors
///
/// The body could not be read (the transport error) or decoded (its
/// message).
pub(crate) async fn decode<T: DeserializeOwned + Send + 'static>(
    mut response: reqwest::Response,
    sink: Sink,
) -> Result<T, Failure> {
    let (chunks, rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let (done, result) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("probe-api-walk".into())
        .spawn(move || {
            SINK.with(|s| *s.borrow_mut() = Some(sink));
            let reader = std::io::BufReader::with_capacity(
                64 * 1024,
                Chunks {
                    rx,
                    current: Bytes::new(),
                },
            );
            let decoded = serde_json::from_reader::<_, T>(reader).map_err(|e| e.to_string());
            SINK.with(|s| s.borrow_mut().take());
            let _ = done.send(decoded);
        });
    if let Err(e) = spawned {
        return Err(Failure::Decode(format!(
            "cannot start the decoder thread: {e}"
        )));
    }
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                // The decoder stopped (it failed): its error says why.
                if chunks.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return Err(Failure::Transport(e)),
        }
    }
    drop(chunks);
    match result.await {
        Ok(decoded) => decoded.map_err(Failure::Decode),
        Err(_) => Err(Failure::Decode(String::from("the decoder thread stopped"))),
    }
}

/// Why a walked body did not decode.
pub(crate) enum Failure {
    Transport(reqwest::Error),
    Decode(String),
}

/// The body chunks, read on the decoder's thread as they arrive.
struct Chunks {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Decodes an FFprobe report from `map`; on a walk's decoder thread its
/// frames and packets go to the walk's sink instead of into the report.
pub(crate) fn ffprobe_from_map<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<FfprobeReport, A::Error> {
    if SINK.with(|s| s.borrow().is_none()) {
        return serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map));
    }
    // The rest of the report is small (format, streams, chapters): it is
    // gathered as JSON and decoded at the end.
    let mut rest = Map::new();
    while let Some(key) = map.next_key::<String>()? {
        match key.as_str() {
            "frames" => map.next_value_seed(Items(Kind::Frames))?,
            "packets" => map.next_value_seed(Items(Kind::Packets))?,
            "packets_and_frames" => map.next_value_seed(Items(Kind::Both))?,
            _ => {
                let value: Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
    }
    serde::Deserialize::deserialize(Value::Object(rest)).map_err(de::Error::custom)
}

#[derive(Clone, Copy)]
enum Kind {
    Frames,
    Packets,
    Both,
}

/// An array of frames or packets, each handed to the sink as decoded.
struct Items(Kind);

impl<'de> DeserializeSeed<'de> for Items {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of frames or packets")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        loop {
            let item = match self.0 {
                Kind::Frames => seq
                    .next_element::<Frame>()?
                    .map(|f| PacketOrFrame::Frame(Box::new(f))),
                Kind::Packets => seq
                    .next_element::<Packet>()?
                    .map(|p| PacketOrFrame::Packet(Box::new(p))),
                Kind::Both => seq.next_element::<PacketOrFrame>()?,
            };
            let Some(item) = item else {
                return Ok(());
            };
            SINK.with(|s| {
                if let Some(sink) = s.borrow_mut().as_mut() {
                    sink(item);
                }
            });
        }
    }
}
