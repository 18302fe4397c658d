//! The redaction rules checked against prost: each rule, their precedence, the hashes, the
//! summaries, on all three signals; untouched items keep their bytes.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value as V,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    self as m, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use parking_lot::Mutex;
use prost::Message;

use super::*;

// ---- builders ------------------------------------------------------------------------

fn any(v: V) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn kv_of(k: &str, v: V) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: any(v),
        ..Default::default()
    }
}

fn kv(k: &str, v: &str) -> KeyValue {
    kv_of(k, V::StringValue(v.into()))
}

fn int(k: &str, i: i64) -> KeyValue {
    kv_of(k, V::IntValue(i))
}

fn cfg(yaml: &str) -> RedactionConfig {
    serde_json::from_value(serde_json::from_str(yaml).unwrap()).unwrap()
}

fn rules(json: &str) -> Rules {
    Rules::new(&cfg(json)).unwrap()
}

fn traces_req(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn span_with(name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: name.into(),
        attributes: attrs,
        ..Default::default()
    }
}

fn payload(signal: Signal, msg: &impl Message) -> Payload {
    Payload::decode(signal, Bytes::from(msg.encode_to_vec())).unwrap()
}

/// Redacts the span attributes of one span and returns them (plus the counts).
fn span_attrs(r: &Rules, attrs: Vec<KeyValue>) -> (Vec<KeyValue>, Counts) {
    let req = traces_req(vec![], vec![span_with("s", attrs)]);
    let mut p = payload(Signal::Traces, &req);
    let c = r.apply(&mut p, None);
    let got = ExportTraceServiceRequest::decode(p.to_bytes()).unwrap();
    (
        got.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .clone(),
        c,
    )
}

fn get<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a V> {
    attrs
        .iter()
        .find(|a| a.key == k)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
}

fn str_of<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a str> {
    match get(attrs, k)? {
        V::StringValue(s) => Some(s),
        _ => None,
    }
}

fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|a| a.key.as_str()).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ---- the per-attribute algorithm --------------------------------------------------------

#[test]
fn keys_not_allowed_are_deleted() {
    let r = rules(r#"{"allowed_keys": ["id", "name"], "summary": "debug"}"#);
    let (got, c) = span_attrs(
        &r,
        vec![
            kv("id", "1"),
            kv("secret", "s"),
            kv("name", "n"),
            int("age", 3),
        ],
    );
    assert_eq!(
        keys(&got),
        [
            "id",
            "name",
            "redaction.redacted.keys",
            "redaction.redacted.count"
        ]
    );
    assert_eq!(str_of(&got, "redaction.redacted.keys"), Some("age,secret"));
    assert_eq!(get(&got, "redaction.redacted.count"), Some(&V::IntValue(2)));
    assert_eq!(
        c,
        Counts {
            redacted: 2,
            masked: 0
        }
    );
}

#[test]
fn nothing_allowed_deletes_everything_but_the_summary_keys() {
    // Fail closed: no allowed_keys and allow_all_keys false.
    let r = rules("{}");
    let (got, _) = span_attrs(
        &r,
        vec![
            kv("a", "1"),
            int("redaction.masked.count", 4),
            kv("redaction.allowed.keys", "x"),
        ],
    );
    // v0.138 allows five summary keys only; `redaction.allowed.*` is deleted.
    assert_eq!(keys(&got), ["redaction.masked.count"]);
}

#[test]
fn ignored_keys_are_untouched_and_counted() {
    let r = rules(
        r#"{"allowed_keys": ["a"], "ignored_keys": ["raw"], "blocked_values": ["4[0-9]{15}"],
            "blocked_key_patterns": ["raw"], "summary": "info"}"#,
    );
    let (got, _) = span_attrs(&r, vec![kv("a", "x"), kv("raw", "4111111111111111")]);
    // Not in allowed_keys, matching a blocked key and a blocked value: still untouched.
    assert_eq!(str_of(&got, "raw"), Some("4111111111111111"));
    assert_eq!(get(&got, "redaction.ignored.count"), Some(&V::IntValue(1)));
    assert_eq!(get(&got, "redaction.masked.count"), None);
}

#[test]
fn allowed_values_beat_both_blocking_lists() {
    let r = rules(
        r#"{"allow_all_keys": true, "blocked_key_patterns": ["password"],
            "blocked_values": ["[a-z]+@[a-z.]+"], "allowed_values": ["@example\\.com$", "^safe-"],
            "summary": "debug"}"#,
    );
    let (got, c) = span_attrs(
        &r,
        vec![
            kv("db.password", "safe-placeholder"),
            kv("email", "ops@example.com"),
            kv("other", "bob@corp.io"),
            kv("user.password", "hunter2"),
        ],
    );
    assert_eq!(str_of(&got, "db.password"), Some("safe-placeholder"));
    assert_eq!(str_of(&got, "email"), Some("ops@example.com"));
    assert_eq!(str_of(&got, "other"), Some("****"));
    assert_eq!(str_of(&got, "user.password"), Some("****"));
    assert_eq!(
        str_of(&got, "redaction.allowed.keys"),
        Some("db.password,email")
    );
    assert_eq!(get(&got, "redaction.allowed.count"), Some(&V::IntValue(2)));
    assert_eq!(
        str_of(&got, "redaction.masked.keys"),
        Some("other,user.password")
    );
    assert_eq!(c.masked, 2);
}

#[test]
fn blocked_key_masks_the_whole_value_whatever_its_type() {
    let r = rules(r#"{"allow_all_keys": true, "blocked_key_patterns": ["(?i)token|secret"]}"#);
    let (got, c) = span_attrs(
        &r,
        vec![
            kv("auth.Token", "Bearer abc.def"),
            int("secret.id", 42),
            kv("multi.secret", "line1\nline2"),
            kv("keep", "Bearer abc.def"),
        ],
    );
    assert_eq!(str_of(&got, "auth.Token"), Some("****"));
    // A non-string value is read as "" and masked to a string, as in contrib.
    assert_eq!(str_of(&got, "secret.id"), Some("****"));
    // `.` does not match a newline: each line is masked on its own, as Go's `.*` does.
    assert_eq!(str_of(&got, "multi.secret"), Some("****\n****"));
    assert_eq!(str_of(&got, "keep"), Some("Bearer abc.def"));
    assert_eq!(c.masked, 3);
}

#[test]
fn blocked_values_mask_each_match_in_config_order_even_on_allowed_keys() {
    let r = rules(
        r#"{"allowed_keys": ["note"], "blocked_values":
            ["4[0-9]{3}( ?[0-9]{4}){3}", "[a-z.]+@[a-z.]+", "\\*\\*\\*\\* and"]}"#,
    );
    let (got, c) = span_attrs(
        &r,
        vec![kv(
            "note",
            "paid 4111 1111 1111 1111 and 4012888888881881 by bob@shop.io",
        )],
    );
    // The third pattern sees the output of the first two ("paid **** and **** by ****").
    assert_eq!(str_of(&got, "note"), Some("paid **** **** by ****"));
    assert_eq!(c.masked, 1);
}

#[test]
fn hashes_are_lower_case_hex_of_each_match() {
    for (f, digest) in [
        ("md5", "900150983cd24fb0d6963f7d28e17f72"),
        ("MD5", "900150983cd24fb0d6963f7d28e17f72"),
        ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            "Sha3",
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
    ] {
        let r = rules(&format!(
            r#"{{"allow_all_keys": true, "blocked_values": ["abc"], "hash_function": "{f}",
                "blocked_key_patterns": ["^pw$"]}}"#
        ));
        let (got, _) = span_attrs(&r, vec![kv("v", "x-abc-y-abc"), kv("pw", "abc")]);
        assert_eq!(
            str_of(&got, "v").unwrap(),
            format!("x-{digest}-y-{digest}"),
            "{f}"
        );
        assert_eq!(str_of(&got, "pw").unwrap(), digest, "{f}");
    }
    // The hash of the empty string, for a blocked key with a non-string value.
    let r =
        rules(r#"{"allow_all_keys": true, "blocked_key_patterns": ["n"], "hash_function": "md5"}"#);
    let (got, _) = span_attrs(&r, vec![int("n", 1)]);
    assert_eq!(str_of(&got, "n"), Some("d41d8cd98f00b204e9800998ecf8427e"));
}

#[test]
fn redact_all_types_checks_the_string_form() {
    let attrs = || {
        vec![
            int("card", 4111111111111111),
            kv_of("ok", V::BoolValue(true)),
            kv_of("ratio", V::DoubleValue(0.5)),
        ]
    };
    let off = rules(r#"{"allow_all_keys": true, "blocked_values": ["4[0-9]{15}", "^0\\.5$"]}"#);
    let (got, c) = span_attrs(&off, attrs());
    assert_eq!(get(&got, "card"), Some(&V::IntValue(4111111111111111)));
    assert_eq!(c.masked, 0);
    let on = rules(
        r#"{"allow_all_keys": true, "redact_all_types": true,
            "blocked_values": ["4[0-9]{15}", "^0\\.5$"], "allowed_values": ["^true$"]}"#,
    );
    let (got, c) = span_attrs(&on, attrs());
    assert_eq!(str_of(&got, "card"), Some("****"));
    assert_eq!(str_of(&got, "ratio"), Some("****"));
    assert_eq!(get(&got, "ok"), Some(&V::BoolValue(true)));
    assert_eq!(c.masked, 2);
}

#[test]
fn summary_modes() {
    let attrs = || vec![kv("a", "4111111111111111"), kv("gone", "x"), kv("ign", "y")];
    let base =
        r#""allowed_keys": ["a"], "ignored_keys": ["ign"], "blocked_values": ["4[0-9]{15}"]"#;
    for (mode, want) in [
        ("silent", vec!["a", "ign"]),
        ("", vec!["a", "ign"]),
        ("unknown", vec!["a", "ign"]),
        (
            "info",
            vec![
                "a",
                "ign",
                "redaction.redacted.count",
                "redaction.masked.count",
                "redaction.ignored.count",
            ],
        ),
        (
            "debug",
            vec![
                "a",
                "ign",
                "redaction.redacted.keys",
                "redaction.redacted.count",
                "redaction.masked.keys",
                "redaction.masked.count",
                "redaction.ignored.count",
            ],
        ),
    ] {
        let r = rules(&format!(r#"{{{base}, "summary": "{mode}"}}"#));
        let (got, _) = span_attrs(&r, attrs());
        assert_eq!(keys(&got), want, "{mode}");
        assert_eq!(str_of(&got, "a"), Some("****"));
    }
}

#[test]
fn summary_merges_with_an_existing_one() {
    let r = rules(r#"{"allow_all_keys": true, "blocked_values": ["secret"], "summary": "debug"}"#);
    let (got, _) = span_attrs(
        &r,
        vec![
            kv("b", "a secret"),
            kv("redaction.masked.keys", "a,z"),
            int("redaction.masked.count", 2),
            kv("redaction.redacted.keys", ""),
        ],
    );
    assert_eq!(str_of(&got, "redaction.masked.keys"), Some("a,b,z"));
    assert_eq!(get(&got, "redaction.masked.count"), Some(&V::IntValue(3)));
    // Nothing was redacted: an existing summary is left as it is.
    assert_eq!(str_of(&got, "redaction.redacted.keys"), Some(""));
    // A non-integer count reads as 0.
    let (got, _) = span_attrs(
        &r,
        vec![kv("b", "secret"), kv("redaction.masked.count", "many")],
    );
    assert_eq!(get(&got, "redaction.masked.count"), Some(&V::IntValue(1)));
}

#[test]
fn go_replace_all_semantics() {
    let all = Regex::new(".*").unwrap();
    let star = |s: &str, re: &Regex| replace_all_go(re, s, |_| "*".to_owned());
    assert_eq!(star("", &all), "*");
    assert_eq!(star("abc", &all), "*");
    assert_eq!(star("ab\ncd", &all), "*\n*");
    assert_eq!(star("ab\n", &all), "*\n*");
    let a = Regex::new("a*").unwrap();
    assert_eq!(star("baaac", &a), "*b*c*");
    assert_eq!(star("héé", &Regex::new("x*").unwrap()), "*h*é*é*");
}

#[test]
fn bad_patterns_fail_with_contribs_words() {
    for (key, what) in [
        ("blocked_values", "block list"),
        ("blocked_key_patterns", "block keys list"),
        ("allowed_values", "allow list"),
    ] {
        let e = Rules::new(&cfg(&format!(r#"{{"{key}": ["("]}}"#))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.message().starts_with(&format!(
                "error creating a redaction processor: failed to process {what}: error compiling regex in list: "
            )),
            "{}",
            e.message()
        );
    }
}

// ---- the three signals ------------------------------------------------------------------

const EXAMPLE: &str = r#"{"allow_all_keys": true,
    "blocked_key_patterns": ["(?i)password|token|secret|key|auth"],
    "blocked_values": ["\\b4[0-9]{3}(?:[ -]?[0-9]{4}){3}\\b", "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"],
    "summary": "info"}"#;

#[test]
fn traces_resource_spans_and_events_untouched_spans_keep_their_bytes() {
    let r = rules(EXAMPLE);
    let mut clean = span_with("clean", vec![kv("http.method", "GET")]);
    clean.events.push(span::Event {
        name: "e".into(),
        attributes: vec![kv("msg", "fine")],
        ..Default::default()
    });
    let mut dirty = span_with("dirty", vec![kv("user.password", "hunter2")]);
    dirty.events.push(span::Event {
        name: "request.body".into(),
        attributes: vec![kv("body", r#"{"email":"bob@shop.io"}"#)],
        ..Default::default()
    });
    dirty.events.push(span::Event {
        name: "fine".into(),
        attributes: vec![kv("x", "y")],
        ..Default::default()
    });
    let req = traces_req(
        vec![kv("service.name", "api"), kv("api_key", "k-123")],
        vec![clean.clone(), dirty],
    );
    let mut p = payload(Signal::Traces, &req);
    let c = r.apply(&mut p, None);
    assert_eq!(
        c,
        Counts {
            redacted: 0,
            masked: 3
        }
    );
    let out = p.to_bytes();
    assert!(
        contains(&out, &clean.encode_to_vec()),
        "the clean span's bytes"
    );
    for secret in ["hunter2", "bob@shop.io", "k-123"] {
        assert!(!contains(&out, secret.as_bytes()), "{secret}");
    }
    let got = ExportTraceServiceRequest::decode(out).unwrap();
    let rs = &got.resource_spans[0];
    let res = &rs.resource.as_ref().unwrap().attributes;
    assert_eq!(str_of(res, "api_key"), Some("****"));
    assert_eq!(get(res, "redaction.masked.count"), Some(&V::IntValue(1)));
    let spans = &rs.scope_spans[0].spans;
    assert_eq!(spans[0], clean);
    assert_eq!(str_of(&spans[1].attributes, "user.password"), Some("****"));
    assert_eq!(
        str_of(&spans[1].events[0].attributes, "body"),
        Some(r#"{"email":"****"}"#)
    );
    assert_eq!(
        get(&spans[1].events[0].attributes, "redaction.masked.count"),
        Some(&V::IntValue(1))
    );
    assert_eq!(spans[1].events[1].attributes, vec![kv("x", "y")]);
}

#[test]
fn nothing_to_redact_keeps_the_whole_payload() {
    let r = rules(EXAMPLE);
    let req = traces_req(
        vec![kv("service.name", "api")],
        vec![span_with("a", vec![kv("k", "v")])],
    );
    let bytes = Bytes::from(req.encode_to_vec());
    let mut p = Payload::decode(Signal::Traces, bytes.clone()).unwrap();
    assert_eq!(r.apply(&mut p, None), Counts::default());
    assert_eq!(p.to_bytes(), bytes);
}

fn log(body: Option<V>, attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        body: body.map(|v| AnyValue { value: Some(v) }),
        attributes: attrs,
        ..Default::default()
    }
}

fn logs_req(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("auth.header", "Bearer xyz")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn map(entries: Vec<KeyValue>) -> V {
    V::KvlistValue(KeyValueList { values: entries })
}

#[test]
fn logs_attributes_and_string_bodies() {
    let r = rules(EXAMPLE);
    let untouched = log(Some(V::StringValue("all good".into())), vec![kv("a", "b")]);
    let req = logs_req(vec![
        log(
            Some(V::StringValue("paid with 4111 1111 1111 1111 ok".into())),
            vec![kv("session_token", "abc")],
        ),
        untouched.clone(),
    ]);
    let mut p = payload(Signal::Logs, &req);
    let c = r.apply(&mut p, None);
    assert_eq!(c.masked, 3);
    let out = p.to_bytes();
    assert!(contains(&out, &untouched.encode_to_vec()));
    assert!(!contains(&out, b"4111 1111") && !contains(&out, b"xyz"));
    let got = ExportLogsServiceRequest::decode(out).unwrap();
    let recs = &got.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(
        recs[0].body,
        any(V::StringValue("paid with **** ok".into()))
    );
    let a = &recs[0].attributes;
    assert_eq!(str_of(a, "session_token"), Some("****"));
    assert_eq!(get(a, "redaction.masked.count"), Some(&V::IntValue(1)));
    assert_eq!(get(a, "redaction.body.masked.count"), Some(&V::IntValue(1)));
    assert_eq!(recs[1], untouched);
}

#[test]
fn log_map_bodies_are_walked_with_key_paths() {
    let r = rules(
        r#"{"allowed_keys": ["user", "items", "note", "email", "id", "password", "trace"],
            "ignored_keys": ["trace"], "blocked_key_patterns": ["password"],
            "blocked_values": ["[a-z]+@[a-z.]+"], "allowed_values": ["^ok$"], "summary": "debug"}"#,
    );
    let body = map(vec![
        kv_of(
            "user",
            map(vec![
                kv("email", "bob@shop.io"),
                int("password", 1234),
                kv("nickname", "bob"),
                kv("trace", "t"),
            ]),
        ),
        kv_of(
            "items",
            V::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(V::StringValue("x@y.z".into())),
                    },
                    AnyValue {
                        value: Some(V::StringValue("ok".into())),
                    },
                ],
            }),
        ),
        kv("note", "fine"),
        kv("dropped", "x"),
    ]);
    let req = logs_req(vec![log(Some(body), vec![])]);
    let mut p = payload(Signal::Logs, &req);
    let c = r.apply(&mut p, None);
    // Resource: `auth.header` is not allowed; body: user.nickname and dropped.
    assert_eq!(
        c,
        Counts {
            redacted: 3,
            masked: 3
        }
    );
    let got = ExportLogsServiceRequest::decode(p.to_bytes()).unwrap();
    let rec = &got.resource_logs[0].scope_logs[0].log_records[0];
    let want = map(vec![
        kv_of(
            "user",
            map(vec![
                kv("email", "****"),
                kv("password", "****"),
                kv("trace", "t"),
            ]),
        ),
        kv_of(
            "items",
            V::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(V::StringValue("****".into())),
                    },
                    AnyValue {
                        value: Some(V::StringValue("ok".into())),
                    },
                ],
            }),
        ),
        kv("note", "fine"),
    ]);
    assert_eq!(rec.body, any(want));
    let a = &rec.attributes;
    assert_eq!(
        str_of(a, "redaction.body.redacted.keys"),
        Some("dropped,user.nickname")
    );
    assert_eq!(
        get(a, "redaction.body.redacted.count"),
        Some(&V::IntValue(2))
    );
    assert_eq!(
        str_of(a, "redaction.body.masked.keys"),
        Some("items.[0],user.email,user.password")
    );
    assert_eq!(str_of(a, "redaction.body.allowed.keys"), Some("items.[1]"));
    assert_eq!(
        get(a, "redaction.body.ignored.count"),
        Some(&V::IntValue(1))
    );
    let res = &got.resource_logs[0].resource.as_ref().unwrap().attributes;
    assert_eq!(
        keys(res),
        ["redaction.redacted.keys", "redaction.redacted.count"]
    );
}

#[test]
fn an_allowed_scalar_body_writes_no_summary() {
    let r = rules(
        r#"{"allow_all_keys": true, "allowed_values": ["^ok"], "blocked_values": ["ok"],
            "summary": "debug"}"#,
    );
    let req = logs_req(vec![
        log(Some(V::StringValue("ok then".into())), vec![]),
        log(Some(V::IntValue(7)), vec![]),
    ]);
    let bytes = Bytes::from(req.encode_to_vec());
    let mut p = Payload::decode(Signal::Logs, bytes.clone()).unwrap();
    assert_eq!(r.apply(&mut p, None), Counts::default());
    assert_eq!(p.to_bytes(), bytes);
}

#[test]
fn a_scalar_body_of_another_type_is_checked_as_its_string() {
    let r = rules(
        r#"{"allow_all_keys": true, "blocked_values": ["^4[0-9]{15}$"], "summary": "debug"}"#,
    );
    let req = logs_req(vec![log(Some(V::IntValue(4111111111111111)), vec![])]);
    let mut p = payload(Signal::Logs, &req);
    r.apply(&mut p, None);
    let got = ExportLogsServiceRequest::decode(p.to_bytes()).unwrap();
    let rec = &got.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(rec.body, any(V::StringValue("****".into())));
    assert_eq!(
        str_of(&rec.attributes, "redaction.body.masked.keys"),
        Some("body")
    );
}

fn point(attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: 5,
        value: Some(m::number_data_point::Value::AsInt(1)),
        ..Default::default()
    }
}

#[test]
fn metrics_data_points_of_every_kind() {
    let r = rules(EXAMPLE);
    let secret = || vec![kv("db.password", "hunter2")];
    let clean_point = point(vec![kv("route", "/a")]);
    let metrics = vec![
        Metric {
            name: "gauge".into(),
            data: Some(metric::Data::Gauge(m::Gauge {
                data_points: vec![point(secret()), clean_point.clone()],
            })),
            ..Default::default()
        },
        Metric {
            name: "sum".into(),
            data: Some(metric::Data::Sum(m::Sum {
                data_points: vec![point(secret())],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "hist".into(),
            data: Some(metric::Data::Histogram(m::Histogram {
                data_points: vec![m::HistogramDataPoint {
                    attributes: secret(),
                    count: 1,
                    ..Default::default()
                }],
                aggregation_temporality: 1,
            })),
            ..Default::default()
        },
        Metric {
            name: "exp".into(),
            data: Some(metric::Data::ExponentialHistogram(
                m::ExponentialHistogram {
                    data_points: vec![m::ExponentialHistogramDataPoint {
                        attributes: secret(),
                        count: 1,
                        ..Default::default()
                    }],
                    aggregation_temporality: 1,
                },
            )),
            ..Default::default()
        },
        Metric {
            name: "summary".into(),
            data: Some(metric::Data::Summary(m::Summary {
                data_points: vec![m::SummaryDataPoint {
                    attributes: secret(),
                    count: 1,
                    ..Default::default()
                }],
            })),
            ..Default::default()
        },
    ];
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("owner", "ops@corp.io")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut p = payload(Signal::Metrics, &req);
    assert_eq!(r.apply(&mut p, None).masked, 6);
    let out = p.to_bytes();
    assert!(!contains(&out, b"hunter2") && !contains(&out, b"ops@corp.io"));
    assert!(contains(&out, &clean_point.encode_to_vec()));
    let got = ExportMetricsServiceRequest::decode(out).unwrap();
    let mut seen = 0;
    for metric in &got.resource_metrics[0].scope_metrics[0].metrics {
        let attrs: Vec<&Vec<KeyValue>> = match metric.data.as_ref().unwrap() {
            metric::Data::Gauge(g) => g.data_points.iter().map(|d| &d.attributes).collect(),
            metric::Data::Sum(s) => s.data_points.iter().map(|d| &d.attributes).collect(),
            metric::Data::Histogram(h) => h.data_points.iter().map(|d| &d.attributes).collect(),
            metric::Data::ExponentialHistogram(h) => {
                h.data_points.iter().map(|d| &d.attributes).collect()
            }
            metric::Data::Summary(s) => s.data_points.iter().map(|d| &d.attributes).collect(),
        };
        for a in attrs {
            if a.iter().any(|kv| kv.key == "db.password") {
                assert_eq!(str_of(a, "db.password"), Some("****"), "{}", metric.name);
                assert_eq!(get(a, "redaction.masked.count"), Some(&V::IntValue(1)));
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 5);
}

// ---- the processor --------------------------------------------------------------------

#[derive(Default)]
struct Collect(Mutex<Vec<Payload>>);

impl Consumer for Collect {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        self.0.lock().push(payload);
        Ok(())
    }
}

#[test]
fn the_processor_redacts_counts_and_passes_on() {
    let next = Arc::new(Collect::default());
    let registry = Registry::default();
    let budget = Budget::new(1 << 20);
    let p = RedactionProcessor::new(
        "redaction/x",
        Signal::Traces,
        &cfg(r#"{"allowed_keys": ["user.password", "k"], "blocked_key_patterns": ["password"]}"#),
        next.clone(),
        budget.clone(),
        &registry,
    )
    .unwrap();
    let req = traces_req(
        vec![],
        vec![span_with(
            "s",
            vec![
                kv("user.password", "hunter2"),
                kv("other", "x"),
                kv("k", "v"),
            ],
        )],
    );
    p.consume(payload(Signal::Traces, &req)).unwrap();
    let got = next.0.lock().pop().unwrap();
    // The re-encoded entry is on the budget while the payload lives.
    assert!(budget.used() > 0);
    let got = ExportTraceServiceRequest::decode(got.to_bytes()).unwrap();
    let attrs = &got.resource_spans[0].scope_spans[0].spans[0].attributes;
    assert_eq!(attrs, &vec![kv("user.password", "****"), kv("k", "v")]);
    let text = registry.render();
    assert!(
        text.contains(r#"otelcol_processor_redaction_redacted_total{processor="redaction/x"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"otelcol_processor_redaction_masked_total{processor="redaction/x"} 1"#)
    );
}

#[test]
fn a_configuration_that_changes_nothing_passes_payloads_through() {
    let next = Arc::new(Collect::default());
    let p = RedactionProcessor::new(
        "redaction",
        Signal::Logs,
        &cfg(r#"{"allow_all_keys": true, "summary": "debug"}"#),
        next.clone(),
        Budget::new(1 << 20),
        &Registry::default(),
    )
    .unwrap();
    assert!(p.rules.is_none());
    let req = logs_req(vec![log(Some(V::StringValue("x".into())), vec![])]);
    let bytes = Bytes::from(req.encode_to_vec());
    p.consume(Payload::decode(Signal::Logs, bytes.clone()).unwrap())
        .unwrap();
    assert_eq!(next.0.lock()[0].to_bytes(), bytes);
}
