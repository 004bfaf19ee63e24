//! A scratch copy of the workspace's spec files, for `cargo xtask` commands
//! that write.

use std::path::{Path, PathBuf};

use crate::files::{read, root};

/// A copy of the workspace's spec files in a temporary directory, laid out
/// as `xtask::Layout` expects, for commands that write.
/// The directory is removed when the value drops.
#[derive(Debug)]
pub struct SpecWorkspace {
    dir: PathBuf,
}

impl SpecWorkspace {
    /// Copies the pinned document, pin record, overlay, package copies and
    /// API surface of this workspace.
    pub fn copy() -> SpecWorkspace {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "probe-api-spec-workspace-{}-{n}",
            std::process::id()
        ));
        // A directory left by an earlier process with the same id goes first.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        for file in [
            "openapi.json",
            "openapi.pin.json",
            "openapi.overlay.json",
            "probe-api/spec/openapi.json",
            "probe-api/spec/overlay.json",
            "probe-api/spec/pin.json",
            "probe-api/API.md",
        ] {
            let to = dir.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).expect("create directory");
            }
            std::fs::write(&to, read(&root().join(file))).expect("copy");
        }
        SpecWorkspace { dir }
    }

    /// The root directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The layout rooted there.
    pub fn layout(&self) -> xtask::Layout {
        xtask::Layout::at(&self.dir)
    }

    /// Every file below the root and its bytes.
    pub fn snapshot(&self) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).expect("read directory").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.insert(path.clone(), read(&path));
                }
            }
        }
        let mut out = std::collections::BTreeMap::new();
        walk(&self.dir, &mut out);
        out
    }
}

impl Drop for SpecWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
