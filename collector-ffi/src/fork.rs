//! Fork safety (`docs/architecture.md`, "Embedding"). A forked child has one thread; every lock a parent's thread
//! held at that instant stays locked, and the parent's runtime threads do not exist. So a
//! handle remembers which process its collector belongs to; the first call in a new
//! process abandons the parent's collector (never dropping it: that would join threads
//! that are not there) and the handle starts a fresh one on first use.
//!
//! The current pid is cached and forgotten in the child by a `pthread_atfork` handler (and
//! by `otelcol_after_fork_child`), so the check costs an atomic load, not a syscall.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;

/// This process's pid; 0 when not known yet (or just forked).
static PID: AtomicU32 = AtomicU32::new(0);
static ATFORK: Once = Once::new();

extern "C" fn forget_pid() {
    PID.store(0, Ordering::Release);
}

/// What `otelcol_after_fork_child` does: the next call looks the pid up again.
pub(crate) fn after_fork_child() {
    forget_pid();
}

/// The current process id.
pub(crate) fn pid() -> u32 {
    ATFORK.call_once(|| {
        // SAFETY: registers a plain function that only stores to an atomic, which is
        // async-signal-safe and fine in a forked child.
        unsafe { libc::pthread_atfork(None, None, Some(forget_pid)) };
    });
    match PID.load(Ordering::Acquire) {
        0 => {
            // SAFETY: getpid has no preconditions.
            let p = unsafe { libc::getpid() } as u32;
            PID.store(p, Ordering::Release);
            p
        }
        p => p,
    }
}

/// Which process a handle's state belongs to.
#[derive(Debug)]
pub(crate) struct Owner {
    /// The process whose takeover is complete: its threads may use the state.
    ready: AtomicU32,
    /// The process that claimed the takeover (one thread does it).
    claimed: AtomicU32,
}

impl Owner {
    /// Owned by this process.
    pub(crate) fn new() -> Owner {
        let p = pid();
        Owner {
            ready: AtomicU32::new(p),
            claimed: AtomicU32::new(p),
        }
    }

    /// Makes sure `state` belongs to this process. In a new process, one thread runs
    /// `abandon` on it (after releasing a lock a vanished parent thread may hold); the
    /// others wait for that to finish.
    pub(crate) fn enter<T>(&self, state: &Mutex<T>, abandon: impl FnOnce(&mut T)) {
        let me = pid();
        if self.ready.load(Ordering::Acquire) == me {
            return;
        }
        let claimed = self.claimed.load(Ordering::Acquire);
        if claimed != me
            && self
                .claimed
                .compare_exchange(claimed, me, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            if state.is_locked() {
                // SAFETY: in this process no thread holds the lock: the holder was a
                // parent's thread, which does not exist after fork, and every thread of this
                // process that uses the handle waits below until the takeover is done.
                unsafe { state.force_unlock() };
            }
            abandon(&mut state.lock());
            self.ready.store(me, Ordering::Release);
            return;
        }
        while self.ready.load(Ordering::Acquire) != me {
            std::thread::yield_now();
        }
    }
}
