//! Splits at item boundaries: [`Payload::split_to`] and [`Payload::split`].
//!
//! Whole entries move without copying. The entry that straddles the cut is rebuilt in two
//! new buffers: every field of the `ResourceX` but its scopes is copied to both halves, the
//! straddling scope is re-framed around its items, and for metrics the straddling `Metric`
//! and its data wrapper are re-framed around the chosen data points. Items are copied as
//! bytes, never re-encoded.

use smallvec::SmallVec;

use super::fields::{points_wrapper, resource_x, scope_x};
use super::payload::{Entry, Payload};
use super::view::{self, Parts};
use super::wire::{self, RawFields, Value as W};
use crate::Signal;

impl Payload {
    /// Takes at most `max_items` items off the front, cutting at item boundaries, and
    /// returns them; `self` keeps the rest. Whole entries move without copying; an entry
    /// that straddles the cut is re-framed around the chosen items, which are copied.
    ///
    /// `max_items == 0` takes nothing.
    pub fn split_to(&mut self, max_items: u64) -> Payload {
        self.split_to_in(max_items, None)
    }

    /// [`split_to`](Self::split_to), with the buffers a straddling entry's split makes
    /// accounted on `budget`.
    pub(crate) fn split_to_in(
        &mut self,
        max_items: u64,
        budget: Option<&crate::memory::Budget>,
    ) -> Payload {
        if max_items >= self.items {
            return std::mem::replace(self, Payload::empty(self.signal()));
        }
        if max_items == 0 {
            return Payload::empty(self.signal());
        }
        let mut front = Vec::new();
        let mut taken = 0u64;
        let mut rest = std::mem::take(&mut self.entries).into_iter();
        for e in rest.by_ref() {
            if taken + e.items() <= max_items {
                taken += e.items();
                front.push(e);
                if taken == max_items {
                    break;
                }
            } else {
                let (a, b) = split_entry(self.signal(), &e, max_items - taken, budget);
                taken = max_items;
                front.push(a);
                self.entries.push(b);
                break;
            }
        }
        self.entries.extend(rest);
        self.items -= taken;
        self.part(front, taken)
    }

    /// Splits into payloads of at most `max_items` items each (`0` means no limit).
    pub fn split(mut self, max_items: u64) -> Vec<Payload> {
        if max_items == 0 || self.items <= max_items {
            return vec![self];
        }
        let mut out = Vec::new();
        while self.items > max_items {
            out.push(self.split_to(max_items));
        }
        if !self.entries.is_empty() {
            out.push(self);
        }
        out
    }
}

/// Items in one scope entry body.
fn scope_items(signal: Signal, scope: &[u8]) -> u64 {
    let items = Parts::one(scope).repeated(scope_x::ITEMS);
    match signal {
        Signal::Traces | Signal::Logs => items.count() as u64,
        Signal::Metrics => items.map(metric_points).sum(),
    }
}

/// Data points of one metric, as [`super::validate`] counts them.
fn metric_points(metric: &[u8]) -> u64 {
    view::metric_data(&Parts::one(metric))
        .1
        .repeated(points_wrapper::DATA_POINTS)
        .count() as u64
}

/// Splits an entry into one holding its first `n` items and one holding the rest
/// (`0 < n < entry.items()`). Both are new buffers, accounted on `budget` when given;
/// headers are copied to both sides.
fn split_entry(
    signal: Signal,
    entry: &Entry,
    n: u64,
    budget: Option<&crate::memory::Budget>,
) -> (Entry, Entry) {
    let mut header = Vec::new();
    let mut scopes = Vec::new();
    for piece in entry.pieces() {
        for (f, v, range) in RawFields::new(piece) {
            match (f, v) {
                (resource_x::SCOPE_X, W::Len(b)) => scopes.push(b),
                _ => header.extend_from_slice(&piece[range]),
            }
        }
    }
    let mut front = header.clone();
    let mut back = header;
    let mut taken = 0u64;
    for scope in scopes {
        if taken >= n {
            wire::put_len_field(&mut back, resource_x::SCOPE_X, scope);
            continue;
        }
        let k = scope_items(signal, scope);
        if taken + k <= n {
            wire::put_len_field(&mut front, resource_x::SCOPE_X, scope);
            taken += k;
        } else {
            let (a, b) = split_scope(signal, scope, n - taken);
            wire::put_len_field(&mut front, resource_x::SCOPE_X, &a);
            wire::put_len_field(&mut back, resource_x::SCOPE_X, &b);
            taken = n;
        }
    }
    let total = entry.items();
    let buf = |v: Vec<u8>| crate::memory::maybe_accounted(v, budget);
    (
        Entry::from_pieces(SmallVec::from_iter([buf(front)]), n),
        Entry::from_pieces(SmallVec::from_iter([buf(back)]), total - n),
    )
}

/// Splits a scope entry body after `n` items (`0 < n < items`).
fn split_scope(signal: Signal, scope: &[u8], n: u64) -> (Vec<u8>, Vec<u8>) {
    let mut header = Vec::new();
    let mut items = Vec::new();
    for (f, v, range) in RawFields::new(scope) {
        match (f, v) {
            (scope_x::ITEMS, W::Len(b)) => items.push(b),
            _ => header.extend_from_slice(&scope[range]),
        }
    }
    let mut front = header.clone();
    let mut back = header;
    match signal {
        Signal::Traces | Signal::Logs => {
            for (i, item) in items.iter().enumerate() {
                let out = if (i as u64) < n {
                    &mut front
                } else {
                    &mut back
                };
                wire::put_len_field(out, scope_x::ITEMS, item);
            }
        }
        Signal::Metrics => {
            let mut taken = 0u64;
            for metric in items {
                if taken >= n {
                    wire::put_len_field(&mut back, scope_x::ITEMS, metric);
                    continue;
                }
                let k = metric_points(metric);
                if taken + k <= n {
                    wire::put_len_field(&mut front, scope_x::ITEMS, metric);
                    taken += k;
                } else {
                    let (a, b) = split_metric(metric, (n - taken) as usize);
                    wire::put_len_field(&mut front, scope_x::ITEMS, &a);
                    wire::put_len_field(&mut back, scope_x::ITEMS, &b);
                    taken = n;
                }
            }
        }
    }
    (front, back)
}

/// Splits a metric after `n` data points: the metric's own fields and the data wrapper's
/// fields (temporality, monotonicity) are copied to both halves.
fn split_metric(metric: &[u8], n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut header = Vec::new();
    for (f, _, range) in RawFields::new(metric) {
        if !view::is_metric_data(f) {
            header.extend_from_slice(&metric[range]);
        }
    }
    let (variant, data) = view::metric_data(&Parts::one(metric));
    let mut wrapper_header = Vec::new();
    let mut points = Vec::new();
    for part in data.slices() {
        for (f, v, range) in RawFields::new(part) {
            match (f, v) {
                (points_wrapper::DATA_POINTS, W::Len(b)) => points.push(b),
                _ => wrapper_header.extend_from_slice(&part[range]),
            }
        }
    }
    let half = |pts: &[&[u8]]| {
        let mut out = header.clone();
        wire::put_nested(&mut out, variant, |o| {
            o.extend_from_slice(&wrapper_header);
            for p in pts {
                wire::put_len_field(o, points_wrapper::DATA_POINTS, p);
            }
        });
        out
    };
    (half(&points[..n]), half(&points[n..]))
}
