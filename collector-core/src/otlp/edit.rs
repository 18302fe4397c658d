//! Resource attribute edits that never re-encode items: only the `Resource` is re-encoded
//! and spliced in front of the untouched rest. Also the owned attribute [`Value`] and the
//! editable [`Attributes`] list that item edits (`items.rs`) share. Splits at item
//! boundaries are in `split.rs`.

use std::borrow::Cow;

use bytes::Bytes;
use smallvec::SmallVec;

use super::fields::{any_value, array_value, key_value, key_value_list, resource, resource_x};
use super::payload::Entry;
use super::view::{AnyValueView, KeyValueView, Parts};
use super::wire::{self, RawFields, WireType};

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
            Value::Str(s) => wire::put_len_field(out, any_value::STRING_VALUE, s.as_bytes()),
            Value::Bool(b) => {
                wire::put_key(out, any_value::BOOL_VALUE, WireType::Varint);
                wire::put_varint(out, u64::from(*b));
            }
            Value::Int(i) => {
                wire::put_key(out, any_value::INT_VALUE, WireType::Varint);
                wire::put_varint(out, *i as u64);
            }
            Value::Double(d) => {
                wire::put_key(out, any_value::DOUBLE_VALUE, WireType::I64);
                out.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Value::Array(vs) => wire::put_nested(out, any_value::ARRAY_VALUE, |o| {
                for v in vs {
                    wire::put_nested(o, array_value::VALUES, |o| v.encode(o));
                }
            }),
            Value::KvList(kvs) => wire::put_nested(out, any_value::KVLIST_VALUE, |o| {
                for (k, v) in kvs {
                    wire::put_nested(o, key_value_list::VALUES, |o| encode_key_value(o, k, v));
                }
            }),
            Value::Bytes(b) => wire::put_len_field(out, any_value::BYTES_VALUE, b),
        }
    }
}

/// Appends an encoded `KeyValue` body.
pub(crate) fn encode_key_value(out: &mut Vec<u8>, key: &str, value: &Value) {
    wire::put_len_field(out, key_value::KEY, key.as_bytes());
    wire::put_nested(out, key_value::VALUE, |o| value.encode(o));
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
            let resource = parts.message(resource_x::RESOURCE);
            let list = resource
                .repeated(resource::ATTRIBUTES)
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
            attrs.encode(&mut body, resource::ATTRIBUTES);
            for part in resource.slices() {
                for (f, _, range) in RawFields::new(part) {
                    if f != resource::ATTRIBUTES {
                        body.extend_from_slice(&part[range]);
                    }
                }
            }
            let mut res = Vec::with_capacity(body.len() + 6);
            wire::put_len_field(&mut res, resource_x::RESOURCE, &body);
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
                if f == resource_x::RESOURCE {
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
                if f == resource_x::RESOURCE {
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
