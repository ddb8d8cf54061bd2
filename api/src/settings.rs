//! User settings: language and theme (nodes, checkpoint and trusting period join them with the
//! light node).

use serde::{Deserialize, Serialize};

/// Interface language. Arabic is laid out right to left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
    Ar,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Ar];

    /// BCP 47 tag, for the `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Ar => "ar",
        }
    }

    /// The language's own name for itself.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Fr => "Français",
            Language::Ar => "العربية",
        }
    }

    pub fn is_rtl(self) -> bool {
        matches!(self, Language::Ar)
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

/// Colour theme; `System` follows the operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Everything the Settings page edits. Unknown fields in a stored file are ignored and missing
/// ones take their defaults, so an older or newer file still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub language: Language,
    pub theme: Theme,
    /// Offline verdicts from local knowledge older than this many hours carry a loud warning
    /// (past the chain's trusting period they are not given at all).
    pub offline_warn_after_hours: u32,
}

/// The default of [`Settings::offline_warn_after_hours`]: one day.
pub const DEFAULT_OFFLINE_WARN_AFTER_HOURS: u32 = 24;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            language: Language::default(),
            theme: Theme::default(),
            offline_warn_after_hours: DEFAULT_OFFLINE_WARN_AFTER_HOURS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        let s = Settings {
            language: Language::Ar,
            theme: Theme::Dark,
            offline_warn_after_hours: 48,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"language":"ar","theme":"dark","offline_warn_after_hours":48}"#
        );
    }

    #[test]
    fn missing_and_unknown_fields_load() {
        let s: Settings = serde_json::from_str(r#"{"theme":"light","future":1}"#).unwrap();
        assert_eq!(s.theme, Theme::Light);
        assert_eq!(s.offline_warn_after_hours, DEFAULT_OFFLINE_WARN_AFTER_HOURS);
        assert_eq!(s.language, Language::En);
    }

    #[test]
    fn only_arabic_is_rtl() {
        assert!(Language::Ar.is_rtl());
        assert!(!Language::En.is_rtl() && !Language::Fr.is_rtl());
        for l in Language::ALL {
            assert_eq!(Language::from_tag(l.tag()), Some(l));
        }
        for t in Theme::ALL {
            assert_eq!(Theme::parse(t.as_str()), Some(t));
        }
    }
}
