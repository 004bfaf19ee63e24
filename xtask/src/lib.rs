//! The project's build tasks, as a library so the integration tests can run
//! the same spec pipeline the build runs.

#[path = "../../probe-api/codegen/mod.rs"]
pub mod codegen;

pub mod api;
pub mod bench;
pub mod bench_batch;
pub mod bench_cli;
pub mod bench_fleet;
pub mod diff;
pub mod fetch;
pub mod pin;
pub mod readme;
pub mod report;
pub mod semver;
pub mod verify;

use std::path::{Path, PathBuf};

/// Where the workspace keeps each spec file.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The workspace root.
    pub root: PathBuf,
}

impl Layout {
    /// The layout of the workspace this xtask was built in.
    pub fn from_manifest_dir() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self { root }
    }

    /// The layout of the workspace rooted at `root`.
    pub fn at(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// The pinned provider document, `openapi.json`.
    pub fn document(&self) -> PathBuf {
        self.root.join("openapi.json")
    }
    /// The pin record beside it.
    pub fn pin(&self) -> PathBuf {
        self.root.join("openapi.pin.json")
    }
    /// The local overlay.
    pub fn overlay(&self) -> PathBuf {
        self.root.join("openapi.overlay.json")
    }
    /// The copy of the document inside the `probe-api` package.
    pub fn package_document(&self) -> PathBuf {
        self.root.join("probe-api/spec/openapi.json")
    }
    /// The copy of the overlay inside the `probe-api` package.
    pub fn package_overlay(&self) -> PathBuf {
        self.root.join("probe-api/spec/overlay.json")
    }
    /// The copy of the pin record inside the `probe-api` package, which
    /// gives `probe_api::API_REVISION` the document's date.
    pub fn package_pin(&self) -> PathBuf {
        self.root.join("probe-api/spec/pin.json")
    }
    /// Where `cargo xtask codegen` writes the generated client for reading.
    pub fn generated_client(&self) -> PathBuf {
        self.root.join("target/codegen/probe_api.rs")
    }
    /// The committed API surface, rendered by `cargo xtask api`.
    pub fn api_surface(&self) -> PathBuf {
        self.root.join("probe-api/API.md")
    }
    /// The spec documents used as regeneration fixtures.
    pub fn fixtures(&self) -> PathBuf {
        self.root.join("tests/fixtures/spec")
    }

    /// Writes the client `build.rs` generates, formatted, to
    /// [`Layout::generated_client`], for a maintainer to read; returns the
    /// path.
    ///
    /// # Errors
    ///
    /// The pipeline or the generator fails, or the file cannot be written.
    pub fn write_generated_client(&self) -> Result<PathBuf, String> {
        let pipeline = self.pipeline()?;
        let code = codegen::generate::generate(&pipeline.normalized).map_err(|e| e.to_string())?;
        // The tables appended after progenitor's part are token text: one
        // more pass through the formatter makes the whole file read alike.
        let file = syn::parse_file(&code)
            .map_err(|e| format!("the generated client does not parse: {e}"))?;
        let path = self.generated_client();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write_atomic(&path, prettyplease::unparse(&file).as_bytes())?;
        Ok(path)
    }

    /// Reads the pinned document and the overlay and runs the pipeline.
    pub fn pipeline(&self) -> Result<codegen::Pipeline, String> {
        let document = read(&self.document())?;
        let overlay = read(&self.overlay())?;
        codegen::run(&document, Some(&overlay)).map_err(|e| e.to_string())
    }

    /// The effective document: the pinned document with the overlay
    /// applied, not normalized (OpenAPI 3.1, as the provider writes it).
    pub fn effective(&self) -> Result<serde_json::Value, String> {
        let document = read(&self.document())?;
        let overlay = read(&self.overlay())?;
        let mut effective =
            codegen::parse_json("openapi.json", &document).map_err(|e| e.to_string())?;
        codegen::overlay::apply(&mut effective, &overlay).map_err(|e| e.to_string())?;
        Ok(effective)
    }
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes a file atomically: a temporary file in the same directory, then a
/// rename, so a reader never sees half a file and a failure leaves the old one.
/// The new file keeps the permissions of the one it replaces (the pinned
/// documents are read-only on purpose).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let result = std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| match permissions {
            Some(p) => std::fs::set_permissions(&tmp, p),
            None => Ok(()),
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
