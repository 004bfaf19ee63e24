//! Exit codes, one per kind of failure, and the one line a failure prints.

use std::process::ExitCode;

use probe_api::{Error, ErrorKind};

/// The exit codes, as `probe --help` lists them.
pub const CODES: &str = "\
Exit codes:
    0  success
    1  any other failure (the connection broke, an undecodable answer, a probe of a batch failed)
    2  bad input: a missing or malformed flag, value or body (nothing was sent)
    3  authentication: no credential, or the API refused it (401, 403)
    4  not found (404)
    5  rate limited (429) after the retries
    6  timed out, or could not connect
    7  server error (5xx) after the retries
  130  cancelled with Ctrl-C at a prompt";

/// A failure of the command: what to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// No usable credential: exit code 3.
    pub fn auth(message: impl Into<String>) -> Failure {
        Failure {
            code: 3,
            message: message.into(),
        }
    }

    /// Any other failure: exit code 1.
    pub fn other(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Cancelled by the user (Ctrl-C at a prompt): exit code 130, as a
    /// shell reports a command interrupted by Ctrl-C.
    pub fn interrupted(message: impl Into<String>) -> Failure {
        Failure {
            code: 130,
            message: message.into(),
        }
    }

    /// Prints the one line and gives the exit code.
    pub fn report(self) -> ExitCode {
        // One line, whatever the message holds: a script reads the last
        // line of stderr.
        let line: Vec<&str> = self.message.split_whitespace().collect();
        eprintln!("probe: {}", line.join(" "));
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let status = error.status().map(|s| s.as_u16());
        let code = match (error.kind(), status) {
            (ErrorKind::InvalidRequest, _) => 2,
            (_, Some(401 | 403)) => 3,
            (_, Some(404)) => 4,
            (_, Some(429)) => 5,
            (ErrorKind::Timeout | ErrorKind::Connect, _) => 6,
            (_, Some(500..=599)) => 7,
            _ => 1,
        };
        let mut message = error.to_string();
        if let Some(id) = error.request_id() {
            message.push_str(&format!(" (request id {id})"));
        }
        let hint = match code {
            3 => " (set PROBE_API_TOKEN, pass --api-key-file, or run `probe auth login`)",
            5 => " (the API is limiting requests: wait, or lower --concurrency)",
            _ => "",
        };
        message.push_str(hint);
        Failure { code, message }
    }
}

impl From<probe_api::ConfigError> for Failure {
    fn from(error: probe_api::ConfigError) -> Failure {
        Failure::input(error.to_string())
    }
}
