//! The configuration as a tree of YAML nodes that remember where they came from (source and
//! line), so every error can name both. Sources are parsed into this tree, merged (maps
//! merge, lists replace), expanded (`${env:VAR}`), and only then decoded into typed structs.

use std::fmt;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Where a node came from: a file name, `env:VAR`, `yaml:...`, and a line when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) source: Arc<str>,
    /// 1-based; 0 when unknown.
    pub(crate) line: u32,
}

impl Origin {
    pub(crate) fn new(source: &Arc<str>, line: u32) -> Origin {
        Origin {
            source: source.clone(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.source, self.line)
        } else {
            f.write_str(&self.source)
        }
    }
}

/// A YAML value with its origin.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) origin: Origin,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// `~`, `null`, an empty value, or an unset variable.
    Null,
    /// A scalar, as text; its type is decided by the field it lands in (as Go's decoder
    /// does), except that a quoted scalar is always a string.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Keys in document order; a later duplicate replaces the earlier value.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn new(value: Value, origin: Origin) -> Node {
        Node { value, origin }
    }

    pub(crate) fn map(entries: Vec<(String, Node)>, origin: Origin) -> Node {
        Node::new(Value::Map(entries), origin)
    }

    pub(crate) fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar text, if this is a scalar.
    #[cfg(test)]
    pub(crate) fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Merges `other` over `self`: maps merge key by key, everything else is replaced.
    pub(crate) fn merge(&mut self, other: Node) {
        match (&mut self.value, other.value) {
            (Value::Map(ours), Value::Map(theirs)) => {
                for (k, v) in theirs {
                    match ours.iter_mut().rev().find(|(ok, _)| *ok == k) {
                        Some((_, existing)) => existing.merge(v),
                        None => ours.push((k, v)),
                    }
                }
            }
            (_, value) => {
                self.value = value;
                self.origin = other.origin;
            }
        }
    }

    /// Splits keys containing `::` into nested maps (confmap's key delimiter), so that
    /// `processors::batch::timeout: 2s` means `processors: {batch: {timeout: 2s}}`.
    pub(crate) fn split_delimited_keys(&mut self) {
        match &mut self.value {
            Value::Map(entries) => {
                let old = std::mem::take(entries);
                let mut out = Node::map(Vec::new(), self.origin.clone());
                for (k, mut v) in old {
                    v.split_delimited_keys();
                    let mut parts: Vec<&str> = k.split("::").collect();
                    let last = parts.pop().unwrap_or_default();
                    let mut nested = Node::map(vec![(last.to_owned(), v)], self.origin.clone());
                    for p in parts.into_iter().rev() {
                        nested = Node::map(vec![(p.to_owned(), nested)], self.origin.clone());
                    }
                    out.merge(nested);
                }
                self.value = out.value;
            }
            Value::Seq(items) => items.iter_mut().for_each(Node::split_delimited_keys),
            _ => {}
        }
    }
}

/// A YAML syntax error, with its position.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub(crate) origin: Origin,
    pub(crate) message: String,
}

/// Parses one YAML document into a node tree. Anchors and aliases are resolved; `<<` merge
/// keys are applied. An empty document is an empty map.
pub(crate) fn parse(text: &str, source: &Arc<str>) -> Result<Node, ParseError> {
    let mut builder = Builder {
        source: source.clone(),
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
    };
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| ParseError {
            origin: Origin::new(source, e.marker().line() as u32),
            message: e.info().to_owned(),
        })?;
        let line = span.start.line() as u32;
        builder.event(ev, line).map_err(|message| ParseError {
            origin: Origin::new(source, line),
            message,
        })?;
    }
    let root = builder
        .root
        .unwrap_or_else(|| Node::map(Vec::new(), Origin::new(source, 0)));
    match root.value {
        Value::Map(_) => Ok(root),
        Value::Null => Ok(Node::map(Vec::new(), root.origin)),
        _ => Err(ParseError {
            origin: root.origin,
            message: "the configuration must be a YAML mapping".to_owned(),
        }),
    }
}

enum Frame {
    Seq(Vec<Node>, Origin, usize),
    Map(Vec<(String, Node)>, Origin, usize, Option<(String, Origin)>),
}

struct Builder {
    source: Arc<str>,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
}

impl Builder {
    fn event(&mut self, ev: Event<'_>, line: u32) -> Result<(), String> {
        let origin = Origin::new(&self.source, line);
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                if self.root.is_some() {
                    return Err("only one YAML document is allowed".to_owned());
                }
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| "unknown alias".to_owned())?;
                self.push(node)?;
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                let value = if !quoted && is_null(&text) {
                    Value::Null
                } else {
                    Value::Scalar {
                        text: text.into_owned(),
                        quoted,
                    }
                };
                let node = Node::new(value, origin);
                if anchor > 0 {
                    self.anchors.push((anchor, node.clone()));
                }
                self.push(node)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(Vec::new(), origin, anchor))
            }
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(Frame::Map(Vec::new(), origin, anchor, None))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, origin, anchor)) = self.stack.pop() {
                    let node = Node::new(Value::Seq(items), origin);
                    if anchor > 0 {
                        self.anchors.push((anchor, node.clone()));
                    }
                    self.push(node)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, origin, anchor, _)) = self.stack.pop() {
                    let node = Node::new(Value::Map(apply_merge_keys(entries)), origin);
                    if anchor > 0 {
                        self.anchors.push((anchor, node.clone()));
                    }
                    self.push(node)?;
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, _, _, pending)) => match pending.take() {
                None => match node.value {
                    Value::Scalar { text, .. } => *pending = Some((text, node.origin)),
                    Value::Null => *pending = Some((String::new(), node.origin)),
                    _ => return Err("mapping keys must be scalars".to_owned()),
                },
                Some((key, key_origin)) => {
                    // A block map or list starts on the line after its key; errors about
                    // it should point at the key.
                    let mut node = node;
                    if !matches!(node.value, Value::Scalar { .. }) {
                        node.origin = key_origin;
                    }
                    entries.push((key, node))
                }
            },
        }
        Ok(())
    }
}

/// YAML's null spellings (core schema).
fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// `<<: *anchor` (or a list of anchors) merges those maps' keys under this map's own.
fn apply_merge_keys(entries: Vec<(String, Node)>) -> Vec<(String, Node)> {
    if !entries.iter().any(|(k, _)| k == "<<") {
        return entries;
    }
    let mut base: Vec<(String, Node)> = Vec::new();
    let mut own = Vec::new();
    for (k, v) in entries {
        if k != "<<" {
            own.push((k, v));
            continue;
        }
        let sources = match v.value {
            Value::Seq(items) => items,
            other => vec![Node::new(other, v.origin)],
        };
        for src in sources {
            if let Value::Map(m) = src.value {
                for (mk, mv) in m {
                    if !base.iter().any(|(bk, _)| *bk == mk) {
                        base.push((mk, mv));
                    }
                }
            }
        }
    }
    base.retain(|(k, _)| !own.iter().any(|(ok, _)| ok == k));
    base.extend(own);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> Arc<str> {
        Arc::from("test.yaml")
    }

    #[test]
    fn parses_with_lines_and_quoting() {
        let n = parse("a:\n  b: 1\n  c: '2'\nd: [x, y]\ne:\n", &src()).unwrap();
        let b = n.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.origin.line, 2);
        assert_eq!(b.scalar(), Some("1"));
        assert!(matches!(
            n.get("a").unwrap().get("c").unwrap().value,
            Value::Scalar { quoted: true, .. }
        ));
        assert!(matches!(n.get("d").unwrap().value, Value::Seq(ref v) if v.len() == 2));
        assert!(n.get("e").unwrap().is_null());
    }

    #[test]
    fn merge_maps_and_replace_lists() {
        let mut a = parse("p:\n  x: 1\n  l: [1, 2]\n", &src()).unwrap();
        let b = parse("p:\n  y: 2\n  l: [3]\n", &src()).unwrap();
        a.merge(b);
        let p = a.get("p").unwrap();
        assert_eq!(p.get("x").unwrap().scalar(), Some("1"));
        assert_eq!(p.get("y").unwrap().scalar(), Some("2"));
        assert!(matches!(p.get("l").unwrap().value, Value::Seq(ref v) if v.len() == 1));
    }

    #[test]
    fn delimited_keys_nest() {
        let mut n = parse(
            "processors::batch::timeout: 2s\nprocessors::batch::x: 1",
            &src(),
        )
        .unwrap();
        n.split_delimited_keys();
        let batch = n.get("processors").unwrap().get("batch").unwrap();
        assert_eq!(batch.get("timeout").unwrap().scalar(), Some("2s"));
        assert_eq!(batch.get("x").unwrap().scalar(), Some("1"));
    }

    #[test]
    fn anchors_and_merge_keys() {
        let n = parse(
            "base: &b\n  x: 1\n  y: 2\nderived:\n  <<: *b\n  y: 3\nlist: *b\n",
            &src(),
        )
        .unwrap();
        let d = n.get("derived").unwrap();
        assert_eq!(d.get("x").unwrap().scalar(), Some("1"));
        assert_eq!(d.get("y").unwrap().scalar(), Some("3"));
        assert_eq!(n.get("list").unwrap().get("y").unwrap().scalar(), Some("2"));
    }

    #[test]
    fn syntax_errors_have_lines() {
        let e = parse("a: 1\nb: [unclosed\n", &src()).unwrap_err();
        assert!(e.origin.line >= 2, "{e:?}");
        assert!(parse("- a\n- b\n", &src()).is_err());
    }
}
