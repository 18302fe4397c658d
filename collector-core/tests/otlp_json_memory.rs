//! What decoding OTLP/JSON allocates, measured by a counting global allocator: hostile
//! bodies must cost next to nothing beyond the body itself, and a realistic one less than
//! the body.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use collector_core::Signal;
use collector_core::otlp::Payload;

/// Counts the bytes each thread has allocated and not freed, and their peak: tests run on
/// threads of their own, so each measures only itself.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + n;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The old block is live until the new one has been filled.
        add(new_size as isize);
        add(-(layout.size() as isize));
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The peak of bytes allocated beyond what was live before, while `f` runs (what `f`
/// returns is dropped inside).
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    drop(f());
    (PEAK.with(Cell::get) - base).max(0) as usize
}

const MIB: usize = 1 << 20;

/// `{"x":[0,0,...]}` of 18 MiB: gzip makes it 17 KiB on the wire, and a tree made of it
/// took the process from 8 MB to 675 MB.
#[test]
fn a_huge_unknown_array_costs_next_to_nothing() {
    let mut json = b"{\"x\":[0".to_vec();
    json.extend(std::iter::repeat_n(*b",0", 9 * MIB).flatten());
    json.extend_from_slice(b"]}");
    assert!(json.len() > 18 * MIB);
    let peak = peak_of(|| {
        let p = Payload::from_json(Signal::Traces, &json).unwrap();
        assert!(p.is_empty());
    });
    assert!(peak < 64 << 10, "decoding allocated {peak} bytes at peak");
}

#[test]
fn a_huge_unknown_string_costs_next_to_nothing() {
    for fill in ["a", "\\u00e9"] {
        let big = fill.repeat(16 * MIB / fill.len());
        let json = format!(
            r#"{{"resourceLogs":[{{"x":"{big}","scopeLogs":[{{"logRecords":[{{"y":["{big}"]}}]}}]}}]}}"#
        );
        let peak = peak_of(|| {
            let p = Payload::from_json(Signal::Logs, json.as_bytes()).unwrap();
            assert_eq!(p.items(), 1);
        });
        // Escaped unknown strings are unescaped into serde_json's scratch buffer (one
        // string at a time, accounted on the budget), which grows by doubling: up to three
        // times the unescaped string while it moves. Plain ones are not copied at all.
        let unescaped = 16 * MIB / fill.len() * 2;
        let bound = if fill == "a" {
            64 << 10
        } else {
            unescaped * 3 + MIB
        };
        assert!(
            peak < bound,
            "{fill}: decoding allocated {peak} bytes at peak"
        );
    }
}

/// A valid request of 5,000 spans: the peak is the protobuf output (0.43 of the JSON here)
/// while its buffer doubles (old and new block, up to three times the output), not a tree
/// several times the body.
#[test]
fn a_valid_request_costs_less_than_its_body() {
    let span = r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173","name":"GET /api/v1/users/{id}","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"http.response.status_code","value":{"intValue":"200"}},{"key":"server.address","value":{"stringValue":"api.example.com"}},{"key":"url.path","value":{"stringValue":"/api/v1/users/42"}}],"status":{"code":1}}"#;
    let spans = vec![span; 5000].join(",");
    let json = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"api"}}}}]}},"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#
    );
    let mut encoded = 0;
    let peak = peak_of(|| {
        let p = Payload::from_json(Signal::Traces, json.as_bytes()).unwrap();
        assert_eq!(p.items(), 5000);
        encoded = p.encoded_len();
    });
    assert!(
        peak < encoded * 3 + MIB && peak < json.len() * 3 / 2,
        "decoding {} bytes of JSON ({encoded} of protobuf) allocated {peak} bytes at peak",
        json.len()
    );
}
