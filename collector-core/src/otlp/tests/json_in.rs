//! The streaming OTLP/JSON decoder against prost: generated requests written by our JSON
//! writer, then rewritten into every spelling the decoder accepts (snake_case keys, enum
//! names, 64-bit integers as numbers, 32-bit ones as strings, uppercase ids, doubles as
//! strings, keys in any order, unknown keys, `null` for absent fields), decode to the
//! original request.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{Map, Value as J};

use super::arb;
use super::noise::Rng;
use super::reference::Request;
use crate::otlp::Payload;
use crate::otlp::schema::{self, Card, Field, Msg, Ty};

/// Rewrites one message object (as our writer made it) into an equivalent spelling.
fn rewrite_message(obj: &mut Map<String, J>, msg: &Msg, rng: &mut Rng) {
    let mut entries: Vec<(String, J)> = std::mem::take(obj).into_iter().collect();
    for (key, value) in &mut entries {
        let field = msg
            .fields
            .iter()
            .find(|f| f.json == key.as_str())
            .expect("our writer writes schema keys");
        if rng.chance(2) {
            *key = field.name.to_owned();
        }
        match (field.card, value) {
            (Card::Repeated, J::Array(items)) => {
                for item in items {
                    rewrite_value(item, field, rng);
                }
            }
            (_, v) => rewrite_value(v, field, rng),
        }
    }
    // Absent fields given as null, and keys we do not know.
    for field in msg.fields {
        let present = entries
            .iter()
            .any(|(k, _)| k == field.json || k == field.name);
        if !present && rng.chance(8) {
            entries.push((field.json.to_owned(), J::Null));
        }
    }
    if rng.chance(8) {
        let junk = serde_json::json!({"a": [1, "two", {"three": null}], "b\u{e9}": "x\ny"});
        entries.push(("someFutureField".to_owned(), junk));
    }
    // Any order: the decoder writes fields in document order.
    for i in (1..entries.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        entries.swap(i, j);
    }
    obj.extend(entries);
}

fn rewrite_value(v: &mut J, field: &Field, rng: &mut Rng) {
    match (&field.ty, &*v) {
        (Ty::Msg(m), J::Object(_)) => {
            if let J::Object(o) = v {
                rewrite_message(o, m, rng);
            }
        }
        (Ty::Enum(names), J::Number(n)) => {
            let x = n.as_i64().expect("enums are written as integers");
            match names.iter().find(|(_, y)| i64::from(*y) == x) {
                Some((name, _)) if rng.chance(2) => *v = J::String((*name).to_owned()),
                _ if rng.chance(3) => *v = J::String(x.to_string()),
                _ => {}
            }
        }
        (Ty::Int64 | Ty::Sfixed64, J::String(s)) if rng.chance(2) => {
            *v = J::from(s.parse::<i64>().expect("written as an i64"));
        }
        (Ty::Uint64 | Ty::Fixed64, J::String(s)) if rng.chance(2) => {
            *v = J::from(s.parse::<u64>().expect("written as a u64"));
        }
        (Ty::Int32 | Ty::Uint32 | Ty::Sint32 | Ty::Fixed32, J::Number(n)) if rng.chance(3) => {
            *v = J::String(n.to_string());
        }
        (Ty::Double, J::Number(n)) if rng.chance(3) => *v = J::String(n.to_string()),
        (Ty::Id, J::String(s)) if rng.chance(2) => *v = J::String(s.to_ascii_uppercase()),
        _ => {}
    }
}

/// Our JSON for `req`, rewritten with `seed` (0: as written).
fn json_for<R: Request>(payload: &Payload, seed: u64) -> Vec<u8> {
    let json = payload.to_json();
    if seed == 0 {
        return json;
    }
    let mut rng = Rng::new(seed);
    let mut v: J = serde_json::from_slice(&json).expect("our writer writes JSON");
    if let J::Object(o) = &mut v {
        rewrite_message(o, schema::request(R::SIGNAL), &mut rng);
    }
    serde_json::to_vec(&v).expect("a Value serializes")
}

fn check<R: Request>(req: R, seed: u64) {
    let canonical = req.encode_to_vec();
    let Ok(payload) = Payload::decode(R::SIGNAL, Bytes::from(canonical.clone())) else {
        return;
    };
    for seed in [0, seed | 1] {
        let json = json_for::<R>(&payload, seed);
        let back = Payload::from_json(R::SIGNAL, &json)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&json)));
        assert_eq!(back.items(), payload.items());
        let decoded = R::decode(&back.to_bytes()[..]).expect("prost decodes what we accept");
        assert!(
            decoded.encode_to_vec() == canonical,
            "JSON changed the request:\n{}",
            String::from_utf8_lossy(&json)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn traces_json_decodes_to_the_request(req in arb::traces(), seed in any::<u64>()) {
        check(req, seed);
    }

    #[test]
    fn logs_json_decodes_to_the_request(req in arb::logs(), seed in any::<u64>()) {
        check(req, seed);
    }

    #[test]
    fn metrics_json_decodes_to_the_request(req in arb::metrics(), seed in any::<u64>()) {
        check(req, seed);
    }
}
