//! The shape of the crate, read from its sources (`docs/architecture.md`, "The house"):
//!
//! - `config/` names no component: it loads with the factories it is given;
//! - no component folder (`<kind>/<type>/`) imports another, except a component that wraps
//!   another ([`WRAPS`]);
//! - the shared layers (`pipeline/`, `otlp/`, `config/`, `storage/`, `aws/`, `memory.rs`) and the
//!   collector (`collector.rs`, `embed.rs`) import no component: only `components.rs` (the
//!   list of factories) and the benchmark hooks do;
//! - no circle in the import graph crosses a component folder.
//!
//! Imports are the `crate::...` paths a file names (in `use` items, braces expanded, and
//! inline), comments left out; `crate::X` re-exported by `lib.rs` counts as the module that
//! defines `X`.

#![allow(clippy::unwrap_used)] // test: a panic is a failing test

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The component kinds: each `src/<kind>/<type>/` is one component.
const KINDS: [&str; 5] = [
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
];

/// A component that wraps another may import it (`loadbalancing` wraps `otlp` exporters).
const WRAPS: &[(&str, &str)] = &[("exporters/loadbalancing", "exporters/otlp")];

/// Modules that must not import a component.
const NO_COMPONENTS: [&str; 8] = [
    "config",
    "storage",
    "pipeline",
    "otlp",
    "aws",
    "memory",
    "collector",
    "embed",
];

/// Every `.rs` file under `src`, as (module path, text): `pipeline/exporter/mod.rs` is
/// `pipeline::exporter`, `lib.rs` is the empty path.
fn read_tree(src: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            out.push((parts.join("::"), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The text without comments (line comments, doc comments, block comments).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            let end = r.find('\n').unwrap_or(r.len());
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("/*") {
            let end = r.find("*/").map_or(r.len(), |e| e + 2);
            rest = &r[end..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The text without its `#[cfg(test)]` items: unit tests may drive the whole collector.
fn strip_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The item ends at its `;` or at the brace closing its first `{`.
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths of a `use` tree starting at `s` (after `crate::`): `a::b::{c, d::e}` gives
/// `a::b::c` and `a::b::d::e`. Returns the paths and the bytes read.
fn use_tree(s: &str) -> (Vec<String>, usize) {
    let mut i = 0;
    let mut prefix = String::new();
    let bytes = s.as_bytes();
    loop {
        let start = i;
        while i < s.len() && is_ident(bytes[i] as char) {
            i += 1;
        }
        prefix.push_str(&s[start..i]);
        // `crate::{a, b}` has its group right after the `::` already read.
        let group_here = i == 0 && s.starts_with('{');
        if group_here || s[i..].starts_with("::") {
            if !group_here {
                i += 2;
            }
            if s[i..].starts_with('{') {
                i += 1;
                let mut paths = Vec::new();
                loop {
                    while i < s.len() && (bytes[i] as char).is_whitespace() {
                        i += 1;
                    }
                    if s[i..].starts_with('}') {
                        i += 1;
                        break;
                    }
                    if s[i..].starts_with(',') {
                        i += 1;
                        continue;
                    }
                    let (inner, read) = use_tree(&s[i..]);
                    if read == 0 {
                        // `*` or `self`: the prefix itself.
                        i += 1;
                        paths.push(prefix.clone());
                        continue;
                    }
                    paths.extend(inner.into_iter().map(|p| {
                        if prefix.is_empty() {
                            p
                        } else {
                            format!("{prefix}::{p}")
                        }
                    }));
                    i += read;
                }
                return (paths, i);
            }
            prefix.push_str("::");
            continue;
        }
        return (vec![prefix.trim_end_matches("::").to_owned()], i);
    }
}

/// Every path into the crate a file names, absolute (without `crate::`): `crate::a::b`,
/// `super::c` and `self::d` resolved against the file's module, and `m::x` where an earlier
/// import bound the module `m` (`use crate::exporters;` then `exporters::otlp::FACTORY`).
fn crate_paths(module: &str, text: &str, modules: &BTreeSet<&str>) -> Vec<String> {
    let text = strip_tests(&strip_comments(text));
    let here: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("self::", here.clone())] {
        out.extend(prefixed(&text, prefix, &base));
    }
    // `super::super::x`: each `super` climbs one module.
    let mut rest = text.as_str();
    while let Some(at) = rest.find("super::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            rest = &rest["super::".len()..];
            continue;
        }
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        let base = &here[..here.len().saturating_sub(up)];
        let (paths, read) = use_tree(rest);
        out.extend(paths.into_iter().map(|p| join(base, &p)));
        rest = &rest[read..];
    }
    // Modules bound by those imports, used by their last segment, and modules this file
    // declares (`components.rs` declares the kinds: `exporters::otlp::FACTORY`).
    let mut bound: BTreeMap<String, String> = out
        .iter()
        .filter(|p| modules.contains(p.as_str()) && !p.is_empty())
        .map(|p| (p.rsplit("::").next().unwrap_or(p).to_owned(), p.clone()))
        .collect();
    for name in prefixed_idents(&text, "mod ") {
        bound.insert(name.clone(), join(&here, &name));
    }
    for (name, path) in bound {
        let base: Vec<&str> = path.split("::").collect();
        out.extend(prefixed(&text, &format!("{name}::"), &base));
    }
    out.into_iter().map(canonical).collect()
}

/// The component folders are declared in `components.rs` (`crate::components::exporters`)
/// and live at `src/exporters/`: one module, named here as its folder is.
fn canonical(path: String) -> String {
    match path.strip_prefix("components::") {
        Some(rest) if KINDS.iter().any(|k| rest.split("::").next() == Some(k)) => rest.to_owned(),
        _ => path,
    }
}

/// The identifiers right after each `word` (`mod ` gives the modules a file declares).
fn prefixed_idents(text: &str, word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + word.len()..];
        if before.is_some_and(is_ident) {
            continue;
        }
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn join(base: &[&str], path: &str) -> String {
    base.iter()
        .copied()
        .chain(std::iter::once(path).filter(|p| !p.is_empty()))
        .collect::<Vec<_>>()
        .join("::")
}

/// The paths after each `prefix` (not itself the tail of a longer path), under `base`.
fn prefixed(text: &str, prefix: &str, base: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let (paths, read) = use_tree(rest);
        out.extend(
            paths
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(|p| join(base, &p)),
        );
        rest = &rest[read..];
    }
    out
}

/// `lib.rs`'s re-exports: `Name` -> the module that defines it.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in strip_comments(lib).lines() {
        let Some(path) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let (paths, _) = use_tree(path.trim_end_matches(';'));
        for p in paths {
            if let Some((module, name)) = p.rsplit_once("::") {
                out.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    out
}

/// The graph's node of a module: its component folder, or the module itself.
fn node(module: &str) -> String {
    let parts: Vec<&str> = module.split("::").collect();
    if parts.len() >= 2 && KINDS.contains(&parts[0]) {
        return format!("{}/{}", parts[0], parts[1]);
    }
    if module.is_empty() {
        "lib".to_owned()
    } else {
        module.to_owned()
    }
}

fn is_component(node: &str) -> bool {
    node.split_once('/')
        .is_some_and(|(kind, _)| KINDS.contains(&kind))
}

/// The import graph: node -> nodes it imports.
fn graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let lib = files
        .iter()
        .find(|(m, _)| m.is_empty())
        .map_or(String::new(), |(_, t)| t.clone());
    let aliases = reexports(&lib);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        let from = node(module);
        let targets = g.entry(from.clone()).or_default();
        // lib.rs declares and re-exports modules; that is not an import.
        if module.is_empty() {
            continue;
        }
        for path in crate_paths(module, text, &modules) {
            let first = path.split("::").next().unwrap_or("");
            let path = match aliases.get(first) {
                Some(m) => m.clone(),
                None => path,
            };
            // The longest prefix that is a module.
            let parts: Vec<&str> = path.split("::").collect();
            let target = (0..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|p| modules.contains(p.as_str()))
                .unwrap_or_default();
            let to = node(&target);
            if to != from {
                targets.insert(to);
            }
        }
    }
    g
}

/// Strongly connected components with more than one node (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        let edges: Vec<&'a str> =
            t.g.get(v)
                .map(|s| s.iter().map(String::as_str).collect())
                .unwrap_or_default();
        for w in edges {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                scc.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Every way the files break the rules.
fn problems(files: &[(String, String)]) -> Vec<String> {
    let g = graph(files);
    let mut out = Vec::new();
    for (from, targets) in &g {
        for to in targets.iter().filter(|t| is_component(t)) {
            let area = from.split("::").next().unwrap_or("");
            if NO_COMPONENTS.contains(&area) {
                out.push(format!("{from} imports the component {to}"));
            } else if is_component(from) && !WRAPS.contains(&(from.as_str(), to.as_str())) {
                out.push(format!("component {from} imports component {to}"));
            }
        }
    }
    for scc in circles(&g) {
        if scc.iter().any(|n| is_component(n)) {
            out.push(format!(
                "a circle crosses a component folder: {}",
                scc.join(", ")
            ));
        }
    }
    out
}

#[test]
fn the_crate_keeps_its_shape() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&src);
    assert!(files.len() > 50, "read {} files", files.len());
    let found = problems(&files);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The graph has what the rules are about: components, and imports of them.
    let g = graph(&files);
    assert!(g.keys().filter(|n| is_component(n)).count() >= 14, "{g:?}");
    assert!(g["components"].contains("exporters/otlp"));
    assert!(g["exporters/otlp"].contains("pipeline::exporter"));
}

/// The checker catches each kind of break (so the test above cannot pass by seeing
/// nothing).
#[test]
fn each_rule_is_enforced() {
    let tree = |files: &[(&str, &str)]| -> Vec<(String, String)> {
        files
            .iter()
            .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
            .collect()
    };
    let base = [
        (
            "",
            "pub use error::{Error, ErrorKind};\npub use collector::Collector;",
        ),
        ("error", ""),
        ("collector", "use crate::components::FACTORIES;"),
        (
            "components",
            "#[path = \"exporters\"]\npub(crate) mod exporters {\n    pub(crate) mod otlp;\n}\n\
             static FACTORIES: &[&Factory] = &[&exporters::otlp::FACTORY, &processors::batch::FACTORY];",
        ),
        ("config", ""),
        ("config::component", "use crate::Error;"),
        ("pipeline", ""),
        ("exporters", ""),
        (
            "exporters::otlp",
            "use crate::pipeline::Consumer; use crate::config::component::X;",
        ),
        ("exporters::otlp::grpc", "use super::config::Cfg;"),
        ("processors", ""),
        (
            "processors::batch",
            "use crate::{Error, pipeline::{Consumer, Refusal}};",
        ),
    ];
    assert_eq!(problems(&tree(&base)), Vec::<String>::new());
    let g = graph(&tree(&base));
    assert!(g["components"].contains("exporters/otlp"), "{g:?}");
    let with = |extra: (&'static str, &'static str)| {
        let mut files: Vec<(&str, &str)> = base.to_vec();
        files.retain(|(m, _)| *m != extra.0);
        files.push(extra);
        problems(&tree(&files))
    };
    // Through the declaring module's path.
    let p = with(("pipeline", "use crate::components::exporters::otlp::grpc;"));
    assert!(
        p.iter()
            .any(|p| p.contains("pipeline imports the component exporters/otlp")),
        "{p:?}"
    );
    // config names a component (in a grouped use, and in a comment, which does not count).
    let p = with((
        "config::component",
        "// crate::exporters::otlp in a comment\nuse crate::{Error, processors::batch::BatchConfig};",
    ));
    assert!(
        p.iter()
            .any(|p| p.contains("config::component imports the component processors/batch")),
        "{p:?}"
    );
    assert_eq!(p.len(), 1, "{p:?}");
    // One component into another.
    let p = with((
        "processors::batch",
        "use crate::exporters::otlp::grpc::Thing;",
    ));
    assert!(
        p.contains(&"component processors/batch imports component exporters/otlp".to_owned()),
        "{p:?}"
    );
    // A shared layer into a component, through lib.rs's re-export.
    let mut files = base.to_vec();
    files.push(("config::load", "fn f() -> crate::Collector { todo() }"));
    let g = graph(&tree(&files));
    assert!(g["config::load"].contains("collector"), "{g:?}");
    let p = with(("pipeline", "use crate::exporters::otlp;"));
    assert!(
        p.iter()
            .any(|p| p.contains("pipeline imports the component exporters/otlp")),
        "{p:?}"
    );
    // Through a module bound by an import, and through `super`.
    let p = with((
        "pipeline",
        "use crate::exporters;\nfn f() { exporters::otlp::FACTORY }",
    ));
    assert!(
        p.iter()
            .any(|p| p.contains("pipeline imports the component exporters/otlp")),
        "{p:?}"
    );
    let p = with(("processors::batch", "use super::super::exporters::otlp::X;"));
    assert!(
        p.contains(&"component processors/batch imports component exporters/otlp".to_owned()),
        "{p:?}"
    );
    // Unit tests may use anything.
    let p = with((
        "pipeline",
        "fn f() {}\n#[cfg(test)]\nmod tests { fn g() { let s = \"{}\"; } use crate::exporters::otlp; }",
    ));
    assert!(p.is_empty(), "{p:?}");
    // A circle through a component folder.
    let p = with(("error", "use crate::processors::batch::X;"));
    assert!(
        p.iter()
            .any(|p| p.starts_with("a circle crosses a component folder")
                && p.contains("processors/batch")
                && p.contains("error")),
        "{p:?}"
    );
}
