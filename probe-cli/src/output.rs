//! Answers on stdout: JSON (indented on a terminal, one line otherwise),
//! JSON Lines, or a table.

use std::io::{IsTerminal, Write};

use serde_json::Value;

use crate::args::Format;
use crate::exit::Failure;

/// How answers are printed.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: Format,
    /// Whether `--format` was given.
    pub chosen: bool,
    pub pretty: bool,
}

impl Printer {
    pub fn new(format: Option<Format>) -> Printer {
        Printer {
            format: format.unwrap_or(Format::Json),
            chosen: format.is_some(),
            pretty: std::io::stdout().is_terminal(),
        }
    }

    /// One answer. `list` names its list property (a paging operation's),
    /// whose elements are the lines of `jsonl` and the rows of a table.
    pub fn answer(&self, value: &Value, list: Option<&str>) -> Result<(), Failure> {
        let items = match (list, value) {
            (_, Value::Array(items)) => Some(items),
            (Some(list), Value::Object(object)) => object.get(list).and_then(Value::as_array),
            _ => None,
        };
        match (self.format, items) {
            (Format::Json, _) => self.json(value),
            (Format::Jsonl, Some(items)) => items.iter().try_for_each(|item| self.line(item)),
            (Format::Jsonl, None) => self.line(value),
            (Format::Table, Some(items)) => write_out(&table(items)),
            (Format::Table, None) => write_out(&fields(value)),
        }
    }

    /// A value as JSON: indented on a terminal, one line otherwise.
    pub fn json(&self, value: &Value) -> Result<(), Failure> {
        let text = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .map_err(|e| Failure::other(format!("cannot write the answer as JSON: {e}")))?;
        write_out(&format!("{text}\n"))
    }

    /// A value on one line.
    pub fn line(&self, value: &Value) -> Result<(), Failure> {
        write_out(&format!("{value}\n"))
    }
}

/// Writes to stdout; a closed pipe (`probe … | head`) ends quietly.
pub fn write_out(text: &str) -> Result<(), Failure> {
    write_bytes(text.as_bytes())
}

/// Bytes to stdout as they are.
pub fn write_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::other(format!("cannot write to stdout: {e}"))),
    }
}

/// A scalar as a table cell.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => format!("[{} items]", items.len()),
        Value::Object(_) => "{…}".to_string(),
        other => other.to_string(),
    }
}

/// The columns a person reads first: the scalar fields of the first rows,
/// `id` first, at most six.
fn columns(items: &[Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for item in items.iter().take(10) {
        if let Value::Object(object) = item {
            for (key, value) in object {
                if !value.is_object() && !value.is_array() && !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    columns.sort_by_key(|c| c != "id");
    columns.truncate(6);
    columns
}

fn table(items: &[Value]) -> String {
    let columns = columns(items);
    if columns.is_empty() {
        return items.iter().map(|i| format!("{}\n", cell(i))).collect();
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| c.to_ascii_uppercase()).collect();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// An object as `field  value` rows of its scalar fields.
fn fields(value: &Value) -> String {
    match value {
        Value::Object(object) => {
            let width = object.keys().map(String::len).max().unwrap_or(0);
            object
                .iter()
                .map(|(key, value)| format!("{key:<width$}  {}\n", cell(value)))
                .collect()
        }
        other => format!("{}\n", cell(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_put_the_id_first_and_align_columns() {
        let items = [
            json!({"url": "https://a", "id": 1, "nested": {"x": 1}}),
            json!({"url": "https://bb", "id": 22}),
        ];
        assert_eq!(table(&items), "ID  URL\n1   https://a\n22  https://bb\n");
        assert_eq!(
            fields(&json!({"a": 1, "long": [1, 2]})),
            "a     1\nlong  [2 items]\n"
        );
    }
}
