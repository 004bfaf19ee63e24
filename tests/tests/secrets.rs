//! Credentials in the query string: a one-time warning that they will be
//! logged by servers, without the credential itself. (Its own test binary:
//! the warning is once per process.)

use probe_api::{AuthScheme, Client};
use tests::CapturedLogs;

const KEY: &str = "pk_live_7f3a9c2e41d8b6a0";

#[test]
fn query_credentials_warn_once_and_never_show_the_key() {
    let (logs, _guard) = CapturedLogs::install();
    Client::builder()
        .api_key(KEY)
        .build()
        .expect("header client");
    assert!(
        logs.text().is_empty(),
        "the header scheme does not warn: {}",
        logs.text()
    );
    for _ in 0..3 {
        Client::builder()
            .api_key(KEY)
            .auth_scheme(AuthScheme::ApiKeyQuery)
            .build()
            .expect("query client");
    }
    Client::builder()
        .jwt("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
        .auth_scheme(AuthScheme::JwtQuery)
        .build()
        .expect("jwt query client");
    let text = logs.text();
    assert_eq!(text.matches("WARN").count(), 1, "{text}");
    assert!(text.contains("logs of servers and proxies"), "{text}");
    assert!(text.contains("scheme=\"api_key\""), "{text}");
    assert!(!text.contains(KEY), "{text}");
}
