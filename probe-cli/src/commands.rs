//! The commands written by hand: `file`, `batch`, `log`, `usage`, `api`
//! and `auth`, and the generated operations' call.

use std::io::{BufRead, IsTerminal};

use futures_util::StreamExt;
use probe_api::spec::OperationSpec;
use probe_api::{Client, Method};
use serde_json::{Map, Value, json};

use crate::args::{ApiArgs, BatchArgs, FileArgs, Format, LogArgs, Tool, UsageArgs};
use crate::exit::Failure;
use crate::operations::Call;
use crate::output::{Printer, write_bytes, write_out};

/// A generated operation: one call, every page with `--all`, or the exact
/// bytes with `--raw`.
pub async fn operation(
    client: &Client,
    op: &'static OperationSpec,
    call: Call,
    printer: Printer,
    raw: bool,
) -> Result<(), Failure> {
    let list = op.pages.map(|p| p.items);
    if call.all {
        let mut items = probe_api::dynamic::items(client, op.rust_name, &call.params)?;
        if let Some(max) = call.max_items {
            items = items.max_items(max);
        }
        return print_items(items, printer).await;
    }
    if raw {
        let response = raw_request(client, op, &call)?.send_bytes().await?;
        return write_bytes(&response.into_inner());
    }
    let value =
        probe_api::dynamic::call(client, op.rust_name, &call.params, call.body.as_ref()).await?;
    printer.answer(&value, list)
}

/// Every item of a walk: a line each as it comes for `jsonl`, else all
/// together as one JSON array or table.
async fn print_items(
    mut items: probe_api::pages::Items<'_, Value>,
    printer: Printer,
) -> Result<(), Failure> {
    if printer.format == Format::Jsonl {
        while let Some(item) = items.next().await {
            printer.line(&item?)?;
        }
        return Ok(());
    }
    let mut all = Vec::new();
    while let Some(item) = items.next().await {
        all.push(item?);
    }
    printer.answer(&Value::Array(all), None)
}

/// The request of an operation as the document lays it out, for `--raw`.
fn raw_request<'c>(
    client: &'c Client,
    op: &OperationSpec,
    call: &Call,
) -> Result<probe_api::raw::RawRequest<'c>, Failure> {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let text = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut path = op.path.to_string();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    for parameter in op.parameters {
        let Some(value) = call.params.get(parameter.name) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Array(items) => items.iter().map(text).collect(),
            other => vec![text(other)],
        };
        match parameter.location {
            probe_api::spec::ParameterLocation::Path => {
                let encoded = utf8_percent_encode(&values.join(","), NON_ALPHANUMERIC).to_string();
                path = path.replace(&format!("{{{}}}", parameter.name), &encoded);
            }
            probe_api::spec::ParameterLocation::Header => {
                headers.push((parameter.name.to_string(), values.join(",")));
            }
            _ => query.extend(values.into_iter().map(|v| (parameter.name.to_string(), v))),
        }
    }
    let method = Method::from_bytes(op.method.as_bytes())
        .map_err(|e| Failure::other(format!("{}: {e}", op.method)))?;
    let mut request = client.request(method, &path).query(&query);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    if let (Some(body), Some(spec)) = (&call.body, op.body) {
        request = if spec.media_type == "application/x-www-form-urlencoded" {
            request.form(body)
        } else {
            request.json(body)
        };
    }
    Ok(request)
}

/// `probe api METHOD PATH`.
pub async fn api(
    client: &Client,
    args: ApiArgs,
    printer: Printer,
    raw: bool,
) -> Result<(), Failure> {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::input(format!("`{}` is not an HTTP method", args.method)))?;
    if !args.path.starts_with('/') {
        return Err(Failure::input(format!(
            "the path `{}` must start with `/`, such as /v1/probe/file",
            args.path
        )));
    }
    let mut query = Vec::new();
    for pair in &args.query {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::input(format!("`--query {pair}` is not NAME=VALUE")))?;
        query.push((name.to_string(), value.to_string()));
    }
    let mut request = client.request(method, &args.path).query(&query);
    if let Some(source) = &args.body {
        request = request.json(&crate::operations::read_body(source)?);
    }
    if raw {
        let response = request.send_bytes().await?;
        return write_bytes(&response.into_inner());
    }
    let value = request.send().await?.into_inner();
    printer.answer(&value, None)
}

/// `probe file URL`.
pub async fn file(client: &Client, args: FileArgs, printer: Printer) -> Result<(), Failure> {
    let mut request = client
        .get_file()
        .url(args.url.as_str())
        .ffprobe_show_streams(true)
        .ffprobe_show_format(true);
    match args.only.as_slice() {
        [] => {}
        [one] => {
            request = request.only(match one {
                Tool::Ffprobe => probe_api::types::GetFileOnly::Ffprobe,
                Tool::Mediainfo => probe_api::types::GetFileOnly::Mediainfo,
                Tool::ProbeReport => probe_api::types::GetFileOnly::ProbeReport,
            });
        }
        several => {
            request = request
                .ffprobe_enabled(several.contains(&Tool::Ffprobe))
                .mediainfo_enabled(several.contains(&Tool::Mediainfo))
                .probe_report_enabled(several.contains(&Tool::ProbeReport));
        }
    }
    let report = request.send().await?.into_inner();
    if args.json {
        let value = serde_json::to_value(&report)
            .map_err(|e| Failure::other(format!("cannot write the answer as JSON: {e}")))?;
        return printer.json(&value);
    }
    write_out(&format!("{}\n{}", args.url, report.summary()))
}

/// `probe batch`.
pub async fn batch(client: &Client, args: BatchArgs) -> Result<(), Failure> {
    let urls: Vec<String> = match args.file.as_deref() {
        Some(path) if path != std::path::Path::new("-") => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::input(format!("cannot read the URL list {}: {e}", path.display()))
            })?;
            lines(text.lines().map(str::to_string))
        }
        _ => lines(std::io::stdin().lock().lines().map_while(Result::ok)),
    };
    let mut options = probe_api::batch::ProbeMany::new().concurrency(args.concurrency);
    if let Some(path) = &args.journal {
        let journal = probe_api::batch::Journal::open(path).map_err(|e| {
            Failure::input(format!("cannot open the journal {}: {e}", path.display()))
        })?;
        options = options.journal(journal);
    }
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    let total = urls.len();
    // Progress is for a person watching: only on a terminal.
    if std::io::stderr().is_terminal() {
        options = options.on_progress(move |p| {
            eprint!(
                "\r{}/{total} done, {} failed, {} in flight (limit {}), {} refused   ",
                p.finished,
                p.failed,
                p.in_flight(),
                p.limit,
                p.rejected
            );
        });
    }
    let mut results = client.probe_many(urls, options);
    let mut failed = 0usize;
    while let Some(probed) = results.next().await {
        let line = match probed.result {
            Ok(answer) => json!({
                "index": probed.index,
                "url": probed.url,
                "resumed": probed.resumed,
                "request_id": answer.request_id(),
                "attempts": answer.attempts(),
                "result": &*answer,
            }),
            Err(error) => {
                failed += 1;
                json!({
                    "index": probed.index,
                    "url": probed.url,
                    "error": error.to_string(),
                    "status": error.status().map(|s| s.as_u16()),
                    "request_id": error.request_id(),
                })
            }
        };
        write_out(&format!("{line}\n"))?;
    }
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    if failed > 0 {
        return Err(Failure::other(format!(
            "{failed} of {total} probe(s) failed; their lines hold the errors"
        )));
    }
    Ok(())
}

/// Non-empty, non-comment lines, trimmed.
fn lines(lines: impl Iterator<Item = String>) -> Vec<String> {
    lines
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// `probe log`.
pub async fn log(client: &Client, args: LogArgs, printer: Printer) -> Result<(), Failure> {
    let op = probe_api::spec::operation("get_log")
        .ok_or_else(|| Failure::other("the API document has no get_log"))?;
    let mut params = Map::new();
    if let Some(limit) = args.limit {
        params.insert("pagination[limit]".into(), limit.into());
    }
    if let Some(page) = args.page {
        params.insert("pagination[page]".into(), page.into());
    }
    let call = Call {
        params,
        body: None,
        all: args.all,
        max_items: args.max_items,
    };
    // `log --all` prints a line an entry unless a format was asked for.
    let printer = if args.all && !printer.chosen {
        Printer {
            format: Format::Jsonl,
            ..printer
        }
    } else {
        printer
    };
    operation(client, op, call, printer, false).await
}

/// `probe usage`.
pub async fn usage(client: &Client, args: UsageArgs, printer: Printer) -> Result<(), Failure> {
    let mut params = Map::new();
    if let Some(month) = args.month {
        params.insert("month".into(), month.into());
    }
    if let Some(year) = args.year {
        params.insert("year".into(), year.into());
    }
    let value = probe_api::dynamic::call(client, "get_summary", &params, None).await?;
    printer.answer(&value, Some("users-usage"))
}
