//! Writing to stdout and stderr the Unix way: a closed pipe (`| head`) ends
//! the output quietly instead of panicking, and the command can ask whether
//! its reader went away. Rust ignores SIGPIPE, so the closed pipe arrives as
//! an I/O error on write: every line of the CLI goes through here.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// A line on stdout (`out!`, like `println!`).
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::term::write_out(format_args!($($t)*)) };
}

/// A line on stderr (`say!`, like `eprintln!`).
macro_rules! say {
    ($($t:tt)*) => { $crate::cli::term::write_err(format_args!($($t)*)) };
}

fn write_line(mut w: impl Write, closed: &AtomicBool, args: std::fmt::Arguments<'_>) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let written = w
        .write_fmt(args)
        .and_then(|()| w.write_all(b"\n"))
        .and_then(|()| w.flush());
    if written.is_err() {
        // The reader went away (EPIPE) or the disk is full: stop writing.
        closed.store(true, Ordering::Relaxed);
    }
}

pub fn write_out(args: std::fmt::Arguments<'_>) {
    write_line(std::io::stdout().lock(), &STDOUT_CLOSED, args);
}

pub fn write_err(args: std::fmt::Arguments<'_>) {
    write_line(std::io::stderr().lock(), &STDERR_CLOSED, args);
}

/// True once a write to stdout failed: whoever read it is gone.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// How the `--color` option was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether log lines on stderr get ANSI colour codes.
    pub fn ansi_on_stderr(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stderr().is_terminal()
            }
        }
    }
}
