//! The `redaction` processor.

use serde::{Deserialize, Serialize};

use crate::config::Kind as FactoryKind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory};

/// One database sanitizer (`db_sanitizer::sql` ...): accepted, not supported.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct SanitizerConfig {
    /// Turn it on.
    pub enabled: bool,
    /// Attributes it applies to.
    pub attributes: Vec<String>,
}

/// `db_sanitizer`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct DbSanitizerConfig {
    /// SQL statements.
    pub sql: SanitizerConfig,
    /// Redis commands.
    pub redis: SanitizerConfig,
    /// Valkey commands.
    pub valkey: SanitizerConfig,
    /// Memcached commands.
    pub memcached: SanitizerConfig,
    /// MongoDB queries.
    pub mongo: SanitizerConfig,
    /// OpenSearch queries.
    pub opensearch: SanitizerConfig,
    /// Elasticsearch queries.
    pub es: SanitizerConfig,
}

/// `redaction` processor configuration (contrib `processor/redactionprocessor`, v0.138 keys).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct RedactionConfig {
    /// Keep every key (otherwise keys not in `allowed_keys` are removed).
    pub allow_all_keys: bool,
    /// Keys kept when `allow_all_keys` is false.
    pub allowed_keys: Vec<String>,
    /// Keys never touched.
    pub ignored_keys: Vec<String>,
    /// Keys whose whole value is masked (regular expressions).
    pub blocked_key_patterns: Vec<String>,
    /// Value parts masked wherever they appear (regular expressions).
    pub blocked_values: Vec<String>,
    /// Values never masked (regular expressions); win over both blocking lists.
    pub allowed_values: Vec<String>,
    /// Check non-string values too (as their string form).
    pub redact_all_types: bool,
    /// Replace masked parts with a hash (`sha1`, `sha3`, `md5`) instead of `****`.
    pub hash_function: String,
    /// `debug`, `info` or `silent`: which summary attributes are added.
    pub summary: String,
    /// URL path sanitizer (not supported).
    pub url_sanitizer: SanitizerConfig,
    /// Database query sanitizers (not supported).
    pub db_sanitizer: DbSanitizerConfig,
}

/// The `redaction` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: FactoryKind::Processor,
        name: "redaction",
        aliases: &[],
        signals: &crate::Signal::ALL,
        decode: decode::<RedactionConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for RedactionConfig {}

fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Processor>, crate::Error> {
    let cfg = cfg.get::<RedactionConfig>()?;
    Ok(std::sync::Arc::new(RedactionProcessor::new(
        ctx.id,
        ctx.signal,
        cfg,
        next,
        ctx.budget.clone(),
        ctx.registry,
    )?))
}

impl Validate for RedactionConfig {
    fn validate(&self, p: &mut Problems) {
        let h = self.hash_function.to_lowercase();
        if !matches!(h.as_str(), "" | "none" | "sha1" | "sha3" | "md5") {
            p.key(
                "hash_function",
                format!("unknown HashFunction {h}, allowed functions are sha1, sha3 and md5"),
            );
        }
        for (key, what, list) in [
            ("blocked_values", "block list", &self.blocked_values),
            (
                "blocked_key_patterns",
                "block keys list",
                &self.blocked_key_patterns,
            ),
            ("allowed_values", "allow list", &self.allowed_values),
        ] {
            for pattern in list {
                if let Err(e) = regex::Regex::new(pattern) {
                    p.key(
                        key,
                        format!("error creating a redaction processor: failed to process {what}: error compiling regex in list: {e}"),
                    );
                }
            }
        }
        if self.url_sanitizer.enabled {
            p.key(
                "url_sanitizer::enabled",
                "url_sanitizer is not supported by this collector",
            );
        }
        let d = &self.db_sanitizer;
        for (name, s) in [
            ("sql", &d.sql),
            ("redis", &d.redis),
            ("valkey", &d.valkey),
            ("memcached", &d.memcached),
            ("mongo", &d.mongo),
            ("opensearch", &d.opensearch),
            ("es", &d.es),
        ] {
            if s.enabled {
                p.key(
                    format!("db_sanitizer::{name}::enabled"),
                    "db_sanitizer is not supported by this collector",
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Runtime
// ---------------------------------------------------------------------------------------

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use regex::Regex;

use crate::memory::Budget;
use crate::otlp::text::as_string;
use crate::otlp::{
    AnyValueView, ArrayView, AttrRef, Attributes, ItemEdit, ItemView, KeyValueListView,
    KeyValueView, Payload, Value,
};
use crate::pipeline::{Consumer, Processor, Refusal};
use crate::telemetry::{Counter, Registry};
use crate::{Error, ErrorKind, Signal};

/// What replaces a masked part when no hash function is configured (contrib's mask).
const MASK: &str = "****";

/// The names of the summary attributes for one kind of target (attributes or log bodies).
struct SummaryKeys {
    redacted_keys: &'static str,
    redacted_count: &'static str,
    masked_keys: &'static str,
    masked_count: &'static str,
    allowed_keys: &'static str,
    allowed_count: &'static str,
    ignored_count: &'static str,
}

const ATTRIBUTE_SUMMARY: SummaryKeys = SummaryKeys {
    redacted_keys: "redaction.redacted.keys",
    redacted_count: "redaction.redacted.count",
    masked_keys: "redaction.masked.keys",
    masked_count: "redaction.masked.count",
    allowed_keys: "redaction.allowed.keys",
    allowed_count: "redaction.allowed.count",
    ignored_count: "redaction.ignored.count",
};

const BODY_SUMMARY: SummaryKeys = SummaryKeys {
    redacted_keys: "redaction.body.redacted.keys",
    redacted_count: "redaction.body.redacted.count",
    masked_keys: "redaction.body.masked.keys",
    masked_count: "redaction.body.masked.count",
    allowed_keys: "redaction.body.allowed.keys",
    allowed_count: "redaction.body.allowed.count",
    ignored_count: "redaction.body.ignored.count",
};

/// Summary attributes that are always allowed. At v0.138 contrib lists only these five
/// (not the `allowed` or `body` ones, which a second redaction processor with an allow-list
/// therefore deletes; contrib issue #50770, fixed later).
const ALWAYS_ALLOWED: [&str; 5] = [
    "redaction.redacted.keys",
    "redaction.redacted.count",
    "redaction.masked.keys",
    "redaction.masked.count",
    "redaction.ignored.count",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    None,
    Md5,
    Sha1,
    Sha3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Summary {
    Silent,
    Info,
    Debug,
}

/// Keys that one rule applied to, in one attribute list or log body: always counted, named
/// only when the summary is `debug` (the only mode that writes names).
#[derive(Default)]
struct Tally {
    count: i64,
    names: Vec<String>,
}

/// What happened to one attribute list or one log body.
#[derive(Default)]
struct Report {
    named: bool,
    redacted: Tally,
    masked: Tally,
    allowed: Tally,
    ignored: Tally,
}

impl Report {
    fn new(named: bool) -> Report {
        Report {
            named,
            ..Report::default()
        }
    }
}

/// Adds `key` to `t`, building the name only when it will be written.
fn note(t: &mut Tally, named: bool, key: impl FnOnce() -> String) {
    t.count += 1;
    if named {
        t.names.push(key());
    }
}

/// Attributes removed and masked while processing one payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    redacted: u64,
    masked: u64,
}

/// The compiled configuration: regexes are compiled once, here.
#[derive(Debug)]
struct Rules {
    allow_all_keys: bool,
    allowed_keys: HashSet<String>,
    ignored_keys: HashSet<String>,
    blocked_key_patterns: Vec<Regex>,
    blocked_values: Vec<Regex>,
    allowed_values: Vec<Regex>,
    redact_all_types: bool,
    hash: Hash,
    summary: Summary,
    /// contrib masks a blocked key's whole value by replacing every match of `.*`, which
    /// is one replacement except around newlines (`.` does not match them).
    whole_value: Regex,
}

/// Compiles one list with contrib's error words.
fn compile(list: &[String], what: &str) -> Result<Vec<Regex>, Error> {
    list.iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!(
                        "error creating a redaction processor: failed to process {what}: error compiling regex in list: {e}"
                    ),
                )
            })
        })
        .collect()
}

impl Rules {
    fn new(cfg: &RedactionConfig) -> Result<Rules, Error> {
        let hash = match cfg.hash_function.to_lowercase().as_str() {
            "" | "none" => Hash::None,
            "md5" => Hash::Md5,
            "sha1" => Hash::Sha1,
            "sha3" => Hash::Sha3,
            other => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "unknown HashFunction {other}, allowed functions are sha1, sha3 and md5"
                    ),
                ));
            }
        };
        // contrib compares the summary case-sensitively; anything else is silent.
        let summary = match cfg.summary.as_str() {
            "debug" => Summary::Debug,
            "info" => Summary::Info,
            _ => Summary::Silent,
        };
        let mut allowed_keys: HashSet<String> = cfg.allowed_keys.iter().cloned().collect();
        allowed_keys.extend(ALWAYS_ALLOWED.iter().map(|k| (*k).to_owned()));
        Ok(Rules {
            allow_all_keys: cfg.allow_all_keys,
            allowed_keys,
            ignored_keys: cfg.ignored_keys.iter().cloned().collect(),
            blocked_values: compile(&cfg.blocked_values, "block list")?,
            blocked_key_patterns: compile(&cfg.blocked_key_patterns, "block keys list")?,
            allowed_values: compile(&cfg.allowed_values, "allow list")?,
            redact_all_types: cfg.redact_all_types,
            hash,
            summary,
            whole_value: Regex::new(".*")
                .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?,
        })
    }

    /// True when no payload can be changed: every key is kept, nothing can be masked and
    /// no summary attribute can be written.
    fn is_noop(&self) -> bool {
        self.allow_all_keys
            && self.blocked_key_patterns.is_empty()
            && self.blocked_values.is_empty()
            && (self.summary == Summary::Silent
                || (self.allowed_values.is_empty() && self.ignored_keys.is_empty()))
    }

    fn ignores(&self, key: &str) -> bool {
        self.ignored_keys.contains(key)
    }

    fn redacts(&self, key: &str) -> bool {
        !self.allow_all_keys && !self.allowed_keys.contains(key)
    }

    fn blocks_key(&self, key: &str) -> bool {
        self.blocked_key_patterns.iter().any(|r| r.is_match(key))
    }

    fn allows_value(&self, s: &str) -> bool {
        self.allowed_values.iter().any(|r| r.is_match(s))
    }

    /// What replaces one matched part: the mask, or the lower-case hex digest of its bytes.
    fn replacement(&self, part: &str) -> String {
        use sha3::Digest;
        match self.hash {
            Hash::None => MASK.to_owned(),
            Hash::Md5 => const_hex::encode(md5::Md5::digest(part.as_bytes())),
            Hash::Sha1 => const_hex::encode(sha1::Sha1::digest(part.as_bytes())),
            Hash::Sha3 => const_hex::encode(sha3::Sha3_256::digest(part.as_bytes())),
        }
    }

    /// The whole value masked, as contrib masks the value of a blocked key.
    fn mask_whole(&self, s: &str) -> String {
        replace_all_go(&self.whole_value, s, |m| self.replacement(m))
    }

    /// `s` with every match of every `blocked_values` regex masked, in config order; `None`
    /// when nothing changed.
    fn mask_values(&self, s: &str) -> Option<String> {
        let mut cur: Cow<'_, str> = Cow::Borrowed(s);
        for re in &self.blocked_values {
            if re.is_match(&cur) {
                cur = Cow::Owned(replace_all_go(re, &cur, |m| self.replacement(m)));
            }
        }
        match cur {
            Cow::Owned(o) if o != s => Some(o),
            _ => None,
        }
    }

    /// The string the value rules look at: the string value (empty for other types), or
    /// every type rendered as Go's `AsString` with `redact_all_types`.
    fn value_string<'v>(&self, v: &AttrRef<'v>) -> Cow<'v, str> {
        if let Some(s) = v.as_str() {
            return Cow::Borrowed(s);
        }
        if !self.redact_all_types {
            return Cow::Borrowed("");
        }
        match v {
            AttrRef::View(kv) => Cow::Owned(as_string(&kv.value())),
            AttrRef::Owned(value) => Cow::Owned(as_string(value)),
        }
    }

    /// contrib's `processAttrs` on one attribute list (order matters: ignored, not
    /// allowed, allowed value, blocked key, blocked values), then the summary.
    fn process_attrs(&self, attrs: &mut Attributes<'_>, counts: &mut Counts) {
        let mut r = Report::new(self.summary == Summary::Debug);
        let named = r.named;
        attrs.replace_values(|k, v| {
            if self.ignores(k) {
                note(&mut r.ignored, named, || k.to_owned());
                return None;
            }
            if self.redacts(k) {
                note(&mut r.redacted, named, || k.to_owned());
                return None;
            }
            let s = self.value_string(&v);
            if self.allows_value(&s) {
                note(&mut r.allowed, named, || k.to_owned());
                return None;
            }
            if self.blocks_key(k) {
                note(&mut r.masked, named, || k.to_owned());
                let masked = self.mask_whole(&s);
                // Already exactly this string: writing it again would only re-encode.
                return (v.as_str() != Some(masked.as_str())).then_some(Value::Str(masked));
            }
            let masked = self.mask_values(&s)?;
            note(&mut r.masked, named, || k.to_owned());
            Some(Value::Str(masked))
        });
        if r.redacted.count > 0 {
            attrs.retain(|k| self.ignores(k) || !self.redacts(k));
        }
        counts.redacted += r.redacted.count.unsigned_abs();
        counts.masked += r.masked.count.unsigned_abs();
        self.summarize(attrs, r, &ATTRIBUTE_SUMMARY);
    }

    /// Writes the summary attributes of `r` (contrib's `addMetaAttrs`, four times).
    fn summarize(&self, attrs: &mut Attributes<'_>, r: Report, keys: &SummaryKeys) {
        if self.summary == Summary::Silent {
            return;
        }
        self.add_meta(
            attrs,
            r.redacted,
            Some(keys.redacted_keys),
            keys.redacted_count,
        );
        self.add_meta(attrs, r.masked, Some(keys.masked_keys), keys.masked_count);
        self.add_meta(
            attrs,
            r.allowed,
            Some(keys.allowed_keys),
            keys.allowed_count,
        );
        self.add_meta(attrs, r.ignored, None, keys.ignored_count);
    }

    /// Names merged with an existing list (sorted, comma-joined; `debug` only) and the
    /// count added to an existing count, as contrib does across chained processors.
    fn add_meta(
        &self,
        attrs: &mut Attributes<'_>,
        mut t: Tally,
        names_key: Option<&str>,
        count_key: &str,
    ) {
        if t.count == 0 {
            return;
        }
        if let (Summary::Debug, Some(names_key)) = (self.summary, names_key) {
            if let Some(Value::Str(existing)) = attrs.get(names_key)
                && !existing.is_empty()
            {
                t.names.extend(existing.split(',').map(str::to_owned));
            }
            t.names.sort();
            attrs.upsert(names_key, Value::Str(t.names.join(",")));
        }
        // A non-integer existing count reads as 0, as pcommon's `Int()` does.
        let existing = match attrs.get(count_key) {
            Some(Value::Int(i)) => i,
            _ => 0,
        };
        attrs.upsert(count_key, Value::Int(existing.wrapping_add(t.count)));
    }

    /// contrib's `processLogBody`: a map body is walked (keys as paths `a.b`, `a.[0]`),
    /// a scalar body is checked as a whole and reported as `body`; the summary goes on the
    /// record's attributes.
    fn process_log_body(
        &self,
        e: &mut ItemEdit<'_, '_>,
        body: AnyValueView<'_>,
        counts: &mut Counts,
    ) {
        let mut r = Report::new(self.summary == Summary::Debug);
        let new = match &body {
            AnyValueView::KvList(map) => self.body_map(map, None, &mut r).map(Value::KvList),
            AnyValueView::Array(list) => self.body_list(list, None, &mut r).map(Value::Array),
            scalar => {
                let s = as_string(scalar);
                if self.allows_value(&s) {
                    // contrib returns here without writing any summary.
                    return;
                }
                let masked = self.mask_values(&s);
                if masked.is_some() {
                    note(&mut r.masked, r.named, || "body".to_owned());
                }
                masked.map(Value::Str)
            }
        };
        if let Some(new) = new {
            e.set_log_body(new);
        }
        counts.redacted += r.redacted.count.unsigned_abs();
        counts.masked += r.masked.count.unsigned_abs();
        self.summarize(e.attributes(), r, &BODY_SUMMARY);
    }

    /// One map of a log body; `Some(entries)` when anything in it changed.
    fn body_map(
        &self,
        map: &KeyValueListView<'_>,
        path: Option<&str>,
        r: &mut Report,
    ) -> Option<Vec<(String, Value)>> {
        let named = r.named;
        let full = |k: &str| match path {
            Some(p) => format!("{p}.{k}"),
            None => k.to_owned(),
        };
        let entries: Vec<KeyValueView<'_>> = map.iter().collect();
        let mut changed: Vec<Option<Option<Value>>> = Vec::with_capacity(entries.len());
        let mut any = false;
        for kv in &entries {
            let k = kv.key();
            // None: kept as it is; Some(None): removed; Some(Some(v)): replaced.
            let outcome = if self.ignores(k) {
                note(&mut r.ignored, named, || full(k));
                None
            } else if self.redacts(k) {
                note(&mut r.redacted, named, || full(k));
                Some(None)
            } else if self.blocks_key(k) {
                note(&mut r.masked, named, || full(k));
                let v = kv.value();
                let masked = self.mask_whole(v.as_str().unwrap_or(""));
                (v.as_str() != Some(masked.as_str())).then_some(Some(Value::Str(masked)))
            } else {
                self.body_value(&kv.value(), &full(k), r).map(Some)
            };
            any |= outcome.is_some();
            changed.push(outcome);
        }
        if !any {
            return None;
        }
        Some(
            entries
                .iter()
                .zip(changed)
                .filter_map(|(kv, outcome)| match outcome {
                    None => Some((kv.key().to_owned(), Value::from_view(&kv.value()))),
                    Some(None) => None,
                    Some(Some(v)) => Some((kv.key().to_owned(), v)),
                })
                .collect(),
        )
    }

    /// One list of a log body; `Some(elements)` when anything in it changed.
    fn body_list(
        &self,
        list: &ArrayView<'_>,
        path: Option<&str>,
        r: &mut Report,
    ) -> Option<Vec<Value>> {
        let elements: Vec<AnyValueView<'_>> = list.iter().collect();
        let mut changed: Vec<Option<Value>> = Vec::with_capacity(elements.len());
        for (i, v) in elements.iter().enumerate() {
            let key = match path {
                Some(p) => format!("{p}.[{i}]"),
                None => format!("[{i}]"),
            };
            changed.push(self.body_value(v, &key, r));
        }
        if changed.iter().all(Option::is_none) {
            return None;
        }
        Some(
            elements
                .iter()
                .zip(changed)
                .map(|(v, c)| c.unwrap_or_else(|| Value::from_view(v)))
                .collect(),
        )
    }

    /// One value inside a log body (contrib's `redactLogBodyRecursive`).
    fn body_value(&self, v: &AnyValueView<'_>, key: &str, r: &mut Report) -> Option<Value> {
        let named = r.named;
        match v {
            AnyValueView::KvList(map) => self.body_map(map, Some(key), r).map(Value::KvList),
            AnyValueView::Array(list) => self.body_list(list, Some(key), r).map(Value::Array),
            scalar => {
                let s = as_string(scalar);
                if self.allows_value(&s) {
                    note(&mut r.allowed, named, || key.to_owned());
                    return None;
                }
                let masked = self.mask_values(&s)?;
                note(&mut r.masked, named, || key.to_owned());
                Some(Value::Str(masked))
            }
        }
    }

    /// Redacts every resource, span, span event, log record (attributes and body) and
    /// data point of `payload`. Changed items are re-encoded alone; their new buffers are
    /// accounted on `budget`.
    fn apply(&self, payload: &mut Payload, budget: Option<&Budget>) -> Counts {
        let signal = payload.signal();
        let mut counts = Counts::default();
        for entry in payload.entries_mut() {
            entry.edit_resource(|attrs| self.process_attrs(attrs, &mut counts));
            entry.edit_items_in(signal, budget, |e| {
                self.process_attrs(e.attributes(), &mut counts);
                match e.item() {
                    ItemView::Span(_) => {
                        for attrs in e.event_attributes() {
                            self.process_attrs(attrs, &mut counts);
                        }
                    }
                    ItemView::LogRecord(log) => self.process_log_body(e, log.body(), &mut counts),
                    ItemView::DataPoint(..) => {}
                }
            });
        }
        counts
    }
}

/// Go's `Regexp.ReplaceAllStringFunc`: every leftmost-first match replaced, an empty match
/// right after a previous match skipped, the search advancing one character past an empty
/// match. Written out because the empty-match rules decide how `.*` masks multi-line
/// values and how patterns that can match nothing behave.
fn replace_all_go(re: &Regex, s: &str, mut rep: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_end = 0usize;
    let mut search = 0usize;
    while search <= s.len() {
        let Some(m) = re.find_at(s, search) else {
            break;
        };
        out.push_str(&s[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            out.push_str(&rep(m.as_str()));
        }
        last_end = m.end();
        let width = s[search..].chars().next().map_or(0, char::len_utf8);
        if search + width > m.end() {
            search += width;
        } else if search + 1 > m.end() {
            search += 1;
        } else {
            search = m.end();
        }
    }
    out.push_str(&s[last_end..]);
    out
}

/// The `redaction` processor: deletes attributes not allowed, masks sensitive values
/// (whole values of blocked keys, matches of blocked values), and writes the optional
/// summary attributes, on resources, spans, span events, log records and their bodies,
/// and data points. Items it leaves alone keep their bytes.
pub(crate) struct RedactionProcessor {
    signal: Signal,
    /// `None` when the configuration can never change anything.
    rules: Option<Rules>,
    next: Arc<dyn Consumer>,
    budget: Budget,
    redacted: Counter,
    masked: Counter,
}

impl RedactionProcessor {
    /// Builds the processor for one pipeline; the regexes are compiled here, and a pattern
    /// that does not compile is a `Config` error worded as contrib's.
    pub(crate) fn new(
        id: &str,
        signal: Signal,
        cfg: &RedactionConfig,
        next: Arc<dyn Consumer>,
        budget: Budget,
        registry: &Registry,
    ) -> Result<RedactionProcessor, Error> {
        let rules = Rules::new(cfg)?;
        let labels = [("processor", id)];
        Ok(RedactionProcessor {
            signal,
            rules: (!rules.is_noop()).then_some(rules),
            next,
            budget,
            redacted: registry.counter(
                "otelcol_processor_redaction_redacted",
                "Number of attributes (and log body fields) deleted because their key is not allowed",
                &labels,
            ),
            masked: registry.counter(
                "otelcol_processor_redaction_masked",
                "Number of attribute (and log body) values masked or hashed",
                &labels,
            ),
        })
    }
}

impl Consumer for RedactionProcessor {
    fn consume(&self, mut payload: Payload) -> Result<(), Refusal> {
        if let Some(rules) = &self.rules {
            debug_assert_eq!(payload.signal(), self.signal);
            let counts = rules.apply(&mut payload, Some(&self.budget));
            if counts.redacted > 0 {
                self.redacted.add(counts.redacted);
            }
            if counts.masked > 0 {
                self.masked.add(counts.masked);
            }
        }
        self.next.consume(payload)
    }
}

impl Processor for RedactionProcessor {}

#[cfg(test)]
mod tests;
