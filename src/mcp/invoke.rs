//! Runs one tool call as the command line would: this very binary, with
//! `--format json -q` and the arguments the tool built, and turns what it
//! printed into a tool result.
//!
//! A child process per call is deliberate. The stdio transport owns this
//! process's stdout, and a command writes its report there; in a child, no
//! stray line can corrupt the protocol. A call's memory is returned when it
//! ends, a cancelled call is killed, and a tool's answer is byte for byte
//! what `cargo capgate … --format json` prints, schema and all.

use std::ffi::OsString;
use std::process::Stdio;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// The most of a child's stderr a failed call quotes.
const STDERR_QUOTED: usize = 4000;

/// Runs `cargo-capgate ARGS --format json -q`, feeding `stdin` when given.
///
/// Exit 0 and 1 are answers (a verdict of `pass` or `fail`), not tool
/// errors. Exit 2 is a tool error: the JSON error object, or (`vet-bom`) a
/// report whose verdict is `error`. Anything else (no JSON, a crash) is a
/// tool error quoting stderr.
pub async fn run_capgate(args: Vec<OsString>, stdin: Option<Vec<u8>>) -> CallToolResult {
    match spawn_and_wait(args, stdin).await {
        Ok(result) => result,
        Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
    }
}

async fn spawn_and_wait(
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
) -> Result<CallToolResult, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the cargo-capgate executable: {e}"))?;
    let mut command = tokio::process::Command::new(&exe);
    // The options every call shares go right after the subcommand, ahead
    // of the `--` that ends a tool's options.
    let (subcommand, rest) = args.split_first().ok_or("no command to run")?;
    command
        .arg(subcommand)
        .args(["--format", "json", "--quiet", "--color", "never"])
        .args(rest)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A call the client cancels (its future dropped) stops its work.
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // Written concurrently with reading stdout: a large BoM could fill
        // the pipe while the child is already printing.
        tokio::spawn(async move {
            // A child that stops reading early has failed; its exit says so.
            let _ = pipe.write_all(&bytes).await;
        });
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| format!("cargo-capgate did not finish: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    let json: Option<Value> = serde_json::from_slice(&output.stdout).ok();
    match (code, json) {
        (Some(0 | 1), Some(report)) => Ok(CallToolResult::structured(report)),
        (Some(2), Some(report)) => Ok(CallToolResult::structured_error(report)),
        (code, _) => Err(format!(
            "cargo-capgate {} ended with {} and no JSON answer{}",
            describe_args(&args),
            match code {
                Some(code) => format!("exit code {code}"),
                None => "a signal".to_owned(),
            },
            quote_stderr(&stderr)
        )),
    }
}

fn describe_args(args: &[OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_stderr(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        return String::new();
    }
    let start = stderr.len().saturating_sub(STDERR_QUOTED);
    let start = (start..stderr.len())
        .find(|&i| stderr.is_char_boundary(i))
        .unwrap_or(stderr.len());
    format!(":\n{}", &stderr[start..])
}
