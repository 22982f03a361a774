//! Resource budgets: estimate the memory of a run from its sizes and refuse it before allocating.
//!
//! The budget defaults to half of the machine's physical memory (`MemTotal` of /proc/meminfo;
//! 4 GiB where that cannot be read) and is changed per command with `--max-memory` (GiB). An
//! estimate above the budget is bad input (exit 2) whose message carries the estimate, the budget
//! and what to change, so a run that cannot fit is refused in milliseconds instead of aborting
//! on allocation minutes later.

use crate::error::{Error, Result};

const GIB: f64 = (1u64 << 30) as f64;

/// Fallback physical memory when /proc/meminfo is unavailable (a budget of 4 GiB).
pub const FALLBACK_PHYSICAL_BYTES: u64 = 8 << 30;

/// Physical memory in bytes (read once per process).
pub fn physical_memory() -> u64 {
    static BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        physical_memory_from(std::fs::read_to_string("/proc/meminfo").ok().as_deref())
    })
}

/// `MemTotal` of a /proc/meminfo text, or [`FALLBACK_PHYSICAL_BYTES`] without one.
fn physical_memory_from(meminfo: Option<&str>) -> u64 {
    meminfo
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib.saturating_mul(1024))
        .unwrap_or(FALLBACK_PHYSICAL_BYTES)
}

/// A memory budget in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    bytes: f64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            bytes: physical_memory() as f64 / 2.0,
        }
    }
}

impl Budget {
    /// The budget from `--max-memory` in GiB (default: half the physical memory).
    pub fn from_gib(gib: Option<f64>) -> Result<Self> {
        match gib {
            None => Ok(Self::default()),
            Some(g) if g > 0.0 && g.is_finite() => Ok(Self { bytes: g * GIB }),
            Some(g) => Err(Error::input(format!(
                "max_memory (--max-memory) must be a positive number of GiB, got {g}"
            ))),
        }
    }

    /// The budget in bytes.
    pub fn bytes(&self) -> f64 {
        self.bytes
    }

    /// Whether an estimate of `bytes` fits.
    pub fn fits(&self, bytes: f64) -> bool {
        bytes <= self.bytes
    }

    /// Refuses `what` if its estimate exceeds the budget; `hint` says how to make it fit.
    pub fn check(&self, what: &str, bytes: f64, hint: &str) -> Result<()> {
        if self.fits(bytes) {
            return Ok(());
        }
        Err(Error::input(format!(
            "{what} needs about {}, above the memory budget of {} (--max-memory); {hint}",
            human(bytes),
            human(self.bytes)
        )))
    }
}

/// Bytes in GiB, MiB or KiB, whichever reads best.
pub fn human(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{:.1} GiB", bytes / GIB)
    } else if bytes >= GIB / 1024.0 {
        format!("{:.1} MiB", bytes * 1024.0 / GIB)
    } else {
        format!("{:.1} KiB", bytes * 1024.0 * 1024.0 / GIB)
    }
}

/// Bytes of `count` f64 values, without overflow.
pub fn f64s(count: f64) -> f64 {
    8.0 * count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_above_and_accepts_below() {
        let b = Budget::from_gib(Some(1.0)).unwrap();
        assert!(b.check("x", 0.9 * GIB, "").is_ok());
        let e = b
            .check(
                "the dense certificate",
                2.5 * GIB,
                "use --route matrix-free",
            )
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("2.5 GiB") && msg.contains("1.0 GiB") && msg.contains("matrix-free"),
            "{msg}"
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Budget::from_gib(Some(bad)).is_err());
        }
        assert!(physical_memory() > 0);
        let text = "MemTotal:       25165824 kB\nMemFree:         1024 kB\n";
        assert_eq!(physical_memory_from(Some(text)), 24 << 30);
        assert_eq!(physical_memory_from(None), 8 << 30);
        assert_eq!(physical_memory_from(Some("MemTotal: lots")), 8 << 30);
        assert_eq!(human(3.0 * 1024.0 * 1024.0), "3.0 MiB");
        assert_eq!(human(512.0), "0.5 KiB");
        assert!(Budget::default().bytes() > 0.0);
        assert_eq!(Budget::from_gib(Some(2.0)).unwrap().bytes(), 2.0 * GIB);
        assert!(b.fits(GIB) && !b.fits(1.01 * GIB));
    }
}
