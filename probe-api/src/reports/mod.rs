//! The tools' reports as Rust types.
//!
//! The API document types each tool's output as "any JSON"
//! (`ProbeResponseTool.response`). This module gives it types:
//! [`FfprobeReport`] for FFprobe and [`MediaInfoReport`] for MediaInfo, with
//! the numbers the tools print as text available as durations, integers and
//! exact fractions ([`Printed`], [`Rational`]), and their other texts as
//! [`CompactText`] (a `str`, kept inline when short). A file probe response decodes
//! each report into its type as it reads the body ([`ToolReport`]), once;
//! [`ffprobe()`](crate::types::GetFileResponse::ffprobe) and
//! [`mediainfo()`](crate::types::GetFileResponse::mediainfo) borrow the
//! typed report or say why there is none,
//! [`into_ffprobe()`](crate::types::GetFileResponse::into_ffprobe) and
//! [`into_mediainfo()`](crate::types::GetFileResponse::into_mediainfo)
//! move it out. A report that does not fit its type leaves the rest of the
//! response intact and names the JSON path where it stopped.
//! [`summary()`](crate::types::GetFileResponse::summary) prints the lines a
//! person reads first ([`FileSummary`]).
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
mod inline;
pub mod mediainfo;
mod object;
mod printed;
mod summary;
mod text;
mod tool;
pub mod walk;

use std::fmt;

pub use ffprobe::FfprobeReport;
pub use mediainfo::MediaInfoReport;
pub use printed::{FromPrinted, Printed, Rational, Seconds};
pub use summary::{FfprobeSummary, FileSummary, MediaInfoSummary};
pub use text::CompactText;
pub(crate) use tool::isolate_reports;
pub use tool::{Report, ToolReport};
pub use walk::walk_ffprobe;

use crate::types;

/// The methods of a `Visitor` of `serde_json::Value` that keep any value
/// but an object as it is: for the seeds that read a body along a path
/// (the walk's, the lenient pass's), where only the objects on the path are
/// read differently.
macro_rules! keep_other_values {
    () => {
        fn visit_seq<S: serde::de::SeqAccess<'de>>(
            self,
            seq: S,
        ) -> Result<serde_json::Value, S::Error> {
            serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::String(v.to_string()))
        }

        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::String(v))
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::Bool(v))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::from(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::from(v))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::from(v))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<serde_json::Value, E> {
            Ok(serde_json::Value::Null)
        }
    };
}
pub(crate) use keep_other_values;

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
    /// The tool succeeded but the response carries no report.
    NoReport {
        /// `ffprobe` or `mediainfo`.
        tool: &'static str,
    },
    /// The tool's output is not the expected format. The rest of the
    /// response decoded.
    Format {
        /// `ffprobe` or `mediainfo`.
        tool: &'static str,
        /// Where in the report decoding stopped (`.` for the top level),
        /// such as `streams[0].width`.
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
            ReportError::NoReport { tool } => {
                write!(f, "{tool} succeeded but the response carries no report")
            }
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

/// The report of a tool result, or why there is none.
fn report<'a, T: Report>(
    success: Option<bool>,
    error: Option<&String>,
    response: Option<&'a ToolReport<T>>,
) -> Result<&'a ToolReport<T>, ReportError> {
    let tool = T::TOOL;
    if success == Some(false) {
        return Err(ReportError::ToolFailed {
            tool,
            error: error.map_or_else(|| String::from("no error message"), String::clone),
        });
    }
    match (response, error) {
        (Some(report), _) => Ok(report),
        (None, Some(error)) => Err(ReportError::ToolFailed {
            tool,
            error: error.clone(),
        }),
        (None, None) => Err(ReportError::NoReport { tool }),
    }
}

/// Typed reports of a file probe response.
macro_rules! file_probe_reports {
    ($($response:ty),*) => {$(
        impl $response {
            /// The FFprobe report, or why there is none. It was decoded
            /// with the response, straight from the body.
            ///
            /// # Errors
            ///
            /// FFprobe was not requested, failed (with its error text),
            /// succeeded without a report, or printed something that is not
            /// FFprobe's JSON (with the path where it stopped).
            pub fn ffprobe(&self) -> Result<&FfprobeReport, ReportError> {
                let result = self
                    .ffprobe
                    .as_ref()
                    .ok_or(ReportError::NotRequested { tool: "ffprobe" })?;
                report(result.success, result.error.as_ref(), result.response.as_ref())?.get()
            }

            /// The FFprobe report moved out of the response, without a copy.
            ///
            /// # Errors
            ///
            /// As [`ffprobe`](Self::ffprobe).
            pub fn into_ffprobe(self) -> Result<FfprobeReport, ReportError> {
                let result = self
                    .ffprobe
                    .ok_or(ReportError::NotRequested { tool: "ffprobe" })?;
                report(result.success, result.error.as_ref(), result.response.as_ref())?;
                result
                    .response
                    .ok_or(ReportError::NoReport { tool: "ffprobe" })?
                    .into_inner()
            }

            /// The MediaInfo report, or why there is none. It was decoded
            /// with the response, straight from the body.
            ///
            /// # Errors
            ///
            /// MediaInfo was not requested, failed (with its error text),
            /// succeeded without a report, or printed something that is not
            /// MediaInfo's JSON (with the path where it stopped).
            pub fn mediainfo(&self) -> Result<&MediaInfoReport, ReportError> {
                let result = self
                    .mediainfo
                    .as_ref()
                    .ok_or(ReportError::NotRequested { tool: "mediainfo" })?;
                report(result.success, result.error.as_ref(), result.response.as_ref())?.get()
            }

            /// The lines a person reads first about the file, as
            /// [`Display`](fmt::Display): each requested tool's report
            /// summarized ([`FfprobeReport::summary`],
            /// [`MediaInfoReport::summary`]) or why there is none.
            pub fn summary(&self) -> FileSummary<'_> {
                FileSummary {
                    ffprobe: self.ffprobe(),
                    mediainfo: self.mediainfo(),
                }
            }

            /// The MediaInfo report moved out of the response, without a
            /// copy.
            ///
            /// # Errors
            ///
            /// As [`mediainfo`](Self::mediainfo).
            pub fn into_mediainfo(self) -> Result<MediaInfoReport, ReportError> {
                let result = self
                    .mediainfo
                    .ok_or(ReportError::NotRequested { tool: "mediainfo" })?;
                report(result.success, result.error.as_ref(), result.response.as_ref())?;
                result
                    .response
                    .ok_or(ReportError::NoReport { tool: "mediainfo" })?
                    .into_inner()
            }
        }
    )*};
}

file_probe_reports!(types::GetFileResponse, types::PostFileResponse);
