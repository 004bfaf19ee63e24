//! A tool's report as it sits in a response: decoded once, straight from the
//! body text, into its Rust type.
//!
//! The document types each tool's output as any JSON. The build's
//! `tool-report` rule (`cargo xtask spec report` lists it) gives the
//! `response` of the FFprobe and MediaInfo tool results a format of their
//! own, which the generator maps to [`ToolReport<FfprobeReport>`] and
//! [`ToolReport<MediaInfoReport>`]: the response decoder reads the report
//! into its type in the same pass that reads the rest of the response, with
//! no `serde_json::Value` tree in between.
//!
//! A report that does not fit its type must not cost the caller the rest of
//! the response. serde cannot resume a JSON stream after a nested value
//! fails, so the first pass is strict and fast; only when it fails is the
//! body read again ([`isolate_reports`]) with each report that does not fit
//! its type set aside as its text, and decoded from that: such a report is
//! remembered with the path where it stopped, and the rest of the response
//! decodes. Both passes are plain calls with the body as their argument.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::{FfprobeReport, MediaInfoReport, ReportError};

/// A report type and the tool that prints it (implemented by the crate's
/// report types only).
pub trait Report: DeserializeOwned + sealed::Sealed {
    /// The tool's name in a response (`ffprobe`, `mediainfo`).
    const TOOL: &'static str;

    /// Decodes the report from the entries of a JSON object.
    ///
    /// # Errors
    ///
    /// The object is not this report.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Self::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::FfprobeReport {}
    impl Sealed for super::MediaInfoReport {}
}

impl Report for FfprobeReport {
    const TOOL: &'static str = "ffprobe";
}

impl Report for MediaInfoReport {
    const TOOL: &'static str = "mediainfo";
}

/// A tool's report inside a response: its typed value, or where and why
/// its JSON did not fit the type (the response itself still decoded).
///
/// [`ffprobe()`](crate::types::GetFileResponse::ffprobe) and its
/// siblings on the response are the usual way in; `get` and `into_inner`
/// serve code that holds a tool result on its own.
#[derive(Clone, PartialEq)]
pub struct ToolReport<T> {
    inner: Inner<T>,
}

#[derive(Clone)]
enum Inner<T> {
    Decoded(T),
    Malformed {
        path: String,
        message: String,
        raw: Box<RawValue>,
    },
}

impl<T: PartialEq> PartialEq for Inner<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Inner::Decoded(a), Inner::Decoded(b)) => a == b,
            (
                Inner::Malformed { path, message, raw },
                Inner::Malformed {
                    path: p,
                    message: m,
                    raw: r,
                },
            ) => path == p && message == m && raw.get() == r.get(),
            _ => false,
        }
    }
}

impl<T: Report> ToolReport<T> {
    /// A decoded report.
    pub fn new(report: T) -> Self {
        ToolReport {
            inner: Inner::Decoded(report),
        }
    }

    /// The report, or where its JSON did not fit the type.
    ///
    /// # Errors
    ///
    /// [`ReportError::Format`], with the path inside the report.
    pub fn get(&self) -> Result<&T, ReportError> {
        match &self.inner {
            Inner::Decoded(report) => Ok(report),
            Inner::Malformed { path, message, .. } => Err(format_error::<T>(path, message)),
        }
    }

    /// The report, moved out without a copy.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn into_inner(self) -> Result<T, ReportError> {
        match self.inner {
            Inner::Decoded(report) => Ok(report),
            Inner::Malformed { path, message, .. } => Err(format_error::<T>(&path, &message)),
        }
    }

    /// The JSON text of a report that did not fit its type, as the server
    /// sent it; `None` for a decoded report.
    pub fn malformed_json(&self) -> Option<&str> {
        match &self.inner {
            Inner::Decoded(_) => None,
            Inner::Malformed { raw, .. } => Some(raw.get()),
        }
    }

    /// Decodes a report from its JSON text, or says where it stopped.
    fn from_text(text: &str) -> Result<T, (String, String)> {
        if let Ok(report) = serde_json::from_str(text) {
            return Ok(report);
        }
        // Only a report that fails is decoded again, tracking the path.
        let mut de = serde_json::Deserializer::from_str(text);
        Err(match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => (e.path().to_string(), e.inner().to_string()),
            Ok(_) => match de.end() {
                Err(e) => (String::from("."), e.to_string()),
                // The fast decode failed and the careful one did not:
                // serde_json's two paths disagree, which is not expected.
                Ok(()) => (String::from("."), String::from("inconsistent decode")),
            },
        })
    }

    /// The report decoded from `text`, or `raw` remembered with where it
    /// did not fit.
    fn decoded_or_malformed(text: &str, raw: impl FnOnce() -> Box<RawValue>) -> Self {
        let inner = match Self::from_text(text) {
            Ok(report) => Inner::Decoded(report),
            Err((path, message)) => Inner::Malformed {
                path,
                message,
                raw: raw(),
            },
        };
        ToolReport { inner }
    }
}

fn format_error<T: Report>(path: &str, message: &str) -> ReportError {
    ReportError::Format {
        tool: T::TOOL,
        path: path.to_string(),
        message: message.to_string(),
    }
}

impl<T: fmt::Debug> fmt::Debug for ToolReport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Decoded(report) => report.fmt(f),
            Inner::Malformed { path, message, .. } => f
                .debug_struct("Malformed")
                .field("path", path)
                .field("message", message)
                .finish_non_exhaustive(),
        }
    }
}

impl<T: Serialize> Serialize for ToolReport<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.inner {
            Inner::Decoded(report) => report.serialize(serializer),
            // What the server sent, unchanged.
            Inner::Malformed { raw, .. } => raw.serialize(serializer),
        }
    }
}

/// Marks the text of a report [`isolate_reports`] set aside: a control
/// character, which JSON text never starts with, so the strict pass knows
/// the string holds the report as the server sent it, not a report sent as
/// text.
const SET_ASIDE: char = '\u{1}';

/// Where the tool reports sit in a response: the `response` of its
/// `ffprobe` and `mediainfo` results (`codegen/reports.rs` types them
/// there).
const REPORTS: [(&str, Tool); 2] = [("ffprobe", Tool::Ffprobe), ("mediainfo", Tool::MediaInfo)];

#[derive(Clone, Copy)]
enum Tool {
    Ffprobe,
    MediaInfo,
}

/// The body of a response whose strict decode failed, as JSON in which
/// each tool report that does not fit its type is set aside as its text
/// (marked with [`SET_ASIDE`]), so that decoding it again keeps the rest
/// of the response and remembers the report as malformed, with the path
/// where it stopped. The fallback for a body the strict pass refused.
///
/// # Errors
///
/// The body is not JSON.
pub(crate) fn isolate_reports(bytes: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = de::DeserializeSeed::deserialize(Isolate(None), &mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A value on the way to a report: the body (`None`), or a tool's result.
struct Isolate(Option<Tool>);

impl<'de> de::DeserializeSeed<'de> for Isolate {
    type Value = serde_json::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Isolate {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match (self.0, REPORTS.iter().find(|(name, _)| *name == key)) {
                (None, Some((_, tool))) => map.next_value_seed(Isolate(Some(*tool)))?,
                (Some(tool), None) if key == "response" => {
                    let raw: Box<RawValue> = map.next_value()?;
                    set_aside_if_malformed(tool, &raw).map_err(de::Error::custom)?
                }
                _ => map.next_value()?,
            };
            kept.insert(key, value);
        }
        Ok(serde_json::Value::Object(kept))
    }

    crate::reports::keep_other_values!();
}

/// A report as JSON when it fits its type (or is sent as text, which the
/// strict pass reads itself), else its text set aside.
fn set_aside_if_malformed(
    tool: Tool,
    raw: &RawValue,
) -> Result<serde_json::Value, serde_json::Error> {
    let text = raw.get();
    let fits = match tool {
        Tool::Ffprobe => serde_json::from_str::<FfprobeReport>(text).is_ok(),
        Tool::MediaInfo => serde_json::from_str::<MediaInfoReport>(text).is_ok(),
    };
    if fits || text.starts_with('"') {
        return serde_json::from_str(text);
    }
    Ok(serde_json::Value::String(format!("{SET_ASIDE}{text}")))
}

impl<'de, T: Report> Deserialize<'de> for ToolReport<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Strict(PhantomData))
    }
}

/// The strict pass: an object is decoded in place as `T`; a string holds
/// the report's text.
struct Strict<T>(PhantomData<T>);

impl<'de, T: Report> Visitor<'de> for Strict<T> {
    type Value = ToolReport<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} report as an object or its JSON text", T::TOOL)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::from_map(map).map(ToolReport::new)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        // A report the lenient pass set aside: its text as the server sent it.
        if let Some(json) = text.strip_prefix(SET_ASIDE) {
            return Ok(ToolReport::decoded_or_malformed(json, || {
                RawValue::from_string(json.to_string())
                    .unwrap_or_else(|_| RawValue::NULL.to_owned())
            }));
        }
        Ok(ToolReport::decoded_or_malformed(text, || {
            // The text as the server sent it: a JSON string. A `String`
            // always encodes, so the fallback is never taken.
            serde_json::value::to_raw_value(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
        }))
    }
}

impl<T> schemars::JsonSchema for ToolReport<T> {
    fn schema_name() -> String {
        String::from("ToolReport")
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        // On the wire it is what the document says: any JSON.
        serde_json::Value::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Holder {
        ffprobe: Option<Section>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Section {
        response: Option<ToolReport<FfprobeReport>>,
    }

    /// The lenient pass of `body`: reports that do not fit set aside.
    fn lenient(body: &str) -> Holder {
        let value = isolate_reports(body.as_bytes()).expect("JSON");
        serde_json::from_value(value).expect("decodes")
    }

    fn report(holder: Holder) -> ToolReport<FfprobeReport> {
        holder.ffprobe.and_then(|s| s.response).expect("a report")
    }

    #[test]
    fn the_strict_pass_refuses_a_malformed_report_and_the_lenient_pass_keeps_its_path() {
        let body = r#"{"ffprobe": {"response": {"streams": [{"index": "zero"}]}}, "other": [1]}"#;
        assert!(serde_json::from_str::<Holder>(body).is_err());
        let report = report(lenient(body));
        let error = report.get().expect_err("malformed");
        assert!(
            matches!(&error, ReportError::Format { tool: "ffprobe", path, .. } if path == "streams[0].index"),
            "{error:?}"
        );
        assert_eq!(
            report.malformed_json(),
            Some(r#"{"streams": [{"index": "zero"}]}"#)
        );
        // The strict pass is unchanged by a lenient one before it.
        assert!(serde_json::from_str::<Holder>(body).is_err());
    }

    #[test]
    fn a_report_sent_as_text_is_decoded_in_both_passes() {
        let body = r#"{"ffprobe": {"response": "{\"format\": {\"duration\": \"1.5\"}}"}}"#;
        for holder in [
            serde_json::from_str::<Holder>(body).expect("strict"),
            lenient(body),
        ] {
            let report = report(holder).into_inner().expect("typed");
            assert_eq!(
                report.duration(),
                Some(std::time::Duration::from_millis(1500))
            );
        }
    }

    #[test]
    fn a_malformed_report_serializes_as_sent() {
        let body = r#"{"ffprobe": {"response": [1, 2]}}"#;
        let report = report(lenient(body));
        assert_eq!(
            serde_json::to_string(&report).expect("serializes"),
            "[1, 2]"
        );
        assert!(report.get().is_err());
    }
}
