//! Helpers over the generated types whose JSON comes in more than one shape.
//!
//! plex.tv's answer to some requests is not settled (clients report more
//! than one shape), so the spec accepts each shape seen and these give one
//! way to read them.

use crate::types::{Device, Devices, FeatureFlag, HomeUser, HomeUsersResponse};

impl HomeUsersResponse {
    /// The users, whichever shape plex.tv answered with.
    ///
    /// ```
    /// use plex_tv::types::HomeUsersResponse;
    ///
    /// let bare: HomeUsersResponse = serde_json::from_str(r#"[{"id": 1}]"#)?;
    /// let wrapped: HomeUsersResponse = serde_json::from_str(r#"{"id": 9, "users": [{"id": 1}]}"#)?;
    /// assert_eq!(bare.users()[0].id, 1);
    /// assert_eq!(wrapped.users()[0].id, 1);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn users(&self) -> &[HomeUser] {
        match self {
            HomeUsersResponse::Array(users) => users,
            HomeUsersResponse::HomeUsers(home) => home.users.as_deref().unwrap_or_default(),
        }
    }
}

impl FeatureFlag {
    /// The flag's name: the bare string, or the object's `id`.
    ///
    /// ```
    /// use plex_tv::types::FeatureFlag;
    ///
    /// let flags: Vec<FeatureFlag> = serde_json::from_str(r#"["webhooks", {"id": "sync"}]"#)?;
    /// let names: Vec<_> = flags.iter().filter_map(FeatureFlag::name).collect();
    /// assert_eq!(names, ["webhooks", "sync"]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            FeatureFlag::String(name) => Some(name),
            FeatureFlag::Feature(feature) => feature.id.as_deref(),
        }
    }
}

impl Devices {
    /// The devices, whichever shape plex.tv answered with.
    ///
    /// ```
    /// use plex_tv::types::Devices;
    ///
    /// let bare: Devices = serde_json::from_str(r#"[{"id": 1, "name": "TV"}]"#)?;
    /// let wrapped: Devices = serde_json::from_str(r#"{"devices": [{"id": 1}]}"#)?;
    /// assert_eq!(bare.devices()[0].id, Some(1));
    /// assert_eq!(wrapped.devices()[0].id, Some(1));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn devices(&self) -> &[Device] {
        match self {
            Devices::Array(devices) => devices,
            Devices::DeviceList(list) => list.devices.as_deref().unwrap_or_default(),
        }
    }
}
