//! Responses: one body per status class, so each operation has one error type.

use super::*;

impl Normalizer {
    pub(super) fn count_refs(&self, name: &str) -> usize {
        fn walk(v: &Value, target: &str, n: &mut usize) {
            match v {
                Value::Object(m) => {
                    if m.get("$ref").and_then(Value::as_str) == Some(target) {
                        *n += 1;
                    }
                    m.values().for_each(|x| walk(x, target, n));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, target, n)),
                _ => {}
            }
        }
        let mut n = 0;
        walk(&self.doc, &format!("#/components/schemas/{name}"), &mut n);
        n
    }

    pub(super) fn responses(
        &mut self,
        op_path: &[String],
        rust_name: &str,
    ) -> Result<(), SpecError> {
        let responses_path = seg(op_path, &["responses"]);
        let responses = match self.op(op_path)?.get("responses") {
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(err(&responses_path, "`responses` is not an object")),
            None => return Err(err(&responses_path, "operation without `responses`")),
        };
        let mut resolved: Vec<(String, Value)> = Vec::new();
        for (status, response) in &responses {
            let at = seg(&responses_path, &[status]);
            let mut r = resolve(&self.doc, response, &at)?.clone();
            if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
                for (media_type, media) in content.iter_mut() {
                    let media_at = seg(&at, &["content", media_type]);
                    let tidied = tidy_media_type(media_type, media, &media_at)?;
                    self.rewrites.extend(tidied);
                }
            }
            resolved.push((status.clone(), r));
        }

        let is_success = |s: &str| s.starts_with('2') || s == "default";
        let is_error = |s: &str| s.starts_with('4') || s.starts_with('5') || s == "default";
        for (class, filter) in [
            ("success", &is_success as &dyn Fn(&str) -> bool),
            ("error", &is_error),
        ] {
            self.unify_class(&responses_path, rust_name, class, filter, &mut resolved)?;
        }

        let mut map = Map::new();
        for (status, r) in resolved {
            // Keep references that were not touched, so the document stays
            // recognisable; inline only what changed.
            let original = &responses[&status];
            let unchanged = resolve(&self.doc, original, &responses_path)? == &r;
            map.insert(status, if unchanged { original.clone() } else { r });
        }
        self.op_mut(op_path)?
            .insert("responses".into(), Value::Object(map));
        Ok(())
    }

    pub(super) fn unify_class(
        &mut self,
        responses_path: &[String],
        rust_name: &str,
        class: &str,
        filter: &dyn Fn(&str) -> bool,
        resolved: &mut [(String, Value)],
    ) -> Result<(), SpecError> {
        #[derive(PartialEq)]
        enum Kind {
            Json(Value),
            Raw,
            Empty,
        }
        let kind_of = |r: &Value| -> Kind {
            match r.get("content").and_then(Value::as_object) {
                Some(c) if !c.is_empty() => c
                    .iter()
                    .find(|(k, _)| is_json_media_type(k))
                    .map(|(_, m)| Kind::Json(m["schema"].clone()))
                    .unwrap_or(Kind::Raw),
                _ => Kind::Empty,
            }
        };
        let members: Vec<(String, Kind)> = resolved
            .iter()
            .filter(|(s, _)| filter(s))
            .map(|(s, r)| (s.clone(), kind_of(r)))
            .collect();
        let jsons: Vec<(&String, &Value)> = members
            .iter()
            .filter_map(|(s, k)| match k {
                Kind::Json(v) => Some((s, v)),
                _ => None,
            })
            .collect();
        let has_other = members.iter().any(|(_, k)| !matches!(k, Kind::Json(_)));
        let distinct_other: BTreeSet<&str> = members
            .iter()
            .filter_map(|(_, k)| match k {
                Kind::Raw => Some("non-JSON"),
                Kind::Empty => Some("empty"),
                Kind::Json(_) => None,
            })
            .collect();
        if (!jsons.is_empty() && has_other) || distinct_other.len() > 1 {
            let statuses: Vec<&str> = members.iter().map(|(s, _)| s.as_str()).collect();
            return Err(err(
                responses_path,
                format!(
                    "the {class} responses ({}) mix JSON, non-JSON and empty bodies; progenitor needs one kind per class",
                    statuses.join(", ")
                ),
            ));
        }
        let mut distinct: Vec<&Value> = Vec::new();
        for (_, v) in &jsons {
            if !distinct.contains(v) {
                distinct.push(v);
            }
        }
        if distinct.len() <= 1 {
            return Ok(());
        }

        // Member names: component names for references, `{Method}{Status}`
        // for inline schemas.
        let mut labelled: Vec<(String, Value)> = Vec::new();
        for (status, schema) in &jsons {
            let label = schema_name(schema).map(str::to_string).unwrap_or_else(|| {
                format!(
                    "{}{}",
                    pascal(rust_name),
                    pascal(&format!("{class}-{status}"))
                )
            });
            if !labelled.iter().any(|(l, _)| *l == label) {
                labelled.push((label, (*schema).clone()));
            }
        }
        labelled.sort_by(|a, b| a.0.cmp(&b.0));

        let shapes: Vec<Value> = labelled
            .iter()
            .map(|(_, s)| resolve(&self.doc, s, responses_path).map(strip_annotations))
            .collect::<Result<_, _>>()?;
        let statuses: Vec<&str> = jsons.iter().map(|(s, _)| s.as_str()).collect();
        let replacement = if shapes.windows(2).all(|w| w[0] == w[1]) {
            // Same shape under different names: use one of them for all.
            let (label, schema) = labelled
                .iter()
                .find(|(_, s)| schema_name(s).is_some())
                .unwrap_or(&labelled[0]);
            self.note(
                responses_path,
                Rule::ResponseSchemas,
                format!(
                    "{class} responses {} use {} (the same shape as {})",
                    statuses.join(", "),
                    label,
                    labelled
                        .iter()
                        .map(|(l, _)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            schema.clone()
        } else {
            let name = labelled
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join("Or");
            let merged = self.merge_schemas(&labelled, responses_path)?;
            match self.doc["components"]["schemas"].get(&name) {
                Some(existing) if *existing != merged => {
                    return Err(err(
                        responses_path,
                        format!("cannot add the merged {class} schema `{name}`: the name is taken"),
                    ));
                }
                Some(_) => {}
                None => {
                    if !self.doc["components"].is_object() {
                        self.doc["components"] = json!({});
                    }
                    if !self.doc["components"]["schemas"].is_object() {
                        self.doc["components"]["schemas"] = json!({});
                    }
                    self.doc["components"]["schemas"][&name] = merged;
                }
            }
            self.note(
                responses_path,
                Rule::ResponseSchemas,
                format!(
                    "{class} responses {} share the new schema {name}, which holds each of {}",
                    statuses.join(", "),
                    labelled
                        .iter()
                        .map(|(l, _)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            json!({"$ref": format!("#/components/schemas/{name}")})
        };
        for (status, r) in resolved.iter_mut() {
            if !filter(status) {
                continue;
            }
            if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
                for (media_type, media) in content.iter_mut() {
                    if is_json_media_type(media_type) {
                        media["schema"] = replacement.clone();
                    }
                }
            }
        }
        Ok(())
    }

    /// One object schema holding every member: the union of their
    /// properties, required only where all members require it. Members that
    /// are not objects make an `anyOf` instead.
    pub(super) fn merge_schemas(
        &self,
        members: &[(String, Value)],
        at: &[String],
    ) -> Result<Value, SpecError> {
        let resolved: Vec<&Value> = members
            .iter()
            .map(|(_, s)| resolve(&self.doc, s, at))
            .collect::<Result<_, _>>()?;
        let all_objects = resolved.iter().all(|s| {
            s.get("type").and_then(Value::as_str) == Some("object") || s.get("properties").is_some()
        });
        let names: Vec<&str> = members.iter().map(|(l, _)| l.as_str()).collect();
        let description = format!("Any of: {}.", names.join(", "));
        if !all_objects {
            return Ok(json!({
                "description": description,
                "anyOf": members.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            }));
        }
        let mut properties = Map::new();
        let mut required: Option<BTreeSet<String>> = None;
        for s in &resolved {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, schema) in props {
                    match properties.get_mut(name) {
                        None => {
                            properties.insert(name.clone(), schema.clone());
                        }
                        Some(existing)
                            if strip_annotations(existing) == strip_annotations(schema) => {}
                        Some(existing) => {
                            let previous = existing.clone();
                            *existing = json!({"anyOf": [previous, schema.clone()]});
                        }
                    }
                }
            }
            let req = required_of(s);
            required = Some(match required {
                None => req,
                Some(prev) => prev.intersection(&req).cloned().collect(),
            });
        }
        let mut merged = json!({
            "description": description,
            "type": "object",
            "properties": properties,
        });
        if let Some(req) = required.filter(|r| !r.is_empty()) {
            merged["required"] = json!(req);
        }
        Ok(merged)
    }

    // ----- schemas -----
}
