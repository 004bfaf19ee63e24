//! Report-shaped JSON through the typed tool reports.
//!
//! - `ffprobe_reports_decode_or_fail_and_round_trip` and
//!   `mediainfo_reports_decode_or_fail_and_round_trip` (384 cases each):
//!   report-shaped JSON with values of every type decodes into
//!   `FfprobeReport` or `MediaInfoReport`, or fails, the same from text as
//!   from a value; whatever decodes serializes and decodes to an equal report.

use std::cell::Cell;
use std::fmt;

use probe_api::reports::{FfprobeReport, MediaInfoReport};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::json::{any_json, key, number, text};
use super::{both_occur, cases, check, fail, no_panic};

/// How a report type is read and written. (The `tests` crate does not
/// depend on serde, so the serde bounds are spelled by the callers.)
struct Codec<T> {
    from_slice: fn(&[u8]) -> serde_json::Result<T>,
    from_value: fn(Value) -> serde_json::Result<T>,
    to_vec: fn(&T) -> serde_json::Result<Vec<u8>>,
}

/// Decodes `value` as `T` from text and from the value; whatever decodes
/// must serialize and decode again to the same report.
fn round_trips<T: PartialEq + fmt::Debug>(
    codec: &Codec<T>,
    value: &Value,
) -> Result<bool, TestCaseError> {
    let text = serde_json::to_vec(value).expect("a JSON value serializes");
    let (from_text, from_value) =
        no_panic(|| ((codec.from_slice)(&text), (codec.from_value)(value.clone())))
            .map_err(|panic| fail(format!("decoding panicked: {panic}")))?;
    let report = match (from_text, from_value) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(&a, &b, "decoding text and decoding the value disagree");
            a
        }
        (Err(_), Err(_)) => return Ok(false),
        (a, b) => {
            return Err(fail(format!(
                "decoding text gave {a:?}, decoding the value gave {b:?}"
            )));
        }
    };
    let again = no_panic(|| (codec.to_vec)(&report))
        .map_err(|panic| fail(format!("serializing panicked: {panic}")))?
        .map_err(|e| fail(format!("{report:?} does not serialize: {e}")))?;
    let second = (codec.from_slice)(&again).map_err(|e| {
        fail(format!(
            "{} does not decode again: {e}",
            String::from_utf8_lossy(&again)
        ))
    })?;
    prop_assert_eq!(&second, &report, "the report changed in a round trip");
    Ok(true)
}

/// Values the tools print, as text and as JSON numbers, and anything else.
fn printed() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(vec![
            "12.012000", "N/A", "0/0", "30000/1001", "1/0", "-1", "1e400", "", "4800000", "0",
            "-0", " 5 ", "18446744073709551616", "9.99e307", "Yes", "No", "16:9",
        ])
        .prop_map(Value::from),
        3 => number(),
        2 => text().prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

/// An object with keys mostly from `names` (separated by white space) and
/// values from `value`.
fn object_of(names: &'static str, value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let names: Vec<&str> = names.split_whitespace().collect();
    let name = prop_oneof![6 => select(names).prop_map(str::to_string), 1 => key()];
    prop::collection::vec((name, value), 0..8)
        .prop_map(|fields| Value::Object(fields.into_iter().collect()))
        .boxed()
}

const FFPROBE_FIELDS: &str = "avg_frame_rate best_effort_timestamp best_effort_timestamp_time bit_rate \
    bits_per_raw_sample bits_per_sample channel_layout channels chroma_location \
    closed_captions codec_long_name codec_name codec_tag codec_tag_string codec_type \
    coded_height coded_width color_primaries color_range color_space color_transfer \
    display_aspect_ratio dts dts_time duration duration_time duration_ts end end_time \
    extradata_size field_order filename film_grain flags format_long_name format_name \
    has_b_frames height id index key_frame level max_bit_rate media_type nb_frames \
    nb_programs nb_read_frames nb_read_packets nb_samples nb_streams pcr_pid pict_type \
    pix_fmt pkt_size pmt_pid pos probe_score profile program_id program_num pts pts_time \
    r_frame_rate refs sample_aspect_ratio sample_fmt sample_rate size start start_pts \
    start_time stream_index time_base width";

const MEDIAINFO_FIELDS: &str = "AudioCount BitDepth BitRate BitRate_Mode ChannelLayout ChannelPositions Channels \
    ChromaSubsampling CodecID ColorSpace Compression_Mode Default DisplayAspectRatio \
    Duration Encoded_Application Encoded_Library FileSize Forced Format \
    Format_Commercial_IfAny Format_Compression Format_Level Format_Profile FrameCount \
    FrameRate FrameRate_Den FrameRate_Mode FrameRate_Num Height ID ImageCount IsStreamable \
    Language MenuCount OverallBitRate PixelAspectRatio Rotation SamplesPerFrame \
    SamplingCount SamplingRate ScanType StreamOrder StreamSize TextCount Title VideoCount \
    Width extra";

/// Adds `key: value` to an object when `value` is there.
fn with(object: Value, key: &str, value: Option<Value>) -> Value {
    match (object, value) {
        (Value::Object(mut fields), Some(value)) => {
            fields.insert(key.to_string(), value);
            Value::Object(fields)
        }
        (object, _) => object,
    }
}

/// An ffprobe section: a stream, a frame, a packet, the format.
fn ffprobe_section() -> BoxedStrategy<Value> {
    let tags = prop::collection::btree_map(
        key(),
        prop_oneof![3 => text().prop_map(Value::from), 1 => any_json()],
        0..3,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    let disposition = prop::collection::btree_map(
        key(),
        prop_oneof![3 => (0i64..2).prop_map(Value::from), 1 => number()],
        0..3,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    (
        object_of(FFPROBE_FIELDS, printed()),
        prop::option::weighted(
            0.8,
            prop_oneof![4 => (0u32..4).prop_map(Value::from), 1 => printed()],
        ),
        prop::option::weighted(
            0.5,
            prop_oneof![
                select(vec!["packet", "frame", "subtitle", "video", "audio"]).prop_map(Value::from),
                printed(),
            ],
        ),
        prop::option::of(tags),
        prop::option::of(disposition),
    )
        .prop_map(|(fields, index, kind, tags, disposition)| {
            let fields = with(fields, "index", index);
            let fields = with(fields, "type", kind.clone());
            let fields = with(fields, "codec_type", kind);
            let fields = with(fields, "tags", tags);
            with(fields, "disposition", disposition)
        })
        .boxed()
}

fn ffprobe_report() -> BoxedStrategy<Value> {
    let list =
        || prop::option::of(prop::collection::vec(ffprobe_section(), 0..3).prop_map(Value::Array));
    let programs = prop::option::of(
        prop::collection::vec(
            (
                ffprobe_section(),
                prop::option::of(prop::collection::vec(ffprobe_section(), 0..2)),
            )
                .prop_map(|(p, streams)| with(p, "streams", streams.map(Value::Array))),
            0..2,
        )
        .prop_map(Value::Array),
    );
    (
        (
            prop::option::of(ffprobe_section()),
            list(),
            list(),
            programs,
        ),
        (list(), list(), list()),
        prop::collection::btree_map(key(), any_json(), 0..2),
        prop::option::weighted(0.05, any_json()),
    )
        .prop_map(
            |((format, streams, chapters, programs), (frames, packets, both), extra, whole)| {
                if let Some(whole) = whole {
                    return whole;
                }
                let mut report = Value::Object(extra.into_iter().collect());
                for (key, value) in [
                    ("format", format),
                    ("streams", streams),
                    ("chapters", chapters),
                    ("programs", programs),
                    ("frames", frames),
                    ("packets", packets),
                    ("packets_and_frames", both),
                ] {
                    report = with(report, key, value);
                }
                report
            },
        )
        .boxed()
}

fn mediainfo_report() -> BoxedStrategy<Value> {
    let track = (
        object_of(MEDIAINFO_FIELDS, printed()),
        prop::option::weighted(
            0.9,
            prop_oneof![
                4 => select(vec!["General", "Video", "Audio", "Text", "Image", "Menu", "Other"])
                    .prop_map(Value::from),
                1 => printed(),
            ],
        ),
    )
        .prop_map(|(fields, kind)| with(fields, "@type", kind));
    let tracks = prop_oneof![
        6 => prop::collection::vec(track, 0..4).prop_map(Value::Array),
        1 => any_json(),
    ];
    let media = (
        tracks,
        prop::option::of(text().prop_map(Value::from)),
        prop::collection::btree_map(key(), any_json(), 0..2),
    )
        .prop_map(|(tracks, reference, extra)| {
            let media = with(
                Value::Object(extra.into_iter().collect()),
                "track",
                Some(tracks),
            );
            with(media, "@ref", reference)
        });
    let library = object_of("name version url", printed());
    (
        prop::option::weighted(0.9, media),
        prop::option::of(library),
        prop::collection::btree_map(key(), any_json(), 0..2),
        prop::option::weighted(0.05, any_json()),
    )
        .prop_map(|(media, library, extra, whole)| {
            if let Some(whole) = whole {
                return whole;
            }
            let report = with(Value::Object(extra.into_iter().collect()), "media", media);
            with(report, "creatingLibrary", library)
        })
        .boxed()
}

fn report_property<T: PartialEq + fmt::Debug>(
    name: &str,
    codec: &Codec<T>,
    strategy: BoxedStrategy<Value>,
) {
    let decoded = Cell::new(0u32);
    let total = cases(384, 1);
    check(name, total, &strategy, |value| {
        if round_trips(codec, &value)? {
            decoded.set(decoded.get() + 1);
        }
        Ok(())
    });
    // Both outcomes occur often enough for the property to mean something.
    both_occur(
        total,
        ("decoded", decoded.get()),
        ("refused", total - decoded.get()),
    );
}

#[test]
fn ffprobe_reports_decode_or_fail_and_round_trip() {
    let codec = Codec::<FfprobeReport> {
        from_slice: |bytes| serde_json::from_slice(bytes),
        from_value: serde_json::from_value,
        to_vec: |report| serde_json::to_vec(report),
    };
    report_property(
        "FfprobeReport from arbitrary JSON",
        &codec,
        ffprobe_report(),
    );
}

#[test]
fn mediainfo_reports_decode_or_fail_and_round_trip() {
    let codec = Codec::<MediaInfoReport> {
        from_slice: |bytes| serde_json::from_slice(bytes),
        from_value: serde_json::from_value,
        to_vec: |report| serde_json::to_vec(report),
    };
    report_property(
        "MediaInfoReport from arbitrary JSON",
        &codec,
        mediainfo_report(),
    );
}
