use super::*;

fn doc(paths: Value, schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

fn ok_get(extra: Value) -> Value {
    let mut op = json!({
        "operationId": "routes/x.GetThing",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
    });
    if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            op.insert(k.clone(), v.clone());
        }
    }
    op
}

fn thing() -> Value {
    json!({"Thing": {"type": "object", "properties": {"id": {"type": "string"}}}})
}

fn run(d: &Value) -> Normalized {
    let n = normalize(d).expect("normalizes");
    super::super::generate::generate(&n).expect("generates");
    n
}

fn rules(n: &Normalized) -> BTreeSet<Rule> {
    n.rewrites.iter().map(|r| r.rule).collect()
}

#[test]
fn openapi_version_becomes_3_0_3_and_3_1_only_keys_go() {
    let mut d = doc(json!({"/t": {"get": ok_get(json!({}))}}), thing());
    d["webhooks"] = json!({});
    d["info"]["summary"] = json!("s");
    let n = run(&d);
    assert_eq!(n.document["openapi"], "3.0.3");
    assert!(n.document.get("webhooks").is_none());
    assert!(n.document["info"].get("summary").is_none());
    assert!(rules(&n).contains(&Rule::OpenApiVersion));
    assert!(rules(&n).contains(&Rule::DroppedKeyword));
}

#[test]
fn type_arrays_become_nullable_or_any_of() {
    let schemas = json!({"Thing": {"type": "object", "properties": {
        "a": {"type": ["null", "string"], "format": "date-time"},
        "b": {"type": ["integer", "number"]},
        "c": {"type": ["string", "integer", "null"], "maxLength": 3, "minimum": 1, "enum": ["x", 2]},
        "d": {"type": ["array", "null"], "items": {"type": ["null", "integer"]}}
    }}});
    let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
    let p = &n.document["components"]["schemas"]["Thing"]["properties"];
    assert_eq!(
        p["a"],
        json!({"type": "string", "format": "date-time", "nullable": true})
    );
    assert_eq!(p["b"], json!({"type": "number"}));
    assert_eq!(
        p["c"],
        json!({"nullable": true, "anyOf": [
            {"type": "string", "maxLength": 3, "enum": ["x"]},
            {"type": "integer", "minimum": 1, "enum": [2]}
        ]})
    );
    assert_eq!(p["d"]["nullable"], true);
    assert_eq!(
        p["d"]["items"],
        json!({"type": "integer", "nullable": true})
    );
    assert_eq!(
        n.rewrites
            .iter()
            .filter(|r| r.rule == Rule::TypeArray)
            .count(),
        5
    );
}

#[test]
fn examples_const_and_exclusive_bounds_take_their_3_0_form() {
    let schemas = json!({"Thing": {"type": "object", "properties": {
        "a": {"type": "string", "examples": ["first", "second"]},
        "b": {"type": "string", "const": "fixed"},
        "c": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "maximum": 5}
    }}});
    let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
    let p = &n.document["components"]["schemas"]["Thing"]["properties"];
    assert_eq!(p["a"], json!({"type": "string", "example": "first"}));
    assert_eq!(p["b"], json!({"type": "string", "enum": ["fixed"]}));
    // The exclusive minimum is kept as a 3.0 boolean; the inclusive
    // maximum of 5 is tighter than the exclusive 10, so it wins.
    assert_eq!(
        p["c"],
        json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 5})
    );
    let r = rules(&n);
    assert!(
        r.contains(&Rule::Examples)
            && r.contains(&Rule::Const)
            && r.contains(&Rule::ExclusiveBound)
    );
}

#[test]
fn refs_lose_siblings_and_nullable_refs_become_all_of() {
    let schemas = json!({
        "Inner": {"type": "string", "enum": ["a", "b"]},
        "Thing": {"type": "object", "properties": {
            "plain": {"$ref": "#/components/schemas/Inner", "default": "a", "description": "d"},
            "any": {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]},
            "typed": {"$ref": "#/components/schemas/Inner", "type": ["null", "string"]}
        }}
    });
    let n = run(&doc(json!({"/t": {"get": ok_get(json!({}))}}), schemas));
    let p = &n.document["components"]["schemas"]["Thing"]["properties"];
    assert_eq!(p["plain"], json!({"$ref": "#/components/schemas/Inner"}));
    assert_eq!(
        p["any"],
        json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/Inner"}]})
    );
    assert_eq!(
        p["typed"],
        json!({"allOf": [{"$ref": "#/components/schemas/Inner"}], "nullable": true})
    );
    let r = rules(&n);
    assert!(r.contains(&Rule::RefSiblings) && r.contains(&Rule::NullableRef));
}

#[test]
fn deep_object_parameters_become_one_parameter_per_property() {
    let schemas = json!({
        "Thing": {"type": "object"},
        "Page": {"type": "object", "required": ["limit"], "properties": {
            "limit": {"type": "integer"},
            "range": {"type": "object", "properties": {"from": {"type": "string"}}}
        }}
    });
    let params = json!({"parameters": [
        {"name": "page", "in": "query", "required": true, "style": "deepObject", "explode": true,
         "schema": {"$ref": "#/components/schemas/Page"}}
    ]});
    let n = normalize(&doc(json!({"/t": {"get": ok_get(params)}}), schemas)).expect("normalizes");
    let ps = n.document["paths"]["/t"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = ps.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["page[limit]", "page[range][from]"]);
    assert_eq!(ps[0]["required"], true, "required in a required group");
    assert!(ps[1].get("required").is_none());
    assert_eq!(ps[0]["style"], "form");
    assert_eq!(
        n.operations[0].query_groups[0].parameters,
        ["page[limit]", "page[range][from]"]
    );
    let code = super::super::generate::generate(&n).expect("generates");
    assert!(code.contains("\"page[limit]\""), "the wire name is kept");
    assert!(
        code.contains("fn page_limit"),
        "the builder method is page_limit"
    );
}

#[test]
fn cookie_parameters_leave_the_signature_and_are_recorded() {
    let params = json!({"parameters": [
        {"name": "session", "in": "cookie", "required": true, "schema": {"type": "string"}},
        {"name": "q", "in": "query", "schema": {"type": "string"}}
    ]});
    let n = run(&doc(json!({"/t": {"get": ok_get(params)}}), thing()));
    let ps = &n.document["paths"]["/t"]["get"]["parameters"];
    assert_eq!(ps.as_array().map(Vec::len), Some(1));
    assert_eq!(n.operations[0].cookies[0].name, "session");
    assert!(n.operations[0].cookies[0].required);
    assert!(rules(&n).contains(&Rule::CookieParameter));
}

#[test]
fn path_level_parameters_move_into_operations_unless_overridden() {
    let d = doc(
        json!({"/t/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "v", "in": "query", "schema": {"type": "string"}}
            ],
            "get": ok_get(json!({"parameters": [{"name": "v", "in": "query", "schema": {"type": "integer"}}]}))
        }}),
        thing(),
    );
    let n = run(&d);
    let item = &n.document["paths"]["/t/{id}"];
    assert!(item.get("parameters").is_none());
    let ps = item["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ps.len(), 2);
    assert_eq!(
        ps[1]["schema"]["type"], "integer",
        "the operation's own `v` wins"
    );
    assert!(rules(&n).contains(&Rule::PathParameters));
}

#[test]
fn several_request_media_types_keep_json_and_drop_encoding() {
    let body = json!({"requestBody": {"content": {
        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Thing"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}, "encoding": {"id": {"contentType": "text/plain"}}}
    }}});
    let n = run(&doc(json!({"/t": {"post": ok_get(body)}}), thing()));
    let content = &n.document["paths"]["/t"]["post"]["requestBody"]["content"];
    assert_eq!(
        content
            .as_object()
            .map(|c| c.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["application/json".to_string()])
    );
    assert!(content["application/json"].get("encoding").is_none());
    assert_eq!(
        n.operations[0].request_media_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(
        n.operations[0].dropped_media_types,
        ["application/x-www-form-urlencoded"]
    );
    let r = rules(&n);
    assert!(r.contains(&Rule::RequestMediaType) && r.contains(&Rule::MediaTypeEncoding));
}

#[test]
fn nested_form_objects_are_flattened_to_bracketed_fields() {
    let schemas = json!({
        "Thing": {"type": "object"},
        "Opts": {"type": "object", "required": ["on"], "properties": {"on": {"type": "boolean"}, "n": {"type": "integer"}}},
        "Form": {"type": "object", "required": ["url", "opts"], "properties": {
            "url": {"type": "string"},
            "opts": {"$ref": "#/components/schemas/Opts"}
        }}
    });
    let body = json!({"requestBody": {"content": {
        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Form"}}
    }}});
    let n = normalize(&doc(json!({"/t": {"post": ok_get(body)}}), schemas)).expect("normalizes");
    let form = &n.document["components"]["schemas"]["Form"];
    let keys: Vec<&String> = form["properties"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["url", "opts[on]", "opts[n]"]);
    assert_eq!(form["required"], json!(["url", "opts[on]"]));
    assert!(rules(&n).contains(&Rule::FormFlatten));
    let code = super::super::generate::generate(&n).expect("generates");
    assert!(
        code.contains("rename = \"opts[on]\""),
        "serde renames keep the wire name"
    );
}

#[test]
fn json_without_schema_accepts_any_json() {
    let op = json!({"operationId": "getIt", "responses": {"200": {"description": "OK", "content": {"application/json": {}}}}});
    let n = run(&doc(json!({"/t": {"get": op}}), json!({})));
    assert_eq!(
        n.document["paths"]["/t"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        json!({})
    );
    assert!(rules(&n).contains(&Rule::MissingSchema));
}

#[test]
fn error_responses_with_different_schemas_share_one() {
    let schemas = json!({
        "Thing": {"type": "object"},
        "A": {"type": "object", "properties": {"code": {"type": "integer"}, "error": {"type": "string"}}},
        "B": {"type": "object", "description": "other", "properties": {"code": {"type": "integer"}, "error": {"type": "string"}}},
        "C": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}, "code": {"type": "string"}}}
    });
    let responses = |e1: &str, e2: &str| {
        json!({"responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
            "401": {"description": "no", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{e1}")}}}},
            "500": {"description": "no", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{e2}")}}}},
            "404": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}}
        }})
    };
    let mut same = ok_get(responses("A", "B"));
    same["responses"].as_object_mut().map(|m| m.remove("404"));
    let mut different = ok_get(responses("A", "C"));
    different["operationId"] = json!("other");
    let n = run(&doc(
        json!({"/same": {"get": same}, "/different": {"get": different}}),
        schemas,
    ));
    let same_r = &n.document["paths"]["/same"]["get"]["responses"];
    assert_eq!(
        same_r["500"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/A"})
    );
    let merged_ref = json!({"$ref": "#/components/schemas/AOrCOrOtherError404"});
    let diff_r = &n.document["paths"]["/different"]["get"]["responses"];
    for status in ["401", "404", "500"] {
        assert_eq!(
            diff_r[status]["content"]["application/json"]["schema"], merged_ref,
            "{status}"
        );
    }
    let merged = &n.document["components"]["schemas"]["AOrCOrOtherError404"];
    assert_eq!(
        merged["properties"]["code"],
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
    );
    assert!(
        merged.get("required").is_none(),
        "only fields every member requires stay required"
    );
    assert_eq!(
        n.rewrites
            .iter()
            .filter(|r| r.rule == Rule::ResponseSchemas)
            .count(),
        2
    );
}

#[test]
fn an_operation_without_an_id_is_named_after_its_method_and_path() {
    let op = json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "gone"}}
    });
    let n = run(&doc(json!({"/things/{id}": {"delete": op}}), json!({})));
    assert_eq!(n.operations[0].rust_name, "delete_things_id");
    assert!(rules(&n).contains(&Rule::OperationId));
}

fn refused(d: &Value) -> SpecError {
    match normalize(d) {
        Ok(_) => SpecError::new("#", "accepted"),
        Err(e) => e,
    }
}

#[test]
fn a_method_name_collision_is_refused_with_both_places() {
    let d = doc(
        json!({"/a": {"get": ok_get(json!({}))}, "/b": {"get": ok_get(json!({}))}}),
        thing(),
    );
    let e = refused(&d);
    assert_eq!(e.pointer, "#/paths/~1b/get");
    assert!(
        e.reason.contains("get_thing") && e.reason.contains("#/paths/~1a/get"),
        "{e}"
    );
}

/// A deepObject parameter `filter` of `GET /x` with the schema `schema`.
fn deep_object_get(schema: Value) -> Value {
    ok_get(json!({"parameters": [
        {"name": "filter", "in": "query", "style": "deepObject", "explode": true, "schema": schema}
    ]}))
}

/// A form body of `POST /x` with the schema `schema`.
fn form_post(schema: Value) -> Value {
    ok_get(json!({"requestBody": {"content": {
        "application/x-www-form-urlencoded": {"schema": schema}
    }}}))
}

fn with_thing(mut schemas: Value) -> Value {
    if let (Some(m), Some(thing)) = (schemas.as_object_mut(), thing().as_object()) {
        m.extend(thing.clone());
    }
    schemas
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

#[test]
fn a_deep_object_parameter_that_contains_itself_is_refused() {
    let schemas = with_thing(json!({"Node": {"type": "object", "properties": {
        "name": {"type": "string"},
        "child": schema_ref("Node")
    }}}));
    let d = doc(
        json!({"/x": {"get": deep_object_get(schema_ref("Node"))}}),
        schemas,
    );
    let e = refused(&d);
    assert_eq!(
        e.pointer,
        "#/paths/~1x/get/parameters/0/schema/properties/child"
    );
    assert_eq!(
        e.reason,
        "deepObject parameter `filter` of `GET /x` is recursive: `#/components/schemas/Node` contains itself at `filter[child]`; a query string cannot encode a recursive object"
    );

    // Through another schema, below an inline one.
    let schemas = with_thing(json!({
        "Node": {"type": "object", "properties": {"link": schema_ref("Link")}},
        "Link": {"type": "object", "properties": {"node": schema_ref("Node")}}
    }));
    let inline = json!({"type": "object", "properties": {"root": schema_ref("Node")}});
    let e = refused(&doc(
        json!({"/x": {"get": deep_object_get(inline)}}),
        schemas,
    ));
    assert!(
        e.reason
            .contains("`#/components/schemas/Node` contains itself at `filter[root][link][node]`"),
        "{e}"
    );
}

#[test]
fn a_form_body_that_contains_itself_is_refused() {
    let schemas = with_thing(json!({
        "Form": {"type": "object", "properties": {
            "url": {"type": "string"},
            "node": schema_ref("Node")
        }},
        "Node": {"type": "object", "properties": {
            "id": {"type": "string"},
            "link": schema_ref("Link")
        }},
        "Link": {"type": "object", "properties": {"node": schema_ref("Node")}}
    }));
    let d = doc(
        json!({"/x": {"post": form_post(schema_ref("Form"))}}),
        schemas,
    );
    let e = refused(&d);
    assert_eq!(
        e.pointer,
        "#/paths/~1x/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/node/properties/link/properties/node"
    );
    assert_eq!(
        e.reason,
        "the form body of `POST /x` is recursive: `#/components/schemas/Node` contains itself at `node[link][node]`; a form body cannot encode a recursive object"
    );

    // The body's own schema, one level down.
    let schemas = with_thing(json!({"Form": {"type": "object", "properties": {
        "url": {"type": "string"},
        "parent": schema_ref("Form")
    }}}));
    let e = refused(&doc(
        json!({"/x": {"post": form_post(schema_ref("Form"))}}),
        schemas,
    ));
    assert!(
        e.reason
            .contains("`#/components/schemas/Form` contains itself at `parent`"),
        "{e}"
    );
}

#[test]
fn a_schema_reached_twice_without_a_cycle_is_flattened_twice() {
    // A -> B -> D and A -> C -> D: D is expanded on two paths, neither
    // of which contains it twice.
    let schemas = with_thing(json!({
        "A": {"type": "object", "properties": {"b": schema_ref("B"), "c": schema_ref("C")}},
        "B": {"type": "object", "properties": {"d": schema_ref("D")}},
        "C": {"type": "object", "properties": {"d": schema_ref("D")}},
        "D": {"type": "object", "properties": {"x": {"type": "string"}}}
    }));
    let d = doc(
        json!({"/x": {
            "get": deep_object_get(schema_ref("A")),
            "post": {
                "operationId": "postX",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": schema_ref("A")}}},
                "responses": {"204": {"description": "done"}}
            }
        }}),
        schemas,
    );
    let n = normalize(&d).expect("a diamond is not a cycle");
    assert_eq!(
        n.operations[0].query_groups[0].parameters,
        ["filter[b][d][x]", "filter[c][d][x]"]
    );
    let body = &n.document["paths"]["/x"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        ["schema"];
    let form = resolve(&n.document, body, &[]).expect("the form schema");
    assert_eq!(
        form["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["b[d][x]".to_string(), "c[d][x]".to_string()])
    );
}

#[test]
fn a_schema_that_doubles_at_every_level_is_refused_past_the_field_limit() {
    // L0 -> L1 twice -> ... -> L12: 4096 fields, no cycle.
    let mut levels = serde_json::Map::new();
    for i in 0..12 {
        let next = schema_ref(&format!("L{}", i + 1));
        levels.insert(
            format!("L{i}"),
            json!({"type": "object", "properties": {"a": next.clone(), "b": next}}),
        );
    }
    levels.insert(
        "L12".into(),
        json!({"type": "object", "properties": {"x": {"type": "string"}}}),
    );
    let schemas = with_thing(Value::Object(levels));
    let deep = doc(
        json!({"/x": {"get": deep_object_get(schema_ref("L0"))}}),
        schemas.clone(),
    );
    let e = refused(&deep);
    assert!(
        e.reason.contains(
            "deepObject parameter `filter` of `GET /x` flattens to more than 1000 fields"
        ),
        "{e}"
    );
    let form = doc(
        json!({"/x": {"post": {
            "operationId": "postX",
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": schema_ref("L0")}}},
            "responses": {"204": {"description": "done"}}
        }}}),
        schemas,
    );
    let e = refused(&form);
    assert!(
        e.reason
            .contains("the form body of `POST /x` flattens to more than 1000 fields"),
        "{e}"
    );
    // Nine levels (512 fields) are within the limit.
    let mut levels = serde_json::Map::new();
    for i in 0..9 {
        let next = schema_ref(&format!("L{}", i + 1));
        levels.insert(
            format!("L{i}"),
            json!({"type": "object", "properties": {"a": next.clone(), "b": next}}),
        );
    }
    levels.insert(
        "L9".into(),
        json!({"type": "object", "properties": {"x": {"type": "string"}}}),
    );
    let within = doc(
        json!({"/x": {"get": deep_object_get(schema_ref("L0"))}}),
        with_thing(Value::Object(levels)),
    );
    let n = normalize(&within).expect("512 fields are fine");
    assert_eq!(n.operations[0].query_groups[0].parameters.len(), 512);
}

#[test]
fn credentials_are_told_by_whole_words_of_the_name_or_description() {
    for (name, description) in [
        ("token", None),
        ("api-token", None),
        ("verify_token", None),
        ("apiToken", None),
        ("jwt", None),
        ("X-Api-Key", None),
        ("client_secret", None),
        ("key", Some("API Token")),
        ("value", Some("the user's password")),
    ] {
        assert!(is_credential(name, description), "{name} {description:?}");
    }
    for (name, description) in [
        ("session-id", Some("Session ID")),
        ("tokenizer", None),
        ("key", Some("sort key")),
        ("long-term", Some("keep the session")),
    ] {
        assert!(!is_credential(name, description), "{name} {description:?}");
    }
}

#[test]
fn a_token_path_parameter_and_token_properties_are_marked() {
    let d = doc(
        json!({"/keys/{token}/{part}": {"get": ok_get(json!({"parameters": [
            {"name": "token", "in": "path", "required": true, "description": "API Token", "schema": {"type": "string"}},
            {"name": "part", "in": "path", "required": true, "schema": {"type": "string"}}
        ]}))}}),
        json!({"Thing": {"type": "object", "properties": {
            "token": {"type": "string"},
            "jwt": {"type": "string", "format": "jwt", "description": "Signed"},
            "password": {"type": "string", "minLength": 6},
            "long-term-token": {"type": "boolean"},
            "name": {"type": "string"}
        }}}),
    );
    let n = run(&d);
    assert_eq!(n.operations[0].secret_path_parameters, ["token"]);
    let thing = &n.document["components"]["schemas"]["Thing"]["properties"];
    assert_eq!(thing["token"]["format"], CREDENTIAL_FORMAT);
    assert_eq!(thing["jwt"]["format"], CREDENTIAL_FORMAT);
    assert_eq!(thing["jwt"]["description"], "Signed");
    // A bounded string would lose its bounds as a Secret; others are
    // not credentials.
    assert!(thing["password"].get("format").is_none());
    assert!(thing["long-term-token"].get("format").is_none());
    assert!(thing["name"].get("format").is_none());
    let credential: Vec<&str> = n
        .rewrites
        .iter()
        .filter(|r| r.rule == Rule::Credential)
        .map(|r| r.detail.as_str())
        .collect();
    assert_eq!(
        credential,
        [
            "path parameter `token` is a credential: never printed",
            "string -> Secret",
            "string (format jwt) -> Secret",
        ]
    );

    let code = super::super::generate::generate(&n).expect("generates");
    assert!(
        code.contains("pub jwt: ::std::option::Option<crate::runtime::Secret>"),
        "{code}"
    );
    assert!(
        code.contains(".field(\"token\", &\"<redacted>\")"),
        "{code}"
    );
    assert!(code.contains(".field(\"part\", &self.part)"), "{code}");
    assert!(code.contains("secret: true"), "{code}");
}

#[test]
fn unsupported_shapes_are_refused_with_pointer_and_reason() {
    let deep = ok_get(json!({"parameters": [
        {"name": "q", "in": "query", "style": "deepObject", "schema": {"type": "string"}}
    ]}));
    let e = refused(&doc(json!({"/t": {"get": deep}}), thing()));
    assert_eq!(e.pointer, "#/paths/~1t/get/parameters/0/schema");
    assert!(e.reason.contains("deepObject"), "{e}");

    let external = ok_get(json!({"parameters": [{"$ref": "other.json#/p"}]}));
    let e = refused(&doc(json!({"/t": {"get": external}}), thing()));
    assert!(e.reason.contains("outside the document"), "{e}");

    let tuple = json!({"Thing": {"type": "array", "prefixItems": [{"type": "string"}]}});
    let e = refused(&doc(json!({"/t": {"get": ok_get(json!({}))}}), tuple));
    assert_eq!(e.pointer, "#/components/schemas/Thing/prefixItems");

    let null_only = json!({"Thing": {"type": "null"}});
    let e = refused(&doc(json!({"/t": {"get": ok_get(json!({}))}}), null_only));
    assert_eq!(e.pointer, "#/components/schemas/Thing/type");

    let mixed = ok_get(json!({"responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
        "204": {"description": "none"}
    }}));
    let e = refused(&doc(json!({"/t": {"get": mixed}}), thing()));
    assert!(e.reason.contains("mix"), "{e}");

    let undeclared = json!({"operationId": "x", "responses": {"204": {"description": "gone"}}});
    let e = refused(&doc(json!({"/t/{id}": {"delete": undeclared}}), thing()));
    assert_eq!(e.pointer, "#/paths/~1t~1{id}/delete/parameters");
    assert!(e.reason.contains("{id}"), "{e}");

    let e = refused(&json!({"swagger": "2.0"}));
    assert_eq!(e.pointer, "#/openapi");

    let e = refused(&json!({"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}));
    assert!(e.reason.contains("not valid OpenAPI 3.0"), "{e}");
}
