//! The `collector` binary: a thin command line over `collector-core`.

fn main() {
    println!("collector {}", env!("CARGO_PKG_VERSION"));
}
