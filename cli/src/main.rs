//! Tradeseal command-line interface: one subcommand per task, JSON on stdout.

mod verify_header;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tradeseal command-line interface.
#[derive(Debug, Parser)]
#[command(name = "tradeseal-cli", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify an untrusted CometBFT light block from a trusted one (adjacent or skipping).
    ///
    /// Prints {"verdict": "success" | "not_enough_trust" | "invalid", "reason": ...} and exits
    /// 0 on success, 1 on any other verdict, 2 when a file cannot be read or an argument is
    /// wrong.
    VerifyHeader(verify_header::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::VerifyHeader(args) => verify_header::run(&args),
    }
}
