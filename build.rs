//! Generates the plex.tv client from `openapi/plex-tv.json` with progenitor.
//!
//! The generated code goes to `$OUT_DIR/plex_tv_generated.rs` and is included by
//! `src/generated.rs`. It is never edited by hand: fix the spec instead.
//!
//! Beside it, `$OUT_DIR/plex_tv_spec.rs` (included by `src/spec.rs`) lists
//! every operation with its method, path and server, so that the client
//! sends each operation to its own host; and `$OUT_DIR/plex_tv_types.rs`
//! holds a macro naming every generated type, for the tests; and
//! `$OUT_DIR/plex_tv_xml.rs` (included by `src/xml/schema.rs`) tells the XML
//! decoder, for each operation the spec marks `x-plex-xml`, which
//! attributes of which elements are integers, numbers or booleans and
//! which child elements repeat.

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
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let out_dir = out.parent().expect("a file in OUT_DIR");
    write(&out_dir.join("plex_tv_spec.rs"), &operation_table(&spec)?)?;
    write(&out_dir.join("plex_tv_types.rs"), &type_macro(&spec))?;
    let document: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    write(&out_dir.join("plex_tv_xml.rs"), &xml::table(&document)?)
}

mod xml {
    //! The XML decoding table: the schemas reachable from the success body of
    //! every operation marked `x-plex-xml` (the root element's name), each
    //! with its attributes' kinds and its child elements.

    use serde_json::Value;

    const PREFIX: &str = "#/components/schemas/";

    pub fn table(spec: &Value) -> Result<String, String> {
        let mut schemas: Vec<String> = Vec::new();
        let mut operations = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(root) = op.get("x-plex-xml") else {
                    continue;
                };
                let root = root.as_str().ok_or_else(|| {
                    format!("{method} {path}: x-plex-xml must name the root element")
                })?;
                let id = op["operationId"].as_str().unwrap_or_default();
                let body = op
                    .pointer("/responses/200/content/application~1json/schema")
                    .and_then(|schema| schema.get("$ref"))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(PREFIX))
                    .ok_or_else(|| {
                        format!("{id}: an x-plex-xml operation needs a 200 application/json $ref")
                    })?;
                let index = intern(&mut schemas, body);
                let name = heck::ToSnakeCase::to_snake_case(id);
                operations.push(format!(
                    "    XmlOperation {{ name: {name:?}, root: {root:?}, schema: {index} }},\n"
                ));
            }
        }
        operations.sort();
        let mut rows = Vec::new();
        let mut next = 0;
        while next < schemas.len() {
            let name = schemas[next].clone();
            rows.push(schema_row(spec, &name, &mut schemas)?);
            next += 1;
        }
        Ok(format!(
            "/// Every schema an XML answer decodes into, by index.\n\
             pub(crate) static XML_SCHEMAS: &[XmlSchema] = &[\n{}];\n\n\
             /// Every operation whose answer is XML, sorted by method name.\n\
             pub(crate) static XML_OPERATIONS: &[XmlOperation] = &[\n{}];\n",
            rows.concat(),
            operations.concat()
        ))
    }

    fn intern(schemas: &mut Vec<String>, name: &str) -> usize {
        match schemas.iter().position(|s| s == name) {
            Some(index) => index,
            None => {
                schemas.push(name.to_owned());
                schemas.len() - 1
            }
        }
    }

    fn named<'a>(spec: &'a Value, name: &str) -> Result<&'a Value, String> {
        spec.pointer(&format!("/components/schemas/{name}"))
            .ok_or_else(|| format!("schema {name} does not exist"))
    }

    /// The schema name a `$ref` (or a one-entry `allOf`) names.
    fn reference(schema: &Value) -> Option<&str> {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            return target.strip_prefix(PREFIX);
        }
        match schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([only]) => reference(only),
            _ => None,
        }
    }

    fn kind(schema: &Value) -> &'static str {
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => "Kind::Integer",
            Some("number") => "Kind::Number",
            Some("boolean") => "Kind::Boolean",
            _ => "Kind::String",
        }
    }

    fn schema_row(spec: &Value, name: &str, schemas: &mut Vec<String>) -> Result<String, String> {
        let schema = named(spec, name)?;
        let mut attributes = Vec::new();
        let mut children = Vec::new();
        for (property, definition) in schema["properties"].as_object().into_iter().flatten() {
            let (target, list) = match definition.get("type").and_then(Value::as_str) {
                Some("array") => (&definition["items"], true),
                _ => (definition, false),
            };
            match reference(target) {
                Some(child) if named(spec, child)?.get("properties").is_some() => {
                    let index = intern(schemas, child);
                    children.push(format!("({property:?}, {index}, {list})"));
                }
                Some(scalar) => {
                    attributes.push(format!("({property:?}, {})", kind(named(spec, scalar)?)))
                }
                None => attributes.push(format!("({property:?}, {})", kind(target))),
            }
        }
        Ok(format!(
            "    XmlSchema {{ name: {name:?}, attributes: &[{}], children: &[{}] }},\n",
            attributes.join(", "),
            children.join(", ")
        ))
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The server an operation is sent to: its own, its path's, or the
/// document's first.
fn server_of<'a>(
    spec: &'a openapiv3::OpenAPI,
    item: &'a openapiv3::PathItem,
    operation: &'a openapiv3::Operation,
) -> Option<&'a str> {
    [&operation.servers, &item.servers, &spec.servers]
        .into_iter()
        .find_map(|servers| servers.first())
        .map(|server| server.url.trim_end_matches('/'))
}

/// `OPERATIONS` (every operation, sorted by method name) and `DEFAULT_SERVER`, as
/// Rust source for `src/spec.rs`.
fn operation_table(spec: &openapiv3::OpenAPI) -> Result<String, String> {
    let default = spec
        .servers
        .first()
        .map(|server| server.url.trim_end_matches('/'))
        .ok_or("the document names no server")?;
    let mut rows = Vec::new();
    for (path, method, operation) in spec.operations() {
        let Some(openapiv3::ReferenceOr::Item(item)) = spec.paths.paths.get(path) else {
            continue;
        };
        let id = operation.operation_id.as_deref().unwrap_or_default();
        let server = server_of(spec, item, operation).unwrap_or(default);
        // progenitor's method name, which the hooks see as the operation id.
        let name = heck::ToSnakeCase::to_snake_case(id);
        let row = format!(
            "    Operation {{ name: {name:?}, id: {id:?}, method: {:?}, path: {path:?}, server: {server:?} }},\n",
            method.to_uppercase()
        );
        rows.push((name, row));
    }
    rows.sort();
    // Every request looks its operation up by name: a match, which the
    // compiler turns into a switch on the length before comparing bytes.
    let arms: String = rows
        .iter()
        .enumerate()
        .map(|(index, (name, _))| format!("        {name:?} => Some({index}),\n"))
        .collect();
    Ok(format!(
        "/// The server of every operation that names none itself.\n\
         pub const DEFAULT_SERVER: &str = {default:?};\n\n\
         /// Every operation of the spec, sorted by id.\n\
         pub static OPERATIONS: &[Operation] = &[\n{}];\n\n\
         /// Where the operation whose method is `name` is in [`OPERATIONS`].\n\
         pub(crate) fn position_named(name: &str) -> Option<usize> {{\n    match name {{\n{arms}        _ => None,\n    }}\n}}\n",
        rows.iter().map(|(_, row)| row.as_str()).collect::<String>()
    ))
}

/// `for_each_type!(callback)` calls `callback! { Name, ... }` with every
/// component schema that becomes a generated type (replaced ones are
/// hand-written, see `settings`).
fn type_macro(spec: &openapiv3::OpenAPI) -> String {
    let replaced = REPLACED.map(|(schema, _)| schema);
    let names: Vec<&str> = spec
        .components
        .iter()
        .flat_map(|components| components.schemas.keys())
        .map(String::as_str)
        .filter(|name| !replaced.contains(name))
        .collect();
    format!(
        "/// Calls `$callback! {{ Type, ... }}` with every generated type.\n\
         #[allow(unused_macros)]\n\
         macro_rules! for_each_type {{\n    ($callback:ident) => {{\n        $callback! {{ {} }}\n    }};\n}}\n",
        names.join(", ")
    )
}

/// The settings the crate depends on: builder methods, hooks for the
/// hand-written layer, and the types that the hand-written layer supplies.
fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote_path("crate::hooks::Shared"))
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    for (schema, rust_type) in REPLACED {
        settings.with_replacement(schema, rust_type, std::iter::empty::<TypeImpl>());
    }
    settings
}

/// Component schemas whose Rust type is hand-written.
const REPLACED: [(&str, &str); 3] = [
    // Tokens decode into `Token`, whose Debug and Display never show them.
    ("AuthToken", "crate::Token"),
    // serde_urlencoded cannot write `urls[]=a&urls[]=b` from a struct.
    ("WebhooksForm", "crate::WebhookUrls"),
    // typify names both `guid` and `Guid` (external ids) `guid`.
    ("DiscoverItem", "crate::DiscoverItem"),
];

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
