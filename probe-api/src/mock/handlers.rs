//! What the mock answers: faults, credentials, the document's checks, then
//! the operation's behaviour, and a check of the answer against the
//! document.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::request::{self, Checked, Incoming, Miss, Route};
use super::schema::escape;
use super::state::{ApiToken, IssuedJwt, Principal, State};
use super::tokens::{expiry, find_token, flag, permission_list, token_json, ttl_seconds};
use super::{RecordedRequest, Shared, lock};

/// The mock's answer to one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
}

impl Outcome {
    pub(crate) fn json(status: u16, body: &Value) -> Outcome {
        Outcome::Respond {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn empty(status: u16) -> Outcome {
        Outcome::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn status(&self) -> u16 {
        match self {
            Outcome::Respond { status, .. } => *status,
            Outcome::Drop => 0,
        }
    }
}

/// A failure with its status and message, answered with the operation's
/// error body.
pub(crate) struct Failure(pub(crate) u16, pub(crate) String);

type Answer = Result<(u16, Option<Value>), Failure>;

pub(crate) async fn respond(shared: &Shared, incoming: Incoming) -> Outcome {
    let received = std::time::Instant::now();
    let found = shared.routes.find(&incoming.method, &incoming.path);
    let operation = found.as_ref().map(|(r, _)| r.operation).unwrap_or("");
    let mut outcome = match (&shared.replay, found) {
        (Some(replay), found) => {
            let operation = found.as_ref().ok().map(|(route, _)| route.operation);
            replay.answer(operation, &incoming)
        }
        (None, Err(miss)) => {
            let (status, what) = match miss {
                Miss::NotFound => (404, "no operation of the document has this path"),
                Miss::MethodNotAllowed => (405, "the path does not take this method"),
            };
            Outcome::json(
                status,
                &json!({"code": status, "error": format!("{what}: {} {}", incoming.method, incoming.path), "status": reason(status)}),
            )
        }
        (None, Ok((route, path_params))) => answer(shared, route, &path_params, &incoming).await,
    };
    // A replayed answer keeps the headers it was recorded with.
    if shared.replay.is_none() {
        super::aim::with_request_id(shared, &mut outcome);
    }
    lock(&shared.log).push(RecordedRequest {
        operation: operation.to_string(),
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        query: incoming.query.as_deref().map(redact_query),
        status: outcome.status(),
        received,
        answered: std::time::Instant::now(),
    });
    outcome
}

async fn answer(
    shared: &Shared,
    route: &Route,
    path_params: &std::collections::HashMap<String, String>,
    incoming: &Incoming,
) -> Outcome {
    let fault = lock(&shared.faults)
        .get_mut(route.operation)
        .and_then(|queue| queue.pop_front());
    if let Some(outcome) = super::aim::apply_fault(shared, route, fault).await {
        return outcome;
    }

    let principal = {
        let state = lock(&shared.state);
        credentials(incoming)
            .iter()
            .find_map(|c| state.principal(c))
    };
    if route.needs_auth && principal.is_none() {
        let message = if credentials(incoming).is_empty() {
            "no credentials: send the API key as `Authorization: Bearer <key>`"
        } else {
            "the credentials are not valid"
        };
        return error_outcome(shared, route, 401, message);
    }

    let checked = match request::check(&shared.document, route, path_params, incoming) {
        Ok(checked) => checked,
        Err(problems) => return error_outcome(shared, route, 400, &problems.join("; ")),
    };
    if let Some(outcome) = super::aim::aimed_at_url(shared, route, &checked).await {
        return outcome;
    }

    // Held until the answer is made: the probe's place in the service.
    let _admitted = match analysis_slot(shared, route, &checked).await {
        Ok(worker) => worker,
        Err(refusal) => return refusal,
    };
    let answer = behaviour(shared, route, principal, &checked, incoming);
    match answer {
        Err(Failure(status, message)) => error_outcome(shared, route, status, &message),
        Ok((status, None)) => Outcome::empty(status),
        Ok((status, Some(body))) => {
            let pointer = response_schema(shared, route, status);
            if let Some(pointer) = pointer
                && let Err(errors) = shared.document.validate(&pointer, &body)
            {
                return Outcome::json(
                    500,
                    &json!({"code": 500, "status": "Internal Server Error", "error": format!(
                        "the mock's answer to {} does not conform to the document: {}",
                        route.operation,
                        errors.join("; ")
                    )}),
                );
            }
            let mut outcome = Outcome::json(status, &body);
            // A media probe's id is in its body: the header says the same.
            if let (Some(id), Outcome::Respond { headers, .. }) = (
                body.pointer("/metadata/request_id").and_then(Value::as_str),
                &mut outcome,
            ) {
                headers.push(("x-request-id", id.to_string()));
            }
            outcome
        }
    }
}

/// Waits for a worker of the mock's [`Capacity`](super::Capacity), when one
/// is set and `route` analyses media, then for the analysis time; or the
/// 429 refusal when the quota is spent, the queue is full or the request's
/// `queue_timeout` runs out first.
async fn analysis_slot(
    shared: &Shared,
    route: &Route,
    checked: &Checked,
) -> Result<Option<OwnedSemaphorePermit>, Outcome> {
    use std::sync::atomic::Ordering;
    let analyses = crate::spec::operation(route.operation)
        .is_some_and(|spec| spec.queue_timeout_default_ms.is_some());
    let Some(workers) = lock(&shared.workers).clone().filter(|_| analyses) else {
        return Ok(None);
    };
    let capacity = workers.capacity;
    let refuse = |why: &str| {
        shared.rejected.fetch_add(1, Ordering::SeqCst);
        let mut outcome = error_outcome(shared, route, 429, why);
        if let Outcome::Respond { headers, .. } = &mut outcome {
            headers.push(("retry-after", capacity.retry_after.to_string()));
        }
        outcome
    };
    if workers.quota_spent() {
        return Err(refuse("the quota is spent"));
    }
    let Ok(admitted) = workers.admitted.clone().try_acquire_owned() else {
        return Err(refuse("every worker is busy and the queue is full"));
    };
    let queue_timeout = checked
        .get("queue_timeout")
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(60), Duration::from_millis);
    let waited = tokio::time::timeout(queue_timeout, workers.free.clone().acquire_owned()).await;
    let Ok(Ok(worker)) = waited else {
        return Err(refuse("no worker became free within queue_timeout"));
    };
    tokio::time::sleep(capacity.service_time).await;
    // The worker is free once the analysis time is over; the probe keeps
    // its place until it is answered.
    drop(worker);
    Ok(Some(admitted))
}

/// Every credential the request carries, wherever the document allows it.
fn credentials(incoming: &Incoming) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(token) = incoming
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        found.push(token.trim().to_string());
    }
    for (name, value) in incoming.query_pairs() {
        if name == "token" || name == "jwt" {
            found.push(value);
        }
    }
    for (name, value) in incoming.cookies() {
        if name == "jwt" {
            found.push(value);
        }
    }
    found
}

/// The pointer of the JSON schema of `route`'s `status` response.
fn response_schema(shared: &Shared, route: &Route, status: u16) -> Option<String> {
    shared.document.response_schema(&route.pointer, status)
}

/// An error answer shaped as the operation's `status` response, or as the
/// API's usual error body when the document defines none.
pub(crate) fn error_outcome(shared: &Shared, route: &Route, status: u16, message: &str) -> Outcome {
    let mut body = match response_schema(shared, route, status) {
        Some(pointer) => shared
            .document
            .at(&pointer)
            .map(|schema| shared.document.example(schema))
            .unwrap_or(Value::Null),
        None => json!({"code": status, "error": "", "status": ""}),
    };
    match body.as_object_mut() {
        Some(object) if !object.is_empty() => {
            fill(object, "code", json!(status));
            fill(object, "status", json!(reason(status)));
            fill(object, "error", json!(message));
            if let Some(context) = object.get_mut("context") {
                *context = json!({});
            }
        }
        _ => body = json!({"error": message}),
    }
    Outcome::json(status, &body)
}

/// Sets `key` when the object has it (the example has every property of
/// its schema).
fn fill(object: &mut Map<String, Value>, key: &str, value: Value) {
    if let Some(slot) = object.get_mut(key) {
        *slot = value;
    }
}

fn example_response(shared: &Shared, route: &Route, status: u16) -> Value {
    response_schema(shared, route, status)
        .and_then(|p| shared.document.at(&p))
        .map(|schema| shared.document.example(schema))
        .unwrap_or(Value::Null)
}

/// The operation's behaviour on valid input.
fn behaviour(
    shared: &Shared,
    route: &Route,
    principal: Option<Principal>,
    checked: &Checked,
    incoming: &Incoming,
) -> Answer {
    let mut state = lock(&shared.state);
    let template = |status| example_response(shared, route, status);
    match route.operation {
        "get_file" | "post_file" => {
            let body = media_probe(shared, &mut state, principal, checked, template(200));
            Ok((200, Some(body)))
        }
        "get_media_stream_validator" | "post_media_stream_validator" | "get_c2pa" | "post_c2pa" => {
            let url = checked.str("url").unwrap_or(super::SAMPLE_URL).to_string();
            let mut body = template(200);
            if let Some(object) = body.as_object_mut() {
                fill(object, "success", json!(true));
                fill(object, "error", Value::Null);
                fill(object, "cli_output", Value::Null);
                let output = if route.operation.contains("c2pa") {
                    json!({"url": url, "manifests": {}, "validation_status": [], "note": "mock: the sample carries no C2PA manifest"})
                } else {
                    json!({"url": url, "valid": true, "errors": [], "warnings": [], "note": "mock: playlist accepted"})
                };
                fill(object, "output", output);
                let request_id = state.next_uuid();
                fill(
                    object,
                    "metadata",
                    json!({"request_id": request_id.to_string(), "queue_time": 0}),
                );
                let user_id = principal.and_then(|p| state.user_of(p)).map_or(1, |u| u.id);
                state.log.push(log_entry(shared, request_id, &url, user_id));
            }
            Ok((200, Some(body)))
        }
        "post_sign_in" => {
            let email = checked.str("email").unwrap_or_default();
            let password = checked.str("password").unwrap_or_default();
            let user = state
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(email) && u.password == password)
                .cloned()
                .ok_or_else(|| Failure(401, "wrong email or password".into()))?;
            Ok((
                200,
                Some(signed_in(&mut state, &user, incoming, template(200))),
            ))
        }
        "post_oauth_sign_in" => {
            let cookies = incoming.cookies();
            let cookie = |name: &str| {
                cookies
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            let token = cookie("oauth-provider-token").or_else(|| {
                checked
                    .get("oauth-provider-token")
                    .and_then(|t| t.get("token"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if token.is_none_or(|t| t.is_empty()) {
                return Err(Failure(
                    401,
                    "no oauth provider token (cookie `oauth-provider-token`)".into(),
                ));
            }
            let email = cookie("oauth-email")
                .or_else(|| checked.str("email").map(str::to_string))
                .unwrap_or_else(|| super::EMAIL.to_string());
            let user = state
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(&email))
                .cloned()
                .ok_or_else(|| Failure(401, format!("no user with email {email}")))?;
            Ok((
                200,
                Some(signed_in(&mut state, &user, incoming, template(200))),
            ))
        }
        "post_verify" => {
            let mut body = template(200);
            if let Some(object) = body.as_object_mut() {
                fill(object, "email", json!(super::EMAIL));
                fill(object, "status", json!("active"));
                fill(object, "success", json!(true));
            }
            Ok((200, Some(body)))
        }
        "get_sessions" => {
            let user = current_user_id(&state, principal)?;
            let sessions: Vec<Value> = state
                .sessions
                .iter()
                .filter(|s| s.user_id == user)
                .map(session_json)
                .collect();
            let mut body = template(200);
            if let Some(object) = body.as_object_mut() {
                fill(object, "sessions", Value::Array(sessions));
            }
            Ok((200, Some(body)))
        }
        "get_session" => {
            let user = current_user_id(&state, principal)?;
            let id = session_id(checked)?;
            let session = state
                .sessions
                .iter()
                .find(|s| s.id.to_string() == id && s.user_id == user)
                .ok_or_else(|| Failure(404, format!("no session {id}")))?;
            Ok((200, Some(session_json(session))))
        }
        "delete_session" => {
            let user = current_user_id(&state, principal)?;
            let id = session_id(checked)?;
            let before = state.sessions.len();
            state
                .sessions
                .retain(|s| !(s.id.to_string() == id && s.user_id == user));
            if state.sessions.len() == before {
                return Err(Failure(404, format!("no session {id}")));
            }
            Ok((204, None))
        }
        "delete_sessions" => {
            // Every session of the user but the one making the call.
            let user = current_user_id(&state, principal)?;
            let current = match principal {
                Some(Principal::Session(id)) => Some(id),
                _ => None,
            };
            state
                .sessions
                .retain(|s| s.user_id != user || Some(s.id) == current);
            Ok((204, None))
        }
        "delete_sign_out" => {
            if let Some(Principal::Session(id)) = principal {
                state.sessions.retain(|s| s.id != id);
            }
            let mut body = template(200);
            if let Some(object) = body.as_object_mut() {
                fill(object, "success", json!(true));
                fill(object, "ret-url", json!("https://probe.dev/"));
            }
            Ok((200, Some(body)))
        }
        "put_current_password" => {
            let user = current_user_id(&state, principal)?;
            let old = checked.str("old-password").unwrap_or_default().to_string();
            let new = checked.str("new-password").unwrap_or_default().to_string();
            let user = state
                .user_mut(user)
                .ok_or_else(|| Failure(401, "no current user".into()))?;
            if user.password != old {
                return Err(Failure(401, "the old password is wrong".into()));
            }
            user.password = new;
            Ok((204, None))
        }
        "put_user_password" => {
            let id = user_id(checked)?;
            let new = checked.str("new-password").unwrap_or_default().to_string();
            let user = state
                .user_mut(id)
                .ok_or_else(|| Failure(404, format!("no user {id}")))?;
            user.password = new;
            Ok((204, None))
        }
        "get_current_user" | "put_current_user_profile" | "get_user" | "put_user_profile" => {
            let id = if route.operation.contains("current") {
                current_user_id(&state, principal)?
            } else {
                user_id(checked)?
            };
            let user = state
                .user_mut(id)
                .ok_or_else(|| Failure(404, format!("no user {id}")))?;
            if route.operation.starts_with("put") {
                if let Some(first) = checked.str("first-name") {
                    user.first_name = first.to_string();
                }
                if let Some(last) = checked.str("last-name") {
                    user.last_name = last.to_string();
                }
            }
            let mut body = template(200);
            if let Some(object) = body.as_object_mut() {
                fill(object, "id", json!(user.id));
                fill(object, "email", json!(user.email));
                fill(object, "first-name", json!(user.first_name));
                fill(object, "last-name", json!(user.last_name));
                fill(object, "status", json!("active"));
                fill(object, "additional-emails", json!([]));
            }
            Ok((200, Some(body)))
        }
        "get_users" => {
            let mut body = template(200);
            let item = body
                .get("users")
                .and_then(|u| u.get(0))
                .cloned()
                .unwrap_or_else(|| json!({}));
            let users: Vec<Value> = state
                .users
                .iter()
                .map(|u| {
                    let mut entry = item.clone();
                    if let Some(object) = entry.as_object_mut() {
                        fill(object, "id", json!(u.id));
                        fill(object, "email", json!(u.email));
                        fill(
                            object,
                            "username",
                            json!(u.email.split('@').next().unwrap_or("")),
                        );
                        fill(object, "status", json!("active"));
                    }
                    entry
                })
                .collect();
            let (users, pagination) = super::paging::page(checked, &users);
            if let Some(object) = body.as_object_mut() {
                fill(object, "users", Value::Array(users));
                fill(object, "pagination", pagination);
            }
            Ok((200, Some(body)))
        }
        "get_api_token_list" => {
            let user = current_user_id(&state, principal)?;
            let include_expired = flag(checked, "include-expired");
            let now = state.now();
            let tokens: Vec<Value> = state
                .tokens
                .iter()
                .filter(|t| t.user_id == user && (include_expired || !t.expired_at(now)))
                .map(|t| token_json(t, now, true))
                .collect();
            Ok((200, Some(json!({ "api-tokens": tokens }))))
        }
        "post_api_token" => {
            let user = current_user_id(&state, principal)?;
            let ttl = ttl_seconds(checked)?;
            let now = state.now();
            let token = ApiToken {
                token: state.new_secret("ptk_"),
                user_id: user,
                permissions: permission_list(checked, "permissions"),
                restrictions: Vec::new(),
                created: now,
                updated: now,
                expires: expiry(now, ttl),
            };
            let body = token_json(&token, now, false);
            state.tokens.push(token);
            Ok((200, Some(body)))
        }
        "get_api_token" => {
            let user = current_user_id(&state, principal)?;
            let include_expired = flag(checked, "include-expired");
            let now = state.now();
            let token = find_token(&mut state, user, checked, include_expired)?;
            Ok((200, Some(token_json(token, now, true))))
        }
        "put_api_token" => {
            // A refresh restarts the TTL from now (0: never expires), also
            // for an expired token; `reset-permissions` replaces the
            // permissions with the ones given, otherwise they are added;
            // restrictions given replace the token's restrictions.
            let user = current_user_id(&state, principal)?;
            let ttl = ttl_seconds(checked)?;
            let reset = flag(checked, "reset-permissions");
            let permissions = permission_list(checked, "permissions");
            let restrictions = checked
                .get("restrictions")
                .map(|_| permission_list(checked, "restrictions"));
            let now = state.now();
            let token = find_token(&mut state, user, checked, true)?;
            if reset {
                token.permissions = permissions;
            } else {
                for permission in permissions {
                    if !token.permissions.contains(&permission) {
                        token.permissions.push(permission);
                    }
                }
            }
            if let Some(restrictions) = restrictions {
                token.restrictions = restrictions;
            }
            token.expires = expiry(now, ttl);
            token.updated = now;
            Ok((200, Some(token_json(token, now, true))))
        }
        "delete_api_token" => {
            let user = current_user_id(&state, principal)?;
            let wanted = checked.str("token").unwrap_or_default().to_string();
            let before = state.tokens.len();
            state
                .tokens
                .retain(|t| !(t.token == wanted && t.user_id == user));
            if state.tokens.len() == before {
                return Err(Failure(404, "no such API token".into()));
            }
            Ok((204, None))
        }
        "post_jwt_token" => {
            let user = current_user_id(&state, principal)?;
            let long_term = flag(checked, "long-term-token");
            let now = state.now();
            let lifetime = chrono::Duration::days(if long_term { 365 } else { 14 });
            let expire = now
                .checked_add_signed(lifetime)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
            let jwt = IssuedJwt {
                jwt: state.new_secret("mock.jwt."),
                user_id: user,
                expire,
            };
            let body = json!({
                "token": jwt.jwt,
                "expire": expire.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            state.jwts.push(jwt);
            Ok((200, Some(body)))
        }
        "delete_current_user" => {
            let user = current_user_id(&state, principal)?;
            state.delete_user(user);
            Ok((204, None))
        }
        "get_log" => {
            let mut body = template(200);
            // The newest request first, as the service lists them.
            let newest_first: Vec<Value> = state.log.iter().rev().cloned().collect();
            let (entries, pagination) = super::paging::page(checked, &newest_first);
            if let Some(object) = body.as_object_mut() {
                fill(object, "log", Value::Array(entries));
                fill(object, "pagination", pagination);
            }
            Ok((200, Some(body)))
        }
        "get_log_entry" => {
            let id = checked
                .str("log-request-id")
                .unwrap_or_default()
                .to_string();
            let entry = state
                .log
                .iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(id.as_str()))
                .cloned()
                .ok_or_else(|| Failure(404, format!("no log request {id}")))?;
            let mut body = template(200);
            if let (Some(object), Some(entry)) = (body.as_object_mut(), entry.as_object()) {
                for (key, value) in entry {
                    fill(object, key, value.clone());
                }
            }
            Ok((200, Some(body)))
        }
        _ => {
            // Statistics and any operation a newer document adds: data
            // that conforms to the document.
            let status = first_success_status(shared, route);
            let body = response_schema(shared, route, status)
                .map(|_| example_response(shared, route, status));
            Ok((status, body))
        }
    }
}

fn first_success_status(shared: &Shared, route: &Route) -> u16 {
    shared
        .document
        .at(&format!("{}/responses", route.pointer))
        .and_then(Value::as_object)
        .and_then(|r| {
            r.keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .filter(|s| (200..300).contains(s))
                .min()
        })
        .unwrap_or(200)
}

fn current_user_id(state: &State, principal: Option<Principal>) -> Result<u64, Failure> {
    principal
        .and_then(|p| state.user_of(p))
        .map(|u| u.id)
        .ok_or_else(|| Failure(401, "no current user".into()))
}

fn session_id(checked: &Checked) -> Result<String, Failure> {
    checked
        .str("session-id")
        .map(str::to_string)
        .ok_or_else(|| Failure(400, "path parameter `session-id` is required".into()))
}

fn user_id(checked: &Checked) -> Result<u64, Failure> {
    checked
        .get("user-id")
        .and_then(Value::as_u64)
        .ok_or_else(|| Failure(400, "path parameter `user-id` is required".into()))
}

fn session_json(session: &super::state::Session) -> Value {
    json!({
        "id": session.id.to_string(),
        "created": session.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expire": session.expire.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "remote-ip": session.remote_ip,
        "user-agent": session.user_agent,
        "ua-type": "library",
    })
}

/// A sign-in answer for `user`, with a new session and its JWT.
fn signed_in(
    state: &mut State,
    user: &super::state::User,
    incoming: &Incoming,
    mut body: Value,
) -> Value {
    let user_agent = incoming.header("user-agent").unwrap_or("unknown");
    let session = state.open_session(user.id, user_agent, "127.0.0.1");
    if let Some(object) = body.as_object_mut() {
        fill(object, "api-token", json!(super::API_KEY));
        fill(object, "email", json!(user.email));
        fill(object, "current-user", json!(user.email));
        fill(object, "user-id", json!(user.id));
        fill(object, "status", json!("active"));
        fill(object, "ret-url", Value::Null);
        fill(object, "oauth-provider-tokens", json!([]));
        fill(
            object,
            "jwt-token",
            json!({"token": session.jwt, "expire": session.expire.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
        );
        fill(
            object,
            "check-auth-result",
            json!({"ok": true, "message": "signed in"}),
        );
    }
    body
}

/// A file probe: the requested tools' output for the media URL.
fn media_probe(
    shared: &Shared,
    state: &mut State,
    principal: Option<Principal>,
    checked: &Checked,
    mut body: Value,
) -> Value {
    let url = checked.str("url").unwrap_or(super::SAMPLE_URL).to_string();
    // Unknown URLs get the default sample; fixtures are shared, not copied.
    let fixture = {
        let media = lock(&shared.media);
        media
            .get(&url)
            .or_else(|| media.get(super::SAMPLE_URL))
            .cloned()
            .unwrap_or_default()
    };
    let only = checked.str("only").map(str::to_string);
    let wanted = |tool: &str| match &only {
        Some(only) => only == tool,
        None => checked
            .get(tool)
            .and_then(|g| g.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(true),
    };
    let option = |tool: &str, name: &str| {
        checked
            .get(tool)
            .and_then(|g| g.get(name))
            .and_then(Value::as_bool)
    };
    let request_id = state.next_uuid();
    let tool = |output: Option<Value>| match (&fixture.error, output) {
        (Some(error), _) => {
            json!({"success": false, "error": error, "duration": 3, "usage": 0, "response": null})
        }
        (None, Some(output)) => {
            json!({"success": true, "error": null, "duration": 212, "usage": 1, "response": output})
        }
        (None, None) => {
            json!({"success": false, "error": "the tool printed nothing for this media", "duration": 3, "usage": 0, "response": null})
        }
    };

    let mut ffprobe_output = if option("ffprobe", "show_frames") == Some(true)
        || option("ffprobe", "show_packets") == Some(true)
    {
        fixture.ffprobe_frames.clone().or(fixture.ffprobe.clone())
    } else {
        fixture.ffprobe.clone()
    };
    if let Some(Value::Object(output)) = ffprobe_output.as_mut() {
        for (flag, section) in [
            ("show_streams", "streams"),
            ("show_format", "format"),
            ("show_chapters", "chapters"),
            ("show_programs", "programs"),
        ] {
            if option("ffprobe", flag) == Some(false) {
                output.remove(section);
            }
        }
    }
    let report = fixture.ffprobe.as_ref().map(probe_report);

    if let Some(object) = body.as_object_mut() {
        fill(object, "success", json!(fixture.error.is_none()));
        fill(
            object,
            "error",
            fixture.error.clone().map_or(Value::Null, Value::String),
        );
        for (name, output) in [
            ("ffprobe", ffprobe_output),
            ("mediainfo", fixture.mediainfo.clone()),
            ("probe_report", report),
        ] {
            if wanted(name) {
                fill(object, name, tool(output));
            } else {
                object.remove(name);
            }
        }
        fill(
            object,
            "metadata",
            json!({"request_id": request_id.to_string(), "queue_time": 0, "io_usage": 4096}),
        );
    }

    let user_id = principal.and_then(|p| state.user_of(p)).map_or(1, |u| u.id);
    state.log.push(log_entry(shared, request_id, &url, user_id));
    body
}

/// A `MediaShortLog`-shaped entry for the request log.
pub(crate) fn log_entry(shared: &Shared, id: uuid::Uuid, url: &str, user_id: u64) -> Value {
    let item = shared
        .routes
        .pointer_of("get_log")
        .and_then(|p| {
            shared.document.at(&format!(
                "{p}/responses/200/content/{}/schema",
                escape("application/json")
            ))
        })
        .map(|schema| shared.document.resolve(schema))
        .and_then(|schema| schema.get("properties")?.get("log")?.get("items"))
        .map(|items| shared.document.example(items))
        .unwrap_or_else(|| json!({}));
    let mut entry = item;
    if let Some(object) = entry.as_object_mut() {
        fill(object, "id", json!(id.to_string()));
        fill(object, "url", json!(url));
        fill(object, "user-id", json!(user_id));
        fill(
            object,
            "send",
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    entry
}

/// A short report derived from FFprobe's output, standing in for the
/// service's Probe Report.
fn probe_report(ffprobe: &Value) -> Value {
    let streams: Vec<Value> = ffprobe
        .get("streams")
        .and_then(Value::as_array)
        .map(|streams| {
            streams
                .iter()
                .map(|s| {
                    json!({
                        "index": s.get("index"),
                        "codec_type": s.get("codec_type"),
                        "codec_name": s.get("codec_name"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "container": ffprobe.pointer("/format/format_name"),
        "duration": ffprobe.pointer("/format/duration"),
        "streams": streams,
        "note": "mock: derived from the FFprobe output",
    })
}

fn redact_query(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let v = if k == "token" || k == "jwt" {
                "<redacted>".into()
            } else {
                v
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The reason phrase of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}
