//! What the transport asks of each operation on every call (its spec,
//! whether its path holds a credential, whether it needs credentials or
//! cookies), worked out on the operation's first call and kept.

use std::sync::OnceLock;

use crate::spec::OperationSpec;

/// What the transport knows of one operation, looked up on the operation's
/// first call and kept: each generated `send()` has a static of its own
/// (see `codegen/rewrite.rs`), so a call reads one value where it would
/// search the operations by name.
pub(crate) struct OperationFacts(OnceLock<Option<Known>>);

impl OperationFacts {
    /// Facts not looked up yet.
    pub(crate) const fn new() -> OperationFacts {
        OperationFacts(OnceLock::new())
    }

    /// The facts of the operation with the Rust method name `rust_name`
    /// (the same name on every call), `None` for a request that is no
    /// operation of the document.
    pub(crate) fn get(&self, rust_name: &str) -> Option<Known> {
        *self.0.get_or_init(|| operation_spec(rust_name))
    }
}

/// An operation, with what the transport asks of it on every call worked
/// out once (the file probes have dozens of parameters to look through).
#[derive(Clone, Copy)]
pub(crate) struct Known {
    pub(crate) spec: &'static OperationSpec,
    /// A path parameter holds a credential ([`OperationSpec::has_secret_parameters`]).
    pub(crate) secret_path: bool,
    /// The document lists security for it: every operation but sign-in.
    pub(crate) needs_auth: bool,
    /// It has cookie parameters (`OperationSpec::cookies`).
    pub(crate) takes_cookies: bool,
}

/// The facts of `rust_name`, worked out once per operation: a search of the
/// operations table, then the three questions the transport asks.
fn operation_spec(rust_name: &str) -> Option<Known> {
    let spec = crate::spec::operation(rust_name)?;
    Some(Known {
        spec,
        secret_path: spec.has_secret_parameters(),
        needs_auth: spec.security.iter().any(|alt| !alt.is_empty()),
        takes_cookies: !spec.cookies.is_empty(),
    })
}
