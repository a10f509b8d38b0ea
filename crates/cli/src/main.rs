//! `infraguard`: guarded AWS infrastructure changes for people and coding
//! agents. `main` only parses, runs and maps the outcome to an exit code; the
//! work is in [`commands`], the rules in the engine.
//!
//! # Layout
//!
//! - [`args`]: the command line (clap).
//! - [`project`]: finding the project folder, loading config, opening the engine.
//! - [`render`]: how plans, tables and JSON are shown.
//! - [`commands`]: one module per command.
//! - [`exit`]: the documented exit codes.
//! - [`output`]: standard output that a closed pipe cannot break; the
//!   `println!` and `print!` below shadow std's for the whole crate.

// Before every `mod`, so that they are the ones the modules see.
macro_rules! println {
    () => {
        $crate::output::print_args(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod exit;
mod output;
mod project;
mod render;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    let code = match commands::run(&cli) {
        Ok(code) => code,
        Err(err) => {
            let code = exit::code_for(&err);
            eprintln!("error: {}", render::error_chain(&err));
            code
        }
    };
    std::process::exit(code);
}
