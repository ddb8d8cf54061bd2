//! `tradeseal-cli keys`: the wallet's signing keys, headless, over the wallet's keystore (the
//! same service the app's Keys page uses). JSON on stdout; errors as
//! {"error": {"kind", "message"}} with exit 2. Secrets never pass on the command line: backup
//! words and PINs are read from stdin (or the PIN from `TRADESEAL_PIN`).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::output::{default_data_dir, print, runtime, BAD_INPUT};
use tradeseal_wallet::keystore::{
    BackendChoice, KeyInfo, Keystore, KeystoreError, Pin, TokenConfig,
};
use zeroize::Zeroizing;

/// The environment variable a PIN can come from instead of stdin.
pub const PIN_ENV: &str = "TRADESEAL_PIN";

/// Arguments of `keys`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the key metadata is kept (`keys.sqlite`; default: the user's data directory,
    /// `tradeseal-cli` in it). Secrets are never there: they are in the OS credential store
    /// or in a token.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// List the keys: {"keys": [{"label", "public_key", "backend", "origin", "development",
    /// "protection", "created_at", "token"}]}.
    List,
    /// Create a key. In the OS credential store (the default) it comes with 24 backup words,
    /// printed once as "backup_mnemonic": write them down, they are shown only now. In a
    /// PKCS#11 token the key is generated inside it and has no backup words; the token's PIN
    /// is read from TRADESEAL_PIN or the first line of stdin.
    ///
    /// Prints {"key": {...}, "backup_mnemonic": "words…" | null}.
    Create {
        /// The key's label (unique; 1 to 64 characters).
        #[arg(long, value_name = "L")]
        label: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Import a key from its BIP-39 backup words, read from stdin (first line); for a token,
    /// the PIN from TRADESEAL_PIN or the next line of stdin. Prints {"key": {...}}.
    Import {
        /// The key's label.
        #[arg(long, value_name = "L")]
        label: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Import the development keys (governance and issuers) of a devnet `dev-keys.json`,
    /// marked as development keys; keys already here are skipped. Prints {"keys": [...]}
    /// (those imported).
    ImportDev {
        /// The devnet's development key file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Put before each key's label in the file.
        #[arg(long, value_name = "P", default_value = "dev/")]
        prefix: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Rename a key. Prints {"key": {...}}.
    Rename {
        /// The key's label now.
        #[arg(long, value_name = "L")]
        label: String,
        /// Its new label.
        #[arg(long, value_name = "NEW")]
        to: String,
    },
    /// Delete a key and its secret (cannot be undone: without its backup words it is gone).
    /// Needs --yes; a token key needs the PIN (TRADESEAL_PIN or stdin). Prints
    /// {"deleted": {...}}.
    Delete {
        /// The key's label.
        #[arg(long, value_name = "L")]
        label: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Print a key's public key: {"label", "public_key" (hex), "public_key_base64",
    /// "algorithm": "ed25519"}.
    ExportPublic {
        /// The key's label.
        #[arg(long, value_name = "L")]
        label: String,
    },
}

/// Where a new key goes.
#[derive(Debug, clap::Args)]
struct BackendArgs {
    /// `keyring` (the OS credential store) or `pkcs11` (a token).
    #[arg(long, value_name = "B", default_value = "keyring")]
    backend: String,
    /// The token's PKCS#11 library (with --backend pkcs11).
    #[arg(long, value_name = "PATH")]
    pkcs11_lib: Option<PathBuf>,
    /// The token's slot number (with --backend pkcs11).
    #[arg(long, value_name = "N")]
    slot: Option<u64>,
    /// The token's label (with --backend pkcs11).
    #[arg(long, value_name = "T")]
    token_label: Option<String>,
}

impl BackendArgs {
    fn choice(&self) -> Result<BackendChoice, KeystoreError> {
        match self.backend.as_str() {
            "keyring" => {
                if self.pkcs11_lib.is_some() || self.slot.is_some() || self.token_label.is_some() {
                    return Err(KeystoreError::InvalidRequest(
                        "--pkcs11-lib, --slot and --token-label go with --backend pkcs11".into(),
                    ));
                }
                Ok(BackendChoice::Keyring)
            }
            "pkcs11" => {
                let library = self.pkcs11_lib.clone().ok_or_else(|| {
                    KeystoreError::InvalidRequest(
                        "--backend pkcs11 needs --pkcs11-lib (the token's PKCS#11 library)".into(),
                    )
                })?;
                Ok(BackendChoice::Pkcs11(TokenConfig {
                    library,
                    slot: self.slot,
                    token_label: self.token_label.clone(),
                }))
            }
            other => Err(KeystoreError::InvalidRequest(format!(
                "unknown backend '{other}': keyring or pkcs11"
            ))),
        }
    }
}

fn fail(e: &KeystoreError) -> ExitCode {
    let mut error = json!({"kind": e.kind(), "message": e.to_string()});
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    if let KeystoreError::WrongPin { retry } = e {
        error["pin_retry"] = json!(retry);
    }
    print(&json!({ "error": error }));
    eprintln!("error: {e}");
    ExitCode::from(BAD_INPUT)
}

fn key_json(k: &KeyInfo) -> Value {
    let token = match &k.locator {
        tradeseal_wallet::keystore::Locator::Pkcs11 {
            library,
            token_label,
            token_serial,
            ..
        } => json!({"library": library, "label": token_label, "serial": token_serial}),
        tradeseal_wallet::keystore::Locator::Keyring { .. } => Value::Null,
    };
    json!({
        "label": k.label,
        "public_key": k.public_key,
        "backend": k.backend.as_str(),
        "origin": k.origin.as_str(),
        "development": k.is_development(),
        "protection": k.protection,
        "created_at": k.created_at,
        "token": token,
    })
}

/// Stdin's lines, read once, kept in zeroized memory.
struct Stdin {
    text: Option<Zeroizing<String>>,
    next: usize,
}

impl Stdin {
    fn new() -> Stdin {
        Stdin {
            text: None,
            next: 0,
        }
    }

    fn line(&mut self, what: &str) -> Result<Zeroizing<String>, KeystoreError> {
        if self.text.is_none() {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| KeystoreError::InvalidRequest(format!("reading stdin: {e}")))?;
            self.text = Some(text);
        }
        let text = self.text.as_ref().expect("just read");
        let line = text.lines().nth(self.next).unwrap_or("").trim();
        self.next += 1;
        if line.is_empty() {
            return Err(KeystoreError::InvalidRequest(format!(
                "{what}: expected on stdin (one line)"
            )));
        }
        Ok(Zeroizing::new(line.to_owned()))
    }

    /// The PIN a token needs: TRADESEAL_PIN, else the next line of stdin.
    fn pin(&mut self, choice: &BackendChoice) -> Result<Option<Pin>, KeystoreError> {
        if matches!(choice, BackendChoice::Keyring) {
            return Ok(None);
        }
        if let Ok(pin) = std::env::var(PIN_ENV) {
            return Ok(Some(Pin::new(pin)));
        }
        Ok(Some(Pin::new(self.line("the token's PIN")?.to_string())))
    }
}

/// `keys …`.
pub fn run(args: &Args) -> ExitCode {
    let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    runtime().block_on(async {
        let keystore = match Keystore::open(&dir).await {
            Ok(k) => k,
            Err(e) => return fail(&e),
        };
        let result = command(&keystore, &args.command).await;
        keystore.close().await;
        drop(keystore);
        match result {
            Ok(v) => {
                print(&v);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        }
    })
}

async fn command(ks: &Keystore, command: &KeysCommand) -> Result<Value, KeystoreError> {
    let mut stdin = Stdin::new();
    match command {
        KeysCommand::List => {
            let keys = ks.list().await?;
            Ok(json!({"keys": keys.iter().map(key_json).collect::<Vec<_>>()}))
        }
        KeysCommand::Create { label, backend } => {
            let choice = backend.choice()?;
            let pin = stdin.pin(&choice)?;
            let created = ks.create(label, &choice, pin).await?;
            let mut out = json!({"key": key_json(&created.key), "backup_mnemonic": Value::Null});
            if let Some(backup) = &created.backup {
                out["backup_mnemonic"] = json!(backup.expose());
                out["backup_warning"] = json!(
                    "Write these words down now and keep them offline: they are the only copy of \
                     this key outside the credential store, and they are not shown again."
                );
            }
            Ok(out)
        }
        KeysCommand::Import { label, backend } => {
            let choice = backend.choice()?;
            let words = stdin.line("the backup words")?;
            let pin = stdin.pin(&choice)?;
            let key = ks.import_mnemonic(label, words, &choice, pin).await?;
            Ok(json!({"key": key_json(&key)}))
        }
        KeysCommand::ImportDev {
            file,
            prefix,
            backend,
        } => {
            let choice = backend.choice()?;
            let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
                KeystoreError::InvalidRequest(format!("cannot read {}: {e}", file.display()))
            })?);
            let pin = stdin.pin(&choice)?;
            let keys = ks.import_development(&text, prefix, &choice, pin).await?;
            Ok(json!({"keys": keys.iter().map(key_json).collect::<Vec<_>>()}))
        }
        KeysCommand::Rename { label, to } => {
            let key = ks.rename(label, to).await?;
            Ok(json!({"key": key_json(&key)}))
        }
        KeysCommand::Delete { label, yes } => {
            let key = ks.get(label).await?;
            let pin = if *yes && key.backend == tradeseal_wallet::keystore::BackendKind::Pkcs11 {
                match std::env::var(PIN_ENV) {
                    Ok(p) => Some(Pin::new(p)),
                    Err(_) => Some(Pin::new(stdin.line("the token's PIN")?.to_string())),
                }
            } else {
                None
            };
            let deleted = ks.delete(label, *yes, pin).await.map_err(|e| match e {
                KeystoreError::ConfirmationRequired(m) => {
                    KeystoreError::ConfirmationRequired(format!("{m} (--yes)"))
                }
                other => other,
            })?;
            Ok(json!({"deleted": key_json(&deleted)}))
        }
        KeysCommand::ExportPublic { label } => {
            let key = ks.get(label).await?;
            let raw = key.public_key_bytes()?;
            Ok(json!({
                "label": key.label,
                "algorithm": "ed25519",
                "public_key": key.public_key,
                "public_key_base64": base64::engine::general_purpose::STANDARD.encode(raw),
                "development": key.is_development(),
            }))
        }
    }
}
