//! Validation: the result must generate code with the crate's own build
//! settings, or nothing is written.

use serde_json::Value;

use crate::RegenError;

/// The root build script, so that validation uses exactly the build's
/// generator settings; its `main` is unused here.
#[path = "../../build.rs"]
#[allow(dead_code, clippy::all, clippy::pedantic)]
mod build_script;

/// Runs progenitor over `doc` exactly as the build does; the error names the
/// first operation that fails (the build script finds it).
pub fn validate(doc: &Value) -> Result<(), RegenError> {
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
        .map_err(|e| RegenError::Invalid(format!("not a valid OpenAPI 3.0 document ({e})")))?;
    let tokens = build_script::generate_tokens(&spec).map_err(RegenError::Invalid)?;
    let text = tokens.to_string();
    syn::parse2::<syn::File>(tokens)
        .map_err(|e| RegenError::Invalid(format!("the generated code does not parse ({e})")))?;
    let violations = crate::rules::names_match_generated(doc, &text);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(RegenError::Rules(
            violations.iter().map(ToString::to_string).collect(),
        ))
    }
}

/// The generated Rust code, formatted (for tests that look at signatures).
pub fn generated_code(doc: &Value) -> Result<String, RegenError> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|e| RegenError::Invalid(e.to_string()))?;
    let tokens = build_script::generate_tokens(&spec).map_err(RegenError::Invalid)?;
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| RegenError::Invalid(e.to_string()))?;
    Ok(prettyplease::unparse(&file))
}
