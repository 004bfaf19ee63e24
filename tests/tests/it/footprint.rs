//! What one call holds while it waits. A `send()` future lives in the
//! caller's task (64 calls in flight are 64 of them), and each move of a
//! future is a copy, so what it holds is part of a call's cost
//! (BENCHMARKS.md, per-call overhead). Every `send()` boxes its state
//! (`rewrite::box_sends`), made once and never moved, so the caller holds a
//! pointer. This bound fails without it (the futures were 4.7 KB and 6.5 KB,
//! then 1.9 KB and 2.8 KB moved with every move). Builders keep progenitor's
//! form, a `Result<Option<T>, String>` a parameter (the `get_file` builder is
//! 1.2 KB): the pass that packed them into 312 bytes was removed with the
//! rest of the per-call tuning, and the per-call rows of BENCHMARKS.md are
//! measured without it.

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
