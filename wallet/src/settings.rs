//! User settings, kept in one JSON file and replaced atomically so a crash never leaves a
//! half-written file.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
};

use tradeseal_api::Settings;

use crate::WalletError;

/// Settings in memory, backed by a file.
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    current: Mutex<Settings>,
}

impl SettingsStore {
    /// Load settings from `path`. A missing file gives the defaults; an unreadable or corrupt
    /// one also gives the defaults but is kept aside as `<name>.corrupt` rather than lost.
    pub fn open(path: PathBuf) -> Self {
        let current = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                let _ = std::fs::rename(&path, path.with_extension("json.corrupt"));
                Settings::default()
            }),
            Err(_) => Settings::default(),
        };
        Self {
            path,
            current: Mutex::new(current),
        }
    }

    pub fn get(&self) -> Settings {
        self.lock().clone()
    }

    /// Store new settings. On error nothing changes, in memory or on disk.
    pub fn set(&self, new: Settings) -> Result<Settings, WalletError> {
        let mut current = self.lock();
        write_atomically(&self.path, &new).map_err(|e| {
            WalletError::Storage(format!(
                "could not save settings to {}: {e}",
                self.path.display()
            ))
        })?;
        *current = new.clone();
        Ok(new)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Settings> {
        // A panic while holding the lock cannot leave `Settings` half-updated (it is replaced
        // whole), so a poisoned lock is safe to use.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_atomically(path: &Path, settings: &Settings) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    write_file_atomically(path, &bytes)
}

/// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`:
/// readers see the old content or the new, never a mix.
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use tradeseal_api::{Language, Theme};

    use super::*;

    #[test]
    fn defaults_when_missing_then_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let store = SettingsStore::open(path.clone());
        assert_eq!(store.get(), Settings::default());

        let wanted = Settings {
            language: Language::Fr,
            theme: Theme::Dark,
            offline_warn_after_hours: 6,
        };
        assert_eq!(store.set(wanted.clone()).unwrap(), wanted);
        assert_eq!(SettingsStore::open(path).get(), wanted);
    }

    #[test]
    fn corrupt_file_is_kept_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{not json").unwrap();
        let store = SettingsStore::open(path);
        assert_eq!(store.get(), Settings::default());
        let kept = std::fs::read(dir.path().join("settings.json.corrupt")).unwrap();
        assert_eq!(kept, b"{not json");
    }

    #[test]
    fn failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // A path inside a directory that does not exist cannot be written.
        let store = SettingsStore::open(dir.path().join("missing").join("settings.json"));
        let err = store
            .set(Settings {
                language: Language::Ar,
                theme: Theme::Light,
                ..Settings::default()
            })
            .unwrap_err();
        assert!(matches!(err, WalletError::Storage(_)), "{err}");
        assert_eq!(store.get(), Settings::default());
    }
}
