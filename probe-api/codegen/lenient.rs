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

use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, Fields, Item, Type, parse_quote};

use super::SpecError;

/// One change the pass made, for tests and for anyone reading a build.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// The model, or `builder::X::send` for an operation's success type.
    pub item: String,
    /// What changed, such as `UsercommonStatus -> OrUnknown<UsercommonStatus>`.
    pub detail: String,
}

/// A type the pass replaces with a lenient one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Leaf {
    /// A closed enum, by its name in the `types` module.
    Enum(String),
    /// `IpAddr`, `Ipv4Addr` or `Ipv6Addr` (by that name).
    Ip(String),
}

impl Leaf {
    fn describe(&self) -> String {
        match self {
            Leaf::Enum(name) => format!("{name} -> OrUnknown<{name}>"),
            Leaf::Ip(name) => format!("{name} -> IpText"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// All variants are unit variants.
    ClosedEnum,
    /// `#[serde(untagged)]` with payloads.
    Untagged,
    /// A struct with named fields (a JSON object).
    Object,
    /// Anything else: a newtype, an alias, a tagged enum.
    Other,
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
    let Some(types) = module_items(&file.items, "types") else {
        // No models: only a success type can still name an IP address.
        return open_send_types(file, &BTreeSet::new());
    };
    let models = models(types);
    let closed: BTreeSet<String> = models
        .iter()
        .filter(|(_, m)| m.kind == Kind::ClosedEnum)
        .map(|(name, _)| name.clone())
        .collect();

    let mut roots = BTreeSet::new();
    if let Some(builder) = module_items(&file.items, "builder") {
        for method in send_methods(builder) {
            if let syn::ReturnType::Type(_, output) = &method.sig.output {
                roots.extend(names_in_type(output, &models));
            }
        }
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
            Kind::Untagged => untagged_leaves(&model.item, &models, &closed),
            _ => leaves_in_item(&model.item, &closed),
        };
        if !leaves.is_empty() {
            plans.insert(name.clone(), leaves);
        }
    }

    let types = module_mut(&mut file.items, "types").ok_or_else(|| {
        SpecError::new(
            "#",
            "the generated `types` module disappeared during the lenient pass",
        )
    })?;
    let mut changes = BTreeSet::new();
    let opened = rewrite_models(types, &plans, &responses, &mut changes)?;
    remove_copy(types, &models, opened)?;
    let mut changes: Vec<Change> = changes.into_iter().collect();
    changes.extend(open_send_types(file, &closed)?);
    changes.sort();
    Ok(changes)
}

/// A model of the `types` module.
struct Model {
    kind: Kind,
    /// The item as typify made it (before this pass).
    item: Item,
    /// The models its definition names.
    refs: BTreeSet<String>,
}

fn module_items<'a>(items: &'a [Item], name: &str) -> Option<&'a Vec<Item>> {
    items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

fn module_mut<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

fn item_name(item: &Item) -> Option<String> {
    match item {
        Item::Struct(s) => Some(s.ident.to_string()),
        Item::Enum(e) => Some(e.ident.to_string()),
        Item::Type(t) => Some(t.ident.to_string()),
        _ => None,
    }
}

fn models(types: &[Item]) -> BTreeMap<String, Model> {
    let names: BTreeSet<String> = types.iter().filter_map(item_name).collect();
    let mut out = BTreeMap::new();
    for item in types {
        let Some(name) = item_name(item) else {
            continue;
        };
        let kind = match item {
            Item::Enum(e) if e.variants.iter().all(|v| matches!(v.fields, Fields::Unit)) => {
                Kind::ClosedEnum
            }
            Item::Enum(e) if serde_flag(&e.attrs, "untagged") => Kind::Untagged,
            Item::Struct(s) if matches!(s.fields, Fields::Named(_)) => Kind::Object,
            _ => Kind::Other,
        };
        let mut refs = BTreeSet::new();
        let mut collect = Names {
            known: &names,
            found: &mut refs,
        };
        collect.visit_item_mut(&mut item.clone());
        refs.remove(&name);
        out.insert(
            name,
            Model {
                kind,
                item: item.clone(),
                refs,
            },
        );
    }
    out
}

/// Collects the last identifier of every type path that names a model.
struct Names<'a> {
    known: &'a BTreeSet<String>,
    found: &'a mut BTreeSet<String>,
}

impl VisitMut for Names<'_> {
    fn visit_type_path_mut(&mut self, path: &mut syn::TypePath) {
        if let Some(last) = path.path.segments.last() {
            let name = last.ident.to_string();
            if self.known.contains(&name) {
                self.found.insert(name);
            }
        }
        syn::visit_mut::visit_type_path_mut(self, path);
    }
}

fn names_in_type(ty: &Type, models: &BTreeMap<String, Model>) -> BTreeSet<String> {
    let known: BTreeSet<String> = models.keys().cloned().collect();
    let mut found = BTreeSet::new();
    Names {
        known: &known,
        found: &mut found,
    }
    .visit_type_mut(&mut ty.clone());
    found
}

fn closure(roots: &BTreeSet<String>, models: &BTreeMap<String, Model>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(model) = models.get(&name) {
            stack.extend(model.refs.iter().filter(|r| !seen.contains(*r)).cloned());
        }
    }
    seen
}

/// Whether `#[serde(..)]` among `attrs` holds the bare flag `flag`.
fn serde_flag(attrs: &[syn::Attribute], flag: &str) -> bool {
    attrs.iter().any(|attr| {
        serde_metas(attr).is_some_and(|metas| {
            metas
                .iter()
                .any(|m| matches!(m, syn::Meta::Path(p) if p.is_ident(flag)))
        })
    })
}

fn serde_metas(attr: &syn::Attribute) -> Option<Punctuated<syn::Meta, syn::Token![,]>> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

/// The `send` methods of the operation builders.
fn send_methods(builder: &[Item]) -> impl Iterator<Item = &syn::ImplItemFn> {
    builder
        .iter()
        .filter_map(|item| match item {
            Item::Impl(block) => Some(block),
            _ => None,
        })
        .flat_map(|block| block.items.iter())
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
            _ => None,
        })
}

/// The closed enum a type path names (`E`, `super::E`, `types::E`).
fn closed_enum(path: &syn::TypePath, closed: &BTreeSet<String>) -> Option<String> {
    if path.qself.is_some() || path.path.leading_colon.is_some() {
        return None;
    }
    let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
    let (last, prefix) = segments.split_last()?;
    let plain_prefix = prefix.iter().all(|s| {
        matches!(s.arguments, syn::PathArguments::None)
            && (s.ident == "super" || s.ident == "self" || s.ident == "types")
    });
    let name = last.ident.to_string();
    (plain_prefix && matches!(last.arguments, syn::PathArguments::None) && closed.contains(&name))
        .then_some(name)
}

/// `IpAddr`, `Ipv4Addr` or `Ipv6Addr` when the path is `std::net::` one.
fn ip_type(path: &syn::TypePath) -> Option<String> {
    if path.qself.is_some() {
        return None;
    }
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.as_slice() {
        [std, net, name]
            if std == "std"
                && net == "net"
                && matches!(name.as_str(), "IpAddr" | "Ipv4Addr" | "Ipv6Addr") =>
        {
            Some(name.clone())
        }
        _ => None,
    }
}

fn leaf_of(path: &syn::TypePath, closed: &BTreeSet<String>) -> Option<Leaf> {
    closed_enum(path, closed)
        .map(Leaf::Enum)
        .or_else(|| ip_type(path).map(Leaf::Ip))
}

/// Every leaf a piece of syntax names.
struct Leaves<'a> {
    closed: &'a BTreeSet<String>,
    found: BTreeSet<Leaf>,
}

impl VisitMut for Leaves<'_> {
    fn visit_type_path_mut(&mut self, path: &mut syn::TypePath) {
        if let Some(leaf) = leaf_of(path, self.closed) {
            self.found.insert(leaf);
        }
        syn::visit_mut::visit_type_path_mut(self, path);
    }
}

fn leaves_in_item(item: &Item, closed: &BTreeSet<String>) -> BTreeSet<Leaf> {
    let mut leaves = Leaves {
        closed,
        found: BTreeSet::new(),
    };
    leaves.visit_item_mut(&mut item.clone());
    leaves.found
}

fn leaves_in_fields(fields: &Fields, closed: &BTreeSet<String>) -> BTreeSet<Leaf> {
    let mut leaves = Leaves {
        closed,
        found: BTreeSet::new(),
    };
    leaves.visit_fields_mut(&mut fields.clone());
    leaves.found
}

/// The leaves of an untagged enum that can be made lenient: those of
/// variants after which no variant takes a JSON string, minus any that a
/// variant keeping its closed types also uses (the `impl`s are rewritten by
/// type, so a type is lenient in the whole enum or nowhere in it).
fn untagged_leaves(
    item: &Item,
    models: &BTreeMap<String, Model>,
    closed: &BTreeSet<String>,
) -> BTreeSet<Leaf> {
    let Item::Enum(e) = item else {
        return BTreeSet::new();
    };
    let variants: Vec<&syn::Variant> = e.variants.iter().collect();
    let mut open = BTreeSet::new();
    let mut kept = BTreeSet::new();
    for (i, variant) in variants.iter().enumerate() {
        let leaves = leaves_in_fields(&variant.fields, closed);
        let later_takes_strings = variants[i + 1..]
            .iter()
            .any(|v| fields_take_string(&v.fields, models, 0));
        if later_takes_strings {
            kept.extend(leaves);
        } else {
            open.extend(leaves);
        }
    }
    open.difference(&kept).cloned().collect()
}

/// Whether a variant's payload could be decoded from a JSON string. Unsure
/// answers are `true`, which keeps the earlier variants closed.
fn fields_take_string(fields: &Fields, models: &BTreeMap<String, Model>, depth: usize) -> bool {
    match fields {
        Fields::Unit | Fields::Named(_) => false,
        Fields::Unnamed(f) if f.unnamed.len() == 1 => f
            .unnamed
            .first()
            .is_none_or(|field| type_takes_string(&field.ty, models, depth)),
        Fields::Unnamed(_) => false,
    }
}

fn type_takes_string(ty: &Type, models: &BTreeMap<String, Model>, depth: usize) -> bool {
    if depth > 32 {
        return true;
    }
    let path = match ty {
        Type::Tuple(t) if t.elems.is_empty() => return false,
        Type::Array(_) | Type::Slice(_) => return false,
        Type::Path(p) if p.qself.is_none() => &p.path,
        _ => return true,
    };
    let Some(last) = path.segments.last() else {
        return true;
    };
    let name = last.ident.to_string();
    let first_argument = || match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    match name.as_str() {
        "bool" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
        | "u128" | "usize" | "f32" | "f64" | "NonZeroU8" | "NonZeroU16" | "NonZeroU32"
        | "NonZeroU64" | "NonZeroU128" | "NonZeroUsize" | "NonZeroI8" | "NonZeroI16"
        | "NonZeroI32" | "NonZeroI64" | "NonZeroI128" | "NonZeroIsize" | "Vec" | "HashMap"
        | "BTreeMap" | "HashSet" | "BTreeSet" | "Map" => false,
        "Option" | "Box" => {
            first_argument().is_none_or(|t| type_takes_string(t, models, depth + 1))
        }
        _ => match models.get(&name) {
            Some(model) => match (&model.kind, &model.item) {
                (Kind::Object, _) => false,
                (Kind::ClosedEnum, _) => true,
                (Kind::Untagged, Item::Enum(e)) => e
                    .variants
                    .iter()
                    .any(|v| fields_take_string(&v.fields, models, depth + 1)),
                (_, Item::Struct(s)) => fields_take_string(&s.fields, models, depth + 1),
                (_, Item::Type(t)) => type_takes_string(&t.ty, models, depth + 1),
                _ => true,
            },
            None => true,
        },
    }
}

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

/// The model an `impl` belongs to: its self type, or for a conversion such
/// as `impl From<X> for Option<Y>`, the model among the trait's arguments.
fn impl_owner(block: &syn::ItemImpl, models: &BTreeSet<String>) -> Option<String> {
    if let Type::Path(p) = block.self_ty.as_ref()
        && let Some(last) = p.path.segments.last()
        && models.contains(&last.ident.to_string())
    {
        return Some(last.ident.to_string());
    }
    let (_, trait_path, _) = block.trait_.as_ref()?;
    let syn::PathArguments::AngleBracketed(args) = &trait_path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(Type::Path(p)) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .filter(|name| models.contains(name)),
        syn::GenericArgument::Type(Type::Reference(r)) => match r.elem.as_ref() {
            Type::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .filter(|name| models.contains(name)),
            _ => None,
        },
        _ => None,
    })
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
fn rewrite_models(
    types: &mut [Item],
    plans: &BTreeMap<String, BTreeSet<Leaf>>,
    responses: &BTreeSet<String>,
    changes: &mut BTreeSet<Change>,
) -> Result<BTreeSet<String>, SpecError> {
    let names: BTreeSet<String> = types.iter().filter_map(item_name).collect();
    let mut opened = BTreeSet::new();
    // Who refers to each default-value function, before anything changes.
    let mut default_owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut note_defaults = |owner: &str, item: &Item| {
        let mut refs = DefaultRefs {
            found: BTreeSet::new(),
        };
        refs.visit_item_mut(&mut item.clone());
        for function in refs.found {
            default_owners
                .entry(function)
                .or_default()
                .insert(owner.to_string());
        }
    };
    for item in types.iter() {
        let owner = match item {
            Item::Impl(block) => impl_owner(block, &names),
            other => item_name(other),
        };
        if let Some(owner) = owner {
            note_defaults(&owner, item);
        }
    }
    if let Some(builders) = module_items(types, "builder") {
        for item in builders {
            let owner = match item {
                Item::Impl(block) => impl_owner(block, &names),
                other => item_name(other),
            };
            if let Some(owner) = owner {
                note_defaults(&owner, item);
            }
        }
    }

    for item in types.iter_mut() {
        match item {
            Item::Struct(_) | Item::Enum(_) | Item::Type(_) => {
                let Some(name) = item_name(item) else {
                    continue;
                };
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
            Item::Impl(block) => {
                if let Some(owner) = impl_owner(block, &names)
                    && let Some(plan) = plans.get(&owner)
                {
                    let mut open = Open::new(plan);
                    open.visit_item_impl_mut(block);
                    let from_str = block.trait_.as_ref().is_some_and(|(_, path, _)| {
                        path.segments.last().is_some_and(|s| s.ident == "FromStr")
                    });
                    if from_str && !open.done.is_empty() {
                        // typify's `FromStr` of an untagged enum tries each
                        // variant with `if let Ok(v) = value.parse()`; a
                        // lenient type parses any text (its error is
                        // `Infallible`), which makes that pattern irrefutable.
                        block
                            .attrs
                            .push(parse_quote!(#[allow(irrefutable_let_patterns)]));
                    }
                }
            }
            Item::Mod(m) if m.ident == "builder" => {
                let Some((_, items)) = m.content.as_mut() else {
                    continue;
                };
                for item in items.iter_mut() {
                    let owner = match &*item {
                        Item::Impl(block) => impl_owner(block, &names),
                        other => item_name(other),
                    };
                    if let Some(plan) = owner.and_then(|o| plans.get(&o)) {
                        Open::new(plan).visit_item_mut(item);
                    }
                }
            }
            _ => {}
        }
    }

    // Default-value functions return what their field holds.
    let Some(defaults) = module_mut(types, "defaults") else {
        return Ok(opened);
    };
    for item in defaults.iter_mut() {
        let Item::Fn(function) = item else { continue };
        let name = function.sig.ident.to_string();
        let Some(owners) = default_owners.get(&name) else {
            continue;
        };
        let Some(plan) = owners.iter().find_map(|owner| plans.get(owner)) else {
            continue;
        };
        let syn::ReturnType::Type(_, output) = &mut function.sig.output else {
            continue;
        };
        let original = output.as_ref().clone();
        let mut open = Open::new(plan);
        open.visit_type_mut(output);
        if open.done.is_empty() {
            continue;
        }
        if owners.len() > 1 {
            return Err(SpecError::new(
                "#",
                format!(
                    "the default-value function `defaults::{name}` is used by several models ({}); \
                     the lenient pass in codegen/lenient.rs cannot change its type for only some of them",
                    owners.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let converted = convert(&original, parse_quote!(value), plan).map_err(|shape| {
            SpecError::new(
                "#",
                format!(
                    "the default-value function `defaults::{name}` returns {shape}, which \
                     codegen/lenient.rs cannot turn into its lenient type"
                ),
            )
        })?;
        let body = &function.block;
        *function.block = parse_quote!({
            let value: #original = #body;
            #converted
        });
    }
    Ok(opened)
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
fn allow_unknown_fields(item: &mut Item) -> bool {
    let attrs = match item {
        Item::Struct(s) => &mut s.attrs,
        Item::Enum(e) => &mut e.attrs,
        _ => return false,
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
fn remove_copy(
    types: &mut [Item],
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
    for item in types.iter_mut() {
        let attrs = match item {
            Item::Struct(s) if not_copy.contains(&s.ident.to_string()) => &mut s.attrs,
            Item::Enum(e) if not_copy.contains(&e.ident.to_string()) => &mut e.attrs,
            _ => continue,
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
fn open_send_types(
    file: &mut syn::File,
    closed: &BTreeSet<String>,
) -> Result<Vec<Change>, SpecError> {
    let Some(builder) = module_mut(&mut file.items, "builder") else {
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    for item in builder.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let owner = match block.self_ty.as_ref() {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
        .unwrap_or_default();
        for impl_item in &mut block.items {
            let syn::ImplItem::Fn(method) = impl_item else {
                continue;
            };
            if method.sig.ident != "send" {
                continue;
            }
            let syn::ReturnType::Type(_, output) = &mut method.sig.output else {
                continue;
            };
            let Some(success) = success_type(output) else {
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
    }
    Ok(changes)
}

/// `T` in `Result<ResponseValue<T>, _>`.
fn success_type(output: &mut Type) -> Option<&mut Type> {
    fn first_argument<'a>(ty: &'a mut Type, name: &str) -> Option<&'a mut Type> {
        let Type::Path(p) = ty else { return None };
        let last = p.path.segments.last_mut()?;
        if last.ident != name {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
            return None;
        };
        args.args.iter_mut().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
    }
    let value = first_argument(output, "Result")?;
    first_argument(value, "ResponseValue")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::normalize::normalize;
    use serde_json::{Value, json};

    /// A document whose responses carry `Color` and an address, whose
    /// requests take `Size`, and whose `Filter` enum is used on both sides.
    fn document() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/paints": {
                    "get": {
                        "operationId": "routes/paint.GetPaints",
                        "parameters": [
                            {"name": "filter", "in": "query", "schema": {"$ref": "#/components/schemas/Filter"}}
                        ],
                        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Paint"}}}}}
                    },
                    "post": {
                        "operationId": "routes/paint.PostOrder",
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                        "responses": {"204": {"description": "ordered"}}
                    }
                },
                "/colors": {
                    "get": {
                        "operationId": "routes/paint.GetColors",
                        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}}}}}}
                    }
                }
            },
            "components": {"schemas": {
                "Color": {"type": "string", "enum": ["red", "dark-blue"]},
                "Size": {"type": "string", "enum": ["small", "large"]},
                "Filter": {"type": "string", "enum": ["all", "mine"]},
                "Paint": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["color"],
                    "properties": {
                        "color": {"$ref": "#/components/schemas/Color"},
                        "finish": {"type": "string", "enum": ["matte", "gloss"], "default": "matte"},
                        "filter": {"$ref": "#/components/schemas/Filter"},
                        "shades": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}},
                        "origin": {"type": ["string", "null"], "format": "ip"},
                        "mixed": {"anyOf": [
                            {"type": "string", "enum": ["x", "y"]},
                            {"type": "integer"}
                        ]}
                    }
                },
                "Order": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "size": {"$ref": "#/components/schemas/Size"},
                        "color": {"$ref": "#/components/schemas/Color"},
                        "from": {"type": "string", "format": "ip"}
                    }
                }
            }}
        })
    }

    fn generated() -> (syn::File, Vec<Change>) {
        let normalized = normalize(&document()).expect("normalizes");
        let spec: openapiv3::OpenAPI =
            serde_json::from_value(normalized.document).expect("OpenAPI 3.0");
        let tokens =
            progenitor::Generator::new(&super::super::generate::settings().expect("settings"))
                .generate_tokens(&spec)
                .expect("generates");
        let mut file: syn::File = syn::parse2(tokens).expect("parses");
        let changes = open_responses(&mut file).expect("lenient");
        (file, changes)
    }

    fn text(file: &syn::File) -> String {
        prettyplease::unparse(file)
    }

    fn squeezed(text: &str) -> String {
        text.split_whitespace().collect()
    }

    #[test]
    fn response_models_get_lenient_enums_and_addresses_and_requests_keep_closed_ones() {
        let (file, changes) = generated();
        let code = squeezed(&text(&file));
        for expected in [
            // Paint, a response model.
            "pubcolor:crate::runtime::OrUnknown<Color>,",
            "pubfilter:::std::option::Option<crate::runtime::OrUnknown<Filter>>,",
            "pubshades:::std::vec::Vec<crate::runtime::OrUnknown<Color>>,",
            "puborigin:::std::option::Option<crate::runtime::IpText>,",
            // Its builder follows.
            "T:::std::convert::TryInto<crate::runtime::OrUnknown<super::Color>>,",
            // Order, a request model, and the query parameter keep theirs.
            "pubsize:::std::option::Option<Size>,",
            "pubfrom:::std::option::Option<::std::net::IpAddr>,",
            "V:std::convert::TryInto<types::Filter>,",
            // A response that is a list of enum values.
            "ResponseValue<::std::vec::Vec<crate::runtime::OrUnknown<types::Color>>>",
        ] {
            assert!(
                code.contains(&squeezed(expected)),
                "`{expected}` not in:\n{}",
                text(&file)
            );
        }
        let details: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.item.as_str(), c.detail.as_str()))
            .collect();
        assert!(
            details.contains(&("Paint", "Color -> OrUnknown<Color>")),
            "{details:?}"
        );
        assert!(
            details.contains(&("Paint", "IpAddr -> IpText")),
            "{details:?}"
        );
        assert!(
            details.contains(&("builder::GetColors::send", "Color -> OrUnknown<Color>")),
            "{details:?}"
        );
        assert!(
            !details.iter().any(|(item, _)| *item == "Order"),
            "{details:?}"
        );
    }

    #[test]
    fn closed_enums_stay_closed_and_copy() {
        let (file, _) = generated();
        let code = text(&file);
        for name in ["Color", "Size", "Filter"] {
            let enum_text = code
                .split(&format!("pub enum {name} {{"))
                .nth(1)
                .and_then(|rest| rest.split('}').next())
                .unwrap_or_else(|| panic!("no enum {name}"));
            assert!(!enum_text.contains("Unknown"), "{name}: {enum_text}");
            let derive = code
                .split(&format!("pub enum {name} {{"))
                .next()
                .and_then(|before| before.rsplit("#[derive(").next())
                .unwrap_or_default();
            assert!(derive.contains("Copy"), "{name} keeps Copy");
        }
        assert!(
            squeezed(&code).contains(&squeezed(r#"_ => Err("invalid value".into()),"#)),
            "FromStr of the closed enums still refuses unknown values"
        );
    }

    #[test]
    fn response_models_accept_unknown_fields_and_request_models_keep_refusing_them() {
        let (file, changes) = generated();
        let code = text(&file);
        let before = |name: &str| {
            code.split(&format!("pub struct {name} {{"))
                .next()
                .and_then(|b| b.rsplit("///").next())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            !before("Paint").contains("deny_unknown_fields"),
            "{}",
            before("Paint")
        );
        assert!(
            before("Order").contains("deny_unknown_fields"),
            "{}",
            before("Order")
        );
        assert!(
            changes
                .iter()
                .any(|c| c.item == "Paint" && c.detail.contains("deny_unknown_fields"))
        );
    }

    #[test]
    fn defaults_follow_their_field() {
        let (file, _) = generated();
        let code = squeezed(&text(&file));
        assert!(
            code.contains(&squeezed(
                "pub(super) fn paint_finish() -> crate::runtime::OrUnknown<super::PaintFinish> {
                     let value: super::PaintFinish = { super::PaintFinish::Matte };
                     crate::runtime::OrUnknown::Known(value)
                 }"
            )),
            "{}",
            text(&file)
        );
    }

    #[test]
    fn an_untagged_enum_opens_only_variants_no_later_variant_could_take() {
        let (file, _) = generated();
        let code = squeezed(&text(&file));
        // `mixed`: a string enum, then an integer: the enum variant opens.
        assert!(
            code.contains("String(crate::runtime::OrUnknown<PaintMixedString>),Integer(i64),"),
            "{}",
            text(&file)
        );

        let parse_models = |source: &str| {
            let items = syn::parse_file(source).expect("parses").items;
            models(&items)
        };
        let m = parse_models(
            "#[serde(untagged)] pub enum U { A(E), B(::std::string::String) }
             pub enum E { X }",
        );
        let closed: BTreeSet<String> = ["E".to_string()].into();
        assert!(
            untagged_leaves(&m["U"].item, &m, &closed).is_empty(),
            "a later String keeps A closed"
        );
        let m = parse_models(
            "#[serde(untagged)] pub enum U { A(E), B(i64), C(O) }
             pub enum E { X }
             pub struct O { pub x: i64 }",
        );
        assert_eq!(
            untagged_leaves(&m["U"].item, &m, &closed),
            [Leaf::Enum("E".into())].into()
        );
    }

    #[test]
    fn copy_goes_where_a_string_now_sits_and_from_what_contains_it() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Copy, Debug)]
                pub struct Pair(pub ::std::net::IpAddr);
                #[derive(Clone, Copy, Debug)]
                pub struct Holder(pub Pair);
                #[derive(Clone, Copy, Debug)]
                pub enum E { X }
            }
            pub mod builder {
                impl Get {
                    pub async fn send(self) -> Result<ResponseValue<types::Holder>, Error<()>> { todo() }
                }
            }
        };
        let changes = open_responses(&mut file).expect("lenient");
        assert_eq!(
            changes,
            [Change {
                item: "Pair".into(),
                detail: "IpAddr -> IpText".into()
            }]
        );
        let code = squeezed(&text(&file));
        assert!(
            code.contains("#[derive(Clone,Debug)]pubstructPair(pubcrate::runtime::IpText);"),
            "{code}"
        );
        assert!(
            code.contains("#[derive(Clone,Debug)]pubstructHolder(pubPair);"),
            "{code}"
        );
        assert!(
            code.contains("#[derive(Clone,Copy,Debug)]pubenumE"),
            "{code}"
        );
    }

    #[test]
    fn a_default_of_an_unconvertible_shape_is_refused_naming_the_function() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                pub struct Thing {
                    #[serde(default = "defaults::thing_map")]
                    pub map: ::std::collections::HashMap<String, E>,
                }
                pub enum E { X }
                pub mod defaults {
                    pub(super) fn thing_map() -> ::std::collections::HashMap<String, super::E> {
                        Default::default()
                    }
                }
            }
            pub mod builder {
                impl Get {
                    pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<()>> { todo() }
                }
            }
        };
        let error = open_responses(&mut file).expect_err("a map default");
        assert!(error.reason.contains("defaults::thing_map"), "{error}");
        assert!(error.reason.contains("HashMap"), "{error}");
    }
}
