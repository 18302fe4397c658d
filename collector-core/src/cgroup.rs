//! Container limits from cgroups: the memory limit (for `limit_percentage`) and the CPU
//! quota (for the number of worker threads), v2 or v1, walking up from the process's cgroup
//! to the root because a Fargate task's limit may sit on a parent cgroup.
//!
//! `OTELCOL_CGROUP_ROOT` stands in for `/sys/fs/cgroup` when the crate is built with the
//! `test-cgroup-root` feature (only `collector-bin`'s dev-dependency turns it on, so a
//! `cargo test` build reads it and a `cargo build` binary ignores it); the process's cgroup
//! path still comes from `/proc/self/cgroup`.

use std::path::{Path, PathBuf};

/// cgroup v1 reports "no limit" as the largest page-aligned i64.
const V1_UNLIMITED: u64 = 9_223_372_036_854_771_712;

/// Where cgroups are mounted.
fn root() -> PathBuf {
    // A test hook: a production binary must not let its environment point it at another
    // tree, so the variable is read only in builds that ask for it.
    let fake = if cfg!(feature = "test-cgroup-root") {
        std::env::var_os("OTELCOL_CGROUP_ROOT")
    } else {
        None
    };
    fake.map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup"))
}

fn own_cgroups() -> String {
    std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default()
}

/// The cgroup path of `controller` (v1) or of the unified hierarchy (`controller` = "").
fn path_of(cgroups: &str, controller: &str) -> Option<String> {
    cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let hit = if controller.is_empty() {
            controllers.is_empty()
        } else {
            controllers.split(',').any(|c| c == controller)
        };
        hit.then(|| path.to_owned())
    })
}

/// The smallest value `read` finds in `dir` and each parent up to `top`.
fn walk_up(top: &Path, path: &str, read: impl Fn(&Path) -> Option<f64>) -> Option<f64> {
    let mut dir = top.join(path.trim_start_matches('/'));
    let mut best: Option<f64> = None;
    loop {
        if let Some(v) = read(&dir) {
            best = Some(best.map_or(v, |b: f64| b.min(v)));
        }
        if dir == top || !dir.pop() || !dir.starts_with(top) {
            return best;
        }
    }
}

fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

fn is_v2(root: &Path) -> bool {
    root.join("cgroup.controllers").exists()
}

/// The memory limit of this process's cgroup (the smallest on the way up), if any.
pub(crate) fn memory_limit() -> Option<u64> {
    memory_limit_in(&root(), &own_cgroups())
}

fn memory_limit_in(root: &Path, cgroups: &str) -> Option<u64> {
    let limit = if is_v2(root) {
        let path = path_of(cgroups, "")?;
        walk_up(root, &path, |d| {
            read_trim(&d.join("memory.max"))?
                .parse::<u64>()
                .ok()
                .map(|v| v as f64)
        })
    } else {
        let top = root.join("memory");
        let path = path_of(cgroups, "memory")?;
        walk_up(&top, &path, |d| {
            let v = read_trim(&d.join("memory.limit_in_bytes"))?
                .parse::<u64>()
                .ok()?;
            (v < V1_UNLIMITED).then_some(v as f64)
        })
    };
    limit.map(|v| v as u64)
}

/// Physical memory (`MemTotal` of `/proc/meminfo`).
pub(crate) fn physical_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Total memory for `limit_percentage`: the cgroup limit when set (and below physical
/// memory), else physical memory.
pub(crate) fn total_memory() -> Option<u64> {
    let physical = physical_memory();
    match (memory_limit(), physical) {
        (Some(l), Some(p)) => Some(l.min(p)),
        (Some(l), None) => Some(l),
        (None, p) => p,
    }
}

/// The CPU quota in cores (CFS quota / period), the smallest on the way up.
pub(crate) fn cpu_quota() -> Option<f64> {
    cpu_quota_in(&root(), &own_cgroups())
}

fn cpu_quota_in(root: &Path, cgroups: &str) -> Option<f64> {
    if is_v2(root) {
        let path = path_of(cgroups, "")?;
        walk_up(root, &path, |d| {
            let s = read_trim(&d.join("cpu.max"))?;
            let mut it = s.split_whitespace();
            let quota = it.next()?;
            let period: f64 = it.next()?.parse().ok()?;
            let quota: f64 = quota.parse().ok()?;
            (period > 0.0).then(|| quota / period)
        })
    } else {
        let top = ["cpu", "cpu,cpuacct", "cpuacct,cpu"]
            .iter()
            .map(|c| root.join(c))
            .find(|p| p.exists())?;
        let path = path_of(cgroups, "cpu")?;
        walk_up(&top, &path, |d| {
            let quota: f64 = read_trim(&d.join("cpu.cfs_quota_us"))?.parse().ok()?;
            let period: f64 = read_trim(&d.join("cpu.cfs_period_us"))?.parse().ok()?;
            (quota > 0.0 && period > 0.0).then(|| quota / period)
        })
    }
}

/// CPUs this process may run on (its affinity mask).
fn affinity_cpus() -> usize {
    // SAFETY: the set is zeroed, then filled by the kernel for this process.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let n = libc::CPU_COUNT(&set);
            if n > 0 {
                return n as usize;
            }
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Worker threads for the runtime: the affinity mask, capped by the CFS quota rounded up
/// (`cpu.shares` is a weight, not a limit, and is ignored). A Fargate task of 256 CPU units
/// (a quarter core) gets one.
pub fn worker_threads() -> usize {
    let cpus = affinity_cpus();
    match cpu_quota() {
        Some(q) => cpus.min(q.ceil().max(1.0) as usize),
        None => cpus,
    }
}

/// The heap in use according to the allocator (glibc `mallinfo2`): what the memory
/// limiter compares besides the exact payload bytes.
pub(crate) fn heap_in_use() -> usize {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 has no preconditions and returns a plain struct.
        let m = unsafe { libc::mallinfo2() };
        m.uordblks + m.hblkhd
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cgroup-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(p: PathBuf, s: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    }

    #[test]
    fn v2_limits_walk_up_to_the_smallest() {
        let root = tmp("v2");
        write(root.join("cgroup.controllers"), "cpu memory\n");
        write(root.join("ecs/task/memory.max"), "536870912\n");
        write(root.join("ecs/task/container/memory.max"), "max\n");
        write(root.join("ecs/task/cpu.max"), "25000 100000\n");
        write(root.join("ecs/task/container/cpu.max"), "max 100000\n");
        let cg = "0::/ecs/task/container\n";
        assert_eq!(memory_limit_in(&root, cg), Some(512 << 20));
        assert_eq!(cpu_quota_in(&root, cg), Some(0.25));
        assert_eq!(memory_limit_in(&root, "0::/elsewhere\n"), None);
    }

    #[test]
    fn v1_limits_ignore_the_unlimited_sentinel() {
        let root = tmp("v1");
        write(
            root.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        write(
            root.join("memory/task/memory.limit_in_bytes"),
            "268435456\n",
        );
        write(
            root.join("memory/task/c/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        write(root.join("cpu/task/cpu.cfs_quota_us"), "150000\n");
        write(root.join("cpu/task/cpu.cfs_period_us"), "100000\n");
        write(root.join("cpu/task/c/cpu.cfs_quota_us"), "-1\n");
        write(root.join("cpu/task/c/cpu.cfs_period_us"), "100000\n");
        let cg = "4:memory:/task/c\n1:cpu:/task/c\n0::/\n";
        assert_eq!(memory_limit_in(&root, cg), Some(256 << 20));
        assert_eq!(cpu_quota_in(&root, cg), Some(1.5));
    }

    #[test]
    fn heap_is_measured() {
        let v = vec![1u8; 8 << 20];
        assert!(heap_in_use() >= 8 << 20);
        drop(v);
        assert!(worker_threads() >= 1);
        assert!(physical_memory().unwrap_or(0) > 0);
    }
}
