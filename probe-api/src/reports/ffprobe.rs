//! FFprobe's JSON output (`-print_format json`) as Rust types.
//!
//! The fields follow ffprobe's output schema (`ffprobe.xsd` in FFmpeg):
//! values ffprobe prints as JSON numbers are Rust numbers, numbers it
//! prints as strings are [`Printed`] (the text, and its meaning on request),
//! and its other texts are [`CompactText`] (a short one without an
//! allocation: a frame has several).
//! Every struct keeps the fields it does not name in `extra`, so nothing a
//! newer ffprobe prints is lost, and a report serializes back to the JSON
//! it came from.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::object::{Key, object};
use super::printed::{Printed, Rational, Seconds};
use super::text::CompactText;

/// String tags (`title`, `language`, `encoder`, ...).
pub type Tags = BTreeMap<String, String>;

object! {
    /// Everything ffprobe printed for one input.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct FfprobeReport {
        /// The container (`-show_format`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub format: Option<Format>,
        /// The streams (`-show_streams`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub streams: Option<Vec<Stream>>,
        /// The chapters (`-show_chapters`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub chapters: Option<Vec<Chapter>>,
        /// The programs (`-show_programs`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub programs: Option<Vec<Program>>,
        /// Frames (`-show_frames` alone).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub frames: Option<Vec<Frame>>,
        /// Packets (`-show_packets` alone).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub packets: Option<Vec<Packet>>,
        /// Packets and frames interleaved (`-show_packets -show_frames`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub packets_and_frames: Option<Vec<PacketOrFrame>>,
    }
    extra: "Anything else ffprobe printed (`error`, `library_versions`, ...)."
}

impl FfprobeReport {
    /// The container's duration.
    pub fn duration(&self) -> Option<Duration> {
        self.format.as_ref()?.duration.as_ref()?.value()
    }

    /// Every stream, in index order as printed.
    pub fn streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams.iter().flatten()
    }

    /// The video streams (attached pictures, such as cover art, included).
    pub fn video_streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams().filter(|s| s.kind() == StreamKind::Video)
    }

    /// The audio streams.
    pub fn audio_streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams().filter(|s| s.kind() == StreamKind::Audio)
    }

    /// The subtitle streams.
    pub fn subtitle_streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams().filter(|s| s.kind() == StreamKind::Subtitle)
    }

    /// The frames, from `frames` or from `packets_and_frames`.
    pub fn all_frames(&self) -> impl Iterator<Item = &Frame> {
        self.frames
            .iter()
            .flatten()
            .chain(
                self.packets_and_frames
                    .iter()
                    .flatten()
                    .filter_map(|e| match e {
                        PacketOrFrame::Frame(f) => Some(&**f),
                        _ => None,
                    }),
            )
    }

    /// The packets, from `packets` or from `packets_and_frames`.
    pub fn all_packets(&self) -> impl Iterator<Item = &Packet> {
        self.packets
            .iter()
            .flatten()
            .chain(
                self.packets_and_frames
                    .iter()
                    .flatten()
                    .filter_map(|e| match e {
                        PacketOrFrame::Packet(p) => Some(&**p),
                        _ => None,
                    }),
            )
    }
}

object! {
    /// The container (`format` section).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Format {
        /// What was probed (the media URL).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filename: Option<CompactText>,
        /// Number of streams.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_streams: Option<u32>,
        /// Number of programs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_programs: Option<u32>,
        /// Short names of the demuxer, such as `mov,mp4,m4a,3gp,3g2,mj2`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub format_name: Option<CompactText>,
        /// Long name of the demuxer, such as `QuickTime / MOV`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub format_long_name: Option<CompactText>,
        /// When the first stream starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start_time: Option<Printed<Seconds>>,
        /// How long the input lasts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration: Option<Printed<Duration>>,
        /// Size in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub size: Option<Printed<u64>>,
        /// Overall bit rate in bits per second.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bit_rate: Option<Printed<u64>>,
        /// How sure the demuxer is (0 to 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub probe_score: Option<i32>,
        /// Container tags.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tags: Option<Tags>,
    }
    extra: "Fields not named above."
}

/// What a stream carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamKind {
    /// `video`
    Video,
    /// `audio`
    Audio,
    /// `subtitle`
    Subtitle,
    /// `data`
    Data,
    /// `attachment`
    Attachment,
    /// Another value, as printed.
    Other(String),
}

impl StreamKind {
    fn from_codec_type(text: &str) -> StreamKind {
        match text {
            "video" => StreamKind::Video,
            "audio" => StreamKind::Audio,
            "subtitle" => StreamKind::Subtitle,
            "data" => StreamKind::Data,
            "attachment" => StreamKind::Attachment,
            other => StreamKind::Other(other.to_string()),
        }
    }
}

object! {
    /// One stream (`streams` section).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Stream {
        /// Position in the input, from 0.
        pub index: u32,
        /// Codec short name, such as `h264`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_name: Option<CompactText>,
        /// Codec long name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_long_name: Option<CompactText>,
        /// Codec profile, such as `High` or `LC`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub profile: Option<CompactText>,
        /// `video`, `audio`, `subtitle`, `data` or `attachment`; see [`Stream::kind`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_type: Option<CompactText>,
        /// Codec tag as text, such as `avc1`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_tag_string: Option<CompactText>,
        /// Codec tag as hexadecimal, such as `0x31637661`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_tag: Option<CompactText>,
        /// Width in pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub width: Option<u32>,
        /// Height in pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub height: Option<u32>,
        /// Coded width in pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub coded_width: Option<u32>,
        /// Coded height in pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub coded_height: Option<u32>,
        /// Whether closed captions are present (0 or 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub closed_captions: Option<i32>,
        /// Whether film grain parameters are present (0 or 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub film_grain: Option<i32>,
        /// Frames the decoder delays by B-frames.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub has_b_frames: Option<i32>,
        /// Pixel aspect ratio, such as `1:1`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sample_aspect_ratio: Option<Printed<Rational>>,
        /// Display aspect ratio, such as `4:3`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub display_aspect_ratio: Option<Printed<Rational>>,
        /// Pixel format, such as `yuv420p`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pix_fmt: Option<CompactText>,
        /// Codec level.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub level: Option<i32>,
        /// Color range, such as `tv`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_range: Option<CompactText>,
        /// Color space, such as `bt709`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_space: Option<CompactText>,
        /// Transfer characteristics.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_transfer: Option<CompactText>,
        /// Color primaries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_primaries: Option<CompactText>,
        /// Chroma sample location, such as `left`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub chroma_location: Option<CompactText>,
        /// Field order, such as `progressive`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub field_order: Option<CompactText>,
        /// Reference frames.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refs: Option<i32>,
        /// Sample format, such as `fltp`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sample_fmt: Option<CompactText>,
        /// Samples per second.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sample_rate: Option<Printed<u32>>,
        /// Number of audio channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channels: Option<u32>,
        /// Channel layout, such as `stereo`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_layout: Option<CompactText>,
        /// Bits per sample.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bits_per_sample: Option<u32>,
        /// Stream id in the container, such as `0x1`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<CompactText>,
        /// The least frame rate that represents all timestamps exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub r_frame_rate: Option<Printed<Rational>>,
        /// The average frame rate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub avg_frame_rate: Option<Printed<Rational>>,
        /// The unit of the stream's timestamps, such as `1/30000`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub time_base: Option<Printed<Rational>>,
        /// First timestamp, in `time_base` units.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start_pts: Option<i64>,
        /// When the stream starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start_time: Option<Printed<Seconds>>,
        /// Duration in `time_base` units.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration_ts: Option<i64>,
        /// How long the stream lasts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration: Option<Printed<Duration>>,
        /// Bit rate in bits per second.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bit_rate: Option<Printed<u64>>,
        /// Maximum bit rate in bits per second.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_bit_rate: Option<Printed<u64>>,
        /// Bits per raw sample.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bits_per_raw_sample: Option<Printed<u32>>,
        /// Number of frames the container declares.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_frames: Option<Printed<u64>>,
        /// Frames counted by decoding (`-count_frames`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_read_frames: Option<Printed<u64>>,
        /// Packets counted (`-count_packets`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_read_packets: Option<Printed<u64>>,
        /// Size of the codec's extra data in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub extradata_size: Option<u64>,
        /// Disposition flags (`default`, `forced`, `attached_pic`, ...), 0 or 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub disposition: Option<BTreeMap<String, i32>>,
        /// Stream tags (`language`, `title`, `handler_name`, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tags: Option<Tags>,
    }
    extra: "Fields not named above (`is_avc`, `nal_length_size`, side data, ...)."
}

impl Stream {
    /// What the stream carries.
    pub fn kind(&self) -> StreamKind {
        StreamKind::from_codec_type(self.codec_type.as_deref().unwrap_or(""))
    }

    /// The frame rate: the average one when known, else the base rate.
    pub fn frame_rate(&self) -> Option<Rational> {
        let average = self.avg_frame_rate.as_ref().and_then(Printed::value);
        average
            .filter(|r| r.numerator() != 0)
            .or_else(|| self.r_frame_rate.as_ref().and_then(Printed::value))
            .filter(|r| r.numerator() != 0)
    }

    /// How long the stream lasts.
    pub fn duration(&self) -> Option<Duration> {
        self.duration.as_ref()?.value()
    }

    /// Samples per second, for audio.
    pub fn sample_rate(&self) -> Option<u32> {
        self.sample_rate.as_ref()?.value()
    }

    /// Bit rate in bits per second.
    pub fn bit_rate(&self) -> Option<u64> {
        self.bit_rate.as_ref()?.value()
    }

    /// The `language` tag, such as `eng`.
    pub fn language(&self) -> Option<&str> {
        self.tag("language")
    }

    /// A tag by name.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags.as_ref()?.get(name).map(String::as_str)
    }

    /// Whether a disposition flag is set, such as `default` or `attached_pic`.
    pub fn has_disposition(&self, flag: &str) -> bool {
        self.disposition
            .as_ref()
            .and_then(|d| d.get(flag))
            .is_some_and(|v| *v != 0)
    }
}

object! {
    /// A chapter (`chapters` section).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Chapter {
        /// Chapter id.
        pub id: i64,
        /// The unit of `start` and `end`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub time_base: Option<Printed<Rational>>,
        /// Start in `time_base` units.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start: Option<i64>,
        /// Start time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start_time: Option<Printed<Seconds>>,
        /// End in `time_base` units.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<i64>,
        /// End time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end_time: Option<Printed<Seconds>>,
        /// Chapter tags (`title`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tags: Option<Tags>,
    }
    extra: "Fields not named above."
}

impl Chapter {
    /// The `title` tag.
    pub fn title(&self) -> Option<&str> {
        self.tags.as_ref()?.get("title").map(String::as_str)
    }
}

object! {
    /// A program of a transport stream (`programs` section).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Program {
        /// Program id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub program_id: Option<i64>,
        /// Program number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub program_num: Option<i64>,
        /// Number of streams.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_streams: Option<u32>,
        /// PID of the program map table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pmt_pid: Option<i64>,
        /// PID carrying the program clock reference.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pcr_pid: Option<i64>,
        /// Program tags.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tags: Option<Tags>,
        /// The program's streams.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub streams: Option<Vec<Stream>>,
    }
    extra: "Fields not named above."
}

object! {
    /// A packet (`-show_packets`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Packet {
        /// `video`, `audio`, ...
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub codec_type: Option<CompactText>,
        /// The stream it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stream_index: Option<u32>,
        /// Presentation timestamp in the stream's time base.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pts: Option<i64>,
        /// Presentation time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pts_time: Option<Printed<Seconds>>,
        /// Decoding timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dts: Option<i64>,
        /// Decoding time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dts_time: Option<Printed<Seconds>>,
        /// Duration in the stream's time base.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration: Option<i64>,
        /// Duration.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration_time: Option<Printed<Seconds>>,
        /// Size in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub size: Option<Printed<u64>>,
        /// Byte position in the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pos: Option<Printed<u64>>,
        /// Flags, such as `K__` for a key frame.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub flags: Option<CompactText>,
    }
    extra: "Fields not named above."
}

impl Packet {
    /// Whether the packet holds a key frame.
    pub fn is_key(&self) -> bool {
        self.flags.as_deref().is_some_and(|f| f.starts_with('K'))
    }
}

object! {
    /// A decoded frame (`-show_frames`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Frame {
        /// `video`, `audio`, ...
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub media_type: Option<CompactText>,
        /// The stream it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stream_index: Option<u32>,
        /// Whether it is a key frame (0 or 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_frame: Option<i32>,
        /// Presentation timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pts: Option<i64>,
        /// Presentation time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pts_time: Option<Printed<Seconds>>,
        /// Best effort timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub best_effort_timestamp: Option<i64>,
        /// Best effort time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub best_effort_timestamp_time: Option<Printed<Seconds>>,
        /// Size of the packet it came from, in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_size: Option<Printed<u64>>,
        /// Width in pixels (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub width: Option<u32>,
        /// Height in pixels (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub height: Option<u32>,
        /// Pixel format (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pix_fmt: Option<CompactText>,
        /// Picture type, `I`, `P` or `B` (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pict_type: Option<CompactText>,
        /// Sample format (audio).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sample_fmt: Option<CompactText>,
        /// Samples in the frame (audio).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nb_samples: Option<u32>,
        /// Channels (audio).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channels: Option<u32>,
        /// Channel layout, such as `stereo` (audio).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_layout: Option<CompactText>,
        /// Decoding timestamp of the packet it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_dts: Option<i64>,
        /// Decoding time of the packet it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_dts_time: Option<Printed<Seconds>>,
        /// Duration in the stream's time base (FFmpeg 6 and later).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration: Option<i64>,
        /// Duration (FFmpeg 6 and later).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration_time: Option<Printed<Seconds>>,
        /// Duration in the stream's time base (before FFmpeg 6).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_duration: Option<i64>,
        /// Duration (before FFmpeg 6).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_duration_time: Option<Printed<Seconds>>,
        /// Byte position of the packet it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pkt_pos: Option<Printed<u64>>,
        /// Pixel aspect ratio, such as `1:1` (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sample_aspect_ratio: Option<Printed<Rational>>,
        /// Position in coding order (video; before FFmpeg 7).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub coded_picture_number: Option<i64>,
        /// Position in display order (video; before FFmpeg 7).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub display_picture_number: Option<i64>,
        /// Whether the picture is interlaced (0 or 1; video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub interlaced_frame: Option<i32>,
        /// Whether the top field comes first (0 or 1; video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub top_field_first: Option<i32>,
        /// How much the picture is to be repeated (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub repeat_pict: Option<i32>,
        /// Color range, such as `tv` (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_range: Option<CompactText>,
        /// Color space, such as `bt709` (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_space: Option<CompactText>,
        /// Color primaries (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_primaries: Option<CompactText>,
        /// Transfer characteristics (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color_transfer: Option<CompactText>,
        /// Chroma sample location, such as `left` (video).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub chroma_location: Option<CompactText>,
    }
    extra: "Fields not named above."
}

/// One entry of `packets_and_frames`, by its `type`.
///
/// The entry's `type` is the variant: it is not repeated in the packet's or
/// frame's `extra`, and serializing writes it back first, as ffprobe does.
/// Every variant is boxed, so the list holds 16 bytes per entry however
/// many fields a frame has (an unboxed map of the rare other entries would
/// make each 72, and a list of 9,225 entries grown by doubling has room for
/// 16,384 of them).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PacketOrFrame {
    /// `"type": "packet"`
    Packet(Box<Packet>),
    /// `"type": "frame"`
    Frame(Box<Frame>),
    /// Another `type` (such as `subtitle`), kept as printed, `type` included.
    Other(Box<Map<String, Value>>),
}

impl Serialize for PacketOrFrame {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// An entry with its `type` written first.
        #[derive(Serialize)]
        struct Typed<'a, T> {
            r#type: &'static str,
            #[serde(flatten)]
            entry: &'a T,
        }
        match self {
            // An entry built with its own `type` in `extra` writes that one.
            PacketOrFrame::Packet(p) if p.extra.contains_key("type") => p.serialize(serializer),
            PacketOrFrame::Frame(f) if f.extra.contains_key("type") => f.serialize(serializer),
            PacketOrFrame::Packet(p) => Typed {
                r#type: "packet",
                entry: &**p,
            }
            .serialize(serializer),
            PacketOrFrame::Frame(f) => Typed {
                r#type: "frame",
                entry: &**f,
            }
            .serialize(serializer),
            PacketOrFrame::Other(o) => o.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PacketOrFrame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> serde::de::Visitor<'de> for EntryVisitor {
    type Value = PacketOrFrame;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a packet or frame object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<PacketOrFrame, A::Error> {
        use serde::de::Error as _;
        // ffprobe writes `type` first, so the rest of the entry decodes
        // straight into its type; otherwise the entry is read whole first.
        let mut read = Map::new();
        if let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 == "type" {
                match map.next_value()? {
                    EntryType::Packet => {
                        return Packet::from_fields(map, read)
                            .map(|p| PacketOrFrame::Packet(Box::new(p)));
                    }
                    EntryType::Frame => {
                        return Frame::from_fields(map, read)
                            .map(|f| PacketOrFrame::Frame(Box::new(f)));
                    }
                    EntryType::Other(value) => {
                        read.insert(key.0.into_owned(), value);
                    }
                }
            } else {
                let value = map.next_value()?;
                read.insert(key.0.into_owned(), value);
            }
        }
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value()?;
            read.insert(key.0.into_owned(), value);
        }
        let kind = read.get("type").and_then(Value::as_str).map(str::to_string);
        match kind.as_deref() {
            Some(kind @ ("packet" | "frame")) => {
                let mut fields = read;
                fields.remove("type");
                let value = Value::Object(fields);
                if kind == "packet" {
                    serde_json::from_value(value)
                        .map(|p| PacketOrFrame::Packet(Box::new(p)))
                        .map_err(A::Error::custom)
                } else {
                    serde_json::from_value(value)
                        .map(|f| PacketOrFrame::Frame(Box::new(f)))
                        .map_err(A::Error::custom)
                }
            }
            _ => Ok(PacketOrFrame::Other(Box::new(read))),
        }
    }
}

/// The value of an entry's `type`: the two ffprobe writes for nearly every
/// entry are told apart without building a `Value` (a `String` each),
/// anything else is kept as a `Value`.
enum EntryType {
    Packet,
    Frame,
    Other(Value),
}

impl<'de> Deserialize<'de> for EntryType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryTypeVisitor)
    }
}

struct EntryTypeVisitor;

impl EntryTypeVisitor {
    fn text(text: &str) -> EntryType {
        match text {
            "packet" => EntryType::Packet,
            "frame" => EntryType::Frame,
            other => EntryType::Other(Value::from(other)),
        }
    }
}

/// A value that is not a string goes to `Value`'s own decoding, through
/// serde's adapters for what the visitor was handed.
impl<'de> serde::de::Visitor<'de> for EntryTypeVisitor {
    type Value = EntryType;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EntryType, E> {
        Ok(Self::text(v))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<EntryType, E> {
        Ok(match v.as_str() {
            "packet" | "frame" => Self::text(&v),
            _ => EntryType::Other(Value::String(v)),
        })
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<EntryType, E> {
        Ok(EntryType::Other(Value::Bool(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EntryType, E> {
        Ok(EntryType::Other(Value::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EntryType, E> {
        Ok(EntryType::Other(Value::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EntryType, E> {
        // As `Value` does: a number that is not finite becomes `null`.
        Ok(EntryType::Other(Value::from(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<EntryType, E> {
        Ok(EntryType::Other(Value::Null))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<EntryType, E> {
        Ok(EntryType::Other(Value::Null))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<EntryType, D::Error> {
        Value::deserialize(d).map(EntryType::Other)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<EntryType, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(EntryType::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<EntryType, A::Error> {
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(EntryType::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> PacketOrFrame {
        serde_json::from_str(json).expect("an entry")
    }

    #[test]
    fn entries_decode_alike_whether_type_comes_first_or_not() {
        let first = entry(r#"{"type": "packet", "stream_index": 1, "flags": "K_", "new": [1]}"#);
        let later = entry(r#"{"stream_index": 1, "type": "packet", "flags": "K_", "new": [1]}"#);
        assert_eq!(first, later);
        let PacketOrFrame::Packet(packet) = &first else {
            panic!("not a packet: {first:?}");
        };
        assert_eq!(packet.stream_index, Some(1));
        assert!(packet.is_key());
        assert_eq!(packet.extra.keys().collect::<Vec<_>>(), ["new"]);
        let back = serde_json::to_value(&first).expect("serializes");
        assert_eq!(
            back,
            serde_json::json!({"type": "packet", "stream_index": 1, "flags": "K_", "new": [1]})
        );
        assert_eq!(
            back.as_object()
                .and_then(|o| o.keys().next())
                .map(String::as_str),
            Some("type")
        );
    }

    #[test]
    fn other_entries_and_untyped_values_are_kept_as_printed() {
        let subtitle = entry(r#"{"type": "subtitle", "pts": 5}"#);
        assert_eq!(
            subtitle,
            PacketOrFrame::Other(Box::new(
                serde_json::from_str(r#"{"type": "subtitle", "pts": 5}"#).expect("map")
            ))
        );
        let odd = entry(r#"{"type": 7, "pts": 5}"#);
        assert!(matches!(odd, PacketOrFrame::Other(_)));
        // A `type` of any JSON kind, first or not, read from text or from a
        // `Value`, is kept exactly.
        for kind in [
            "7",
            "-7",
            "1.5",
            "true",
            "null",
            r#"[1, "a", {}]"#,
            r#"{"k": ["v"]}"#,
            r#""subtitle""#,
            r#""""#,
        ] {
            for printed in [
                format!(r#"{{"type": {kind}, "pts": 5}}"#),
                format!(r#"{{"pts": 5, "type": {kind}}}"#),
            ] {
                let value: Value = serde_json::from_str(&printed).expect("JSON");
                let from_text = entry(&printed);
                let from_value: PacketOrFrame =
                    serde_json::from_value(value.clone()).expect("an entry");
                assert_eq!(
                    from_text,
                    PacketOrFrame::Other(Box::new(value.as_object().cloned().unwrap_or_default()))
                );
                assert_eq!(from_value, from_text, "{printed}");
                assert_eq!(serde_json::to_value(&from_text).expect("serializes"), value);
            }
        }
        // An escaped `type` is still the text it stands for.
        assert!(matches!(
            entry(r#"{"type": "fr\u0061me", "pts": 5}"#),
            PacketOrFrame::Frame(f) if f.pts == Some(5)
        ));
    }

    #[test]
    fn named_fields_keep_serde_rules_for_missing_duplicate_and_mistyped_values() {
        let missing = serde_json::from_str::<Stream>(r#"{"codec_type": "video"}"#)
            .expect_err("index is required");
        assert!(
            missing.to_string().contains("missing field `index`"),
            "{missing}"
        );
        let twice = serde_json::from_str::<Format>(r#"{"nb_streams": 1, "nb_streams": 2}"#)
            .expect_err("a field given twice");
        assert!(
            twice.to_string().contains("duplicate field `nb_streams`"),
            "{twice}"
        );
        let mistyped = serde_json::from_str::<Frame>(r#"{"type": "frame", "width": "wide"}"#)
            .expect_err("width is a number");
        assert!(mistyped.to_string().contains("invalid type"), "{mistyped}");
        let frame: Frame = serde_json::from_value(serde_json::json!({"width": 4, "odd": null}))
            .expect("from a Value too");
        assert_eq!((frame.width, frame.extra.len()), (Some(4), 1));
    }

    #[test]
    fn the_entries_of_a_frames_report_stay_small() {
        use std::mem::size_of;
        // A frames report is tens of thousands of these: a field that grows
        // a frame by 8 bytes grows the decoded report of a 60 s clip by
        // 37 KB, so a change of these sizes is a change to review.
        assert_eq!(size_of::<PacketOrFrame>(), 16);
        assert_eq!(size_of::<Option<CompactText>>(), 16);
        assert_eq!(size_of::<Option<Printed<Seconds>>>(), 16);
        assert_eq!(size_of::<Frame>(), 544);
        assert_eq!(size_of::<Packet>(), 240);
    }
}
