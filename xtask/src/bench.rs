//! `cargo xtask bench`: runs the benchmarks of `probe-api/benches/`,
//! measures what `probe-api` costs to build, and writes BENCHMARKS.md.
//!
//! The bench binaries compare the SDK with a baseline in alternating rounds
//! in one process and report ratios (see their module docs), so the numbers
//! hold on a machine that is busy with other work; absolute times are shown
//! for scale only. The build figures are wall-clock times of cargo in a
//! fresh target directory, first for a crate holding only probe-api's
//! dependencies, so the difference is probe-api's own cost.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::{Layout, write_atomic};

/// The clip the large report describes: long enough for a report of
/// several megabytes, made as `probe-api/fixtures/media/make-fixtures.sh`
/// makes its media (lavfi sources, bitexact, one thread, no SIMD).
const CLIP_SECONDS: u32 = 60;

/// The cargo features of probe-api that offer a content coding.
const COMPRESSION_FEATURES: [&str; 3] = ["gzip", "brotli", "zstd"];

/// The benches compare every coding, so they build with the ones that are
/// off by default too (the clients on both sides of every row offer them).
const BENCH_FEATURES: &str = "brotli,zstd";

/// The crates those features bring in (name prefixes in cargo's timings).
const COMPRESSION_CRATES: [&str; 12] = [
    "async-compression",
    "compression-",
    "flate2",
    "miniz_oxide",
    "adler2",
    "crc32fast",
    "simd-adler32",
    "brotli",
    "alloc-no-stdlib",
    "alloc-stdlib",
    "zstd",
    "zstd-",
];

/// Runs everything and writes BENCHMARKS.md at the workspace root.
pub fn run(layout: &Layout) -> Result<(), String> {
    let started = Instant::now();
    let work = layout.root.join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    // The report is made (once; it is cached) while the benches compile.
    ensure_ffmpeg()?;
    let report = std::thread::scope(|scope| {
        let report = scope.spawn(|| large_report(&work.join("media")));
        let built = cargo(&layout.root)
            .args([
                "bench",
                "-p",
                "probe-api",
                "--no-run",
                "--features",
                BENCH_FEATURES,
            ])
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"));
        let report = report
            .join()
            .map_err(|_| "making the large report panicked".to_string())?;
        match built {
            Ok(status) if status.success() => report,
            Ok(status) => Err(format!("building the benches failed ({status})")),
            Err(e) => Err(e),
        }
    })?;

    let results_path = work.join("results.jsonl");
    let _ = std::fs::remove_file(&results_path);
    for bench in ["calls", "reports", "report_memory"] {
        eprintln!("bench: running {bench}");
        let status = cargo(&layout.root)
            .args(["bench", "-p", "probe-api", "--bench", bench])
            .args(["--features", BENCH_FEATURES])
            .env("PROBE_BENCH_LARGE_REPORT", &report.path)
            .env("PROBE_BENCH_OUT", &results_path)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("the {bench} bench failed ({status})"));
        }
    }
    crate::bench_batch::measure(&layout.root, &results_path)?;
    crate::bench_fleet::measure(&layout.root, &results_path)?;
    let results = read_results(&results_path)?;
    let startup = crate::bench_cli::measure(&layout.root)?;

    eprintln!("bench: measuring the build cost in a fresh target directory");
    let build = build_cost(layout, &work.join("build-cost"))?;

    let text = render(
        &Machine::detect(),
        &report,
        &results,
        &build,
        started.elapsed(),
    );
    let text = crate::bench_batch::splice(&text, &crate::bench_batch::section(&results));
    let text = crate::bench_fleet::splice(&text, &crate::bench_fleet::section(&results));
    let text = crate::bench_cli::splice(&text, &startup);
    let path = layout.root.join("BENCHMARKS.md");
    write_atomic(&path, text.as_bytes())?;
    println!("wrote {} in {}", path.display(), minutes(started.elapsed()));
    Ok(())
}

/// `cargo` as the one running this xtask, at the workspace root.
fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{} min {:02} s", s / 60, s % 60)
}

// --- the large report ---------------------------------------------------------

/// The large FFprobe report and how it was made.
struct LargeReport {
    path: PathBuf,
    bytes: u64,
    commands: Vec<String>,
    ffprobe_version: String,
}

/// Installs Debian's ffmpeg when ffmpeg or ffprobe is missing, as the
/// fixture script does.
fn ensure_ffmpeg() -> Result<(), String> {
    let works = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works("ffmpeg") && works("ffprobe") {
        return Ok(());
    }
    eprintln!("bench: installing ffmpeg with apt-get");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = ["install", "-y", "--no-install-recommends", "ffmpeg"];
    let installed = apt(&install) || (apt(&["update"]) && apt(&install));
    if !installed {
        return Err("ffmpeg is missing and `apt-get install ffmpeg` failed; install ffmpeg (with ffprobe) and rerun".into());
    }
    Ok(())
}

/// Makes the large report, or reuses the one made before with the same
/// commands.
fn large_report(dir: &Path) -> Result<LargeReport, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let media = dir.join(format!("clip-{CLIP_SECONDS}s.mp4"));
    let path = dir.join(format!("clip-{CLIP_SECONDS}s.ffprobe.json"));
    let d = CLIP_SECONDS.to_string();
    let media_arg = media.to_string_lossy().into_owned();
    let ffmpeg: Vec<String> = [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-cpuflags",
        "0",
        "-filter_threads",
        "1",
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=320x240:rate=30000/1001:duration={d}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:sample_rate=48000:duration={d}"),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        "1",
        "-x264-params",
        "asm=0",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ac",
        "2",
        "-ar",
        "48000",
        &media_arg,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ffprobe: Vec<String> = [
        "ffprobe",
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-show_frames",
        "-show_packets",
        &media_arg,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let shown = |args: &[String]| {
        args.iter()
            .map(|a| {
                let a = a.replace(&*dir.to_string_lossy(), "target/bench/media");
                if a.contains(['=', ':', '/']) && !a.starts_with("target/") {
                    format!("'{a}'")
                } else {
                    a
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let commands = vec![
        shown(&ffmpeg),
        format!(
            "{} > target/bench/media/clip-{CLIP_SECONDS}s.ffprobe.json",
            shown(&ffprobe)
        ),
    ];
    let ffprobe_version = Command::new("ffprobe")
        .arg("-version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();

    // The commands are the cache key.
    let key_path = dir.join(format!("clip-{CLIP_SECONDS}s.commands"));
    let key = format!("{}\n{ffprobe_version}\n", commands.join("\n"));
    let cached = std::fs::read_to_string(&key_path).is_ok_and(|k| k == key) && path.is_file();
    if !cached {
        eprintln!("bench: making a {CLIP_SECONDS} s clip and its ffprobe report with ffmpeg");
        run_tool(&ffmpeg, None)?;
        run_tool(&ffprobe, Some(&path))?;
        let _ = std::fs::remove_file(&media);
        write_atomic(&key_path, key.as_bytes())?;
    }
    let bytes = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    Ok(LargeReport {
        path,
        bytes,
        commands,
        ffprobe_version,
    })
}

/// Runs a tool, its standard output into `out` (atomically) if given.
fn run_tool(args: &[String], out: Option<&Path>) -> Result<(), String> {
    let output = Command::new(&args[0])
        .args(&args[1..])
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", args[0]))?;
    if !output.status.success() {
        return Err(format!("{} failed ({})", args[0], output.status));
    }
    match out {
        Some(path) => write_atomic(path, &output.stdout),
        None => Ok(()),
    }
}

// --- results ------------------------------------------------------------------

fn read_results(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("the benches wrote no results to {}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad result line `{l}`: {e}")))
        .collect()
}

/// The results of one bench, by what `key` says.
fn select<'a>(results: &'a [Value], bench: &str) -> Vec<&'a Value> {
    results.iter().filter(|r| r["bench"] == bench).collect()
}

fn num(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

// --- build cost -----------------------------------------------------------------

/// What building probe-api costs.
struct BuildCost {
    /// A crate with only probe-api's dependencies and build-dependencies,
    /// with its default features.
    deps_seconds: f64,
    /// The compile time of each crate only the compression features bring
    /// in, from `cargo build --timings` of that build.
    compression_units: Vec<(String, f64)>,
    /// probe-api itself, with every dependency already built.
    own_seconds: f64,
    /// The units the probe-api build compiled (should be probe-api's only).
    own_units: Vec<String>,
    /// Per-unit times of that build, from `cargo build --timings`.
    own_split: Vec<(String, f64)>,
    /// A clean build of `hand-written` (the same HTTP, serde and tokio
    /// stack with a hand-written call) in a target directory of its own.
    hand_seconds: f64,
    /// Rebuilding a crate that depends on probe-api after touching it.
    rebuild_seconds: f64,
    /// Whether probe-api's build script and library were fresh in that rebuild.
    rebuild_probe_fresh: bool,
    /// Whether the generated file kept its modification time.
    codegen_untouched: bool,
    generated_lines: usize,
    generated_bytes: u64,
}

fn build_cost(layout: &Layout, dir: &Path) -> Result<BuildCost, String> {
    let _ = std::fs::remove_dir_all(dir);
    let ws = dir.join("ws");
    let target = dir.join("target");
    write_scratch_workspace(layout, &ws)?;
    let build = |args: &[&str]| -> Result<(f64, Vec<Value>), String> {
        let started = Instant::now();
        let output = cargo(&ws)
            .arg("build")
            .args(args)
            .args(["--message-format=json"])
            .env("CARGO_TARGET_DIR", &target)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            return Err(format!(
                "cargo build {} failed ({})",
                args.join(" "),
                output.status
            ));
        }
        let messages = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Ok((seconds, messages))
    };
    // Settles the scratch lock file (copied from the workspace, so the same
    // versions) before anything is timed.
    // Only the host's packages: the others need not be in the local cache.
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .ok_or("cannot read the host triple from `rustc -vV`")?;
    let status = cargo(&ws)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo metadata failed in the scratch workspace".into());
    }

    let (deps_seconds, _) = build(&["-p", "deps-only", "--features", "compression", "--timings"])?;
    let compression_units: Vec<(String, f64)> =
        timings(&target.join("cargo-timings/cargo-timing.html"))
            .into_iter()
            .filter(|(name, _)| COMPRESSION_CRATES.iter().any(|c| name.starts_with(c)))
            .collect();
    let (own_seconds, messages) = build(&["-p", "probe-api", "--timings"])?;
    let own_units = compiled_units(&messages);
    // Units cargo found fresh are listed too, with no time.
    let own_split = timings(&target.join("cargo-timings/cargo-timing.html"))
        .into_iter()
        .filter(|(_, seconds)| *seconds >= 0.05)
        .collect();
    let out_dir = messages
        .iter()
        .find(|m| m["reason"] == "build-script-executed" && is_probe_api(&m["package_id"]))
        .and_then(|m| m["out_dir"].as_str())
        .map(PathBuf::from)
        .ok_or("the probe-api build ran no build script")?;
    let codegen = out_dir.join("codegen.rs");
    let text = std::fs::read_to_string(&codegen)
        .map_err(|e| format!("cannot read {}: {e}", codegen.display()))?;
    let generated_lines = text.lines().count();
    let generated_bytes = text.len() as u64;
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let generated_at: Option<SystemTime> = modified(&codegen);

    build(&["-p", "dependent"])?;
    let lib = ws.join("dependent/src/lib.rs");
    let text = std::fs::read(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    std::fs::write(&lib, text).map_err(|e| format!("cannot touch {}: {e}", lib.display()))?;
    let (rebuild_seconds, messages) = build(&["-p", "dependent"])?;
    let rebuild_probe_fresh = messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact" && is_probe_api(&m["package_id"]))
        .all(|m| m["fresh"] == true);
    let codegen_untouched = generated_at.is_some() && modified(&codegen) == generated_at;
    let _ = std::fs::remove_dir_all(&target);
    // The user-visible comparison: the same stack without probe-api, from
    // an empty target directory too.
    let hand_target = dir.join("target-hand");
    let started = Instant::now();
    let status = cargo(&ws)
        .args(["build", "-p", "hand-written"])
        .env("CARGO_TARGET_DIR", &hand_target)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let hand_seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("cargo build -p hand-written failed ({status})"));
    }
    let _ = std::fs::remove_dir_all(&hand_target);
    Ok(BuildCost {
        deps_seconds,
        compression_units,
        own_seconds,
        own_units,
        own_split,
        hand_seconds,
        rebuild_seconds,
        rebuild_probe_fresh,
        codegen_untouched,
        generated_lines,
        generated_bytes,
    })
}

fn is_probe_api(package_id: &Value) -> bool {
    package_id
        .as_str()
        .is_some_and(|id| id.contains("/probe-api#") || id.starts_with("probe-api "))
}

/// `name (kind)` of every unit a build compiled rather than found fresh.
fn compiled_units(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
        .map(|m| {
            let kind = m["target"]["kind"][0].as_str().unwrap_or("?");
            format!("{} ({kind})", m["target"]["name"].as_str().unwrap_or("?"))
        })
        .collect()
}

/// Per-unit durations from cargo's timing report (`UNIT_DATA` in its HTML).
fn timings(html: &Path) -> Vec<(String, f64)> {
    let Ok(text) = std::fs::read_to_string(html) else {
        return Vec::new();
    };
    let Some(start) = text.find("const UNIT_DATA = ") else {
        return Vec::new();
    };
    let rest = &text[start + "const UNIT_DATA = ".len()..];
    let mut de = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    let Some(Ok(Value::Array(units))) = de.next() else {
        return Vec::new();
    };
    units
        .iter()
        .map(|u| {
            let target = u["target"].as_str().unwrap_or("").trim();
            let name = format!("{} {}", u["name"].as_str().unwrap_or("?"), target)
                .trim()
                .to_string();
            (name, u["duration"].as_f64().unwrap_or(f64::NAN))
        })
        .collect()
}

/// A workspace of two crates: `deps-only` (probe-api's dependencies and
/// build-dependencies, as cargo metadata reports them, and an empty
/// library) and `dependent` (a small library using probe-api by path).
fn write_scratch_workspace(layout: &Layout, ws: &Path) -> Result<(), String> {
    let output = cargo(&layout.root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata is not JSON: {e}"))?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "probe-api"))
        .ok_or("cargo metadata lists no probe-api")?;

    // Features of dependencies that probe-api's default features turn on,
    // split into the compression ones and the rest.
    let mut default_on: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut compression: Vec<String> = Vec::new();
    let features = &package["features"];
    for feature in features["default"].as_array().into_iter().flatten() {
        let feature = feature.as_str().unwrap_or("");
        for enabled in features[feature].as_array().into_iter().flatten() {
            let Some((dep, dep_feature)) = enabled.as_str().and_then(|e| e.split_once('/')) else {
                continue;
            };
            if COMPRESSION_FEATURES.contains(&feature) {
                compression.push(format!("{dep}/{dep_feature}"));
            } else {
                default_on
                    .entry(dep.to_string())
                    .or_default()
                    .push(dep_feature.to_string());
            }
        }
    }

    let mut normal = String::new();
    let mut build = String::new();
    for dep in package["dependencies"].as_array().into_iter().flatten() {
        let name = dep["rename"]
            .as_str()
            .or(dep["name"].as_str())
            .unwrap_or_default();
        let section = match dep["kind"].as_str() {
            None if dep["optional"] == false => &mut normal,
            Some("build") => &mut build,
            _ => continue,
        };
        let mut features: Vec<String> = dep["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect();
        if dep["kind"].is_null() {
            features.extend(default_on.get(name).cloned().unwrap_or_default());
        }
        let _ = writeln!(
            section,
            "{name} = {{ package = {:?}, version = {:?}, default-features = {}, features = {:?} }}",
            dep["name"].as_str().unwrap_or(name),
            dep["req"].as_str().unwrap_or("*"),
            dep["uses_default_features"] == true,
            features
        );
    }
    let probe_api = layout.root.join("probe-api");
    let hand = hand_written_manifest(package, &compression);
    let files: [(&str, String); 9] = [
        (
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"deps-only\", \"dependent\", \"hand-written\"]\n".into(),
        ),
        (
            "deps-only/Cargo.toml",
            format!(
                "[package]\nname = \"deps-only\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[features]\ncompression = {compression:?}\n\n[dependencies]\n{normal}\n[build-dependencies]\n{build}"
            ),
        ),
        ("deps-only/build.rs", "fn main() {}\n".into()),
        ("deps-only/src/lib.rs", "//! Only probe-api's dependencies.\n".into()),
        (
            "dependent/Cargo.toml",
            format!(
                "[package]\nname = \"dependent\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nprobe-api = {{ path = {:?} }}\n",
                probe_api.to_string_lossy()
            ),
        ),
        (
            "dependent/src/lib.rs",
            "//! A crate that uses probe-api.\n\n/// A client with this API key.\npub fn client(key: &str) -> Result<probe_api::Client, probe_api::ConfigError> {\n    probe_api::Client::builder().api_key(key).build()\n}\n".into(),
        ),
        ("hand-written/Cargo.toml", hand),
        ("hand-written/src/lib.rs", HAND_WRITTEN_LIB.into()),
        ("Cargo.lock", {
            let lock = layout.root.join("Cargo.lock");
            String::from_utf8_lossy(&crate::read(&lock)?).into_owned()
        }),
    ];
    for (name, text) in files {
        let path = ws.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The manifest of `hand-written`: the crates a hand-written client of the
/// API needs, as probe-api declares them (reqwest with the same features,
/// its default TLS and compression included), and nothing else.
fn hand_written_manifest(package: &Value, compression: &[String]) -> String {
    let mut deps = String::new();
    for dep in package["dependencies"].as_array().into_iter().flatten() {
        let name = dep["name"].as_str().unwrap_or_default();
        if dep["kind"].is_null() && ["reqwest", "serde", "serde_json", "tokio"].contains(&name) {
            let mut features: Vec<String> = dep["features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            if name == "reqwest" {
                features.push("rustls".into());
                features.extend(
                    compression
                        .iter()
                        .filter_map(|c| c.strip_prefix("reqwest/").map(str::to_string)),
                );
            }
            let _ = writeln!(
                deps,
                "{name} = {{ version = {:?}, default-features = {}, features = {features:?} }}",
                dep["req"].as_str().unwrap_or("*"),
                dep["uses_default_features"] == true,
            );
        }
    }
    format!(
        "[package]\nname = \"hand-written\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{deps}"
    )
}

/// A hand-written call of one operation, as a user without the SDK writes it.
const HAND_WRITTEN_LIB: &str = r#"//! One API call written by hand.

/// A session, as the API sends it.
#[derive(Debug, serde::Deserialize)]
pub struct Session {
    /// Its id.
    pub id: String,
    /// The user agent that created it.
    #[serde(rename = "user-agent")]
    pub user_agent: Option<String>,
}

/// Gets a session by id.
pub async fn get_session(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
) -> Result<Session, Box<dyn std::error::Error + Send + Sync>> {
    let response = http
        .get(format!("{base}/frontend/api/v1/auth/session/{id}"))
        .bearer_auth(key)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await?
        .error_for_status()?;
    Ok(serde_json::from_slice(&response.bytes().await?)?)
}
"#;

// --- the machine ----------------------------------------------------------------

struct Machine {
    cpu: String,
    cores: usize,
    memory: String,
    os: String,
    rustc: String,
}

impl Machine {
    fn detect() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|l| l.trim_matches('"').to_string())
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
        let rustc = Command::new("rustc")
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            os: if kernel.is_empty() {
                os
            } else {
                format!("{os}, Linux {kernel}")
            },
            rustc,
        }
    }
}

// --- BENCHMARKS.md ----------------------------------------------------------------

mod render;
use render::render;
