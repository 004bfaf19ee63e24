//! Property tests: the spec pipeline and response decoding never panic,
//! whatever document, overlay or response body they are given. One module
//! per subject:
//!
//! - [`documents`]: mutated documents through the normalizer and the
//!   generator;
//! - [`overlay`]: arbitrary overlay actions through the applier;
//! - [`responses`]: hostile and random bodies through every operation;
//! - [`reports`]: report-shaped JSON through the typed tool reports.
//!
//! This module runs the properties; [`json`] makes arbitrary JSON and
//! points into it.
//!
//! A failure prints the smallest input proptest shrinks it to: the
//! mutations, the overlay, the exchange and the body.
//!
//! # Determinism
//!
//! Every property runs on proptest's ChaCha generator seeded with the fixed
//! `SEED` (`Config { rng_algorithm: RngAlgorithm::ChaCha, rng_seed:
//! RngSeed::Fixed(SEED), failure_persistence: None, .. }`): CI generates
//! exactly the cases a developer's run does, and no regression file is
//! written.
//!
//! # Longer runs
//!
//! `PROBE_PROPTEST_CASES=100000 cargo test -p tests --test it --release -- properties::`
//! runs that many cases of each property (of the generation property, which
//! runs progenitor, one in a hundred), and `PROBE_PROPTEST_SEED=<u64>` starts
//! from another seed to explore other inputs.

mod documents;
mod json;
mod overlay;
mod reports;
mod responses;

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestError, TestRunner};
use serde_json::Value;

/// The seed of every property (the bytes of "PROBE-AP").
const SEED: u64 = 0x5052_4f42_452d_4150;

// ----- running properties -----

/// `default` cases, or `PROBE_PROPTEST_CASES` divided by `share` (at least one).
fn cases(default: u32, share: u32) -> u32 {
    match std::env::var("PROBE_PROPTEST_CASES") {
        Ok(text) => {
            let n: u32 = text
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("PROBE_PROPTEST_CASES={text:?} is not a count: {e}"));
            (n / share).max(1)
        }
        Err(_) => default,
    }
}

fn seed() -> u64 {
    match std::env::var("PROBE_PROPTEST_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("PROBE_PROPTEST_SEED={text:?} is not a u64: {e}")),
        Err(_) => SEED,
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed()),
        failure_persistence: None,
        max_shrink_iters: 256,
        // Only the generation property rejects (documents the normalizer
        // refuses), and it needs room for that.
        max_global_rejects: cases.saturating_mul(50).max(1024),
        ..Config::default()
    })
}

/// Runs `test` over `cases` values of `strategy`; a failure panics with the
/// reason and the smallest input that still fails.
fn check<S: Strategy>(
    property: &str,
    cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    match runner(cases).run(strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => panic!(
            "{property}: {reason}\nsmallest failing input:\n{input:#?}\n(PROBE_PROPTEST_SEED={} reproduces it)",
            seed()
        ),
        Err(TestError::Abort(reason)) => panic!("{property}: aborted: {reason}"),
    }
}

/// Runs `f`, turning a panic into `Err` with its message.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Asserts that each of two outcomes happened at least once in a run of
/// `cases`, so that neither half of a property goes untested. Runs too
/// short to say (`PROBE_PROPTEST_CASES` below 32) are not judged.
fn both_occur(cases: u32, (a, a_count): (&str, u32), (b, b_count): (&str, u32)) {
    if cases >= 32 {
        assert!(
            a_count > 0 && b_count > 0,
            "of {cases} cases, {a_count} {a} and {b_count} {b}"
        );
    }
}

// ----- the pinned document -----

fn pinned_document() -> Vec<u8> {
    tests::read(&tests::root().join("openapi.json"))
}

fn pinned_overlay() -> Vec<u8> {
    tests::read(&tests::root().join("openapi.overlay.json"))
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the pinned document is JSON")
}
