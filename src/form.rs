//! Request bodies that progenitor's form encoder cannot write by itself.

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// The body of `setWebhooks`: the complete list of webhook URLs, sent as
/// `urls[]=...&urls[]=...`.
///
/// ```
/// use plex_tv::WebhookUrls;
///
/// let urls = WebhookUrls::new(["https://example.com/a", "https://example.com/b"]);
/// assert_eq!(urls.urls().len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
pub struct WebhookUrls {
    #[serde(rename = "urls[]")]
    urls: Vec<String>,
}

impl WebhookUrls {
    /// The URLs, in order; an empty list removes every webhook.
    ///
    /// ```
    /// use plex_tv::{PlexTv, WebhookUrls};
    ///
    /// async fn replace_webhooks(client: &PlexTv) -> Result<(), plex_tv::Error> {
    ///     let urls = WebhookUrls::new(["https://example.com/plex-hook"]);
    ///     client.set_webhooks().body(urls).send().await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn new<I, S>(urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WebhookUrls {
            urls: urls.into_iter().map(Into::into).collect(),
        }
    }

    /// The URLs.
    ///
    /// ```
    /// let urls = plex_tv::WebhookUrls::new(["https://example.com/a"]);
    /// assert_eq!(urls.urls(), ["https://example.com/a"]);
    /// ```
    pub fn urls(&self) -> &[String] {
        &self.urls
    }
}

/// Collects URLs, for example from a configuration file's lines.
///
/// ```
/// use plex_tv::WebhookUrls;
///
/// let config = "https://example.com/a\nhttps://example.com/b\n";
/// let urls: WebhookUrls = config.lines().collect();
/// assert_eq!(urls.urls().len(), 2);
/// ```
impl<S: Into<String>> FromIterator<S> for WebhookUrls {
    fn from_iter<I: IntoIterator<Item = S>>(urls: I) -> Self {
        WebhookUrls::new(urls)
    }
}

/// Writes the form body plex.tv expects: `urls[]` repeated, in order.
///
/// ```
/// let urls = plex_tv::WebhookUrls::new(["https://a.example/x", "https://b.example/y"]);
/// assert_eq!(
///     serde_urlencoded::to_string(&urls)?,
///     "urls%5B%5D=https%3A%2F%2Fa.example%2Fx&urls%5B%5D=https%3A%2F%2Fb.example%2Fy"
/// );
/// # Ok::<(), serde_urlencoded::ser::Error>(())
/// ```
impl Serialize for WebhookUrls {
    /// A sequence of `("urls[]", url)` pairs: the one shape that
    /// serde_urlencoded writes as a repeated key.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.urls.len()))?;
        for url in &self.urls {
            seq.serialize_element(&("urls[]", url))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_repeated_keys() {
        let urls = WebhookUrls::new(["https://a.example/x?y=1", "b"]);
        assert_eq!(
            serde_urlencoded::to_string(&urls).unwrap(),
            "urls%5B%5D=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&urls%5B%5D=b"
        );
    }
}
