#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

/// The client and models progenitor generates from the pinned document.
///
/// Generated at compile time by `build.rs`; its lint allowances stay here.
#[allow(
    missing_docs,
    missing_debug_implementations,
    unused_imports,
    dead_code,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rustdoc::all
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub mod auth;
pub mod batch;
mod call;
pub mod cassette;
mod client;
mod decode;
pub mod dynamic;
pub mod error;
mod facts;
pub mod lenient;
pub mod limit;
#[cfg(feature = "mock")]
pub mod mock;
pub mod pages;
pub mod raw;
pub mod reports;
pub mod response;
pub mod retry;
mod runtime;
pub mod spec;
pub mod telemetry;
pub mod timeouts;
mod transport;

pub use auth::{AuthScheme, Secret};
pub use client::{
    ALTERNATE_BASE_URL, ClientBuilder, ConfigError, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STALL_TIMEOUT, ENV_API_TOKEN, ENV_BASE_URL, ENV_CONNECT_TIMEOUT, ENV_JWT,
    ENV_MAX_RETRIES, ENV_TIMEOUT, STALL_BUDGET_PERIODS,
};
pub use error::{ApiError, Error, ErrorKind};
pub use generated::{Client, builder, types};
/// HTTP methods, for [`Client::request`].
pub use reqwest::Method;
// The crates whose types the models use, re-exported so that a caller
// names them at the versions this crate was built with.
pub use chrono;
pub use response::{ByteStream, Response};
pub use retry::RetryPolicy;
pub use serde_json;
pub use uuid;

/// The revision of the API this client was generated from: the pinned
/// document's date and the overlay's version, such as
/// `2025-06-24+overlay.2025-07-30.2`. It changes, with the crate's version,
/// whenever the document or the overlay does.
pub const API_REVISION: &str = env!("PROBE_API_REVISION");

/// The `User-Agent` the client sends: crate name and version, the
/// [`API_REVISION`], and the sha256 prefix of the pinned document.
pub const USER_AGENT: &str = concat!(
    env!("CARGO_PKG_NAME"),
    "/",
    env!("CARGO_PKG_VERSION"),
    " (api ",
    env!("PROBE_API_REVISION"),
    "; openapi ",
    env!("PROBE_API_DOCUMENT_REVISION"),
    ")"
);
