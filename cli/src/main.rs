//! `icc`: the operator CLI for an icc incident command cluster. See `icc --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors make clap print its message and exit with code 2.
    let args = icc_cli::args::Cli::parse();
    icc_cli::block_on(icc_cli::run(args))
}
