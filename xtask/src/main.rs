//! `cargo xtask`: the project's build tasks.

use std::process::ExitCode;

use xtask::{Layout, report, verify, write_atomic};

const HELP: &str = "\
cargo xtask <command>

Commands:
  spec report            Show what the overlay and the normalizer do to the pinned document
  spec normalize [FILE]  Write the normalized OpenAPI 3.0 document (stdout without FILE)
  spec sync              Copy openapi.json and openapi.overlay.json into probe-api/spec/
  verify                 Check the pin, the package copies, and that the pipeline runs
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
        ["spec", "sync"] => sync(&layout),
        ["verify"] => run_verify(&layout),
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

fn normalize(layout: &Layout, out: Option<&str>) -> Result<(), String> {
    let pipeline = layout.pipeline()?;
    let text =
        serde_json::to_string_pretty(&pipeline.normalized.document).map_err(|e| e.to_string())?;
    match out {
        None => {
            println!("{text}");
            Ok(())
        }
        Some(path) => write_atomic(std::path::Path::new(path), format!("{text}\n").as_bytes()),
    }
}

fn sync(layout: &Layout) -> Result<(), String> {
    for (from, to) in [
        (layout.document(), layout.package_document()),
        (layout.overlay(), layout.package_overlay()),
    ] {
        let bytes = xtask::read(&from)?;
        write_atomic(&to, &bytes)?;
        println!("{} -> {}", from.display(), to.display());
    }
    Ok(())
}

fn run_verify(layout: &Layout) -> Result<(), String> {
    let problems = verify::check(layout);
    if problems.is_empty() {
        println!("verify: the pin, the package copies and the pipeline are in order");
        return Ok(());
    }
    for p in &problems {
        eprintln!("- {}\n  fix: {}", p.what, p.fix);
    }
    Err(format!("{} problem(s) found", problems.len()))
}
