//! The one reader of progenitor's output.
//!
//! progenitor 0.15 writes the client as one file: an `impl Client` whose
//! methods start a builder (`fn get_file(&self) -> builder::GetFile<'_>`), a
//! `builder` module with one struct per operation (fields, a setter per
//! field, `send()`), and a `types` module with the models (structs, enums,
//! aliases, their `impl`s, a `types::builder` module of struct builders and
//! a `types::defaults` module of default-value functions).
//!
//! This module is the only code that knows that layout. [`read`] turns a
//! generated file into a [`Shape`]: every operation's builder with its
//! fields, setters and `send()` types, and every model with its kind. The
//! passes that change the file (the send rewrite, the lenient pass, the
//! setter docs, the redacted `Debug`) reach the items they change through
//! the `*_mut` functions here, and `cargo xtask api` renders `API.md` from
//! the same [`Shape`]. A progenitor that lays its output out differently
//! fails here, with the item it did not find.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit_mut::VisitMut;
use syn::{ImplItem, ImplItemFn, Item, Type};

use super::SpecError;

/// The generated client, read.
#[derive(Clone)]
pub struct Shape {
    /// Each method of `Client` that starts a builder: its name, and the
    /// method identifier with the builder struct's name.
    pub starts: BTreeMap<String, (syn::Ident, String)>,
    /// The builder structs of the `builder` module, by name.
    pub builders: BTreeMap<String, BuilderShape>,
    /// The public models of the `types` module, by name.
    pub models: BTreeMap<String, Model>,
}

/// One builder struct of the `builder` module.
#[derive(Clone, Default)]
pub struct BuilderShape {
    /// Its named fields other than the `&Client`, in order.
    pub fields: Vec<syn::Ident>,
    /// Its setters in source order: the methods that take
    /// `V: TryInto<T>`, `body` included.
    pub setters: Vec<Setter>,
    /// The setters that also have a `<name>_map` (a body built in place).
    pub mapped: Vec<String>,
    /// Its `send()`, when it has one.
    pub send: Option<SendMethod>,
}

/// A setter of a builder.
#[derive(Clone)]
pub struct Setter {
    /// The method, named as the field it sets.
    pub ident: syn::Ident,
    /// `T` in `V: TryInto<T>`, with paths relative to the `builder` module
    /// made relative to its parent (`super::types::X` is `types::X`).
    pub target: Type,
}

/// The types of a builder's `send()`.
#[derive(Clone)]
pub struct SendMethod {
    /// What it returns, `Result<..>` as written.
    pub output: Type,
}

impl SendMethod {
    /// `T` in `Result<ResponseValue<T>, _>` (as progenitor writes it) or in
    /// `Result<crate::runtime::Response<T>, _>` (after the send rewrite).
    pub fn success(&self) -> Option<&Type> {
        let value = type_argument(&self.output, "Result", 0)?;
        type_argument(value, "ResponseValue", 0).or_else(|| type_argument(value, "Response", 0))
    }

    /// The success and error types of the `Result`.
    #[allow(
        dead_code,
        reason = "read by `cargo xtask api`, not by the build script"
    )]
    pub fn result(&self) -> Option<(&Type, &Type)> {
        Some((
            type_argument(&self.output, "Result", 0)?,
            type_argument(&self.output, "Result", 1)?,
        ))
    }
}

/// What typify made of a schema, as far as the passes need to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// An enum whose variants are all unit variants (a string enum).
    ClosedEnum,
    /// A `#[serde(untagged)]` enum with payloads (`anyOf`/`oneOf`).
    Untagged,
    /// A struct with named fields (a JSON object).
    Object,
    /// Anything else: a newtype, an alias, a tagged enum.
    Other,
}

/// A model's definition.
#[derive(Clone)]
pub enum Definition {
    /// A struct.
    Struct(syn::ItemStruct),
    /// An enum.
    Enum(syn::ItemEnum),
    /// A type alias.
    Alias(syn::ItemType),
}

/// One model of the `types` module.
#[derive(Clone)]
pub struct Model {
    /// Its kind.
    pub kind: ModelKind,
    /// Whether it is `pub`.
    pub public: bool,
    /// Its definition, as read.
    pub definition: Definition,
}

impl Model {
    /// The definition as an item, for visitors.
    pub fn item(&self) -> Item {
        match &self.definition {
            Definition::Struct(s) => Item::Struct(s.clone()),
            Definition::Enum(e) => Item::Enum(e.clone()),
            Definition::Alias(t) => Item::Type(t.clone()),
        }
    }

    /// The type of its named field `name`.
    pub fn field(&self, name: &str) -> Option<&Type> {
        let Definition::Struct(s) = &self.definition else {
            return None;
        };
        s.fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
            .map(|f| &f.ty)
    }
}

// syn's types implement `Debug` only with its `extra-traits` feature, which
// this crate does not ask for (it slows every build of probe-api): the
// shapes show names, as source text where they hold types.
impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shape")
            .field(
                "starts",
                &self
                    .starts
                    .iter()
                    .map(|(m, (_, b))| (m, b))
                    .collect::<Vec<_>>(),
            )
            .field("builders", &self.builders)
            .field("models", &self.models)
            .finish()
    }
}

impl std::fmt::Debug for BuilderShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuilderShape")
            .field(
                "fields",
                &self
                    .fields
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
            .field("setters", &self.setters)
            .field("mapped", &self.mapped)
            .field("send", &self.send)
            .finish()
    }
}

impl std::fmt::Debug for Setter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setter")
            .field("ident", &self.ident.to_string())
            .field("target", &tokens(&self.target))
            .finish()
    }
}

impl std::fmt::Debug for SendMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendMethod")
            .field("output", &tokens(&self.output))
            .finish()
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("kind", &self.kind)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, name) = match self {
            Definition::Struct(s) => ("Struct", &s.ident),
            Definition::Enum(e) => ("Enum", &e.ident),
            Definition::Alias(t) => ("Alias", &t.ident),
        };
        f.debug_tuple(what).field(&name.to_string()).finish()
    }
}

impl std::fmt::Debug for TypeItem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeItem::Model { name, .. } => f.debug_tuple("Model").field(name).finish(),
            TypeItem::Impl { owner, .. } => f.debug_tuple("Impl").field(owner).finish(),
            TypeItem::StructBuilder { owner, .. } => {
                f.debug_tuple("StructBuilder").field(owner).finish()
            }
            TypeItem::Default { name, .. } => f.debug_tuple("Default").field(name).finish(),
        }
    }
}

fn tokens(ty: &Type) -> String {
    quote::ToTokens::to_token_stream(ty).to_string()
}

/// An error for a generated file this module cannot read.
pub fn unexpected(reason: impl std::fmt::Display) -> SpecError {
    SpecError::new(
        "#",
        format!(
            "the generated client has an unexpected shape ({reason}); codegen/shape.rs must be updated for this progenitor version"
        ),
    )
}

/// Reads the generated file.
///
/// # Errors
///
/// No `impl Client` method that starts a builder, or no `builder` module.
pub fn read(file: &syn::File) -> Result<Shape, SpecError> {
    let mut starts = BTreeMap::new();
    for method in client_methods(file) {
        let syn::ReturnType::Type(_, output) = &method.sig.output else {
            continue;
        };
        if let Type::Path(path) = output.as_ref()
            && path.qself.is_none()
            && path.path.segments.len() == 2
            && path.path.segments[0].ident == "builder"
        {
            let name = path.path.segments[1].ident.to_string();
            starts.insert(
                method.sig.ident.to_string(),
                (method.sig.ident.clone(), name),
            );
        }
    }
    if starts.is_empty() {
        return Err(unexpected("no `impl Client` method returns a builder"));
    }
    let builder_items =
        module(&file.items, "builder").ok_or_else(|| unexpected("no `builder` module"))?;
    let mut builders: BTreeMap<String, BuilderShape> = BTreeMap::new();
    for item in builder_items {
        match item {
            Item::Struct(s) => {
                builders.entry(s.ident.to_string()).or_default().fields = s
                    .fields
                    .iter()
                    .filter(|f| !matches!(f.ty, Type::Reference(_)))
                    .filter_map(|f| f.ident.clone())
                    .collect();
            }
            Item::Impl(block) if block.trait_.is_none() => {
                let Some(owner) = last_ident(&block.self_ty) else {
                    continue;
                };
                let builder = builders.entry(owner.to_string()).or_default();
                for method in methods(block) {
                    let ident = method.sig.ident.to_string();
                    if ident == "send" {
                        if let syn::ReturnType::Type(_, output) = &method.sig.output {
                            builder.send = Some(SendMethod {
                                output: future_output(output).clone(),
                            });
                        }
                    } else if let Some(target) = setter_target(method) {
                        builder.setters.push(Setter {
                            ident: method.sig.ident.clone(),
                            target,
                        });
                    } else if let Some(base) = ident.strip_suffix("_map") {
                        builder.mapped.push(base.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let models = models(file);
    Ok(Shape {
        starts,
        builders,
        models,
    })
}

/// The models of the `types` module, public or not, by name.
pub fn models(file: &syn::File) -> BTreeMap<String, Model> {
    let mut models = BTreeMap::new();
    for item in module(&file.items, "types").into_iter().flatten() {
        let Some(name) = model_name(item) else {
            continue;
        };
        let (definition, public) = match item {
            Item::Struct(s) => (Definition::Struct(s.clone()), is_pub(&s.vis)),
            Item::Enum(e) => (Definition::Enum(e.clone()), is_pub(&e.vis)),
            Item::Type(t) => (Definition::Alias(t.clone()), is_pub(&t.vis)),
            _ => continue,
        };
        models.insert(
            name,
            Model {
                kind: kind(item),
                public,
                definition,
            },
        );
    }
    models
}

/// The return type of every `send()` of the `builder` module.
pub fn send_outputs(file: &syn::File) -> Vec<&Type> {
    module(&file.items, "builder")
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            Item::Impl(block) => Some(block),
            _ => None,
        })
        .flat_map(methods)
        .filter(|method| method.sig.ident == "send")
        .filter_map(|method| match &method.sig.output {
            syn::ReturnType::Type(_, output) => Some(future_output(output)),
            syn::ReturnType::Default => None,
        })
        .collect()
}

/// What a `send()` returns when awaited: `T` of `impl Future<Output = T>`
/// (a boxed send, see `rewrite::box_sends`), else the type itself (an
/// `async fn`'s).
pub fn future_output(ty: &Type) -> &Type {
    let Type::ImplTrait(bounds) = ty else {
        return ty;
    };
    bounds
        .bounds
        .iter()
        .find_map(|bound| {
            let syn::TypeParamBound::Trait(bound) = bound else {
                return None;
            };
            let last = bound.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            (last.ident == "Future").then_some(())?;
            args.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::AssocType(output) if output.ident == "Output" => {
                    Some(&output.ty)
                }
                _ => None,
            })
        })
        .unwrap_or(ty)
}

impl Shape {
    /// The builder `Client::<method>()` starts, with its name.
    pub fn builder_of(&self, method: &str) -> Option<(&syn::Ident, &str, &BuilderShape)> {
        let (ident, name) = self.starts.get(method)?;
        Some((ident, name, self.builders.get(name)?))
    }
}

/// Every `send()` of the `builder` module, with the builder it belongs to.
///
/// # Errors
///
/// No `builder` module, or no `send()` in it.
pub fn sends_mut(file: &mut syn::File) -> Result<Vec<(String, &mut ImplItemFn)>, SpecError> {
    let module =
        module_mut(&mut file.items, "builder").ok_or_else(|| unexpected("no `builder` module"))?;
    let mut out = Vec::new();
    for item in module.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let owner = last_ident(&block.self_ty)
            .map(ToString::to_string)
            .unwrap_or_default();
        for impl_item in &mut block.items {
            if let ImplItem::Fn(method) = impl_item
                && method.sig.ident == "send"
            {
                out.push((owner.clone(), method));
            }
        }
    }
    if out.is_empty() {
        return Err(unexpected("no `send` methods in the `builder` module"));
    }
    Ok(out)
}

/// The inherent methods of the builder struct `name`.
pub fn builder_methods_mut<'f>(file: &'f mut syn::File, name: &str) -> Vec<&'f mut ImplItemFn> {
    let Some(module) = module_mut(&mut file.items, "builder") else {
        return Vec::new();
    };
    module
        .iter_mut()
        .filter_map(|item| match item {
            Item::Impl(block)
                if block.trait_.is_none()
                    && last_ident(&block.self_ty).is_some_and(|i| i == name) =>
            {
                Some(block)
            }
            _ => None,
        })
        .flat_map(|block| block.items.iter_mut())
        .filter_map(|item| match item {
            ImplItem::Fn(method) => Some(method),
            _ => None,
        })
        .collect()
}

/// The builder struct `name`.
///
/// # Errors
///
/// No `builder` module or no such struct in it.
pub fn builder_struct_mut<'f>(
    file: &'f mut syn::File,
    name: &str,
) -> Result<&'f mut syn::ItemStruct, SpecError> {
    module_mut(&mut file.items, "builder")
        .ok_or_else(|| unexpected("no `builder` module"))?
        .iter_mut()
        .find_map(|item| match item {
            Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        })
        .ok_or_else(|| unexpected(format!("no struct `builder::{name}`")))
}

/// Adds an `impl` (of a builder) to the `builder` module.
///
/// # Errors
///
/// No `builder` module.
pub fn push_to_builders(file: &mut syn::File, block: syn::ItemImpl) -> Result<(), SpecError> {
    module_mut(&mut file.items, "builder")
        .ok_or_else(|| unexpected("no `builder` module"))?
        .push(Item::Impl(block));
    Ok(())
}

/// progenitor's public re-exports of its own crate (`pub use
/// progenitor_client::{..}`).
pub fn generator_reexports_mut(file: &mut syn::File) -> Vec<&mut syn::ItemUse> {
    file.items
        .iter_mut()
        .filter_map(|item| match item {
            Item::Use(import)
                if is_pub(&import.vis)
                    && matches!(&import.tree, syn::UseTree::Path(p) if p.ident == "progenitor_client") =>
            {
                Some(import)
            }
            _ => None,
        })
        .collect()
}

/// The constructors of `Client` that take the inner state as it is
/// (`new`, `new_with_client`).
pub fn client_constructors_mut(file: &mut syn::File) -> Vec<&mut ImplItemFn> {
    client_blocks_mut(file)
        .flat_map(|block| block.items.iter_mut())
        .filter_map(|item| match item {
            ImplItem::Fn(f) if f.sig.ident == "new" || f.sig.ident == "new_with_client" => Some(f),
            _ => None,
        })
        .collect()
}

/// An item of the `types` module as the lenient pass changes it.
pub enum TypeItem<'f> {
    /// A model's definition.
    Model {
        /// The model.
        name: String,
        /// Its definition.
        item: &'f mut Item,
    },
    /// An `impl` in the `types` module or in `types::builder`, with the
    /// model it belongs to (its self type, or the model among a conversion's
    /// trait arguments).
    Impl {
        /// The model, when one of `models`.
        owner: Option<String>,
        /// Whether it implements `FromStr`.
        from_str: bool,
        /// The whole `impl` item.
        item: &'f mut Item,
    },
    /// A struct builder of `types::builder`, by the model it builds.
    StructBuilder {
        /// The model.
        owner: String,
        /// The builder struct.
        item: &'f mut Item,
    },
    /// A function of `types::defaults`.
    Default {
        /// Its name.
        name: String,
        /// The function.
        function: &'f mut syn::ItemFn,
    },
}

/// Every item of the `types` module, its `builder` and `defaults`
/// modules, classified; `models` names the models whose `impl`s are told
/// apart.
pub fn type_items_mut<'f>(file: &'f mut syn::File, models: &BTreeSet<String>) -> Vec<TypeItem<'f>> {
    let Some(types) = module_mut(&mut file.items, "types") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in types.iter_mut() {
        let submodule = match &*item {
            Item::Mod(m) if m.ident == "builder" || m.ident == "defaults" => {
                Some(m.ident == "defaults")
            }
            _ => None,
        };
        let Some(defaults) = submodule else {
            out.push(classify_model(item, models));
            continue;
        };
        let Item::Mod(m) = item else { continue };
        for inner in m.content.iter_mut().flat_map(|(_, items)| items.iter_mut()) {
            if !defaults {
                out.push(classify(inner, models));
            } else if let Item::Fn(function) = inner {
                out.push(TypeItem::Default {
                    name: function.sig.ident.to_string(),
                    function,
                });
            }
        }
    }
    out
}

fn classify_model<'f>(item: &'f mut Item, models: &BTreeSet<String>) -> TypeItem<'f> {
    match model_name(item) {
        Some(name) => TypeItem::Model { name, item },
        None => impl_item(item, models),
    }
}

fn classify<'f>(item: &'f mut Item, models: &BTreeSet<String>) -> TypeItem<'f> {
    match model_name(item) {
        Some(owner) => TypeItem::StructBuilder { owner, item },
        None => impl_item(item, models),
    }
}

fn impl_item<'f>(item: &'f mut Item, models: &BTreeSet<String>) -> TypeItem<'f> {
    let (owner, from_str) = match &*item {
        Item::Impl(block) => (
            impl_owner(block, models),
            block.trait_.as_ref().is_some_and(|(_, path, _)| {
                path.segments.last().is_some_and(|s| s.ident == "FromStr")
            }),
        ),
        _ => (None, false),
    };
    TypeItem::Impl {
        owner,
        from_str,
        item,
    }
}

/// The attributes of a model's definition (struct or enum).
pub fn model_attrs_mut(item: &mut Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        Item::Struct(s) => Some(&mut s.attrs),
        Item::Enum(e) => Some(&mut e.attrs),
        _ => None,
    }
}

/// The attributes of the named field `field` of a model's struct.
pub fn field_attrs_mut<'f>(item: &'f mut Item, field: &str) -> Option<&'f mut Vec<syn::Attribute>> {
    let Item::Struct(s) = item else {
        return None;
    };
    s.fields
        .iter_mut()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == field))
        .map(|f| &mut f.attrs)
}

/// The attributes of an item.
pub fn attrs_mut(item: &mut Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        Item::Struct(s) => Some(&mut s.attrs),
        Item::Enum(e) => Some(&mut e.attrs),
        Item::Impl(i) => Some(&mut i.attrs),
        Item::Type(t) => Some(&mut t.attrs),
        Item::Fn(f) => Some(&mut f.attrs),
        _ => None,
    }
}

/// `T` in a send's `Result<ResponseValue<T>, _>`, to change in place.
pub fn success_mut(output: &mut Type) -> Option<&mut Type> {
    let value = type_argument_mut(output, "Result")?;
    type_argument_mut(value, "ResponseValue")
}

/// The model an `impl` belongs to: its self type, or for a conversion such
/// as `impl From<X> for Option<Y>`, the model among the trait's arguments.
fn impl_owner(block: &syn::ItemImpl, models: &BTreeSet<String>) -> Option<String> {
    if let Some(last) = last_ident(&block.self_ty)
        && models.contains(&last.to_string())
    {
        return Some(last.to_string());
    }
    let (_, trait_path, _) = block.trait_.as_ref()?;
    let syn::PathArguments::AngleBracketed(args) = &trait_path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| {
        let syn::GenericArgument::Type(ty) = arg else {
            return None;
        };
        let ty = match ty {
            Type::Reference(r) => r.elem.as_ref(),
            other => other,
        };
        last_ident(ty)
            .map(ToString::to_string)
            .filter(|name| models.contains(name))
    })
}

fn kind(item: &Item) -> ModelKind {
    match item {
        Item::Enum(e)
            if e.variants
                .iter()
                .all(|v| matches!(v.fields, syn::Fields::Unit)) =>
        {
            ModelKind::ClosedEnum
        }
        Item::Enum(e) if serde_flag(&e.attrs, "untagged") => ModelKind::Untagged,
        Item::Struct(s) if matches!(s.fields, syn::Fields::Named(_)) => ModelKind::Object,
        _ => ModelKind::Other,
    }
}

/// Whether `#[serde(..)]` among `attrs` holds the bare flag `flag`.
pub fn serde_flag(attrs: &[syn::Attribute], flag: &str) -> bool {
    attrs.iter().any(|attr| {
        serde_metas(attr).is_some_and(|metas| {
            metas
                .iter()
                .any(|m| matches!(m, syn::Meta::Path(p) if p.is_ident(flag)))
        })
    })
}

/// The settings of a `#[serde(..)]` attribute; `None` for any other.
pub fn serde_metas(
    attr: &syn::Attribute,
) -> Option<syn::punctuated::Punctuated<syn::Meta, syn::Token![,]>> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    attr.parse_args_with(syn::punctuated::Punctuated::parse_terminated)
        .ok()
}

fn model_name(item: &Item) -> Option<String> {
    match item {
        Item::Struct(s) => Some(s.ident.to_string()),
        Item::Enum(e) => Some(e.ident.to_string()),
        Item::Type(t) => Some(t.ident.to_string()),
        _ => None,
    }
}

fn module<'f>(items: &'f [Item], name: &str) -> Option<&'f Vec<Item>> {
    items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

fn module_mut<'f>(items: &'f mut [Item], name: &str) -> Option<&'f mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

fn client_methods(file: &syn::File) -> impl Iterator<Item = &ImplItemFn> {
    file.items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(block)
                if block.trait_.is_none()
                    && last_ident(&block.self_ty).is_some_and(|i| i == "Client") =>
            {
                Some(block)
            }
            _ => None,
        })
        .flat_map(methods)
}

fn client_blocks_mut(file: &mut syn::File) -> impl Iterator<Item = &mut syn::ItemImpl> {
    file.items.iter_mut().filter_map(|item| match item {
        Item::Impl(block)
            if block.trait_.is_none()
                && last_ident(&block.self_ty).is_some_and(|i| i == "Client") =>
        {
            Some(block)
        }
        _ => None,
    })
}

fn methods(block: &syn::ItemImpl) -> impl Iterator<Item = &ImplItemFn> {
    block.items.iter().filter_map(|item| match item {
        ImplItem::Fn(method) => Some(method),
        _ => None,
    })
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// The last identifier of a path type: `GetFile` for `builder::GetFile<'a>`.
pub fn last_ident(ty: &Type) -> Option<&syn::Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The type arguments of a path type's last segment: `T` and `E` of
/// `Result<T, E>`.
pub fn type_arguments(ty: &Type) -> impl Iterator<Item = &Type> {
    let arguments = match ty {
        Type::Path(path) => path.path.segments.last().map(|s| &s.arguments),
        _ => None,
    };
    let list = match arguments {
        Some(syn::PathArguments::AngleBracketed(args)) => Some(args.args.iter()),
        _ => None,
    };
    list.into_iter().flatten().filter_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The `index`th type argument of a path type whose last segment is `name`:
/// `T` for `Result<T, E>` and index 0.
pub fn type_argument<'t>(ty: &'t Type, name: &str, index: usize) -> Option<&'t Type> {
    last_ident(ty).filter(|i| *i == name)?;
    type_arguments(ty).nth(index)
}

fn type_argument_mut<'t>(ty: &'t mut Type, name: &str) -> Option<&'t mut Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last_mut()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return None;
    };
    args.args.iter_mut().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `T` in `fn x<V>(mut self, value: V) -> Self where V: TryInto<T>`, with
/// paths relative to the `builder` module made relative to its parent.
fn setter_target(method: &ImplItemFn) -> Option<Type> {
    let generics = &method.sig.generics;
    let param = generics.type_params().next()?;
    let in_where = generics
        .where_clause
        .iter()
        .flat_map(|w| w.predicates.iter())
        .filter_map(|p| match p {
            syn::WherePredicate::Type(t) if last_ident(&t.bounded_ty) == Some(&param.ident) => {
                Some(t.bounds.iter())
            }
            _ => None,
        })
        .flatten();
    let mut found = param.bounds.iter().chain(in_where).find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        if segment.ident != "TryInto" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
    })?;
    OutOfBuilderModule.visit_type_mut(&mut found);
    Some(found)
}

/// Rewrites `super::X` (the `builder` module's parent) to `X`, for code
/// written next to the `builder` module.
struct OutOfBuilderModule;

impl VisitMut for OutOfBuilderModule {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none()
            && path.segments.len() > 1
            && path.segments.first().is_some_and(|s| s.ident == "super")
        {
            path.segments = std::mem::take(&mut path.segments)
                .into_iter()
                .skip(1)
                .collect();
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}
