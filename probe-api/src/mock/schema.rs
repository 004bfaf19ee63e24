//! The effective document as the mock reads it: `$ref` resolution, JSON
//! Schema validation (draft 2020-12, as OpenAPI 3.1 uses), typing of text
//! parameters, and schema-conformant example values.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// The pinned document with the overlay applied, as the build produced it.
const EFFECTIVE: &str = include_str!(concat!(env!("OUT_DIR"), "/effective.json"));

/// The effective document and the validators compiled from it.
pub(crate) struct Document {
    pub(crate) root: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document").finish_non_exhaustive()
    }
}

impl Document {
    /// Parses the embedded effective document.
    pub(crate) fn load() -> Result<Document, String> {
        let root = serde_json::from_str(EFFECTIVE)
            .map_err(|e| format!("the embedded effective document is not JSON: {e}"))?;
        Ok(Document {
            root,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Another document, such as a newer one a cassette is checked against.
    pub(crate) fn from_value(root: Value) -> Document {
        Document {
            root,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The pointer of the JSON schema of the `status` response of the
    /// operation at `operation` (a pointer), `$ref`s followed.
    pub(crate) fn response_schema(&self, operation: &str, status: u16) -> Option<String> {
        let mut response = format!("{operation}/responses/{status}");
        for _ in 0..8 {
            let node = self.at(&response)?;
            match node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => response = target.to_string(),
                None => break,
            }
        }
        let pointer = format!("{response}/content/{}/schema", escape("application/json"));
        self.at(&pointer).map(|_| pointer)
    }

    /// The node at a JSON pointer (RFC 6901, without the leading `#`).
    pub(crate) fn at(&self, pointer: &str) -> Option<&Value> {
        self.root.pointer(pointer)
    }

    /// `schema` with `$ref`s followed (at most 32 deep, against cycles).
    pub(crate) fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => match reference
                    .strip_prefix('#')
                    .and_then(|p| self.root.pointer(p))
                {
                    Some(target) => schema = target,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
    }

    /// Validates `instance` against the schema at `pointer`; the messages
    /// name the JSON path of each violation.
    pub(crate) fn validate(&self, pointer: &str, instance: &Value) -> Result<(), Vec<String>> {
        let errors: Vec<String> = self
            .violations(pointer, instance)
            .map_err(|e| vec![e])?
            .into_iter()
            .map(|(at, message)| format!("{at}: {message}"))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Each place `instance` breaks the schema at `pointer`: its JSON
    /// pointer (`/` for the root) and the message; an error when the schema
    /// cannot be compiled.
    pub(crate) fn violations(
        &self,
        pointer: &str,
        instance: &Value,
    ) -> Result<Vec<(String, String)>, String> {
        let validator = self.validator(pointer)?;
        Ok(validator
            .iter_errors(instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                let at = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                (at, e.to_string())
            })
            .collect())
    }

    fn validator(&self, pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .map_err(|_| "the validator cache is poisoned".to_string())?;
        if let Some(v) = cache.get(pointer) {
            return Ok(v.clone());
        }
        let schema = self
            .at(pointer)
            .ok_or_else(|| format!("no schema at {pointer}"))?;
        // The schema keeps its `#/components/...` references: it is checked
        // inside a root that carries the document's components.
        let wrapper = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.root.get("components").cloned().unwrap_or(Value::Null),
            "allOf": [schema],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&wrapper)
            .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(pointer.to_string(), validator.clone());
        Ok(validator)
    }

    /// The JSON types a schema allows (`type` as a string or an array).
    pub(crate) fn types<'a>(&'a self, schema: &'a Value) -> Vec<&'a str> {
        let schema = self.resolve(schema);
        match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A text value (query, path, header, form field) as the JSON value the
    /// schema expects: a number, a boolean or a string.
    pub(crate) fn typed(&self, text: &str, schema: &Value) -> Value {
        let types = self.types(schema);
        if types.contains(&"integer")
            && let Ok(n) = text.parse::<i64>()
        {
            return Value::from(n);
        }
        if types.contains(&"number")
            && let Ok(n) = text.parse::<f64>()
            && let Some(number) = serde_json::Number::from_f64(n)
        {
            return Value::Number(number);
        }
        if types.contains(&"boolean") {
            match text {
                "true" => return Value::Bool(true),
                "false" => return Value::Bool(false),
                _ => {}
            }
        }
        if types.contains(&"null") && text == "null" {
            return Value::Null;
        }
        Value::String(text.to_string())
    }

    /// A value that conforms to `schema`: its first example, default or
    /// enum value where it has one, else one built from its type.
    pub(crate) fn example(&self, schema: &Value) -> Value {
        self.example_at_depth(schema, 0)
    }

    /// An example for a parameter: as [`example`](Self::example), except
    /// that an array gets two items (the first two enum values where its
    /// items have an enum), so that how it is serialized (`explode`) shows
    /// on the wire.
    pub(crate) fn parameter_example(&self, schema: &Value) -> Value {
        let resolved = self.resolve(schema);
        if !self.types(resolved).contains(&"array") {
            return self.example(schema);
        }
        let Some(items) = resolved.get("items") else {
            return self.example(schema);
        };
        let values: Vec<Value> = self
            .resolve(items)
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter(|v| !v.is_null())
                    .take(2)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if values.len() == 2 {
            Value::Array(values)
        } else {
            let item = self.example(items);
            Value::Array(vec![item.clone(), item])
        }
    }

    fn example_at_depth(&self, schema: &Value, depth: usize) -> Value {
        let schema = self.resolve(schema);
        if let Some(first) = schema
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for key in ["const", "default", "example"] {
            if let Some(value) = schema.get(key) {
                return value.clone();
            }
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.iter().find(|v| !v.is_null()))
        {
            return first.clone();
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(parts) = schema.get(key).and_then(Value::as_array) {
                if key == "allOf" {
                    let mut merged = Map::new();
                    for part in parts {
                        if let Value::Object(o) = self.example_at_depth(part, depth + 1) {
                            merged.extend(o);
                        }
                    }
                    return Value::Object(merged);
                }
                if let Some(first) = parts.first() {
                    return self.example_at_depth(first, depth + 1);
                }
            }
        }
        let types = self.types(schema);
        let kind = types
            .iter()
            .find(|t| **t != "null")
            .copied()
            .or_else(|| schema.get("properties").map(|_| "object"))
            .unwrap_or("null");
        match kind {
            "object" => {
                let mut object = Map::new();
                if depth < 8
                    && let Some(properties) = schema.get("properties").and_then(Value::as_object)
                {
                    for (name, property) in properties {
                        object.insert(name.clone(), self.example_at_depth(property, depth + 1));
                    }
                }
                Value::Object(object)
            }
            "array" => match schema.get("items") {
                Some(items) if depth < 8 => {
                    Value::Array(vec![self.example_at_depth(items, depth + 1)])
                }
                _ => Value::Array(Vec::new()),
            },
            "string" => Value::String(string_example(schema)),
            "integer" => Value::from(schema.get("minimum").and_then(Value::as_i64).unwrap_or(0)),
            "number" => schema
                .get("minimum")
                .cloned()
                .unwrap_or_else(|| Value::from(0.0)),
            "boolean" => Value::Bool(false),
            _ => Value::Null,
        }
    }
}

fn string_example(schema: &Value) -> String {
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => "2025-06-24T12:00:00Z".to_string(),
        Some("date") => "2025-06-24".to_string(),
        Some("uuid") => "6f1c2a4e-0b7d-4c3e-9a51-2d8e7f6a5b4c".to_string(),
        Some("email") => "user@example.com".to_string(),
        Some("ip" | "ipv4") => "127.0.0.1".to_string(),
        Some("ipv6") => "::1".to_string(),
        Some("uri" | "url") => "https://media.example/fixtures/h264_aac.mp4".to_string(),
        _ => "text".to_string(),
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let mut text = text;
    while text.chars().count() < min {
        text.push('x');
    }
    if let Some(max) = max
        && text.chars().count() > max
    {
        text = text.chars().take(max).collect();
    }
    text
}

/// Escapes one JSON pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
