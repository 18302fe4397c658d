//! `include/otelcol.h` is what cbindgen generates from the sources now. After changing the
//! ABI, regenerate it: `UPDATE_HEADER=1 cargo test -p collector-ffi --test header`.

#![allow(clippy::unwrap_used)] // test: a panic is a failing test

use std::path::Path;

#[test]
fn committed_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .unwrap()
        .write(&mut generated);
    let path = dir.join("include/otelcol.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/otelcol.h is stale: run UPDATE_HEADER=1 cargo test -p collector-ffi --test header\n{}",
        String::from_utf8_lossy(&generated)
    );
}
