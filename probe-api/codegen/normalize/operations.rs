//! The operations: one per path and method, named, with their parameters, bodies and responses made generable.

use super::*;

impl Normalizer {
    pub(super) fn operations(&mut self) -> Result<Vec<Operation>, SpecError> {
        let paths: Vec<String> = self.doc["paths"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let root_security = self.doc.get("security").cloned();
        let mut operations = Vec::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for path in paths {
            let item_path: Path = vec!["paths".into(), path.clone()];
            let item = &self.doc["paths"][&path];
            if !item.is_object() {
                return Err(err(&item_path, "path item is not an object"));
            }
            if item.get("$ref").is_some() {
                return Err(err(
                    &item_path,
                    "path items given by `$ref` are not supported; inline the path item",
                ));
            }
            let shared: Vec<Value> = match item.get("parameters") {
                None => Vec::new(),
                Some(Value::Array(list)) => list.clone(),
                Some(_) => return Err(err(&seg(&item_path, &["parameters"]), "not an array")),
            };
            for method in METHODS {
                if self.doc["paths"][&path].get(method).is_none() {
                    continue;
                }
                let op_path = seg(&item_path, &[method]);
                let operation =
                    self.operation(&path, method, &op_path, &shared, root_security.as_ref())?;
                if let Some(previous) = names.insert(operation.rust_name.clone(), ptr(&op_path)) {
                    return Err(err(
                        &op_path,
                        format!(
                            "operationId `{}` becomes method `{}`, which {previous} already uses; give one of them a distinct operationId in the overlay",
                            operation.operation_id, operation.rust_name
                        ),
                    ));
                }
                operations.push(operation);
            }
            if !shared.is_empty() {
                if let Some(item) = self.doc["paths"][&path].as_object_mut() {
                    item.remove("parameters");
                }
                self.note(
                    &seg(&item_path, &["parameters"]),
                    Rule::PathParameters,
                    format!("{} parameter(s) copied into each operation", shared.len()),
                );
            }
        }
        Ok(operations)
    }

    pub(super) fn operation(
        &mut self,
        path: &str,
        method: &str,
        op_path: &[String],
        shared: &[Value],
        root_security: Option<&Value>,
    ) -> Result<Operation, SpecError> {
        // The operationId and the method name.
        let op = self.op(op_path)?;
        let operation_id = match op.get("operationId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::String(_)) | None => {
                let derived = format!("{method}{}", pascal(path));
                self.note(
                    &seg(op_path, &["operationId"]),
                    Rule::OperationId,
                    format!("no operationId; derived `{derived}` from the method and path"),
                );
                derived
            }
            Some(_) => return Err(err(&seg(op_path, &["operationId"]), "not a string")),
        };
        let rust_name = rust_method_name(&operation_id);
        if rust_name != operation_id {
            self.note(
                &seg(op_path, &["operationId"]),
                Rule::OperationId,
                format!("`{operation_id}` -> `{rust_name}`"),
            );
        }
        self.op_mut(op_path)?
            .insert("operationId".into(), json!(rust_name.clone()));

        let (cookies, query_groups) = self.parameters(op_path, shared)?;
        let secret_path_parameters = self.secret_path_parameters(op_path)?;
        let (request_media_type, dropped_media_types) = self.request_body(op_path)?;
        self.responses(op_path, &rust_name)?;
        let timeout_default_ms = self.analysis_default(op_path, "timeout");
        let queue_timeout_default_ms = self.analysis_default(op_path, "queue_timeout");

        let security_value = self
            .op(op_path)?
            .get("security")
            .cloned()
            .or(root_security.cloned());
        let security = match security_value {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|req| {
                    req.as_object()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default()
                })
                .collect(),
            Some(_) => return Err(err(&seg(op_path, &["security"]), "not an array")),
        };

        Ok(Operation {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            operation_id,
            rust_name,
            security,
            cookies,
            query_groups,
            request_media_type,
            dropped_media_types,
            timeout_default_ms,
            queue_timeout_default_ms,
            secret_path_parameters,
        })
    }

    /// The operation's path parameters that hold credentials, noted as
    /// [`Rule::Credential`] rewrites.
    pub(super) fn secret_path_parameters(
        &mut self,
        op_path: &[String],
    ) -> Result<Vec<String>, SpecError> {
        let parameters = self
            .op(op_path)?
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut secret = Vec::new();
        for (i, parameter) in parameters.iter().enumerate() {
            let at = seg(op_path, &["parameters", &i.to_string()]);
            let parameter = resolve(&self.doc, parameter, &at)?;
            if parameter.get("in").and_then(Value::as_str) != Some("path") {
                continue;
            }
            let Some(name) = parameter.get("name").and_then(Value::as_str) else {
                continue;
            };
            let description = parameter
                .get("description")
                .or_else(|| parameter.get("schema").and_then(|s| s.get("description")))
                .and_then(Value::as_str);
            if is_credential(name, description) {
                secret.push(name.to_string());
            }
        }
        for name in &secret {
            self.note(
                op_path,
                Rule::Credential,
                format!("path parameter `{name}` is a credential: never printed"),
            );
        }
        Ok(secret)
    }

    /// The default of a query parameter or request body field named `name`,
    /// as an unsigned integer.
    pub(super) fn analysis_default(&self, op_path: &[String], name: &str) -> Option<u64> {
        let op = self.op(op_path).ok()?;
        let from_params = op
            .get("parameters")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter().find_map(|p| {
                    let p = resolve(&self.doc, p, op_path).ok()?;
                    (p["name"] == name && p["in"] == "query")
                        .then(|| resolve(&self.doc, &p["schema"], op_path).ok())
                        .flatten()
                        .and_then(|s| s.get("default"))
                        .and_then(Value::as_u64)
                })
            });
        let from_body = || {
            let content = op.get("requestBody")?.get("content")?.as_object()?;
            content.values().find_map(|media| {
                let schema = resolve(&self.doc, media.get("schema")?, op_path).ok()?;
                let prop =
                    resolve(&self.doc, schema.get("properties")?.get(name)?, op_path).ok()?;
                prop.get("default").and_then(Value::as_u64)
            })
        };
        from_params.or_else(from_body)
    }

    pub(super) fn op(&self, op_path: &[String]) -> Result<&Map<String, Value>, SpecError> {
        self.doc
            .pointer(&ptr(op_path)[1..])
            .and_then(Value::as_object)
            .ok_or_else(|| err(op_path, "operation is not an object"))
    }

    pub(super) fn op_mut(
        &mut self,
        op_path: &[String],
    ) -> Result<&mut Map<String, Value>, SpecError> {
        self.doc
            .pointer_mut(&ptr(op_path)[1..])
            .and_then(Value::as_object_mut)
            .ok_or_else(|| err(op_path, "operation is not an object"))
    }
}
