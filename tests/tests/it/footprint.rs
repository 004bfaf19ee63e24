//! What one call holds while it waits. A `send()` future lives in the
//! caller's task (64 calls in flight are 64 of them), and each move of a
//! future is a copy, so what it holds is part of a call's cost
//! (BENCHMARKS.md, per-call overhead). Every `send()` boxes its state
//! (`rewrite::box_sends`: 1.9 KB for `get_session`, 2.8 KB for `get_file`),
//! made once and never moved, so the caller holds a pointer; and a builder,
//! which each setter call moves, keeps each parameter as the value it
//! converted to (`codegen/generate/compact.rs`), not progenitor's conversion
//! result. These bounds fail without either (the futures were 4.7 KB and
//! 6.5 KB, then 1.9 KB and 2.8 KB moved with every move; the `get_file`
//! builder 1.2 KB).

use probe_api::Client;

fn client() -> Client {
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("footprint-key")
        .build()
        .expect("client")
}

#[test]
fn a_call_in_flight_is_one_pointer_in_the_callers_task() {
    let client = client();
    let send = client.get_session().session_id("s-1").send();
    let size = std::mem::size_of_val(&send);
    assert!(size <= 16, "get_session's future is {size} bytes");
    let send = client.get_file().url("https://media.example/a.mp4").send();
    let size = std::mem::size_of_val(&send);
    assert!(size <= 16, "get_file's future is {size} bytes");
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
