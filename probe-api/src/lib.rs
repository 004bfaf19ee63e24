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

pub mod spec;

pub use generated::{ByteStream, Client, ClientInfo, Error, ResponseValue, builder, types};
