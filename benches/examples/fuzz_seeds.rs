//! Writes the committed fuzz seed corpus (`fuzz/seeds/<target>/seed-*`): small realistic
//! requests of each signal, the OTLP/JSON example vectors, and split/edit selectors.
//!
//! `cargo run -p collector-benches --example fuzz_seeds`

use std::fs;
use std::path::Path;

use collector_benches::{logs_request, metrics_request, traces_request};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    // Selector bytes: 0 traces, 1 metrics, 2 logs (`checks::signal_of`).
    let requests = [
        (0u8, traces_request(2, 3, 11)),
        (1u8, metrics_request(3, 2, 12)),
        (2u8, logs_request(4, 13)),
    ];
    let dir = root.join("validate");
    fs::create_dir_all(&dir)?;
    for (sel, req) in &requests {
        let mut data = vec![*sel];
        data.extend_from_slice(req);
        fs::write(dir.join(format!("seed-{sel}")), data)?;
    }
    let dir = root.join("split_edit");
    fs::create_dir_all(&dir)?;
    for (sel, req) in &requests {
        for (n, op) in [(1u8, 0u8), (2, 2), (4, 7)] {
            let mut data = vec![*sel, n, op];
            data.extend_from_slice(req);
            fs::write(dir.join(format!("seed-{sel}-{n}-{op}")), data)?;
        }
    }
    let dir = root.join("json");
    fs::create_dir_all(&dir)?;
    let examples =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../collector-core/tests/data/otlp-examples");
    for (sel, name) in [(0u8, "trace"), (1, "metrics"), (2, "logs"), (2, "events")] {
        let mut data = vec![sel];
        data.extend(fs::read(examples.join(format!("{name}.json")))?);
        fs::write(dir.join(format!("seed-{name}")), data)?;
    }
    Ok(())
}
