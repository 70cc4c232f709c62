//! Crash points: a test hook for killing a run at a chosen step, compiled in only with the
//! cargo feature `crash-points` (which the test command turns on; a build without it, such as
//! a release build, has no crash points and ignores `CQLAKE_CRASH_AT`).
//!
//! The writer calls [`point`] at each step where a crash matters: before and after every
//! commit of every table, after every data file it closes, and after every table it restores
//! when recovering from a killed run. With the environment variable `CQLAKE_CRASH_AT` set to
//! `N`, the process kills itself with `SIGKILL` (no destructors, no flushing, exactly as if
//! killed from outside) when it reaches the `N`-th point; set to `trace`, it prints
//! `cqlake crash point N: WHAT` to standard error at each point instead. Unset, a point costs
//! one relaxed atomic load; without the feature, nothing.

#[cfg(feature = "crash-points")]
use std::sync::OnceLock;
#[cfg(feature = "crash-points")]
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable read by [`point`].
pub const ENV: &str = "CQLAKE_CRASH_AT";

#[cfg(feature = "crash-points")]
enum Mode {
    Off,
    Trace,
    At(u64),
}

#[cfg(feature = "crash-points")]
static MODE: OnceLock<Mode> = OnceLock::new();
#[cfg(feature = "crash-points")]
static REACHED: AtomicU64 = AtomicU64::new(0);

/// Whether this build has crash points (the cargo feature `crash-points`).
pub const ENABLED: bool = cfg!(feature = "crash-points");

/// Marks a step of the run (see the [module documentation](self)); `what` names it in a trace.
/// Without the feature `crash-points`, does nothing.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn point(what: impl FnOnce() -> String) {
    let _ = what;
}

/// Marks a step of the run (see the [module documentation](self)); `what` names it in a trace.
#[cfg(feature = "crash-points")]
pub fn point(what: impl FnOnce() -> String) {
    let mode = MODE.get_or_init(|| match std::env::var(ENV).as_deref() {
        Ok("trace") => Mode::Trace,
        Ok(n) => n.parse().map_or(Mode::Off, Mode::At),
        Err(_) => Mode::Off,
    });
    match mode {
        Mode::Off => {}
        Mode::Trace => {
            let n = REACHED.fetch_add(1, Ordering::Relaxed) + 1;
            eprintln!("cqlake crash point {n}: {}", what());
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
