//! Which models the pass changes, and what in them: the response models,
//! the closed enums and addresses they hold, and the untagged enums whose
//! later variants would take a string.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit_mut::VisitMut;
use syn::{Fields, Item, Type};

use crate::codegen::shape::{self, Definition};

pub(super) use crate::codegen::shape::ModelKind as Kind;

/// A type the pass replaces with a lenient one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Leaf {
    /// A closed enum, by its name in the `types` module.
    Enum(String),
    /// `IpAddr`, `Ipv4Addr` or `Ipv6Addr` (by that name).
    Ip(String),
}

impl Leaf {
    pub(super) fn describe(&self) -> String {
        match self {
            Leaf::Enum(name) => format!("{name} -> OrUnknown<{name}>"),
            Leaf::Ip(name) => format!("{name} -> IpText"),
        }
    }
}

/// A model of the `types` module and the models its definition names.
pub(super) struct Model {
    /// The model as typify made it (before the pass).
    pub(super) model: shape::Model,
    /// The models its definition names.
    pub(super) refs: BTreeSet<String>,
}

impl std::ops::Deref for Model {
    type Target = shape::Model;

    fn deref(&self) -> &shape::Model {
        &self.model
    }
}

/// The models of the generated file, each with the models it names.
pub(super) fn models(file: &syn::File) -> BTreeMap<String, Model> {
    let models = shape::models(file);
    let names: BTreeSet<String> = models.keys().cloned().collect();
    models
        .into_iter()
        .map(|(name, model)| {
            let mut refs = BTreeSet::new();
            Names {
                known: &names,
                found: &mut refs,
            }
            .visit_item_mut(&mut model.item());
            refs.remove(&name);
            (name, Model { model, refs })
        })
        .collect()
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

pub(super) fn names_in_type(ty: &Type, models: &BTreeMap<String, Model>) -> BTreeSet<String> {
    let known: BTreeSet<String> = models.keys().cloned().collect();
    let mut found = BTreeSet::new();
    Names {
        known: &known,
        found: &mut found,
    }
    .visit_type_mut(&mut ty.clone());
    found
}

pub(super) fn closure(
    roots: &BTreeSet<String>,
    models: &BTreeMap<String, Model>,
) -> BTreeSet<String> {
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

pub(super) fn leaf_of(path: &syn::TypePath, closed: &BTreeSet<String>) -> Option<Leaf> {
    closed_enum(path, closed)
        .map(Leaf::Enum)
        .or_else(|| ip_type(path).map(Leaf::Ip))
}

/// Every leaf a piece of syntax names.
pub(super) struct Leaves<'a> {
    pub(super) closed: &'a BTreeSet<String>,
    pub(super) found: BTreeSet<Leaf>,
}

impl VisitMut for Leaves<'_> {
    fn visit_type_path_mut(&mut self, path: &mut syn::TypePath) {
        if let Some(leaf) = leaf_of(path, self.closed) {
            self.found.insert(leaf);
        }
        syn::visit_mut::visit_type_path_mut(self, path);
    }
}

pub(super) fn leaves_in_item(item: &Item, closed: &BTreeSet<String>) -> BTreeSet<Leaf> {
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
pub(super) fn untagged_leaves(
    model: &Model,
    models: &BTreeMap<String, Model>,
    closed: &BTreeSet<String>,
) -> BTreeSet<Leaf> {
    let Definition::Enum(e) = &model.definition else {
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
            Some(model) => match (&model.kind, &model.definition) {
                (Kind::Object, _) => false,
                (Kind::ClosedEnum, _) => true,
                (Kind::Untagged, Definition::Enum(e)) => e
                    .variants
                    .iter()
                    .any(|v| fields_take_string(&v.fields, models, depth + 1)),
                (_, Definition::Struct(s)) => fields_take_string(&s.fields, models, depth + 1),
                (_, Definition::Alias(t)) => type_takes_string(&t.ty, models, depth + 1),
                _ => true,
            },
            None => true,
        },
    }
}
