//! The lines a person reads first about a probed file: the container, its
//! duration and bit rate, each stream's codec and shape, each MediaInfo
//! track. `probe file` and the quickstart example print the same summary
//! from here.

use std::fmt;
use std::time::Duration;

use super::ffprobe::StreamKind;
use super::mediainfo::Track;
use super::{FfprobeReport, MediaInfoReport, Printed, ReportError};

/// The summary of a file probe response, from
/// [`GetFileResponse::summary`](crate::types::GetFileResponse::summary):
/// for each tool the response holds, its report's summary or why there is
/// none, one indented line each (`  FFprobe:   …`, `  MediaInfo: …`).
/// A tool that was not requested is left out.
#[derive(Debug, Clone)]
pub struct FileSummary<'a> {
    pub(super) ffprobe: Result<&'a FfprobeReport, ReportError>,
    pub(super) mediainfo: Result<&'a MediaInfoReport, ReportError>,
}

impl fmt::Display for FileSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ffprobe {
            Ok(report) => write!(f, "{}", report.summary())?,
            Err(ReportError::NotRequested { .. }) => {}
            Err(why) => writeln!(f, "  FFprobe:   {why}")?,
        }
        match &self.mediainfo {
            Ok(report) => write!(f, "{}", report.summary()),
            Err(ReportError::NotRequested { .. }) => Ok(()),
            Err(why) => writeln!(f, "  MediaInfo: {why}"),
        }
    }
}

/// The summary of an FFprobe report, from [`FfprobeReport::summary`]: the
/// container's name, duration and bit rate on one line, then a line per
/// stream with its codec, and its size and frame rate or its sample rate,
/// channels and language. A value the report lacks shows as `?`.
#[derive(Debug, Clone, Copy)]
pub struct FfprobeSummary<'a>(&'a FfprobeReport);

impl FfprobeReport {
    /// The lines a person reads first about this report, as
    /// [`Display`](fmt::Display).
    pub fn summary(&self) -> FfprobeSummary<'_> {
        FfprobeSummary(self)
    }
}

impl fmt::Display for FfprobeSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        let container = report.format.as_ref();
        writeln!(
            f,
            "  FFprobe:   {} ({}), {}, {}",
            container
                .and_then(|c| c.format_long_name.as_deref())
                .unwrap_or("?"),
            container
                .and_then(|c| c.format_name.as_deref())
                .unwrap_or("?"),
            seconds(report.duration()),
            rate(container.and_then(|c| c.bit_rate.as_ref()?.value())),
        )?;
        for stream in report.streams() {
            let detail = match stream.kind() {
                StreamKind::Video => format!(
                    "{}x{}, {} fps",
                    known(stream.width),
                    known(stream.height),
                    stream
                        .frame_rate()
                        .map_or("?".to_string(), |r| format!("{r} ({:.3})", r.as_f64()))
                ),
                StreamKind::Audio => format!(
                    "{} Hz, {} channel(s), language {}",
                    known(stream.sample_rate()),
                    known(stream.channels),
                    stream.language().unwrap_or("?")
                ),
                _ => String::new(),
            };
            let line = format!(
                "    #{} {:<8} {:<10} {detail}",
                stream.index,
                stream.codec_type.as_deref().unwrap_or("?"),
                stream.codec_name.as_deref().unwrap_or("?"),
            );
            // A stream without details leaves no padding at the line's end.
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// The summary of a MediaInfo report, from [`MediaInfoReport::summary`]: a
/// line per track with its kind and what describes it (format, duration
/// and bit rate; size and frame rate; sample rate and channels; language;
/// chapters). A value the report lacks shows as `?`.
#[derive(Debug, Clone, Copy)]
pub struct MediaInfoSummary<'a>(&'a MediaInfoReport);

impl MediaInfoReport {
    /// The lines a person reads first about this report, as
    /// [`Display`](fmt::Display).
    pub fn summary(&self) -> MediaInfoSummary<'_> {
        MediaInfoSummary(self)
    }
}

impl fmt::Display for MediaInfoSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        for track in report.tracks() {
            let detail = match track {
                Track::General(g) => format!(
                    "{}, {}, {}",
                    printed(&g.format),
                    seconds(report.duration()),
                    rate(g.overall_bit_rate.as_ref().and_then(|b| b.value()))
                ),
                Track::Video(v) => format!(
                    "{} {}x{} at {} fps",
                    printed(&v.format),
                    printed(&v.width),
                    printed(&v.height),
                    v.frame_rate_exact()
                        .map_or_else(|| printed(&v.frame_rate), |r| r.to_string())
                ),
                Track::Audio(a) => format!(
                    "{} {} Hz, {} channel(s)",
                    printed(&a.format),
                    printed(&a.sampling_rate),
                    printed(&a.channels)
                ),
                Track::Text(t) => format!("{} ({})", printed(&t.format), printed(&t.language)),
                Track::Menu(m) => format!("{} chapter marker(s)", m.chapters().len()),
                _ => String::new(),
            };
            let line = format!("  MediaInfo: {:<8} {detail}", track.kind());
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// A value as the tool printed it, or `?`.
fn printed<T>(value: &Option<Printed<T>>) -> String {
    value
        .as_ref()
        .map_or("?".to_string(), |v| v.raw().to_string())
}

fn known<T: fmt::Display>(value: Option<T>) -> String {
    value.map_or("?".to_string(), |v| v.to_string())
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or("? s".to_string(), |d| format!("{:.3} s", d.as_secs_f64()))
}

fn rate(bits_per_second: Option<u64>) -> String {
    bits_per_second.map_or("? kb/s".to_string(), |b| format!("{} kb/s", b / 1000))
}
