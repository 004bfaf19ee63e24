use super::*;
use crate::codegen::normalize::normalize;
use proc_macro2::Span;
use serde_json::Value;
use serde_json::json;

/// One operation with a path, a query, a `deepObject` query, a header
/// and a cookie parameter and a JSON body; one without a response body.
fn normalized() -> Normalized {
    let document = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things/{thing-id}": {
                "parameters": [
                    {"name": "thing-id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}
                ],
                "post": {
                    "operationId": "routes/things.PostThing",
                    "parameters": [
                        {"name": "dry-run", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "page", "in": "query", "style": "deepObject", "schema": {
                            "type": "object",
                            "properties": {"limit": {"type": "integer"}}
                        }},
                        {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}},
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
                },
                "delete": {
                    "operationId": "routes/things.DeleteThing",
                    "responses": {"204": {"description": "gone"}}
                }
            }
        },
        "components": {"schemas": {"Thing": {"type": "object", "properties": {"name": {"type": "string"}}}}}
    });
    normalize(&document).expect("normalizes")
}

fn builder_struct<'a>(file: &'a mut syn::File, name: &str) -> &'a mut syn::ItemStruct {
    shape::builder_struct_mut(file, name).expect("the builder struct")
}

fn matched(file: &syn::File, n: &Normalized) -> Result<Vec<Builder>, SpecError> {
    builders(&shape::read(file)?, n)
}

#[test]
fn every_parameter_and_the_body_meet_their_builder_fields() {
    let n = normalized();
    let file = progenitor_file(&n).expect("generates");
    let builders = matched(&file, &n).expect("matches");
    let post = &builders[0];
    assert_eq!(post.method, "post_thing");
    assert_eq!(post.name, "PostThing");
    let table: Vec<(&str, String, Location, bool)> = post
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.setter.to_string(),
                p.location,
                p.required,
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("thing-id", "thing_id".to_string(), Location::Path, true),
            ("dry-run", "dry_run".to_string(), Location::Query, false),
            (
                "page[limit]",
                "page_limit".to_string(),
                Location::Query,
                false
            ),
            ("X-Trace", "x_trace".to_string(), Location::Header, true),
        ]
    );
    assert_eq!(type_text(&post.parameters[0].value_type), "::uuid::Uuid");
    assert_eq!(type_text(&post.parameters[1].value_type), "bool");
    let body = post.body.as_ref().expect("a body");
    assert_eq!(body.media_type, "application/json");
    assert!(body.required);
    assert_eq!(body.type_name, "Thing");
    assert_eq!(type_text(&body.value_type), "types::Thing");
    assert_eq!(post.response, Response::Value);

    let delete = &builders[1];
    assert!(delete.body.is_none());
    assert_eq!(delete.response, Response::Empty);
    assert_eq!(delete.parameters.len(), 1);
}

#[test]
fn a_raw_body_is_taken_as_a_string() {
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/upload": {"put": {
            "operationId": "PutUpload",
            "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"204": {"description": "stored"}}
        }}}
    });
    let n = normalize(&document).expect("normalizes");
    let file = progenitor_file(&n).expect("generates");
    let builders = matched(&file, &n).expect("matches");
    let body = builders[0].body.as_ref().expect("a body");
    assert_eq!(body.media_type, "application/octet-stream");
    assert!(!body.required);
    assert_eq!(type_text(&body.value_type), "::std::string::String");
}

#[test]
fn a_parameter_without_a_builder_field_fails_naming_operation_and_parameter() {
    let n = normalized();
    let mut file = progenitor_file(&n).expect("generates");
    for field in builder_struct(&mut file, "PostThing").fields.iter_mut() {
        if field.ident.as_ref().is_some_and(|i| i == "dry_run") {
            field.ident = Some(syn::Ident::new("dryrun", Span::call_site()));
        }
    }
    let error = matched(&file, &n).expect_err("dry-run has no field");
    assert_eq!(
        error.pointer,
        "#/paths/~1things~1{thing-id}/post/parameters/1"
    );
    assert!(error.reason.contains("`post_thing`"), "{error}");
    assert!(
        error
            .reason
            .contains("parameter `dry-run` (query) has no builder field `dry_run`"),
        "{error}"
    );
}

#[test]
fn a_builder_field_without_a_parameter_fails_naming_it() {
    let mut n = normalized();
    let file = progenitor_file(&n).expect("generates");
    let operation = n
        .document
        .pointer_mut("/paths/~1things~1{thing-id}/post")
        .and_then(Value::as_object_mut)
        .expect("the operation");
    let parameters = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .expect("parameters");
    parameters.retain(|p| p["name"] != "X-Trace");
    let error = matched(&file, &n).expect_err("x_trace has no parameter");
    assert!(error.reason.contains("`post_thing`"), "{error}");
    assert!(
        error
            .reason
            .contains("the builder field `x_trace` matches no parameter"),
        "{error}"
    );
}

#[test]
fn the_dispatch_sets_parameters_by_wire_name_and_the_body() {
    let code = generate(&normalized()).expect("generates");
    let dispatch = &code[code
        .find("pub(crate) async fn call_dynamic")
        .expect("dispatch")..];
    // Compared without whitespace and trailing commas, so that
    // prettyplease's line breaks do not matter.
    let squeezed = |text: &str| {
        text.split_whitespace()
            .collect::<String>()
            .replace(",)", ")")
            .replace(",>", ">")
            .replace(",}", "}")
    };
    let dispatch_text = squeezed(dispatch);
    for expected in [
        "\"post_thing\" => {",
        "\"page[limit]\" => {",
        ".page_limit(",
        "let value: ::uuid::Uuid = argument(operation, name, value)?;
         request.thing_id(value)",
        "let value: types::Thing = crate::runtime::dynamic::body(operation, body)?;
         request = request.body(value);",
        "crate::runtime::dynamic::response(operation, response.into_inner())",
        "\"delete_thing\" => {",
        "Ok(::serde_json::Value::Null)",
        "_ => Err(crate::runtime::dynamic::unknown_operation(rust_name))",
    ] {
        assert!(
            dispatch_text.contains(&squeezed(expected)),
            "`{expected}` not in:\n{dispatch}"
        );
    }
    let code_text = squeezed(&code);
    for expected in [
        "crate::runtime::ParameterSpec { name: \"X-Trace\", setter: \"x_trace\", location: crate::runtime::ParameterLocation::Header, required: true, secret: false, value: crate::runtime::ValueSpec { kind: \"string\",",
        "body: Some(crate::runtime::BodySpec { media_type: \"application/json\", required: true, type_name: \"Thing\",",
    ] {
        assert!(
            code_text.contains(&squeezed(expected)),
            "`{expected}` not in:\n{code}"
        );
    }
}

/// A list that pages by the rule: `pagination` as a `deepObject` query and
/// an answer with `pagination` and one array; and one that does not (two
/// arrays).
fn paging_document() -> Normalized {
    let pagination = json!({"name": "pagination", "in": "query", "style": "deepObject", "schema": {
        "type": "object", "properties": {
            "page": {"type": "integer", "format": "int32", "minimum": 1, "default": 1},
            "limit": {"type": "integer", "format": "int32", "minimum": 1, "default": 10}}}});
    let document = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/entries": {"get": {
                "operationId": "routes/entries.GetEntries",
                "summary": "List entries",
                "parameters": [pagination.clone()],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Entries"}}}}}
            }},
            "/pairs": {"get": {
                "operationId": "routes/entries.GetPairs",
                "parameters": [pagination],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "pagination": {"$ref": "#/components/schemas/Position"},
                        "left": {"type": "array", "items": {"type": "string"}},
                        "right": {"type": "array", "items": {"type": "string"}}}}}}}}
            }}
        },
        "components": {"schemas": {
            "Position": {"type": "object", "properties": {
                "page": {"type": "integer", "format": "int32", "minimum": 1, "default": 1},
                "limit": {"type": "integer", "format": "int32", "minimum": 1, "default": 10},
                "count": {"type": "integer", "format": "int32", "default": 0},
                "total": {"type": "integer", "format": "int32", "default": 0}}},
            "Entry": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "format": "uuid"}, "url": {"type": "string"}}},
            "Entries": {"type": "object", "properties": {
                "pagination": {"$ref": "#/components/schemas/Position"},
                "entries": {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/Entry"}}}}
        }}
    });
    normalize(&document).expect("normalizes")
}

#[test]
fn a_list_with_pagination_and_one_array_pages_and_its_builder_walks_it() {
    let n = paging_document();
    let paged = crate::codegen::pages::paged(&n);
    assert_eq!(
        paged,
        [crate::codegen::pages::Paged {
            rust_name: "get_entries".into(),
            items: "entries".into(),
            key: Some("id".into()),
        }],
        "two arrays are not one list"
    );
    let code = generate(&n).expect("generates");
    // Without whitespace and trailing commas, as prettyplease breaks lines.
    let squeeze = |text: &str| {
        text.split_whitespace()
            .collect::<String>()
            .replace(",)", ")")
            .replace(",>", ">")
            .replace(",}", "}")
    };
    let squeezed = squeeze(&code);
    for expected in [
        "pubfnpages(self,)->crate::runtime::Pages<'a,crate::runtime::Response<types::Entries>,>",
        // A value that did not convert stays: the walk's first `send()` reports it.
        "request.pagination_page=request.pagination_page.and(Ok(crate::runtime::PageNumber::from_page(page)));",
        "Some(p)=>view.position(p.page,p.limit,p.total)",
        "pubfnitems(self)->crate::runtime::Items<'a,types::Entry>",
        "|item:&types::Entry|Some(item.id.to_string())",
        "pages:Some(crate::runtime::PagesSpec{items:\"entries\",key:Some(\"id\"),})",
        "summary:Some(\"Listentries\")",
        "///Thenumberofthispage,from1.",
    ] {
        assert!(
            squeezed.contains(&squeeze(expected)),
            "`{expected}` not in:\n{code}"
        );
    }
    assert_eq!(
        squeezed.matches("pubfnpages(").count(),
        1,
        "GetPairs does not page"
    );
}
