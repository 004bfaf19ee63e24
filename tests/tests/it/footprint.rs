//! What one call holds while it waits. Every `send()` is a future that
//! lives in the caller's task (64 calls in flight are 64 of them), and each
//! move of it is a copy, so its size is part of a call's cost (BENCHMARKS.md,
//! per-call overhead). The request of a retry is built again rather than
//! copied ahead, reqwest's rarely needed body read is boxed, and the
//! attempts keep one copy of the request and of the exchange. These bounds
//! hold with that and fail without it (`get_session` was 4.7 KB, `get_file`
//! 6.5 KB). A builder keeps each parameter as the value it converted to
//! (`codegen/generate/compact.rs`), not progenitor's conversion result.

use probe_api::Client;

fn client() -> Client {
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("footprint-key")
        .build()
        .expect("client")
}

#[test]
fn a_call_with_one_parameter_holds_under_two_kilobytes() {
    let client = client();
    let send = client.get_session().session_id("s-1").send();
    let size = std::mem::size_of_val(&send);
    assert!(size <= 2_048, "get_session's future is {size} bytes");
}

#[test]
fn a_probe_with_all_its_parameters_holds_under_three_kilobytes() {
    let client = client();
    let send = client.get_file().url("https://media.example/a.mp4").send();
    let size = std::mem::size_of_val(&send);
    // The builder, one field for each of the 49 parameters, is 312 bytes of it.
    assert!(size <= 3_072, "get_file's future is {size} bytes");
}

#[test]
fn a_builder_holds_its_parameters_not_a_conversion_result_for_each() {
    let client = client();
    // progenitor's form, `Result<Option<T>, String>` for each of the 49
    // parameters, is 1.2 KB; a setter call moves all of it.
    let size = std::mem::size_of_val(&client.get_file());
    assert!(size <= 400, "the get_file builder is {size} bytes");
    let size = std::mem::size_of_val(&client.get_session());
    assert!(size <= 40, "the get_session builder is {size} bytes");
}
