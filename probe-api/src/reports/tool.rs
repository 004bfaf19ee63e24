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
//! body read again with each report kept as its JSON text
//! ([`lenient_reports`]), decoded on its own, and a report that still does
//! not fit remembered with the path where it stopped.

use std::cell::Cell;
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

thread_local! {
    static LENIENT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `decode` with every [`ToolReport`] it reads kept as JSON text first,
/// so a report that does not fit its type is remembered rather than failing
/// the whole decode. Slower than the strict pass: it is the fallback for a
/// body the strict pass refused.
pub(crate) fn lenient_reports<R>(decode: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            LENIENT.with(|l| l.set(self.0));
        }
    }
    let _reset = Reset(LENIENT.with(|l| l.replace(true)));
    decode()
}

impl<'de, T: Report> Deserialize<'de> for ToolReport<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if LENIENT.with(Cell::get) {
            let raw = Box::<RawValue>::deserialize(deserializer)?;
            // An output sent as a JSON string (`inject_json` off) holds the
            // report's text.
            if raw.get().starts_with('"') {
                let text: String = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
                return Ok(ToolReport::decoded_or_malformed(&text, || raw));
            }
            let inner = match Self::from_text(raw.get()) {
                Ok(report) => Inner::Decoded(report),
                Err((path, message)) => Inner::Malformed { path, message, raw },
            };
            return Ok(ToolReport { inner });
        }
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
        response: Option<ToolReport<FfprobeReport>>,
    }

    #[test]
    fn the_strict_pass_refuses_a_malformed_report_and_the_lenient_pass_keeps_its_path() {
        let body = r#"{"response": {"streams": [{"index": "zero"}]}}"#;
        assert!(serde_json::from_str::<Holder>(body).is_err());
        let holder: Holder = lenient_reports(|| serde_json::from_str(body)).expect("decodes");
        let report = holder.response.expect("a report");
        let error = report.get().expect_err("malformed");
        assert!(
            matches!(&error, ReportError::Format { tool: "ffprobe", path, .. } if path == "streams[0].index"),
            "{error:?}"
        );
        assert_eq!(
            report.malformed_json(),
            Some(r#"{"streams": [{"index": "zero"}]}"#)
        );
        // The flag is reset after the lenient decode.
        assert!(serde_json::from_str::<Holder>(body).is_err());
    }

    #[test]
    fn a_report_sent_as_text_is_decoded_in_both_passes() {
        let body = r#"{"response": "{\"format\": {\"duration\": \"1.5\"}}"}"#;
        for holder in [
            serde_json::from_str::<Holder>(body).expect("strict"),
            lenient_reports(|| serde_json::from_str::<Holder>(body)).expect("lenient"),
        ] {
            let report = holder
                .response
                .expect("a report")
                .into_inner()
                .expect("typed");
            assert_eq!(
                report.duration(),
                Some(std::time::Duration::from_millis(1500))
            );
        }
    }

    #[test]
    fn a_malformed_report_serializes_as_sent() {
        let body = r#"{"response": [1, 2]}"#;
        let holder: Holder = lenient_reports(|| serde_json::from_str(body)).expect("decodes");
        let report = holder.response.expect("a report");
        assert_eq!(
            serde_json::to_string(&report).expect("serializes"),
            "[1, 2]"
        );
        assert!(report.get().is_err());
    }
}
