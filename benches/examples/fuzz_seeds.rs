//! Writes the committed fuzz seed corpus (`fuzz/seeds/<target>/seed-*`): small realistic
//! requests of each signal, the OTLP/JSON example vectors and hostile JSON shapes, and
//! split/edit selectors.
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
    for (name, data) in json_shapes() {
        fs::write(dir.join(format!("seed-{name}")), data)?;
    }
    Ok(())
}

/// Shapes the streaming JSON decoder must survive: hostile bodies (small versions of them)
/// and the corners where it differs from a tree (duplicate keys, both spellings).
fn json_shapes() -> Vec<(&'static str, Vec<u8>)> {
    let cat = |parts: &[&[u8]]| parts.concat();
    let any = b"{\"arrayValue\":{\"values\":[".as_slice();
    vec![
        (
            "hostile-unknown-array",
            cat(&[
                b"\x00{\"x\":[0",
                &b",0".repeat(2000),
                b"],\"resourceSpans\":[]}",
            ]),
        ),
        (
            "hostile-unknown-nesting",
            cat(&[b"\x00{\"x\":", &b"[".repeat(300), &b"]".repeat(300), b"}"]),
        ),
        (
            "hostile-anyvalue-nesting",
            cat(&[
                b"\x00{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":",
                &any.repeat(50),
                b"{}",
                &b"]}}".repeat(50),
                b"}]}}]}",
            ]),
        ),
        (
            "hostile-unknown-string",
            cat(&[
                b"\x00{\"resourceSpans\":[{\"x\":\"",
                &b"\\u00e9\\\"".repeat(500),
                b"\",\"scopeSpans\":[{\"spans\":[{\"name\":\"",
                &b"\\n".repeat(100),
                b"\"}]}]}]}",
            ]),
        ),
        (
            "duplicate-and-snake-keys",
            cat(&[
                b"\x00{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"name\":\"a\",\"name\":\"\",",
                b"\"trace_id\":\"5B8EFFF798038103D269B633813FC60C\",",
                b"\"traceId\":\"5b8efff798038103d269b633813fc60c\",",
                b"\"kind\":\"SPAN_KIND_SERVER\",\"kind\":\"3\",",
                b"\"status\":{\"code\":2},\"status\":{\"message\":\"m\"},",
                b"\"events\":[{\"name\":\"e\"}],\"events\":[{\"time_unix_nano\":1}],",
                b"\"startTimeUnixNano\":5,\"start_time_unix_nano\":null}]}]}],",
                b"\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",",
                b"\"value\":{\"intValue\":1,\"stringValue\":\"s\"}}]}}]}",
            ]),
        ),
        (
            "packed-doubles",
            cat(&[
                b"\x01{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"h\",",
                b"\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[0",
                &b",0".repeat(300),
                b",\"NaN\",\"-Infinity\",1e300],\"bucketCounts\":[\"1\",2],\"sum\":null}]}}]}]}]}",
            ]),
        ),
    ]
}
