//! Output: the committed format (JSON, two-space indent, keys sorted,
//! non-ASCII as is, final newline), written atomically, and diffs of it.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::RegenError;

/// serde_json's map is a BTreeMap here (no `preserve_order`), so keys come
/// out sorted and the same document always renders to the same bytes.
/// `{:#}` is serde_json's pretty printer (two-space indent), which cannot
/// fail on a `Value`: its keys are always strings.
pub fn render(doc: &Value) -> String {
    let mut text = format!("{doc:#}");
    text.push('\n');
    text
}

/// Writes through a temporary file in the same folder and renames it over
/// the target, so a failure leaves the old file untouched.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), RegenError> {
    let write_error = |reason: String| RegenError::Write {
        path: path.into(),
        reason,
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file =
        tempfile::NamedTempFile::new_in(folder).map_err(|e| write_error(e.to_string()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| write_error(e.to_string()))?;
    // The temporary file is private (0600); the spec keeps the mode it had,
    // or gets an ordinary readable one.
    if let Some(permissions) = permissions_for(path) {
        file.as_file()
            .set_permissions(permissions)
            .map_err(|e| write_error(e.to_string()))?;
    }
    file.as_file()
        .sync_all()
        .map_err(|e| write_error(e.to_string()))?;
    file.persist(path)
        .map_err(|e| write_error(e.error.to_string()))?;
    Ok(())
}

/// The existing file's permissions, else 0644 on unix (elsewhere the
/// temporary file's own are fine).
fn permissions_for(path: &Path) -> Option<std::fs::Permissions> {
    if let Ok(metadata) = std::fs::metadata(path) {
        return Some(metadata.permissions());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A unified diff from `old` to `new`.
pub fn diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{name} (committed)"),
            &format!("{name} (regenerated)"),
        )
        .to_string()
}
