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
//! - every failure is the one public `crate::runtime::Error`, naming its
//!   operation;
//! - the request is made in a closure the transport calls for each attempt.
//!
//! The pass knows the exact statements progenitor 0.15 writes. Anything it
//! does not recognise is an error naming the method, so a progenitor upgrade
//! that changes them fails the build instead of silently bypassing the layer.

use std::collections::BTreeSet;

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
/// `media` names the operations that ask the server for analysis time
/// (`timeout`, `queue_timeout`): their sends hand the transport what the
/// builder asked for, and their requests are built with what it fits.
pub fn route_sends_through_layer(
    file: &mut syn::File,
    media: &BTreeSet<String>,
) -> Result<usize, SpecError> {
    let sends = shape::sends_mut(file)?;
    let count = sends.len();
    for (owner, method) in sends {
        rewrite_send(method, &owner, media)?;
    }
    Ok(count)
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
    media: &BTreeSet<String>,
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
            let asked = media.contains(&operation.value());
            out = build_in_closure(out, &request, asked).map_err(|e| fail(&e))?;
            saw_exec = true;
            out.push(parse_quote! {
                static FACTS: crate::runtime::OperationFacts = crate::runtime::OperationFacts::new();
            });
            out.push(parse_quote! {
                let #pat = crate::runtime::execute(#client, #info, &FACTS, asked, &rebuild, #streams).await;
            });
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
///
/// The closure takes the [`Analysis`](crate::runtime::Analysis) the
/// transport fitted for the attempt; `let asked = ..`, before it, is what
/// the builder asked for. Of a `media` operation, that is its `timeout`
/// and `queue_timeout` query parameters, which the closure then writes
/// from the fitted values, or else the same fields of its body, which
/// always carries both (the body's defaults fill them in); of any other,
/// nothing.
fn build_in_closure(
    stmts: Vec<Stmt>,
    request: &syn::Ident,
    media: bool,
) -> Result<Vec<Stmt>, String> {
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
    // A raw body is moved into the request (`.body(value)`); the closure,
    // called for every attempt, gives each a copy.
    let mut fitted = FittedQuery::default();
    for stmt in &mut body {
        CopyRawBody.visit_stmt_mut(stmt);
        if media {
            fitted.visit_stmt_mut(stmt);
        }
    }
    let asked: Stmt = match (media, fitted.timeout.clone(), fitted.queue_timeout.clone()) {
        (false, ..) => parse_quote!(let asked = crate::runtime::Analysis::NONE;),
        (true, None, None) => parse_quote! {
            let asked = crate::runtime::Analysis::asked(body.timeout, body.queue_timeout);
        },
        (true, timeout, queue_timeout) => {
            let local = |name: Option<syn::Ident>| -> Expr {
                name.map_or_else(|| parse_quote!(None::<i64>), |n| parse_quote!(#n))
            };
            let (timeout, queue_timeout) = (local(timeout), local(queue_timeout));
            parse_quote!(let asked = crate::runtime::Analysis::asked(#timeout, #queue_timeout);)
        }
    };
    stmts.push(asked);
    // Only a request that writes the fitted values reads them.
    let analysis: syn::Ident = if fitted.timeout.is_some() || fitted.queue_timeout.is_some() {
        parse_quote!(analysis)
    } else {
        parse_quote!(_analysis)
    };
    // `move`: the closure holds the parameters' values, side by side,
    // where it would hold a reference to each (a file probe has about a
    // hundred), each pointing elsewhere in the call's state.
    stmts.push(parse_quote! {
        let rebuild = move |#analysis: crate::runtime::Analysis| -> ::std::result::Result<::reqwest::Request, crate::runtime::Error> {
            #(#body)*
            Ok(#request)
        };
    });
    stmts.extend(tail);
    Ok(stmts)
}

/// In a media operation's request, `QueryParam::new("timeout", &local)`
/// (and `queue_timeout`) made to write the fitted `analysis.timeout`; the
/// locals are kept to say what the builder asked for.
#[derive(Default)]
struct FittedQuery {
    timeout: Option<syn::Ident>,
    queue_timeout: Option<syn::Ident>,
}

impl VisitMut for FittedQuery {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, call);
        let Expr::Path(func) = call.func.as_ref() else {
            return;
        };
        if !path_ends_with(&func.path, &["QueryParam", "new"]) {
            return;
        }
        let mut args = call.args.iter_mut();
        let (
            Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            })),
            Some(value),
        ) = (args.next(), args.next())
        else {
            return;
        };
        let slot = match name.value().as_str() {
            "timeout" => &mut self.timeout,
            "queue_timeout" => &mut self.queue_timeout,
            _ => return,
        };
        let field = syn::Ident::new(&name.value(), name.span());
        if let Expr::Reference(reference) = value
            && let Expr::Path(local) = reference.expr.as_ref()
            && let Some(local) = local.path.get_ident()
        {
            *slot = Some(local.clone());
            *value = parse_quote!(&analysis.#field);
        }
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
                #convert.map_err(|_| crate::runtime::Error::invalid_request(#message).for_operation(#operation))?
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
                *expr = parse_quote!(crate::runtime::error_response(#response).await);
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
                |message: String| crate::runtime::Error::invalid_request(message).for_operation(#operation)
            );
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
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
