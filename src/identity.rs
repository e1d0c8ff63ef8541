//! Who is calling plex.tv: the `X-Plex-*` identity headers.
//!
//! plex.tv lists every client identifier it sees as a device of the account
//! and e-mails the user about new ones, so the identifier must stay the same
//! across runs: use [`ClientIdentifier::load_or_create`].

use std::{fmt, path::Path, str::FromStr};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use zeroize::Zeroizing;

use crate::{
    private_file::{self, Contents},
    Error,
};

/// Longest identifier accepted; plex.tv's own are UUIDs (36 characters).
const MAX_IDENTIFIER_LEN: usize = 256;

/// Largest identifier file read; more is not an identifier.
const MAX_FILE_LEN: u64 = 4096;

/// A stable, unique id of this installation (`X-Plex-Client-Identifier`).
///
/// ```
/// use plex_tv::ClientIdentifier;
///
/// let random = ClientIdentifier::new_random();
/// assert_eq!(random.as_str().len(), 36);
///
/// let parsed: ClientIdentifier = "my-app-7f3c".parse()?;
/// assert_eq!(parsed.as_str(), "my-app-7f3c");
/// assert!("has spaces".parse::<ClientIdentifier>().is_err());
/// # Ok::<(), plex_tv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientIdentifier(String);

impl ClientIdentifier {
    /// A new random identifier (a UUID v4). Store it: a new identifier on
    /// every run shows up as a new device of the user's account.
    ///
    /// ```
    /// use plex_tv::ClientIdentifier;
    ///
    /// let id = ClientIdentifier::new_random();
    /// assert_ne!(id, ClientIdentifier::new_random());
    /// assert_eq!(id.as_str().len(), 36); // a UUID
    /// ```
    pub fn new_random() -> Self {
        ClientIdentifier(uuid::Uuid::new_v4().to_string())
    }

    /// Reads the identifier stored at `path`, or creates one there.
    ///
    /// The first call writes a new random identifier, atomically and
    /// readable by the owner only (mode 0600 on unix); every later call, in
    /// this process or another, returns the same one. When several processes
    /// race, exactly one file wins and all of them return its identifier.
    ///
    /// A file that exists but does not hold an identifier is left alone and
    /// reported as [`Error::InvalidInput`]: it may belong to something else.
    ///
    /// ```
    /// use plex_tv::ClientIdentifier;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("client-id");
    /// let first = ClientIdentifier::load_or_create(&path)?;
    /// let again = ClientIdentifier::load_or_create(&path)?;
    /// assert_eq!(first, again);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a file that does not hold an identifier (it
    /// is left alone), [`Error::Io`] when the file cannot be read or written.
    pub fn load_or_create(path: impl AsRef<Path>) -> Result<Self, Error> {
        private_file::load_or_create(path.as_ref(), Self::load, || {
            let identifier = Self::new_random();
            let contents = Zeroizing::new(format!("{}\n", identifier.0));
            Ok((identifier, contents))
        })
    }

    fn load(path: &Path) -> Result<Self, Error> {
        let refused = |what: &str| {
            Error::invalid_input(format!(
                "{} {what} a client identifier; delete it to create a new one",
                path.display()
            ))
        };
        match private_file::read(path, MAX_FILE_LEN)? {
            Contents::Text(text) => text.trim().parse().map_err(|_| refused("does not hold")),
            Contents::TooLarge => Err(refused("does not hold")),
            Contents::NotText => Err(refused("is not a text file holding")),
        }
    }

    /// The identifier's text.
    ///
    /// ```
    /// let id: plex_tv::ClientIdentifier = "my-app-7f3c".parse()?;
    /// assert_eq!(id.as_str(), "my-app-7f3c");
    /// assert_eq!(id.to_string(), "my-app-7f3c");
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClientIdentifier {
    type Err = Error;

    /// Accepts 1 to 256 visible ASCII characters.
    fn from_str(s: &str) -> Result<Self, Error> {
        let valid = !s.is_empty()
            && s.len() <= MAX_IDENTIFIER_LEN
            && s.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(ClientIdentifier(s.to_owned()))
        } else {
            Err(Error::invalid_input(format!(
                "a client identifier is 1 to {MAX_IDENTIFIER_LEN} visible ASCII characters without spaces; \
                 use ClientIdentifier::new_random() or load_or_create() to get one"
            )))
        }
    }
}

impl fmt::Display for ClientIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `X-Plex-*` values sent with every request.
///
/// The product name and client identifier are required; the platform
/// defaults to this operating system and the device name to the product.
///
/// ```
/// use plex_tv::{ClientIdentifier, ClientIdentity};
///
/// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
///     .version("1.2.0")
///     .device_name("Living room PC");
/// assert_eq!(identity.product(), "My App");
/// ```
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    product: String,
    client_identifier: ClientIdentifier,
    version: Option<String>,
    platform: Option<String>,
    platform_version: Option<String>,
    device: Option<String>,
    device_name: Option<String>,
    model: Option<String>,
    vendor: Option<String>,
    provides: Option<String>,
    language: Option<String>,
}

/// How one identity field is named: as a header, and in the hosted sign-in
/// page's `context[device][...]` (where the identifier has no place).
struct Field {
    header: &'static str,
    context: Option<&'static str>,
}

const fn field(header: &'static str, context: Option<&'static str>) -> Field {
    Field { header, context }
}

/// The one table of identity names, in the order headers are listed; the
/// values come from [`ClientIdentity::fields`], in the same order.
const FIELDS: [Field; 11] = [
    field("X-Plex-Product", Some("product")),
    field("X-Plex-Client-Identifier", None),
    field("X-Plex-Device-Name", Some("deviceName")),
    field("X-Plex-Version", Some("version")),
    field("X-Plex-Platform", Some("platform")),
    field("X-Plex-Platform-Version", Some("platformVersion")),
    field("X-Plex-Device", Some("device")),
    field("X-Plex-Model", Some("model")),
    field("X-Plex-Device-Vendor", Some("vendor")),
    field("X-Plex-Provides", Some("provides")),
    field("X-Plex-Language", Some("language")),
];

macro_rules! optional_fields {
    ($($(#[$doc:meta])* $field:ident),* $(,)?) => {
        impl ClientIdentity {
            $(
                $(#[$doc])*
                pub fn $field(mut self, value: impl Into<String>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*
        }
    };
}

optional_fields! {
    /// `X-Plex-Version`: your application's version.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .version("1.2.0");
    /// assert!(identity.headers().contains(&("X-Plex-Version", "1.2.0")));
    /// ```
    version,
    /// `X-Plex-Platform`: the OS or platform (`Linux`, `Windows`, `iOS`, `Web`).
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .platform("Web");
    /// assert!(identity.headers().contains(&("X-Plex-Platform", "Web")));
    /// ```
    platform,
    /// `X-Plex-Platform-Version`: the OS version.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .platform_version("14.4");
    /// assert!(identity.headers().contains(&("X-Plex-Platform-Version", "14.4")));
    /// ```
    platform_version,
    /// `X-Plex-Device`: the kind or model of device (`PC`, `iPhone3,2`).
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .device("PC");
    /// assert!(identity.headers().contains(&("X-Plex-Device", "PC")));
    /// ```
    device,
    /// `X-Plex-Device-Name`: the friendly name shown in the user's device list.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .device_name("Living room PC");
    /// assert!(identity.headers().contains(&("X-Plex-Device-Name", "Living room PC")));
    /// ```
    device_name,
    /// `X-Plex-Model`.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .model("NUC11");
    /// assert!(identity.headers().contains(&("X-Plex-Model", "NUC11")));
    /// ```
    model,
    /// `X-Plex-Device-Vendor`.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .vendor("Intel");
    /// assert!(identity.headers().contains(&("X-Plex-Device-Vendor", "Intel")));
    /// ```
    vendor,
    /// `X-Plex-Provides`: capabilities, for example `controller`.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .provides("controller");
    /// assert!(identity.headers().contains(&("X-Plex-Provides", "controller")));
    /// ```
    provides,
    /// `X-Plex-Language`: the UI language, for example `en`.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random())
    ///     .language("en");
    /// assert!(identity.headers().contains(&("X-Plex-Language", "en")));
    /// ```
    language,
}

impl ClientIdentity {
    /// An identity for `product` (shown in the user's device list) with the
    /// given identifier. The platform defaults to this OS.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("client-id");
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::load_or_create(path)?);
    /// assert!(identity.headers().contains(&("X-Plex-Device-Name", "My App")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(product: impl Into<String>, client_identifier: ClientIdentifier) -> Self {
        ClientIdentity {
            product: product.into(),
            client_identifier,
            version: None,
            platform: Some(os_platform().to_owned()),
            platform_version: None,
            device: None,
            device_name: None,
            model: None,
            vendor: None,
            provides: None,
            language: None,
        }
    }

    /// The product name (`X-Plex-Product`).
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random());
    /// assert_eq!(identity.product(), "My App");
    /// ```
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The client identifier (`X-Plex-Client-Identifier`).
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let id = ClientIdentifier::new_random();
    /// let identity = ClientIdentity::new("My App", id.clone());
    /// assert_eq!(identity.client_identifier(), &id);
    /// ```
    pub fn client_identifier(&self) -> &ClientIdentifier {
        &self.client_identifier
    }

    /// Every identity header with its value, in a stable order. The device
    /// name falls back to the product name.
    ///
    /// ```
    /// # use plex_tv::{ClientIdentifier, ClientIdentity};
    /// let identity = ClientIdentity::new("My App", "my-app-7f3c".parse()?).platform("Linux");
    /// for (name, value) in identity.headers() {
    ///     println!("{name}: {value}");
    /// }
    /// assert_eq!(
    ///     identity.headers()[..3],
    ///     [
    ///         ("X-Plex-Product", "My App"),
    ///         ("X-Plex-Client-Identifier", "my-app-7f3c"),
    ///         ("X-Plex-Device-Name", "My App"),
    ///     ]
    /// );
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn headers(&self) -> Vec<(&'static str, &str)> {
        self.fields()
            .filter_map(|(field, value)| Some((field.header, value?)))
            .collect()
    }

    /// The values the hosted sign-in page shows as `context[device][...]`.
    pub(crate) fn device_context(&self) -> Vec<(&'static str, &str)> {
        self.fields()
            .filter_map(|(field, value)| Some((field.context?, value?)))
            .collect()
    }

    /// Every field with its value (`None` when unset), in [`FIELDS`]' order.
    fn fields(&self) -> impl Iterator<Item = (&'static Field, Option<&str>)> {
        let values = [
            Some(self.product.as_str()),
            Some(self.client_identifier.as_str()),
            Some(self.device_name.as_deref().unwrap_or(&self.product)),
            self.version.as_deref(),
            self.platform.as_deref(),
            self.platform_version.as_deref(),
            self.device.as_deref(),
            self.model.as_deref(),
            self.vendor.as_deref(),
            self.provides.as_deref(),
            self.language.as_deref(),
        ];
        FIELDS.iter().zip(values)
    }

    /// The headers, checked once so that every request can reuse them.
    pub(crate) fn header_map(&self) -> Result<HeaderMap, Error> {
        if self.product.trim().is_empty() {
            return Err(Error::invalid_input(
                "the product name is empty; plex.tv shows it in the user's device list",
            ));
        }
        let mut map = HeaderMap::with_capacity(12);
        for (name, value) in self.headers() {
            // from_bytes keeps UTF-8 device names ("Küche") as plex.tv sees them.
            let header = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| {
                Error::invalid_input(format!(
                    "the {name} value contains a line break or control character"
                ))
            })?;
            // The names are the constants above, always valid.
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
            map.insert(name, header);
        }
        Ok(map)
    }
}

/// The platform name plex.tv expects for this OS.
fn os_platform() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        "ios" => "iOS",
        "android" => "Android",
        "freebsd" => "FreeBSD",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rejects_empty_long_and_control_characters() {
        assert!("".parse::<ClientIdentifier>().is_err());
        assert!("a\nb".parse::<ClientIdentifier>().is_err());
        assert!("x".repeat(257).parse::<ClientIdentifier>().is_err());
        assert!("x".repeat(256).parse::<ClientIdentifier>().is_ok());
    }

    #[test]
    fn header_map_has_every_value_and_accepts_utf8() {
        let identity = ClientIdentity::new("App", "id-1".parse().unwrap())
            .device_name("Küche")
            .language("de");
        let map = identity.header_map().unwrap();
        assert_eq!(map["x-plex-product"], "App");
        assert_eq!(map["x-plex-client-identifier"], "id-1");
        assert_eq!(map["x-plex-device-name"].as_bytes(), "Küche".as_bytes());
        assert_eq!(map["x-plex-language"], "de");
        assert!(map.contains_key("x-plex-platform"));
    }

    #[test]
    fn header_map_rejects_line_breaks_and_empty_product() {
        let id: ClientIdentifier = "id".parse().unwrap();
        assert!(ClientIdentity::new("App", id.clone())
            .version("1\r\nX: y")
            .header_map()
            .is_err());
        assert!(ClientIdentity::new(" ", id).header_map().is_err());
    }
}
