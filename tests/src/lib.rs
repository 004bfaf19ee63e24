//! Shared helpers for the integration tests, one module per purpose:
//!
//! - [`faults`]: a loopback server that misbehaves on purpose, for async
//!   tests and blocking callers alike;
//! - [`helper_bin`]: the arguments and exit of the helper binaries in
//!   `src/bin`;
//! - [`loopback`]: wiremock servers and clients for them;
//! - [`postgres`]: the PostgreSQL server the ledger tests use
//!   (`PROBE_TEST_DATABASE_URL`), and fresh batches on it;
//! - [`prism`]: the Prism mock server, started from `tests/prism`;
//! - the workspace's files (`root`, `fixture`, `read`), documents read
//!   apart from the pipeline (`operations_of`, `yaml_fragment_of_markdown`),
//!   a scratch copy of the spec files (`SpecWorkspace`), an error's causes
//!   (`causes`) and captured tracing output (`CapturedLogs`).

pub mod faults;
pub mod helper_bin;
pub mod loopback;
pub mod postgres;
pub mod prism;

mod causes;
mod files;
mod logs;
mod spec;
mod workspace;

pub use causes::causes;
pub use files::{fixture, read, root};
pub use logs::CapturedLogs;
pub use spec::{operations_of, yaml_fragment_of_markdown};
pub use workspace::SpecWorkspace;
