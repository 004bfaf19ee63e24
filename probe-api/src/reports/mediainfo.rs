//! MediaInfo's JSON output (`--Output=JSON`) as Rust types.
//!
//! MediaInfo prints `media.track[]`, one object per track with its kind in
//! `@type` and nearly every value as a string (`"Duration": "2.002"`,
//! `"SamplingRate": "48000"`). Each kind is a struct with the common fields
//! as [`Printed`] values; the fields a struct does not name (and
//! MediaInfo's own `extra` object) stay in `other`, so a report
//! serializes back to the JSON it came from.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::printed::{Printed, Rational};
use super::text::CompactText;

/// Everything MediaInfo printed for one input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaInfoReport {
    /// The library that wrote the report.
    #[serde(
        rename = "creatingLibrary",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub creating_library: Option<CreatingLibrary>,
    /// The input and its tracks.
    #[serde(default)]
    pub media: Media,
    /// Fields not named above.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl MediaInfoReport {
    /// Every track, in the order MediaInfo printed them.
    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.media.track.iter()
    }

    /// The `General` track (the container).
    pub fn general(&self) -> Option<&General> {
        self.tracks().find_map(|t| match t {
            Track::General(g) => Some(g),
            _ => None,
        })
    }

    /// The `Video` tracks.
    pub fn video_tracks(&self) -> impl Iterator<Item = &Video> {
        self.tracks().filter_map(|t| match t {
            Track::Video(v) => Some(v),
            _ => None,
        })
    }

    /// The `Audio` tracks.
    pub fn audio_tracks(&self) -> impl Iterator<Item = &Audio> {
        self.tracks().filter_map(|t| match t {
            Track::Audio(a) => Some(a),
            _ => None,
        })
    }

    /// The `Text` (subtitle) tracks.
    pub fn text_tracks(&self) -> impl Iterator<Item = &Text> {
        self.tracks().filter_map(|t| match t {
            Track::Text(x) => Some(x),
            _ => None,
        })
    }

    /// The container's duration, from the `General` track.
    pub fn duration(&self) -> Option<Duration> {
        self.general()?.duration.as_ref()?.value()
    }
}

/// `creatingLibrary`: which MediaInfo wrote the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreatingLibrary {
    /// Such as `MediaInfoLib`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactText>,
    /// Such as `23.04`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<CompactText>,
    /// The project's site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<CompactText>,
    /// Fields not named above.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `media`: the input and its tracks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// What was analysed (the media URL).
    #[serde(rename = "@ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<CompactText>,
    /// The tracks.
    #[serde(default)]
    pub track: Vec<Track>,
    /// Fields not named above.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One track, by its `@type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Track {
    /// `General`: the container.
    General(General),
    /// `Video`
    Video(Video),
    /// `Audio`
    Audio(Audio),
    /// `Text`: subtitles and captions.
    Text(Text),
    /// `Image`
    Image(Image),
    /// `Menu`: chapters and programs.
    Menu(Menu),
    /// Another `@type` (such as `Other`), kept as printed.
    Other(Map<String, Value>),
}

impl Track {
    /// The `@type` as printed.
    pub fn kind(&self) -> &str {
        match self {
            Track::General(_) => "General",
            Track::Video(_) => "Video",
            Track::Audio(_) => "Audio",
            Track::Text(_) => "Text",
            Track::Image(_) => "Image",
            Track::Menu(_) => "Menu",
            Track::Other(o) => o.get("@type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for Track {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `@type` lives in each struct's `other`.
        match self {
            Track::General(t) => t.serialize(serializer),
            Track::Video(t) => t.serialize(serializer),
            Track::Audio(t) => t.serialize(serializer),
            Track::Text(t) => t.serialize(serializer),
            Track::Image(t) => t.serialize(serializer),
            Track::Menu(t) => t.serialize(serializer),
            Track::Other(t) => t.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Track {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let object = Map::<String, Value>::deserialize(deserializer)?;
        let kind = object
            .get("@type")
            .and_then(Value::as_str)
            .map(str::to_string);
        let value = Value::Object(object);
        let typed = |v: Value| -> Result<Track, D::Error> {
            let track = match kind.as_deref() {
                Some("General") => {
                    Track::General(serde_json::from_value(v).map_err(D::Error::custom)?)
                }
                Some("Video") => Track::Video(serde_json::from_value(v).map_err(D::Error::custom)?),
                Some("Audio") => Track::Audio(serde_json::from_value(v).map_err(D::Error::custom)?),
                Some("Text") => Track::Text(serde_json::from_value(v).map_err(D::Error::custom)?),
                Some("Image") => Track::Image(serde_json::from_value(v).map_err(D::Error::custom)?),
                Some("Menu") => Track::Menu(serde_json::from_value(v).map_err(D::Error::custom)?),
                _ => match v {
                    Value::Object(o) => Track::Other(o),
                    _ => return Err(D::Error::custom("a track object")),
                },
            };
            Ok(track)
        };
        typed(value)
    }
}

/// Declares a track struct: each field is `Option<Printed<T>>` under its
/// MediaInfo name, plus `other` for the rest.
macro_rules! track {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty = $json:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fdoc])*
                #[serde(rename = $json, default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<Printed<$ty>>,
            )*
            /// Fields not named above, `@type` and MediaInfo's `extra` among them.
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }
    };
}

track!(
    /// The `General` track: the container.
    General {
        /// Container format, such as `MPEG-4`.
        format: String = "Format",
        /// Format profile, such as `Base Media`.
        format_profile: String = "Format_Profile",
        /// Codec id, such as `isom`.
        codec_id: String = "CodecID",
        /// File size in bytes.
        file_size: u64 = "FileSize",
        /// Duration.
        duration: Duration = "Duration",
        /// Overall bit rate in bits per second.
        overall_bit_rate: u64 = "OverallBitRate",
        /// Frame rate of the main video, per second.
        frame_rate: f64 = "FrameRate",
        /// Frames of the main video.
        frame_count: u64 = "FrameCount",
        /// Number of video tracks.
        video_count: u32 = "VideoCount",
        /// Number of audio tracks.
        audio_count: u32 = "AudioCount",
        /// Number of text tracks.
        text_count: u32 = "TextCount",
        /// Number of menu tracks.
        menu_count: u32 = "MenuCount",
        /// Number of image tracks.
        image_count: u32 = "ImageCount",
        /// Title.
        title: String = "Title",
        /// Writing application.
        encoded_application: String = "Encoded_Application",
        /// Writing library.
        encoded_library: String = "Encoded_Library",
        /// Whether the file can be played while downloading (`Yes`/`No`).
        is_streamable: bool = "IsStreamable",
    }
);

track!(
    /// A `Video` track.
    Video {
        /// Order of the stream in the container.
        stream_order: String = "StreamOrder",
        /// Track id.
        id: String = "ID",
        /// Format, such as `AVC` or `HEVC`.
        format: String = "Format",
        /// Format profile, such as `High`.
        format_profile: String = "Format_Profile",
        /// Format level, such as `1.3`.
        format_level: String = "Format_Level",
        /// Codec id, such as `avc1`.
        codec_id: String = "CodecID",
        /// Duration.
        duration: Duration = "Duration",
        /// Bit rate in bits per second.
        bit_rate: u64 = "BitRate",
        /// Width in pixels.
        width: u32 = "Width",
        /// Height in pixels.
        height: u32 = "Height",
        /// Pixel aspect ratio.
        pixel_aspect_ratio: f64 = "PixelAspectRatio",
        /// Display aspect ratio.
        display_aspect_ratio: f64 = "DisplayAspectRatio",
        /// Rotation in degrees.
        rotation: f64 = "Rotation",
        /// `CFR` or `VFR`.
        frame_rate_mode: String = "FrameRate_Mode",
        /// Frames per second, rounded, such as `29.970`.
        frame_rate: f64 = "FrameRate",
        /// Numerator of the exact frame rate.
        frame_rate_num: i64 = "FrameRate_Num",
        /// Denominator of the exact frame rate.
        frame_rate_den: i64 = "FrameRate_Den",
        /// Number of frames.
        frame_count: u64 = "FrameCount",
        /// Color space, such as `YUV`.
        color_space: String = "ColorSpace",
        /// Chroma subsampling, such as `4:2:0`.
        chroma_subsampling: String = "ChromaSubsampling",
        /// Bits per component.
        bit_depth: u32 = "BitDepth",
        /// `Progressive` or `Interlaced`.
        scan_type: String = "ScanType",
        /// Bytes of this track.
        stream_size: u64 = "StreamSize",
        /// Language.
        language: String = "Language",
        /// Title.
        title: String = "Title",
        /// Whether it is the default track (`Yes`/`No`).
        default: bool = "Default",
        /// Whether it is forced (`Yes`/`No`).
        forced: bool = "Forced",
    }
);

impl Video {
    /// The exact frame rate, from `FrameRate_Num`/`FrameRate_Den` when
    /// printed.
    pub fn frame_rate_exact(&self) -> Option<Rational> {
        let num = self.frame_rate_num.as_ref()?.value()?;
        let den = self.frame_rate_den.as_ref()?.value()?;
        Rational::new(num, den)
    }
}

track!(
    /// An `Audio` track.
    Audio {
        /// Order of the stream in the container.
        stream_order: String = "StreamOrder",
        /// Track id.
        id: String = "ID",
        /// Format, such as `AAC` or `PCM`.
        format: String = "Format",
        /// Commercial name, such as `Dolby Digital`.
        format_commercial: String = "Format_Commercial_IfAny",
        /// Codec id, such as `mp4a-40-2`.
        codec_id: String = "CodecID",
        /// Duration.
        duration: Duration = "Duration",
        /// `CBR` or `VBR`.
        bit_rate_mode: String = "BitRate_Mode",
        /// Bit rate in bits per second.
        bit_rate: u64 = "BitRate",
        /// Number of channels.
        channels: u32 = "Channels",
        /// Channel positions.
        channel_positions: String = "ChannelPositions",
        /// Channel layout, such as `L R`.
        channel_layout: String = "ChannelLayout",
        /// Samples per frame.
        samples_per_frame: u32 = "SamplesPerFrame",
        /// Samples per second.
        sampling_rate: u32 = "SamplingRate",
        /// Number of samples.
        sampling_count: u64 = "SamplingCount",
        /// Frames per second.
        frame_rate: f64 = "FrameRate",
        /// Number of frames.
        frame_count: u64 = "FrameCount",
        /// Bits per sample.
        bit_depth: u32 = "BitDepth",
        /// `Lossy` or `Lossless`.
        compression_mode: String = "Compression_Mode",
        /// Bytes of this track.
        stream_size: u64 = "StreamSize",
        /// Language, such as `en`.
        language: String = "Language",
        /// Title.
        title: String = "Title",
        /// Whether it is the default track (`Yes`/`No`).
        default: bool = "Default",
        /// Whether it is forced (`Yes`/`No`).
        forced: bool = "Forced",
    }
);

track!(
    /// A `Text` track: subtitles or captions.
    Text {
        /// Order of the stream in the container.
        stream_order: String = "StreamOrder",
        /// Track id.
        id: String = "ID",
        /// Format, such as `UTF-8` or `ASS`.
        format: String = "Format",
        /// Codec id, such as `S_TEXT/UTF8`.
        codec_id: String = "CodecID",
        /// Duration.
        duration: Duration = "Duration",
        /// Language.
        language: String = "Language",
        /// Title.
        title: String = "Title",
        /// Whether it is the default track (`Yes`/`No`).
        default: bool = "Default",
        /// Whether it is forced (`Yes`/`No`).
        forced: bool = "Forced",
    }
);

track!(
    /// An `Image` track.
    Image {
        /// Format, such as `PNG`.
        format: String = "Format",
        /// Compression, such as `Deflate`.
        format_compression: String = "Format_Compression",
        /// Width in pixels.
        width: u32 = "Width",
        /// Height in pixels.
        height: u32 = "Height",
        /// Color space, such as `RGB`.
        color_space: String = "ColorSpace",
        /// Bits per component.
        bit_depth: u32 = "BitDepth",
        /// `Lossy` or `Lossless`.
        compression_mode: String = "Compression_Mode",
        /// Bytes of this track.
        stream_size: u64 = "StreamSize",
    }
);

track!(
    /// A `Menu` track: chapter markers (in MediaInfo's `extra`) or a
    /// program.
    Menu {
        /// Format, such as `Timed Text`.
        format: String = "Format",
        /// Codec id.
        codec_id: String = "CodecID",
        /// Duration.
        duration: Duration = "Duration",
        /// Language.
        language: String = "Language",
    }
);

impl Menu {
    /// Chapter markers: MediaInfo prints them in `extra` as
    /// `"_00_00_01_000": "Closing"` (start time, title).
    pub fn chapters(&self) -> Vec<(String, String)> {
        self.other
            .get("extra")
            .and_then(Value::as_object)
            .map(|extra| {
                extra
                    .iter()
                    .filter(|(k, _)| k.starts_with('_'))
                    .filter_map(|(k, v)| Some((marker_time(k), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `_00_00_01_000` as `00:00:01.000`.
fn marker_time(key: &str) -> String {
    let parts: Vec<&str> = key.trim_start_matches('_').split('_').collect();
    match parts.as_slice() {
        [h, m, s, ms] => format!("{h}:{m}:{s}.{ms}"),
        _ => key.to_string(),
    }
}
