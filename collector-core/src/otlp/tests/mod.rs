//! Unit tests of the wire layer against prost (the reference decoder).

mod arb;
#[path = "../../../../fuzz/checks.rs"]
mod checks;
mod differential;
mod items;
mod json_in;
mod noise;
mod reference;
mod structure;
