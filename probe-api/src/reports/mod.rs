//! The tools' reports as Rust types.
//!
//! The API document types each tool's output as "any JSON"
//! (`ProbeResponseTool.response`). This module gives it types:
//! [`FfprobeReport`] for FFprobe and [`MediaInfoReport`] for MediaInfo, with
//! the numbers the tools print as text available as durations, integers and
//! exact fractions ([`Printed`], [`Rational`]). On a file probe response,
//! [`ffprobe()`](crate::types::GetFileResponse::ffprobe) and
//! [`mediainfo()`](crate::types::GetFileResponse::mediainfo) return the
//! typed report or say why there is none.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use probe_api::reports::FfprobeReport;
//!
//! let printed = r#"{"streams": [{"index": 0, "codec_type": "video", "codec_name": "h264",
//!     "width": 1920, "height": 1080, "avg_frame_rate": "30000/1001"}],
//!     "format": {"duration": "12.012000", "bit_rate": "4800000"}}"#;
//! let report: FfprobeReport = serde_json::from_str(printed)?;
//! let video = report.video_streams().next().ok_or("no video")?;
//! assert_eq!(video.frame_rate().map(|r| r.to_string()), Some("30000/1001".into()));
//! assert_eq!(report.duration(), Some(std::time::Duration::from_millis(12012)));
//! # Ok(()) }
//! ```

pub mod ffprobe;
pub mod mediainfo;
mod object;
mod printed;

use std::fmt;

use serde::de::DeserializeOwned;

pub use ffprobe::FfprobeReport;
pub use mediainfo::MediaInfoReport;
pub use printed::{FromPrinted, Printed, Rational, Seconds};

use crate::types;

/// Why a response holds no typed report for a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportError {
    /// The tool was not part of the request (see `only` and `<tool>[enabled]`).
    NotRequested {
        /// `ffprobe` or `mediainfo`.
        tool: &'static str,
    },
    /// The tool ran and failed; its error text.
    ToolFailed {
        /// `ffprobe` or `mediainfo`.
        tool: &'static str,
        /// What the service said.
        error: String,
    },
    /// The tool's output is not the expected format.
    Format {
        /// `ffprobe` or `mediainfo`.
        tool: &'static str,
        /// Where in the output decoding stopped (`.` for the top level).
        path: String,
        /// Why.
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::NotRequested { tool } => {
                write!(f, "{tool} was not requested")
            }
            ReportError::ToolFailed { tool, error } => write!(f, "{tool} failed: {error}"),
            ReportError::Format {
                tool,
                path,
                message,
            } => write!(
                f,
                "the {tool} output is not in the expected format at `{path}`: {message}"
            ),
        }
    }
}

impl std::error::Error for ReportError {}

/// Decodes a tool's output into its report type.
fn typed<T: DeserializeOwned>(
    tool: &'static str,
    result: Option<&types::ProbeResponseTool>,
) -> Result<T, ReportError> {
    let result = result.ok_or(ReportError::NotRequested { tool })?;
    if result.success == Some(false) || result.response.is_none() {
        return Err(ReportError::ToolFailed {
            tool,
            error: result
                .error
                .clone()
                .unwrap_or_else(|| "no output and no error message".to_string()),
        });
    }
    let output = result.response.as_ref().unwrap_or(&serde_json::Value::Null);
    // An output sent as a JSON string (`inject_json` off) is decoded too.
    // Outputs that decode take the fast path; only one that fails is decoded
    // again, tracking the path, to say where.
    let fast = match output {
        serde_json::Value::String(text) => serde_json::from_str(text).ok(),
        value => T::deserialize(value).ok(),
    };
    if let Some(report) = fast {
        return Ok(report);
    }
    let decoded = match output {
        serde_json::Value::String(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de)
        }
        value => serde_path_to_error::deserialize(value),
    };
    decoded.map_err(|e| ReportError::Format {
        tool,
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Typed reports of a file probe response.
macro_rules! file_probe_reports {
    ($($response:ty),*) => {$(
        impl $response {
            /// The FFprobe report, or why there is none.
            ///
            /// # Errors
            ///
            /// FFprobe was not requested, failed (with its error text), or
            /// printed something that is not FFprobe's JSON.
            pub fn ffprobe(&self) -> Result<FfprobeReport, ReportError> {
                typed("ffprobe", self.ffprobe.as_ref())
            }

            /// The MediaInfo report, or why there is none.
            ///
            /// # Errors
            ///
            /// MediaInfo was not requested, failed (with its error text), or
            /// printed something that is not MediaInfo's JSON.
            pub fn mediainfo(&self) -> Result<MediaInfoReport, ReportError> {
                typed("mediainfo", self.mediainfo.as_ref())
            }
        }
    )*};
}

file_probe_reports!(types::GetFileResponse, types::PostFileResponse);
