//! Standard output that a closed pipe cannot break.
//!
//! `infraguard resources list | head -1` closes the pipe after one line.
//! Rust's `println!` panics then; here a closed pipe only means nobody reads
//! any more: the rest of the output is dropped, quietly, and the command
//! still finishes its work (an apply must not stop halfway because its
//! reader went away) and exits with its own code. Every `println!` and
//! `print!` in this crate is the one in `main.rs`, which writes through
//! [`Stdout`]; writers passed to commands are [`stdout()`].

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output can no longer be written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output, with a closed pipe (or any write failure) turned into
/// dropped output: the first failure other than a closed pipe is reported
/// on standard error.
pub struct Stdout;

pub fn stdout() -> Stdout {
    Stdout
}

fn absorb(r: io::Result<usize>, len: usize) -> io::Result<usize> {
    match r {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
        Err(e) => {
            if !CLOSED.swap(true, Ordering::SeqCst) && e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!(
                    "error: cannot write to standard output ({e}); the rest of the output is dropped"
                );
            }
            Ok(len)
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if CLOSED.load(Ordering::SeqCst) {
            return Ok(buf.len());
        }
        absorb(io::stdout().lock().write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if CLOSED.load(Ordering::SeqCst) {
            return Ok(());
        }
        absorb(io::stdout().lock().flush().map(|_| 0), 0).map(|_| ())
    }
}

/// What `println!`/`print!` call.
pub fn print_args(args: std::fmt::Arguments<'_>) {
    // `Stdout` never fails but for EINTR, which `write_fmt` retries.
    let _ = Stdout.write_fmt(args);
}
