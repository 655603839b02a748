//! Giving freed heap back to the system once the node goes quiet. Owns nothing but that: it
//! reads the process's CPU time from `/proc` and, with glibc, calls `malloc_trim`.
//!
//! Why: glibc keeps memory freed by many threads in per-thread arenas and returns little of it
//! on its own. Measured on a debug build: a node at 71 MB that served 4,000 widget sockets sat
//! at 159 MB once they had all closed, and `malloc_trim(0)` took it to 102 MB. Trimming walks
//! the arenas while holding their locks, so it runs only when the last period was quiet.
//!
//! Trimming returns only whole free pages: one small allocation that outlives a busy hour pins
//! its page. So before trimming the hub drops what it kept only for busy times
//! (`Hub::shed_idle_state`): the turn locks of finished conversations (one per conversation,
//! allocated among the sockets' buffers) and the maps' spare room.

use std::time::Instant;

/// Below this share of one core over the last period the node counts as quiet.
const QUIET_CPU_SHARE: f64 = 0.05;

/// Decides when to trim; call [`Trimmer::tick`] periodically (housekeeping does, every 30 s).
#[derive(Default)]
pub struct Trimmer {
    last: Option<(Instant, u64)>,
    /// Set after a trim, cleared by activity: an idle node is trimmed once, not every period.
    trimmed: bool,
}

impl Trimmer {
    /// Trims the heap if the period since the last call was quiet and the node has not been
    /// trimmed since it was last busy, after `shed` (which drops what the node kept only for
    /// busy times). Returns whether it trimmed. Blocking (a few ms): call it from a blocking
    /// thread.
    pub fn tick(&mut self, shed: impl FnOnce()) -> bool {
        let now = Instant::now();
        let Some(ticks) = cpu_ticks() else { return false };
        let Some((then, before)) = self.last.replace((now, ticks)) else { return false };
        let seconds = now.duration_since(then).as_secs_f64();
        let busy = (ticks.saturating_sub(before)) as f64 / TICKS_PER_SEC / seconds.max(1e-3);
        if busy >= QUIET_CPU_SHARE {
            self.trimmed = false;
            return false;
        }
        if self.trimmed {
            return false;
        }
        self.trimmed = true;
        shed();
        trim();
        true
    }
}

/// `USER_HZ` (`getconf CLK_TCK`): 100 on every Linux build that matters.
const TICKS_PER_SEC: f64 = 100.0;

/// utime + stime of this process, in ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields count from after the parenthesised name, which may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only reads and adjusts glibc's own heap bookkeeping under its locks;
    // it takes no pointers from us and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_process_is_trimmed_once() {
        let mut t = Trimmer::default();
        assert!(!t.tick(|| {}), "the first call only takes the baseline");
        // Pretend the last period was long and quiet.
        if let Some((_, ticks)) = t.last {
            t.last = Some((Instant::now() - std::time::Duration::from_secs(3600), ticks));
        }
        assert!(t.tick(|| {}), "quiet: trimmed");
        if let Some((_, ticks)) = t.last {
            t.last = Some((Instant::now() - std::time::Duration::from_secs(3600), ticks));
        }
        assert!(!t.tick(|| {}), "still quiet: not trimmed again");
        assert!(cpu_ticks().is_some());
    }
}
