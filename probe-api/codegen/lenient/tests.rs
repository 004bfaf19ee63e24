use super::*;
use crate::codegen::normalize::normalize;
use serde_json::{Value, json};

/// A document whose responses carry `Color` and an address, whose
/// requests take `Size`, and whose `Filter` enum is used on both sides.
fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/paints": {
                "get": {
                    "operationId": "routes/paint.GetPaints",
                    "parameters": [
                        {"name": "filter", "in": "query", "schema": {"$ref": "#/components/schemas/Filter"}}
                    ],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Paint"}}}}}
                },
                "post": {
                    "operationId": "routes/paint.PostOrder",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                    "responses": {"204": {"description": "ordered"}}
                }
            },
            "/colors": {
                "get": {
                    "operationId": "routes/paint.GetColors",
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}}}}}}
                }
            }
        },
        "components": {"schemas": {
            "Color": {"type": "string", "enum": ["red", "dark-blue"]},
            "Size": {"type": "string", "enum": ["small", "large"]},
            "Filter": {"type": "string", "enum": ["all", "mine"]},
            "Paint": {
                "type": "object",
                "additionalProperties": false,
                "required": ["color"],
                "properties": {
                    "color": {"$ref": "#/components/schemas/Color"},
                    "finish": {"type": "string", "enum": ["matte", "gloss"], "default": "matte"},
                    "filter": {"$ref": "#/components/schemas/Filter"},
                    "shades": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}},
                    "origin": {"type": ["string", "null"], "format": "ip"},
                    "mixed": {"anyOf": [
                        {"type": "string", "enum": ["x", "y"]},
                        {"type": "integer"}
                    ]}
                }
            },
            "Order": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "size": {"$ref": "#/components/schemas/Size"},
                    "color": {"$ref": "#/components/schemas/Color"},
                    "from": {"type": "string", "format": "ip"}
                }
            }
        }}
    })
}

fn generated() -> (syn::File, Vec<Change>) {
    let normalized = normalize(&document()).expect("normalizes");
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(normalized.document).expect("OpenAPI 3.0");
    let tokens = progenitor::Generator::new(&super::super::generate::settings().expect("settings"))
        .generate_tokens(&spec)
        .expect("generates");
    let mut file: syn::File = syn::parse2(tokens).expect("parses");
    let changes = open_responses(&mut file).expect("lenient");
    (file, changes)
}

fn text(file: &syn::File) -> String {
    prettyplease::unparse(file)
}

fn squeezed(text: &str) -> String {
    text.split_whitespace().collect()
}

#[test]
fn response_models_get_lenient_enums_and_addresses_and_requests_keep_closed_ones() {
    let (file, changes) = generated();
    let code = squeezed(&text(&file));
    for expected in [
        // Paint, a response model.
        "pubcolor:crate::runtime::OrUnknown<Color>,",
        "pubfilter:::std::option::Option<crate::runtime::OrUnknown<Filter>>,",
        "pubshades:::std::vec::Vec<crate::runtime::OrUnknown<Color>>,",
        "puborigin:::std::option::Option<crate::runtime::IpText>,",
        // Its builder follows.
        "T:::std::convert::TryInto<crate::runtime::OrUnknown<super::Color>>,",
        // Order, a request model, and the query parameter keep theirs.
        "pubsize:::std::option::Option<Size>,",
        "pubfrom:::std::option::Option<::std::net::IpAddr>,",
        "V:std::convert::TryInto<types::Filter>,",
        // A response that is a list of enum values.
        "ResponseValue<::std::vec::Vec<crate::runtime::OrUnknown<types::Color>>>",
    ] {
        assert!(
            code.contains(&squeezed(expected)),
            "`{expected}` not in:\n{}",
            text(&file)
        );
    }
    let details: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.item.as_str(), c.detail.as_str()))
        .collect();
    assert!(
        details.contains(&("Paint", "Color -> OrUnknown<Color>")),
        "{details:?}"
    );
    assert!(
        details.contains(&("Paint", "IpAddr -> IpText")),
        "{details:?}"
    );
    assert!(
        details.contains(&("builder::GetColors::send", "Color -> OrUnknown<Color>")),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|(item, _)| *item == "Order"),
        "{details:?}"
    );
}

#[test]
fn closed_enums_stay_closed_and_copy() {
    let (file, _) = generated();
    let code = text(&file);
    for name in ["Color", "Size", "Filter"] {
        let enum_text = code
            .split(&format!("pub enum {name} {{"))
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .unwrap_or_else(|| panic!("no enum {name}"));
        assert!(!enum_text.contains("Unknown"), "{name}: {enum_text}");
        let derive = code
            .split(&format!("pub enum {name} {{"))
            .next()
            .and_then(|before| before.rsplit("#[derive(").next())
            .unwrap_or_default();
        assert!(derive.contains("Copy"), "{name} keeps Copy");
    }
    assert!(
        squeezed(&code).contains(&squeezed(r#"_ => Err("invalid value".into()),"#)),
        "FromStr of the closed enums still refuses unknown values"
    );
}

#[test]
fn response_models_accept_unknown_fields_and_request_models_keep_refusing_them() {
    let (file, changes) = generated();
    let code = text(&file);
    let before = |name: &str| {
        code.split(&format!("pub struct {name} {{"))
            .next()
            .and_then(|b| b.rsplit("///").next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        !before("Paint").contains("deny_unknown_fields"),
        "{}",
        before("Paint")
    );
    assert!(
        before("Order").contains("deny_unknown_fields"),
        "{}",
        before("Order")
    );
    assert!(
        changes
            .iter()
            .any(|c| c.item == "Paint" && c.detail.contains("deny_unknown_fields"))
    );
}

#[test]
fn defaults_follow_their_field() {
    let (file, _) = generated();
    let code = squeezed(&text(&file));
    assert!(
        code.contains(&squeezed(
            "pub(super) fn paint_finish() -> crate::runtime::OrUnknown<super::PaintFinish> {
                 let value: super::PaintFinish = { super::PaintFinish::Matte };
                 crate::runtime::OrUnknown::Known(value)
             }"
        )),
        "{}",
        text(&file)
    );
}

#[test]
fn an_untagged_enum_opens_only_variants_no_later_variant_could_take() {
    let (file, _) = generated();
    let code = squeezed(&text(&file));
    // `mixed`: a string enum, then an integer: the enum variant opens.
    assert!(
        code.contains("String(crate::runtime::OrUnknown<PaintMixedString>),Integer(i64),"),
        "{}",
        text(&file)
    );

    let parse_models = |source: &str| {
        models(&syn::parse_file(&format!("pub mod types {{ {source} }}")).expect("parses"))
    };
    let m = parse_models(
        "#[serde(untagged)] pub enum U { A(E), B(::std::string::String) }
         pub enum E { X }",
    );
    let closed: BTreeSet<String> = ["E".to_string()].into();
    assert!(
        untagged_leaves(&m["U"], &m, &closed).is_empty(),
        "a later String keeps A closed"
    );
    let m = parse_models(
        "#[serde(untagged)] pub enum U { A(E), B(i64), C(O) }
         pub enum E { X }
         pub struct O { pub x: i64 }",
    );
    assert_eq!(
        untagged_leaves(&m["U"], &m, &closed),
        [Leaf::Enum("E".into())].into()
    );
}

#[test]
fn copy_goes_where_a_string_now_sits_and_from_what_contains_it() {
    let mut file: syn::File = syn::parse_quote! {
        pub mod types {
            #[derive(Clone, Copy, Debug)]
            pub struct Pair(pub ::std::net::IpAddr);
            #[derive(Clone, Copy, Debug)]
            pub struct Holder(pub Pair);
            #[derive(Clone, Copy, Debug)]
            pub enum E { X }
        }
        pub mod builder {
            impl Get {
                pub async fn send(self) -> Result<ResponseValue<types::Holder>, Error<()>> { todo() }
            }
        }
    };
    let changes = open_responses(&mut file).expect("lenient");
    assert_eq!(
        changes,
        [Change {
            item: "Pair".into(),
            detail: "IpAddr -> IpText".into()
        }]
    );
    let code = squeezed(&text(&file));
    assert!(
        code.contains("#[derive(Clone,Debug)]pubstructPair(pubcrate::runtime::IpText);"),
        "{code}"
    );
    assert!(
        code.contains("#[derive(Clone,Debug)]pubstructHolder(pubPair);"),
        "{code}"
    );
    assert!(
        code.contains("#[derive(Clone,Copy,Debug)]pubenumE"),
        "{code}"
    );
}

#[test]
fn a_default_of_an_unconvertible_shape_is_refused_naming_the_function() {
    let mut file: syn::File = syn::parse_quote! {
        pub mod types {
            pub struct Thing {
                #[serde(default = "defaults::thing_map")]
                pub map: ::std::collections::HashMap<String, E>,
            }
            pub enum E { X }
            pub mod defaults {
                pub(super) fn thing_map() -> ::std::collections::HashMap<String, super::E> {
                    Default::default()
                }
            }
        }
        pub mod builder {
            impl Get {
                pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<()>> { todo() }
            }
        }
    };
    let error = open_responses(&mut file).expect_err("a map default");
    assert!(error.reason.contains("defaults::thing_map"), "{error}");
    assert!(error.reason.contains("HashMap"), "{error}");
}
