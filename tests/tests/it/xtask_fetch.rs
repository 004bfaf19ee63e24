//! `cargo xtask fetch` against documents served on loopback, run on a copy
//! of the workspace's spec files: a good document is pinned; every kind of
//! bad download or bad document leaves every file byte-identical; the SDK's
//! credentials in the environment never reach the server.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tests::faults::{Fault, FaultServer, refused_url};
use tests::{SpecWorkspace, read, root};
use xtask::diff::{Impact, Kind};
use xtask::fetch::{self, Options, Outcome, Source};
use xtask::pin::{Pin, sha256_hex};

fn pinned() -> Vec<u8> {
    read(&root().join("openapi.json"))
}

fn pinned_json() -> Value {
    serde_json::from_slice(&pinned()).expect("the pinned document is JSON")
}

/// The pinned document with one new optional property: harmless for users.
fn with_new_property() -> Vec<u8> {
    let mut doc = pinned_json();
    doc["components"]["schemas"]["AuthSession"]["properties"]["note"] =
        json!({"type": "string", "description": "A note about the session."});
    serde_json::to_vec_pretty(&doc).expect("serializable")
}

fn options(url: String) -> Options {
    Options {
        source: Source::Url(url),
        timeout: Duration::from_secs(20),
        ..Options::default()
    }
}

fn run(workspace: &SpecWorkspace, options: &Options) -> (Result<Outcome, String>, String) {
    let mut progress = Vec::new();
    let result = fetch::fetch(&workspace.layout(), options, &mut progress);
    (result, String::from_utf8_lossy(&progress).into_owned())
}

/// Runs a fetch that must fail and checks that no file changed, no file
/// appeared and none disappeared. Returns the message.
fn refused_with(options: Options) -> String {
    let workspace = SpecWorkspace::copy();
    let before = workspace.snapshot();
    let (result, _) = run(&workspace, &options);
    let message = result.expect_err("the fetch must fail");
    assert!(
        workspace.snapshot() == before,
        "a failed fetch changed files: {message}"
    );
    assert!(
        message.ends_with("(nothing on disk changed)"),
        "the message says nothing changed: {message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

fn refused(replies: Vec<Fault>) -> (String, FaultServer) {
    let server = FaultServer::start(replies);
    let message = refused_with(options(server.url_for("/openapi.json")));
    (message, server)
}

#[test]
fn a_good_document_updates_the_pin_the_copies_and_the_api_surface() {
    let document = with_new_property();
    let server = FaultServer::start(vec![Fault::json_bytes(200, &document)]);
    let workspace = SpecWorkspace::copy();
    let layout = workspace.layout();
    let old_pin = Pin::parse(&read(&layout.pin())).expect("pin");
    let overlay_before = read(&layout.overlay());
    let url = server.url_for("/openapi.json?include-base-path=true&v=2025-08-01");

    let (result, _) = run(&workspace, &options(url.clone()));
    let outcome = result.expect("a good document is pinned");

    assert_eq!(read(&layout.document()), document);
    assert_eq!(read(&layout.package_document()), document);
    let pin = Pin::parse(&read(&layout.pin())).expect("the new pin parses");
    assert_eq!(pin.sha256, sha256_hex(&document));
    assert_eq!(pin.size, document.len() as u64);
    assert_eq!(pin.obtained, fetch::today_utc());
    assert!(pin.obtained_from.contains(&url), "{}", pin.obtained_from);
    assert_eq!(pin.document_date.as_deref(), Some("2025-08-01"));
    assert_eq!(pin.url, old_pin.url, "the pin keeps tracking its URL");
    assert_eq!(read(&layout.overlay()), overlay_before);
    let surface = String::from_utf8(read(&layout.api_surface())).expect("UTF-8");
    assert!(
        surface.contains("| `note` | `Option<String>` | `note` |"),
        "the API surface shows the new field"
    );
    assert_eq!(outcome.written.len(), 5);
    // The workspace is consistent afterwards: pin, copies, pipeline, surface.
    assert_eq!(xtask::verify::check(&layout), vec![]);

    let diff = outcome
        .diff
        .as_ref()
        .expect("a diff against the pinned document");
    assert_eq!(diff.changes.len(), 1, "{}", diff.render_text());
    let change = &diff.changes[0];
    assert_eq!(
        (
            change.kind,
            change.impact,
            change.subject.as_str(),
            change.location.as_str()
        ),
        (
            Kind::PropertyAdded,
            Impact::Compatible,
            "schema AuthSession",
            "property `note`"
        )
    );
    assert!(
        outcome
            .overlay
            .iter()
            .all(|a| !a.is_stale() && !a.is_redundant())
    );
    let report = outcome.render();
    assert!(
        report.contains("1 change(s) for SDK users: 0 breaking, 1 compatible"),
        "{report}"
    );
    // No temporary file is left beside the written ones.
    let names: Vec<String> = workspace
        .snapshot()
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
}

/// When the provider publishes what the overlay reconstructs, a fetch says
/// so action by action: the provider's own definitions replace the
/// reconstructions once the actions go.
#[test]
fn a_document_with_everything_the_overlay_adds_shows_every_action_redundant() {
    let workspace = SpecWorkspace::copy();
    let complete = workspace
        .layout()
        .effective()
        .expect("the effective document");
    let server = FaultServer::start(vec![Fault::json_bytes(
        200,
        &serde_json::to_vec_pretty(&complete).expect("serializable"),
    )]);
    let mut opts = options(server.url_for("/openapi.json"));
    opts.dry_run = true;
    let (result, _) = run(&workspace, &opts);
    let outcome = result.expect("fetch");
    assert_eq!(outcome.overlay.len(), 11);
    assert!(
        outcome.overlay.iter().all(|a| a.is_redundant()),
        "{}",
        outcome.render()
    );
    let report = outcome.render();
    assert_eq!(report.matches("REDUNDANT").count(), 11, "{report}");
    // The provider's definitions equal the reconstructions, so nothing
    // changes for SDK users: the actions can simply go.
    let diff = outcome.diff.as_ref().expect("a diff");
    assert!(diff.is_empty(), "{}", diff.render_text());
}

/// A provider document that dropped a path an action targets makes that
/// action stale, named in the report, and nothing is written.
#[test]
fn a_document_without_the_path_an_action_targets_shows_it_stale() {
    let mut doc = pinned_json();
    doc["paths"]
        .as_object_mut()
        .expect("paths")
        .remove("/frontend/api/v1/user/current");
    let server = FaultServer::start(vec![Fault::json_bytes(
        200,
        &serde_json::to_vec_pretty(&doc).expect("serializable"),
    )]);
    let workspace = SpecWorkspace::copy();
    let mut opts = options(server.url_for("/openapi.json"));
    opts.dry_run = true;
    let (result, _) = run(&workspace, &opts);
    let outcome = result.expect("fetch");
    let stale: Vec<usize> = outcome
        .overlay
        .iter()
        .filter(|a| a.is_stale())
        .map(|a| a.index)
        .collect();
    assert_eq!(stale, [8], "{}", outcome.render());
    assert!(
        outcome
            .render()
            .contains("[8] $.paths['/frontend/api/v1/user/current']: STALE"),
        "{}",
        outcome.render()
    );
}

#[test]
fn the_pinned_document_again_writes_nothing() {
    let server = FaultServer::start(vec![Fault::json_bytes(200, &pinned())]);
    let workspace = SpecWorkspace::copy();
    let before = workspace.snapshot();
    let (result, _) = run(&workspace, &options(server.url_for("/openapi.json")));
    let outcome = result.expect("fetch");
    assert!(outcome.unchanged);
    assert!(outcome.written.is_empty());
    assert!(workspace.snapshot() == before);
    assert!(outcome.render().contains("byte for byte; nothing written"));
}

#[test]
fn a_dry_run_checks_and_reports_but_writes_nothing() {
    let server = FaultServer::start(vec![Fault::json_bytes(200, &with_new_property())]);
    let workspace = SpecWorkspace::copy();
    let before = workspace.snapshot();
    let mut opts = options(server.url_for("/openapi.json"));
    opts.dry_run = true;
    let (result, _) = run(&workspace, &opts);
    let outcome = result.expect("fetch");
    assert!(workspace.snapshot() == before, "a dry run wrote files");
    assert!(outcome.written.is_empty());
    assert_eq!(outcome.would_write.len(), 5);
    assert_eq!(outcome.diff.as_ref().map(|d| d.changes.len()), Some(1));
    let report = outcome.render();
    assert!(report.contains("Dry run: nothing written"), "{report}");
}

#[test]
fn a_download_past_the_progress_threshold_prints_progress_lines() {
    let server = FaultServer::start(vec![Fault::json_bytes(200, &with_new_property())]);
    let workspace = SpecWorkspace::copy();
    let mut opts = options(server.url_for("/openapi.json"));
    opts.dry_run = true;
    opts.progress_after = Duration::ZERO;
    let (result, progress) = run(&workspace, &opts);
    result.expect("fetch");
    assert!(progress.starts_with("fetch: "), "{progress}");
    assert!(progress.contains(" so far from "), "{progress}");
    assert!(
        progress.lines().last().is_some_and(|l| l.contains(" in ")),
        "{progress}"
    );
}

#[test]
fn a_relative_redirect_on_loopback_is_followed() {
    let server = FaultServer::start(vec![
        Fault::redirect(301, "/v2/openapi.json"),
        Fault::json_bytes(200, &with_new_property()),
    ]);
    let workspace = SpecWorkspace::copy();
    let mut opts = options(server.url_for("/openapi.json"));
    opts.dry_run = true;
    let (result, _) = run(&workspace, &opts);
    let outcome = result.expect("fetch");
    assert_eq!(outcome.origin, server.url_for("/v2/openapi.json"));
    assert_eq!(
        server.request_lines(),
        vec![
            "GET /openapi.json HTTP/1.1",
            "GET /v2/openapi.json HTTP/1.1"
        ]
    );
}

#[test]
fn a_document_from_a_file_with_a_given_date() {
    let workspace = SpecWorkspace::copy();
    let file = workspace.path().join("downloaded.json");
    std::fs::write(&file, with_new_property()).expect("write");
    let opts = Options {
        source: Source::File(file.clone()),
        document_date: Some("2025-08-15".into()),
        ..Options::default()
    };
    let (result, _) = run(&workspace, &opts);
    let outcome = result.expect("fetch");
    let pin = outcome.pin.expect("pin");
    assert_eq!(pin.document_date.as_deref(), Some("2025-08-15"));
    assert!(pin.obtained_from.contains(&file.display().to_string()));
    assert_eq!(read(&workspace.layout().document()), with_new_property());
}

#[test]
fn not_json_is_refused() {
    let (message, _server) = refused(vec![Fault::body(
        200,
        "application/json",
        b"this is not JSON",
    )]);
    assert!(
        message.contains("the new document is not valid JSON (line 1, column"),
        "{message}"
    );
}

#[test]
fn a_body_cut_short_is_refused() {
    let document = pinned();
    let (message, _server) = refused(vec![Fault::CutBody {
        declared: document.len(),
        sent: document[..document.len() / 2].to_vec(),
    }]);
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn a_truncated_document_is_refused() {
    let document = pinned();
    let (message, _server) = refused(vec![Fault::json_bytes(
        200,
        &document[..document.len() - 100],
    )]);
    assert!(message.contains("not valid JSON"), "{message}");
    assert!(message.contains("EOF"), "{message}");
}

#[test]
fn an_html_error_page_is_refused() {
    let (message, _server) = refused(vec![Fault::body(
        200,
        "text/html; charset=utf-8",
        b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>",
    )]);
    assert!(
        message.contains("sent an HTML page (content-type text/html"),
        "{message}"
    );
    assert!(message.contains("Service unavailable"), "{message}");
}

#[test]
fn a_404_is_refused() {
    let (message, _server) = refused(vec![Fault::body(404, "text/plain", b"no such document")]);
    assert!(message.contains("answered 404"), "{message}");
    assert!(message.contains("no such document"), "{message}");
}

#[test]
fn a_redirect_to_plain_http_is_refused_without_following_it() {
    let (message, server) = refused(vec![Fault::redirect(
        302,
        "http://docs.probedev.com/openapi.json",
    )]);
    assert!(message.contains("refusing the redirect from"), "{message}");
    assert!(
        message.contains("http://docs.probedev.com/openapi.json"),
        "{message}"
    );
    assert!(
        message.contains("plain http:// is allowed only for loopback hosts"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_plain_http_url_is_refused_before_any_request() {
    let message = refused_with(options("http://api.probedev.com/openapi.json".into()));
    assert!(
        message.contains("plain http:// is allowed only for loopback hosts"),
        "{message}"
    );
}

#[test]
fn a_document_over_the_size_limit_is_refused() {
    let opts = |server: &FaultServer| {
        let mut o = options(server.url_for("/openapi.json"));
        o.max_bytes = 4096;
        o
    };
    // Announced by content-length: refused before the body is read.
    let server = FaultServer::start(vec![Fault::json_bytes(200, &pinned())]);
    let message = refused_with(opts(&server));
    assert!(
        message.contains("announces 51245 bytes, more than the limit of 4.0 KiB"),
        "{message}"
    );
    // Not announced: the bounded read stops one byte past the limit.
    let server = FaultServer::start(vec![Fault::Unframed { body: pinned() }]);
    let message = refused_with(opts(&server));
    assert!(
        message.contains("sent more than the limit of 4.0 KiB"),
        "{message}"
    );
}

#[test]
fn a_swagger_2_or_openapi_2_document_is_refused() {
    let swagger = json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}});
    let (message, _server) = refused(vec![Fault::json_bytes(200, swagger.to_string().as_bytes())]);
    assert!(message.contains("Swagger 2.0"), "{message}");
    let mut doc = pinned_json();
    doc["openapi"] = json!("2.0");
    let (message, _server) = refused(vec![Fault::json_bytes(200, doc.to_string().as_bytes())]);
    assert!(
        message.contains("OpenAPI 2.0; only OpenAPI 3.x"),
        "{message}"
    );
}

#[test]
fn a_document_that_cannot_be_normalized_is_refused() {
    let mut doc = pinned_json();
    doc["paths"]["/frontend/api/v1/user"]["get"]["parameters"] =
        json!([{"$ref": "common.json#/components/parameters/Page"}]);
    let (message, _server) = refused(vec![Fault::json_bytes(200, doc.to_string().as_bytes())]);
    assert!(
        message.contains("the new document cannot be normalized"),
        "{message}"
    );
    assert!(message.contains("points outside the document"), "{message}");
}

#[test]
fn an_unreachable_host_is_one_clear_line() {
    let message = refused_with(options(format!("{}/openapi.json", refused_url())));
    assert!(message.contains("refused the connection"), "{message}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = FaultServer::start(vec![Fault::Stall]);
    let mut opts = options(server.url_for("/openapi.json"));
    opts.timeout = Duration::from_millis(300);
    let message = refused_with(opts);
    assert!(message.contains("timed out after 0.3 s"), "{message}");
}

#[test]
fn a_failed_write_puts_back_the_files_written_before_it() {
    let server = FaultServer::start(vec![Fault::json_bytes(200, &with_new_property())]);
    let workspace = SpecWorkspace::copy();
    let layout = workspace.layout();
    // The API surface is written last; a directory in its place makes that
    // rename fail after the document, its copy and the pin were replaced.
    std::fs::remove_file(layout.api_surface()).expect("remove");
    std::fs::create_dir(layout.api_surface()).expect("directory");
    std::fs::write(layout.api_surface().join("keep"), b"x").expect("write");
    let before = workspace.snapshot();
    let (result, _) = run(&workspace, &options(server.url_for("/openapi.json")));
    let message = result.expect_err("the last write fails");
    assert!(
        message.contains("the files written before it were put back"),
        "{message}"
    );
    assert!(
        workspace.snapshot() == before,
        "every file is as before: {message}"
    );
}

/// The SDK's credentials, as a user has them in the environment of
/// `cargo xtask fetch`.
const TOKEN: &str = "pk_live_fetch_canary_9d41c7e2b05a";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.ZmV0Y2gtY2FuYXJ5.c2lnbmF0dXJlLWNhbmFyeQ";

/// Set only in the child process of
/// `a_fetch_never_sends_the_api_credentials`: the URL it fetches.
const CHILD_URL: &str = "PROBE_TEST_FETCH_CHILD_URL";

#[test]
fn a_fetch_never_sends_the_api_credentials() {
    // The environment cannot be changed safely inside this process, so the
    // test runs itself again as a child with the credentials set, and the
    // child does the fetch.
    if let Ok(url) = std::env::var(CHILD_URL) {
        assert_eq!(std::env::var("PROBE_API_TOKEN").as_deref(), Ok(TOKEN));
        assert_eq!(std::env::var("PROBE_JWT").as_deref(), Ok(JWT));
        let workspace = SpecWorkspace::copy();
        let mut opts = options(url);
        opts.dry_run = true;
        let (result, _) = run(&workspace, &opts);
        result.expect("the fetch succeeds");
        return;
    }

    let server = FaultServer::start(vec![Fault::json_bytes(200, &pinned())]);
    let url = server.url_for("/openapi.json");
    let child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            // The test's path in the one test binary (`tests/tests/it`).
            "xtask_fetch::a_fetch_never_sends_the_api_credentials",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &url)
        .env("PROBE_API_TOKEN", TOKEN)
        .env("PROBE_JWT", JWT)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "the fetch in the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "the server received one request: {requests:?}"
    );
    let request = &requests[0];

    // What was captured is the whole request head, headers included.
    assert!(
        request.starts_with("GET /openapi.json HTTP/1.1\r\n") && request.ends_with("\r\n\r\n"),
        "{request}"
    );
    let header_names: Vec<String> = request
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim().to_ascii_lowercase())
        .collect();
    assert!(header_names.iter().any(|n| n == "user-agent"), "{request}");
    // No credential, under any header.
    assert!(
        !request.contains(TOKEN),
        "the API token was sent:\n{request}"
    );
    assert!(!request.contains(JWT), "the JWT was sent:\n{request}");
    for forbidden in ["authorization", "proxy-authorization", "cookie"] {
        assert!(
            !header_names.iter().any(|n| n == forbidden),
            "a {forbidden} header was sent:\n{request}"
        );
    }
}
