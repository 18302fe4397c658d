//! Item-level edits: the attributes of spans, log records and metric data points, span
//! event attributes and log bodies.
//!
//! An item the edit leaves alone keeps its bytes exactly; a changed item is re-encoded
//! alone (its other fields copied as they are), and the scope, metric and entry around it
//! are re-framed. When nothing changes, nothing is copied.

use bytes::Bytes;
use smallvec::SmallVec;

use super::edit::{Attributes, Value};
use super::fields::span::event;
use super::fields::{log_record, points_wrapper, resource_x, scope_x, span};
use super::payload::Entry;
use super::view::{
    self, DataPointView, LogRecordView, MetricView, Parts, ResourceView, ScopeView, SpanView,
};
use super::wire::{self, RawFields, Value as W};
use crate::Signal;

/// The item an [`ItemEdit`] is about.
#[derive(Clone, Debug)]
pub enum ItemView<'a> {
    /// A span.
    Span(SpanView<'a>),
    /// A log record.
    LogRecord(LogRecordView<'a>),
    /// A data point, with its metric.
    DataPoint(MetricView<'a>, DataPointView<'a>),
}

/// One item, its resource and scope, and its editable attributes.
#[derive(Debug)]
pub struct ItemEdit<'r, 'a> {
    resource: &'r ResourceView<'a>,
    scope: ScopeView<'a>,
    item: ItemView<'a>,
    raw: &'a [u8],
    attrs: Attributes<'a>,
    events: Option<Vec<Attributes<'a>>>,
    body: Option<Value>,
}

/// Field numbers of an item's attributes.
fn attr_field(item: &ItemView<'_>) -> u32 {
    match item {
        ItemView::Span(_) => span::ATTRIBUTES,
        ItemView::LogRecord(_) => log_record::ATTRIBUTES,
        ItemView::DataPoint(_, p) => p.kind().point_attributes(),
    }
}

impl<'r, 'a> ItemEdit<'r, 'a> {
    fn new(
        resource: &'r ResourceView<'a>,
        scope: ScopeView<'a>,
        item: ItemView<'a>,
        raw: &'a [u8],
    ) -> Self {
        let field = attr_field(&item);
        let attrs = Attributes::from_raw(Parts::one(raw).repeated(field));
        ItemEdit {
            resource,
            scope,
            item,
            raw,
            attrs,
            events: None,
            body: None,
        }
    }

    /// The item's resource.
    pub fn resource(&self) -> &'r ResourceView<'a> {
        self.resource
    }

    /// The item's scope entry.
    pub fn scope(&self) -> ScopeView<'a> {
        self.scope
    }

    /// The item (views are cheap to copy: a slice and a tag).
    pub fn item(&self) -> ItemView<'a> {
        self.item.clone()
    }

    /// The item's attributes, to read or edit.
    pub fn attributes(&mut self) -> &mut Attributes<'a> {
        &mut self.attrs
    }

    /// The item's attributes, to read.
    pub fn attributes_ref(&self) -> &Attributes<'a> {
        &self.attrs
    }

    /// The attributes of each event of a span (empty for other items), to edit.
    pub fn event_attributes(&mut self) -> &mut [Attributes<'a>] {
        if self.events.is_none() {
            let events = match self.item {
                ItemView::Span(_) => Parts::one(self.raw)
                    .repeated(span::EVENTS)
                    .map(|e| Attributes::from_raw(Parts::one(e).repeated(event::ATTRIBUTES)))
                    .collect(),
                _ => Vec::new(),
            };
            self.events = Some(events);
        }
        self.events.as_deref_mut().unwrap_or_default()
    }

    /// Replaces a log record's body (ignored for other items).
    pub fn set_log_body(&mut self, body: Value) {
        if matches!(self.item, ItemView::LogRecord(_)) {
            self.body = Some(body);
        }
    }

    fn events_changed(&self) -> bool {
        self.events
            .as_ref()
            .is_some_and(|e| e.iter().any(Attributes::is_changed))
    }

    fn is_changed(&self) -> bool {
        self.attrs.is_changed() || self.body.is_some() || self.events_changed()
    }

    /// The item body re-encoded: changed fields replaced where they first occurred (or
    /// appended), everything else copied.
    fn encode(&self) -> Vec<u8> {
        let mut replaced: SmallVec<[(u32, Vec<u8>); 3]> = SmallVec::new();
        if self.attrs.is_changed() {
            let mut b = Vec::new();
            self.attrs.encode(&mut b, attr_field(&self.item));
            replaced.push((attr_field(&self.item), b));
        }
        if let Some(body) = &self.body {
            let mut b = Vec::new();
            wire::put_nested(&mut b, log_record::BODY, |o| body.encode(o));
            replaced.push((log_record::BODY, b));
        }
        if let (true, Some(events)) = (self.events_changed(), &self.events) {
            let mut b = Vec::new();
            for (raw, attrs) in Parts::one(self.raw).repeated(span::EVENTS).zip(events) {
                if attrs.is_changed() {
                    let mut a = Vec::new();
                    attrs.encode(&mut a, event::ATTRIBUTES);
                    let rewritten = rewrite(raw, &[(event::ATTRIBUTES, a)]);
                    wire::put_len_field(&mut b, span::EVENTS, &rewritten);
                } else {
                    wire::put_len_field(&mut b, span::EVENTS, raw);
                }
            }
            replaced.push((span::EVENTS, b));
        }
        rewrite(self.raw, &replaced)
    }
}

/// `raw` with every occurrence of each listed field replaced by the given bytes, placed
/// where the field first occurred, or at the end when it did not occur.
fn rewrite(raw: &[u8], replaced: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut done: SmallVec<[bool; 3]> = SmallVec::from_elem(false, replaced.len());
    for (f, _, range) in RawFields::new(raw) {
        match replaced.iter().position(|(rf, _)| *rf == f) {
            Some(i) => {
                if !done[i] {
                    out.extend_from_slice(&replaced[i].1);
                    done[i] = true;
                }
            }
            None => out.extend_from_slice(&raw[range]),
        }
    }
    for (i, (_, bytes)) in replaced.iter().enumerate() {
        if !done[i] {
            out.extend_from_slice(bytes);
        }
    }
    out
}

/// Copies `raw`'s fields, replacing the length-delimited field occurrences `edit` returns
/// new bodies for (`edit` gets the field number and the body). Returns `None` when `edit`
/// changed nothing.
fn rebuild<'r>(
    raw: &'r [u8],
    mut edit: impl FnMut(u32, &'r [u8]) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let mut changes: Vec<(std::ops::Range<usize>, u32, Vec<u8>)> = Vec::new();
    for (f, v, range) in RawFields::new(raw) {
        if let W::Len(b) = v
            && let Some(new) = edit(f, b)
        {
            changes.push((range, f, new));
        }
    }
    if changes.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() + 16 * changes.len());
    let mut at = 0;
    for (range, f, new) in changes {
        out.extend_from_slice(&raw[at..range.start]);
        wire::put_len_field(&mut out, f, &new);
        at = range.end;
    }
    out.extend_from_slice(&raw[at..]);
    Some(out)
}

impl Entry {
    /// Visits every span, log record or metric data point of the entry with `edit`, and
    /// re-encodes the items whose attributes, event attributes or body it changed (and the
    /// messages around them); the rest of the entry keeps its bytes. The new buffer is
    /// accounted on `budget` when one is given. Returns how many items changed.
    pub fn edit_items(&mut self, signal: Signal, edit: impl FnMut(&mut ItemEdit<'_, '_>)) -> u64 {
        self.edit_items_in(signal, None, edit)
    }

    pub(crate) fn edit_items_in(
        &mut self,
        signal: Signal,
        budget: Option<&crate::memory::Budget>,
        mut edit: impl FnMut(&mut ItemEdit<'_, '_>),
    ) -> u64 {
        let mut changed = 0u64;
        let pieces: SmallVec<[Bytes; 2]> = self.pieces().iter().cloned().collect();
        let body = {
            let resource = ResourceView::new(&pieces);
            // The entry body may be several pieces (after a resource edit); fields never
            // straddle pieces.
            let mut rebuilt: Vec<Option<Vec<u8>>> = Vec::with_capacity(pieces.len());
            for piece in &pieces {
                rebuilt.push(rebuild(piece, |f, scope| {
                    if f != resource_x::SCOPE_X {
                        return None;
                    }
                    let sv = ScopeView::new(scope);
                    rebuild(scope, |f, item| {
                        if f != scope_x::ITEMS {
                            return None;
                        }
                        let iv = match signal {
                            Signal::Traces => ItemView::Span(SpanView::new(item)),
                            Signal::Logs => ItemView::LogRecord(LogRecordView::new(item)),
                            Signal::Metrics => {
                                return edit_metric(&resource, sv, item, &mut edit, &mut changed);
                            }
                        };
                        let mut e = ItemEdit::new(&resource, sv, iv, item);
                        edit(&mut e);
                        e.is_changed().then(|| {
                            changed += 1;
                            e.encode()
                        })
                    })
                }));
            }
            rebuilt.iter().any(Option::is_some).then(|| {
                let mut all = Vec::with_capacity(self.body_len() + 64);
                for (piece, new) in pieces.iter().zip(&rebuilt) {
                    all.extend_from_slice(new.as_deref().unwrap_or(piece));
                }
                all
            })
        };
        if let Some(body) = body {
            let mut pieces: SmallVec<[Bytes; 2]> = SmallVec::new();
            pieces.push(crate::memory::maybe_accounted(body, budget));
            self.replace_pieces(pieces);
        }
        changed
    }
}

/// Edits the data points of one metric; `Some(new metric body)` when any changed.
fn edit_metric<'a>(
    resource: &ResourceView<'a>,
    scope: ScopeView<'a>,
    metric: &'a [u8],
    edit: &mut impl FnMut(&mut ItemEdit<'_, '_>),
    changed: &mut u64,
) -> Option<Vec<u8>> {
    let mv = MetricView::new(metric);
    let kind = mv.kind();
    // Only the trailing run of the effective `data` member is what a decoder keeps.
    let (variant, _) = view::metric_data(&Parts::one(metric));
    let mut last_other = 0usize;
    for (i, (f, _, _)) in RawFields::new(metric).enumerate() {
        if view::is_metric_data(f) && f != variant {
            last_other = i + 1;
        }
    }
    let mut index = 0usize;
    rebuild(metric, |f, data| {
        let i = index;
        index += 1;
        if f != variant || i < last_other {
            return None;
        }
        rebuild(data, |pf, point| {
            if pf != points_wrapper::DATA_POINTS {
                return None;
            }
            let pv = DataPointView::new(kind, point);
            let mut e = ItemEdit::new(resource, scope, ItemView::DataPoint(mv.clone(), pv), point);
            edit(&mut e);
            e.is_changed().then(|| {
                *changed += 1;
                e.encode()
            })
        })
    })
}
