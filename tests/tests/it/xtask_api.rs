//! The committed API surface, `probe-api/API.md`, is what `cargo xtask api`
//! renders from the pinned document, the overlay and the generated client.

use tests::root;
use xtask::Layout;

#[test]
fn the_committed_api_surface_is_current() {
    let layout = Layout::at(&root());
    let fresh = xtask::api::render_layout(&layout).expect("renders");
    let committed = std::fs::read_to_string(layout.api_surface()).unwrap_or_default();
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(committed.lines().count().min(fresh.lines().count()), |i| i);
        panic!(
            "probe-api/API.md is out of date (first difference at line {}: committed {:?}, fresh {:?}); run `cargo xtask api`",
            first + 1,
            committed.lines().nth(first),
            fresh.lines().nth(first)
        );
    }
    assert!(xtask::api::check(&layout).is_ok());
}

#[test]
fn every_operation_and_every_model_is_on_the_surface() {
    let layout = Layout::at(&root());
    let pipeline = layout.pipeline().expect("pipeline");
    let surface = xtask::api::render_layout(&layout).expect("renders");
    for op in &pipeline.normalized.operations {
        let heading = format!("### `{}`: {} `{}`", op.rust_name, op.method, op.path);
        assert!(surface.contains(&heading), "missing {heading}");
    }
    // Every schema of the normalized document is a model type (progenitor
    // changes only the case: `AuthJWTToken` is `AuthJwtToken`).
    let models: Vec<String> = surface
        .split("\n## Types\n")
        .nth(1)
        .expect("a Types section")
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .map(|l| folded(l.trim_end_matches('`')))
        .collect();
    for name in pipeline.normalized.document["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        assert!(
            models.contains(&folded(name)),
            "no model type for schema {name}"
        );
    }
    // What a user of get_session and get_file sees.
    assert!(surface.contains("| `session_id` | `uuid::Uuid` | path `session-id` | yes |"));
    assert!(surface.contains(
        "- returns: `probe_api::Response<types::AuthGetSessionResponse>`; errors: `probe_api::Error`"
    ));
    assert!(
        surface
            .contains("| `ffprobe_show_streams` | `bool` | query `ffprobe[show_streams]` | no |")
    );
    assert!(surface.contains("| `url` | `String` | query `url` | yes |"));
}

#[test]
fn a_stale_surface_is_reported_with_the_command_that_refreshes_it() {
    let workspace = tests::SpecWorkspace::copy();
    let layout = workspace.layout();
    std::fs::write(layout.api_surface(), "# stale\n").expect("write");
    let message = xtask::api::check(&layout).expect_err("stale");
    assert!(message.contains("run `cargo xtask api`"), "{message}");
    let problems = xtask::verify::check(&layout);
    assert!(
        problems
            .iter()
            .any(|p| p.what.contains("API.md") && p.fix == "cargo xtask api"),
        "{problems:#?}"
    );
}

/// A name without case or separators.
fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The names people read: under 40 characters, no Go package path, and the
/// document's own name beside each one the build renamed.
#[test]
fn type_names_are_short_and_free_of_go_packages_and_name_their_schema() {
    let layout = Layout::at(&root());
    let surface = xtask::api::render_layout(&layout).expect("renders");
    let types = surface
        .split("\n## Types\n")
        .nth(1)
        .expect("a Types section");
    let names: Vec<&str> = types
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.split('`').next())
        .collect();
    assert!(names.len() > 100, "{names:?}");
    let longest = names.iter().max_by_key(|n| n.len()).expect("names");
    assert!(
        longest.len() < 40,
        "{longest} has {} characters",
        longest.len()
    );
    for name in &names {
        assert!(!name.contains("Internal"), "{name}");
        let bare = name.strip_prefix("FormData").unwrap_or(name);
        for (package, _) in xtask::codegen::names::PACKAGES {
            let rest = bare.strip_prefix(package).unwrap_or("");
            assert!(
                !rest.starts_with(|c: char| c.is_ascii_uppercase()),
                "{name} starts with the Go package {package}"
            );
        }
    }
    for (rust, document) in [
        ("UserStatus", "UsercommonStatus"),
        (
            "UserSort",
            "SortfieldSortInternalRouterRoutesUserSortFieldInternalToolsOrderfieldString",
        ),
        ("GetFileResponse", "GatewayGetFileResponse"),
        ("ProbeRequestFfProbe", "ProbefileRequestFFProbe"),
    ] {
        let section = types
            .split("\n### ")
            .find(|s| s.starts_with(&format!("`{rust}`")))
            .unwrap_or_else(|| panic!("no section for {rust}"));
        assert!(
            section.contains(&format!("Schema `{document}` in the provider's document.")),
            "{section}"
        );
    }
    // The error body of a probe reads as one.
    assert!(names.contains(&"GetFileError"), "{names:?}");
}
