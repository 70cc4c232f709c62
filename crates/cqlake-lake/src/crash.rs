//! Crash points: a test hook for killing a run at a chosen step.
//!
//! The writer calls [`point`] at each step where a crash matters: before and after every
//! commit of every table, after every data file it closes, and after every table it restores
//! when recovering from a killed run. With the environment variable `CQLAKE_CRASH_AT` set to
//! `N`, the process kills itself with `SIGKILL` (no destructors, no flushing, exactly as if
//! killed from outside) when it reaches the `N`-th point; set to `trace`, it prints
//! `cqlake crash point N: WHAT` to standard error at each point instead. Unset (always, outside
//! tests), a point costs one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable read by [`point`].
pub const ENV: &str = "CQLAKE_CRASH_AT";

enum Mode {
    Off,
    Trace,
    At(u64),
}

static MODE: OnceLock<Mode> = OnceLock::new();
static REACHED: AtomicU64 = AtomicU64::new(0);

/// Marks a step of the run (see the [module documentation](self)); `what` names it in a trace.
pub fn point(what: &str) {
    let mode = MODE.get_or_init(|| match std::env::var(ENV).as_deref() {
        Ok("trace") => Mode::Trace,
        Ok(n) => n.parse().map_or(Mode::Off, Mode::At),
        Err(_) => Mode::Off,
    });
    match mode {
        Mode::Off => {}
        Mode::Trace => {
            let n = REACHED.fetch_add(1, Ordering::Relaxed) + 1;
            eprintln!("cqlake crash point {n}: {what}");
        }
        Mode::At(at) => {
            let n = REACHED.fetch_add(1, Ordering::Relaxed) + 1;
            if n == *at {
                // If the signal could not be sent, abort: the run must not go on past its point.
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
                std::process::abort();
            }
        }
    }
}
