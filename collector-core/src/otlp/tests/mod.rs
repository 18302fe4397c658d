//! Unit tests of the wire layer against prost (the reference decoder).

mod arb;
// The fuzz targets' crate uses these as its public items.
#[allow(unreachable_pub)]
#[path = "../../../../fuzz/checks.rs"]
mod checks;
mod differential;
mod items;
mod json_in;
mod noise;
mod reference;
mod structure;
