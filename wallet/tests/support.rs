//! What the wallet's devnet tests and benches share: a wallet over a running devnet's chain
//! config, and an in-memory key backend (a test double of a credential store). Included by
//! path from `benches/`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use light_node::RpcConfig;
use tradeseal_wallet::keystore::{
    BackendKind, Generated, KeyBackend, KeystoreError, Locator, Pin, SecretSeed, SigningSession,
};
use tradeseal_wallet::{Wallet, WalletConfig};

/// How the wallet's light node is set up for a test or a bench.
#[derive(Debug, Clone)]
pub struct NodeSetup {
    /// Its RPC client.
    pub rpc: RpcConfig,
    /// Block intervals before the head counts as stale (large, so a loaded machine does not
    /// make a fresh head look stale).
    pub stale_after_blocks: u32,
    /// Keep syncing in the background (as the app does).
    pub follow: bool,
}

impl NodeSetup {
    /// A light node that fails fast on a silent node and never follows.
    pub fn quick() -> NodeSetup {
        NodeSetup {
            rpc: RpcConfig {
                timeout: Duration::from_millis(800),
                retries: 0,
                ..RpcConfig::default()
            },
            stale_after_blocks: 100,
            follow: false,
        }
    }
}

/// Writes `net`'s chain config (made with `config`, the devnet's own) into `dir` and opens a
/// wallet over it (config in `dir/config`, data in `dir/data`) with its light node started.
pub async fn wallet_for(
    net: &Devnet,
    config: &DevnetConfig,
    dir: &Path,
    setup: NodeSetup,
) -> Wallet {
    let chain = devnet::chain_config(config, net.chain(), net.rpc_urls()).unwrap();
    let path = dir.join("chain-config.json");
    std::fs::write(&path, chain.to_json()).unwrap();
    let mut wc = WalletConfig::new(dir.join("config"), dir.join("data"));
    wc.chain_config = Some(path);
    wc.node.rpc = setup.rpc;
    wc.node.node.stale_after_blocks = setup.stale_after_blocks;
    let wallet = Wallet::open(wc).await.unwrap();
    wallet.start_node(setup.follow).await.unwrap();
    wallet
}

/// Secrets in a map: a test double of a credential store.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    secrets: Mutex<HashMap<String, [u8; 32]>>,
}

#[derive(Debug)]
struct MemorySession(ed25519_dalek::SigningKey);

impl SigningSession for MemorySession {
    fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
    fn sign(&mut self, message: &[u8]) -> Result<[u8; 64], KeystoreError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes())
    }
}

impl KeyBackend for MemoryBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Keyring
    }
    fn protection(&self) -> String {
        "test memory".into()
    }
    fn generate(&self, _: &str, _: &str, _: Option<&Pin>) -> Result<Generated, KeystoreError> {
        Err(KeystoreError::Unsupported("import only".into()))
    }
    fn import(
        &self,
        id: &str,
        _: &str,
        seed: &SecretSeed,
        _: Option<&Pin>,
    ) -> Result<Locator, KeystoreError> {
        self.secrets
            .lock()
            .unwrap()
            .insert(id.to_owned(), *seed.expose());
        Ok(Locator::Keyring {
            service: "memory".into(),
            user: id.to_owned(),
        })
    }
    fn open_session(
        &self,
        locator: &Locator,
        _: &[u8; 32],
        _: Option<&Pin>,
    ) -> Result<Box<dyn SigningSession>, KeystoreError> {
        let Locator::Keyring { user, .. } = locator else {
            return Err(KeystoreError::NotFound("not here".into()));
        };
        let secret = *self
            .secrets
            .lock()
            .unwrap()
            .get(user)
            .ok_or_else(|| KeystoreError::NotFound("no secret".into()))?;
        Ok(Box::new(MemorySession(
            ed25519_dalek::SigningKey::from_bytes(&secret),
        )))
    }
    fn delete(&self, locator: &Locator, _: Option<&Pin>) -> Result<(), KeystoreError> {
        if let Locator::Keyring { user, .. } = locator {
            self.secrets.lock().unwrap().remove(user);
        }
        Ok(())
    }
}
