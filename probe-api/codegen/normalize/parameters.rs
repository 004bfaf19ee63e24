//! Parameters: path-level ones moved into operations, cookies taken out, deepObject parameters flattened to one per property.

use super::*;

impl Normalizer {
    pub(super) fn parameters(
        &mut self,
        op_path: &[String],
        shared: &[Value],
    ) -> Result<(Vec<CookieParameter>, Vec<QueryGroup>), SpecError> {
        let own: Vec<Value> = match self.op(op_path)?.get("parameters") {
            None => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(_) => return Err(err(&seg(op_path, &["parameters"]), "not an array")),
        };
        // Path-level parameters apply unless the operation overrides them
        // (same name and location).
        let mut all: Vec<(Path, Value)> = Vec::new();
        let key = |doc: &Value, p: &Value, at: &[String]| -> Result<(String, String), SpecError> {
            let p = resolve(doc, p, at)?;
            let name = p.get("name").and_then(Value::as_str);
            let location = p.get("in").and_then(Value::as_str);
            match (name, location) {
                (Some(n), Some(l)) => Ok((n.to_string(), l.to_string())),
                _ => Err(err(at, "parameter without `name` and `in`")),
            }
        };
        let mut own_keys = BTreeSet::new();
        for (i, p) in own.iter().enumerate() {
            let at = seg(op_path, &["parameters", &i.to_string()]);
            own_keys.insert(key(&self.doc, p, &at)?);
        }
        let item_path = &op_path[..op_path.len() - 1];
        for (i, p) in shared.iter().enumerate() {
            let at = seg(item_path, &["parameters", &i.to_string()]);
            if !own_keys.contains(&key(&self.doc, p, &at)?) {
                all.push((at, p.clone()));
            }
        }
        for (i, p) in own.into_iter().enumerate() {
            all.push((seg(op_path, &["parameters", &i.to_string()]), p));
        }

        let mut kept = Vec::new();
        let mut cookies = Vec::new();
        let mut groups = Vec::new();
        for (at, original) in all {
            let param = resolve(&self.doc, &original, &at)?.clone();
            let name = param["name"].as_str().unwrap_or_default().to_string();
            let location = param["in"].as_str().unwrap_or_default().to_string();
            if param.get("content").is_some() {
                return Err(err(
                    &at,
                    format!(
                        "parameter `{name}` uses `content`; only `schema` parameters are supported"
                    ),
                ));
            }
            let style = param.get("style").and_then(Value::as_str);
            match (location.as_str(), style) {
                ("cookie", _) => {
                    cookies.push(CookieParameter {
                        name: name.clone(),
                        required: param
                            .get("required")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        description: param
                            .get("description")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    });
                    self.note(
                        &at,
                        Rule::CookieParameter,
                        format!(
                            "cookie `{name}` removed from the signature; sent by the client layer"
                        ),
                    );
                }
                ("query", Some("deepObject")) => {
                    let required = param
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let description = param.get("description").cloned();
                    let schema = param
                        .get("schema")
                        .ok_or_else(|| err(&at, format!("parameter `{name}` has no schema")))?;
                    let mut flat = Vec::new();
                    let mut expanding = Expanding::new(
                        format!(
                            "deepObject parameter `{name}` of `{}`",
                            operation_label(op_path)
                        ),
                        "a query string",
                    );
                    self.flatten_deep_object(
                        &mut expanding,
                        &name,
                        schema,
                        required,
                        &seg(&at, &["schema"]),
                        &mut flat,
                    )?;
                    let names: Vec<String> = flat.iter().map(|(n, _, _)| n.clone()).collect();
                    for (wire, schema, required) in flat {
                        let mut p = Map::new();
                        p.insert("name".into(), json!(wire));
                        p.insert("in".into(), json!("query"));
                        if let Some(d) = schema.get("description").cloned().or(description.clone())
                        {
                            p.insert("description".into(), d);
                        }
                        if required {
                            p.insert("required".into(), json!(true));
                        }
                        p.insert("style".into(), json!("form"));
                        p.insert("explode".into(), json!(true));
                        p.insert("schema".into(), schema);
                        kept.push(Value::Object(p));
                    }
                    self.note(
                        &at,
                        Rule::DeepObject,
                        format!("`{name}` -> {}", names.join(", ")),
                    );
                    groups.push(QueryGroup {
                        name,
                        parameters: names,
                    });
                }
                ("query", None | Some("form"))
                | ("path", None | Some("simple"))
                | ("header", None | Some("simple")) => {
                    kept.push(original);
                }
                (_, style) => {
                    return Err(err(
                        &at,
                        format!(
                            "parameter `{name}` in `{location}` with style `{}` is not supported",
                            style.unwrap_or("default")
                        ),
                    ));
                }
            }
        }
        // Two parameters whose names sanitize to the same identifier would
        // generate a builder with a duplicate method.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for p in &kept {
            let p = resolve(&self.doc, p, op_path)?;
            let name = p["name"].as_str().unwrap_or_default();
            if let Some(other) = seen.insert(snake(name), name.to_string()) {
                return Err(err(
                    &seg(op_path, &["parameters"]),
                    format!(
                        "parameters `{other}` and `{name}` both become `{}` in Rust",
                        snake(name)
                    ),
                ));
            }
        }
        // progenitor panics when a `{name}` of the path template has no path
        // parameter; say so here instead.
        let path_template = op_path.get(1).cloned().unwrap_or_default();
        for name in path_template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        {
            let declared = kept.iter().any(|p| {
                resolve(&self.doc, p, op_path).is_ok_and(|p| p["in"] == "path" && p["name"] == name)
            });
            if !declared {
                return Err(err(
                    &seg(op_path, &["parameters"]),
                    format!(
                        "the path has `{{{name}}}` but the operation declares no path parameter `{name}`"
                    ),
                ));
            }
        }
        let op = self.op_mut(op_path)?;
        if kept.is_empty() {
            op.remove("parameters");
        } else {
            op.insert("parameters".into(), Value::Array(kept));
        }
        Ok((cookies, groups))
    }

    /// Collects `(wire name, schema, required)` for every leaf property of a
    /// deepObject parameter; nested objects continue as `name[a][b]`. A
    /// schema that contains itself is refused (see [`Expanding`]).
    pub(super) fn flatten_deep_object(
        &self,
        expanding: &mut Expanding,
        prefix: &str,
        schema: &Value,
        required: bool,
        at: &[String],
        out: &mut Vec<(String, Value, bool)>,
    ) -> Result<(), SpecError> {
        let resolved = resolve(&self.doc, schema, at)?;
        let properties = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                err(
                    at,
                    format!(
                        "deepObject parameter `{prefix}` needs an object schema with properties"
                    ),
                )
            })?;
        let entered = expanding.enter(schema, prefix, at)?;
        let required_props = required_of(resolved);
        for (prop, prop_schema) in properties {
            let wire = format!("{prefix}[{prop}]");
            let prop_required = required && required_props.contains(prop.as_str());
            let prop_at = seg(at, &["properties", prop]);
            let target = resolve(&self.doc, prop_schema, &prop_at)?;
            if target
                .get("properties")
                .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()))
            {
                self.flatten_deep_object(
                    expanding,
                    &wire,
                    prop_schema,
                    prop_required,
                    &prop_at,
                    out,
                )?;
            } else {
                expanding.field(&prop_at)?;
                out.push((wire, prop_schema.clone(), prop_required));
            }
        }
        expanding.leave(entered);
        Ok(())
    }
}
