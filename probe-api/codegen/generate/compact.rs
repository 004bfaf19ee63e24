//! Builders that hold each parameter as the value it converted to.
//!
//! progenitor keeps every parameter of a builder as the outcome of its
//! conversion, `Result<Option<T>, String>` (`Result<T, String>` when
//! required), so a builder is 24 bytes or more per parameter whatever it
//! holds: the file probes' 49 parameters make 1.2 KB, which every setter
//! call moves and `send()` moves into its future, and `new()` allocates the
//! "was not initialized" message of each required parameter.
//!
//! This pass keeps each such parameter as `Option<T>` and one bit per
//! parameter for a value that did not convert. `send()` refuses the call as
//! before: with the message of the first parameter, in declaration order,
//! whose value did not convert or that is required and missing (a later
//! valid value of a parameter clears its bit, as it replaced the error).
//! A parameter whose setter, initial value or check in `send()` is not in
//! the shape progenitor 0.15 writes is left as it is.

use syn::{Expr, Stmt, parse_quote};

use super::{Builder, Parameter};
use crate::codegen::SpecError;
use crate::codegen::shape::{self, last_ident};

/// The field that holds the failed-conversion bits.
pub const BITS: &str = "conversion_failures";

/// One parameter kept as `Option<T>`.
struct Compacted {
    field: syn::Ident,
    /// `T` of the new `Option<T>` field.
    value: syn::Type,
    /// Its bit in [`BITS`].
    bit: u32,
    /// The message of a value that does not convert.
    unconverted: syn::LitStr,
    /// For a required parameter, the message when it was never set.
    missing: Option<syn::LitStr>,
}

/// Compacts the parameters of every builder; the number of builders
/// changed.
///
/// # Errors
///
/// No `builder` module.
pub fn compact_builders(file: &mut syn::File, builders: &[Builder]) -> Result<usize, SpecError> {
    let names: Vec<String> = shape::builder_structs(file)?
        .map(|s| s.ident.to_string())
        .collect();
    let mut changed = 0;
    for name in names {
        let parameters = builders
            .iter()
            .find(|b| b.name == name)
            .map_or(&[][..], |b| &b.parameters[..]);
        let plan = plan(file, &name, parameters)?;
        if plan.is_empty() {
            continue;
        }
        apply(file, &name, &plan)?;
        changed += 1;
    }
    Ok(changed)
}

/// The parameters of builder `name` that can be compacted.
fn plan(
    file: &mut syn::File,
    name: &str,
    parameters: &[Parameter],
) -> Result<Vec<Compacted>, SpecError> {
    let item = shape::builder_struct_mut(file, name)?;
    let fields: Vec<(syn::Ident, syn::Type)> = item
        .fields
        .iter()
        .filter_map(|f| Some((f.ident.clone()?, f.ty.clone())))
        .collect();
    if fields.iter().any(|(f, _)| f == BITS) {
        return Ok(Vec::new());
    }
    let methods = shape::builder_methods_mut(file, name);
    let find = |method: &str| methods.iter().find(|m| m.sig.ident == method);
    let (Some(new), Some(send)) = (find("new"), find("send")) else {
        return Ok(Vec::new());
    };
    let mut plan = Vec::new();
    for (field, ty) in fields {
        if plan.len() == 128 {
            break;
        }
        let Some(converted) = result_of_string_error(&ty) else {
            continue;
        };
        let (value, required) = match option_of(converted) {
            Some(inner) => (inner.clone(), false),
            None => (converted.clone(), true),
        };
        let Some(setter) = find(&field.to_string()) else {
            continue;
        };
        let Some(unconverted) = setter_message(setter, &field, required) else {
            continue;
        };
        let missing = match initial_value(new, &field) {
            Some(Initial::Unset) if !required => None,
            // progenitor's "session_id was not initialized" names the
            // field; the parameter's own name is what the caller knows.
            Some(Initial::Missing(message)) if required => {
                Some(match parameters.iter().find(|p| p.setter == field) {
                    Some(p) => syn::LitStr::new(
                        &format!("the parameter `{}` is required and was not set", p.name),
                        message.span(),
                    ),
                    None => message,
                })
            }
            _ => continue,
        };
        let others = methods
            .iter()
            .filter(|m| m.sig.ident != "new" && m.sig.ident != "send" && m.sig.ident != field);
        if others.clone().any(|m| mentions(&m.block, &field)) || check_of(send, &field).is_none() {
            continue;
        }
        plan.push(Compacted {
            field,
            value,
            bit: plan.len() as u32,
            unconverted,
            missing,
        });
    }
    Ok(plan)
}

/// Rewrites builder `name` for `plan`: its fields, `new()`, the setters and
/// the checks in `send()`.
fn apply(file: &mut syn::File, name: &str, plan: &[Compacted]) -> Result<(), SpecError> {
    let bits = syn::Ident::new(BITS, proc_macro2::Span::call_site());
    let word: syn::Type = if plan.len() <= 64 {
        parse_quote!(u64)
    } else {
        parse_quote!(u128)
    };
    let suffix = if plan.len() <= 64 { "u64" } else { "u128" };
    let mask = |bits: u128| {
        syn::LitInt::new(
            &format!("{bits:#x}{suffix}"),
            proc_macro2::Span::call_site(),
        )
    };

    let item = shape::builder_struct_mut(file, name)?;
    let syn::Fields::Named(named) = &mut item.fields else {
        return Err(shape::unexpected(format!(
            "`builder::{name}` has no named fields"
        )));
    };
    for field in named.named.iter_mut() {
        if let Some(c) = plan.iter().find(|c| field.ident.as_ref() == Some(&c.field)) {
            let value = &c.value;
            field.ty = parse_quote!(::std::option::Option<#value>);
        }
    }
    named.named.push(parse_quote!(#bits: #word));

    let messages = plan.iter().map(|c| {
        let unconverted = &c.unconverted;
        let missing = c
            .missing
            .clone()
            .unwrap_or_else(|| syn::LitStr::new("", unconverted.span()));
        quote::quote!((#unconverted, #missing))
    });
    let messages: Expr = parse_quote!(&[#(#messages),*]);

    for method in shape::builder_methods_mut(file, name) {
        let ident = method.sig.ident.to_string();
        if ident == "new" {
            rewrite_new(method, plan, &bits)?;
        } else if ident == "send" {
            rewrite_send(method, plan, &bits, &mask, &messages)?;
        } else if let Some(c) = plan.iter().find(|c| c.field == ident) {
            let field = &c.field;
            let bit = mask(1 << c.bit);
            method.block.stmts = parse_quote! {
                match value.try_into() {
                    Ok(value) => {
                        self.#field = Some(value);
                        self.#bits &= !#bit;
                    }
                    Err(_) => {
                        self.#field = None;
                        self.#bits |= #bit;
                    }
                }
                self
            };
        }
    }
    Ok(())
}

fn rewrite_new(
    method: &mut syn::ImplItemFn,
    plan: &[Compacted],
    bits: &syn::Ident,
) -> Result<(), SpecError> {
    let Some(Stmt::Expr(Expr::Struct(init), None)) = method.block.stmts.last_mut() else {
        return Err(shape::unexpected(
            "a builder's `new` does not end in `Self { .. }`",
        ));
    };
    for value in init.fields.iter_mut() {
        if let syn::Member::Named(field) = &value.member
            && plan.iter().any(|c| &c.field == field)
        {
            value.expr = parse_quote!(None);
        }
    }
    init.fields.push(parse_quote!(#bits: 0));
    Ok(())
}

/// `send()` checks the parameters of each run of compacted ones at once:
/// the first that failed or is missing refuses the call, as progenitor's
/// checks one by one did.
fn rewrite_send(
    method: &mut syn::ImplItemFn,
    plan: &[Compacted],
    bits: &syn::Ident,
    mask: &dyn Fn(u128) -> syn::LitInt,
    messages: &Expr,
) -> Result<(), SpecError> {
    let stmts = std::mem::take(&mut method.block.stmts);
    let mut out: Vec<Stmt> = Vec::with_capacity(stmts.len());
    let mut run: Vec<(&Compacted, Expr)> = Vec::new();
    let flush = |out: &mut Vec<Stmt>, run: &mut Vec<(&Compacted, Expr)>| {
        let Some((_, refuse)) = run.first().cloned() else {
            return;
        };
        let failed = mask(
            run.iter()
                .map(|(c, _)| 1u128 << c.bit)
                .fold(0, |a, b| a | b),
        );
        let missing: Vec<_> = run
            .iter()
            .filter(|(c, _)| c.missing.is_some())
            .map(|(c, _)| {
                let field = &c.field;
                let bit = mask(1 << c.bit);
                quote::quote!(if #field.is_none() { #bit } else { 0 })
            })
            .collect();
        out.push(if missing.is_empty() {
            parse_quote!(let problems = #bits & #failed;)
        } else {
            parse_quote!(let problems = (#bits & #failed) #(| #missing)*;)
        });
        out.push(parse_quote! {
            if problems != 0 {
                return Err((#refuse)(crate::runtime::parameter_problem(
                    problems.into(),
                    #bits.into(),
                    #messages,
                )));
            }
        });
        for (c, refuse) in run.drain(..) {
            if let Some(message) = &c.missing {
                let field = &c.field;
                out.push(parse_quote! {
                    let Some(#field) = #field else {
                        return Err((#refuse)(#message.to_string()));
                    };
                });
            }
        }
    };
    let mut destructured = false;
    for mut stmt in stmts {
        if !destructured
            && let Stmt::Local(local) = &mut stmt
            && let syn::Pat::Struct(pattern) = &mut local.pat
            && pattern.path.is_ident("Self")
        {
            pattern.fields.push(syn::FieldPat {
                attrs: Vec::new(),
                member: syn::Member::Named(bits.clone()),
                colon_token: None,
                pat: Box::new(parse_quote!(#bits)),
            });
            destructured = true;
            out.push(stmt);
            continue;
        }
        if let Some((c, refuse)) = plan
            .iter()
            .find_map(|c| Some((c, check_in(&stmt, &c.field)?)))
        {
            run.push((c, refuse));
            continue;
        }
        flush(&mut out, &mut run);
        out.push(stmt);
    }
    flush(&mut out, &mut run);
    if !destructured {
        return Err(shape::unexpected(
            "a builder's `send` does not start with `let Self { .. } = self`",
        ));
    }
    method.block.stmts = out;
    Ok(())
}

/// `T` of `Result<T, String>`.
fn result_of_string_error(ty: &syn::Type) -> Option<&syn::Type> {
    let args = generic_arguments(ty, "Result")?;
    match (args.first(), args.get(1)) {
        (Some(value), Some(error)) if last_ident(error).is_some_and(|i| i == "String") => {
            Some(value)
        }
        _ => None,
    }
}

/// `T` of `Option<T>`.
fn option_of(ty: &syn::Type) -> Option<&syn::Type> {
    match generic_arguments(ty, "Option")?[..] {
        [inner] => Some(inner),
        _ => None,
    }
}

fn generic_arguments<'t>(ty: &'t syn::Type, name: &str) -> Option<Vec<&'t syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// The message of a setter `self.F = value.try_into()[.map(Some)].map_err(|_| "..".to_string()); self`.
fn setter_message(
    setter: &syn::ImplItemFn,
    field: &syn::Ident,
    required: bool,
) -> Option<syn::LitStr> {
    let [
        Stmt::Expr(Expr::Assign(assign), Some(_)),
        Stmt::Expr(Expr::Path(returned), None),
    ] = &setter.block.stmts[..]
    else {
        return None;
    };
    if !returned.path.is_ident("self") || !is_self_field(&assign.left, field) {
        return None;
    }
    let Expr::MethodCall(map_err) = assign.right.as_ref() else {
        return None;
    };
    let converted = if required {
        map_err.receiver.as_ref()
    } else {
        let Expr::MethodCall(map) = map_err.receiver.as_ref() else {
            return None;
        };
        let [Expr::Path(some)] = &map.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        if map.method != "map" || !some.path.is_ident("Some") {
            return None;
        }
        map.receiver.as_ref()
    };
    let Expr::MethodCall(try_into) = converted else {
        return None;
    };
    if map_err.method != "map_err"
        || try_into.method != "try_into"
        || !try_into.args.is_empty()
        || !matches!(try_into.receiver.as_ref(), Expr::Path(p) if p.path.is_ident("value"))
    {
        return None;
    }
    let [Expr::Closure(closure)] = &map_err.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if !matches!(
        &closure.inputs.iter().collect::<Vec<_>>()[..],
        [syn::Pat::Wild(_)]
    ) {
        return None;
    }
    to_string_of(&closure.body)
}

/// `"..".to_string()`, alone or as the one expression of a block.
fn to_string_of(expr: &Expr) -> Option<syn::LitStr> {
    let expr = match expr {
        Expr::Block(block) => match &block.block.stmts[..] {
            [Stmt::Expr(inner, None)] => inner,
            _ => return None,
        },
        other => other,
    };
    let Expr::MethodCall(call) = expr else {
        return None;
    };
    match call.receiver.as_ref() {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) if call.method == "to_string" && call.args.is_empty() => Some(text.clone()),
        _ => None,
    }
}

fn is_self_field(expr: &Expr, field: &syn::Ident) -> bool {
    matches!(expr, Expr::Field(f)
        if matches!(f.base.as_ref(), Expr::Path(p) if p.path.is_ident("self"))
            && matches!(&f.member, syn::Member::Named(m) if m == field))
}

/// What `new()` starts a parameter with.
enum Initial {
    /// `Ok(None)`.
    Unset,
    /// `Err("..".to_string())`: required, with this message.
    Missing(syn::LitStr),
}

fn initial_value(new: &syn::ImplItemFn, field: &syn::Ident) -> Option<Initial> {
    let Some(Stmt::Expr(Expr::Struct(init), None)) = new.block.stmts.last() else {
        return None;
    };
    let value = init
        .fields
        .iter()
        .find(|v| matches!(&v.member, syn::Member::Named(m) if m == field))?;
    let Expr::Call(call) = &value.expr else {
        return None;
    };
    let Expr::Path(func) = call.func.as_ref() else {
        return None;
    };
    let [arg] = &call.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if func.path.is_ident("Ok") {
        matches!(arg, Expr::Path(p) if p.path.is_ident("None")).then_some(Initial::Unset)
    } else if func.path.is_ident("Err") {
        to_string_of(arg).map(Initial::Missing)
    } else {
        None
    }
}

/// The refusal of `let F = F.map_err(refuse)?;` in `send()`.
fn check_of(send: &syn::ImplItemFn, field: &syn::Ident) -> Option<Expr> {
    send.block.stmts.iter().find_map(|s| check_in(s, field))
}

fn check_in(stmt: &Stmt, field: &syn::Ident) -> Option<Expr> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(bound) = &local.pat else {
        return None;
    };
    let Expr::Try(tried) = local.init.as_ref()?.expr.as_ref() else {
        return None;
    };
    let Expr::MethodCall(call) = tried.expr.as_ref() else {
        return None;
    };
    let [refuse] = &call.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    (bound.ident == *field
        && call.method == "map_err"
        && matches!(call.receiver.as_ref(), Expr::Path(p) if p.path.is_ident(field)))
    .then(|| (*refuse).clone())
}

/// Whether `block` names `field` (as `self.field` or otherwise).
fn mentions(block: &syn::Block, field: &syn::Ident) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, field: &syn::Ident) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => ident == *field,
            proc_macro2::TokenTree::Group(group) => walk(group.stream(), field),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(block), field)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILDER: &str = r#"
        pub mod builder {
            #[derive(Debug, Clone)]
            pub struct GetThing<'a> {
                client: &'a super::Client,
                count: Result<Option<i64>, String>,
                id: Result<::uuid::Uuid, String>,
                body: Result<types::builder::Thing, String>,
            }
            impl<'a> GetThing<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self {
                        client: client,
                        count: Ok(None),
                        id: Err("id was not initialized".to_string()),
                        body: Ok(::std::default::Default::default()),
                    }
                }
                pub fn count<V>(mut self, value: V) -> Self where V: std::convert::TryInto<i64> {
                    self.count = value.try_into().map(Some).map_err(|_| "count is no i64".to_string());
                    self
                }
                pub fn id<V>(mut self, value: V) -> Self where V: std::convert::TryInto<::uuid::Uuid> {
                    self.id = value.try_into().map_err(|_| "id is no uuid".to_string());
                    self
                }
                pub fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::Thing> {
                    self.body = value.try_into().map(From::from).map_err(|s| format!("no thing: {}", s));
                    self
                }
                pub async fn send(self) -> Result<(), crate::runtime::Error> {
                    let Self { client, count, id, body } = self;
                    let count = count.map_err(|message: String| refuse(message))?;
                    let id = id.map_err(|message: String| refuse(message))?;
                    let body = body.map_err(|message: String| refuse(message))?;
                    Ok(())
                }
            }
        }
    "#;

    fn compacted() -> String {
        let mut file: syn::File = syn::parse_str(BUILDER).expect("parses");
        assert_eq!(compact_builders(&mut file, &[]).expect("compacted"), 1);
        prettyplease::unparse(&file).split_whitespace().collect()
    }

    #[test]
    fn parameters_become_options_with_a_bit_each_and_the_checks_one_test() {
        let code = compacted();
        for expected in [
            "count:::std::option::Option<i64>,",
            "id:::std::option::Option<::uuid::Uuid>,",
            "conversion_failures:u64,",
            "count:None,id:None,body:Ok(::std::default::Default::default()),conversion_failures:0,",
            "Ok(value)=>{self.count=Some(value);self.conversion_failures&=!0x1u64;}",
            "Err(_)=>{self.id=None;self.conversion_failures|=0x2u64;}",
            "letSelf{client,count,id,body,conversion_failures}=self;",
            "letproblems=(conversion_failures&0x3u64)|if id.is_none(){0x2u64}else{0};",
            r#"&[("countisnoi64",""),("idisnouuid","idwasnotinitialized"),]"#,
            "letSome(id)=idelse{",
        ] {
            let expected: String = expected.split_whitespace().collect();
            assert!(code.contains(&expected), "{expected}\n{code}");
        }
    }

    #[test]
    fn a_field_in_another_shape_is_left_as_progenitor_wrote_it() {
        let code = compacted();
        // The body's setter formats its message: it keeps its `Result` and check.
        assert!(
            code.contains("body:Result<types::builder::Thing,String>,"),
            "{code}"
        );
        assert!(
            code.contains("letbody=body.map_err(|message:String|refuse(message))?;"),
            "{code}"
        );
        assert!(
            code.contains("self.body=value.try_into().map(From::from)"),
            "{code}"
        );
    }
}
