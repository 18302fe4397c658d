//! A schema-driven re-encoder that turns a canonical (prost-encoded) message into another
//! encoding that prost decodes to the same value: unknown fields (including groups) at
//! random places, packed scalars written unpacked or in two runs, singular scalars preceded
//! by a discarded earlier value, singular messages split into two occurrences that merge,
//! fields reordered. Tests assert that prost agrees the result is equivalent.

use super::super::schema::{Card, Msg, Ty};
use super::super::wire::{self, RawFields, Value as W, WireType};

/// SplitMix64: a tiny deterministic generator seeded by proptest.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Re-encodes a whole export request whose entries follow `entry`.
pub(crate) fn request(entry: &'static Msg, canonical: &[u8], rng: &mut Rng) -> Vec<u8> {
    let top = Msg {
        fields: std::slice::from_ref(Box::leak(Box::new(super::super::schema::Field {
            num: 1,
            name: "entries",
            json: "entries",
            ty: Ty::Msg(entry),
            card: Card::Repeated,
        }))),
    };
    message(&top, canonical, rng)
}

fn unknown_field(out: &mut Vec<u8>, rng: &mut Rng) {
    let num = 100 + rng.below(900) as u32;
    match rng.below(5) {
        0 => {
            wire::put_key(out, num, WireType::Varint);
            wire::put_varint(out, rng.next() >> rng.below(64));
        }
        1 => {
            wire::put_key(out, num, WireType::I64);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        2 => {
            wire::put_key(out, num, WireType::I32);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        3 => {
            let len = rng.below(6) as usize;
            let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            wire::put_len_field(out, num, &body);
        }
        _ => {
            wire::put_key(out, num, WireType::StartGroup);
            wire::put_key(out, num + 1, WireType::Varint);
            wire::put_varint(out, rng.below(1000));
            wire::put_key(out, num, WireType::EndGroup);
        }
    }
}

fn bogus_scalar(out: &mut Vec<u8>, num: u32, v: &W<'_>, ty: &Ty, rng: &mut Rng) {
    match v {
        W::Varint(_) => {
            wire::put_key(out, num, WireType::Varint);
            wire::put_varint(out, rng.below(1 << 20));
        }
        W::I64(_) => {
            wire::put_key(out, num, WireType::I64);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        W::I32(_) => {
            wire::put_key(out, num, WireType::I32);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        W::Len(_) => {
            // Strings must stay UTF-8 (prost checks every occurrence); ids may have any
            // length because only the last occurrence counts.
            let body: Vec<u8> = match ty {
                Ty::Str => b"discarded".to_vec(),
                _ => (0..rng.below(20)).map(|_| rng.next() as u8).collect(),
            };
            wire::put_len_field(out, num, &body);
        }
        W::Group => {}
    }
}

/// One output chunk: the field number it carries (for order-preserving shuffles) and bytes.
type Chunk = (u32, Vec<u8>);

/// Re-encodes one message body.
pub(crate) fn message(msg: &Msg, body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut chunks: Vec<Chunk> = Vec::new();
    for (num, v, range) in RawFields::new(body) {
        let raw = &body[range];
        let Some((_, field)) = msg.field(num) else {
            chunks.push((num, raw.to_vec()));
            continue;
        };
        let mut out = Vec::new();
        match (&field.ty, field.card, v) {
            (Ty::Msg(m), card, W::Len(child)) => {
                let child = message(m, child, rng);
                if card != Card::Repeated && rng.chance(3) {
                    // Two occurrences whose merge is the original.
                    let fields: Vec<_> = RawFields::new(&child).collect();
                    let k = rng.below(fields.len() as u64 + 1) as usize;
                    let (a, b) = fields.split_at(k);
                    let part = |fs: &[(u32, W<'_>, std::ops::Range<usize>)]| {
                        let mut p = Vec::new();
                        for (_, _, r) in fs {
                            p.extend_from_slice(&child[r.clone()]);
                        }
                        p
                    };
                    wire::put_len_field(&mut out, num, &part(a));
                    wire::put_len_field(&mut out, num, &part(b));
                } else {
                    wire::put_len_field(&mut out, num, &child);
                }
            }
            (ty, Card::Repeated, W::Len(packed)) if ty.packable() && rng.chance(2) => {
                // Unpacked, or two packed runs.
                let width = match ty {
                    Ty::Fixed64 | Ty::Sfixed64 | Ty::Double => 8,
                    Ty::Fixed32 => 4,
                    _ => 0,
                };
                let mut elems: Vec<&[u8]> = Vec::new();
                if width > 0 {
                    elems.extend(packed.chunks_exact(width));
                } else {
                    let mut r = wire::Reader::new(packed, 0);
                    let mut at = 0;
                    while r.varint().is_ok() {
                        let end = r.offset();
                        elems.push(&packed[at..end]);
                        at = end;
                    }
                }
                if rng.chance(2) {
                    let wt = if width == 8 {
                        WireType::I64
                    } else if width == 4 {
                        WireType::I32
                    } else {
                        WireType::Varint
                    };
                    for e in elems {
                        wire::put_key(&mut out, num, wt);
                        out.extend_from_slice(e);
                    }
                } else {
                    let k = rng.below(elems.len() as u64 + 1) as usize;
                    for run in [&elems[..k], &elems[k..]] {
                        let b: Vec<u8> = run.concat();
                        wire::put_len_field(&mut out, num, &b);
                    }
                }
            }
            (ty, Card::Single | Card::Optional(_), v) if rng.chance(4) => {
                bogus_scalar(&mut out, num, &v, ty, rng);
                out.extend_from_slice(raw);
            }
            _ => out.extend_from_slice(raw),
        }
        chunks.push((num, out));
    }
    // Reorder: move a random chunk earlier past chunks of other fields only, so the
    // relative order of one field's occurrences (and of oneof members) is kept.
    if chunks.len() > 1 && rng.chance(3) {
        let i = rng.below(chunks.len() as u64) as usize;
        let mut j = i;
        while j > 0 && !same_slot(msg, chunks[j - 1].0, chunks[i].0) && rng.chance(2) {
            j -= 1;
        }
        let c = chunks.remove(i);
        chunks.insert(j, c);
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    for (_, c) in chunks {
        if rng.chance(8) {
            unknown_field(&mut out, rng);
        }
        out.extend_from_slice(&c);
    }
    if rng.chance(8) {
        unknown_field(&mut out, rng);
    }
    out
}

/// Do two field numbers share a slot whose order matters (same field, or one oneof)?
fn same_slot(msg: &Msg, a: u32, b: u32) -> bool {
    if a == b {
        return true;
    }
    match (msg.field(a), msg.field(b)) {
        (Some((_, fa)), Some((_, fb))) => match (fa.card, fb.card) {
            (Card::Optional(x), Card::Optional(y)) => x == y && x == 1,
            _ => false,
        },
        _ => false,
    }
}
