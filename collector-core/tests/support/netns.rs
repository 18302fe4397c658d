//! Running one test inside a private network namespace, so that nothing it starts (a
//! metadata detector, the AWS credential chain) can reach anything off the machine.

#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::process::Command;

/// Set in the child: run the test body instead of spawning.
const CHILD: &str = "OTELCOL_TEST_NETNS";

/// Runs `body` inside a private network namespace: in the parent, spawns this test binary
/// again under `unshare -n` (then `ip link set lo up`) for this one test, without the
/// inherited variables `drop_var` names, with `env` set, and asserts that it passed; in the
/// child, runs `body` on a tokio runtime.
pub fn isolated<F: Future<Output = ()>>(
    test: &str,
    drop_var: impl Fn(&str) -> bool,
    env: &[(&str, &str)],
    body: impl FnOnce() -> F,
) {
    if std::env::var_os(CHILD).is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(body());
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // `$0` is the test binary: no quoting of its path in the script.
    let script =
        format!("ip link set lo up && exec \"$0\" --exact {test} --nocapture --test-threads=1");
    let mut cmd = Command::new("unshare");
    cmd.args(["-n", "sh", "-c", &script])
        .arg(&exe)
        .env(CHILD, "1");
    for (k, _) in std::env::vars_os() {
        if drop_var(&k.to_string_lossy()) {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run `unshare -n` ({e}): these tests need a private network namespace \
             (root, or user namespaces) and never run against the real network"
        )
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("unshare") {
        panic!(
            "cannot create a private network namespace with `unshare -n`: {stderr}\n\
             these tests never run against the real network"
        );
    }
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child {test} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}
