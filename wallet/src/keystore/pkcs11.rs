//! The PKCS#11 backend (smart cards, HSMs, SoftHSM2) through `cryptoki`: the ed25519 private
//! key is generated in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN) or imported into it, always
//! sensitive and non-extractable, and every signature is made inside the token with
//! CKM_EDDSA (pure Ed25519).
//!
//! The token is chosen by its library, and a slot number or token label; a key records the
//! token's label and serial number (slot numbers change between runs) and its CKA_ID. The PIN
//! is asked per signing session; a wrong PIN reports the token's retry state. The login state
//! is shared by every session of this process on a token (PKCS#11 logs in an application,
//! not a session), so it is counted here: the first session logs in, the last one logs out,
//! and a login already in place is recognised instead of failing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::{OsRng, RngCore as _};
use zeroize::Zeroize as _;

use super::mnemonic::SecretSeed;
use super::{BackendKind, Generated, KeyBackend, KeystoreError, Locator, Pin, SigningSession};

/// CKA_EC_PARAMS for Ed25519: the DER of OID 1.3.101.112 (RFC 8410).
pub const ED25519_PARAMS: [u8; 5] = [0x06, 0x03, 0x2B, 0x65, 0x70];

/// Which token, in which library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`, `opensc-pkcs11.so`, …).
    pub library: PathBuf,
    /// The slot number, when chosen by slot.
    pub slot: Option<u64>,
    /// The token's label, when chosen by label.
    pub token_label: Option<String>,
}

/// What a wrong PIN left of the token's tries, from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinRetry {
    /// The token reports nothing special: more tries remain.
    Tries,
    /// CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered; few tries remain.
    CountLow,
    /// CKF_USER_PIN_FINAL_TRY: the next wrong PIN locks the token.
    FinalTry,
    /// CKF_USER_PIN_LOCKED: the PIN is locked; only the security officer can unlock it.
    Locked,
}

impl PinRetry {
    /// From the token's user-PIN flags; the most severe wins.
    pub fn from_flags(count_low: bool, final_try: bool, locked: bool) -> PinRetry {
        if locked {
            PinRetry::Locked
        } else if final_try {
            PinRetry::FinalTry
        } else if count_low {
            PinRetry::CountLow
        } else {
            PinRetry::Tries
        }
    }

    fn of(info: &TokenInfo) -> PinRetry {
        PinRetry::from_flags(
            info.user_pin_count_low(),
            info.user_pin_final_try(),
            info.user_pin_locked(),
        )
    }

    /// In words, for the user.
    pub fn describe(self) -> &'static str {
        match self {
            PinRetry::Tries => "the token allows more tries",
            PinRetry::CountLow => "few tries remain",
            PinRetry::FinalTry => "one try remains: another wrong PIN locks the token",
            PinRetry::Locked => "the PIN is locked: the token's security officer must unlock it",
        }
    }
}

/// The error for a failed login: `rv` from C_Login, `retry` read from the token afterwards.
pub fn login_error(rv: RvError, retry: PinRetry) -> KeystoreError {
    match (rv, retry) {
        (RvError::PinLocked, _) | (_, PinRetry::Locked) if is_pin_failure(rv) => {
            KeystoreError::PinLocked
        }
        (RvError::PinIncorrect, retry) => KeystoreError::WrongPin { retry },
        (RvError::PinLenRange | RvError::PinInvalid, _) => KeystoreError::InvalidRequest(
            "the PIN has a length or characters the token refuses".into(),
        ),
        (RvError::PinExpired, _) => KeystoreError::Token(
            "the token's PIN has expired: change it with the token's own tool".into(),
        ),
        (RvError::TokenNotPresent | RvError::DeviceRemoved, _) => {
            KeystoreError::TokenNotFound("the token was removed".into())
        }
        (rv, _) => KeystoreError::Token(format!("login failed: {rv}")),
    }
}

fn is_pin_failure(rv: RvError) -> bool {
    matches!(rv, RvError::PinLocked | RvError::PinIncorrect)
}

/// The 32-byte public key from CKA_EC_POINT, in any of its three encodings: raw (PKCS#11 3.x
/// tokens), a DER OCTET STRING (`04 20 ‖ key`: SoftHSM, OpenSC) or a DER BIT STRING
/// (`03 21 00 ‖ key`).
pub fn decode_ec_point(bytes: &[u8]) -> Result<[u8; 32], KeystoreError> {
    let key = match bytes {
        key if key.len() == 32 => key,
        [0x04, 0x20, key @ ..] if key.len() == 32 => key,
        [0x03, 0x21, 0x00, key @ ..] if key.len() == 32 => key,
        _ => {
            return Err(KeystoreError::Token(format!(
                "the token's CKA_EC_POINT is not an Ed25519 point ({} bytes)",
                bytes.len()
            )))
        }
    };
    let mut out = [0u8; 32];
    out.copy_from_slice(key);
    Ok(out)
}

fn ck(what: &str) -> impl Fn(CkError) -> KeystoreError + '_ {
    move |e| match e {
        CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _) => {
            KeystoreError::TokenNotFound(format!("the token was removed ({what})"))
        }
        CkError::Pkcs11(RvError::UserNotLoggedIn, _) => KeystoreError::PinRequired,
        CkError::Pkcs11(RvError::PinLocked, _) => KeystoreError::PinLocked,
        other => KeystoreError::Token(format!("{what}: {other}")),
    }
}

/// A loaded PKCS#11 library, initialised once per process, with the login count per token.
struct Library {
    path: PathBuf,
    ctx: Pkcs11,
    logins: Mutex<HashMap<String, usize>>,
}

fn libraries() -> &'static Mutex<HashMap<PathBuf, Arc<Library>>> {
    static LIBRARIES: OnceLock<Mutex<HashMap<PathBuf, Arc<Library>>>> = OnceLock::new();
    LIBRARIES.get_or_init(Default::default)
}

fn library(path: &Path) -> Result<Arc<Library>, KeystoreError> {
    let mut libs = libraries()
        .lock()
        .map_err(|_| KeystoreError::Token("a PKCS#11 call panicked earlier".into()))?;
    if let Some(lib) = libs.get(path) {
        return Ok(lib.clone());
    }
    let ctx = Pkcs11::new(path).map_err(|e| {
        KeystoreError::TokenNotFound(format!(
            "cannot load the PKCS#11 library {}: {e}",
            path.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(KeystoreError::Token(format!(
                "initialising {}: {e}",
                path.display()
            )))
        }
    }
    let lib = Arc::new(Library {
        path: path.to_path_buf(),
        ctx,
        logins: Mutex::new(HashMap::new()),
    });
    libs.insert(path.to_path_buf(), lib.clone());
    Ok(lib)
}

/// A token found in a library.
struct Token {
    lib: Arc<Library>,
    slot: Slot,
    label: String,
    serial: String,
}

impl Token {
    /// Finds the one token that matches every given selector.
    fn find(
        lib: Arc<Library>,
        slot: Option<u64>,
        label: Option<&str>,
        serial: Option<&str>,
    ) -> Result<Token, KeystoreError> {
        let slots = lib
            .ctx
            .get_slots_with_token()
            .map_err(ck("listing the token slots"))?;
        let mut found = Vec::new();
        for s in slots {
            if slot.is_some_and(|want| want != s.id()) {
                continue;
            }
            let Ok(info) = lib.ctx.get_token_info(s) else {
                continue;
            };
            if label.is_some_and(|want| want != info.label())
                || serial.is_some_and(|want| want != info.serial_number())
            {
                continue;
            }
            found.push((s, info.label().to_owned(), info.serial_number().to_owned()));
        }
        let want = match (slot, label, serial) {
            (_, Some(l), Some(s)) => format!("token '{l}' (serial {s})"),
            (Some(n), Some(l), None) => format!("token '{l}' in slot {n}"),
            (Some(n), None, _) => format!("a token in slot {n}"),
            (None, Some(l), None) => format!("token '{l}'"),
            (None, None, _) => "a token".to_owned(),
        };
        match found.len() {
            0 => Err(KeystoreError::TokenNotFound(format!(
                "{want} is not present in {}: insert it or check the slot and label",
                lib.path.display()
            ))),
            1 => {
                let (slot, label, serial) = found.remove(0);
                Ok(Token {
                    lib,
                    slot,
                    label,
                    serial,
                })
            }
            n => Err(KeystoreError::InvalidRequest(format!(
                "{n} tokens match {want} in {}: choose one by slot or label",
                lib.path.display()
            ))),
        }
    }

    fn retry(&self) -> PinRetry {
        self.lib
            .ctx
            .get_token_info(self.slot)
            .map(|i| PinRetry::of(&i))
            .unwrap_or(PinRetry::Tries)
    }

    /// Opens a read-write session and logs it in with `pin`.
    fn login(&self, pin: Option<&Pin>) -> Result<LoggedIn, KeystoreError> {
        let pin = pin.ok_or(KeystoreError::PinRequired)?;
        if self.retry() == PinRetry::Locked {
            return Err(KeystoreError::PinLocked);
        }
        let session = self
            .lib
            .ctx
            .open_rw_session(self.slot)
            .map_err(ck("opening a session"))?;
        let mut logins = self
            .lib
            .logins
            .lock()
            .map_err(|_| KeystoreError::Token("a PKCS#11 call panicked earlier".into()))?;
        let count = logins.entry(self.serial.clone()).or_insert(0);
        let auth = AuthPin::from(pin.expose().to_owned());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) => {}
            // Logged in by a session of ours that is still open, or left logged in.
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                if *count == 0 {
                    // Not ours: check this PIN rather than trust a login we did not make.
                    let _ = session.logout();
                    session
                        .login(UserType::User, Some(&auth))
                        .map_err(|e| self.login_failure(e))?;
                }
            }
            Err(e) => return Err(self.login_failure(e)),
        }
        *count += 1;
        Ok(LoggedIn {
            session: Some(session),
            lib: self.lib.clone(),
            serial: self.serial.clone(),
        })
    }

    fn login_failure(&self, e: CkError) -> KeystoreError {
        match e {
            CkError::Pkcs11(rv, _) => login_error(rv, self.retry()),
            other => KeystoreError::Token(format!("login failed: {other}")),
        }
    }
}

/// A session logged in as the user; logs out when the last of this process's sessions on
/// the token ends.
struct LoggedIn {
    session: Option<Session>,
    lib: Arc<Library>,
    serial: String,
}

impl LoggedIn {
    fn session(&self) -> &Session {
        self.session.as_ref().expect("present until drop")
    }
}

impl Drop for LoggedIn {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        if let Ok(mut logins) = self.lib.logins.lock() {
            let count = logins.entry(self.serial.clone()).or_insert(1);
            *count = count.saturating_sub(1);
            if *count == 0 {
                let _ = session.logout();
            }
        }
        drop(session);
    }
}

fn new_object_id() -> Result<Vec<u8>, KeystoreError> {
    let mut id = vec![0u8; 16];
    OsRng
        .try_fill_bytes(&mut id)
        .map_err(|e| KeystoreError::Store(format!("the system's random source failed: {e}")))?;
    Ok(id)
}

fn find_one(
    session: &Session,
    class: ObjectClass,
    id: &[u8],
) -> Result<ObjectHandle, KeystoreError> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Id(id.to_vec()),
        ])
        .map_err(ck("finding the key"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(KeystoreError::NotFound(format!(
            "the key (CKA_ID {}) is not on the token",
            hex::encode(id)
        ))),
        _ => Err(KeystoreError::Token(format!(
            "several objects on the token have CKA_ID {}",
            hex::encode(id)
        ))),
    }
}

fn public_key_of(session: &Session, handle: ObjectHandle) -> Result<[u8; 32], KeystoreError> {
    let attrs = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(ck("reading the public key"))?;
    match attrs.as_slice() {
        [Attribute::EcPoint(point)] => decode_ec_point(point),
        _ => Err(KeystoreError::Token(
            "the token gave no CKA_EC_POINT".into(),
        )),
    }
}

/// Refuses a private key the token would let out.
fn check_protected(session: &Session, handle: ObjectHandle) -> Result<(), KeystoreError> {
    let attrs = session
        .get_attributes(
            handle,
            &[AttributeType::Sensitive, AttributeType::Extractable],
        )
        .map_err(ck("reading the key's attributes"))?;
    let mut sensitive = false;
    let mut extractable = true;
    for a in attrs {
        match a {
            Attribute::Sensitive(v) => sensitive = v,
            Attribute::Extractable(v) => extractable = v,
            _ => {}
        }
    }
    if sensitive && !extractable {
        Ok(())
    } else {
        Err(KeystoreError::Token(
            "the token did not make the key sensitive and non-extractable".into(),
        ))
    }
}

/// The PKCS#11 backend for one token.
pub struct Pkcs11Backend {
    token: Token,
}

impl std::fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("library", &self.token.lib.path)
            .field("token", &self.token.label)
            .field("serial", &self.token.serial)
            .finish()
    }
}

impl Pkcs11Backend {
    /// The token a new key goes to.
    pub fn open(config: &TokenConfig) -> Result<Pkcs11Backend, KeystoreError> {
        let lib = library(&config.library)?;
        let token = Token::find(lib, config.slot, config.token_label.as_deref(), None)?;
        Ok(Pkcs11Backend { token })
    }

    /// The token a key lives on.
    pub fn for_locator(locator: &Locator) -> Result<Pkcs11Backend, KeystoreError> {
        let Locator::Pkcs11 {
            library: path,
            token_label,
            token_serial,
            ..
        } = locator
        else {
            return Err(KeystoreError::InvalidRequest("not a PKCS#11 key".into()));
        };
        let lib = library(path)?;
        let token = Token::find(lib, None, Some(token_label), Some(token_serial))?;
        Ok(Pkcs11Backend { token })
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token.label
    }

    /// What a wrong PIN has left of the token's tries right now.
    pub fn pin_retry(&self) -> PinRetry {
        self.token.retry()
    }

    fn locator(&self, id: &[u8]) -> Locator {
        Locator::Pkcs11 {
            library: self.token.lib.path.clone(),
            token_label: self.token.label.clone(),
            token_serial: self.token.serial.clone(),
            object_id: hex::encode(id),
        }
    }

    fn common(id: &[u8], label: &str) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Id(id.to_vec()),
            Attribute::Label(format!("tradeseal:{label}").into_bytes()),
        ]
    }

    /// The private key's attributes; the curve and type come from the public template or,
    /// for an import, are added by the caller.
    fn private_template(id: &[u8], label: &str) -> Vec<Attribute> {
        let mut t = Self::common(id, label);
        t.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
        ]);
        t
    }

    fn public_template(id: &[u8], label: &str) -> Vec<Attribute> {
        let mut t = Self::common(id, label);
        t.extend([
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(ED25519_PARAMS.to_vec()),
        ]);
        t
    }

    fn object_id(locator: &Locator) -> Result<Vec<u8>, KeystoreError> {
        let Locator::Pkcs11 { object_id, .. } = locator else {
            return Err(KeystoreError::InvalidRequest("not a PKCS#11 key".into()));
        };
        hex::decode(object_id)
            .map_err(|_| KeystoreError::Database("a stored CKA_ID is not hex".into()))
    }
}

fn describe(token: &Token, generated: bool) -> String {
    let origin = if generated {
        "generated inside the token, never left it"
    } else {
        "imported into the token from backup words"
    };
    format!(
        "PKCS#11 token '{}' (serial {}): the private key is held by the token, sensitive and \
         non-extractable, {origin}; every signature is made inside it after the PIN is given",
        token.label, token.serial
    )
}

impl KeyBackend for Pkcs11Backend {
    fn kind(&self) -> BackendKind {
        BackendKind::Pkcs11
    }

    fn protection(&self) -> String {
        describe(&self.token, true)
    }

    fn generate(
        &self,
        _id: &str,
        label: &str,
        pin: Option<&Pin>,
    ) -> Result<Generated, KeystoreError> {
        let login = self.token.login(pin)?;
        let session = login.session();
        let id = new_object_id()?;
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &Self::public_template(&id, label),
                &Self::private_template(&id, label),
            )
            .map_err(ck("generating the key in the token"))?;
        let checked =
            check_protected(session, private).and_then(|()| public_key_of(session, public));
        let public_key = match checked {
            Ok(k) => k,
            Err(e) => {
                let _ = session.destroy_object(private);
                let _ = session.destroy_object(public);
                return Err(e);
            }
        };
        Ok(Generated {
            public_key,
            locator: self.locator(&id),
            backup: None,
            in_token: true,
        })
    }

    fn import(
        &self,
        _id: &str,
        label: &str,
        seed: &SecretSeed,
        pin: Option<&Pin>,
    ) -> Result<Locator, KeystoreError> {
        let login = self.token.login(pin)?;
        let session = login.session();
        let id = new_object_id()?;
        let public_key = seed.public_key();
        let mut private = Self::private_template(&id, label);
        private.push(Attribute::Class(ObjectClass::PRIVATE_KEY));
        private.push(Attribute::KeyType(KeyType::EC_EDWARDS));
        private.push(Attribute::EcParams(ED25519_PARAMS.to_vec()));
        private.push(Attribute::Value(seed.expose().to_vec()));
        let created = session.create_object(&private);
        for a in &mut private {
            if let Attribute::Value(v) = a {
                v.zeroize();
            }
        }
        let private = created.map_err(ck("importing the key into the token"))?;
        let mut public = Self::public_template(&id, label);
        public.push(Attribute::Class(ObjectClass::PUBLIC_KEY));
        public.push(Attribute::KeyType(KeyType::EC_EDWARDS));
        let mut point = vec![0x04, 0x20];
        point.extend_from_slice(&public_key);
        public.push(Attribute::EcPoint(point));
        let public = match session.create_object(&public) {
            Ok(p) => p,
            Err(e) => {
                let _ = session.destroy_object(private);
                return Err(ck("storing the public key in the token")(e));
            }
        };
        if let Err(e) = check_protected(session, private) {
            let _ = session.destroy_object(private);
            let _ = session.destroy_object(public);
            return Err(e);
        }
        Ok(self.locator(&id))
    }

    fn open_session(
        &self,
        locator: &Locator,
        public_key: &[u8; 32],
        pin: Option<&Pin>,
    ) -> Result<Box<dyn SigningSession>, KeystoreError> {
        let id = Self::object_id(locator)?;
        let login = self.token.login(pin)?;
        let session = login.session();
        let private = find_one(session, ObjectClass::PRIVATE_KEY, &id)?;
        let public = find_one(session, ObjectClass::PUBLIC_KEY, &id)?;
        if &public_key_of(session, public)? != public_key {
            return Err(KeystoreError::Token(
                "the token holds another key under this CKA_ID than the wallet recorded".into(),
            ));
        }
        let verifying = VerifyingKey::from_bytes(public_key).map_err(|_| {
            KeystoreError::Token("the token's public key is not a valid point".into())
        })?;
        Ok(Box::new(Pkcs11Session {
            login,
            private,
            verifying,
        }))
    }

    fn delete(&self, locator: &Locator, pin: Option<&Pin>) -> Result<(), KeystoreError> {
        let id = Self::object_id(locator)?;
        let login = self.token.login(pin)?;
        let session = login.session();
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            match find_one(session, class, &id) {
                Ok(h) => session
                    .destroy_object(h)
                    .map_err(ck("deleting the key from the token"))?,
                Err(KeystoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A logged-in session on the token with the key found.
struct Pkcs11Session {
    login: LoggedIn,
    private: ObjectHandle,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for Pkcs11Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Session")
            .field("serial", &self.login.serial)
            .field("public_key", &hex::encode(self.verifying.to_bytes()))
            .finish()
    }
}

impl SigningSession for Pkcs11Session {
    fn public_key(&self) -> [u8; 32] {
        self.verifying.to_bytes()
    }

    fn sign(&mut self, message: &[u8]) -> Result<[u8; 64], KeystoreError> {
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let bytes = self
            .login
            .session()
            .sign(&mechanism, self.private, message)
            .map_err(ck("signing in the token"))?;
        let signature: [u8; 64] = bytes.as_slice().try_into().map_err(|_| {
            KeystoreError::Token(format!("the token gave a {}-byte signature", bytes.len()))
        })?;
        // A token's signature is checked before anything relies on it.
        self.verifying
            .verify_strict(message, &Signature::from_bytes(&signature))
            .map_err(|_| KeystoreError::Token("the token's signature does not verify".into()))?;
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_in_its_three_encodings() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
        assert_eq!(decode_ec_point(&key).unwrap(), key);
        let mut octet = vec![0x04, 0x20];
        octet.extend_from_slice(&key);
        assert_eq!(decode_ec_point(&octet).unwrap(), key);
        let mut bits = vec![0x03, 0x21, 0x00];
        bits.extend_from_slice(&key);
        assert_eq!(decode_ec_point(&bits).unwrap(), key);
        // Wrong tags, lengths and unused-bit counts are refused.
        assert!(decode_ec_point(&key[..31]).is_err());
        assert!(decode_ec_point(&[&[0x04, 0x21][..], &key[..], &[0]].concat()).is_err());
        assert!(decode_ec_point(&[&[0x03, 0x21, 0x01][..], &key[..]].concat()).is_err());
        assert!(decode_ec_point(&[&[0x05, 0x20][..], &key[..]].concat()).is_err());
        assert!(decode_ec_point(&[]).is_err());
    }

    #[test]
    fn pin_flags_most_severe_wins() {
        assert_eq!(PinRetry::from_flags(false, false, false), PinRetry::Tries);
        assert_eq!(PinRetry::from_flags(true, false, false), PinRetry::CountLow);
        assert_eq!(PinRetry::from_flags(true, true, false), PinRetry::FinalTry);
        assert_eq!(PinRetry::from_flags(false, true, false), PinRetry::FinalTry);
        assert_eq!(PinRetry::from_flags(true, true, true), PinRetry::Locked);
        assert_eq!(PinRetry::from_flags(false, false, true), PinRetry::Locked);
    }

    #[test]
    fn a_wrong_pin_reports_the_retry_state() {
        for retry in [PinRetry::Tries, PinRetry::CountLow, PinRetry::FinalTry] {
            match login_error(RvError::PinIncorrect, retry) {
                KeystoreError::WrongPin { retry: r } => assert_eq!(r, retry),
                other => panic!("{other:?}"),
            }
        }
        let e = login_error(RvError::PinIncorrect, PinRetry::FinalTry);
        assert!(
            e.to_string().contains("another wrong PIN locks the token"),
            "{e}"
        );
        // The wrong PIN that used the final try: the token is now locked.
        assert!(matches!(
            login_error(RvError::PinIncorrect, PinRetry::Locked),
            KeystoreError::PinLocked
        ));
        assert!(matches!(
            login_error(RvError::PinLocked, PinRetry::Tries),
            KeystoreError::PinLocked
        ));
        assert!(matches!(
            login_error(RvError::TokenNotPresent, PinRetry::Tries),
            KeystoreError::TokenNotFound(_)
        ));
        assert!(matches!(
            login_error(RvError::PinLenRange, PinRetry::Tries),
            KeystoreError::InvalidRequest(_)
        ));
        assert_eq!(KeystoreError::PinLocked.kind(), "pin_locked");
        assert_eq!(
            KeystoreError::WrongPin {
                retry: PinRetry::CountLow
            }
            .kind(),
            "wrong_pin"
        );
    }
}
