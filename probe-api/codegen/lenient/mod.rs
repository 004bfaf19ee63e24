//! Forward-compatible response models, made from progenitor's output.
//!
//! typify generates closed models: an enum value the document does not list,
//! an IP address that is not one (Go sends an unset `net.IP` as `""`), or,
//! under `additionalProperties: false`, a field it does not know, each fails
//! the whole response. typify has no option for this, and the document
//! cannot say which side of the wire a schema is on, so this pass rewrites
//! the generated syn AST: every model a response can carry becomes lenient,
//! every model only requests use stays as typify made it. The types it
//! substitutes live in the hand-written `crate::lenient` module, whose
//! documentation states the rules for users.
//!
//! How it decides, for any document:
//!
//! 1. The response models are the models named by the success and error
//!    types of every `send()` in the `builder` module, and every model they
//!    reach through fields, variants, newtype and alias targets.
//! 2. A closed enum is a model whose variants are all unit variants (typify's
//!    string enums). Closed enums themselves are never changed, so their
//!    `FromStr`, `TryFrom<&str>` and `Deserialize` keep refusing values the
//!    document does not list, and every request parameter or request-only
//!    model keeps using them as they are.
//! 3. In every response model other than a closed enum, each use of a closed
//!    enum `E` becomes `crate::runtime::OrUnknown<E>` and each
//!    `std::net::{IpAddr, Ipv4Addr, Ipv6Addr}` becomes
//!    `crate::runtime::IpText`: in the model, its `impl`s, its struct builder
//!    (`types::builder::X`), and the default-value functions it names. The
//!    same holds for the success type of `send()`. `deny_unknown_fields` is
//!    removed from the serde attributes of response models.
//! 4. An untagged enum (from `anyOf`/`oneOf`) tries its variants in order,
//!    and a lenient type takes any string; a variant is made lenient only
//!    when no later variant could take a string, so no variant loses the
//!    values it would have matched.
//! 5. A lenient type holds a `String`, so `Copy` is removed where one now
//!    sits and from every model that contains such a model.
//!
//! A model used both in requests and in responses is a response model: a
//! response that fails to decode cannot be worked around by the caller,
//! while an unknown value in a request body can only be written on purpose.
//!
//! `ipv4` and `ipv6` are standard formats, unlike `ip`, but they are treated
//! alike: Go marshals an unset `net.IP` as `""` whatever the document says.
//! Other formats typify does not parse (`url`, `password`, `email`) are
//! plain strings already.
//!
//! The pass works on Rust items, which the document does not name (typify
//! names inline schemas), so it is not a normalizer rule and `cargo xtask
//! spec report` does not list it; `probe-api/API.md` shows its result in
//! the field types.

use std::collections::{BTreeMap, BTreeSet};

use super::{SpecError, shape};

mod models;
mod rewrite;

use models::{Kind, Leaf, closure, leaves_in_item, models, names_in_type, untagged_leaves};
use rewrite::{open_send_types, remove_copy, rewrite_models};

/// One change the pass made, for tests and for anyone reading a build.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// The model, or `builder::X::send` for an operation's success type.
    pub item: String,
    /// What changed, such as `UsercommonStatus -> OrUnknown<UsercommonStatus>`.
    pub detail: String,
}

/// Makes every response model of progenitor's output lenient; see the
/// module documentation. Returns what changed, sorted.
///
/// # Errors
///
/// A shape the pass cannot rewrite consistently (a default-value function
/// shared by several models, or a default of a type it cannot convert),
/// named with the function.
pub fn open_responses(file: &mut syn::File) -> Result<Vec<Change>, SpecError> {
    let models = models(file);
    if models.is_empty() {
        // No models: only a success type can still name an IP address.
        return open_send_types(file, &BTreeSet::new());
    }
    let closed: BTreeSet<String> = models
        .iter()
        .filter(|(_, m)| m.kind == Kind::ClosedEnum)
        .map(|(name, _)| name.clone())
        .collect();

    let mut roots = BTreeSet::new();
    for output in shape::send_outputs(file) {
        roots.extend(names_in_type(output, &models));
    }
    let responses = closure(&roots, &models);

    // What to make lenient in each response model.
    let mut plans: BTreeMap<String, BTreeSet<Leaf>> = BTreeMap::new();
    for name in &responses {
        let Some(model) = models.get(name) else {
            continue;
        };
        if model.kind == Kind::ClosedEnum {
            continue;
        }
        let leaves = match model.kind {
            Kind::Untagged => untagged_leaves(model, &models, &closed),
            _ => leaves_in_item(&model.item(), &closed),
        };
        if !leaves.is_empty() {
            plans.insert(name.clone(), leaves);
        }
    }

    let mut changes = BTreeSet::new();
    let opened = rewrite_models(file, &plans, &responses, &mut changes)?;
    remove_copy(file, &models, opened)?;
    let mut changes: Vec<Change> = changes.into_iter().collect();
    changes.extend(open_send_types(file, &closed)?);
    changes.sort();
    Ok(changes)
}

#[cfg(test)]
mod tests;
