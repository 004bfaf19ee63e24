//! Request bodies: one media type kept, form bodies flattened to bracketed fields.

use super::*;

impl Normalizer {
    pub(super) fn request_body(
        &mut self,
        op_path: &[String],
    ) -> Result<(Option<String>, Vec<String>), SpecError> {
        let Some(body) = self.op(op_path)?.get("requestBody").cloned() else {
            return Ok((None, Vec::new()));
        };
        let at = seg(op_path, &["requestBody"]);
        let mut body = resolve(&self.doc, &body, &at)?.clone();
        let content = body
            .get_mut("content")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| err(&at, "request body without a `content` map"))?;
        if content.is_empty() {
            return Ok((None, Vec::new()));
        }
        let mut dropped = Vec::new();
        if content.len() > 1 {
            let keys: Vec<String> = content.keys().cloned().collect();
            let keep = keys
                .iter()
                .find(|k| is_json_media_type(k))
                .or_else(|| keys.iter().find(|k| is_form_media_type(k)))
                .unwrap_or(&keys[0])
                .clone();
            dropped = keys.into_iter().filter(|k| *k != keep).collect();
            content.retain(|k, _| *k == keep);
        }
        let (media_type, media) = content
            .iter_mut()
            .next()
            .map(|(k, v)| (k.clone(), v))
            .ok_or_else(|| err(&at, "empty content"))?;
        let media_path = seg(&at, &["content", &media_type]);
        if !dropped.is_empty() {
            let detail = format!("kept {media_type}; dropped {}", dropped.join(", "));
            self.note(&seg(&at, &["content"]), Rule::RequestMediaType, detail);
        }
        let tidied = tidy_media_type(&media_type, media, &media_path)?;
        let schema = media.get("schema").cloned().ok_or_else(|| {
            err(
                &media_path,
                format!("request body {media_type} has no schema"),
            )
        })?;
        self.rewrites.extend(tidied);
        if is_form_media_type(&media_type) {
            let flat = self.flatten_form(
                &schema,
                &seg(&media_path, &["schema"]),
                &operation_label(op_path),
            )?;
            body["content"][&media_type]["schema"] = flat;
        }
        self.op_mut(op_path)?.insert("requestBody".into(), body);
        Ok((Some(media_type), dropped))
    }

    /// Makes a form body schema flat: each nested object property becomes
    /// `name[prop]` fields. Returns the schema to use for the body.
    /// `operation` (`POST /x`) names the body in messages. A schema that
    /// contains itself is refused (see [`Expanding`]).
    pub(super) fn flatten_form(
        &mut self,
        schema: &Value,
        at: &[String],
        operation: &str,
    ) -> Result<Value, SpecError> {
        let resolved = resolve(&self.doc, schema, at)?.clone();
        let Some(properties) = resolved.get("properties").and_then(Value::as_object) else {
            return Ok(schema.clone());
        };
        let mut expanding =
            Expanding::new(format!("the form body of `{operation}`"), "a form body");
        // The body's own schema is the first one expanded, so this cannot fail.
        expanding.enter(schema, "", at)?;
        let required = required_of(&resolved);
        let mut flat = Map::new();
        let mut flat_required = Vec::new();
        let mut nested = Vec::new();
        for (name, prop) in properties {
            let prop_at = seg(at, &["properties", name]);
            let is_required = required.contains(name);
            let mut leaves = Vec::new();
            self.form_leaves(
                &mut expanding,
                name,
                prop,
                is_required,
                &prop_at,
                &mut leaves,
            )?;
            if leaves.len() != 1 || leaves[0].0 != *name {
                nested.push(name.clone());
            }
            for (wire, s, r) in leaves {
                if r {
                    flat_required.push(json!(wire));
                }
                flat.insert(wire, s);
            }
        }
        if nested.is_empty() {
            return Ok(schema.clone());
        }
        let mut new_schema = resolved.clone();
        new_schema["properties"] = Value::Object(flat);
        if let Some(m) = new_schema.as_object_mut() {
            if flat_required.is_empty() {
                m.remove("required");
            } else {
                m.insert("required".into(), Value::Array(flat_required));
            }
        }
        let detail = format!(
            "nested {} flattened to `name[prop]` fields",
            nested.join(", ")
        );
        match schema_name(schema).map(str::to_string) {
            Some(name) => {
                // Rewrite the component in place when the form body is its only
                // user; otherwise give the flat form its own component.
                let target = if self.count_refs(&name) <= 1 {
                    name.clone()
                } else {
                    format!("{name}Form")
                };
                if target != name && self.doc["components"]["schemas"].get(&target).is_some() {
                    return Err(err(
                        at,
                        format!(
                            "cannot add the flattened form schema `{target}`: the name is taken"
                        ),
                    ));
                }
                self.doc["components"]["schemas"][&target] = new_schema;
                self.note(
                    &[
                        "components".to_string(),
                        "schemas".to_string(),
                        target.clone(),
                    ],
                    Rule::FormFlatten,
                    detail,
                );
                Ok(json!({"$ref": format!("#/components/schemas/{target}")}))
            }
            None => {
                self.note(at, Rule::FormFlatten, detail);
                Ok(new_schema)
            }
        }
    }

    /// Collects `(wire name, schema, required)` for every leaf of the form
    /// field `wire`; nested objects continue as `wire[a][b]`. A schema that
    /// contains itself is refused (see [`Expanding`]).
    pub(super) fn form_leaves(
        &self,
        expanding: &mut Expanding,
        wire: &str,
        schema: &Value,
        required: bool,
        at: &[String],
        out: &mut Vec<(String, Value, bool)>,
    ) -> Result<(), SpecError> {
        let resolved = resolve(&self.doc, schema, at)?;
        if let Some(props) = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
        {
            let entered = expanding.enter(schema, wire, at)?;
            let req = required_of(resolved);
            for (name, prop) in props {
                self.form_leaves(
                    expanding,
                    &format!("{wire}[{name}]"),
                    prop,
                    required && req.contains(name.as_str()),
                    &seg(at, &["properties", name]),
                    out,
                )?;
            }
            expanding.leave(entered);
            return Ok(());
        }
        let types = match resolved.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"array") {
            return Err(err(
                at,
                format!(
                    "form field `{wire}` is an array, which the generated client cannot encode in a form body"
                ),
            ));
        }
        expanding.field(at)?;
        out.push((wire.to_string(), schema.clone(), required));
        Ok(())
    }
}
