//! Files only their owner may read, written so that they appear complete or
//! not at all: the client identifier and the device key live in them.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

/// Whether writing may replace a file already at the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Fail with `AlreadyExists`: the first of several racing writers wins.
    Keep,
    /// Replace it atomically.
    Replace,
}

/// Writes `contents` to `path` through a temporary file beside it (created
/// with mode 0600 on unix by tempfile), synced, then moved into place.
pub(crate) fn write(path: &Path, contents: &str, existing: Existing) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(contents.as_bytes())?;
    file.as_file().sync_all()?;
    match existing {
        Existing::Keep => file.persist_noclobber(path).map_err(|e| e.error)?,
        Existing::Replace => file.persist(path).map_err(|e| e.error)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_refuses_an_existing_file_and_replace_overwrites_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret");
        write(&path, "one", Existing::Keep).unwrap();
        let error = write(&path, "two", Existing::Keep).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&path).unwrap(), "one");
        write(&path, "three", Existing::Replace).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
