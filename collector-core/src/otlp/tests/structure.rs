//! Hand-built inputs: recursion limits exactly at prost's boundary, error paths and offsets,
//! merging of repeated singular fields, packed and unpacked scalars.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::differential::check_oracle;
use crate::Signal;
use crate::otlp::Payload;
use crate::otlp::wire::{WireType, put_key, put_len_field, put_nested, put_varint};

/// A traces request with one span whose single attribute value is `value` (an encoded
/// AnyValue body).
fn request_with_value(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_nested(&mut out, 1, |rs| {
        put_nested(rs, 2, |ss| {
            put_nested(ss, 2, |span| {
                put_len_field(span, 5, b"s");
                put_nested(span, 9, |kv| {
                    put_len_field(kv, 1, b"k");
                    put_len_field(kv, 2, value);
                });
            });
        });
    });
    out
}

/// An AnyValue nested `depth` levels deep through arrays or kvlists.
fn nested_value(depth: usize, kvlist: bool, innermost_unknown: bool) -> Vec<u8> {
    let mut v = Vec::new();
    put_len_field(&mut v, 1, b"leaf");
    if innermost_unknown {
        put_key(&mut v, 99, WireType::Varint);
        put_varint(&mut v, 1);
    }
    for _ in 0..depth {
        let mut outer = Vec::new();
        if kvlist {
            put_nested(&mut outer, 6, |l| {
                put_nested(l, 1, |kv| {
                    put_len_field(kv, 1, b"k");
                    put_len_field(kv, 2, &v);
                })
            });
        } else {
            put_nested(&mut outer, 5, |a| put_len_field(a, 1, &v));
        }
        v = outer;
    }
    v
}

#[test]
fn recursion_limit_matches_prost_exactly() {
    let mut accepted_any = false;
    let mut rejected_any = false;
    for kvlist in [false, true] {
        for unknown in [false, true] {
            for depth in 25..50 {
                let req = request_with_value(&nested_value(depth, kvlist, unknown));
                check_oracle::<ExportTraceServiceRequest>(&req);
                let ok = Payload::decode(Signal::Traces, Bytes::from(req)).is_ok();
                accepted_any |= ok;
                rejected_any |= !ok;
            }
        }
    }
    // The range straddles the limit for both shapes.
    assert!(accepted_any && rejected_any);
}

#[test]
fn deep_input_is_rejected_with_a_clear_error() {
    let req = request_with_value(&nested_value(60, false, false));
    let err = Payload::decode(Signal::Traces, Bytes::from(req)).unwrap_err();
    assert!(err.message().contains("recursion limit of 100"), "{err}");
    assert!(
        err.message().starts_with(
            "resource_spans[0].scope_spans[0].spans[0].attributes[0].value.array_value.values[0]"
        ),
        "{err}"
    );
}

#[test]
fn error_names_path_and_offset() {
    // KeyValue whose value claims 5 bytes but has 3.
    let mut bad_kv = Vec::new();
    put_len_field(&mut bad_kv, 1, b"k");
    bad_kv.extend_from_slice(&[0x12, 0x05, 0x0a, 0x01, b'x']);
    let mut out = Vec::new();
    put_nested(&mut out, 1, |rs| {
        put_nested(rs, 2, |ss| {
            put_nested(ss, 2, |span| put_len_field(span, 5, b"first"));
            put_nested(ss, 2, |span| {
                put_len_field(span, 9, b"\x0a\x01a");
                put_len_field(span, 9, b"\x0a\x01b");
                put_len_field(span, 9, &bad_kv);
            });
        });
    });
    let truncated_at = out.len() - 3;
    let err = Payload::decode(Signal::Traces, Bytes::from(out)).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "resource_spans[0].scope_spans[0].spans[1].attributes[2].value: truncated at byte {truncated_at}"
        )
    );
    assert!(err.is_invalid_data());
}

#[test]
fn ids_of_wrong_length_are_rejected_by_last_occurrence() {
    let span = |ids: &[&[u8]]| {
        let mut out = Vec::new();
        put_nested(&mut out, 1, |rs| {
            put_nested(rs, 2, |ss| {
                put_nested(ss, 2, |span| {
                    for id in ids {
                        put_len_field(span, 1, id);
                    }
                })
            })
        });
        Bytes::from(out)
    };
    let err = Payload::decode(Signal::Traces, span(&[&[1; 5]])).unwrap_err();
    assert!(
        err.message()
            .contains("spans[0].trace_id: id of 5 bytes (expected 16 or empty)"),
        "{err}"
    );
    // prost keeps the last occurrence: a bad one followed by a good one is fine.
    assert!(Payload::decode(Signal::Traces, span(&[&[1; 5], &[2; 16]])).is_ok());
    assert!(Payload::decode(Signal::Traces, span(&[&[2; 16], &[1; 5]])).is_err());
    assert!(Payload::decode(Signal::Traces, span(&[&[]])).is_ok());
}

#[test]
fn invalid_utf8_is_rejected() {
    let req = request_with_value(&[0x0a, 0x02, 0xc3, 0x28]);
    let err = Payload::decode(Signal::Traces, Bytes::from(req)).unwrap_err();
    assert!(
        err.message()
            .contains("attributes[0].value.string_value: string is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn wrong_wire_type_on_known_field_is_rejected() {
    let mut out = Vec::new();
    put_nested(&mut out, 1, |rs| {
        put_nested(rs, 2, |ss| {
            put_nested(ss, 2, |span| {
                // name (5) as a varint
                put_key(span, 5, WireType::Varint);
                put_varint(span, 1);
            })
        })
    });
    check_oracle::<ExportTraceServiceRequest>(&out);
    let err = Payload::decode(Signal::Traces, Bytes::from(out)).unwrap_err();
    assert!(
        err.message().contains("spans[0].name: wrong wire type"),
        "{err}"
    );
}

/// Metric counts follow prost's oneof semantics: the last member wins, a repeated member
/// merges.
#[test]
fn metric_oneof_counts_follow_decode_semantics() {
    let gauge = |n: usize| {
        let mut g = Vec::new();
        for _ in 0..n {
            put_nested(&mut g, 1, |p| {
                put_key(p, 4, WireType::I64);
                p.extend_from_slice(&1.5f64.to_bits().to_le_bytes());
            });
        }
        g
    };
    let cases: &[(&[(u32, usize)], u64)] = &[
        (&[(5, 2), (5, 3)], 5),         // gauge twice: merged
        (&[(5, 2), (7, 3)], 3),         // gauge then sum: replaced
        (&[(5, 2), (7, 3), (5, 1)], 1), // back to gauge: only the last run
    ];
    for (members, expected) in cases {
        let mut out = Vec::new();
        put_nested(&mut out, 1, |rm| {
            put_nested(rm, 2, |sm| {
                put_nested(sm, 2, |m| {
                    put_len_field(m, 1, b"m");
                    for (field, n) in *members {
                        put_len_field(m, *field, &gauge(*n));
                    }
                })
            })
        });
        check_oracle::<ExportMetricsServiceRequest>(&out);
        let p = Payload::decode(Signal::Metrics, Bytes::from(out)).unwrap();
        assert_eq!(p.items(), *expected, "{members:?}");
        // Splitting inside such a metric keeps the decode.
        for n in 1..*expected {
            let pieces = p.clone().split(n);
            let total: u64 = pieces.iter().map(Payload::items).sum();
            assert_eq!(total, *expected);
        }
    }
}

#[test]
fn packed_and_unpacked_histogram_buckets_are_both_accepted() {
    for packed in [true, false] {
        let mut out = Vec::new();
        put_nested(&mut out, 1, |rm| {
            put_nested(rm, 2, |sm| {
                put_nested(sm, 2, |m| {
                    put_nested(m, 9, |h| {
                        put_nested(h, 1, |p| {
                            if packed {
                                put_nested(p, 6, |b| {
                                    for c in [1u64, 2, 3] {
                                        b.extend_from_slice(&c.to_le_bytes())
                                    }
                                });
                            } else {
                                for c in [1u64, 2, 3] {
                                    put_key(p, 6, WireType::I64);
                                    p.extend_from_slice(&c.to_le_bytes());
                                }
                            }
                        })
                    })
                })
            })
        });
        check_oracle::<ExportMetricsServiceRequest>(&out);
        assert_eq!(
            Payload::decode(Signal::Metrics, Bytes::from(out))
                .unwrap()
                .items(),
            1
        );
    }
    // A packed run whose length is not a multiple of 8.
    let mut out = Vec::new();
    put_nested(&mut out, 1, |rm| {
        put_nested(rm, 2, |sm| {
            put_nested(sm, 2, |m| {
                put_nested(m, 9, |h| {
                    put_nested(h, 1, |p| put_len_field(p, 7, &[0u8; 12]))
                })
            })
        })
    });
    check_oracle::<ExportMetricsServiceRequest>(&out);
    let err = Payload::decode(Signal::Metrics, Bytes::from(out)).unwrap_err();
    assert!(
        err.message()
            .contains("explicit_bounds: packed field of 12 bytes"),
        "{err}"
    );
}

#[test]
fn one_metric_with_more_points_than_the_split_size() {
    let mut out = Vec::new();
    put_nested(&mut out, 1, |rm| {
        put_nested(rm, 1, |r| {
            put_nested(r, 1, |kv| {
                put_len_field(kv, 1, b"service.name");
                put_nested(kv, 2, |v| put_len_field(v, 1, b"svc"));
            })
        });
        put_nested(rm, 2, |sm| {
            put_nested(sm, 2, |m| {
                put_len_field(m, 1, b"requests");
                put_nested(m, 7, |s| {
                    for i in 0..10u64 {
                        put_nested(s, 1, |p| {
                            put_key(p, 6, WireType::I64);
                            p.extend_from_slice(&i.to_le_bytes());
                        });
                    }
                    put_key(s, 2, WireType::Varint);
                    put_varint(s, 2);
                    put_key(s, 3, WireType::Varint);
                    put_varint(s, 1);
                })
            })
        })
    });
    let p = Payload::decode(Signal::Metrics, Bytes::from(out)).unwrap();
    assert_eq!(p.items(), 10);
    let pieces = p.split(3);
    assert_eq!(
        pieces.iter().map(Payload::items).collect::<Vec<_>>(),
        [3, 3, 3, 1]
    );
    let mut values = Vec::new();
    for piece in &pieces {
        for r in piece.resources() {
            assert_eq!(
                r.attribute("service.name").and_then(|v| v.as_str()),
                Some("svc")
            );
            for s in r.scopes() {
                for m in s.metrics() {
                    assert_eq!(m.name(), "requests");
                    assert_eq!(m.aggregation_temporality(), 2);
                    assert!(m.is_monotonic());
                    values.extend(m.data_points().map(|d| d.number_value().unwrap()));
                }
            }
        }
    }
    assert_eq!(values, (0..10).map(|i| i as f64).collect::<Vec<_>>());
}

#[test]
fn compact_copies_a_small_slice_out_of_a_large_buffer() {
    let mut out = Vec::new();
    for i in 0..200 {
        put_nested(&mut out, 1, |rs| {
            put_nested(rs, 2, |ss| {
                put_nested(ss, 2, |span| {
                    put_len_field(span, 5, format!("span-{i:04}-padding-padding").as_bytes())
                })
            })
        });
    }
    let mut p = Payload::decode(Signal::Traces, Bytes::from(out)).unwrap();
    let mut rest = p.split_to(199);
    assert_eq!(rest.items(), 199);
    assert_eq!(p.items(), 1);
    assert!(p.is_sparse());
    let before = p.to_bytes();
    p.compact();
    assert!(!p.is_sparse());
    assert_eq!(p.retained_len(), p.encoded_len());
    assert_eq!(p.to_bytes(), before);
    // Compacting a dense payload is a no-op.
    let len = rest.retained_len();
    rest.compact();
    assert_eq!(rest.retained_len(), len);
}

#[test]
fn top_level_unknown_fields_are_skipped() {
    let mut out = Vec::new();
    put_key(&mut out, 7, WireType::Varint);
    put_varint(&mut out, 3);
    put_nested(&mut out, 1, |rs| {
        put_nested(rs, 2, |ss| {
            put_nested(ss, 2, |span| put_len_field(span, 5, b"x"))
        })
    });
    let p = Payload::decode(Signal::Traces, Bytes::from(out)).unwrap();
    assert_eq!(p.items(), 1);
    assert_eq!(p.entries().len(), 1);
}
