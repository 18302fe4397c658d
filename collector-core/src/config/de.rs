//! A serde deserializer over [`Node`] trees: typed structs decode straight from the merged,
//! expanded YAML, and every error carries the key path (`processors::batch::timeout`) and
//! the origin (file and line) of the offending value.
//!
//! Scalars are typed by the field they land in, as the Go collector's decoder does: a
//! string field takes any scalar as written, a number or boolean field parses it. Unknown
//! keys are not left to `deny_unknown_fields` (which stops at the first): the struct
//! decoder knows the field list, reports every unknown key to the [`Sink`] and skips it, so
//! one pass finds all of them.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::node::{Node, Origin, Value};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path as Go does: keys joined by `::`, list indexes as numbers.
pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            s.push_str("::");
        }
        match seg {
            Seg::Key(k) => s.push_str(k),
            Seg::Index(n) => s.push_str(&n.to_string()),
        }
    }
    s
}

/// A decoding problem at a path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DeError {
    pub(crate) path: Vec<Seg>,
    pub(crate) origin: Option<Origin>,
    pub(crate) message: String,
}

impl DeError {
    fn at(mut self, path: &[Seg], origin: &Origin) -> DeError {
        if self.origin.is_none() {
            self.path = path.to_vec();
            self.origin = Some(origin.clone());
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            path: Vec::new(),
            origin: None,
            message: msg.to_string(),
        }
    }
}

/// Collects the problems that do not stop decoding (unknown keys).
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) errors: RefCell<Vec<DeError>>,
}

/// The deserializer for one node.
pub(crate) struct De<'a> {
    node: &'a Node,
    path: Vec<Seg>,
    sink: &'a Sink,
}

impl<'a> De<'a> {
    pub(crate) fn new(node: &'a Node, path: Vec<Seg>, sink: &'a Sink) -> Self {
        De { node, path, sink }
    }

    fn child(&self, node: &'a Node, seg: Seg) -> De<'a> {
        let mut path = self.path.clone();
        path.push(seg);
        De {
            node,
            path,
            sink: self.sink,
        }
    }

    fn err(&self, message: String) -> DeError {
        DeError {
            path: self.path.clone(),
            origin: Some(self.node.origin.clone()),
            message,
        }
    }

    fn ctx<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.at(&self.path, &self.node.origin))
    }

    fn found(&self) -> String {
        match &self.node.value {
            Value::Null => "nothing".to_owned(),
            Value::Scalar { text, .. } => format!("{text:?}"),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => "a map".to_owned(),
        }
    }

    fn expected(&self, what: &str) -> DeError {
        self.err(format!("expected {what}, found {}", self.found()))
    }

    /// The text of a scalar that is not quoted (numbers and booleans must be plain).
    fn plain(&self, what: &str) -> Result<&'a str, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => Ok(text.trim()),
            _ => Err(self.expected(what)),
        }
    }

    fn int(&self) -> Result<i128, DeError> {
        let t = self.plain("an integer")?;
        parse_int(t).ok_or_else(|| self.expected("an integer"))
    }

    fn float(&self) -> Result<f64, DeError> {
        let t = self.plain("a number")?;
        parse_float(t).ok_or_else(|| self.expected("a number"))
    }
}

/// YAML 1.2 core schema booleans.
pub(crate) fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// An enum's values for an error message: spellings that differ only in case (aliases
/// such as `Detailed` for `detailed`) shown once, lower-case.
fn shown(variants: &[&str]) -> String {
    let alias = |v: &str| {
        let lower = v.to_ascii_lowercase();
        lower != v && variants.contains(&lower.as_str())
    };
    let kept: Vec<&str> = variants.iter().copied().filter(|v| !alias(v)).collect();
    kept.join(", ")
}

/// YAML 1.2 core schema integers (decimal, `0x`, `0o`), with underscores between digits
/// ignored as Go's YAML parser ignores them (go-yaml v3 `resolve`: `65_536` is 65536, a
/// spelling public `file_storage` examples use).
pub(crate) fn parse_int(t: &str) -> Option<i128> {
    if t.contains('_') {
        if t.starts_with('_') || t.ends_with('_') {
            return None;
        }
        return parse_int(&t.replace('_', ""));
    }
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// YAML 1.2 core schema floats (and integers).
pub(crate) fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(t) {
        return Some(i as f64);
    }
    let ok = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && t.bytes().any(|b| b.is_ascii_digit());
    if ok { t.parse().ok() } else { None }
}

macro_rules! int_method {
    ($name:ident, $visit:ident, $ty:ty) => {
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let i = self.int()?;
            let x = <$ty>::try_from(i)
                .map_err(|_| self.err(format!("{i} is out of range for {}", stringify!($ty))))?;
            self.ctx(v.$visit(x))
        }
    };
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.ctx(v.visit_unit()),
            Value::Scalar { text, quoted: true } => self.ctx(v.visit_str(text)),
            Value::Scalar {
                text,
                quoted: false,
            } => {
                let t = text.trim();
                if let Some(b) = parse_bool(t) {
                    self.ctx(v.visit_bool(b))
                } else if let Some(i) = parse_int(t).and_then(|i| i64::try_from(i).ok()) {
                    self.ctx(v.visit_i64(i))
                } else if let Some(f) = parse_float(t) {
                    self.ctx(v.visit_f64(f))
                } else {
                    self.ctx(v.visit_str(text))
                }
            }
            Value::Seq(_) => self.deserialize_seq(v),
            Value::Map(_) => self.deserialize_map(v),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let t = self.plain("true or false")?;
        let b = parse_bool(t).ok_or_else(|| self.expected("true or false"))?;
        self.ctx(v.visit_bool(b))
    }

    int_method!(deserialize_i8, visit_i8, i8);
    int_method!(deserialize_i16, visit_i16, i16);
    int_method!(deserialize_i32, visit_i32, i32);
    int_method!(deserialize_i64, visit_i64, i64);
    int_method!(deserialize_u8, visit_u8, u8);
    int_method!(deserialize_u16, visit_u16, u16);
    int_method!(deserialize_u32, visit_u32, u32);
    int_method!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let f = self.float()?;
        self.ctx(v.visit_f32(f as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let f = self.float()?;
        self.ctx(v.visit_f64(f))
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.ctx(v.visit_str("")),
            Value::Scalar { text, .. } => self.ctx(v.visit_str(text)),
            _ => Err(self.expected("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.ctx(v.visit_none()),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.ctx(v.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => {
                let access = SeqAccess {
                    de: &self,
                    items: items.iter().enumerate(),
                };
                self.ctx(v.visit_seq(access))
            }
            Value::Null => {
                let access = SeqAccess {
                    de: &self,
                    items: [].iter().enumerate(),
                };
                self.ctx(v.visit_seq(access))
            }
            _ => Err(self.expected("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.map_with_fields(None, v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        self.map_with_fields(Some(fields), v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => {
                let t = text.trim();
                if !variants.contains(&t) {
                    return Err(self.err(format!(
                        "unknown value {t:?}: expected one of {}",
                        shown(variants)
                    )));
                }
                let de: de::value::StrDeserializer<'_, DeError> = t.into_deserializer();
                self.ctx(v.visit_enum(de))
            }
            _ => Err(self.expected(&format!("one of {}", shown(variants)))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.ctx(v.visit_unit())
    }
}

impl<'a> De<'a> {
    fn map_with_fields<'de, V: Visitor<'de>>(
        self,
        fields: Option<&'static [&'static str]>,
        v: V,
    ) -> Result<V::Value, DeError> {
        let entries: &[(String, Node)] = match &self.node.value {
            Value::Map(m) => m,
            Value::Null => &[],
            _ => return Err(self.expected("a map")),
        };
        // Later duplicates win, as in the merged tree; report each unknown key once.
        let mut keep: Vec<&(String, Node)> = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if entries[i + 1..].iter().any(|(k, _)| *k == e.0) {
                continue;
            }
            if let Some(fields) = fields
                && !fields.contains(&e.0.as_str())
            {
                let mut path = self.path.clone();
                path.push(Seg::Key(e.0.clone()));
                self.sink.errors.borrow_mut().push(DeError {
                    path,
                    origin: Some(e.1.origin.clone()),
                    message: format!("unknown key {:?}", e.0),
                });
                continue;
            }
            keep.push(e);
        }
        let access = MapAccess {
            de: &self,
            entries: keep.into_iter(),
            value: None,
        };
        self.ctx(v.visit_map(access))
    }
}

struct SeqAccess<'a, 'b, I> {
    de: &'b De<'a>,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> de::SeqAccess<'de> for SeqAccess<'a, '_, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => seed
                .deserialize(self.de.child(node, Seg::Index(i)))
                .map(Some),
            None => Ok(None),
        }
    }
}

struct MapAccess<'a, 'b, I> {
    de: &'b De<'a>,
    entries: I,
    value: Option<&'a (String, Node)>,
}

impl<'de, 'a, I: Iterator<Item = &'a (String, Node)>> de::MapAccess<'de> for MapAccess<'a, '_, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some(e) => {
                self.value = Some(e);
                let key: de::value::StrDeserializer<'_, DeError> = e.0.as_str().into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let Some((k, node)) = self.value.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        seed.deserialize(self.de.child(node, Seg::Key(k.clone())))
    }
}

/// Decodes `T` from `node`, reporting every unknown key and, by decoding again without the
/// offending value, every type error, not just the first.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    node: &Node,
    path: Vec<Seg>,
) -> Result<T, Vec<DeError>> {
    let mut tree = node.clone();
    let mut errors: Vec<DeError> = Vec::new();
    for _ in 0..64 {
        let sink = Sink::default();
        let result = T::deserialize(De::new(&tree, path.clone(), &sink));
        for e in sink.errors.into_inner() {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
        match result {
            Ok(v) if errors.is_empty() => return Ok(v),
            Ok(_) => return Err(errors),
            Err(e) => {
                let removed = remove(&mut tree, &e.path[path.len().min(e.path.len())..]);
                if !errors.contains(&e) {
                    errors.push(e);
                }
                if !removed {
                    return Err(errors);
                }
            }
        }
    }
    Err(errors)
}

/// Removes the value at `path` (relative to `node`) so a retry decodes the rest.
fn remove(node: &mut Node, path: &[Seg]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match (&mut node.value, first) {
        (Value::Map(entries), Seg::Key(k)) => {
            if rest.is_empty() {
                let before = entries.len();
                entries.retain(|(ek, _)| ek != k);
                entries.len() != before
            } else {
                entries
                    .iter_mut()
                    .rev()
                    .find(|(ek, _)| ek == k)
                    .is_some_and(|(_, v)| remove(v, rest))
            }
        }
        (Value::Seq(items), Seg::Index(i)) => {
            if rest.is_empty() {
                if *i < items.len() {
                    items.remove(*i);
                    true
                } else {
                    false
                }
            } else {
                items.get_mut(*i).is_some_and(|v| remove(v, rest))
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::node::parse;
    use super::*;
    use serde::Deserialize;
    use std::sync::Arc;

    #[derive(Deserialize, Debug, Default, PartialEq)]
    #[serde(default)]
    struct Inner {
        size: u32,
        name: String,
        on: bool,
    }

    #[derive(Deserialize, Debug, Default, PartialEq)]
    #[serde(default)]
    struct Outer {
        inner: Inner,
        list: Vec<String>,
        ratio: f64,
        maybe: Option<u8>,
    }

    fn node(yaml: &str) -> Node {
        parse(yaml, &Arc::from("c.yaml")).unwrap()
    }

    #[test]
    fn typed_by_field() {
        let o: Outer = decode(
            &node("inner:\n  size: 10\n  name: 0123\n  on: true\nlist: [a, 1]\nratio: 0.5\n"),
            vec![],
        )
        .unwrap();
        assert_eq!(o.inner.size, 10);
        assert_eq!(o.inner.name, "0123");
        assert!(o.inner.on);
        assert_eq!(o.list, ["a", "1"]);
        assert_eq!(o.maybe, None);
    }

    #[test]
    fn all_unknown_keys_and_type_errors_are_reported() {
        let errs = decode::<Outer>(
            &node("inner:\n  size: big\n  bogus: 1\n  on: maybe\nextra: 2\nratio: x\n"),
            vec![Seg::Key("processors".into()), Seg::Key("batch".into())],
        )
        .unwrap_err();
        let rendered: Vec<String> = errs
            .iter()
            .map(|e| {
                format!(
                    "{} line {}: {}",
                    render_path(&e.path),
                    e.origin.as_ref().unwrap().line,
                    e.message
                )
            })
            .collect();
        for want in [
            "processors::batch::inner::bogus line 3: unknown key \"bogus\"",
            "processors::batch::extra line 5: unknown key \"extra\"",
            "processors::batch::inner::size line 2: expected an integer, found \"big\"",
            "processors::batch::inner::on line 4: expected true or false, found \"maybe\"",
            "processors::batch::ratio line 6: expected a number, found \"x\"",
        ] {
            assert!(
                rendered.iter().any(|r| r == want),
                "{want} not in {rendered:#?}"
            );
        }
        assert_eq!(rendered.len(), 5, "{rendered:#?}");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int("0x1f"), Some(31));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int("65_536"), Some(65536));
        assert_eq!(parse_int("_1"), None);
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("abc"), None);
    }
}
