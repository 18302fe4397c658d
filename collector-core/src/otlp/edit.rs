//! Edits that never re-encode items: resource attribute changes (only the `Resource` is
//! re-encoded and spliced in front of the untouched rest) and splits at item boundaries
//! (resource, scope and metric headers re-framed around the chosen items).

use std::borrow::Cow;

use bytes::Bytes;
use smallvec::SmallVec;

use super::payload::Entry;
use super::view::{self, AnyValueView, KeyValueView, Parts};
use super::wire::{self, RawFields, Value as W, WireType};
use crate::Signal;

/// An owned attribute value, for edits.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value.
    Empty,
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A list of values.
    Array(Vec<Value>),
    /// A list of key/value pairs.
    KvList(Vec<(String, Value)>),
}

impl Value {
    /// An owned copy of a view.
    pub fn from_view(v: &AnyValueView<'_>) -> Value {
        match v {
            AnyValueView::Empty => Value::Empty,
            AnyValueView::Str(s) => Value::Str((*s).to_owned()),
            AnyValueView::Bool(b) => Value::Bool(*b),
            AnyValueView::Int(i) => Value::Int(*i),
            AnyValueView::Double(d) => Value::Double(*d),
            AnyValueView::Bytes(b) => Value::Bytes(b.to_vec()),
            AnyValueView::Array(a) => {
                Value::Array(a.iter().map(|v| Value::from_view(&v)).collect())
            }
            AnyValueView::KvList(l) => Value::KvList(
                l.iter()
                    .map(|kv| (kv.key().to_owned(), Value::from_view(&kv.value())))
                    .collect(),
            ),
        }
    }

    /// Appends the encoded `AnyValue` body.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Empty => {}
            Value::Str(s) => wire::put_len_field(out, 1, s.as_bytes()),
            Value::Bool(b) => {
                wire::put_key(out, 2, WireType::Varint);
                wire::put_varint(out, u64::from(*b));
            }
            Value::Int(i) => {
                wire::put_key(out, 3, WireType::Varint);
                wire::put_varint(out, *i as u64);
            }
            Value::Double(d) => {
                wire::put_key(out, 4, WireType::I64);
                out.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Value::Array(vs) => wire::put_nested(out, 5, |o| {
                for v in vs {
                    wire::put_nested(o, 1, |o| v.encode(o));
                }
            }),
            Value::KvList(kvs) => wire::put_nested(out, 6, |o| {
                for (k, v) in kvs {
                    wire::put_nested(o, 1, |o| encode_key_value(o, k, v));
                }
            }),
            Value::Bytes(b) => wire::put_len_field(out, 7, b),
        }
    }
}

/// Appends an encoded `KeyValue` body.
pub(crate) fn encode_key_value(out: &mut Vec<u8>, key: &str, value: &Value) {
    wire::put_len_field(out, 1, key.as_bytes());
    wire::put_nested(out, 2, |o| value.encode(o));
}

#[derive(Clone, Debug)]
pub(crate) enum AttrValue<'a> {
    /// Unchanged: the original `KeyValue` bytes are copied as they are.
    Raw(KeyValueView<'a>),
    New(Value),
}

fn attr_ref<'s, 'x: 's>(v: &'s AttrValue<'x>) -> AttrRef<'s> {
    match v {
        AttrValue::Raw(kv) => AttrRef::View(kv.clone()),
        AttrValue::New(v) => AttrRef::Owned(v),
    }
}

/// An attribute value as an edit sees it: a view of the received bytes, or a value set by
/// an earlier edit.
#[derive(Clone, Debug)]
pub enum AttrRef<'v> {
    /// Unchanged since it was received: the received `KeyValue`.
    View(KeyValueView<'v>),
    /// Set by an edit.
    Owned(&'v Value),
}

impl<'v> AttrRef<'v> {
    /// An owned copy.
    pub fn to_value(&self) -> Value {
        match self {
            AttrRef::View(kv) => Value::from_view(&kv.value()),
            AttrRef::Owned(v) => (*v).clone(),
        }
    }

    /// The string, when the value is a string.
    pub fn as_str(&self) -> Option<&'v str> {
        match self {
            AttrRef::View(kv) => kv.value().as_str(),
            AttrRef::Owned(Value::Str(s)) => Some(s),
            AttrRef::Owned(_) => None,
        }
    }
}

/// An editable attribute list (a resource's attributes, for [`Entry::edit_resource`]).
///
/// Keys should be unique (OTLP requires it); where they are not, `update`/`upsert` set the
/// first occurrence and remove the others, and `remove` removes them all.
#[derive(Debug)]
pub struct Attributes<'a> {
    list: Vec<(Cow<'a, str>, AttrValue<'a>)>,
    changed: bool,
}

impl<'a> Attributes<'a> {
    fn new(list: Vec<(Cow<'a, str>, AttrValue<'a>)>) -> Self {
        Attributes {
            list,
            changed: false,
        }
    }

    /// An editable list over encoded `KeyValue` bodies.
    pub(crate) fn from_raw(raw: impl Iterator<Item = &'a [u8]>) -> Self {
        Attributes::new(
            raw.map(|b| {
                let kv = KeyValueView::new(b);
                (Cow::Borrowed(kv.key()), AttrValue::Raw(kv))
            })
            .collect(),
        )
    }

    /// The attributes, in order, as views of their values where unchanged.
    pub fn iter(&self) -> impl Iterator<Item = (&str, AttrRef<'_>)> {
        self.list.iter().map(|(k, v)| (k.as_ref(), attr_ref(v)))
    }

    /// Replaces the value of every attribute for which `f` returns a new one; `f` sees the
    /// key and the current value.
    pub fn replace_values(&mut self, mut f: impl FnMut(&str, AttrRef<'_>) -> Option<Value>) {
        for (k, v) in &mut self.list {
            let new = f(k, attr_ref(v));
            if let Some(new) = new {
                *v = AttrValue::New(new);
                self.changed = true;
            }
        }
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// True when an attribute named `key` exists.
    pub fn contains(&self, key: &str) -> bool {
        self.list.iter().any(|(k, _)| k == key)
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.list
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| match v {
                AttrValue::Raw(kv) => Value::from_view(&kv.value()),
                AttrValue::New(v) => v.clone(),
            })
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|(k, _)| k.as_ref())
    }

    /// True when any edit changed the list.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// Sets `key` only if it is absent. Returns whether it was set.
    pub fn insert(&mut self, key: &str, value: Value) -> bool {
        if self.contains(key) {
            return false;
        }
        self.list
            .push((Cow::Owned(key.to_owned()), AttrValue::New(value)));
        self.changed = true;
        true
    }

    /// Sets `key` only if it is present. Returns whether it was set.
    pub fn update(&mut self, key: &str, value: Value) -> bool {
        let Some(i) = self.list.iter().position(|(k, _)| k == key) else {
            return false;
        };
        self.list[i].1 = AttrValue::New(value);
        let mut j = 0;
        self.list.retain(|(k, _)| {
            let keep = j <= i || k != key;
            j += 1;
            keep
        });
        self.changed = true;
        true
    }

    /// Sets `key` whether or not it is present.
    pub fn upsert(&mut self, key: &str, value: Value) {
        if !self.update(key, value.clone()) {
            self.insert(key, value);
        }
    }

    /// Removes every attribute named `key`. Returns whether any was removed.
    pub fn remove(&mut self, key: &str) -> bool {
        self.retain(|k| k != key)
    }

    /// Keeps only the attributes whose key satisfies `keep`. Returns whether any was
    /// removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) -> bool {
        let before = self.list.len();
        self.list.retain(|(k, _)| keep(k));
        let removed = self.list.len() != before;
        self.changed |= removed;
        removed
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>, field: u32) {
        for (k, v) in &self.list {
            match v {
                AttrValue::Raw(kv) => wire::put_len_field(out, field, kv.raw()),
                AttrValue::New(v) => wire::put_nested(out, field, |o| encode_key_value(o, k, v)),
            }
        }
    }
}

impl Entry {
    /// Edits the resource's attributes. Only the `Resource` message is re-encoded (once,
    /// merging repeated occurrences as a decoder would); every other field of the entry
    /// keeps its bytes. Nothing is rebuilt when `edit` changes nothing.
    pub fn edit_resource<R>(&mut self, edit: impl FnOnce(&mut Attributes<'_>) -> R) -> R {
        self.edit_resource_field(edit).0
    }

    /// [`edit_resource`](Self::edit_resource), also returning the new encoded `resource`
    /// field (tag included) when the edit changed something, for caches.
    pub(crate) fn edit_resource_field<R>(
        &mut self,
        edit: impl FnOnce(&mut Attributes<'_>) -> R,
    ) -> (R, Option<Bytes>) {
        let (result, field) = {
            let parts = Parts::from_pieces(self.pieces());
            let resource = parts.message(1);
            let list = resource
                .repeated(1)
                .map(|raw| {
                    let kv = KeyValueView::new(raw);
                    (Cow::Borrowed(kv.key()), AttrValue::Raw(kv))
                })
                .collect();
            let mut attrs = Attributes::new(list);
            let result = edit(&mut attrs);
            if !attrs.changed {
                return (result, None);
            }
            let mut body = Vec::new();
            attrs.encode(&mut body, 1);
            for part in resource.slices() {
                for (f, _, range) in RawFields::new(part) {
                    if f != 1 {
                        body.extend_from_slice(&part[range]);
                    }
                }
            }
            let mut res = Vec::with_capacity(body.len() + 6);
            wire::put_len_field(&mut res, 1, &body);
            (result, Bytes::from(res))
        };
        self.set_resource_field(field.clone());
        (result, Some(field))
    }

    /// The entry's `resource` field occurrences as encoded (tags included): what a
    /// resource edit depends on, for caches.
    pub(crate) fn resource_key(&self, out: &mut Vec<u8>) {
        for piece in self.pieces() {
            for (f, _, range) in RawFields::new(piece) {
                if f == 1 {
                    out.extend_from_slice(&piece[range]);
                }
            }
        }
    }

    /// Replaces every `resource` field occurrence with `field` (an encoded `resource`
    /// field, tag included), keeping every other field of the entry as slices.
    pub(crate) fn set_resource_field(&mut self, field: Bytes) {
        let mut pieces: SmallVec<[Bytes; 2]> = SmallVec::new();
        pieces.push(field);
        for piece in self.pieces() {
            let mut run: Option<std::ops::Range<usize>> = None;
            for (f, _, range) in RawFields::new(piece) {
                if f == 1 {
                    if let Some(r) = run.take() {
                        pieces.push(piece.slice(r));
                    }
                } else {
                    run = Some(match run {
                        Some(r) => r.start..range.end,
                        None => range,
                    });
                }
            }
            if let Some(r) = run {
                pieces.push(piece.slice(r));
            }
        }
        self.replace_pieces(pieces);
    }
}

/// Items in one scope entry body.
fn scope_items(signal: Signal, scope: &[u8]) -> u64 {
    let items = Parts::one(scope).repeated(2);
    match signal {
        Signal::Traces | Signal::Logs => items.count() as u64,
        Signal::Metrics => items.map(metric_points).sum(),
    }
}

/// Data points of one metric, as [`super::validate`] counts them.
fn metric_points(metric: &[u8]) -> u64 {
    view::metric_data(&Parts::one(metric)).1.repeated(1).count() as u64
}

/// Splits an entry into one holding its first `n` items and one holding the rest
/// (`0 < n < entry.items()`). Both are new buffers, accounted on `budget` when given;
/// headers are copied to both sides.
pub(crate) fn split_entry(
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
                (2, W::Len(b)) => scopes.push(b),
                _ => header.extend_from_slice(&piece[range]),
            }
        }
    }
    let mut front = header.clone();
    let mut back = header;
    let mut taken = 0u64;
    for scope in scopes {
        if taken >= n {
            wire::put_len_field(&mut back, 2, scope);
            continue;
        }
        let k = scope_items(signal, scope);
        if taken + k <= n {
            wire::put_len_field(&mut front, 2, scope);
            taken += k;
        } else {
            let (a, b) = split_scope(signal, scope, n - taken);
            wire::put_len_field(&mut front, 2, &a);
            wire::put_len_field(&mut back, 2, &b);
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
            (2, W::Len(b)) => items.push(b),
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
                wire::put_len_field(out, 2, item);
            }
        }
        Signal::Metrics => {
            let mut taken = 0u64;
            for metric in items {
                if taken >= n {
                    wire::put_len_field(&mut back, 2, metric);
                    continue;
                }
                let k = metric_points(metric);
                if taken + k <= n {
                    wire::put_len_field(&mut front, 2, metric);
                    taken += k;
                } else {
                    let (a, b) = split_metric(metric, (n - taken) as usize);
                    wire::put_len_field(&mut front, 2, &a);
                    wire::put_len_field(&mut back, 2, &b);
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
                (1, W::Len(b)) => points.push(b),
                _ => wrapper_header.extend_from_slice(&part[range]),
            }
        }
    }
    let half = |pts: &[&[u8]]| {
        let mut out = header.clone();
        wire::put_nested(&mut out, variant, |o| {
            o.extend_from_slice(&wrapper_header);
            for p in pts {
                wire::put_len_field(o, 1, p);
            }
        });
        out
    };
    (half(&points[..n]), half(&points[n..]))
}
