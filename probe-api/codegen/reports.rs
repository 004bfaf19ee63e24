//! The `tool-report` rule: a tool's output the crate has a type for is
//! decoded into that type with the response, not held as any JSON.
//!
//! The document types every tool's output as any JSON, in one tool result
//! schema that the FFprobe, MediaInfo and Probe Report results share. A
//! response would then hold a `serde_json::Value` tree of a report that can
//! run to megabytes, and the typed report would be a second decode of it.
//! The rule recognises the shape, not the names of this document: an object
//! property named after a tool with a report type ([`TOOLS`]) whose schema
//! refers to a tool result (an object with a boolean `success` and an
//! any-JSON `response`). That property then refers to a copy of the tool
//! result made for the tool, whose `response` carries the tool's report
//! format; the generator maps each format to `crate::reports::ToolReport`
//! of the report type. Tool results of other tools keep the shared schema.

use serde_json::{Map, Value, json};

/// The tools the crate has report types for: the property name, the format
/// the rule gives its output, the Rust type the generator maps it to, and
/// the suffix of the tool result schema made for it.
pub const TOOLS: [(&str, &str, &str, &str); 2] = [
    (
        "ffprobe",
        "x-probe-ffprobe-report",
        "crate::runtime::ToolReport<crate::runtime::FfprobeReport>",
        "Ffprobe",
    ),
    (
        "mediainfo",
        "x-probe-mediainfo-report",
        "crate::runtime::ToolReport<crate::runtime::MediaInfoReport>",
        "Mediainfo",
    ),
];

/// Keywords that describe a schema without constraining it.
const ANNOTATIONS: [&str; 6] = [
    "description",
    "title",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// One property rewritten: the JSON pointer segments of the property and
/// what changed.
pub type Change = (Vec<String>, String);

/// Applies the rule to the components of `doc`, returning each change.
pub fn tool_reports(doc: &mut Value) -> Vec<Change> {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
    else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    let mut added: Map<String, Value> = Map::new();
    let mut names: Vec<&String> = schemas.keys().collect();
    names.sort();
    for owner in names {
        let Some(properties) = schemas[owner].get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (tool, format, rust, suffix) in TOOLS {
            let Some(target) = properties.get(tool).and_then(super::refs::schema_name) else {
                continue;
            };
            let Some(result) = schemas.get(target).filter(|s| is_tool_result(s)) else {
                continue;
            };
            let copy = format!("{target}{suffix}");
            if schemas.contains_key(&copy) && !added.contains_key(&copy) {
                // A schema of that name exists in the document already: the
                // rule does not overwrite it, so the property stays as is.
                continue;
            }
            added.entry(copy.clone()).or_insert_with(|| {
                let mut copy = result.clone();
                let response = &mut copy["properties"]["response"];
                let mut marked = Map::new();
                if let Some(annotations) = response.as_object() {
                    for key in ANNOTATIONS {
                        if let Some(v) = annotations.get(key) {
                            marked.insert(key.to_string(), v.clone());
                        }
                    }
                }
                marked.insert("format".into(), json!(format));
                *response = Value::Object(marked);
                copy
            });
            if let Some(property) = doc.pointer_mut(&format!(
                "/components/schemas/{}/properties/{tool}",
                escape(owner)
            )) {
                property["$ref"] = json!(format!("#/components/schemas/{copy}"));
            }
            changes.push((
                ["components", "schemas", owner.as_str(), "properties", tool]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                format!("`{target}` -> `{copy}`: response any JSON -> {rust}"),
            ));
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(added);
    }
    changes
}

/// Whether `schema` is a tool result: an object with a boolean `success`
/// and an any-JSON `response` (no keyword but annotations).
pub fn is_tool_result(schema: &Value) -> bool {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return false;
    };
    let boolean = properties
        .get("success")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        == Some("boolean");
    let any_json = properties
        .get("response")
        .and_then(Value::as_object)
        .is_some_and(|r| r.keys().all(|k| ANNOTATIONS.contains(&k.as_str())));
    boolean && any_json
}

/// A name as a JSON pointer segment (RFC 6901).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({"components": {"schemas": {
            "Result": {"type": "object", "properties": {
                "success": {"type": "boolean"},
                "error": {"type": "string", "nullable": true},
                "response": {"description": "the output"}
            }},
            "Probe": {"type": "object", "properties": {
                "ffprobe": {"$ref": "#/components/schemas/Result"},
                "mediainfo": {"$ref": "#/components/schemas/Result"},
                "probe_report": {"$ref": "#/components/schemas/Result"}
            }},
            "Other": {"type": "object", "properties": {
                "ffprobe": {"$ref": "#/components/schemas/Typed"}
            }},
            "Typed": {"type": "object", "properties": {
                "success": {"type": "boolean"},
                "response": {"type": "object"}
            }}
        }}})
    }

    #[test]
    fn tool_results_of_typed_tools_get_a_copy_with_the_report_format() {
        let mut doc = document();
        let changes = tool_reports(&mut doc);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["Probe"]["properties"]["ffprobe"]["$ref"],
            "#/components/schemas/ResultFfprobe"
        );
        assert_eq!(
            schemas["Probe"]["properties"]["mediainfo"]["$ref"],
            "#/components/schemas/ResultMediainfo"
        );
        // A tool without a report type keeps the shared result.
        assert_eq!(
            schemas["Probe"]["properties"]["probe_report"]["$ref"],
            "#/components/schemas/Result"
        );
        assert_eq!(
            schemas["ResultFfprobe"]["properties"]["response"],
            json!({"description": "the output", "format": "x-probe-ffprobe-report"})
        );
        assert_eq!(
            schemas["ResultFfprobe"]["properties"]["error"],
            schemas["Result"]["properties"]["error"]
        );
        // A result whose output the document already types is left alone.
        assert_eq!(
            schemas["Other"]["properties"]["ffprobe"]["$ref"],
            "#/components/schemas/Typed"
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            changes[0].0,
            ["components", "schemas", "Probe", "properties", "ffprobe"]
        );
    }

    #[test]
    fn the_rule_is_idempotent_and_keeps_existing_schemas() {
        let mut doc = document();
        tool_reports(&mut doc);
        let once = doc.clone();
        assert!(tool_reports(&mut doc).is_empty());
        assert_eq!(doc, once);

        let mut doc = document();
        doc["components"]["schemas"]["ResultFfprobe"] = json!({"type": "string"});
        tool_reports(&mut doc);
        assert_eq!(
            doc["components"]["schemas"]["ResultFfprobe"],
            json!({"type": "string"})
        );
        assert_eq!(
            doc["components"]["schemas"]["Probe"]["properties"]["ffprobe"]["$ref"],
            "#/components/schemas/Result"
        );
    }
}
