//! `cargo xtask`: the project's build tasks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::{Layout, api, diff, fetch, report, verify, write_atomic};

const HELP: &str = "\
cargo xtask <command>

Commands:
  spec report            Show what the overlay and the normalizer do to the pinned document
  spec normalize [FILE]  Write the normalized OpenAPI 3.0 document (stdout without FILE)
  spec effective [FILE]  Write the effective document: openapi.json with the overlay applied,
                         not normalized (stdout without FILE)
  spec sync              Copy openapi.json and openapi.overlay.json into probe-api/spec/
  fetch [--url URL | --from FILE] [--dry-run] [--document-date YYYY-MM-DD]
                         Download the document (default: the URL in openapi.pin.json) or read
                         FILE; check that it is OpenAPI 3.x, that the overlay applies (stale and
                         redundant actions are reported) and that the client generates; print
                         what changed for SDK users; then write openapi.json, its package copy,
                         openapi.pin.json and probe-api/API.md, each atomically. On any failure
                         nothing changes. HTTPS only (plain HTTP only to loopback hosts, also
                         after redirects), at most 16 MiB, 60 s. The pin keeps tracking its URL;
                         obtained_from records where this copy came from; document_date is
                         --document-date, else the v=DATE parameter of the URL, else the
                         Last-Modified header, else left out.
  diff OLD NEW [--json]  What changed for SDK users between two OpenAPI documents, each change
                         marked breaking or compatible (rules: xtask/src/diff.rs). OLD and NEW are
                         files, or :pinned (openapi.json) or :effective (openapi.json + overlay).
  api [--check]          Write probe-api/API.md, the API surface (operations, setters and their
                         Rust types, response and error types, every model); --check only
                         reports whether the committed file is current
  bench [--only NAME]    Run the benchmarks (release), measure the build cost in a fresh target
                         directory, and write BENCHMARKS.md; installs ffmpeg with apt-get if missing.
                         --only batch runs only the batch bench (probe_many against the mock with a
                         set capacity, about 2 minutes, then the fleet bench) and replaces only
                         their sections; --only fleet runs only the fleet bench (workers on one
                         PostgreSQL ledger; a throwaway cluster unless PROBE_TEST_DATABASE_URL is set);
                         --only cli times `probe --help` (release) and replaces only its section
  verify                 Check the pin, the package copies, that the pipeline runs and that
                         probe-api/API.md is current
  codegen                Write the generated client, formatted, to target/codegen/probe_api.rs: the
                         code build.rs hands the compiler, for reading (nothing reads it back)
  semver [--baseline REV]
                         Check the public API of probe-api (and probe-cli once released) against
                         the last release (xtask/last-release.json: its tag, or its commit in a
                         clone without tags) with cargo-semver-checks: an API break without the
                         version bump semver asks for fails
  readme-crate           Build every Rust example of the user guide (probe-api/README.md) in a
                         scratch crate that has only the dependencies the guide lists (offline,
                         target/readme-crate)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let layout = Layout::from_manifest_dir();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        [] | ["help" | "--help" | "-h"] => {
            print!("{HELP}");
            Ok(())
        }
        ["spec", "report"] => layout.pipeline().map(|p| print!("{}", report::render(&p))),
        ["spec", "normalize", rest @ ..] => normalize(&layout, rest.first().copied()),
        ["spec", "effective", rest @ ..] => effective(&layout, rest.first().copied()),
        ["spec", "sync"] => sync(&layout),
        ["fetch", rest @ ..] => run_fetch(&layout, rest),
        ["diff", rest @ ..] => run_diff(&layout, rest),
        ["api"] => write_api(&layout),
        ["api", "--check"] => api::check(&layout).map(|()| {
            println!("{} is current", layout.api_surface().display());
        }),
        ["verify"] => run_verify(&layout),
        ["bench"] => xtask::bench::run(&layout),
        ["readme-crate"] => xtask::readme::run(&layout),
        ["codegen"] => layout
            .write_generated_client()
            .map(|path| println!("{}", path.display())),
        ["semver"] => xtask::semver::run(&layout, None),
        ["semver", "--baseline", rev] => xtask::semver::run(&layout, Some(rev)),
        ["bench", "--only", "fleet"] => xtask::bench_fleet::run(&layout),
        ["bench", "--only", "batch"] => {
            xtask::bench_batch::run(&layout).and_then(|()| xtask::bench_fleet::run(&layout))
        }
        ["bench", "--only", "cli"] => xtask::bench_cli::run(&layout),
        _ => Err(format!("unknown command `{}`\n\n{HELP}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write_text(out: Option<&str>, text: &str) -> Result<(), String> {
    match out {
        None => {
            println!("{text}");
            Ok(())
        }
        Some(path) => write_atomic(Path::new(path), format!("{text}\n").as_bytes()),
    }
}

fn normalize(layout: &Layout, out: Option<&str>) -> Result<(), String> {
    let pipeline = layout.pipeline()?;
    let text =
        serde_json::to_string_pretty(&pipeline.normalized.document).map_err(|e| e.to_string())?;
    write_text(out, &text)
}

fn effective(layout: &Layout, out: Option<&str>) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&layout.effective()?).map_err(|e| e.to_string())?;
    write_text(out, &text)
}

fn sync(layout: &Layout) -> Result<(), String> {
    for (from, to) in [
        (layout.document(), layout.package_document()),
        (layout.overlay(), layout.package_overlay()),
        (layout.pin(), layout.package_pin()),
    ] {
        let bytes = xtask::read(&from)?;
        write_atomic(&to, &bytes)?;
        println!("{} -> {}", from.display(), to.display());
    }
    Ok(())
}

fn run_fetch(layout: &Layout, args: &[&str]) -> Result<(), String> {
    let mut options = fetch::Options::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| {
            rest.next()
                .map(|v| v.to_string())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match *arg {
            "--url" if options.source == fetch::Source::Pinned => {
                options.source = fetch::Source::Url(value("--url")?);
            }
            "--from" if options.source == fetch::Source::Pinned => {
                options.source = fetch::Source::File(PathBuf::from(value("--from")?));
            }
            "--url" | "--from" => return Err("give one of --url and --from, once".into()),
            "--dry-run" => options.dry_run = true,
            "--document-date" => options.document_date = Some(value("--document-date")?),
            other => return Err(format!("fetch: unknown argument `{other}`\n\n{HELP}")),
        }
    }
    let outcome = fetch::fetch(layout, &options, &mut std::io::stderr())?;
    print!("{}", outcome.render());
    Ok(())
}

/// A document operand of `diff`: a file, `:pinned` or `:effective`.
fn diff_operand(layout: &Layout, operand: &str) -> Result<serde_json::Value, String> {
    match operand {
        ":effective" => layout.effective(),
        ":pinned" => {
            let bytes = xtask::read(&layout.document())?;
            serde_json::from_slice(&bytes).map_err(|e| format!("openapi.json is not JSON: {e}"))
        }
        path => {
            let bytes = xtask::read(Path::new(path))?;
            serde_json::from_slice(&bytes).map_err(|e| format!("{path} is not JSON: {e}"))
        }
    }
}

fn run_diff(layout: &Layout, args: &[&str]) -> Result<(), String> {
    let json = args.contains(&"--json");
    let operands: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
    let [old, new] = operands.as_slice() else {
        return Err(format!("diff takes two documents, OLD and NEW\n\n{HELP}"));
    };
    let result = diff::diff(&diff_operand(layout, old)?, &diff_operand(layout, new)?)?;
    if json {
        let text = serde_json::to_string_pretty(&result.to_json()).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", result.render_text());
    }
    Ok(())
}

fn write_api(layout: &Layout) -> Result<(), String> {
    let text = api::render_layout(layout)?;
    let path = layout.api_surface();
    write_atomic(&path, text.as_bytes())?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run_verify(layout: &Layout) -> Result<(), String> {
    let problems = verify::check(layout);
    if problems.is_empty() {
        println!(
            "verify: the pin, the package copies, the pipeline and the API surface are in order"
        );
        return Ok(());
    }
    for p in &problems {
        eprintln!("- {}\n  fix: {}", p.what, p.fix);
    }
    Err(format!("{} problem(s) found", problems.len()))
}
