//! The layer order of `icc-node`, checked on its sources: a module may use only the layers
//! before it (see `src/lib.rs`), and the domain stays pure. A plain reading of `crate::`,
//! `super::` and external-crate paths in every file; no build of the crate is needed.
//!
//! `cargo test -p icc-node --test architecture -- --nocapture` also prints the module graph and
//! its cycles (strongly connected components), which must be none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, inside out. A module may use its own layer's code and any earlier layer; a
/// layer with several modules lists them together, and they may not use each other.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["store"],
    &["raft"],
    &["cluster"],
    &["security"],
    &["api"],
    &["leader", "http"],
    &["node"],
];

/// Crates the domain must not touch: it is pure (no storage, network, runtime or clock).
const IMPURE_FOR_DOMAIN: &[&str] = &[
    "rocksdb", "tonic", "openraft", "tokio", "hyper", "axum", "rand",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file under `dir`, with its module path below `src` (`["store", "incident"]` for
/// `store/incident/mod.rs`; `lib.rs` and `main.rs` are the root, an empty path).
fn sources(src: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).expect("read the source directory");
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("below src");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let file = parts.pop().unwrap_or_default();
                let stem = file.trim_end_matches(".rs");
                if !matches!(stem, "mod" | "lib" | "main") {
                    parts.push(stem.to_owned());
                }
                out.push((path.clone(), parts));
            }
        }
    }
    out.sort();
    out
}

/// The top-level modules a file's code refers to, through `crate::x` or `super::...` paths
/// that climb out of the file's own top-level module.
fn references(text: &str, module: &[String]) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let idents = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for item in group.split(',') {
                if let Some(first) = idents(item).first() {
                    found.insert(first.clone());
                }
            }
        } else if let Some(first) = idents(rest).first() {
            found.insert(first.clone());
        }
    }
    // `super::super::x` climbing above the file's top-level module names a root module.
    for (i, _) in code.match_indices("super::") {
        if code[..i].ends_with("super::") || code[..i].ends_with("::") {
            continue;
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups >= module.len()
            && !module.is_empty()
            && let Some(first) = idents(rest).first()
        {
            found.insert(first.clone());
        }
    }
    found
}

/// The module graph: top-level module -> the top-level modules it uses.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, module) in sources(src) {
        let Some(top) = module.first().cloned() else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read a source file");
        let uses = references(&text, &module);
        let entry = graph.entry(top.clone()).or_default();
        entry.extend(uses.into_iter().filter(|m| *m != top && m != "self"));
    }
    graph
}

/// Every use of a later layer (or of a sibling in the same layer), as `file: a -> b`.
fn violations(src: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (path, module) in sources(src) {
        let Some(top) = module.first() else { continue };
        let text = std::fs::read_to_string(&path).expect("read a source file");
        let Some(mine) = rank(top) else {
            out.push(format!("{}: module {top} is in no layer", path.display()));
            continue;
        };
        for used in references(&text, &module) {
            if used == *top {
                continue;
            }
            match rank(&used) {
                Some(theirs) if theirs < mine => {}
                Some(_) => out.push(format!("{}: {top} -> {used}", path.display())),
                None => {}
            }
        }
        if top == "domain" {
            for krate in IMPURE_FOR_DOMAIN {
                if text.contains(&format!("{krate}::")) {
                    out.push(format!(
                        "{}: domain -> {krate} (the domain is pure)",
                        path.display()
                    ));
                }
            }
        }
    }
    out
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit(s: &mut State<'_>, v: &str) {
        s.index.insert(v.to_owned(), s.next);
        s.low.insert(v.to_owned(), s.next);
        s.next += 1;
        s.stack.push(v.to_owned());
        s.on_stack.insert(v.to_owned());
        let succ: Vec<String> = s
            .graph
            .get(v)
            .map(|e| e.iter().cloned().collect())
            .unwrap_or_default();
        for w in succ {
            if !s.graph.contains_key(&w) {
                continue;
            }
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[&w].min(s.low[v]);
                s.low.insert(v.to_owned(), low);
            } else if s.on_stack.contains(&w) {
                let low = s.index[&w].min(s.low[v]);
                s.low.insert(v.to_owned(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_uses_only_the_layers_before_it() {
    let found = violations(&src());
    assert!(
        found.is_empty(),
        "imports against the layer order (domain <- store <- raft <- cluster <- security <- api <- leader, http <- node):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_module_graph_has_no_cycles() {
    let graph = graph(&src());
    for (module, uses) in &graph {
        let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
        println!("{module} -> {}", uses.join(", "));
    }
    let found = cycles(&graph);
    println!("cycles: {found:?}");
    assert!(found.is_empty(), "module cycles: {found:?}");
}

#[test]
fn the_checker_sees_an_upward_import_and_an_impure_domain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("domain")).expect("mkdir");
    std::fs::create_dir_all(src.join("store")).expect("mkdir");
    std::fs::write(
        src.join("domain/mod.rs"),
        "use crate::store::keys;\nfn f() { rocksdb::DB::open(); }\n",
    )
    .expect("write");
    std::fs::write(
        src.join("store/mod.rs"),
        "use crate::domain::{Op, Reply};\nuse super::super::api::x;\n",
    )
    .expect("write");
    let found = violations(src);
    assert!(
        found.iter().any(|v| v.ends_with("domain -> store")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|v| v.contains("domain -> rocksdb")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|v| v.ends_with("store -> api")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|v| v.ends_with("store -> domain")),
        "{found:?}"
    );
    let cyclic = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(cycles(&cyclic), vec![vec!["a".to_owned(), "b".to_owned()]]);
}
