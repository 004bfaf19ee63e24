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
pub mod cassette;
mod client;
mod decode;
pub mod dynamic;
pub mod error;
pub mod lenient;
#[cfg(feature = "mock")]
pub mod mock;
pub mod raw;
pub mod reports;
mod request_url;
pub mod response;
pub mod retry;
mod runtime;
pub mod spec;
pub mod timeouts;
mod transport;

pub use auth::{AuthScheme, Secret};
pub use client::{
    ALTERNATE_BASE_URL, ClientBuilder, ConfigError, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STALL_TIMEOUT, ENV_API_TOKEN, ENV_BASE_URL, ENV_CONNECT_TIMEOUT, ENV_JWT,
    ENV_MAX_RETRIES, ENV_TIMEOUT,
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

/// The `User-Agent` the client sends: crate name and version, and the
/// revision (sha256 prefix) of the API document it was generated from.
pub const USER_AGENT: &str = concat!(
    env!("CARGO_PKG_NAME"),
    "/",
    env!("CARGO_PKG_VERSION"),
    " (openapi ",
    env!("PROBE_API_DOCUMENT_REVISION"),
    ")"
);
