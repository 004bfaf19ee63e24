//! What the helper binaries in `src/bin` share: their arguments (some
//! required, then an optional concurrency) and how they end.

use std::error::Error;
use std::process::ExitCode;

/// The arguments after the program's name: `N` required ones, then an
/// optional concurrency, `default` when absent.
///
/// # Errors
///
/// Fewer than `N` arguments (the error is `usage`), or a concurrency that
/// is not a number.
pub fn arguments<const N: usize>(
    usage: &str,
    default: usize,
) -> Result<([String; N], usize), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < N {
        return Err(usage.into());
    }
    let rest = args.split_off(N);
    let required: [String; N] = args.try_into().map_err(|_| usage.to_string())?;
    let concurrency = match rest.first() {
        Some(n) => n.parse()?,
        None => default,
    };
    Ok((required, concurrency))
}

/// The exit code of a helper's run; its error, if any, on stderr after
/// the helper's name.
pub fn exit(name: &str, outcome: Result<(), Box<dyn Error>>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}
