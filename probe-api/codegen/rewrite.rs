//! Routes every generated `send()` through the hand-written layer.
//!
//! progenitor's `send()` methods run the hooks `pre`, `exec` and `post`, then
//! turn the response into `Result<ResponseValue<T>, progenitor_client::Error<E>>`,
//! with a different `E` per operation and no room for what users need from a
//! failure (status with a decode error, request id, attempts, the JSON path
//! that failed). This pass rewrites each `send()` so that:
//!
//! - the request goes through `crate::runtime::execute` (credentials,
//!   cookies, timeouts, retries, tracing) instead of the three hooks;
//! - success bodies are decoded by `crate::runtime::decode_response` (204s
//!   become `crate::runtime::empty_response`), from the `crate::transport::Answer`
//!   the transport returns;
//! - every failure is the one public `crate::runtime::Error`;
//! - the query parameters are appended to the URL in one edit
//!   (`crate::runtime::append_query`) rather than one `query()` call each.
//!
//! The pass knows the exact statements progenitor 0.15 writes. Anything it
//! does not recognise is an error naming the method, so a progenitor upgrade
//! that changes them fails the build instead of silently bypassing the layer.

use std::collections::{BTreeMap, BTreeSet};
use syn::visit_mut::VisitMut;

use syn::{Expr, Stmt, parse_quote};

use super::{SpecError, shape};

/// Keeps progenitor's own items out of the public API: its re-exports
/// (`ResponseValue`, `ByteStream`, `ClientInfo`, its `Error`) become private
/// imports, and `Client::new`/`new_with_client`, which take the client
/// layer's state unchecked, become `pub(crate)` (users build clients with
/// `Client::builder()`).
pub fn hide_generator_items(file: &mut syn::File) -> Result<(), SpecError> {
    let mut hidden = 0;
    for import in shape::generator_reexports_mut(file) {
        import.vis = syn::Visibility::Inherited;
        hidden += 1;
    }
    for constructor in shape::client_constructors_mut(file) {
        constructor.vis = parse_quote!(pub(crate));
        hidden += 1;
    }
    if hidden < 3 {
        return Err(generated_error(
            "no `pub use progenitor_client::…` or no `Client::new`/`new_with_client` to make private",
        ));
    }
    Ok(())
}

/// Rewrites the `send` methods inside the generated `builder` module.
pub fn route_sends_through_layer(file: &mut syn::File) -> Result<usize, SpecError> {
    let fields: BTreeMap<String, Fields> = shape::builder_structs(file)?
        .map(|s| (s.ident.to_string(), Fields::of(s)))
        .collect();
    let sends = shape::sends_mut(file)?;
    let count = sends.len();
    for (owner, method) in sends {
        let fields = fields.get(&owner).cloned().unwrap_or_default();
        rewrite_send(method, &owner, fields)?;
    }
    Ok(count)
}

/// What the send rewrite reads off a builder's fields (progenitor's
/// `Result<T, String>`, `Result<Option<T>, String>` when optional).
#[derive(Clone, Default)]
struct Fields {
    /// The fields that hold a UUID: their text is hex digits and hyphens,
    /// which a path segment carries as they are.
    uuids: BTreeSet<String>,
    /// The optional fields: in `send()`, after their check, an `Option`.
    optional: BTreeSet<String>,
}

impl Fields {
    fn of(builder: &syn::ItemStruct) -> Fields {
        let mut fields = Fields::default();
        for field in &builder.fields {
            let Some(name) = field.ident.as_ref().map(ToString::to_string) else {
                continue;
            };
            let value = shape::type_argument(&field.ty, "Result", 0).unwrap_or(&field.ty);
            let inner = shape::type_argument(value, "Option", 0);
            if inner.is_some() {
                fields.optional.insert(name.clone());
            }
            if shape::last_ident(inner.unwrap_or(value)).is_some_and(|i| i == "Uuid") {
                fields.uuids.insert(name);
            }
        }
        fields
    }
}

/// Makes every `send()` of the `builder` module a plain function that
/// returns its state machine boxed: `pub fn send(self) -> impl Future<Output
/// = R> + Send`, the body in `Box::pin(async move { .. })`. A call's state
/// (about 2 KB, 3 KB for a file probe) is then made in one place and never
/// moved: a caller's task holds a pointer, where it held the whole state
/// and copied it on every move (into a `FuturesUnordered`, a `select!`, a
/// spawned task). Runs last, over the finished statements.
///
/// # Errors
///
/// A `send()` that is not an `async fn` with a return type.
pub fn box_sends(file: &mut syn::File) -> Result<usize, SpecError> {
    let sends = shape::sends_mut(file)?;
    let count = sends.len();
    for (owner, method) in sends {
        let syn::ReturnType::Type(_, output) = &method.sig.output else {
            return Err(generated_error(format!("{owner}::send: no return type")));
        };
        if method.sig.asyncness.is_none() {
            return Err(generated_error(format!("{owner}::send: not an `async fn`")));
        }
        let output = output.clone();
        method.sig.asyncness = None;
        method.sig.output = parse_quote!(-> impl ::std::future::Future<Output = #output> + Send);
        let stmts = std::mem::take(&mut method.block.stmts);
        method.block.stmts = parse_quote!(::std::boxed::Box::pin(async move { #(#stmts)* }));
    }
    Ok(count)
}

fn generated_error(reason: impl Into<String>) -> SpecError {
    SpecError::new(
        "#",
        format!(
            "the generated client has an unexpected shape ({}); the rewrite in codegen/rewrite.rs must be updated for this progenitor version",
            reason.into()
        ),
    )
}

fn rewrite_send(
    method: &mut syn::ImplItemFn,
    owner: &str,
    fields: Fields,
) -> Result<(), SpecError> {
    let fail = |what: &str| generated_error(format!("{owner}::send: {what}"));

    // Result<ResponseValue<T>, Error<E>>  ->  Result<crate::runtime::Response<T>, crate::runtime::Error>
    let syn::ReturnType::Type(_, output) = &mut method.sig.output else {
        return Err(fail("no return type"));
    };
    let error_arg = result_error_argument(output)
        .ok_or_else(|| fail("return type is not Result<_, Error<_>>"))?;
    *error_arg = parse_quote!(crate::runtime::Error);
    let value_arg = result_value_argument(output)
        .ok_or_else(|| fail("return type is not Result<ResponseValue<_>, _>"))?;
    if matches!(value_arg, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ByteStream"))
    {
        *value_arg = parse_quote!(crate::runtime::ByteStream);
    }

    // Streaming responses must not be read into memory before the caller
    // sees them; everything else is buffered so that reading the body is
    // part of the attempt (and retried with it).
    let streams = contains_path(&method.block, &["ResponseValue", "stream"])
        || contains_path(&method.block, &["ResponseValue", "upgrade"]);

    // progenitor renames its locals when a parameter takes their name
    // (`request` becomes `_request`), so the names are read, not assumed.
    let operation = operation_id(&method.block).ok_or_else(|| fail("no OperationInfo literal"))?;
    let stmts = std::mem::take(&mut method.block.stmts);
    let mut out = Vec::with_capacity(stmts.len());
    let (mut saw_pre, mut saw_post) = (false, false);
    let mut saw_exec = false;
    let mut response: Option<syn::Ident> = None;
    for stmt in stmts {
        if hook_call(&stmt, "pre").is_some() {
            saw_pre = true;
            continue;
        }
        if hook_call(&stmt, "post").is_some() {
            saw_post = true;
            continue;
        }
        if let Stmt::Local(local) = &stmt
            && let Some(init) = &local.init
            && let Some(call) = hook_expr(&init.expr, "exec")
        {
            let pat = &local.pat;
            let client = &call.receiver;
            let (Some(Expr::Path(request)), Some(info)) = (call.args.first(), call.args.get(1))
            else {
                return Err(fail(
                    "`exec` is not called with the request and the operation info",
                ));
            };
            let request = request
                .path
                .get_ident()
                .cloned()
                .ok_or_else(|| fail("`exec` is not called with the request's local"))?;
            out = build_in_closure(out, &request).map_err(|e| fail(&e))?;
            saw_exec = true;
            out.push(parse_quote! {
                static FACTS: crate::runtime::OperationFacts = crate::runtime::OperationFacts::new();
            });
            out.push(parse_quote! {
                let #pat = crate::runtime::execute(#client, &rebuild, #info, &FACTS, #streams).await;
            });
            continue;
        }
        if let Some((stmt, append)) =
            batch_query(&stmt, &operation, &fields.optional).map_err(|e| fail(&e))?
        {
            out.push(stmt);
            out.push(append);
            continue;
        }
        if let Stmt::Local(local) = &stmt
            && let syn::Pat::Ident(ident) = &local.pat
            && let Some(init) = &local.init
            && matches!(init.expr.as_ref(), Expr::Try(_))
            && saw_exec
            && response.is_none()
        {
            response = Some(ident.ident.clone());
        }
        out.push(stmt);
    }
    let Some(response) = response.filter(|_| saw_pre && saw_exec && saw_post) else {
        return Err(fail(
            "the pre/exec/post hook calls or the `let response = result?` after them were not found",
        ));
    };
    method.block.stmts = out;

    let mut rewriter = ErrorPaths {
        operation,
        response,
        uuids: fields.uuids,
        unknown: Vec::new(),
    };
    rewriter.visit_block_mut(&mut method.block);
    if !rewriter.unknown.is_empty() {
        return Err(fail(&format!(
            "unhandled uses of progenitor's types: {}",
            rewriter.unknown.join(", ")
        )));
    }
    Ok(())
}

/// The statements that make the request (from `let url = format!(..)`
/// to the request's last edit) moved into a closure, `rebuild`, that
/// returns it, so the transport builds the request again for a retry
/// instead of copying every request ahead; it owns the parameters, which
/// nothing after it uses. `stmts` ends just before the
/// `exec` call; `let info = OperationInfo { .. }` stays outside.
fn build_in_closure(stmts: Vec<Stmt>, request: &syn::Ident) -> Result<Vec<Stmt>, String> {
    let is_url = |stmt: &Stmt| {
        matches!(stmt, Stmt::Local(local)
            if local.init.as_ref().is_some_and(|init| matches!(init.expr.as_ref(),
                Expr::Macro(m) if m.mac.path.is_ident("format"))))
    };
    let is_info = |stmt: &Stmt| {
        matches!(stmt, Stmt::Local(local)
            if local.init.as_ref().is_some_and(|init| matches!(init.expr.as_ref(),
                Expr::Struct(s) if s.path.is_ident("OperationInfo"))))
    };
    let start = stmts
        .iter()
        .position(is_url)
        .ok_or("no `let url = format!(..)` before `exec`")?;
    let info = stmts
        .iter()
        .rposition(is_info)
        .filter(|&i| i > start)
        .ok_or("no `let info = OperationInfo { .. }` after the request is built")?;
    let mut stmts = stmts;
    let tail = stmts.split_off(info);
    let mut body = stmts.split_off(start);
    body[0] = url_from_base(&body[0])?;
    // A raw body is moved into the request (`.body(value)`); the closure,
    // called for every attempt, gives each a copy.
    let mut body = headers_onto_request(body)?;
    for stmt in &mut body {
        CopyRawBody.visit_stmt_mut(stmt);
        ConstHeaders.visit_stmt_mut(stmt);
    }
    // `move`: the closure holds the parameters' values, side by side,
    // where it would hold a reference to each (a file probe has about a
    // hundred), each pointing elsewhere in the call's state.
    stmts.push(parse_quote! {
        let rebuild = move || -> ::std::result::Result<::reqwest::Request, crate::runtime::Error> {
            #(#body)*
            Ok(#request)
        };
    });
    stmts.extend(tail);
    Ok(stmts)
}

/// progenitor formats the base URL and the path into one string
/// (`let url = format!("{}/things/{}", client.baseurl, ..)`), which reqwest
/// then parses whole, scheme and host included, on every call. The client
/// keeps its base URL parsed; `request_url` sets the path on a copy of it,
/// so only the path is parsed:
/// `let url = crate::runtime::request_url(client, format_args!("/things/{}", ..))`.
fn url_from_base(stmt: &Stmt) -> Result<Stmt, String> {
    let refuse = || "the URL is not `format!(\"{}/..\", client.baseurl, ..)`".to_string();
    let Stmt::Local(local) = stmt else {
        return Err(refuse());
    };
    let Some(Expr::Macro(mac)) = local.init.as_ref().map(|init| init.expr.as_ref()) else {
        return Err(refuse());
    };
    let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    let args = syn::parse::Parser::parse2(parser, mac.mac.tokens.clone()).map_err(|_| refuse())?;
    let mut args = args.into_iter();
    let (Some(Expr::Lit(pattern)), Some(Expr::Field(base))) = (args.next(), args.next()) else {
        return Err(refuse());
    };
    let syn::Lit::Str(pattern) = &pattern.lit else {
        return Err(refuse());
    };
    let path = pattern
        .value()
        .strip_prefix("{}")
        .filter(|path| path.starts_with('/'))
        .map(str::to_string)
        .ok_or_else(refuse)?;
    if !matches!(&base.member, syn::Member::Named(name) if name == "baseurl") {
        return Err(refuse());
    }
    let client = &base.base;
    let path = syn::LitStr::new(&path, pattern.span());
    let rest: Vec<Expr> = args.collect();
    let pat = &local.pat;
    Ok(parse_quote! {
        let #pat = crate::runtime::request_url(#client, format_args!(#path #(, #rest)*));
    })
}

/// progenitor gathers the header parameters in a map of their own
/// (`let mut header_map = HeaderMap::with_capacity(n)`) and merges it into
/// the request (`.headers(header_map)`), which costs every request the map's
/// allocations and a merge. The same statements write onto the built
/// request's headers instead, each value replacing any of its name as the
/// merge did: `append` where the request cannot hold the name yet, else
/// `insert` (see [`HEADERS_A_REQUEST_MAY_HOLD`]).
/// A request without such a map is left as it is.
fn headers_onto_request(body: Vec<Stmt>) -> Result<Vec<Stmt>, String> {
    let map_of = |stmt: &Stmt| match stmt {
        Stmt::Local(local) => match (&local.pat, local.init.as_ref().map(|i| i.expr.as_ref())) {
            (syn::Pat::Ident(map), Some(Expr::Call(call))) if matches!(call.func.as_ref(), Expr::Path(f) if path_ends_with(&f.path, &["HeaderMap", "with_capacity"])) => {
                Some(map.ident.clone())
            }
            _ => None,
        },
        _ => None,
    };
    let Some((start, map)) = body
        .iter()
        .enumerate()
        .find_map(|(i, stmt)| Some((i, map_of(stmt)?)))
    else {
        return Ok(body);
    };
    let mut body = body;
    let mut merged = None;
    for (i, stmt) in body.iter_mut().enumerate().skip(start + 1) {
        let mut unmerge = Unmerge {
            map: &map,
            removed: false,
        };
        unmerge.visit_stmt_mut(stmt);
        if unmerge.removed {
            merged = Some(i);
            break;
        }
    }
    let merged = merged.ok_or_else(|| format!("`{map}` is never merged into the request"))?;
    let Stmt::Local(built) = &body[merged] else {
        return Err(format!("`{map}` is merged outside `let request = ..`"));
    };
    let syn::Pat::Ident(request) = &built.pat else {
        return Err(format!("`{map}` is merged into a request without a name"));
    };
    let request = request.ident.clone();
    let rest = body.split_off(merged + 1);
    let built = body.pop().ok_or("no request statement")?;
    let mut writes = body.split_off(start + 1);
    body.pop();
    for stmt in &mut writes {
        AppendToInsert(&map).visit_stmt_mut(stmt);
    }
    body.push(built);
    body.push(parse_quote! { let #map = #request.headers_mut(); });
    body.extend(writes);
    body.extend(rest);
    Ok(body)
}

/// Removes `.headers(map)` from a request chain.
struct Unmerge<'m> {
    map: &'m syn::Ident,
    removed: bool,
}

impl VisitMut for Unmerge<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && matches!(call.args.first(), Some(Expr::Path(p)) if p.path.is_ident(self.map))
        {
            *expr = (*call.receiver).clone();
            self.removed = true;
        }
    }
}

/// Makes `map.append(name, value)` a `map.insert(name, value)`.
struct AppendToInsert<'m>(&'m syn::Ident);

/// The headers a built request may already carry (from the builder chain,
/// the credential and the cookies): a header parameter of one of these
/// names replaces it. The OpenAPI specification ignores header parameters
/// named `Accept`, `Content-Type` or `Authorization`, and parameters have
/// distinct names, so any other is appended: the same operation on a
/// request without it, and the code path the builder's own headers take.
const HEADERS_A_REQUEST_MAY_HOLD: [&str; 4] = ["accept", "content-type", "authorization", "cookie"];

impl VisitMut for AppendToInsert<'_> {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "append"
            && matches!(call.receiver.as_ref(), Expr::Path(p) if p.path.is_ident(self.0))
            && call
                .args
                .first()
                .and_then(header_name_literal)
                .is_none_or(|name| {
                    HEADERS_A_REQUEST_MAY_HOLD.contains(&name.to_ascii_lowercase().as_str())
                })
        {
            call.method = syn::Ident::new("insert", call.method.span());
        }
    }
}

/// The name a header write gives as a literal: `"name"` or
/// `HeaderName::from_static("name")`.
fn header_name_literal(expr: &Expr) -> Option<String> {
    let literal = match expr {
        Expr::Call(call) if matches!(call.func.as_ref(), Expr::Path(f) if path_ends_with(&f.path, &["from_static"])) => {
            call.args.first()?
        }
        other => other,
    };
    match literal {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(name),
            ..
        }) => Some(name.value()),
        _ => None,
    }
}

/// Whether `path` ends with `segments`.
fn path_ends_with(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() >= segments.len()
        && path
            .segments
            .iter()
            .rev()
            .zip(segments.iter().rev())
            .all(|(s, name)| s.ident == name)
}

/// Makes `HeaderName::from_static("name")` and `HeaderValue::from_static("value")`
/// of a literal constants (`const { .. }`), so a request does not check and
/// look the text up again on every call.
struct ConstHeaders;

impl VisitMut for ConstHeaders {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Call(call) = expr
            && let Expr::Path(function) = call.func.as_ref()
            && (path_ends_with(&function.path, &["HeaderName", "from_static"])
                || path_ends_with(&function.path, &["HeaderValue", "from_static"]))
            && let [
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(_),
                    ..
                }),
            ] = call.args.iter().collect::<Vec<_>>()[..]
        {
            *expr = parse_quote!(const { #call });
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Makes `.body(value)` take a copy of `value`.
struct CopyRawBody;

impl VisitMut for CopyRawBody {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "body"
            && let Some(value) = call.args.first_mut()
        {
            *value = parse_quote!(::std::clone::Clone::clone(&#value));
        }
    }
}

/// For `let mut request = <builder>...query(p1)...query(pN)....build()?;`,
/// the statement without the `query` calls and the statement that appends
/// all of them at once; `None` for any other statement or a request
/// without query parameters. A parameter whose local is `optional` (an
/// `Option`) is pushed only when it is set: a file probe has about a
/// hundred parameters, of which a call sets a few.
fn batch_query(
    stmt: &Stmt,
    operation: &syn::LitStr,
    optional: &BTreeSet<String>,
) -> Result<Option<(Stmt, Stmt)>, String> {
    let Stmt::Local(local) = stmt else {
        return Ok(None);
    };
    let Some(init) = &local.init else {
        return Ok(None);
    };
    let Expr::Try(built) = init.expr.as_ref() else {
        return Ok(None);
    };
    let Expr::MethodCall(build) = built.expr.as_ref() else {
        return Ok(None);
    };
    if build.method != "build" {
        return Ok(None);
    }
    let syn::Pat::Ident(request) = &local.pat else {
        return Ok(None);
    };
    let request = &request.ident;

    // Unwind the chain from `build` down to its root, dropping `query` calls.
    let mut pushes: Vec<Stmt> = Vec::new();
    let mut kept = Vec::new();
    let mut link = build.receiver.as_ref();
    while let Expr::MethodCall(call) = link {
        if call.method == "query" {
            let [param] = call.args.iter().collect::<Vec<_>>()[..] else {
                return Err(String::from("a `query` call without exactly one argument"));
            };
            let (name, value) = query_param(param).ok_or_else(|| {
                String::from("a `query` argument that is not `&QueryParam::new(\"name\", &value)`")
            })?;
            // An optional parameter (an `Option` local) is pushed only when set.
            pushes.push(match value {
                Some(local) if optional.contains(&local.to_string()) => parse_quote! {
                    if #local.is_some() {
                        query.push_set(#name, #param);
                    }
                },
                _ => parse_quote!(query.push(#name, #param);),
            });
        } else {
            kept.push(call);
        }
        link = call.receiver.as_ref();
    }
    if pushes.is_empty() {
        return Ok(None);
    }
    pushes.reverse();
    let mut chain = link.clone();
    for call in kept.into_iter().rev() {
        let mut call = call.clone();
        call.receiver = Box::new(chain);
        chain = Expr::MethodCall(call);
    }
    let mut build = build.clone();
    build.receiver = Box::new(chain);
    let mut built = built.clone();
    built.expr = Box::new(Expr::MethodCall(build));
    let mut local = local.clone();
    if let Some(init) = local.init.as_mut() {
        *init.expr = Expr::Try(built);
    }
    let append: Stmt = parse_quote! {
        crate::runtime::append_query(&mut #request, |query| {
            #( #pushes )*
        })
        .map_err(|message: String| crate::runtime::Error::invalid_request_in(#operation, message))?;
    };
    Ok(Some((Stmt::Local(local), append)))
}

/// The name in `&progenitor_client::QueryParam::new("name", &value)`, and
/// the local `value` when it is one.
fn query_param(param: &Expr) -> Option<(syn::LitStr, Option<&syn::Ident>)> {
    let Expr::Reference(reference) = param else {
        return None;
    };
    let Expr::Call(call) = reference.expr.as_ref() else {
        return None;
    };
    let Expr::Path(func) = call.func.as_ref() else {
        return None;
    };
    let named = func
        .path
        .segments
        .iter()
        .rev()
        .take(2)
        .map(|s| s.ident.to_string());
    if !named.eq(["new", "QueryParam"]) {
        return None;
    }
    let mut args = call.args.iter();
    let Some(Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(name),
        ..
    })) = args.next()
    else {
        return None;
    };
    let local = match args.next() {
        Some(Expr::Reference(value)) => match value.expr.as_ref() {
            Expr::Path(local) => local.path.get_ident(),
            _ => None,
        },
        _ => None,
    };
    Some((name.clone(), local))
}

/// `T` of `Result<ResponseValue<T>, _>`, with `ResponseValue` already
/// replaced by `crate::runtime::Response`, as a mutable type slot.
fn result_value_argument(ty: &mut syn::Type) -> Option<&mut syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &mut path.path.segments.last_mut()?.arguments
    else {
        return None;
    };
    let syn::GenericArgument::Type(syn::Type::Path(value)) = args.args.iter_mut().next()? else {
        return None;
    };
    let last = value.path.segments.last()?;
    if last.ident != "ResponseValue" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(inner) = &last.arguments else {
        return None;
    };
    let inner = inner.args.clone();
    *value = parse_quote!(crate::runtime::Response<#inner>);
    let syn::PathArguments::AngleBracketed(args) = &mut value.path.segments.last_mut()?.arguments
    else {
        return None;
    };
    match args.args.iter_mut().next()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// The `E` of `Result<_, Error<E>>`, as a mutable type slot.
fn result_error_argument(ty: &mut syn::Type) -> Option<&mut syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let result = path.path.segments.last_mut()?;
    if result.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut result.arguments else {
        return None;
    };
    let slot = args.args.iter_mut().nth(1)?;
    let syn::GenericArgument::Type(error) = slot else {
        return None;
    };
    match error {
        syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Error") => {
            Some(error)
        }
        _ => None,
    }
}

/// `<client>.<hook>(...).await?;`
fn hook_call<'a>(stmt: &'a Stmt, hook: &str) -> Option<&'a syn::ExprMethodCall> {
    match stmt {
        Stmt::Expr(Expr::Try(t), Some(_)) => hook_expr(&t.expr, hook),
        _ => None,
    }
}

/// `<client>.<hook>(...).await`
fn hook_expr<'a>(expr: &'a Expr, hook: &str) -> Option<&'a syn::ExprMethodCall> {
    let Expr::Await(awaited) = expr else {
        return None;
    };
    let Expr::MethodCall(call) = awaited.base.as_ref() else {
        return None;
    };
    (call.method == hook && matches!(call.receiver.as_ref(), Expr::Path(_))).then_some(call)
}

fn path_is(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() == segments.len()
        && path
            .segments
            .iter()
            .zip(segments)
            .all(|(s, want)| s.ident == want)
}

fn contains_path(block: &syn::Block, segments: &[&str]) -> bool {
    struct Find<'a> {
        segments: &'a [&'a str],
        found: bool,
    }
    impl VisitMut for Find<'_> {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            self.found |= path_is(path, self.segments);
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    let mut find = Find {
        segments,
        found: false,
    };
    find.visit_block_mut(&mut block.clone());
    find.found
}

/// The `operation_id` of the `OperationInfo { .. }` the method builds.
fn operation_id(block: &syn::Block) -> Option<syn::LitStr> {
    struct Find(Option<syn::LitStr>);
    impl VisitMut for Find {
        fn visit_expr_struct_mut(&mut self, node: &mut syn::ExprStruct) {
            if node.path.is_ident("OperationInfo") {
                for field in &node.fields {
                    if let syn::Member::Named(name) = &field.member
                        && name == "operation_id"
                        && let Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(lit),
                            ..
                        }) = &field.expr
                    {
                        self.0 = Some(lit.clone());
                    }
                }
            }
            syn::visit_mut::visit_expr_struct_mut(self, node);
        }
    }
    let mut find = Find(None);
    find.visit_block_mut(&mut block.clone());
    find.0
}

/// Replaces progenitor's error constructors, its JSON decoding and its form
/// encoding.
struct ErrorPaths {
    /// The operation's Rust name, for errors raised before sending.
    operation: syn::LitStr,
    /// The local holding the response.
    response: syn::Ident,
    /// The parameters that hold a UUID.
    uuids: BTreeSet<String>,
    unknown: Vec<String>,
}

impl VisitMut for ErrorPaths {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // `request_builder.build()?` relied on a public `From<reqwest::Error>`
        // for `crate::runtime::Error`, which made errors without an operation.
        if let Expr::Try(t) = expr
            && let Expr::MethodCall(call) = t.expr.as_ref()
            && call.method == "build"
            && call.args.is_empty()
        {
            let mut call = call.clone();
            syn::visit_mut::visit_expr_method_call_mut(self, &mut call);
            let operation = &self.operation;
            *t.expr = parse_quote!(
                #call.map_err(|e| crate::runtime::request_not_built(#operation, e))
            );
            return;
        }
        // `headers.append("Name", value.to_string().try_into()?)` (an
        // `insert` once written onto the request): the same for a header
        // value, named with its parameter.
        if let Expr::MethodCall(call) = expr
            && (call.method == "append" || call.method == "insert")
            && call.args.len() == 2
            && let Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            })) = call.args.first()
            && let Some(Expr::Try(value)) = call.args.iter().nth(1)
            && let Expr::MethodCall(convert) = value.expr.as_ref()
            && convert.method == "try_into"
        {
            let operation = &self.operation;
            let message = format!(
                "the header parameter `{}` has characters a header value cannot carry",
                name.value()
            );
            let converted: Expr = parse_quote!(
                #convert.map_err(|_| crate::runtime::Error::invalid_request_in(#operation, #message.to_string()))?
            );
            let name = name.clone();
            let mut receiver = (*call.receiver).clone();
            self.visit_expr_mut(&mut receiver);
            let method = &call.method;
            *expr = parse_quote!(#receiver.#method(#name, #converted));
            return;
        }
        // `builder.form_urlencoded(&body)?` returns progenitor's error;
        // reqwest's own `form` encodes the same way and reports a failure
        // when the request is built.
        if let Expr::Try(t) = expr
            && let Expr::MethodCall(call) = t.expr.as_ref()
            && call.method == "form_urlencoded"
        {
            let mut call = call.clone();
            call.method = syn::Ident::new("form", call.method.span());
            *expr = Expr::MethodCall(call);
            syn::visit_mut::visit_expr_mut(self, expr);
            return;
        }
        // `match response.status().as_u16()` borrows the answer, and a
        // local once borrowed keeps its place in the call's state until its
        // scope ends, beside the decode of its body. The transport's answer
        // carries the code as a field, read by value.
        if let Expr::MethodCall(code) = expr
            && code.method == "as_u16"
            && code.args.is_empty()
            && let Expr::MethodCall(status) = code.receiver.as_ref()
            && status.method == "status"
            && status.args.is_empty()
            && matches!(status.receiver.as_ref(), Expr::Path(p) if p.path.is_ident(&self.response))
        {
            let response = &self.response;
            *expr = parse_quote!(#response.status);
            return;
        }
        // `encode_path(&value.to_string())` writes the value to a string
        // and encodes it into another; the runtime's `PathSegment` encodes
        // the value as it is formatted into the URL, the same way.
        if let Expr::Call(call) = expr
            && let Expr::Path(func) = call.func.as_ref()
            && func.path.is_ident("encode_path")
            && let [Expr::Reference(reference)] = call.args.iter().collect::<Vec<_>>()[..]
            && let Expr::MethodCall(text) = reference.expr.as_ref()
            && text.method == "to_string"
            && text.args.is_empty()
        {
            let value = &text.receiver;
            // A UUID's text (hex digits and hyphens) needs no escape: it is
            // written as it is, by the UUID's own formatting.
            if let Expr::Path(local) = value.as_ref()
                && local
                    .path
                    .get_ident()
                    .is_some_and(|name| self.uuids.contains(&name.to_string()))
            {
                *expr = parse_quote!(#value.hyphenated());
                return;
            }
            *expr = parse_quote!(crate::runtime::PathSegment(&#value));
            return;
        }
        if let Expr::Call(call) = expr
            && let Expr::Path(func) = call.func.as_ref()
        {
            // Error::ErrorResponse(ResponseValue::from_response(response).await?)
            // Error::ErrorResponse(ResponseValue::empty(response))
            // Error::UnexpectedResponse(response)
            // all become the one error built from the response itself.
            if path_is(&func.path, &["Error", "ErrorResponse"])
                || path_is(&func.path, &["Error", "UnexpectedResponse"])
            {
                let response = &self.response;
                *expr = parse_quote!(crate::runtime::Error::from_response(#response).await);
                return;
            }
            // A response without a body; a streamed or upgraded one is
            // handed over as reqwest's response.
            if path_is(&func.path, &["ResponseValue", "empty"]) {
                let args = &call.args;
                *expr = parse_quote!(crate::runtime::empty_response(#args));
                return;
            }
            if path_is(&func.path, &["ResponseValue", "stream"]) {
                let args = &call.args;
                *expr = parse_quote!(crate::runtime::stream_response(#args));
                return;
            }
            if path_is(&func.path, &["ResponseValue", "upgrade"]) {
                self.unknown
                    .push("ResponseValue::upgrade (a connection upgrade)".to_string());
                return;
            }
            if path_is(&func.path, &["ResponseValue", "from_response"]) {
                let args = &call.args;
                *expr = parse_quote!(crate::runtime::decode_response(#args));
                return;
            }
        }
        if let Expr::Path(p) = expr
            && path_is(&p.path, &["Error", "InvalidRequest"])
        {
            let operation = &self.operation;
            *expr = parse_quote!(
                |message: String| crate::runtime::Error::invalid_request_in(#operation, message)
            );
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    /// The URL is a `format_args!`, whose arguments the visitor does not see
    /// as expressions: they are parsed, visited and written back.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format_args") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return;
        };
        for arg in args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        mac.tokens = quote::ToTokens::to_token_stream(&args);
    }

    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.first().is_some_and(|s| s.ident == "Error") {
            self.unknown.push(
                path.segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::"),
            );
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

#[cfg(test)]
mod tests;
