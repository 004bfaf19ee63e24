//! Model names people read: the provider's Go package paths out, inline
//! error bodies named as errors.
//!
//! The provider's generator names each schema after its Go type, package
//! first (`usercommon.Status` is `UsercommonStatus`), and a Go generic
//! instantiation after every package path in it
//! (`SortfieldSortInternalRouterRoutesUserSortFieldInternalToolsOrderfieldString`).
//! progenitor turns inline response schemas into `{Operation}Response`, so the
//! error body of `get_file` would read like its success type. This pass
//! renames, by rules that hold for any document of this provider:
//!
//! 1. [`EXACT`]: the few names no rule reads well (`OrderfieldString`, a
//!    sort order, is `SortOrder`).
//! 2. A Go generic instantiation (a name with the word `Internal`, from Go's
//!    `internal/` package paths) is named after its first type argument, by
//!    the longest tail of that argument that names a schema of the
//!    document, without a trailing `Field`, and the generic type's name:
//!    `Sort[…user.SortField, …]` is `UserSort`.
//! 3. A leading word that is one of the provider's implementation packages
//!    ([`PACKAGES`]: `Usercommon`, `Probefile`, `Gateway`, …) is replaced by
//!    the domain word it stands for, or dropped; after the `FormData` prefix
//!    of form bodies too. Package words that are words of the API's domain
//!    (`Auth`, `User`, `Media`, `Statistics`) stay.
//! 4. A name that starts with the same word twice (`PaginationPagination`,
//!    Go's package and type of one name) keeps one.
//! 5. An inline JSON schema of an operation's error responses becomes the
//!    component `{Operation}Error` (or `{Operation}Error{Status}` where they
//!    differ).
//!
//! A new name that is empty, is not an identifier or is taken keeps the
//! original name. Every rename is a [`Rule::SchemaName`] rewrite in
//! `cargo xtask spec report`, and [`renames`] gives the original of each new
//! name (API.md shows both). The wire does not change: schema names are
//! not sent.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::normalize::{Operation, Rewrite, Rule};

/// Names no rule reads well, and what they are called instead.
pub const EXACT: [(&str, &str); 2] = [
    ("OrderfieldString", "SortOrder"),
    ("RestErrResponse", "ErrorResponse"),
];

/// The provider's Go packages that name implementation rather than the
/// API's domain, and the word that replaces them (empty: dropped).
pub const PACKAGES: [(&str, &str); 9] = [
    ("Usercommon", "User"),
    ("Probefile", "Probe"),
    ("Probemsv", "Msv"),
    ("Gateway", ""),
    ("Versions", ""),
    ("Sortfield", ""),
    ("Orderfield", ""),
    ("Rest", ""),
    ("Router", ""),
];

/// The words of a PascalCase name; a run of capitals is one word
/// (`FFProbe` is `FF`, `Probe`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let boundary = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next_lower)
            });
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        word.push(c);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The new name rules 1 to 4 give `name`, if any.
fn renamed(name: &str, schemas: &BTreeSet<String>) -> Option<String> {
    if let Some((_, new)) = EXACT.iter().find(|(old, _)| *old == name) {
        return Some((*new).to_string());
    }
    let mut words = words(name);
    if let Some(at) = words.iter().position(|w| w == "Internal") {
        // `{package}{Generic}Internal{path…}{Argument}Internal…`
        let generic: Vec<String> = words.get(1..at)?.to_vec();
        let rest = &words[at + 1..];
        let end = rest
            .iter()
            .position(|w| w == "Internal")
            .unwrap_or(rest.len());
        let argument = &rest[..end];
        let mut typed: Vec<String> = (0..argument.len())
            .map(|from| argument[from..].to_vec())
            .find(|tail| schemas.contains(&tail.concat()))
            .or_else(|| argument.last().map(|w| vec![w.clone()]))?;
        if typed.len() > 1 && typed.last().is_some_and(|w| w == "Field") {
            typed.pop();
        }
        if !typed.ends_with(&generic) {
            typed.extend(generic);
        }
        return Some(typed.concat());
    }
    let prefix: Vec<String> = if words.len() > 2 && words[0] == "Form" && words[1] == "Data" {
        words.drain(..2).collect()
    } else {
        Vec::new()
    };
    if words.len() > 1
        && let Some((_, word)) = PACKAGES.iter().find(|(package, _)| *package == words[0])
    {
        if word.is_empty() {
            words.remove(0);
        } else {
            words[0] = (*word).to_string();
        }
    }
    if words.len() > 1 && words[0] == words[1] {
        words.remove(0);
    }
    let new = [prefix, words].concat().concat();
    (new != name).then_some(new)
}

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Hoists inline error schemas (rule 5) and renames schemas (rules 1 to 4)
/// in `document`, returning the rewrites made.
pub fn apply(document: &mut Value, operations: &[Operation]) -> Vec<Rewrite> {
    let mut rewrites = hoist_error_schemas(document, operations);
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return rewrites;
    };
    let existing: BTreeSet<String> = schemas.keys().cloned().collect();
    let mut taken = existing.clone();
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for name in &existing {
        let Some(new) = renamed(name, &existing) else {
            continue;
        };
        if !is_identifier(&new) || taken.contains(&new) {
            rewrites.push(rewrite(
                name,
                format!("`{name}` keeps its name: `{new}` is not free or not a name"),
            ));
            continue;
        }
        taken.remove(name);
        taken.insert(new.clone());
        map.insert(name.clone(), new);
    }
    if map.is_empty() {
        return rewrites;
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let old = std::mem::take(schemas);
        for (name, mut schema) in old {
            match map.get(&name) {
                Some(new) => {
                    mark_original(&mut schema, &name);
                    rewrites.push(rewrite(&name, format!("`{name}` -> `{new}`")));
                    schemas.insert(new.clone(), schema);
                }
                None => {
                    schemas.insert(name, schema);
                }
            }
        }
    }
    retarget_refs(document, &map);
    rewrites
}

/// The original name of every renamed schema, by its new name, read back
/// from the marks [`apply`] leaves in the normalized document.
#[allow(
    dead_code,
    reason = "read by `cargo xtask api`, not by the build script"
)]
pub fn renames(normalized: &Value) -> BTreeMap<String, String> {
    normalized
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            let original = schema.get(ORIGINAL_NAME)?.as_str()?;
            Some((name.clone(), original.to_string()))
        })
        .collect()
}

/// The extension that keeps a renamed schema's name in the document.
pub const ORIGINAL_NAME: &str = "x-probe-original-name";

fn mark_original(schema: &mut Value, name: &str) {
    if let Some(object) = schema.as_object_mut() {
        object.insert(ORIGINAL_NAME.into(), json!(name));
    }
}

fn rewrite(name: &str, detail: String) -> Rewrite {
    Rewrite {
        pointer: super::pointer(["components", "schemas", name]),
        rule: Rule::SchemaName,
        detail,
    }
}

/// Points every `$ref` (and discriminator mapping) at the new names.
fn retarget_refs(value: &mut Value, map: &BTreeMap<String, String>) {
    const PREFIX: &str = "#/components/schemas/";
    let retarget = |text: &mut String| {
        if let Some(name) = text.strip_prefix(PREFIX)
            && let Some(new) = map.get(name)
        {
            *text = format!("{PREFIX}{new}");
        }
    };
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                match child {
                    Value::String(text) if key == "$ref" => retarget(text),
                    Value::Object(mapping) if key == "mapping" => {
                        for target in mapping.values_mut() {
                            if let Value::String(text) = target {
                                retarget(text);
                            }
                        }
                    }
                    _ => retarget_refs(child, map),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retarget_refs(v, map)),
        _ => {}
    }
}

/// Rule 5: each operation's inline JSON error schemas become components.
fn hoist_error_schemas(document: &mut Value, operations: &[Operation]) -> Vec<Rewrite> {
    let mut rewrites = Vec::new();
    for op in operations {
        let pointer = format!(
            "/paths/{}/{}/responses",
            super::escape_segment(&op.path),
            op.method.to_ascii_lowercase()
        );
        let Some(responses) = document.pointer(&pointer).and_then(Value::as_object) else {
            continue;
        };
        let inline: Vec<(String, Value)> = responses
            .iter()
            .filter(|(status, _)| {
                status.starts_with('4') || status.starts_with('5') || *status == "default"
            })
            .filter_map(|(status, response)| {
                let schema = response.pointer("/content/application~1json/schema")?;
                (schema.get("$ref").is_none() && schema.is_object())
                    .then(|| (status.clone(), schema.clone()))
            })
            .collect();
        if inline.is_empty() {
            continue;
        }
        let operation = pascal(&op.rust_name);
        let same = inline.windows(2).all(|w| w[0].1 == w[1].1);
        let mut added: Vec<(String, String, Value)> = Vec::new();
        for (status, schema) in inline {
            let name = if same {
                format!("{operation}Error")
            } else {
                format!("{operation}Error{}", pascal(&status))
            };
            added.push((status, name, schema));
        }
        let taken = |name: &str, document: &Value| {
            document
                .pointer(&format!("/components/schemas/{name}"))
                .is_some()
        };
        if added.iter().any(|(_, name, schema)| {
            taken(name, document)
                && document.pointer(&format!("/components/schemas/{name}")) != Some(schema)
        }) {
            continue;
        }
        for (status, name, schema) in added {
            if !document["components"].is_object() {
                document["components"] = json!({});
            }
            if !document["components"]["schemas"].is_object() {
                document["components"]["schemas"] = Value::Object(Map::new());
            }
            document["components"]["schemas"][&name] = schema;
            if let Some(slot) = document.pointer_mut(&format!(
                "{pointer}/{status}/content/application~1json/schema"
            )) {
                *slot = json!({"$ref": format!("#/components/schemas/{name}")});
            }
            rewrites.push(Rewrite {
                pointer: format!("#{pointer}/{status}"),
                rule: Rule::SchemaName,
                detail: format!("inline error body -> `{name}`"),
            });
        }
    }
    rewrites
}

/// `get_file` -> `GetFile`, `default` -> `Default`.
fn pascal(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_keep_runs_of_capitals_together() {
        assert_eq!(
            words("VersionsFFProbeRequestVersion"),
            ["Versions", "FF", "Probe", "Request", "Version"]
        );
        assert_eq!(
            words("AuthPostJWTTokenRequest"),
            ["Auth", "Post", "JWT", "Token", "Request"]
        );
        assert_eq!(
            words("GatewayGetC2paResponse"),
            ["Gateway", "Get", "C2pa", "Response"]
        );
    }

    #[test]
    fn the_rules_give_names_without_go_packages() {
        let schemas = names(&["UserSortField", "MediaLogSortField", "OrderfieldString"]);
        for (old, new) in [
            (
                "SortfieldSortInternalRouterRoutesUserSortFieldInternalToolsOrderfieldString",
                Some("UserSort"),
            ),
            (
                "SortfieldSortInternalToolsMediaLogSortFieldInternalToolsMediaLogOrderField",
                Some("MediaLogSort"),
            ),
            ("UsercommonStatus", Some("UserStatus")),
            ("ProbefileRequestFFProbe", Some("ProbeRequestFFProbe")),
            (
                "FormDataProbefileRequestFFProbe",
                Some("FormDataProbeRequestFFProbe"),
            ),
            (
                "FormDataGatewayPostMediaStreamValidatorRequest",
                Some("FormDataPostMediaStreamValidatorRequest"),
            ),
            ("GatewayGetFileResponse", Some("GetFileResponse")),
            ("PaginationPagination", Some("Pagination")),
            (
                "VersionsFFProbeRequestVersion",
                Some("FFProbeRequestVersion"),
            ),
            ("OrderfieldString", Some("SortOrder")),
            ("AuthSession", None),
            ("StatisticsYear", None),
            ("Gateway", None),
        ] {
            assert_eq!(renamed(old, &schemas).as_deref(), new, "{old}");
        }
    }
}
