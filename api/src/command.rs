//! The command table: every command the UI may call, with its name, request and response.

use serde::{de::DeserializeOwned, Serialize};

use crate::{AppInfo, NodeStatus, Settings};

/// A command the UI sends to the backend.
///
/// Contract: the backend registers a Tauri command whose function name is [`Command::NAME`] and
/// which takes the request (if it is not `()`) as a parameter named `request`; it answers with
/// `Result<Self::Response, ApiError>`. [`COMMANDS`] lists every name, and the app's capability
/// file grants exactly those.
pub trait Command {
    /// The Tauri command name (snake_case).
    const NAME: &'static str;
    /// What the UI sends, under the argument key `request`.
    type Request: Serialize + DeserializeOwned;
    /// What the backend answers on success.
    type Response: Serialize + DeserializeOwned;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $ty:ident = $name:literal : $req:ty => $resp:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;

            impl Command for $ty {
                const NAME: &'static str = $name;
                type Request = $req;
                type Response = $resp;
            }
        )*

        /// The names of every command, in declaration order.
        pub const COMMANDS: &[&str] = &[$($name),*];
    };
}

commands! {
    /// The app's name, version and platform.
    AppInfoCmd = "app_info": () => AppInfo;
    /// The light node's state, for the status bar and the Network page.
    NodeStatusCmd = "node_status": () => NodeStatus;
    /// The user's settings as stored.
    SettingsGetCmd = "settings_get": () => Settings;
    /// Validate and store new settings; answers what was stored.
    SettingsSetCmd = "settings_set": Settings => Settings;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for name in COMMANDS {
            assert!(seen.insert(*name), "duplicate command {name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name} is not snake_case"
            );
        }
        assert_eq!(COMMANDS.len(), 4);
        assert_eq!(NodeStatusCmd::NAME, "node_status");
    }
}
