//! The schema walk: each schema taken to the OpenAPI 3.0 form progenitor reads, one rule at a time.

use super::*;

impl Normalizer {
    pub(super) fn all_schemas(&mut self) -> Result<(), SpecError> {
        let mut locations: Vec<Path> = Vec::new();
        let doc = &self.doc;
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let components = &doc["components"];
        for name in keys(&components["schemas"]) {
            locations.push(vec!["components".into(), "schemas".into(), name]);
        }
        for name in keys(&components["parameters"]) {
            locations.push(vec![
                "components".into(),
                "parameters".into(),
                name,
                "schema".into(),
            ]);
        }
        for name in keys(&components["headers"]) {
            locations.push(vec![
                "components".into(),
                "headers".into(),
                name,
                "schema".into(),
            ]);
        }
        for name in keys(&components["requestBodies"]) {
            let base: Path = vec!["components".into(), "requestBodies".into(), name];
            content_schemas(doc, &base, &mut locations);
        }
        for name in keys(&components["responses"]) {
            let base: Path = vec!["components".into(), "responses".into(), name];
            response_schemas(doc, &base, &mut locations);
        }
        for path in keys(&doc["paths"]) {
            for method in METHODS {
                let op = &doc["paths"][&path][method];
                if !op.is_object() {
                    continue;
                }
                let base: Path = vec!["paths".into(), path.clone(), method.into()];
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    for i in 0..params.len() {
                        locations.push(seg(&base, &["parameters", &i.to_string(), "schema"]));
                    }
                }
                content_schemas(doc, &seg(&base, &["requestBody"]), &mut locations);
                for status in keys(&op["responses"]) {
                    response_schemas(doc, &seg(&base, &["responses", &status]), &mut locations);
                }
            }
        }
        for location in locations {
            let p = ptr(&location)[1..].to_string();
            let Some(value) = self.doc.pointer(&p).cloned() else {
                continue;
            };
            let mut value = value;
            self.schema(&mut value, &location)?;
            if let Some(slot) = self.doc.pointer_mut(&p) {
                *slot = value;
            }
        }
        Ok(())
    }

    /// Takes one schema to its OpenAPI 3.0 form, one rule after another in
    /// this order, then its children.
    pub(super) fn schema(&mut self, schema: &mut Value, at: &[String]) -> Result<(), SpecError> {
        let Some(map) = self.boolean_schema(schema, at)? else {
            return Ok(());
        };
        refuse_unsupported_keywords(map, at)?;
        self.drop_annotations(map, at);
        self.null_branches(map, at);
        self.ref_siblings(map, at);
        if map.contains_key("$ref") {
            return Ok(());
        }
        self.const_to_enum(map, at);
        self.examples_to_example(map, at);
        self.exclusive_bounds(map, at);
        self.type_keyword(map, at)?;
        self.children(schema, at)
    }

    /// `true` becomes `{}`; `false` is refused. The schema's object, or
    /// `None` when nothing is left to do.
    fn boolean_schema<'s>(
        &mut self,
        schema: &'s mut Value,
        at: &[String],
    ) -> Result<Option<&'s mut Map<String, Value>>, SpecError> {
        match schema {
            Value::Bool(true) => {
                *schema = json!({});
                self.note(at, Rule::DroppedKeyword, "boolean schema `true` -> `{}`");
                return Ok(None);
            }
            Value::Bool(false) => {
                return Err(err(
                    at,
                    "the boolean schema `false` has no OpenAPI 3.0 equivalent",
                ));
            }
            Value::Object(_) => {}
            _ => return Err(err(at, "a schema must be an object")),
        }

        Ok(schema.as_object_mut())
    }

    /// Annotations 3.0 does not have, removed.
    fn drop_annotations(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        for keyword in [
            "$schema",
            "$id",
            "$anchor",
            "$dynamicAnchor",
            "$comment",
            "contentEncoding",
            "contentMediaType",
            "contentSchema",
        ] {
            if map.remove(keyword).is_some() {
                self.note(
                    &seg(at, &[keyword]),
                    Rule::DroppedKeyword,
                    format!("removed `{keyword}`"),
                );
            }
        }
    }

    /// A `null` branch of anyOf/oneOf is the 3.1 spelling of nullable.
    fn null_branches(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        for combinator in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = map.get(combinator) else {
                continue;
            };
            let is_null = |b: &Value| {
                b.get("type") == Some(&json!("null")) || b.get("type") == Some(&json!(["null"]))
            };
            if !branches.iter().any(is_null) {
                continue;
            }
            let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
            map.remove(combinator);
            map.insert("nullable".into(), json!(true));
            if rest.len() == 1 && rest[0].get("$ref").is_some() {
                map.insert("allOf".into(), Value::Array(rest));
                self.note(
                    at,
                    Rule::NullableRef,
                    format!("{combinator} with null -> allOf + nullable"),
                );
            } else {
                map.insert(combinator.into(), Value::Array(rest));
                self.note(
                    at,
                    Rule::TypeArray,
                    format!("null branch of {combinator} -> nullable"),
                );
            }
        }
    }

    /// A `$ref` with siblings: a nullable one becomes `allOf` + `nullable`,
    /// any other keeps the reference alone.
    fn ref_siblings(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        if map.contains_key("$ref") && map.len() > 1 {
            let nullable = map.get("nullable") == Some(&json!(true))
                || map
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.contains(&json!("null")));
            let reference = map.get("$ref").cloned().unwrap_or(Value::Null);
            let siblings: Vec<String> = map.keys().filter(|k| *k != "$ref").cloned().collect();
            if nullable {
                let mut new = Map::new();
                new.insert("allOf".into(), json!([{"$ref": reference}]));
                new.insert("nullable".into(), json!(true));
                if let Some(d) = map.get("description") {
                    new.insert("description".into(), d.clone());
                }
                *map = new;
                self.note(at, Rule::NullableRef, "nullable $ref -> allOf + nullable");
            } else {
                map.retain(|k, _| k == "$ref");
                self.note(
                    at,
                    Rule::RefSiblings,
                    format!("dropped {}", siblings.join(", ")),
                );
            }
        }
    }

    /// `const` becomes a one-value `enum`.
    fn const_to_enum(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        if let Some(value) = map.remove("const") {
            if !map.contains_key("enum") {
                map.insert("enum".into(), json!([value]));
            }
            self.note(at, Rule::Const, "const -> enum");
        }
    }

    /// `examples` becomes its first `example`.
    fn examples_to_example(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        if let Some(Value::Array(list)) = map.get("examples").cloned() {
            map.remove("examples");
            if let Some(first) = list.into_iter().next() {
                map.entry("example").or_insert(first);
            }
            self.note(at, Rule::Examples, "examples -> example");
        }
    }

    /// Numeric exclusive bounds become 3.0's bound plus boolean.
    fn exclusive_bounds(&mut self, map: &mut Map<String, Value>, at: &[String]) {
        for (exclusive, bound, tighter) in [
            ("exclusiveMinimum", "minimum", std::cmp::Ordering::Greater),
            ("exclusiveMaximum", "maximum", std::cmp::Ordering::Less),
        ] {
            let Some(Value::Number(limit)) = map.get(exclusive).cloned() else {
                continue;
            };
            let current = map.get(bound).and_then(Value::as_f64);
            let limit_f = limit.as_f64().unwrap_or(0.0);
            let use_exclusive = match current {
                None => true,
                Some(b) => limit_f
                    .partial_cmp(&b)
                    .is_some_and(|o| o == tighter || o == std::cmp::Ordering::Equal),
            };
            if use_exclusive {
                map.insert(bound.into(), Value::Number(limit));
                map.insert(exclusive.into(), json!(true));
            } else {
                map.remove(exclusive);
            }
            self.note(
                at,
                Rule::ExclusiveBound,
                format!("numeric {exclusive} -> {bound} + boolean"),
            );
        }
    }

    /// Type arrays become `nullable` or `anyOf`; `type: null` alone is refused.
    fn type_keyword(
        &mut self,
        map: &mut Map<String, Value>,
        at: &[String],
    ) -> Result<(), SpecError> {
        match map.get("type").cloned() {
            Some(Value::Array(types)) => self.type_array(map, &types, at)?,
            Some(Value::String(t)) if t == "null" => {
                return Err(err(
                    &seg(at, &["type"]),
                    "`type: null` on its own has no OpenAPI 3.0 equivalent",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// The walk into properties, items, additional properties, `not` and
    /// the combinators; a property that holds a credential is marked.
    fn children(&mut self, schema: &mut Value, at: &[String]) -> Result<(), SpecError> {
        let Some(map) = schema.as_object() else {
            return Ok(());
        };
        let mut children: Vec<Path> = Vec::new();
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for name in props.keys() {
                children.push(vec!["properties".into(), name.clone()]);
            }
        }
        match map.get("items") {
            Some(Value::Array(_)) => {
                return Err(err(
                    &seg(at, &["items"]),
                    "tuple `items` has no OpenAPI 3.0 equivalent",
                ));
            }
            Some(_) => children.push(vec!["items".into()]),
            None => {}
        }
        if map
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            children.push(vec!["additionalProperties".into()]);
        }
        if map.contains_key("not") {
            children.push(vec!["not".into()]);
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            if let Some(list) = map.get(combinator).and_then(Value::as_array) {
                for i in 0..list.len() {
                    children.push(vec![combinator.into(), i.to_string()]);
                }
            }
        }
        for child in children {
            let child_path: Path = at.iter().cloned().chain(child.iter().cloned()).collect();
            let p: String = child
                .iter()
                .map(|s| format!("/{}", super::super::escape_segment(s)))
                .collect();
            let Some(value) = schema.pointer_mut(&p) else {
                continue;
            };
            let mut value = std::mem::take(value);
            self.schema(&mut value, &child_path)?;
            if let [kind, name] = child.as_slice()
                && kind == "properties"
            {
                self.credential_property(name, &mut value, &child_path);
            }
            if let Some(slot) = schema.pointer_mut(&p) {
                *slot = value;
            }
        }
        Ok(())
    }

    /// Gives a property that holds a credential the [`CREDENTIAL_FORMAT`]:
    /// a plain string (no enum, pattern or length bounds, which a `Secret`
    /// would not check, and not nullable) whose name or description says it
    /// is a credential (see [`is_credential`]).
    pub(super) fn credential_property(&mut self, name: &str, schema: &mut Value, at: &[String]) {
        let Some(map) = schema.as_object_mut() else {
            return;
        };
        let plain_string = map.get("type") == Some(&json!("string"))
            && map.get("nullable") != Some(&json!(true))
            && [
                "enum",
                "pattern",
                "minLength",
                "maxLength",
                "$ref",
                "allOf",
                "anyOf",
                "oneOf",
            ]
            .iter()
            .all(|k| !map.contains_key(*k));
        let description = map.get("description").and_then(Value::as_str);
        if !plain_string || !is_credential(name, description) {
            return;
        }
        let before = map
            .insert("format".into(), json!(CREDENTIAL_FORMAT))
            .and_then(|f| f.as_str().map(str::to_string));
        self.note(
            at,
            Rule::Credential,
            match before {
                Some(format) => format!("string (format {format}) -> Secret"),
                None => "string -> Secret".to_string(),
            },
        );
    }

    pub(super) fn type_array(
        &mut self,
        map: &mut Map<String, Value>,
        types: &[Value],
        at: &[String],
    ) -> Result<(), SpecError> {
        let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        if names.len() != types.len() {
            return Err(err(
                &seg(at, &["type"]),
                "type array with a non-string entry",
            ));
        }
        let nullable = names.contains(&"null");
        let mut rest: Vec<&str> = Vec::new();
        for t in names.iter().copied().filter(|t| *t != "null") {
            if !rest.contains(&t) {
                rest.push(t);
            }
        }
        if rest.contains(&"integer") && rest.contains(&"number") {
            // Every integer is a number, so `number` alone admits the same values.
            rest.retain(|t| *t != "integer");
        }
        let before = format!("{names:?}");
        match rest.as_slice() {
            [] => {
                return Err(err(
                    &seg(at, &["type"]),
                    "`type: [\"null\"]` on its own has no OpenAPI 3.0 equivalent",
                ));
            }
            [one] => {
                map.insert("type".into(), json!(one));
            }
            several => {
                map.remove("type");
                let mut branches = Vec::new();
                for t in several {
                    let mut branch = Map::new();
                    branch.insert("type".into(), json!(t));
                    for key in type_keywords(t) {
                        if let Some(v) = map.get(*key) {
                            branch.insert((*key).into(), v.clone());
                        }
                    }
                    if let Some(Value::Array(values)) = map.get("enum") {
                        let fitting: Vec<Value> = values
                            .iter()
                            .filter(|v| json_type_fits(v, t))
                            .cloned()
                            .collect();
                        if !fitting.is_empty() {
                            branch.insert("enum".into(), Value::Array(fitting));
                        }
                    }
                    branches.push(Value::Object(branch));
                }
                for t in several {
                    for key in type_keywords(t) {
                        map.remove(*key);
                    }
                }
                map.remove("enum");
                map.insert("anyOf".into(), Value::Array(branches));
            }
        }
        if nullable {
            map.insert("nullable".into(), json!(true));
        }
        self.note(
            at,
            Rule::TypeArray,
            format!("type {before} -> {}", describe_type(map)),
        );
        Ok(())
    }
}

/// JSON Schema keywords 3.0 has no way to say, refused with their place.
fn refuse_unsupported_keywords(map: &Map<String, Value>, at: &[String]) -> Result<(), SpecError> {
    for keyword in [
        "prefixItems",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "dependentRequired",
        "patternProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "propertyNames",
        "$dynamicRef",
        "$defs",
    ] {
        if map.contains_key(keyword) {
            return Err(err(
                &seg(at, &[keyword]),
                format!("the JSON Schema keyword `{keyword}` has no OpenAPI 3.0 equivalent"),
            ));
        }
    }
    Ok(())
}
