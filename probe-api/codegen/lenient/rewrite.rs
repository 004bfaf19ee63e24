//! How the models change: each planned leaf replaced in the model, its
//! `impl`s, its struct builder and its default-value functions; unknown
//! fields allowed; `Copy` removed where a string now sits.

use std::collections::{BTreeMap, BTreeSet};

use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, Type, parse_quote};

use super::Change;
use super::models::{Leaf, Leaves, Model, leaf_of};
use crate::codegen::SpecError;
use crate::codegen::shape::{self, TypeItem, serde_metas};

/// Replaces the planned leaves with their lenient types.
struct Open<'a> {
    plan: &'a BTreeSet<Leaf>,
    closed: BTreeSet<String>,
    done: BTreeSet<Leaf>,
}

impl<'a> Open<'a> {
    fn new(plan: &'a BTreeSet<Leaf>) -> Self {
        let closed = plan
            .iter()
            .filter_map(|leaf| match leaf {
                Leaf::Enum(name) => Some(name.clone()),
                Leaf::Ip(_) => None,
            })
            .collect();
        Self {
            plan,
            closed,
            done: BTreeSet::new(),
        }
    }
}

impl VisitMut for Open<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty
            && let Some(leaf) = leaf_of(path, &self.closed)
            && self.plan.contains(&leaf)
        {
            *ty = match &leaf {
                Leaf::Enum(_) => {
                    let inner = path.clone();
                    parse_quote!(crate::runtime::OrUnknown<#inner>)
                }
                Leaf::Ip(_) => parse_quote!(crate::runtime::IpText),
            };
            self.done.insert(leaf);
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// The names of `defaults::` functions a piece of syntax refers to, in
/// `#[serde(default = "defaults::f")]` or in a call `defaults::f()`.
struct DefaultRefs {
    found: BTreeSet<String>,
}

impl VisitMut for DefaultRefs {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        for meta in serde_metas(attr).into_iter().flatten() {
            if let syn::Meta::NameValue(nv) = meta
                && nv.path.is_ident("default")
                && let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
            {
                let value = s.value();
                if let Some(rest) = value.strip_prefix("defaults::") {
                    let name = rest.split("::").next().unwrap_or_default();
                    self.found.insert(name.to_string());
                }
            }
        }
    }

    fn visit_expr_path_mut(&mut self, path: &mut syn::ExprPath) {
        let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
        if let [.., module, function] = segments.as_slice()
            && module.ident == "defaults"
        {
            self.found.insert(function.ident.to_string());
        }
        syn::visit_mut::visit_expr_path_mut(self, path);
    }
}

/// Rewrites the response models of the `types` module, their `impl`s, their
/// builders and their default-value functions. Returns the models that now
/// hold a lenient type.
pub(super) fn rewrite_models(
    file: &mut syn::File,
    plans: &BTreeMap<String, BTreeSet<Leaf>>,
    responses: &BTreeSet<String>,
    changes: &mut BTreeSet<Change>,
) -> Result<BTreeSet<String>, SpecError> {
    let names: BTreeSet<String> = shape::models(file).into_keys().collect();
    let mut opened = BTreeSet::new();
    // Who refers to each default-value function, before anything changes.
    let mut default_owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for piece in shape::type_items_mut(file, &names) {
        let (owner, item) = match piece {
            TypeItem::Model { name, item } => (name, item),
            TypeItem::StructBuilder { owner, item } => (owner, item),
            TypeItem::Impl {
                owner: Some(owner),
                item,
                ..
            } => (owner, item),
            TypeItem::Impl { owner: None, .. } | TypeItem::Default { .. } => continue,
        };
        let mut refs = DefaultRefs {
            found: BTreeSet::new(),
        };
        refs.visit_item_mut(&mut item.clone());
        for function in refs.found {
            default_owners
                .entry(function)
                .or_default()
                .insert(owner.clone());
        }
    }

    for piece in shape::type_items_mut(file, &names) {
        match piece {
            TypeItem::Model { name, item } => {
                if responses.contains(&name) && allow_unknown_fields(item) {
                    changes.insert(Change {
                        item: name.clone(),
                        detail: "unknown fields are ignored (deny_unknown_fields removed)".into(),
                    });
                }
                if let Some(plan) = plans.get(&name) {
                    let mut open = Open::new(plan);
                    open.visit_item_mut(item);
                    if !open.done.is_empty() {
                        opened.insert(name.clone());
                    }
                    changes.extend(open.done.iter().map(|leaf| Change {
                        item: name.clone(),
                        detail: leaf.describe(),
                    }));
                }
            }
            TypeItem::Impl {
                owner: Some(owner),
                from_str,
                item,
            } => {
                let Some(plan) = plans.get(&owner) else {
                    continue;
                };
                let mut open = Open::new(plan);
                open.visit_item_mut(item);
                if from_str
                    && !open.done.is_empty()
                    && let Some(attrs) = shape::attrs_mut(item)
                {
                    // typify's `FromStr` of an untagged enum tries each
                    // variant with `if let Ok(v) = value.parse()`; a
                    // lenient type parses any text (its error is
                    // `Infallible`), which makes that pattern irrefutable.
                    attrs.push(parse_quote!(#[allow(irrefutable_let_patterns)]));
                }
            }
            TypeItem::StructBuilder { owner, item } => {
                if let Some(plan) = plans.get(&owner) {
                    Open::new(plan).visit_item_mut(item);
                }
            }
            TypeItem::Impl { owner: None, .. } => {}
            TypeItem::Default { name, function } => {
                // Default-value functions return what their field holds.
                let Some(owners) = default_owners.get(&name) else {
                    continue;
                };
                let Some(plan) = owners.iter().find_map(|owner| plans.get(owner)) else {
                    continue;
                };
                open_default(&name, function, owners, plan)?;
            }
        }
    }
    Ok(opened)
}

/// Gives the default-value function `name` the lenient type of the field
/// it fills.
fn open_default(
    name: &str,
    function: &mut syn::ItemFn,
    owners: &BTreeSet<String>,
    plan: &BTreeSet<Leaf>,
) -> Result<(), SpecError> {
    let syn::ReturnType::Type(_, output) = &mut function.sig.output else {
        return Ok(());
    };
    let original = output.as_ref().clone();
    let mut open = Open::new(plan);
    open.visit_type_mut(output);
    if open.done.is_empty() {
        return Ok(());
    }
    if owners.len() > 1 {
        return Err(SpecError::new(
            "#",
            format!(
                "the default-value function `defaults::{name}` is used by several models ({}); \
                 the lenient pass in codegen/lenient cannot change its type for only some of them",
                owners.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let converted = convert(&original, parse_quote!(value), plan).map_err(|shape| {
        SpecError::new(
            "#",
            format!(
                "the default-value function `defaults::{name}` returns {shape}, which \
                 codegen/lenient cannot turn into its lenient type"
            ),
        )
    })?;
    let body = &function.block;
    *function.block = parse_quote!({
        let value: #original = #body;
        #converted
    });
    Ok(())
}

/// The expression turning `value` of type `ty` into its lenient type.
/// Returns a description of the type when it has no known conversion.
fn convert(ty: &Type, value: Expr, plan: &BTreeSet<Leaf>) -> Result<Expr, String> {
    let closed: BTreeSet<String> = plan
        .iter()
        .filter_map(|leaf| match leaf {
            Leaf::Enum(name) => Some(name.clone()),
            Leaf::Ip(_) => None,
        })
        .collect();
    let Type::Path(path) = ty else {
        return Ok(value);
    };
    match leaf_of(path, &closed) {
        Some(leaf @ Leaf::Enum(_)) if plan.contains(&leaf) => {
            return Ok(parse_quote!(crate::runtime::OrUnknown::Known(#value)));
        }
        Some(leaf @ Leaf::Ip(_)) if plan.contains(&leaf) => {
            return Ok(parse_quote!(
                crate::runtime::IpText::from(::std::net::IpAddr::from(#value))
            ));
        }
        _ => {}
    }
    let mut leaves = Leaves {
        closed: &closed,
        found: BTreeSet::new(),
    };
    leaves.visit_type_mut(&mut ty.clone());
    if leaves.found.iter().all(|leaf| !plan.contains(leaf)) {
        return Ok(value);
    }
    let last = path.path.segments.last();
    let inner = last.and_then(|s| match &s.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
            match args.args.first() {
                Some(syn::GenericArgument::Type(t)) => Some(t),
                _ => None,
            }
        }
        _ => None,
    });
    let shape = || {
        let file: syn::File = parse_quote!(type T = #ty;);
        format!("`{}`", prettyplease::unparse(&file).trim())
    };
    match (last.map(|s| s.ident.to_string()).as_deref(), inner) {
        (Some("Option"), Some(inner)) => {
            let each = convert(inner, parse_quote!(value), plan)?;
            Ok(parse_quote!(#value.map(|value| #each)))
        }
        (Some("Vec"), Some(inner)) => {
            let each = convert(inner, parse_quote!(value), plan)?;
            Ok(parse_quote!(
                #value.into_iter().map(|value| #each).collect::<::std::vec::Vec<_>>()
            ))
        }
        _ => Err(shape()),
    }
}

/// Removes `deny_unknown_fields` from the item's serde attributes; whether
/// there was one.
fn allow_unknown_fields(item: &mut syn::Item) -> bool {
    let Some(attrs) = shape::model_attrs_mut(item) else {
        return false;
    };
    let mut removed = false;
    attrs.retain_mut(|attr| {
        let Some(metas) = serde_metas(attr) else {
            return true;
        };
        let before = metas.len();
        let kept: Punctuated<syn::Meta, syn::Token![,]> = metas
            .into_iter()
            .filter(|m| !matches!(m, syn::Meta::Path(p) if p.is_ident("deny_unknown_fields")))
            .collect();
        if kept.len() == before {
            return true;
        }
        removed = true;
        if kept.is_empty() {
            return false;
        }
        *attr = parse_quote!(#[serde(#kept)]);
        true
    });
    removed
}

/// Removes `Copy` from the derives of every opened model and of every
/// model containing one, until nothing changes.
pub(super) fn remove_copy(
    file: &mut syn::File,
    models: &BTreeMap<String, Model>,
    opened: BTreeSet<String>,
) -> Result<(), SpecError> {
    let mut not_copy = opened;
    loop {
        let more: Vec<String> = models
            .iter()
            .filter(|(name, model)| {
                !not_copy.contains(*name) && model.refs.iter().any(|r| not_copy.contains(r))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        not_copy.extend(more);
    }
    for piece in shape::type_items_mut(file, &BTreeSet::new()) {
        let TypeItem::Model { name, item } = piece else {
            continue;
        };
        if !not_copy.contains(&name) {
            continue;
        }
        let Some(attrs) = shape::model_attrs_mut(item) else {
            continue;
        };
        for attr in attrs.iter_mut() {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let derives: Punctuated<syn::Path, syn::Token![,]> = attr
                .parse_args_with(Punctuated::parse_terminated)
                .map_err(|e| {
                    SpecError::new(
                        "#",
                        format!("a generated derive attribute does not parse: {e}"),
                    )
                })?;
            if derives.iter().any(|p| p.is_ident("Copy")) {
                let kept: Punctuated<syn::Path, syn::Token![,]> = derives
                    .into_iter()
                    .filter(|p| !p.is_ident("Copy"))
                    .collect();
                *attr = parse_quote!(#[derive(#kept)]);
            }
        }
    }
    Ok(())
}

/// Makes the success type of every `send()` lenient: a response that is
/// itself an enum, an address, or a list of them.
pub(super) fn open_send_types(
    file: &mut syn::File,
    closed: &BTreeSet<String>,
) -> Result<Vec<Change>, SpecError> {
    // No sends: the send rewrite, which runs next, says so.
    let Ok(sends) = shape::sends_mut(file) else {
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    for (owner, method) in sends {
        let syn::ReturnType::Type(_, output) = &mut method.sig.output else {
            continue;
        };
        let Some(success) = shape::success_mut(output) else {
            continue;
        };
        let mut leaves = Leaves {
            closed,
            found: BTreeSet::new(),
        };
        leaves.visit_type_mut(&mut success.clone());
        let mut open = Open::new(&leaves.found);
        open.visit_type_mut(success);
        for leaf in open.done {
            changes.push(Change {
                item: format!("builder::{owner}::send"),
                detail: leaf.describe(),
            });
        }
    }
    Ok(changes)
}
