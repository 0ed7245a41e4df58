//! How many scans run at once, bounded by the source they hold rather than
//! by the thread count.
//!
//! A package's scan keeps the whole crate's facts while its crate-wide
//! analysis runs, and those grow with its Rust source (about 16 bytes per
//! byte of source on `windows`). Two threads each scanning a 120 MB crate
//! hold twice what one does, for no gain in throughput that a small crate
//! scanned beside it would not give. So a scan waits for a permit weighed
//! in source bytes: small crates run side by side, a crate past the budget
//! runs alone. Only timing changes, never a result.

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

/// Rust source in flight, in bytes, beyond which a further scan waits for
/// the others to finish (unless nothing is in flight: one scan always
/// runs).
pub const DEFAULT_BUDGET_BYTES: u64 = 48 << 20;

/// How many directory entries [`source_weight`] looks at before it stops
/// counting: a weight is an estimate for scheduling, not a limit.
const WEIGHT_ENTRY_BOUND: usize = 20_000;

/// Permits for scans, weighed in source bytes.
pub struct Admission {
    budget: u64,
    in_flight: Mutex<u64>,
    freed: Condvar,
}

/// A scan's share of the budget, given back when dropped.
pub struct Permit<'a> {
    admission: &'a Admission,
    weight: u64,
}

impl Admission {
    pub fn new(budget: u64) -> Admission {
        Admission {
            budget,
            in_flight: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until a scan of `weight` source bytes fits beside those in
    /// flight. Never waits when none is: a package larger than the budget
    /// still runs, alone.
    ///
    /// Blocking a scanning thread is safe because a package's scan starts
    /// no parallel work of its own: the thread holding a permit never waits
    /// for a job that could be queued behind a waiting one.
    pub fn admit(&self, weight: u64) -> Permit<'_> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *in_flight > 0 && in_flight.saturating_add(weight) > self.budget {
            in_flight = self
                .freed
                .wait(in_flight)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *in_flight = in_flight.saturating_add(weight);
        Permit {
            admission: self,
            weight,
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .admission
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *in_flight = in_flight.saturating_sub(self.weight);
        self.admission.freed.notify_all();
    }
}

/// The bytes of `.rs` files under `root`, the estimate a permit is weighed
/// by. Links are not followed; `target` and hidden directories (a workspace
/// member's build output, version control) are not entered, and counting
/// stops after a bound, so a huge or hostile tree costs little here (its
/// scan has its own limits).
pub fn source_weight(root: &Path) -> u64 {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > WEIGHT_ENTRY_BOUND {
                return total;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    pending.push(entry.path());
                }
            } else if kind.is_file()
                && name.ends_with(".rs")
                && let Ok(meta) = entry.metadata()
            {
                total = total.saturating_add(meta.len());
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn scans_past_the_budget_run_alone_and_small_ones_together() {
        let admission = Arc::new(Admission::new(100));
        let in_flight = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let weights = [150u64, 30, 30, 30, 120, 10, 60, 60];
        std::thread::scope(|s| {
            for &w in &weights {
                let (admission, in_flight, peak) = (&admission, &in_flight, &peak);
                s.spawn(move || {
                    let _permit = admission.admit(w);
                    let now = in_flight.fetch_add(w, Ordering::SeqCst) + w;
                    peak.fetch_max(now, Ordering::SeqCst);
                    // One over the budget is only ever alone.
                    assert!(now <= 100 || now == w, "{now} in flight with {w}");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    in_flight.fetch_sub(w, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(in_flight.load(Ordering::SeqCst), 0);
        assert!(peak.load(Ordering::SeqCst) >= 150);
    }

    #[test]
    fn weight_counts_rust_sources_outside_build_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/m")).unwrap();
        std::fs::create_dir_all(dir.path().join("target/debug")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "x".repeat(100)).unwrap();
        std::fs::write(dir.path().join("src/m/a.rs"), "x".repeat(20)).unwrap();
        std::fs::write(dir.path().join("README.md"), "x".repeat(999)).unwrap();
        std::fs::write(dir.path().join("target/debug/out.rs"), "x".repeat(999)).unwrap();
        std::fs::write(dir.path().join(".git/x.rs"), "x".repeat(999)).unwrap();
        assert_eq!(source_weight(dir.path()), 120);
    }
}
