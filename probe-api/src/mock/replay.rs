//! Serving a cassette: each request answered with the recorded answer of
//! the interaction it matches, and every recorded answer checked against
//! the document first.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::handlers::{Outcome, reason};
use super::request::Incoming;
use super::schema::{Document, escape};
use super::{MockError, lock};
use crate::cassette::{Cassette, Interaction, RecordedRequest, is_placeholder};

/// How many differences an unmatched request's answer lists.
const MAX_DIFFERENCES: usize = 6;

/// A cassette being replayed, and which of its interactions were used.
#[derive(Debug)]
pub(crate) struct Replay {
    cassette: Cassette,
    used: Mutex<Vec<bool>>,
}

/// A recorded answer the document no longer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaleAnswer {
    /// The interaction's index in the cassette (from 0).
    pub interaction: usize,
    /// Its operation, such as `"get_file"`.
    pub operation: String,
    /// The recorded status.
    pub status: u16,
    /// The JSON pointer, in the recorded body, of what the document refuses
    /// (`/` for the whole body, or the operation's path when the document
    /// no longer has the operation).
    pub path: String,
    /// Why.
    pub message: String,
}

impl fmt::Display for StaleAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interaction {} ({} {}) at {}: {}",
            self.interaction, self.operation, self.status, self.path, self.message
        )
    }
}

/// Every recorded answer of `cassette` that the API document the client
/// was generated from no longer accepts: after `cargo xtask fetch` and a
/// rebuild, the cassettes to record again.
///
/// # Errors
///
/// The embedded document cannot be read, or one of its response schemas
/// does not compile.
pub fn stale_answers(cassette: &Cassette) -> Result<Vec<StaleAnswer>, MockError> {
    let document = Document::load().map_err(MockError)?;
    check(cassette, &document)
}

/// [`stale_answers`] against another OpenAPI document (as JSON, in the
/// form of the effective document: the provider's document with the
/// overlay), such as a newer version before the client is regenerated.
///
/// # Errors
///
/// One of the document's response schemas does not compile.
pub fn stale_answers_against(
    cassette: &Cassette,
    document: &Value,
) -> Result<Vec<StaleAnswer>, MockError> {
    check(cassette, &Document::from_value(document.clone()))
}

fn check(cassette: &Cassette, document: &Document) -> Result<Vec<StaleAnswer>, MockError> {
    let mut stale = Vec::new();
    for (index, interaction) in cassette.interactions.iter().enumerate() {
        let response = &interaction.response;
        let Some(body) = &response.body else {
            continue;
        };
        let Some(spec) = crate::spec::operation(&interaction.operation) else {
            continue;
        };
        let pointer = format!(
            "/paths/{}/{}",
            escape(spec.path),
            spec.method.to_ascii_lowercase()
        );
        let stale_answer = |path: String, message: String| StaleAnswer {
            interaction: index,
            operation: interaction.operation.clone(),
            status: response.status,
            path,
            message,
        };
        if document.at(&pointer).is_none() {
            stale.push(stale_answer(
                spec.path.to_string(),
                format!("the document has no {} {}", spec.method, spec.path),
            ));
            continue;
        }
        // A status the document describes no body for (an error of a
        // proxy, say) has nothing to check.
        let Some(schema) = document.response_schema(&pointer, response.status) else {
            continue;
        };
        let violations = document.violations(&schema, body).map_err(MockError)?;
        stale.extend(
            violations
                .into_iter()
                .map(|(path, message)| stale_answer(path, message)),
        );
    }
    Ok(stale)
}

impl Replay {
    /// A replay of `cassette`, refused when the document no longer accepts
    /// one of its answers.
    pub(crate) fn new(cassette: Cassette, document: &Document) -> Result<Replay, MockError> {
        let stale = check(&cassette, document)?;
        if !stale.is_empty() {
            let list: Vec<String> = stale.iter().map(ToString::to_string).collect();
            return Err(MockError(format!(
                "the cassette has answers the API document no longer accepts; record it again: {}",
                list.join("; ")
            )));
        }
        let used = Mutex::new(vec![false; cassette.interactions.len()]);
        Ok(Replay { cassette, used })
    }

    /// The recorded answer of the first unused interaction that `incoming`
    /// matches, in recorded order; or an error answer that names the
    /// closest recorded request and how it differs.
    pub(crate) fn answer(&self, operation: Option<&str>, incoming: &Incoming) -> Outcome {
        let sent = Sent::of(incoming);
        let interactions = &self.cassette.interactions;
        let mut used = lock(&self.used);
        let mut closest: Option<(usize, Vec<String>)> = None;
        for (index, interaction) in interactions.iter().enumerate() {
            let differences = differences(interaction, operation, &sent);
            if differences.is_empty() && !used[index] {
                used[index] = true;
                return replayed(interaction);
            }
            // An unused interaction is the closer of two that differ as much.
            let rank = |i: usize, d: &Vec<String>| (d.len(), used[i]);
            if closest
                .as_ref()
                .is_none_or(|(i, d)| rank(index, &differences) < rank(*i, d))
            {
                closest = Some((index, differences));
            }
        }
        let what = format!(
            "{} {}{}",
            incoming.method,
            incoming.path,
            incoming
                .query
                .as_deref()
                .map_or(String::new(), |q| format!("?{}", redact_credentials(q)))
        );
        let message = match closest {
            None => format!("the cassette has no interactions; nothing answers {what}"),
            Some((index, differences)) if differences.is_empty() => format!(
                "{what} matches interaction {index} ({}), which was already replayed: the cassette has no further answer for it",
                interactions[index].operation
            ),
            Some((index, differences)) => format!(
                "no recorded interaction matches {what}; the closest, interaction {index} ({} {} {}), differs in: {}",
                interactions[index].operation,
                interactions[index].request.method,
                interactions[index].request.path,
                differences.join("; ")
            ),
        };
        // 501: not retried, so the test sees this message at once.
        Outcome::Respond {
            status: 501,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"code": 501, "status": reason(501), "error": format!("mock replay: {message}")})
                .to_string()
                .into_bytes(),
        }
    }

    /// The interactions never replayed, described.
    pub(crate) fn unused(&self) -> Vec<String> {
        let used = lock(&self.used);
        self.cassette
            .interactions
            .iter()
            .enumerate()
            .filter(|(index, _)| !used[*index])
            .map(|(index, interaction)| {
                format!(
                    "interaction {index} ({} {} {} answered {})",
                    interaction.operation,
                    interaction.request.method,
                    interaction.request.path,
                    interaction.response.status
                )
            })
            .collect()
    }
}

/// The answer an interaction recorded; a recorded failure closes the
/// connection.
fn replayed(interaction: &Interaction) -> Outcome {
    let response = &interaction.response;
    if response.failure.is_some() || response.status == 0 {
        return Outcome::Drop;
    }
    let headers = response
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = crate::cassette::KEPT_HEADERS
                .iter()
                .find(|kept| kept.eq_ignore_ascii_case(name))?;
            Some((*name, value.clone()))
        })
        .collect();
    let body = match (&response.body, &response.body_text) {
        (Some(json), _) => json.to_string().into_bytes(),
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    Outcome::Respond {
        status: response.status,
        headers,
        body,
    }
}

/// A request as it is compared with the recorded ones.
struct Sent {
    method: String,
    /// Percent-decoded segments.
    path: Vec<String>,
    query: BTreeMap<String, Vec<String>>,
    body: Option<Value>,
    body_text: Option<String>,
}

impl Sent {
    fn of(incoming: &Incoming) -> Sent {
        let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in incoming.query_pairs() {
            query.entry(name).or_default().push(value);
        }
        let (body, body_text) = if incoming.body.is_empty() {
            (None, None)
        } else if incoming
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        {
            (
                None,
                Some(String::from_utf8_lossy(&incoming.body).into_owned()),
            )
        } else {
            match serde_json::from_slice::<Value>(&incoming.body) {
                Ok(value) => (Some(value), None),
                Err(_) => (
                    None,
                    Some(String::from_utf8_lossy(&incoming.body).into_owned()),
                ),
            }
        };
        Sent {
            method: incoming.method.clone(),
            path: segments(&incoming.path),
            query,
            body,
            body_text,
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// A recorded text and a sent one are the same, or the recorded one is a
/// credential's placeholder and the sent one a real credential (a test
/// replays with its own password or key).
fn same_text(recorded: &str, sent: &str) -> bool {
    recorded == sent || (is_placeholder(recorded) && !is_placeholder(sent))
}

/// How `sent` differs from what `interaction` recorded; empty when it
/// matches.
fn differences(interaction: &Interaction, operation: Option<&str>, sent: &Sent) -> Vec<String> {
    let recorded: &RecordedRequest = &interaction.request;
    let mut out = Vec::new();
    // A raw request was recorded under no operation of the document.
    if let Some(operation) = operation
        && crate::spec::operation(&interaction.operation).is_some()
        && interaction.operation != operation
    {
        out.push(format!(
            "operation: recorded {}, sent {operation}",
            interaction.operation
        ));
    }
    if !recorded.method.eq_ignore_ascii_case(&sent.method) {
        out.push(format!(
            "method: recorded {}, sent {}",
            recorded.method, sent.method
        ));
    }
    // The recorded path may carry a base URL's prefix: its end is compared.
    let recorded_path = segments(&recorded.path);
    let same_path = recorded_path.len() >= sent.path.len()
        && recorded_path[recorded_path.len() - sent.path.len()..]
            .iter()
            .zip(&sent.path)
            .all(|(r, s)| same_text(r, s));
    if !same_path {
        out.push(format!(
            "path: recorded {}, sent /{}",
            recorded.path,
            sent.path.join("/")
        ));
    }
    let names: std::collections::BTreeSet<&String> =
        recorded.query.keys().chain(sent.query.keys()).collect();
    for name in names {
        let credential = crate::cassette::is_credential_name(name);
        let show = |values: &Vec<String>| {
            if credential {
                "<credential>".to_string()
            } else {
                format!("{values:?}")
            }
        };
        match (recorded.query.get(name), sent.query.get(name)) {
            (Some(r), Some(s))
                if r.len() == s.len() && r.iter().zip(s).all(|(r, s)| same_text(r, s)) => {}
            (Some(r), Some(s)) => out.push(format!(
                "query `{name}`: recorded {}, sent {}",
                show(r),
                show(s)
            )),
            (Some(_), None) => out.push(format!("query `{name}`: recorded, not sent")),
            (None, Some(_)) => out.push(format!("query `{name}`: sent, not recorded")),
            (None, None) => {}
        }
    }
    match (&recorded.body, &sent.body) {
        (Some(r), Some(s)) => json_differences(r, s, String::new(), &mut out),
        (None, None) => {}
        (Some(_), None) => out.push("body: recorded JSON, sent none or text".into()),
        (None, Some(_)) => out.push("body: sent JSON, recorded none or text".into()),
    }
    match (&recorded.body_text, &sent.body_text) {
        (Some(r), Some(s)) if !same_form(r, s) => out.push("body: the text differs".into()),
        (Some(_), None) | (None, Some(_)) if recorded.body.is_none() && sent.body.is_none() => {
            out.push("body: recorded and sent differ in whether there is one".into());
        }
        _ => {}
    }
    out.truncate(MAX_DIFFERENCES);
    out
}

/// Two form bodies with the same fields (order aside), a credential's
/// placeholder matching a real one.
fn same_form(recorded: &str, sent: &str) -> bool {
    let parse = |text: &str| {
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        pairs
    };
    let (recorded, sent) = (parse(recorded), parse(sent));
    recorded.len() == sent.len()
        && recorded
            .iter()
            .zip(&sent)
            .all(|((rk, rv), (sk, sv))| rk == sk && same_text(rv, sv))
}

/// Where two JSON bodies differ, by JSON pointer.
fn json_differences(recorded: &Value, sent: &Value, at: String, out: &mut Vec<String>) {
    if out.len() >= MAX_DIFFERENCES {
        return;
    }
    let here = || {
        if at.is_empty() {
            "/".to_string()
        } else {
            at.clone()
        }
    };
    match (recorded, sent) {
        (Value::String(r), Value::String(s)) if same_text(r, s) => {}
        (Value::Object(r), Value::Object(s)) => {
            let keys: std::collections::BTreeSet<&String> = r.keys().chain(s.keys()).collect();
            for key in keys {
                let path = format!("{at}/{}", escape(key));
                match (r.get(key), s.get(key)) {
                    // A credential's value is never shown.
                    (Some(rv), Some(sv)) if crate::cassette::is_credential_name(key) => {
                        let same = match (rv, sv) {
                            (Value::String(rv), Value::String(sv)) => same_text(rv, sv),
                            (rv, sv) => rv == sv,
                        };
                        if !same {
                            out.push(format!("body {path}: the credential differs"));
                        }
                    }
                    (Some(rv), Some(sv)) => json_differences(rv, sv, path, out),
                    (Some(_), None) => out.push(format!("body {path}: recorded, not sent")),
                    (None, Some(_)) => out.push(format!("body {path}: sent, not recorded")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(r), Value::Array(s)) if r.len() == s.len() => {
            for (i, (rv, sv)) in r.iter().zip(s).enumerate() {
                json_differences(rv, sv, format!("{at}/{i}"), out);
            }
        }
        (r, s) if r == s => {}
        (r, s) => out.push(format!("body {}: recorded {r}, sent {s}", here())),
    }
}

/// A query string with credential values hidden, for the answer's message.
fn redact_credentials(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| {
            if crate::cassette::is_credential_name(&name) {
                format!("{name}=<credential>")
            } else {
                format!("{name}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}
