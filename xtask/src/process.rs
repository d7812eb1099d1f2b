//! The one way xtask runs other programs: echo the command line, stream or capture the output, and turn a
//! failure into an error that names the command.
//!
//! Only the program and its arguments are echoed, never the environment, because secrets (the emulator's
//! client secret, the registry password) travel to child processes through environment variables. Callers
//! must therefore never put a secret in an argument.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{bail, Context, Result};

/// A `cargo` command for the toolchain that runs xtask: Cargo sets `CARGO` for the programs it runs.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prints a progress line in the same style for every command, on stderr like Cargo's own progress.
pub fn announce(message: &str) {
    eprintln!("==> {message}");
}

/// Runs a command with inherited stdin, stdout and stderr, and fails unless it exits successfully.
pub fn run(command: &mut Command) -> Result<()> {
    let status = run_for_status(command)?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs a command with inherited stdout and stderr and returns its exit status, for callers that give
/// meaning to particular non-zero codes (such as `terraform plan -detailed-exitcode`).
pub fn run_for_status(command: &mut Command) -> Result<ExitStatus> {
    echo(command);
    command
        .status()
        .with_context(|| format!("could not start `{}`", describe(command)))
}

/// Runs a command quietly and returns its standard output; on failure the error includes its stderr.
pub fn output(command: &mut Command) -> Result<String> {
    echo(command);
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", describe(command)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout)
        .with_context(|| format!("`{}` printed invalid UTF-8", describe(command)))
}

/// Prints the command line, and the directory it runs in when that is not the current one.
fn echo(command: &Command) {
    match command.get_current_dir() {
        Some(directory) => eprintln!(
            "$ (cd {} && {})",
            quote(directory.as_os_str()),
            describe(command)
        ),
        None => eprintln!("$ {}", describe(command)),
    }
}

/// The program and its arguments as a shell-quoted line, so a user can copy it into a terminal.
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    match shlex::try_quote(&word) {
        Ok(quoted) => quoted.into_owned(),
        // Only words with a NUL byte cannot be quoted, and no real argument has one; show it as it is.
        Err(_) => word.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_quotes_words_a_shell_would_split_and_omits_the_environment() {
        let mut command = Command::new("terraform");
        command
            .args(["plan", "-var", "name=two words"])
            .env("RUNAI_CLIENT_SECRET", "hunter2");
        let line = describe(&command);
        assert_eq!(line, "terraform plan -var 'name=two words'");
        assert!(!line.contains("hunter2"));
    }

    #[test]
    fn run_reports_the_failing_command_and_its_status() {
        let error = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("`sh -c 'exit 3'` failed"), "{message}");
        assert!(message.contains('3'), "{message}");
    }

    #[test]
    fn run_for_status_returns_non_zero_codes_instead_of_failing() {
        let status = run_for_status(Command::new("sh").args(["-c", "exit 2"])).unwrap();
        assert_eq!(status.code(), Some(2));
    }

    #[test]
    fn output_returns_stdout_and_puts_stderr_into_the_error() {
        assert_eq!(
            output(Command::new("sh").args(["-c", "echo hello"])).unwrap(),
            "hello\n"
        );
        let error = output(Command::new("sh").args(["-c", "echo broken >&2; exit 1"])).unwrap_err();
        assert!(format!("{error:#}").contains("broken"));
    }

    #[test]
    fn a_missing_program_gives_a_clear_error() {
        let error = run(&mut Command::new("/nonexistent/program")).unwrap_err();
        assert!(format!("{error:#}").contains("could not start `/nonexistent/program`"));
    }
}
