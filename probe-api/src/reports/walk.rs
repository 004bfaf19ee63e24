//! Walking the frames and packets of an FFprobe report one at a time, as
//! the body arrives, with memory bounded by a constant instead of the body.
//!
//! A two-hour movie's `-show_frames -show_packets` output runs to hundreds
//! of megabytes: decoded whole, it is the body plus about twice that again.
//! [`walk_ffprobe`] hands its closure a client that walks: each call it
//! sends streams its body, which is decoded while it is still arriving,
//! each frame and packet of the FFprobe report (`ffprobe.response`) going
//! to a callback and then dropped; the response comes back with the rest of
//! the report (format, streams, chapters) and no frames or packets.
//!
//! serde_json has no incremental parser, so the decoder runs on a thread of
//! its own reading the body chunks from a bounded channel; the call's task
//! feeds that channel as chunks arrive. At most [`CHUNKS_IN_FLIGHT`] chunks
//! wait between the two, and the decoder holds one frame at a time. The
//! callback travels with the call, explicitly: in the walking client's
//! state, in the answer the transport hands the decoder, and in the seeds
//! the decoder reads the body with.

use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ffprobe::{Frame, Packet, PacketOrFrame};
use crate::Client;

/// How many body chunks may wait for the decoder; with hyper's chunks of
/// up to a few hundred kilobytes this bounds the body held in memory.
pub const CHUNKS_IN_FLIGHT: usize = 16;

/// What a walk hands each frame and packet to. It runs on the decoder's
/// thread, hence `Send`.
pub type Sink = Box<dyn FnMut(PacketOrFrame) + Send>;

/// The callback of a walking client, shared by the calls it sends (each
/// decoder locks it for each item, so two walked calls at once take
/// turns).
#[derive(Clone)]
pub(crate) struct Walk(Arc<Mutex<Sink>>);

impl std::fmt::Debug for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Walk")
    }
}

impl Walk {
    fn hand(&self, item: PacketOrFrame) {
        // A callback that panicked poisoned the lock; the items after it
        // still go to it.
        let mut sink = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sink(item);
    }
}

/// Sends the calls of `send` on a client that walks: every frame and
/// packet of each FFprobe report they receive goes to `each` as the body
/// arrives, instead of into the report, so peak memory is bounded by a
/// constant, not by the report.
///
/// `send` gets the walking client (`client` with the same settings) and
/// sends a file probe with it (`get_file` or `post_file`). The response it
/// returns holds the rest of the report (`format`, `streams`, `chapters`,
/// ...); its `frames`, `packets` and `packets_and_frames` are `None`, their
/// items having gone to `each`, in body order. `each` runs on a thread of
/// the walk's own (so it is `Send`); what it keeps is up to it.
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
///     &client,
///     move |item| {
///         if let PacketOrFrame::Frame(frame) = item {
///             if frame.key_frame == Some(1) {
///                 counter.fetch_add(1, Ordering::Relaxed);
///             }
///         }
///     },
///     async |walking| {
///         walking
///             .get_file()
///             .url("https://example.com/media/movie.mp4")
///             .ffprobe_show_frames(true)
///             .send()
///             .await
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
pub async fn walk_ffprobe<R>(
    client: &Client,
    each: impl FnMut(PacketOrFrame) + Send + 'static,
    send: impl AsyncFnOnce(&Client) -> R,
) -> R {
    let walk = Walk(Arc::new(Mutex::new(Box::new(each))));
    let walking = client.with_state(|state| state.walk = Some(walk));
    send(&walking).await
}

/// Decodes `response`'s body as `T` as it arrives, with the FFprobe
/// report's frames and packets going to `walk`.
///
/// # Errors
///
/// The body could not be read (the transport error) or decoded (its
/// message).
pub(crate) async fn decode<T: DeserializeOwned + Send + 'static>(
    mut response: reqwest::Response,
    walk: Walk,
) -> Result<T, Failure> {
    let (chunks, rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let (done, result) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("probe-api-walk".into())
        .spawn(move || {
            let reader = std::io::BufReader::with_capacity(
                64 * 1024,
                Chunks {
                    rx,
                    current: Bytes::new(),
                },
            );
            let _ = done.send(decode_walked::<T>(reader, &walk));
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

/// The body read from `reader`: the frames and packets of
/// `ffprobe.response` handed to `walk` as they are decoded, the rest kept
/// as JSON (it is small) and decoded into `T` at the end.
fn decode_walked<T: DeserializeOwned>(reader: impl Read, walk: &Walk) -> Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let rest = Level { depth: 0, walk }
        .deserialize(&mut deserializer)
        .and_then(|rest| deserializer.end().map(|()| rest))
        .map_err(|e| e.to_string())?;
    serde_json::from_value(rest).map_err(|e| e.to_string())
}

/// The path to the walked report: the body's `ffprobe`, then its `response`.
const REPORT_PATH: [&str; 2] = ["ffprobe", "response"];

/// A value on the path to the report at `depth` (0: the body, 2: the
/// report), read as JSON except the part of it on the path.
struct Level<'w> {
    depth: usize,
    walk: &'w Walk,
}

impl<'de> DeserializeSeed<'de> for Level<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut rest = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let kind = match key.as_str() {
                "frames" => Some(Kind::Frames),
                "packets" => Some(Kind::Packets),
                "packets_and_frames" => Some(Kind::Both),
                _ => None,
            };
            match (self.depth, kind) {
                (2, Some(kind)) => map.next_value_seed(Items {
                    kind,
                    walk: self.walk,
                })?,
                (depth, _) if depth < 2 && key == REPORT_PATH[depth] => {
                    let value = map.next_value_seed(Level {
                        depth: depth + 1,
                        walk: self.walk,
                    })?;
                    rest.insert(key, value);
                }
                _ => {
                    let value: Value = map.next_value()?;
                    rest.insert(key, value);
                }
            }
        }
        Ok(Value::Object(rest))
    }

    // Anything but an object off the path is kept as it is.
    crate::reports::keep_other_values!();
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

#[derive(Clone, Copy)]
enum Kind {
    Frames,
    Packets,
    Both,
}

/// An array of frames or packets, each handed to the walk as decoded.
struct Items<'w> {
    kind: Kind,
    walk: &'w Walk,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of frames or packets")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        loop {
            let item = match self.kind {
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
            self.walk.hand(item);
        }
    }
}
