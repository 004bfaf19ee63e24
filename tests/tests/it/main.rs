//! Every integration test of the workspace in one binary: one link step
//! instead of one per file. Each module is a former test file, named as the
//! user guide's reliability table and the closing notes name them
//! (`faults::…`); `properties` is a directory, one submodule per subject
//! (`properties::overlay::…`). `tests/tests/secrets.rs` stays a binary of
//! its own: the warning it checks is given once per process.

mod api_tokens;
mod architecture;
mod bad_input;
mod batch;
mod batch_fleet;
mod batch_ledger;
mod batch_refusals;
mod batch_resume;
mod batch_scale;
mod caller_time;
mod cassettes;
mod client_auth;
mod client_errors;
mod client_retries;
mod conformance_drift;
mod conformance_prism;
mod conformance_wire;
mod dynamic_call;
mod faults;
mod footprint;
mod forward_compat;
mod load;
mod mock_server;
mod paging;
mod properties;
mod public_api;
mod readme;
mod reports;
mod spec_pipeline;
mod timeouts;
mod xtask_api;
mod xtask_diff;
mod xtask_fetch;
mod xtask_verify;
