//! The mock's API tokens as the API shows them, and the values their
//! operations read from a request.

use serde_json::{Value, json};

use super::handlers::Failure;
use super::request::Checked;
use super::state::{ApiToken, State};

/// The token a path names, among the user's; expired ones only when asked.
pub(crate) fn find_token<'s>(
    state: &'s mut State,
    user: u64,
    checked: &Checked,
    include_expired: bool,
) -> Result<&'s mut ApiToken, Failure> {
    let wanted = checked.str("token").unwrap_or_default();
    let now = state.now();
    state
        .tokens
        .iter_mut()
        .find(|t| t.token == wanted && t.user_id == user && (include_expired || !t.expired_at(now)))
        .ok_or_else(|| Failure(404, "no such API token".into()))
}

/// A boolean parameter or body field; absent is `false`.
pub(crate) fn flag(checked: &Checked, name: &str) -> bool {
    checked.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// The body's `ttl` in seconds (0: never expires).
pub(crate) fn ttl_seconds(checked: &Checked) -> Result<u64, Failure> {
    match checked.get("ttl") {
        None | Some(Value::Null) => Ok(0),
        Some(value) => value
            .as_u64()
            .ok_or_else(|| Failure(400, "`ttl` must be a whole number of seconds".into())),
    }
}

pub(crate) fn expiry(
    now: chrono::DateTime<chrono::Utc>,
    ttl: u64,
) -> Option<chrono::DateTime<chrono::Utc>> {
    (ttl > 0).then(|| {
        i64::try_from(ttl)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    })
}

/// A list of permission names from the body (a form body repeats the name,
/// which the checker has already made an array).
pub(crate) fn permission_list(checked: &Checked, name: &str) -> Vec<String> {
    match checked.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A token as the API shows it: permissions and restrictions as objects
/// keyed by permission name.
pub(crate) fn token_json(
    token: &ApiToken,
    now: chrono::DateTime<chrono::Utc>,
    restrictions: bool,
) -> Value {
    let names = |list: &[String]| {
        Value::Object(
            list.iter()
                .map(|p| (p.clone(), Value::Bool(true)))
                .collect(),
        )
    };
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut body = json!({
        "token": token.token,
        "created": time(token.created),
        "updated": time(token.updated),
        "expires-at": token.expires.map(time),
        "expired": token.expired_at(now),
        "permissions": names(&token.permissions),
    });
    if restrictions && let Some(object) = body.as_object_mut() {
        object.insert("restrictions".into(), names(&token.restrictions));
    }
    body
}
