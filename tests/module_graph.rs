//! The hand-written modules of `src/` use each other without a cycle: each
//! can be read, tested and changed knowing only the modules below it.
//!
//! A module is a top-level module of the crate with its submodules
//! (`pin` holds `src/pin.rs` and `src/pin/web.rs`). Module A uses module B
//! when A's code (tests aside) names a `crate::` path defined in B, directly
//! or through a re-export of the crate root. The generated code is one
//! module (`generated`) whose own references back (progenitor's inner type
//! and the replaced types) are part of how progenitor works and are not
//! counted: it is `include!`d, so they are not in `src/` to read.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use syn::visit::Visit;

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_modules_of_src_have_no_cycle() {
    let graph = module_graph(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path());
    // The reader sees the graph: these uses exist, so an empty or partial
    // reading fails here instead of passing.
    for (from, to) in [
        ("connect", "client"),
        ("connect", "error"),
        ("hooks", "transport"),
        ("classify", "transport"),
        ("pin", "client"),
    ] {
        assert!(
            graph.get(from).is_some_and(|uses| uses.contains(to)),
            "{from} should use {to}: {graph:#?}"
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules form a cycle: {}\nthe whole graph: {graph:#?}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .into_iter()
        .fold(Graph::new(), |mut graph, (from, to)| {
            graph.entry(from.into()).or_default().insert(to.into());
            graph
        });
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&acyclic), None);
}

/// Who uses whom among the modules under `src`.
fn module_graph(src: &Path) -> Graph {
    let root = syn::parse_file(&fs::read_to_string(src.join("lib.rs")).unwrap()).unwrap();
    let reexports = root_reexports(&root);
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap();
        let module = top_module(relative);
        if module == "lib" {
            continue;
        }
        let syntax = syn::parse_file(&fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut names = CratePaths::default();
        names.visit_file(&syntax);
        let uses = graph.entry(module.clone()).or_default();
        for name in names.found {
            let target = reexports.get(&name).cloned().unwrap_or(name);
            if target != module {
                uses.insert(target);
            }
        }
    }
    graph
}

/// `pub use module::{Name, Other as Alias}` of the crate root: which module
/// each root name comes from (`Error` from `error`).
fn root_reexports(root: &syn::File) -> BTreeMap<String, String> {
    fn walk(tree: &syn::UseTree, module: &str, out: &mut BTreeMap<String, String>) {
        match tree {
            syn::UseTree::Name(name) => {
                out.insert(name.ident.to_string(), module.to_owned());
            }
            syn::UseTree::Rename(rename) => {
                out.insert(rename.rename.to_string(), module.to_owned());
            }
            syn::UseTree::Group(group) => {
                group.items.iter().for_each(|item| walk(item, module, out));
            }
            syn::UseTree::Path(path) => walk(&path.tree, module, out),
            syn::UseTree::Glob(_) => {}
        }
    }
    let mut out = BTreeMap::new();
    for item in &root.items {
        if let syn::Item::Use(item) = item {
            if let syn::UseTree::Path(path) = &item.tree {
                walk(&path.tree, &path.ident.to_string(), &mut out);
            }
        }
    }
    out
}

/// The first name after `crate::` of every path in a file, tests aside:
/// in `use` trees, in code, and in macro input.
#[derive(Default)]
struct CratePaths {
    found: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for CratePaths {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        let is_test = module.attrs.iter().any(|attr| {
            attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Ident>()
                    .is_ok_and(|ident| ident == "test")
        });
        if !is_test {
            syn::visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(path) = &item.tree {
            if path.ident == "crate" {
                first_names(&path.tree, &mut self.found);
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next()) {
            if first.ident == "crate" {
                self.found.insert(second.ident.to_string());
            }
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let tokens: Vec<String> = mac.tokens.clone().into_iter().flat_map(flatten).collect();
        for window in tokens.windows(4) {
            if window[0] == "crate" && window[1] == ":" && window[2] == ":" {
                self.found.insert(window[3].clone());
            }
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// A token tree as the texts of its tokens, groups opened.
fn flatten(tree: proc_macro2::TokenTree) -> Vec<String> {
    match tree {
        proc_macro2::TokenTree::Group(group) => {
            group.stream().into_iter().flat_map(flatten).collect()
        }
        other => vec![other.to_string()],
    }
}

/// The first names of a `use crate::…` tree: `{a, b::c}` gives `a` and `b`.
fn first_names(tree: &syn::UseTree, out: &mut BTreeSet<String>) {
    match tree {
        syn::UseTree::Path(path) => {
            out.insert(path.ident.to_string());
        }
        syn::UseTree::Name(name) => {
            out.insert(name.ident.to_string());
        }
        syn::UseTree::Rename(rename) => {
            out.insert(rename.ident.to_string());
        }
        syn::UseTree::Group(group) => group.items.iter().for_each(|item| first_names(item, out)),
        syn::UseTree::Glob(_) => {}
    }
}

/// `pin.rs` and `pin/web.rs` are both `pin`.
fn top_module(relative: &Path) -> String {
    let first = relative.components().next().unwrap().as_os_str();
    Path::new(first)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A cycle of the graph as the modules along it, the first repeated at the
/// end; `None` when there is none.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}
