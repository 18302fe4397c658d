//! Differential tests: the wire layer against a full prost decode, on generated requests in
//! canonical and in noisy (non-canonical, equivalent) encodings.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use proptest::prelude::*;
use prost::Message as _;

use super::arb;
use super::checks;
use super::noise::{self, Rng};
use super::reference::{Request, kv_to_prost, oracle};
use crate::otlp::Payload;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 160,
        ..ProptestConfig::default()
    }
}

/// Asserts two encodings are equal, reporting where they differ instead of both dumps.
#[track_caller]
fn same(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let at = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{what}: encodings differ at byte {at} (lengths {} and {})",
            a.len(),
            b.len()
        );
    }
}

/// Canonical bytes of a prost message.
fn canon<R: Request>(r: &R) -> Vec<u8> {
    r.encode_to_vec()
}

fn decode_payload<R: Request>(p: &Payload) -> R {
    let bytes = p.to_bytes();
    let joined: Vec<u8> = p.chunks().iter().flat_map(|c| c.iter().copied()).collect();
    assert_eq!(&bytes[..], &joined[..], "chunks and to_bytes disagree");
    R::decode(&bytes[..]).expect("the wire layer wrote bytes prost cannot decode")
}

/// Everything the wire layer must agree with prost on, for one request.
fn check_request<R: Request>(req: R, seed: u64) {
    let canonical = canon(&req);
    let mut rng = Rng::new(seed);
    let noisy = noise::request(R::entry_schema(), &canonical, &mut rng);
    // The noise is only a test if prost sees the same request.
    let reference = R::decode(&noisy[..]).expect("noisy encoding must decode");
    same(&canon(&reference), &canonical, "noise changed the request");

    for bytes in [canonical.clone(), noisy] {
        let accepted = oracle::<R>(&bytes).is_some();
        let decoded = Payload::decode(R::SIGNAL, Bytes::from(bytes.clone()));
        assert_eq!(decoded.is_ok(), accepted, "acceptance differs: {decoded:?}");
        let Ok(payload) = decoded else { continue };
        assert_eq!(payload.items(), req.items(), "item count");
        same(
            &canon(&decode_payload::<R>(&payload)),
            &canonical,
            "payload bytes",
        );
        check_views(&payload, &req);
        check_split(&payload, &req);
        check_edits(&payload, &req, &mut rng);
        check_json(&payload, &canonical);
    }
}

fn resource_attrs<R: Request>(req: &R) -> Vec<Vec<KeyValue>> {
    let mut r = req.clone();
    r.resources_mut()
        .into_iter()
        .map(|res| {
            res.as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn check_views<R: Request>(payload: &Payload, req: &R) {
    let ours: Vec<Vec<KeyValue>> = payload
        .resources()
        .map(|r| r.attributes().map(|kv| kv_to_prost(&kv)).collect())
        .collect();
    let theirs = resource_attrs(req);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        let enc = |v: &Vec<KeyValue>| -> Vec<Vec<u8>> {
            v.iter().map(prost::Message::encode_to_vec).collect()
        };
        assert_eq!(enc(a), enc(b), "resource attributes");
    }
}

fn check_split<R: Request>(payload: &Payload, req: &R) {
    let total = payload.items();
    let expected = req.flatten();
    for n in [1, 2, 3, 7, total.saturating_sub(1), total] {
        if n == 0 {
            continue;
        }
        let pieces = payload.clone().split(n);
        let mut got = Vec::new();
        let mut sum = 0;
        let mut joined = Payload::empty(R::SIGNAL);
        for p in pieces {
            assert!(p.items() <= n, "piece of {} items > {n}", p.items());
            sum += p.items();
            let d: R = decode_payload(&p);
            assert_eq!(d.items(), p.items(), "piece count");
            got.extend(d.flatten());
            joined.append(p);
        }
        assert_eq!(sum, total);
        assert!(got == expected, "split at {n} changed the items");
        let d: R = decode_payload(&joined);
        assert!(d.flatten() == expected, "concatenation of the pieces");
    }
}

fn check_edits<R: Request>(payload: &Payload, req: &R, rng: &mut Rng) {
    if payload.entries().is_empty() {
        return;
    }
    let i = rng.below(payload.entries().len() as u64) as usize;
    // Pick an existing key half the time.
    let existing: Vec<String> = payload.entries()[i]
        .view()
        .attributes()
        .map(|kv| kv.key().to_owned())
        .collect();
    let key = if !existing.is_empty() && rng.chance(2) {
        existing[rng.below(existing.len() as u64) as usize].clone()
    } else {
        "deployment.environment".to_owned()
    };
    let text = format!("v{}", rng.below(100));
    let value = AnyValue {
        value: Some(any_value::Value::StringValue(text.clone())),
    };
    for op in 0..4u8 {
        let mut ours = payload.clone();
        checks::wire_edit(&mut ours, i, op, &key, &text);
        let mut theirs = req.clone();
        checks::reference_edit(theirs.resources_mut()[i], op, &key, &value);
        let got: R = decode_payload(&ours);
        same(
            &canon(&got),
            &canon(&theirs),
            &format!("edit {op} of {key:?}"),
        );
        assert_eq!(ours.items(), payload.items());
        if canon(&theirs) == canon(req) {
            same(
                &ours.to_bytes(),
                &payload.to_bytes(),
                "an edit that changes nothing rebuilt",
            );
        }
        // A second edit on an already-edited entry works across its pieces.
        checks::wire_edit(&mut ours, i, 2, "second", "7");
        checks::reference_edit(
            theirs.resources_mut()[i],
            2,
            "second",
            &AnyValue {
                value: Some(any_value::Value::StringValue("7".to_owned())),
            },
        );
        let got: R = decode_payload(&ours);
        same(
            &canon(&got),
            &canon(&theirs),
            &format!("second edit after {op}"),
        );
    }
}

fn check_json(payload: &Payload, canonical: &[u8]) {
    let json = payload.to_json();
    let back = Payload::from_json(payload.signal(), &json)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&json)));
    same(
        &canonical_of(payload.signal(), &back.to_bytes()),
        canonical,
        "JSON round trip",
    );
}

/// prost's canonical re-encoding of a request of `signal`.
fn canonical_of(signal: crate::Signal, bytes: &[u8]) -> Vec<u8> {
    use prost::Message;
    match signal {
        crate::Signal::Traces => ExportTraceServiceRequest::decode(bytes)
            .expect("decode")
            .encode_to_vec(),
        crate::Signal::Logs => ExportLogsServiceRequest::decode(bytes)
            .expect("decode")
            .encode_to_vec(),
        crate::Signal::Metrics => ExportMetricsServiceRequest::decode(bytes)
            .expect("decode")
            .encode_to_vec(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn traces_agree_with_prost(req in arb::traces(), seed in any::<u64>()) {
        check_request(req, seed);
    }

    #[test]
    fn logs_agree_with_prost(req in arb::logs(), seed in any::<u64>()) {
        check_request(req, seed);
    }

    #[test]
    fn metrics_agree_with_prost(req in arb::metrics(), seed in any::<u64>()) {
        check_request(req, seed);
    }

    /// Arbitrary mutations of valid requests: acceptance and counts agree with the oracle.
    #[test]
    fn mutated_traces_agree_with_oracle(req in arb::traces(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = req.encode_to_vec();
        mutate(&mut bytes, &flips);
        check_oracle::<ExportTraceServiceRequest>(&bytes);
    }

    #[test]
    fn mutated_metrics_agree_with_oracle(req in arb::metrics(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = req.encode_to_vec();
        mutate(&mut bytes, &flips);
        check_oracle::<ExportMetricsServiceRequest>(&bytes);
    }

    #[test]
    fn mutated_logs_agree_with_oracle(req in arb::logs(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = req.encode_to_vec();
        mutate(&mut bytes, &flips);
        check_oracle::<ExportLogsServiceRequest>(&bytes);
    }
}

fn mutate(bytes: &mut Vec<u8>, flips: &[(usize, u8)]) {
    for &(at, v) in flips {
        if bytes.is_empty() {
            return;
        }
        let i = at % bytes.len();
        match v % 3 {
            0 => bytes[i] = v,
            1 => bytes.truncate(i),
            _ => bytes.insert(i, v),
        }
    }
}

/// Runs the fuzz targets' validation check (prost as the oracle) on a request of `R`.
pub(crate) fn check_oracle<R: Request>(bytes: &[u8]) {
    let sel = crate::Signal::ALL
        .iter()
        .position(|s| *s == R::SIGNAL)
        .expect("a signal") as u8;
    let mut data = vec![sel];
    data.extend_from_slice(bytes);
    checks::check_validate(&data);
}
