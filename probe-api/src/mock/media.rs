//! What the mock's media operations answer with: real FFprobe and MediaInfo
//! output of small media made by ffmpeg (`fixtures/media/`, with the
//! commands and tool versions in `PROVENANCE.md` there).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// The tool outputs for one media URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaFixture {
    pub(crate) ffprobe: Option<Value>,
    pub(crate) ffprobe_frames: Option<Value>,
    pub(crate) mediainfo: Option<Value>,
    pub(crate) error: Option<String>,
    /// The fault every request for this media gets.
    pub(crate) fault: Option<super::Fault>,
}

/// Built-in samples: name, media URL, FFprobe, FFprobe with frames and
/// packets, MediaInfo.
const SAMPLES: [(&str, &str, &str, Option<&str>, &str); 5] = [
    (
        "h264_aac",
        "https://media.example/fixtures/h264_aac.mp4",
        include_str!("../../fixtures/media/h264_aac.ffprobe.json"),
        Some(include_str!(
            "../../fixtures/media/h264_aac.frames_packets.ffprobe.json"
        )),
        include_str!("../../fixtures/media/h264_aac.mediainfo.json"),
    ),
    (
        "hevc_2audio_subs",
        "https://media.example/fixtures/hevc_2audio_subs.mkv",
        include_str!("../../fixtures/media/hevc_2audio_subs.ffprobe.json"),
        None,
        include_str!("../../fixtures/media/hevc_2audio_subs.mediainfo.json"),
    ),
    (
        "tone",
        "https://media.example/fixtures/tone.wav",
        include_str!("../../fixtures/media/tone.ffprobe.json"),
        None,
        include_str!("../../fixtures/media/tone.mediainfo.json"),
    ),
    (
        "frame",
        "https://media.example/fixtures/frame.png",
        include_str!("../../fixtures/media/frame.ffprobe.json"),
        None,
        include_str!("../../fixtures/media/frame.mediainfo.json"),
    ),
    (
        "hls",
        "https://media.example/fixtures/hls/playlist.m3u8",
        include_str!("../../fixtures/media/hls.ffprobe.json"),
        None,
        include_str!("../../fixtures/media/hls.mediainfo.json"),
    ),
];

impl MediaFixture {
    /// A fixture with no tool output yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A built-in sample by name: `h264_aac` (2 s H.264/AAC MP4 with
    /// chapters, the default), `hevc_2audio_subs` (HEVC MKV, two audio
    /// tracks, a subtitle), `tone` (WAV), `frame` (PNG), `hls` (an HLS
    /// playlist of three segments).
    pub fn sample(name: &str) -> Option<Self> {
        let (_, _, ffprobe, frames, mediainfo) = SAMPLES.iter().find(|s| s.0 == name)?;
        Some(MediaFixture {
            ffprobe: serde_json::from_str(ffprobe).ok(),
            ffprobe_frames: frames.and_then(|f| serde_json::from_str(f).ok()),
            mediainfo: serde_json::from_str(mediainfo).ok(),
            error: None,
            fault: None,
        })
    }

    /// The names and media URLs of the built-in samples.
    pub fn samples() -> impl Iterator<Item = (&'static str, &'static str)> {
        SAMPLES.iter().map(|s| (s.0, s.1))
    }

    /// What `ffprobe -print_format json` printed.
    #[must_use]
    pub fn ffprobe(mut self, output: Value) -> Self {
        self.ffprobe = Some(output);
        self
    }

    /// What ffprobe printed with `-show_frames -show_packets`, answered when
    /// a request asks for frames or packets.
    #[must_use]
    pub fn ffprobe_with_frames(mut self, output: Value) -> Self {
        self.ffprobe_frames = Some(output);
        self
    }

    /// What `mediainfo --Output=JSON` printed.
    #[must_use]
    pub fn mediainfo(mut self, output: Value) -> Self {
        self.mediainfo = Some(output);
        self
    }

    /// Media no tool can read: each tool answers unsuccessfully with
    /// this error.
    pub fn unreadable(error: impl Into<String>) -> Self {
        MediaFixture {
            error: Some(error.into()),
            ..Self::default()
        }
    }
}

impl MediaFixture {
    /// Media whose every request fails with `fault`, whatever retries and
    /// concurrency the client uses: for a test that makes one URL of a
    /// batch fail. (A [`Fault::Delay`](super::Fault::Delay) delays each
    /// answer, which then carries no tool output.)
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use probe_api::mock::{Fault, MediaFixture, MockServer};
    ///
    /// let mock = MockServer::start().await?;
    /// mock.add_media("https://media.example/broken.mp4", MediaFixture::failing(Fault::status(500)));
    /// let error = mock.client()?.get_file().url("https://media.example/broken.mp4").send().await.unwrap_err();
    /// assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    /// assert!(error.request_id().is_some());
    /// # Ok(()) }
    /// ```
    pub fn failing(fault: super::Fault) -> Self {
        MediaFixture {
            fault: Some(fault),
            ..Self::default()
        }
    }
}

/// The built-in samples by media URL.
pub(crate) fn builtin() -> HashMap<String, Arc<MediaFixture>> {
    SAMPLES
        .iter()
        .filter_map(|(name, url, ..)| {
            Some((url.to_string(), Arc::new(MediaFixture::sample(name)?)))
        })
        .collect()
}
