//! Unit tests of the wire layer against prost (the reference decoder).

mod arb;
mod differential;
mod noise;
mod reference;
mod structure;
