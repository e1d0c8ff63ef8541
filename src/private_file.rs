//! Files only their owner may read, written so that they appear complete or
//! not at all: the client identifier and the device key live in them. Both
//! are made once per installation by [`load_or_create`].

use std::{
    fs::{self, File},
    io::{self, Read, Write},
    path::Path,
};

use zeroize::Zeroizing;

use crate::Error;

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

/// What a small text file holds, read with a bound.
#[derive(Debug)]
pub(crate) enum Contents {
    /// The text, wiped from memory when dropped: it may be a private key.
    Text(Zeroizing<String>),
    /// More than the bound: not what the caller keeps there, and not read
    /// into memory to find that out (nor cut to a valid-looking prefix).
    TooLarge,
    /// Not UTF-8.
    NotText,
}

/// Reads at most `max_len` bytes of `path`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read (`NotFound`
/// included), naming the path.
pub(crate) fn read(path: &Path, max_len: u64) -> Result<Contents, Error> {
    let mut text = Zeroizing::new(String::new());
    let read = File::open(path).and_then(|file| file.take(max_len + 1).read_to_string(&mut text));
    match read {
        Ok(length) if length as u64 > max_len => Ok(Contents::TooLarge),
        Ok(_) => Ok(Contents::Text(text)),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Ok(Contents::NotText),
        Err(source) => Err(Error::io(format!("cannot read {}", path.display()), source)),
    }
}

/// Loads what `path` holds, or makes it and writes it there, once per
/// installation. `create` returns the new value and its file contents.
///
/// When several processes race, exactly one file wins and all of them
/// return what it holds. A file that `load` refuses is left alone: it may
/// belong to something else.
///
/// # Errors
/// What `load` or `create` return, and [`Error::Io`] when the file cannot
/// be written.
pub(crate) fn load_or_create<T>(
    path: &Path,
    load: impl Fn(&Path) -> Result<T, Error>,
    create: impl FnOnce() -> Result<(T, Zeroizing<String>), Error>,
) -> Result<T, Error> {
    match load(path) {
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }
    let (value, contents) = create()?;
    match write(path, &contents, Existing::Keep) {
        Ok(()) => Ok(value),
        // Another process created it first: theirs is the one.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load(path),
        Err(source) => Err(Error::io(
            format!("cannot create {}", path.display()),
            source,
        )),
    }
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

    #[test]
    fn read_is_bounded_and_tells_text_from_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        fs::write(&path, "12345").unwrap();
        assert!(matches!(read(&path, 5).unwrap(), Contents::Text(t) if t.as_str() == "12345"));
        assert!(matches!(read(&path, 4).unwrap(), Contents::TooLarge));
        fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(read(&path, 5).unwrap(), Contents::NotText));
        let missing = read(&dir.path().join("missing"), 5).unwrap_err();
        assert!(
            matches!(missing, Error::Io { ref source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn load_or_create_creates_once_then_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("value");
        let load = |path: &Path| match read(path, 64)? {
            Contents::Text(text) => Ok(text.trim().to_owned()),
            _ => Err(Error::invalid_input("not a value")),
        };
        let made = load_or_create(&path, load, || {
            Ok(("one".into(), Zeroizing::new("one\n".into())))
        });
        assert_eq!(made.unwrap(), "one");
        let again = load_or_create(&path, load, || -> Result<(String, _), Error> {
            panic!("the file exists: nothing is created")
        });
        assert_eq!(again.unwrap(), "one");
        fs::write(&path, [0xff]).unwrap();
        let refused = load_or_create(&path, load, || {
            Ok(("two".into(), Zeroizing::new("two".into())))
        });
        assert!(matches!(refused, Err(Error::InvalidInput { .. })));
        assert_eq!(
            fs::read(&path).unwrap(),
            [0xff],
            "a refused file is left alone"
        );
    }
}
