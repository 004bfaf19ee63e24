//! `cargo xtask verify` on a copy of the workspace: one changed byte of
//! `openapi.json` fails it, with the command that fixes it.

use tests::SpecWorkspace;

#[test]
fn a_copy_of_the_workspace_passes() {
    let workspace = SpecWorkspace::copy();
    assert_eq!(xtask::verify::check(&workspace.layout()), vec![]);
}

#[test]
fn one_changed_byte_of_openapi_json_fails_and_says_how_to_fix_it() {
    let workspace = SpecWorkspace::copy();
    let layout = workspace.layout();
    let mut document = std::fs::read(layout.document()).expect("read");
    // Inside the description string "Probe.dev API.": still valid JSON, same size.
    let at = document
        .windows(b"Probe.dev API.".len())
        .position(|w| w == b"Probe.dev API.")
        .expect("the description is there");
    document[at] = b'p';
    std::fs::write(layout.document(), &document).expect("write");

    let problems = xtask::verify::check(&layout);
    let sha = problems
        .iter()
        .find(|p| p.what.starts_with("openapi.json has sha256"))
        .unwrap_or_else(|| panic!("no sha256 problem in {problems:#?}"));
    assert!(
        sha.fix
            .contains("git checkout -- openapi.json openapi.pin.json"),
        "{}",
        sha.fix
    );
    assert!(sha.fix.contains("cargo xtask fetch"), "{}", sha.fix);
    // The package copy still matches the pin, so syncing it would spread the
    // damage: the fix offered for it is the same restore.
    let copy = problems
        .iter()
        .find(|p| p.what.contains("probe-api/spec/openapi.json differs"))
        .unwrap_or_else(|| panic!("no package-copy problem in {problems:#?}"));
    assert_eq!(copy.fix, sha.fix);
    assert!(
        problems.iter().all(|p| !p.fix.contains("spec sync")),
        "{problems:#?}"
    );
}

#[test]
fn a_package_copy_that_drifted_is_fixed_by_sync() {
    let workspace = SpecWorkspace::copy();
    let layout = workspace.layout();
    std::fs::write(layout.package_overlay(), b"{}").expect("write");
    let problems = xtask::verify::check(&layout);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].fix, "cargo xtask spec sync");
}
