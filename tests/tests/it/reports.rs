//! Typed FFprobe and MediaInfo reports on real tool output (media made by
//! ffmpeg, see probe-api/fixtures/media/PROVENANCE.md): every fixture
//! decodes and round-trips, and the accessors return what the tools printed.

use std::time::Duration;

use probe_api::mock::{self, MediaFixture, MockServer};
use probe_api::reports::ffprobe::StreamKind;
use probe_api::reports::mediainfo::Track;
use probe_api::reports::{FfprobeReport, MediaInfoReport, Rational, ReportError};
use probe_api::types;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = tests::root().join("probe-api/fixtures/media").join(name);
    serde_json::from_slice(&tests::read(&path)).expect("fixture is JSON")
}

fn ffprobe(name: &str) -> FfprobeReport {
    serde_json::from_value(fixture(&format!("{name}.ffprobe.json"))).expect("decodes")
}

fn mediainfo(name: &str) -> MediaInfoReport {
    serde_json::from_value(fixture(&format!("{name}.mediainfo.json"))).expect("decodes")
}

fn rational(n: i64, d: i64) -> Option<Rational> {
    Rational::new(n, d)
}

#[test]
fn every_fixture_decodes_and_serializes_back_to_what_the_tool_printed() {
    let dir = tests::root().join("probe-api/fixtures/media");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let printed = fixture(&name);
        let back = if name.ends_with(".ffprobe.json") {
            let report: FfprobeReport =
                serde_json::from_value(printed.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                report.extra.is_empty(),
                "{name}: unnamed sections {:?}",
                report.extra.keys()
            );
            serde_json::to_value(&report).expect("serializes")
        } else if name.ends_with(".mediainfo.json") {
            let report: MediaInfoReport =
                serde_json::from_value(printed.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                report.tracks().all(|t| !matches!(t, Track::Other(_))),
                "{name}"
            );
            serde_json::to_value(&report).expect("serializes")
        } else {
            continue;
        };
        assert_eq!(back, printed, "{name} does not round-trip");
        seen += 1;
    }
    assert_eq!(
        seen, 11,
        "five media with two tools each, and one with frames"
    );
}

#[test]
fn the_h264_mp4_reads_as_ffprobe_printed_it() {
    let report = ffprobe("h264_aac");
    assert_eq!(report.duration(), Some(Duration::from_millis(2002)));
    let format = report.format.as_ref().expect("format");
    assert_eq!(
        format.format_name.as_deref(),
        Some("mov,mp4,m4a,3gp,3g2,mj2")
    );
    assert_eq!(
        format.bit_rate.as_ref().and_then(|b| b.value()),
        Some(429_230)
    );
    assert_eq!(format.size.as_ref().and_then(|b| b.value()), Some(107_415));
    assert_eq!(format.duration.as_ref().map(|d| d.raw()), Some("2.002000"));

    let video: Vec<_> = report.video_streams().collect();
    assert_eq!(video.len(), 1);
    assert_eq!(video[0].codec_name.as_deref(), Some("h264"));
    assert_eq!((video[0].width, video[0].height), (Some(320), Some(240)));
    assert_eq!(video[0].frame_rate(), rational(30000, 1001));
    assert_eq!(
        video[0].time_base.as_ref().and_then(|t| t.value()),
        rational(1, 30000)
    );
    let audio: Vec<_> = report.audio_streams().collect();
    assert_eq!(audio[0].sample_rate(), Some(48000));
    assert_eq!(audio[0].channels, Some(2));
    assert_eq!(audio[0].language(), Some("eng"));
    assert!(audio[0].has_disposition("default"));
    assert_eq!(
        report
            .streams()
            .filter(|s| s.kind() == StreamKind::Data)
            .count(),
        1,
        "the chapter track"
    );

    let chapters = report.chapters.as_ref().expect("chapters");
    let titles: Vec<_> = chapters.iter().filter_map(|c| c.title()).collect();
    assert_eq!(titles, ["Opening", "Closing"]);
    assert_eq!(
        chapters[1]
            .end_time
            .as_ref()
            .and_then(|t| t.value())
            .and_then(|s| s.as_duration()),
        Some(Duration::from_secs(2))
    );
}

#[test]
fn the_mkv_has_two_audio_languages_and_a_subtitle() {
    let report = ffprobe("hevc_2audio_subs");
    let video = report.video_streams().next().expect("video");
    assert_eq!(video.codec_name.as_deref(), Some("hevc"));
    assert_eq!(video.frame_rate(), rational(25, 1));
    let languages: Vec<_> = report
        .audio_streams()
        .filter_map(|s| s.language())
        .collect();
    assert_eq!(languages, ["eng", "fra"]);
    let codecs: Vec<_> = report
        .audio_streams()
        .filter_map(|s| s.codec_name.as_deref())
        .collect();
    assert_eq!(codecs, ["opus", "ac3"]);
    assert_eq!(
        report.audio_streams().next().and_then(|s| s.frame_rate()),
        None,
        "0/0 is no rate"
    );
    let subtitle = report.subtitle_streams().next().expect("subtitle");
    assert_eq!(subtitle.codec_name.as_deref(), Some("subrip"));
    assert_eq!(subtitle.tag("title"), Some("English subtitles"));
    assert_eq!(report.duration(), Some(Duration::from_millis(2018)));
}

#[test]
fn the_wav_png_and_hls_read_as_printed() {
    let tone = ffprobe("tone");
    let audio = tone.audio_streams().next().expect("audio");
    assert_eq!(
        (audio.sample_rate(), audio.channels),
        (Some(44100), Some(1))
    );
    assert_eq!(tone.duration(), Some(Duration::from_secs(1)));

    let frame = ffprobe("frame");
    let image = frame.video_streams().next().expect("image");
    assert_eq!(
        (image.codec_name.as_deref(), image.width, image.height),
        (Some("png"), Some(64), Some(48))
    );
    assert_eq!(frame.duration(), None, "a still image has no duration");

    let hls = ffprobe("hls");
    assert_eq!(
        hls.format.as_ref().and_then(|f| f.format_name.as_deref()),
        Some("hls")
    );
    assert_eq!(hls.duration(), Some(Duration::from_nanos(3_002_997_000)));
    assert_eq!(hls.programs.as_ref().map(Vec::len), Some(1));
}

#[test]
fn frames_and_packets_are_typed() {
    let report = ffprobe("h264_aac.frames_packets");
    assert_eq!(report.all_frames().count(), 154);
    assert_eq!(report.all_packets().count(), 155);
    assert_eq!(report.all_packets().filter(|p| p.is_key()).count(), 96);
    let first_video = report
        .all_frames()
        .find(|f| f.media_type.as_deref() == Some("video"))
        .expect("a video frame");
    assert_eq!(first_video.pict_type.as_deref(), Some("I"));
    assert_eq!(first_video.key_frame, Some(1));
}

#[test]
fn mediainfo_tracks_read_as_mediainfo_printed_them() {
    let report = mediainfo("h264_aac");
    assert_eq!(
        report
            .creating_library
            .as_ref()
            .and_then(|l| l.version.as_deref()),
        Some("23.04")
    );
    assert_eq!(report.duration(), Some(Duration::from_millis(2002)));
    let general = report.general().expect("general");
    assert_eq!(general.format.as_ref().map(|f| f.raw()), Some("MPEG-4"));
    let video = report.video_tracks().next().expect("video");
    assert_eq!(video.frame_rate_exact(), rational(30000, 1001));
    assert_eq!(video.width.as_ref().and_then(|w| w.value()), Some(320));
    let audio = report.audio_tracks().next().expect("audio");
    assert_eq!(
        audio.sampling_rate.as_ref().and_then(|s| s.value()),
        Some(48000)
    );
    assert_eq!(audio.channels.as_ref().and_then(|c| c.value()), Some(2));
    let menus: Vec<_> = report
        .tracks()
        .filter_map(|t| match t {
            Track::Menu(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(
        menus[0].chapters(),
        [
            ("00:00:00.000".to_string(), "Opening".to_string()),
            ("00:00:01.000".to_string(), "Closing".to_string())
        ]
    );

    let mkv = mediainfo("hevc_2audio_subs");
    assert_eq!(mkv.audio_tracks().count(), 2);
    assert_eq!(mkv.text_tracks().count(), 1);
    let image = mediainfo("frame");
    assert!(image.tracks().any(|t| matches!(t, Track::Image(_))));
}

#[tokio::test]
async fn probe_responses_give_typed_reports_or_say_why_not() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let both = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probe");
    let ffprobe = both.ffprobe().expect("typed ffprobe");
    assert_eq!(ffprobe.video_streams().count(), 1);
    let mediainfo = both.mediainfo().expect("typed mediainfo");
    assert_eq!(mediainfo.duration(), ffprobe.duration());

    let only = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .only(types::GetFileOnly::Mediainfo)
        .send()
        .await
        .expect("probe");
    assert_eq!(
        only.ffprobe(),
        Err(ReportError::NotRequested { tool: "ffprobe" })
    );
    assert!(only.mediainfo().is_ok());
    assert!(
        !only.summary().to_string().contains("FFprobe"),
        "a tool not requested is left out of the summary"
    );

    mock.add_media(
        "https://media.example/broken.mp4",
        MediaFixture::unreadable("moov atom not found"),
    );
    let broken = client
        .get_file()
        .url("https://media.example/broken.mp4")
        .send()
        .await
        .expect("probe");
    let error = broken.ffprobe().expect_err("failed tool");
    assert_eq!(error.to_string(), "ffprobe failed: moov atom not found");
    assert!(
        broken
            .summary()
            .to_string()
            .contains("  FFprobe:   ffprobe failed: moov atom not found\n"),
        "the summary says why a tool has no report: {}",
        broken.summary()
    );

    mock.add_media(
        "https://media.example/odd.mp4",
        MediaFixture::new().ffprobe(serde_json::json!({"streams": [{"index": "zero"}]})),
    );
    let odd = client
        .get_file()
        .url("https://media.example/odd.mp4")
        .send()
        .await
        .expect("probe");
    match odd.ffprobe() {
        Err(ReportError::Format { path, .. }) => assert_eq!(path, "streams[0].index"),
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// A response whose FFprobe report does not fit `FfprobeReport` (a stream
/// index sent as text, deep inside) around a valid MediaInfo report and
/// metadata, as a server would send it.
fn response_with_a_malformed_ffprobe_report() -> Value {
    let mut ffprobe = fixture("h264_aac.ffprobe.json");
    ffprobe["streams"][1]["index"] = Value::from("one");
    serde_json::json!({
        "success": true,
        "ffprobe": {"success": true, "duration": 182, "usage": 1, "response": ffprobe},
        "mediainfo": {"success": true, "duration": 97, "usage": 1,
            "response": fixture("h264_aac.mediainfo.json")},
        "probe_report": {"success": true, "response": {"container": "mov,mp4"}},
        "metadata": {"request_id": "0193a4f2-5c1e-7d2b-9a47-3f0c8e6b1d25", "queue_time": 3}
    })
}

#[tokio::test]
async fn a_malformed_report_leaves_the_response_and_names_its_json_path() {
    let body = response_with_a_malformed_ffprobe_report();
    let (_server, client) =
        tests::loopback::serving_json("GET", "/v1/probe/file", body.clone(), "key").await;
    let response = client
        .get_file()
        .url("https://media.example/a.mp4")
        .send()
        .await
        .expect("the response decodes although its FFprobe report does not")
        .into_inner();
    let error = response.ffprobe().expect_err("the report does not fit");
    assert_eq!(
        error,
        ReportError::Format {
            tool: "ffprobe",
            path: "streams[1].index".into(),
            message: error_message(&error),
        }
    );
    assert!(error.to_string().contains("`streams[1].index`"), "{error}");
    // Everything else is there, typed.
    assert_eq!(
        response
            .metadata
            .as_ref()
            .and_then(|m| m.request_id.as_deref()),
        Some("0193a4f2-5c1e-7d2b-9a47-3f0c8e6b1d25")
    );
    let mediainfo = response.mediainfo().expect("the MediaInfo report decodes");
    assert_eq!(mediainfo.duration(), Some(Duration::from_millis(2002)));
    // The malformed report is kept as sent, and the response serializes back
    // to the body.
    let tool = response.ffprobe.as_ref().and_then(|t| t.response.as_ref());
    let kept: Value =
        serde_json::from_str(tool.and_then(|r| r.malformed_json()).expect("kept")).expect("JSON");
    assert_eq!(kept, body["ffprobe"]["response"]);
    assert_eq!(serde_json::to_value(&response).expect("serializes"), body);
    assert_eq!(
        response.into_ffprobe().map(|_| ()),
        Err(error),
        "taking the report says the same"
    );
}

fn error_message(error: &ReportError) -> String {
    match error {
        ReportError::Format { message, .. } => message.clone(),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_tool_that_succeeds_without_a_report_is_told_apart_from_a_failure() {
    let body = serde_json::json!({
        "success": true,
        "ffprobe": {"success": true, "duration": 5},
        "mediainfo": {"success": false, "error": "timeout"}
    });
    let (_server, client) =
        tests::loopback::serving_json("GET", "/v1/probe/file", body, "key").await;
    let response = client
        .get_file()
        .url("https://media.example/a.mp4")
        .send()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(
        response.ffprobe(),
        Err(ReportError::NoReport { tool: "ffprobe" })
    );
    assert_eq!(
        response.ffprobe().expect_err("no report").to_string(),
        "ffprobe succeeded but the response carries no report"
    );
    assert_eq!(
        response.mediainfo().expect_err("failed").to_string(),
        "mediainfo failed: timeout"
    );
}

#[tokio::test]
async fn into_ffprobe_moves_the_report_decoded_with_the_response() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let response = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .send()
        .await
        .expect("probe")
        .into_inner();
    let borrowed = response.ffprobe().expect("typed").clone();
    let owned = response.into_ffprobe().expect("typed");
    assert_eq!(owned, borrowed);
    assert_eq!(owned.video_streams().count(), 1);
}

#[tokio::test]
async fn a_walk_hands_over_every_frame_and_packet_in_order_and_keeps_the_rest() {
    let report = fixture("h264_aac.frames_packets.ffprobe.json");
    let expected: FfprobeReport = serde_json::from_value(report.clone()).expect("decodes");
    let items = expected
        .packets_and_frames
        .clone()
        .expect("frames and packets");
    let body = serde_json::json!({
        "success": true,
        "ffprobe": {"success": true, "response": report},
        "mediainfo": {"success": true, "response": fixture("h264_aac.mediainfo.json")}
    });
    let (_server, client) =
        tests::loopback::serving_json("GET", "/v1/probe/file", body, "key").await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = seen.clone();
    let response = probe_api::reports::walk_ffprobe(
        &client,
        move |item| into.lock().expect("lock").push(item),
        async |walking| {
            walking
                .get_file()
                .url("https://media.example/a.mp4")
                .ffprobe_show_frames(true)
                .ffprobe_show_packets(true)
                .send()
                .await
        },
    )
    .await
    .expect("walked")
    .into_inner();
    assert_eq!(*seen.lock().expect("lock"), items);
    let rest = response.ffprobe().expect("the rest of the report");
    assert_eq!(rest.packets_and_frames, None);
    assert_eq!(rest.streams, expected.streams);
    assert_eq!(rest.format, expected.format);
    assert!(response.mediainfo().is_ok());

    // Without a walk the same call keeps them.
    let whole = client
        .get_file()
        .url("https://media.example/a.mp4")
        .send()
        .await
        .expect("decoded")
        .into_inner()
        .into_ffprobe()
        .expect("typed");
    assert_eq!(whole, expected);
}

#[tokio::test]
async fn a_walked_body_that_does_not_decode_is_a_decode_error() {
    let body = serde_json::json!({
        "success": true,
        "ffprobe": {"success": true, "response": {"frames": [{"key_frame": "yes"}]}}
    });
    let (_server, client) =
        tests::loopback::serving_json("GET", "/v1/probe/file", body, "key").await;
    let error = probe_api::reports::walk_ffprobe(
        &client,
        |_| {},
        async |walking| {
            walking
                .get_file()
                .url("https://media.example/a.mp4")
                .send()
                .await
        },
    )
    .await
    .expect_err("a frame does not decode");
    assert_eq!(error.kind(), probe_api::ErrorKind::Decode, "{error}");
    assert!(
        error.to_string().contains("key_frame") || error.to_string().contains("invalid type"),
        "{error}"
    );
}

#[tokio::test]
async fn the_summary_names_each_stream_and_track() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let both = client
        .get_file()
        .url(mock::SAMPLE_URL)
        .ffprobe_show_streams(true)
        .ffprobe_show_format(true)
        .send()
        .await
        .expect("probe");
    let summary = both.summary().to_string();
    let ffprobe = both.ffprobe().expect("typed ffprobe");
    let mediainfo = both.mediainfo().expect("typed mediainfo");
    assert_eq!(
        summary,
        format!("{}{}", ffprobe.summary(), mediainfo.summary()),
        "the response's summary is its reports' summaries"
    );
    let lines: Vec<&str> = summary.lines().collect();
    assert!(
        lines.iter().all(|l| l.trim_end() == *l),
        "no padding at a line's end: {summary:?}"
    );
    assert!(lines[0].starts_with("  FFprobe:   "), "{summary}");
    assert!(
        lines[0].contains(" s, ") && lines[0].ends_with("kb/s"),
        "{summary}"
    );
    for stream in ffprobe.streams() {
        let codec = stream.codec_name.as_deref().expect("a codec");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("    #{} ", stream.index)) && l.contains(codec)),
            "stream {} ({codec}) has no line:\n{summary}",
            stream.index
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("  MediaInfo: "))
            .count(),
        mediainfo.tracks().count(),
        "{summary}"
    );
}
