//! Fuzz target `packed`: see `fuzz/checks.rs` for the property and docs/fuzzing.md for how to run it.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_packed(data));
