//! Generates the plex.tv client from `openapi/plex-tv.json` with progenitor.
//!
//! The generated code goes to `$OUT_DIR/plex_tv_generated.rs` and is included by
//! `src/generated.rs`. It is never edited by hand: fix the spec instead.

use std::{env, fs, panic, path::Path};

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

const SPEC: &str = "openapi/plex-tv.json";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(message) = generate() {
        // A readable failure instead of progenitor's bare panic or error.
        eprintln!("error: cannot generate the plex.tv client from {SPEC}: {message}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let text = fs::read_to_string(SPEC).map_err(|e| format!("cannot read it: {e}"))?;
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(&text).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let tokens = generate_tokens(&spec)?;
    let file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let out =
        Path::new(&env::var("OUT_DIR").map_err(|e| e.to_string())?).join("plex_tv_generated.rs");
    fs::write(&out, prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// The settings the crate depends on: builder methods, hooks for the
/// hand-written layer, and the types that the hand-written layer supplies.
fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote_path("crate::client::Shared"))
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        // Tokens decode into `Token`, whose Debug and Display never show them.
        .with_replacement("AuthToken", "crate::Token", std::iter::empty::<TypeImpl>())
        // serde_urlencoded cannot write `urls[]=a&urls[]=b` from a struct.
        .with_replacement(
            "WebhooksForm",
            "crate::WebhookUrls",
            std::iter::empty::<TypeImpl>(),
        );
    settings
}

fn quote_path(path: &str) -> proc_macro2::TokenStream {
    path.parse().expect("a valid Rust path")
}

/// Runs progenitor, turning its panics and errors into a message that names
/// the operation it fails on. `cargo xtask regen` validates specs with it.
pub(crate) fn generate_tokens(
    spec: &openapiv3::OpenAPI,
) -> Result<proc_macro2::TokenStream, String> {
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(|| Generator::new(&settings()).generate_tokens(spec));
    panic::set_hook(previous_hook);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(format!(
            "progenitor rejected it ({error}); {}",
            locate_failure(spec)
        )),
        Err(payload) => {
            let reason = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown reason".into());
            Err(format!(
                "progenitor panicked ({reason}); {}",
                locate_failure(spec)
            ))
        }
    }
}

/// Finds the first operation that progenitor cannot handle by generating
/// each one on its own.
fn locate_failure(spec: &openapiv3::OpenAPI) -> String {
    for (path, method, operation) in spec.operations() {
        let mut single = spec.clone();
        single.paths.paths.retain(|p, _| p == path);
        if let Some(openapiv3::ReferenceOr::Item(item)) = single.paths.paths.get_mut(path) {
            for (m, slot) in item_slots(item) {
                if m != method {
                    *slot = None;
                }
            }
        }
        let failed = panic::catch_unwind(|| Generator::new(&settings()).generate_tokens(&single))
            .map(|r| r.is_err())
            .unwrap_or(true);
        if failed {
            let id = operation
                .operation_id
                .as_deref()
                .unwrap_or("(no operationId)");
            return format!(
                "the first operation it fails on is {id} ({} {path})",
                method.to_uppercase()
            );
        }
    }
    "no single operation fails on its own; check the shared component schemas".into()
}

fn item_slots(
    item: &mut openapiv3::PathItem,
) -> [(&'static str, &mut Option<openapiv3::Operation>); 8] {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
}
