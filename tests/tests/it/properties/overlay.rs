//! Arbitrary overlay actions through the overlay applier.
//!
//! - `overlay_applier_survives_arbitrary_actions` (48 cases): overlays of one
//!   to three actions with JSONPath-like targets, valid and not, `update`
//!   with any JSON and `remove`, applied to the pinned document; an error
//!   of the applier names the action. One overlay in ten is damaged (a
//!   field of the wrong type), and then only "no panic" is asserted.

use std::cell::Cell;
use std::fmt;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use xtask::codegen;

use super::json::{any_json, key, text, unescape, version};
use super::{both_occur, cases, check, fail, no_panic, parse, pinned_document};

/// Names in the pinned document a JSONPath can select.
fn overlay_names(document: &Value) -> Vec<String> {
    let mut names: Vec<String> = [
        "paths",
        "components",
        "schemas",
        "info",
        "title",
        "servers",
        "tags",
        "security",
        "parameters",
        "responses",
        "get",
        "post",
        "requestBody",
        "content",
        "application/json",
        "schema",
        "properties",
        "type",
        "description",
        "operationId",
        "200",
        "items",
        "x-new",
        "it's",
    ]
    .map(str::to_string)
    .to_vec();
    for section in ["paths", "components/schemas"] {
        let at = format!("/{section}");
        names.extend(
            document
                .pointer(&at)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys().cloned()),
        );
    }
    names
}

/// Filter selectors. Their regular expressions are cheap on purpose: the
/// applier compiles a `match()` or `search()` pattern for every node it
/// tests, so `$..[?match(@, 'a{10000}')]` alone takes about a minute over
/// the pinned document in a debug build.
const FILTERS: &[&str] = &[
    "[?@.type == 'string']",
    "[?@.type]",
    "[?@.in == 'path']",
    "[?@.name == 'session-id']",
    "[?@.required == true]",
    "[?length(@) > 2]",
    "[?length(@.properties) >= 1]",
    "[?count(@.*) == 1]",
    "[?match(@.type, 'str.*')]",
    "[?search(@.description, 'ID')]",
    "[?match(@, '(')]",
    "[?search(@, '[')]",
    "[?value(@..type) == 'object']",
    "[?!@.nullable]",
    "[?@.x < 1 || @.y > 2 && @.z != null]",
    "[?@ == 1.5e300]",
    "[?@ == -0]",
    "[?@['$ref']]",
    "[?length(@) == 18446744073709551616]",
];

/// Targets that are not JSONPath queries, or barely are.
const BROKEN_TARGETS: &[&str] = &[
    "",
    "$",
    "paths",
    "$.",
    "$[",
    "$..",
    "$['x",
    "$[?(@.a)]",
    "$[1:2:0]",
    "$[-9223372036854775808]",
    "$[9007199254740992]",
    "$[?@.x == ]",
    "$$",
    "@.paths",
    "$[?foo(@)]",
    "$['\\q']",
    "$[?match(@)]",
    "$.a b",
];

/// `name` inside single quotes, escaped as RFC 9535 asks.
fn escaped(name: &str) -> String {
    name.replace('\\', "\\\\").replace('\'', "\\'")
}

fn quoted(name: &str) -> String {
    format!("['{}']", escaped(name))
}

fn segment(names: &[String]) -> BoxedStrategy<String> {
    let name = prop_oneof![3 => select(names.to_vec()), 1 => "[a-zA-Z0-9_ /{}'-]{0,8}"];
    let index = prop_oneof![-3i64..5, any::<i64>()];
    prop_oneof![
        3 => name.clone().prop_map(|n| {
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
            {
                format!(".{n}")
            } else {
                quoted(&n)
            }
        }),
        1 => name.clone().prop_map(|n| format!("..{}", quoted(&n))),
        1 => select(vec![".*", "[*]", "..*", "..[*]"]).prop_map(str::to_string),
        1 => index.clone().prop_map(|i| format!("[{i}]")),
        1 => (
            prop::option::of(index.clone()),
            prop::option::of(index.clone()),
            prop::option::of(index)
        )
            .prop_map(|(a, b, c)| {
                let part = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
                match c {
                    Some(step) => format!("[{}:{}:{step}]", part(a), part(b)),
                    None => format!("[{}:{}]", part(a), part(b)),
                }
            }),
        1 => select(FILTERS).prop_map(str::to_string),
        1 => (name.clone(), name).prop_map(|(a, b)| format!("['{}','{}']", escaped(&a), escaped(&b))),
    ]
    .boxed()
}

fn target(names: &[String]) -> BoxedStrategy<String> {
    prop_oneof![
        8 => prop::collection::vec(segment(names), 0..5).prop_map(|s| format!("${}", s.concat())),
        1 => select(BROKEN_TARGETS).prop_map(str::to_string),
        1 => "\\PC{0,16}",
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Action {
    target: String,
    description: Option<String>,
    update: Option<Value>,
    remove: Option<bool>,
}

impl Action {
    fn to_json(&self) -> Value {
        let mut action = Map::new();
        action.insert("target".into(), json!(self.target));
        if let Some(description) = &self.description {
            action.insert("description".into(), json!(description));
        }
        if let Some(update) = &self.update {
            action.insert("update".into(), update.clone());
        }
        if let Some(remove) = self.remove {
            action.insert("remove".into(), json!(remove));
        }
        Value::Object(action)
    }
}

fn action(names: &[String]) -> BoxedStrategy<Action> {
    let update = prop_oneof![
        3 => prop::collection::vec((key(), any_json()), 0..4)
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        1 => any_json(),
    ];
    // Mostly what the specification allows (`update` or `remove: true`),
    // sometimes both, neither, or `remove: false`.
    let what = prop_oneof![
        6 => update.clone().prop_map(|u| (Some(u), None)),
        3 => Just((None, Some(true))),
        1 => Just((None, Some(false))),
        1 => update.prop_map(|u| (Some(u), Some(true))),
        1 => Just((None, None)),
    ];
    (target(names), prop::option::of(text()), what)
        .prop_map(|(target, description, (update, remove))| Action {
            target,
            description,
            update,
            remove,
        })
        .boxed()
}

/// An overlay document, possibly damaged where a typed parse fails.
#[derive(Clone)]
struct OverlayCase {
    actions: Vec<Action>,
    /// A field of the overlay document replaced by another value.
    damage: Option<(&'static str, Value)>,
}

impl fmt::Debug for OverlayCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.bytes()))
    }
}

impl OverlayCase {
    fn document(&self) -> Value {
        let mut overlay = json!({
            "overlay": "1.0.0",
            "info": {"title": "properties", "version": "1"},
            "actions": self.actions.iter().map(Action::to_json).collect::<Vec<_>>(),
        });
        if let Some((at, value)) = &self.damage {
            match overlay.pointer_mut(at) {
                Some(slot) => *slot = value.clone(),
                None => {
                    let (parent, last) = at.rsplit_once('/').unwrap_or_default();
                    if let Some(Value::Object(fields)) = overlay.pointer_mut(parent) {
                        fields.insert(unescape(last), value.clone());
                    }
                }
            }
        }
        overlay
    }

    fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.document()).expect("a JSON value serializes")
    }
}

fn overlay_case(names: &[String]) -> BoxedStrategy<OverlayCase> {
    let damage = prop_oneof![
        (
            select(vec![
                "/actions/0/target",
                "/actions/0/remove",
                "/actions/0/description"
            ]),
            select(vec![
                json!(7),
                Value::Null,
                json!(["$.paths"]),
                json!("yes")
            ]),
        ),
        (select(vec!["/overlay"]), version()),
        (
            select(vec!["/info", "/actions", "/extends"]),
            select(vec![
                Value::Null,
                json!("x"),
                json!({}),
                json!([]),
                json!(1)
            ]),
        ),
    ];
    (
        prop::collection::vec(action(names), 1..=3),
        prop::option::weighted(0.1, damage),
    )
        .prop_map(|(actions, damage)| OverlayCase { actions, damage })
        .boxed()
}

#[test]
fn overlay_applier_survives_arbitrary_actions() {
    let document = pinned_document();
    let names = overlay_names(&parse(&document));
    let strategy = overlay_case(&names);
    let (applied, refused) = (Cell::new(0u32), Cell::new(0u32));
    let total = cases(48, 1);
    check(
        "the overlay applier over arbitrary actions",
        total,
        &strategy,
        |case| {
            let overlay = case.bytes();
            let result = no_panic(|| codegen::run(&document, Some(&overlay)))
                .map_err(|panic| fail(format!("codegen::run panicked: {panic}")))?;
            let n = case.actions.len();
            match result {
                Ok(pipeline) => {
                    applied.set(applied.get() + 1);
                    prop_assert_eq!(pipeline.overlay.len(), n, "one outcome per action");
                }
                Err(e) if case.damage.is_some() => {
                    prop_assert!(
                        !e.reason.trim().is_empty(),
                        "an error without a reason: {e:?}"
                    );
                }
                Err(e) => {
                    let from_overlay = e.pointer.starts_with("#/actions/")
                        || e.reason.starts_with("the overlay")
                        || e.reason.starts_with("overlay");
                    if from_overlay {
                        refused.set(refused.get() + 1);
                        let names_action = (0..n).any(|i| {
                            e.pointer == format!("#/actions/{i}")
                                || e.reason.contains(&format!("actions[{i}]"))
                        });
                        prop_assert!(names_action, "the error names no action: {e}");
                    }
                    // Otherwise the overlay applied and the normalizer
                    // refused its result, which the normalizer property covers.
                }
            }
            Ok(())
        },
    );
    both_occur(
        total,
        ("applied", applied.get()),
        ("refused by the applier", refused.get()),
    );
}
