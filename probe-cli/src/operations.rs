//! A command per operation of the API, made at run time from the
//! operations table the SDK generated from the document
//! (`probe_api::spec::operations`): an operation the document adds is a
//! command with no change here.

use std::io::Read;

use clap::builder::{PossibleValuesParser, ValueParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use probe_api::spec::{OperationSpec, ValueSpec};
use serde_json::{Map, Value};

use crate::exit::Failure;

/// The command name of an operation: `get-file` for `get_file`.
pub fn command_name(op: &OperationSpec) -> String {
    op.rust_name.replace('_', "-")
}

/// The operation a command name stands for.
pub fn find(name: &str) -> Option<&'static OperationSpec> {
    probe_api::spec::operations()
        .iter()
        .find(|op| command_name(op) == name)
}

/// The flag of a parameter or body field: `--ffprobe-show-streams` for
/// `ffprobe[show_streams]`, `--session-id` for `session-id`.
fn flag(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The id of a body field's argument, apart from the parameters'.
fn field_id(name: &str) -> String {
    format!("body.{name}")
}

/// One command per operation.
pub fn commands() -> Vec<Command> {
    probe_api::spec::operations().iter().map(command).collect()
}

fn command(op: &'static OperationSpec) -> Command {
    let mut about = op.summary.unwrap_or(op.rust_name).to_string();
    about.push_str(&format!(" ({} {})", op.method, op.path));
    let mut command = Command::new(command_name(op)).about(about);
    let mut flags = Vec::new();
    for parameter in op.parameters {
        let long = flag(parameter.name);
        flags.push(long.clone());
        let mut help = describe(&parameter.value);
        if matches!(parameter.name, "timeout" | "queue_timeout") && op.timeout_default_ms.is_some()
        {
            help.push_str(" In milliseconds.");
        }
        if parameter.secret {
            help.push_str(" A credential: it lands in shell history.");
        }
        command = command.arg(
            value_arg(parameter.name, long, &parameter.value)
                .help(help.trim().to_string())
                .required(parameter.required),
        );
    }
    if let Some(body) = op.body {
        let fields: Vec<_> = body
            .fields
            .iter()
            .filter(|f| !flags.contains(&flag(f.name)))
            .collect();
        let by_field = fields.len() == body.fields.len() && !fields.is_empty();
        let mut body_arg = Arg::new("body")
            .long("body")
            .value_name("FILE")
            .help(format!(
                "The request body ({}), as JSON: a file, or `-` for stdin{}.",
                body.type_name,
                if by_field {
                    "; or give its fields as flags"
                } else {
                    ""
                }
            ));
        if body.required && !by_field {
            body_arg = body_arg.required(true);
        }
        command = command.arg(body_arg);
        if by_field {
            for field in fields {
                let mut help = describe(&field.value);
                help.push_str(" (a field of the body)");
                command = command.arg(
                    value_arg(&field_id(field.name), flag(field.name), &field.value)
                        .help(help.trim().to_string())
                        .conflicts_with("body"),
                );
            }
        }
    }
    if op.pages.is_some() {
        command = command
            .arg(Arg::new("all").long("all").action(ArgAction::SetTrue).help(
                "Every item of the list, page after page (one JSON line each with --format jsonl).",
            ))
            .arg(
                Arg::new("max-items")
                    .long("max-items")
                    .value_name("N")
                    .value_parser(clap::value_parser!(usize))
                    .requires("all")
                    .help("With --all: stop after this many items."),
            );
    }
    command
}

/// The help text of a value: its description, type, choices and default.
fn describe(value: &ValueSpec) -> String {
    let mut help = value.description.unwrap_or_default().trim().to_string();
    if !help.is_empty() && !help.ends_with('.') {
        help.push('.');
    }
    let kind = match (value.kind, value.item_kind) {
        ("array", Some(item)) => format!("a list of {item}s, comma-separated or repeated"),
        ("", _) => "JSON".to_string(),
        (kind, _) => kind.to_string(),
    };
    let format = value.format.map(|f| format!(", {f}")).unwrap_or_default();
    help.push_str(&format!(" [{kind}{format}]"));
    if let Some(default) = value.default {
        help.push_str(&format!(" [default: {}]", default.trim_matches('"')));
    }
    help
}

/// The argument of one value, parsed as its type says.
fn value_arg(id: &str, long: String, value: &ValueSpec) -> Arg {
    let (kind, list) = match (value.kind, value.item_kind) {
        ("array", Some(item)) => (item, true),
        (kind, _) => (kind, false),
    };
    let parser: ValueParser = if !value.choices.is_empty() {
        PossibleValuesParser::new(value.choices.iter().copied()).into()
    } else {
        match kind {
            "integer" => clap::value_parser!(i64).into(),
            "number" => clap::value_parser!(f64).into(),
            "boolean" => clap::value_parser!(bool),
            _ => ValueParser::string(),
        }
    };
    let value_name = match (value.format, kind) {
        (Some(format), _) => format.to_ascii_uppercase(),
        (None, "") => "JSON".to_string(),
        (None, kind) => kind.to_ascii_uppercase(),
    };
    let mut arg = Arg::new(id.to_string())
        .long(long)
        .value_name(value_name)
        .value_parser(parser);
    if list {
        arg = arg.action(ArgAction::Append).value_delimiter(',');
    } else if kind == "boolean" {
        // `--flag` alone means true; `--flag false` says no.
        arg = arg.num_args(0..=1).default_missing_value("true");
    }
    arg
}

/// What a command's flags ask of the operation.
pub struct Call {
    pub params: Map<String, Value>,
    pub body: Option<Value>,
    pub all: bool,
    pub max_items: Option<usize>,
}

/// The parameters and body of `op` from the command's flags.
pub fn call(op: &OperationSpec, matches: &ArgMatches) -> Result<Call, Failure> {
    let mut params = Map::new();
    let mut credentials = Vec::new();
    for parameter in op.parameters {
        if let Some(value) = json_value(matches, parameter.name, &parameter.value) {
            if parameter.secret {
                credentials.push(flag(parameter.name));
            }
            params.insert(parameter.name.to_string(), value);
        }
    }
    let mut body = match matches.try_get_one::<String>("body").ok().flatten() {
        Some(source) => Some(read_body(source)?),
        None => None,
    };
    if let Some(spec) = op.body {
        let mut fields = Map::new();
        for field in spec.fields {
            let id = field_id(field.name);
            if matches.try_contains_id(&id).unwrap_or(false)
                && let Some(value) = json_value(matches, &id, &field.value)
            {
                if field.value.format == Some("password") {
                    credentials.push(flag(field.name));
                }
                fields.insert(field.name.to_string(), value);
            }
        }
        if body.is_none() && (!fields.is_empty() || spec.required) {
            body = Some(Value::Object(fields));
        }
    }
    for name in credentials {
        eprintln!(
            "probe: warning: --{name} holds a credential, which the command line keeps in shell history and shows to `ps`; give the body with --body - instead"
        );
    }
    let all = matches.try_get_one::<bool>("all").ok().flatten() == Some(&true);
    let max_items = matches
        .try_get_one::<usize>("max-items")
        .ok()
        .flatten()
        .copied();
    Ok(Call {
        params,
        body,
        all,
        max_items,
    })
}

/// The JSON of one flag's value(s), as its type says; `None` when unset.
fn json_value(matches: &ArgMatches, id: &str, value: &ValueSpec) -> Option<Value> {
    let kind = match (value.kind, value.item_kind) {
        ("array", Some(item)) => item,
        (kind, _) => kind,
    };
    let one = |raw: Value| -> Value {
        match raw {
            // Values whose type the document leaves open are read as JSON
            // when they parse, as text otherwise.
            Value::String(text) if kind.is_empty() => {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            }
            other => other,
        }
    };
    let values: Vec<Value> = if !value.choices.is_empty() {
        matches
            .get_many::<String>(id)?
            .map(|s| Value::from(s.as_str()))
            .collect()
    } else {
        match kind {
            "integer" => matches
                .get_many::<i64>(id)?
                .map(|n| Value::from(*n))
                .collect(),
            "number" => matches
                .get_many::<f64>(id)?
                .map(|n| Value::from(*n))
                .collect(),
            "boolean" => matches
                .get_many::<bool>(id)?
                .map(|b| Value::from(*b))
                .collect(),
            _ => matches
                .get_many::<String>(id)?
                .map(|s| Value::from(s.as_str()))
                .collect(),
        }
    };
    let mut values = values.into_iter().map(one);
    if value.kind == "array" {
        Some(Value::Array(values.collect()))
    } else {
        values.next()
    }
}

/// A JSON body from a file, or from stdin for `-`.
pub fn read_body(source: &str) -> Result<Value, Failure> {
    let mut text = String::new();
    if source == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input(format!("cannot read the body from stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(source)
            .map_err(|e| Failure::input(format!("cannot read the body file {source}: {e}")))?;
    }
    serde_json::from_str(&text).map_err(|e| {
        Failure::input(format!(
            "the body {} is not JSON (line {}, column {}): {e}",
            if source == "-" { "from stdin" } else { source },
            e.line(),
            e.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_kebab_case_with_deep_object_groups_flattened() {
        assert_eq!(flag("ffprobe[show_streams]"), "ffprobe-show-streams");
        assert_eq!(flag("session-id"), "session-id");
        assert_eq!(flag("X-Recaptcha-Token"), "x-recaptcha-token");
        assert_eq!(flag("queue_timeout"), "queue-timeout");
    }

    #[test]
    fn every_operation_is_a_command_whose_flags_parse() {
        let cli = Command::new("probe").subcommands(commands());
        cli.clone().debug_assert();
        assert_eq!(
            cli.get_subcommands().count(),
            probe_api::spec::operations().len()
        );
    }
}
