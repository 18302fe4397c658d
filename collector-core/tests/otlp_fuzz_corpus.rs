//! Replays the committed fuzz seed corpus (`fuzz/seeds/`) and any crash reproducers
//! (`fuzz/regressions/`) through the same checks the fuzz targets run, as ordinary tests.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{} fails", path.display());
            n += 1;
        }
    }
    assert!(n > 0, "no corpus for {target}");
}

#[test]
fn validate_corpus() {
    replay("validate", checks::check_validate);
}

#[test]
fn json_corpus() {
    replay("json", checks::check_json);
}

#[test]
fn split_edit_corpus() {
    replay("split_edit", checks::check_split_edit);
}

#[test]
fn packed_corpus() {
    replay("packed", checks::check_packed);
}
