//! Matching a request to an operation of the document, and checking it
//! against the operation's parameters and request body.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::schema::{Document, escape};

/// One operation of the document, as the mock routes to it.
#[derive(Debug)]
pub(crate) struct Route {
    /// The client method name, such as `"get_file"`.
    pub(crate) operation: &'static str,
    pub(crate) method: &'static str,
    segments: Vec<Segment>,
    /// JSON pointer of the operation object in the document.
    pub(crate) pointer: String,
    /// Whether the operation requires credentials.
    pub(crate) needs_auth: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter(String),
}

/// Every operation of the document.
#[derive(Debug)]
pub(crate) struct Routes(Vec<Route>);

/// Why no operation matched.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    NotFound,
    MethodNotAllowed,
}

impl Routes {
    pub(crate) fn new(document: &Document) -> Result<Routes, String> {
        let mut routes = Vec::new();
        for op in crate::spec::operations() {
            let pointer = format!(
                "/paths/{}/{}",
                escape(op.path),
                op.method.to_ascii_lowercase()
            );
            if document.at(&pointer).is_none() {
                return Err(format!(
                    "the embedded document has no operation at {pointer} ({})",
                    op.rust_name
                ));
            }
            let segments = op
                .path
                .trim_start_matches('/')
                .split('/')
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Parameter(name.to_string()),
                        None => Segment::Literal(s.to_string()),
                    },
                )
                .collect();
            let needs_auth =
                !op.security.is_empty() && op.security.iter().all(|alt| !alt.is_empty());
            routes.push(Route {
                operation: op.rust_name,
                method: op.method,
                segments,
                pointer,
                needs_auth,
            });
        }
        // Literal segments win over parameters (`/user/current` before
        // `/user/{user-id}`).
        routes.sort_by_key(|r| {
            std::cmp::Reverse(
                r.segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count(),
            )
        });
        Ok(Routes(routes))
    }

    /// The JSON pointer of an operation, by client method name.
    pub(crate) fn pointer_of(&self, operation: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|r| r.operation == operation)
            .map(|r| r.pointer.as_str())
    }

    /// The operation for `method path`, with its path parameters decoded.
    pub(crate) fn find(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Route, HashMap<String, String>), Miss> {
        let parts: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let mut path_matched = false;
        for route in &self.0 {
            let Some(params) = route.matches(&parts) else {
                continue;
            };
            path_matched = true;
            if route.method.eq_ignore_ascii_case(method) {
                return Ok((route, params));
            }
        }
        Err(if path_matched {
            Miss::MethodNotAllowed
        } else {
            Miss::NotFound
        })
    }
}

impl Route {
    fn matches(&self, parts: &[String]) -> Option<HashMap<String, String>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Parameter(_) if part.is_empty() => return None,
                Segment::Parameter(name) => {
                    params.insert(name.clone(), part.clone());
                }
            }
        }
        Some(params)
    }
}

/// A path segment with its `%XX` escapes decoded (`+` stays `+`).
fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A request as the mock received it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: bytes::Bytes,
}

impl Incoming {
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cookies of the `Cookie` header(s).
    pub(crate) fn cookies(&self) -> Vec<(String, String)> {
        self.headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request that passed the document's checks: parameters by name (a
/// `deepObject` group as one object) and the body as JSON.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) params: Map<String, Value>,
    pub(crate) body: Option<Value>,
}

impl Checked {
    /// A parameter, or a property of the body of the same name.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.params
            .get(name)
            .or_else(|| self.body.as_ref().and_then(|b| b.get(name)))
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }
}

/// Checks `incoming` against `route`'s parameters and request body; the
/// problems name each parameter or JSON path.
pub(crate) fn check(
    document: &Document,
    route: &Route,
    path_params: &HashMap<String, String>,
    incoming: &Incoming,
) -> Result<Checked, Vec<String>> {
    let mut problems = Vec::new();
    let mut checked = Checked::default();
    let query = incoming.query_pairs();
    let cookies = incoming.cookies();
    let mut known_query: Vec<(String, bool)> = security_query_names(document)
        .into_iter()
        .map(|n| (n, false))
        .collect();

    for pointer in parameter_pointers(document, &route.pointer) {
        let Some(parameter) = document.at(&pointer) else {
            continue;
        };
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let location = parameter.get("in").and_then(Value::as_str).unwrap_or("");
        let required = parameter.get("required").and_then(Value::as_bool) == Some(true);
        let schema_pointer = format!("{pointer}/schema");
        let Some(schema) = document.at(&schema_pointer) else {
            continue;
        };
        let deep = parameter.get("style").and_then(Value::as_str) == Some("deepObject");
        let value = match location {
            "path" => path_params.get(&name).map(|v| document.typed(v, schema)),
            "header" => incoming.header(&name).map(|v| document.typed(v, schema)),
            "cookie" => cookies
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| document.typed(v, schema)),
            "query" if deep => {
                known_query.push((name.clone(), true));
                deep_object(document, &name, schema, &query, &mut problems)
            }
            "query" => {
                known_query.push((name.clone(), false));
                let values: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                let resolved = document.resolve(schema);
                if values.is_empty() {
                    None
                } else if document.types(resolved).contains(&"array") {
                    let items = resolved.get("items").unwrap_or(&Value::Null);
                    Some(Value::Array(
                        values.iter().map(|v| document.typed(v, items)).collect(),
                    ))
                } else if values.len() > 1 {
                    problems.push(format!(
                        "query parameter `{name}` is given {} times",
                        values.len()
                    ));
                    None
                } else {
                    Some(document.typed(values[0], schema))
                }
            }
            _ => None,
        };
        match value {
            Some(value) => {
                if let Err(errors) = document.validate(&schema_pointer, &value) {
                    for e in errors {
                        problems.push(format!("{location} parameter `{name}`: {e}"));
                    }
                }
                checked.params.insert(name, value);
            }
            None if required => problems.push(format!("{location} parameter `{name}` is required")),
            None => {}
        }
    }

    for (key, _) in &query {
        let known = known_query.iter().any(|(name, deep)| {
            key == name
                || (*deep
                    && key
                        .strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']')))
        });
        if !known {
            problems.push(format!(
                "query parameter `{key}` is not defined for this operation"
            ));
        }
    }

    match check_body(document, &route.pointer, incoming) {
        Ok(body) => checked.body = body,
        Err(errors) => problems.extend(errors),
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

/// `name[prop]=value` pairs as one object, each value typed by its property.
fn deep_object(
    document: &Document,
    name: &str,
    schema: &Value,
    query: &[(String, String)],
    problems: &mut Vec<String>,
) -> Option<Value> {
    let schema = document.resolve(schema);
    let properties = schema.get("properties").and_then(Value::as_object);
    let mut object = Map::new();
    for (key, value) in query {
        let Some(property) = key
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix('['))
            .and_then(|r| r.strip_suffix(']'))
        else {
            continue;
        };
        match properties.and_then(|p| p.get(property)) {
            Some(property_schema) => {
                object.insert(property.to_string(), document.typed(value, property_schema));
            }
            None => problems.push(format!(
                "query parameter `{key}`: `{name}` has no property `{property}`"
            )),
        }
    }
    (!object.is_empty()).then_some(Value::Object(object))
}

/// Pointers of the parameters of an operation and of its path item,
/// with `$ref`s followed.
fn parameter_pointers(document: &Document, operation: &str) -> Vec<String> {
    let path_item = operation.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let mut pointers = Vec::new();
    for owner in [path_item, operation] {
        let list = format!("{owner}/parameters");
        let count = document
            .at(&list)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for i in 0..count {
            pointers.push(follow(document, format!("{list}/{i}")));
        }
    }
    pointers
}

/// A parameter of an operation as the document defines it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parameter<'a> {
    pub(crate) name: &'a str,
    /// The parameter's `in`: `path`, `query`, `header` or `cookie`.
    pub(crate) location: &'a str,
    /// Whether it is a `style: deepObject` query parameter.
    pub(crate) deep_object: bool,
    pub(crate) schema: Option<&'a Value>,
}

/// The parameters of an operation and of its path item, in document order.
pub(crate) fn parameters<'a>(document: &'a Document, operation: &str) -> Vec<Parameter<'a>> {
    parameter_pointers(document, operation)
        .into_iter()
        .filter_map(|pointer| document.at(&pointer))
        .filter_map(|parameter| {
            Some(Parameter {
                name: parameter.get("name").and_then(Value::as_str)?,
                location: parameter.get("in").and_then(Value::as_str)?,
                deep_object: parameter.get("style").and_then(Value::as_str) == Some("deepObject"),
                schema: parameter.get("schema"),
            })
        })
        .collect()
}

/// The schema of parameter `name` of an operation: a parameter of that
/// name, or a property of a `deepObject` parameter for `group[property]`.
pub(crate) fn parameter_schema<'a>(
    document: &'a Document,
    operation: &str,
    name: &str,
) -> Option<&'a Value> {
    let group = name
        .split_once('[')
        .and_then(|(g, rest)| Some((g, rest.strip_suffix(']')?)));
    parameter_pointers(document, operation)
        .into_iter()
        .filter_map(|p| document.at(&p))
        .find_map(|parameter| {
            let parameter_name = parameter.get("name").and_then(Value::as_str)?;
            let schema = parameter.get("schema")?;
            match group {
                _ if parameter_name == name => Some(schema),
                Some((group, property)) if parameter_name == group => {
                    document.resolve(schema).get("properties")?.get(property)
                }
                _ => None,
            }
        })
}

/// The pointer itself, or where its `$ref` points.
pub(crate) fn follow(document: &Document, mut pointer: String) -> String {
    for _ in 0..16 {
        match document
            .at(&pointer)
            .and_then(|n| n.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(target) => pointer = target.to_string(),
            None => break,
        }
    }
    pointer
}

/// The query parameter names that carry credentials (`token`, `jwt`).
fn security_query_names(document: &Document) -> Vec<String> {
    document
        .at("/components/securitySchemes")
        .and_then(Value::as_object)
        .map(|schemes| {
            schemes
                .values()
                .filter(|s| s.get("in").and_then(Value::as_str) == Some("query"))
                .filter_map(|s| s.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn check_body(
    document: &Document,
    operation: &str,
    incoming: &Incoming,
) -> Result<Option<Value>, Vec<String>> {
    let body_pointer = follow(document, format!("{operation}/requestBody"));
    let Some(request_body) = document.at(&body_pointer) else {
        return Ok(None);
    };
    let required = request_body.get("required").and_then(Value::as_bool) == Some(true);
    let content_type = incoming.header("content-type").map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let accepted: Vec<&String> = request_body
        .get("content")
        .and_then(Value::as_object)
        .map(|c| c.keys().collect())
        .unwrap_or_default();
    if incoming.body.is_empty() && content_type.is_none() {
        return if required {
            Err(vec!["the request body is required".into()])
        } else {
            Ok(None)
        };
    }
    let Some(media_type) = content_type.filter(|ct| accepted.contains(&ct)) else {
        return Err(vec![format!(
            "content type `{}` is not accepted; the operation takes {}",
            incoming.header("content-type").unwrap_or("(none)"),
            accepted
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    };
    let schema_pointer = format!("{body_pointer}/content/{}/schema", escape(&media_type));
    let schema = document.at(&schema_pointer).cloned().unwrap_or(Value::Null);
    let body = if media_type == "application/x-www-form-urlencoded" {
        form_body(document, &schema, &incoming.body)
    } else {
        serde_json::from_slice(&incoming.body)
            .map_err(|e| vec![format!("the body is not valid JSON: {e}")])?
    };
    if document.at(&schema_pointer).is_some() {
        document
            .validate(&schema_pointer, &body)
            .map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| format!("body {e}"))
                    .collect::<Vec<_>>()
            })?;
    }
    Ok(Some(body))
}

/// A form body as an object: `a[b]=v` nests, values are typed by schema.
fn form_body(document: &Document, schema: &Value, bytes: &[u8]) -> Value {
    let mut object = Map::new();
    for (key, value) in url::form_urlencoded::parse(bytes) {
        let (outer, inner) = match key.split_once('[') {
            Some((outer, rest)) => (
                outer.to_string(),
                rest.strip_suffix(']').map(str::to_string),
            ),
            None => (key.to_string(), None),
        };
        let outer_schema = document
            .resolve(schema)
            .get("properties")
            .and_then(|p| p.get(&outer))
            .cloned()
            .unwrap_or(Value::Null);
        match inner {
            None => {
                object.insert(outer, document.typed(&value, &outer_schema));
            }
            Some(inner) => {
                let inner_schema = document
                    .resolve(&outer_schema)
                    .get("properties")
                    .and_then(|p| p.get(&inner))
                    .cloned()
                    .unwrap_or(Value::Null);
                let entry = object
                    .entry(outer)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = entry {
                    map.insert(inner, document.typed(&value, &inner_schema));
                }
            }
        }
    }
    Value::Object(object)
}
