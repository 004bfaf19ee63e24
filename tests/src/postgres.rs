//! The PostgreSQL server the tests use: `PROBE_TEST_DATABASE_URL`, which
//! the README's test command sets (`tests/pg/with-postgres.sh` starts a
//! throwaway cluster when it is not set). Tests never skip without one:
//! they fail and say how to provide it.

use probe_api::batch::PgLedger;

/// The variable that names the tests' PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "PROBE_TEST_DATABASE_URL";

/// The connection string of the tests' server.
///
/// # Panics
///
/// When `PROBE_TEST_DATABASE_URL` is not set, with how to set it.
pub fn database_url() -> String {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{DATABASE_URL_VAR} is not set: the ledger tests need PostgreSQL. Run the tests through \
             `tests/pg/with-postgres.sh cargo test ...` (it starts a throwaway cluster, installing \
             Debian's postgresql package when missing), or set {DATABASE_URL_VAR} to a server the \
             tests may create the schema probe_api in, such as postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

/// A batch name no other test or run uses.
pub fn batch_name(test: &str) -> String {
    format!(
        "{test}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A ledger on a fresh batch of the tests' server.
///
/// # Panics
///
/// When the server cannot be reached, with its error.
pub async fn fresh_ledger(test: &str) -> PgLedger {
    let url = database_url();
    PgLedger::connect(&url, &batch_name(test))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot use the PostgreSQL server of {DATABASE_URL_VAR}: {e}: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )
        })
}
