//! The options every command takes and the commands written by hand; the
//! API's operations are added beside them from the document
//! (`operations.rs`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The Probe.dev media analysis API on the command line.
///
/// Every operation of the API is a command (`probe get-file --url …`),
/// generated from the API document the SDK was built from; `probe file`,
/// `probe batch`, `probe log` and `probe usage` do the common jobs. Answers
/// are JSON on stdout; messages go to stderr.
#[derive(Debug, Parser)]
#[command(name = "probe", version, about, long_about = None)]
#[command(after_help = crate::exit::CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Fixed,
}

/// Options of every command.
// The field docs are the command's help text, which shows the default
// base URL as people type it, not as a rustdoc link.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The API's base URL [env: PROBE_BASE_URL] [default: https://api.probe.dev].
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help_heading = "Global options"
    )]
    pub base_url: Option<String>,
    /// Read the API key from this file (its first line) instead of
    /// PROBE_API_TOKEN.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub api_key_file: Option<PathBuf>,
    /// The API key itself. Avoid it: a credential on the command line is
    /// kept in shell history and seen by other users' `ps`.
    #[arg(long, global = true, value_name = "KEY", hide = true)]
    pub api_key: Option<String>,
    /// Run against the built-in mock server in this process: offline, no
    /// credential needed.
    #[arg(long, global = true, help_heading = "Global options")]
    pub mock: bool,
    /// How to print the answer: JSON (indented on a terminal), one JSON
    /// value per line, or a table of the fields a person reads first.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        help_heading = "Global options"
    )]
    pub format: Option<Format>,
    /// Print the answer's body exactly as the API sent it.
    #[arg(long, global = true, help_heading = "Global options")]
    pub raw: bool,
    /// Show each request, its retries and timings on stderr.
    #[arg(long, short, global = true, help_heading = "Global options")]
    pub verbose: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON: indented on a terminal, one line otherwise.
    Json,
    /// One JSON value per line: each element of a list.
    Jsonl,
    /// A table of the fields a person reads first.
    Table,
}

/// The commands written by hand.
#[derive(Debug, Subcommand)]
pub enum Fixed {
    /// Probe one media file and print a summary of its streams, duration
    /// and codecs.
    File(FileArgs),
    /// Probe many media files: URLs from a file or stdin, one JSON line per
    /// result on stdout.
    Batch(BatchArgs),
    /// The media request log (get-log); `--all` walks every page.
    Log(LogArgs),
    /// Usage statistics of the account (get-summary).
    Usage(UsageArgs),
    /// Sign in, see which credential is in use, or sign out.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Send any request: `probe api GET /v1/probe/file -q url=…`.
    Api(ApiArgs),
    /// Print a completion script for a shell.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// The media URL.
    pub url: String,
    /// Print the API's whole answer as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Run only these tools.
    #[arg(long, value_delimiter = ',', value_enum, value_name = "TOOLS")]
    pub only: Vec<Tool>,
}

/// A tool `probe file --only` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tool {
    Ffprobe,
    Mediainfo,
    ProbeReport,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A file of media URLs, one a line; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Record each result in this journal as it completes; a batch started
    /// again with it skips the URLs already done.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// The most probes in flight (the batch adapts below it).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// Give each probe at most this long, retries included: `90`, `90s`,
    /// `5m`, `500ms`.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub deadline: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Every entry, page after page, one JSON line each.
    #[arg(long)]
    pub all: bool,
    /// With --all: stop after this many entries.
    #[arg(long, value_name = "N")]
    pub max_items: Option<usize>,
    /// Entries a page.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// The page to read (or to start from, with --all).
    #[arg(long, value_name = "N")]
    pub page: Option<u32>,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The month (1 to 12).
    #[arg(long)]
    pub month: Option<u32>,
    /// The year.
    #[arg(long)]
    pub year: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in with e-mail and password, and keep the JWT the API issues in
    /// the user's config directory (mode 0600) for later commands; or, with
    /// `--with-token`, keep an API token read from stdin, once the API has
    /// accepted it.
    Login {
        /// The account's e-mail address; asked for on a terminal when not
        /// given.
        #[arg(long, conflicts_with = "with_token")]
        email: Option<String>,
        /// Read the password from stdin. Without it the password comes
        /// from PROBE_PASSWORD, else `probe` asks for it on the terminal
        /// (what is typed is not shown).
        #[arg(long, conflicts_with = "with_token")]
        password_stdin: bool,
        /// Read an API token from stdin (its first line) and keep it instead
        /// of signing in: `probe auth login --with-token < token.txt`.
        #[arg(long)]
        with_token: bool,
    },
    /// Which credential the commands use, and whether the API accepts it.
    Status,
    /// Forget the stored credential (JWT or API token).
    Logout,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The HTTP method.
    pub method: String,
    /// The path, such as `/v1/probe/file`.
    pub path: String,
    /// A query parameter, `name=value`; repeat for more.
    #[arg(long = "query", short = 'q', value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// A JSON body from this file, or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub body: Option<String>,
}

/// `90`, `90s`, `5m`, `2h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90s, 5m or 500ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{unit}` is not a unit: use ms, s, m or h")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}
