//! Offline verification against the devnet (started inside the test, on loopback): the
//! offline knowledge synced and proven, then the network cut; valid, revoked before the sync,
//! revoked after it, expired, forged, never registered and removed-issuer certificates judged
//! from it with their freshness; the network back: every offline verdict checked again online
//! and the changed ones flagged; the next sync fetches only what is new; the devnet stopped,
//! offline verification still answers. The bulk sync of the logs: pages checked against the
//! proven heads, a node that changes, drops, adds or reorders entries refused with nothing
//! stored, the incremental sync extending the stored head; a chain without heads proven entry
//! by entry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use devnet::{Behaviour, Devnet, DevnetConfig, SampleStatus, Samples};
use registry::state::RevocationReason;
use registry::{qr, Serial, SignedCertificate, TxBuilder};
use tradeseal_api::{
    CannotVerify, Mode, Origin, Verdict, VerifyInput, VerifyReport, VerifyRequest,
};
use tradeseal_wallet::Wallet;

use crate::support::{wallet_for, NodeSetup};

fn request(input: VerifyInput, offline: bool) -> VerifyRequest {
    VerifyRequest {
        input,
        document: None,
        offline,
    }
}

fn code(signed: &SignedCertificate) -> VerifyInput {
    VerifyInput::Payload {
        text: qr::encode(signed).unwrap(),
        origin: Origin::Camera,
    }
}

async fn check(wallet: &Wallet, signed: &SignedCertificate, offline: bool) -> VerifyReport {
    wallet
        .verify(&request(code(signed), offline))
        .await
        .unwrap()
}

fn samples_with(samples: &Samples, status: SampleStatus) -> Vec<SignedCertificate> {
    samples
        .certificates
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.signed.clone())
        .collect()
}

fn cut(net: &Devnet, behaviour: Behaviour) {
    for i in 0..net.rpc_urls().len() {
        net.set_behaviour(i, behaviour.clone());
    }
}

/// A devnet with its samples written and their state provable.
async fn start_seeded(config: &DevnetConfig) -> (Devnet, Samples) {
    let net = Devnet::start(config.clone()).await.expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let samples = net.samples().expect("seeded samples").clone();
    let seeded = net.chain().latest_height();
    assert!(
        net.wait_for_height(seeded + 2, Duration::from_secs(20))
            .await
    );
    (net, samples)
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_verdicts_say_how_fresh_they_are_and_are_checked_again_online() {
    let config = DevnetConfig::for_tests();
    let (net, samples) = start_seeded(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = wallet_for(&net, &config, dir.path(), NodeSetup::quick()).await;
    wallet.sync_once().await.unwrap();

    let valid = samples_with(&samples, SampleStatus::Valid);
    assert!(valid.len() >= 2, "two valid samples");
    let (good, revoked_later) = (valid[0].clone(), valid[1].clone());
    let revoked_before = samples_with(&samples, SampleStatus::Revoked)[0].clone();
    let expired = samples_with(&samples, SampleStatus::Expired)[0].clone();
    let removed = samples_with(&samples, SampleStatus::IssuerRemoved)[0].clone();
    let forged = {
        let mut c = good.clone();
        c.certificate.goods.quantity = "1".into();
        c
    };
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id == good.certificate.id.issuer)
        .expect("the good sample's issuer");
    // Signed by the real issuer, never registered.
    let never = {
        let mut c = good.certificate.clone();
        c.id.serial = Serial::new("NEVER-REGISTERED-1").unwrap();
        c.sign(&samples.chain_id, &issuer.key).unwrap()
    };

    // Before any sync there is nothing to judge from offline.
    let r = check(&wallet, &good, true).await;
    assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
    assert_eq!(
        r.evidence.cannot_verify,
        Some(CannotVerify::OfflineDataMissing)
    );
    assert_eq!(r.evidence.mode, Mode::Offline);
    assert!(wallet.offline_status().await.unwrap().is_none());

    // Sync: every issuer (the removed one too) and the whole revocation log, proven.
    let first = wallet.offline_sync().await.unwrap();
    assert_eq!(first.previous_height, 0);
    assert!(first.status.height > 0);
    assert_eq!(first.status.issuers, samples.issuers.len() as u64);
    let revoked_count = samples_with(&samples, SampleStatus::Revoked).len() as u64;
    assert_eq!(first.status.revocations, revoked_count);
    assert_eq!(first.new_revocations, revoked_count);
    assert!(!first.status.stale && !first.status.too_old);
    assert_eq!(
        wallet.offline_status().await.unwrap().unwrap().height,
        first.status.height
    );

    // After the sync, the issuer revokes another certificate.
    let revoke = TxBuilder::new(&samples.chain_id, &issuer.key)
        .revoke(
            500_000,
            revoked_later.certificate.id.clone(),
            RevocationReason::Superseded,
            "replaced",
        )
        .unwrap();
    net.chain()
        .submit_tx(revoke)
        .expect("the revocation is accepted");
    let now = net.chain().latest_height();
    assert!(net.wait_for_height(now + 3, Duration::from_secs(20)).await);

    // The network cut (every node silent): the offline knowledge answers, saying so.
    cut(&net, Behaviour::Timeout);
    let expect = [
        (&good, Verdict::Valid),
        (&revoked_before, Verdict::Revoked),
        // Revoked after the sync: offline, the device cannot know yet.
        (&revoked_later, Verdict::Valid),
        (&expired, Verdict::Expired),
        (&forged, Verdict::Tampered),
        // Offline, whether it was registered cannot be known: the signature is genuine.
        (&never, Verdict::Valid),
        (&removed, Verdict::IssuerRemoved),
    ];
    for (cert, verdict) in expect {
        let r = check(&wallet, cert, false).await;
        assert_eq!(r.verdict, verdict, "{}: {r:#?}", cert.certificate.id);
        assert_eq!(r.evidence.mode, Mode::Offline);
        let f = r.evidence.freshness.as_ref().expect("freshness");
        assert_eq!(f.as_of_height, first.status.height);
        assert!(!f.registration_checked);
        assert!(
            r.reason.contains(&format!("block {}", first.status.height)),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("cannot be known offline"), "{}", r.reason);
        assert!(
            r.evidence
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("network cannot be reached")),
            "{r:#?}"
        );
    }
    // Asked for offline, the same; an id typed in is judged only from the revocation log.
    let r = check(&wallet, &revoked_before, true).await;
    assert_eq!(r.verdict, Verdict::Revoked);
    assert_eq!(r.evidence.detail, None);
    let by_id = |id: &registry::CertId| request(VerifyInput::Serial { id: id.to_string() }, true);
    let r = wallet
        .verify(&by_id(&revoked_before.certificate.id))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    let r = wallet.verify(&by_id(&good.certificate.id)).await.unwrap();
    assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
    assert_eq!(
        r.evidence.cannot_verify,
        Some(CannotVerify::OfflineDataMissing)
    );
    // With the network still cut, nothing is checked again and nothing is flagged.
    assert!(wallet.recheck_offline().await.unwrap().is_empty());

    // The network back: every offline verdict is checked online; the changes are flagged.
    cut(&net, Behaviour::Honest);
    wallet.sync_once().await.unwrap();
    let rechecked = wallet.recheck_offline().await.unwrap();
    // The check before the sync, 7 with the network cut, one asked offline and two ids: the
    // offline CANNOT VERIFY answers are checked again too.
    assert_eq!(rechecked.len(), 11, "{rechecked:#?}");
    let changed: Vec<(String, Verdict, Verdict)> = rechecked
        .iter()
        .filter_map(|r| {
            let c = r.recheck.as_ref().unwrap();
            c.changed
                .then(|| (r.certificate_id.clone().unwrap(), r.verdict, c.verdict))
        })
        .collect();
    let id = |c: &SignedCertificate| c.certificate.id.to_string();
    assert!(changed.contains(&(id(&revoked_later), Verdict::Valid, Verdict::Revoked)));
    assert!(changed.contains(&(id(&never), Verdict::Valid, Verdict::NotRegistered)));
    assert!(changed.contains(&(id(&good), Verdict::CannotVerify, Verdict::Valid)));
    assert_eq!(changed.len(), 4, "{changed:#?}");
    for r in &rechecked {
        let c = r.recheck.as_ref().unwrap();
        if !c.changed {
            assert_eq!(c.verdict, r.verdict);
        }
    }
    // The history keeps the flag, and nothing is left to check.
    let listed = wallet.history_list(&Default::default()).await.unwrap();
    assert!(listed
        .iter()
        .any(|r| r.recheck.as_ref().is_some_and(|c| c.changed)));
    assert!(wallet.recheck_offline().await.unwrap().is_empty());

    // The next sync fetches only the new revocation.
    let second = wallet.offline_sync().await.unwrap();
    assert_eq!(second.previous_height, first.status.height);
    assert_eq!(second.new_revocations, 1);
    assert_eq!(second.issuers_fetched, 0);
    assert_eq!(second.status.revocations, revoked_count + 1);

    // The devnet stopped: offline verification still answers, from the new knowledge.
    net.shutdown().await;
    let r = check(&wallet, &revoked_later, true).await;
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    let r = check(&wallet, &good, false).await;
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.evidence.mode, Mode::Offline);
}

/// How a [`PageLiar`] changes the log pages it relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lie {
    Honest,
    /// One byte of the first entry changed (it still decodes).
    Change,
    /// The first entry left out.
    Drop,
    /// A copy of the first entry added after it.
    Add,
    /// The first two entries swapped.
    Reorder,
}

/// A full node that relays a real one but lies in the log pages (`/log/...`) it answers;
/// proven answers it relays unchanged.
#[derive(Debug)]
struct PageLiar {
    inner: light_node::RpcProvider,
    lie: Mutex<Lie>,
    pages: Mutex<u64>,
}

impl PageLiar {
    fn doctor(&self, path: &str, answer: light_node::QueryAnswer) -> light_node::QueryAnswer {
        use registry::Canonical as _;
        if !path.starts_with("/log/") || answer.code != 0 {
            return answer;
        }
        *self.pages.lock().unwrap() += 1;
        let lie = *self.lie.lock().unwrap();
        let Some(mut page) = answer
            .value
            .as_deref()
            .and_then(|v| registry::log::Page::from_bytes(v).ok())
        else {
            return answer;
        };
        let e = &mut page.entries;
        match lie {
            Lie::Honest => return answer,
            Lie::Change => {
                if let Some(b) = e.first_mut().and_then(|x| x.last_mut()) {
                    *b ^= 1;
                }
            }
            Lie::Drop => {
                if e.len() > 1 {
                    e.remove(0);
                }
            }
            Lie::Add => {
                let first = e[0].clone();
                e.insert(1, first);
            }
            Lie::Reorder => {
                if e.len() > 1 {
                    e.swap(0, 1);
                }
            }
        }
        light_node::QueryAnswer {
            value: Some(page.to_bytes()),
            ..answer
        }
    }
}

impl light_node::Provider for PageLiar {
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn status(
        &self,
    ) -> light_node::BoxFuture<'_, Result<light_node::NodeInfo, light_node::ProviderError>> {
        self.inner.status()
    }
    fn signed_header(
        &self,
        height: Option<light_client::Height>,
    ) -> light_node::BoxFuture<'_, Result<light_client::SignedHeader, light_node::ProviderError>>
    {
        self.inner.signed_header(height)
    }
    fn header(
        &self,
        height: light_client::Height,
    ) -> light_node::BoxFuture<'_, Result<light_client::Header, light_node::ProviderError>> {
        self.inner.header(height)
    }
    fn validators(
        &self,
        height: light_client::Height,
    ) -> light_node::BoxFuture<'_, Result<light_client::ValidatorSet, light_node::ProviderError>>
    {
        self.inner.validators(height)
    }
    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: light_client::Height,
    ) -> light_node::BoxFuture<'a, Result<light_node::QueryAnswer, light_node::ProviderError>> {
        Box::pin(async move {
            let a = self.inner.abci_query(path, data, height).await?;
            Ok(self.doctor(path, a))
        })
    }
    fn abci_queries<'a>(
        &'a self,
        queries: &'a [(String, Vec<u8>)],
        height: light_client::Height,
    ) -> light_node::BoxFuture<'a, Vec<Result<light_node::QueryAnswer, light_node::ProviderError>>>
    {
        Box::pin(async move {
            let answers = self.inner.abci_queries(queries, height).await;
            queries
                .iter()
                .zip(answers)
                .map(|((path, _), a)| a.map(|a| self.doctor(path, a)))
                .collect()
        })
    }
    fn tx(
        &self,
        hash: light_client::Hash,
    ) -> light_node::BoxFuture<'_, Result<light_node::TxAnswer, light_node::ProviderError>> {
        self.inner.tx(hash)
    }
    fn broadcast_tx_sync<'a>(
        &'a self,
        tx: &'a [u8],
    ) -> light_node::BoxFuture<'a, Result<light_node::BroadcastAnswer, light_node::ProviderError>>
    {
        self.inner.broadcast_tx_sync(tx)
    }
    fn broadcast_evidence<'a>(
        &'a self,
        evidence: &'a serde_json::Value,
    ) -> light_node::BoxFuture<'a, Result<String, light_node::ProviderError>> {
        self.inner.broadcast_evidence(evidence)
    }
}

/// A light node over `net` whose primary is a [`PageLiar`] relaying node 0.
/// A light node whose primary is a [`PageLiar`] over the devnet's primary; the devnet's other
/// nodes its witnesses when `witnesses`.
async fn liar_node(
    net: &Devnet,
    config: &DevnetConfig,
    witnesses: bool,
) -> (
    light_node::LightNode,
    Arc<PageLiar>,
    light_client::config::ChainConfig,
) {
    use light_node::{
        LightNode, NodeOptions, Provider, PruneWindow, RpcConfig, RpcProvider, SqliteStore,
        StoreIdentity, SystemClock,
    };
    let chain = devnet::chain_config(config, net.chain(), net.rpc_urls()).unwrap();
    let identity = StoreIdentity {
        chain_id: chain.chain_id.as_str().to_owned(),
        checkpoint_height: chain.checkpoint.height,
        checkpoint_hash: chain.checkpoint.hash,
    };
    let store = SqliteStore::in_memory(identity, PruneWindow(1_000))
        .await
        .unwrap();
    let liar = Arc::new(PageLiar {
        inner: RpcProvider::new(&chain.primary, RpcConfig::default()).unwrap(),
        lie: Mutex::new(Lie::Honest),
        pages: Mutex::new(0),
    });
    let witnesses = chain
        .witnesses
        .iter()
        .filter(|_| witnesses)
        .map(|w| Arc::new(RpcProvider::new(w, RpcConfig::default()).unwrap()) as Arc<dyn Provider>)
        .collect();
    let node = LightNode::new(
        chain.clone(),
        store,
        liar.clone() as Arc<dyn Provider>,
        witnesses,
        Arc::new(SystemClock),
        NodeOptions::default(),
        Vec::new(),
    )
    .await
    .unwrap();
    (node, liar, chain)
}

/// Has the issuer of `cert` revoke it (superseded) with `sequence`, and waits until the
/// revocation's state is provable.
async fn revoke_committed(
    net: &Devnet,
    samples: &Samples,
    cert: &SignedCertificate,
    sequence: u64,
) {
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id == cert.certificate.id.issuer)
        .unwrap();
    let revoke = TxBuilder::new(&samples.chain_id, &issuer.key)
        .revoke(
            sequence,
            cert.certificate.id.clone(),
            RevocationReason::Superseded,
            "replaced",
        )
        .unwrap();
    net.chain().submit_tx(revoke).expect("accepted");
    let now = net.chain().latest_height();
    assert!(net.wait_for_height(now + 3, Duration::from_secs(20)).await);
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_pages_that_do_not_match_the_proven_head_are_refused_and_asked_of_another_node() {
    use tradeseal_wallet::offline::{self, OfflineStore};
    let config = DevnetConfig::for_tests();
    let (net, samples) = start_seeded(&config).await;
    // The liar alone: nothing else to ask, the sync fails.
    let (node, liar, chain) = liar_node(&net, &config, false).await;
    node.sync().await.unwrap();
    let store = OfflineStore::in_memory().await.unwrap();
    let trusting = chain.trusting_period.as_secs();
    let sync_with = |store: &OfflineStore, node: &light_node::LightNode| {
        let (store, node) = (store.clone(), node.clone());
        let chain_id = samples.chain_id.clone();
        async move { offline::sync(&store, &node, &chain_id, unix_now(), 86_400, trusting).await }
    };
    let sync = |store: &OfflineStore| sync_with(store, &node);
    let expect_lie = |r: Result<tradeseal_api::OfflineSync, tradeseal_wallet::WalletError>,
                      what: &str| {
        let e = r.expect_err(what).to_string();
        assert!(
            e.contains("entries that do not match the proven head"),
            "{what}: {e}"
        );
        assert!(e.contains("nothing was stored"), "{what}: {e}");
    };

    // The samples revoked several certificates: at least two entries, so that every lie
    // changes the page.
    let revoked = samples_with(&samples, SampleStatus::Revoked).len() as u64;
    assert!(revoked >= 2, "the samples revoke two certificates");
    for lie in [Lie::Change, Lie::Drop, Lie::Add, Lie::Reorder] {
        *liar.lie.lock().unwrap() = lie;
        expect_lie(sync(&store).await, &format!("{lie:?} at the first sync"));
        assert!(
            store.meta().await.unwrap().is_none(),
            "{lie:?}: nothing stored"
        );
        assert_eq!(store.issuer_count().await.unwrap(), 0);
        // It served every page: the light node's status names it.
        let view = node
            .status()
            .nodes
            .into_iter()
            .find(|n| n.url == light_node::Provider::url(liar.as_ref()))
            .unwrap();
        assert_eq!(view.health, light_node::Health::Faulty, "{lie:?}");
        assert!(
            view.detail
                .as_deref()
                .is_some_and(|d| d.contains("do not match the proven head")),
            "{view:?}"
        );
    }

    // Honest pages: the logs come in pages, only the heads and the issuer records proven.
    *liar.lie.lock().unwrap() = Lie::Honest;
    let pages_before = *liar.pages.lock().unwrap();
    let first = sync(&store).await.unwrap();
    assert!(
        *liar.pages.lock().unwrap() > pages_before,
        "pages were asked"
    );
    assert_eq!(first.new_revocations, revoked);
    assert_eq!(first.status.revocations, revoked);
    assert_eq!(first.status.issuers, samples.issuers.len() as u64);
    assert_eq!(first.proofs, 5 + first.issuers_fetched, "{first:?}");
    let revoked_before = samples_with(&samples, SampleStatus::Revoked)[0].clone();
    let knows = store
        .knowledge(&revoked_before.certificate.id)
        .await
        .unwrap()
        .unwrap();
    assert!(knows.revocation.is_some());

    // One more revocation: the next sync extends the stored head over one new entry.
    let valid = samples_with(&samples, SampleStatus::Valid)[0].clone();
    revoke_committed(&net, &samples, &valid, 500_000).await;
    node.sync().await.unwrap();
    // A page of one entry changed or padded is refused; the knowledge of the first sync stays.
    for lie in [Lie::Change, Lie::Add] {
        *liar.lie.lock().unwrap() = lie;
        expect_lie(
            sync(&store).await,
            &format!("{lie:?} at the incremental sync"),
        );
        let meta = store.meta().await.unwrap().unwrap();
        assert_eq!(meta.height, first.status.height, "{lie:?}");
        assert_eq!(meta.revocation_log_len, revoked);
        let k = store
            .knowledge(&valid.certificate.id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            k.revocation.is_none(),
            "{lie:?}: the unchecked entry was not kept"
        );
    }
    *liar.lie.lock().unwrap() = Lie::Honest;
    let second = sync(&store).await.unwrap();
    assert_eq!(second.previous_height, first.status.height);
    assert_eq!(second.new_revocations, 1);
    assert_eq!(second.issuers_fetched, 0);
    assert_eq!(second.proofs, 5);
    let k = store
        .knowledge(&valid.certificate.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        k.revocation.map(|r| r.reason),
        Some(RevocationReason::Superseded)
    );

    // With witnesses: a lying primary's pages are refused, and the same pages asked of a
    // witness pass; the liar is marked faulty.
    let (backed, backed_liar, _) = liar_node(&net, &config, true).await;
    backed.sync().await.unwrap();
    *backed_liar.lie.lock().unwrap() = Lie::Change;
    let with_witness = OfflineStore::in_memory().await.unwrap();
    let retried = sync_with(&with_witness, &backed)
        .await
        .expect("the witness's pages pass");
    assert_eq!(retried.new_revocations, revoked + 1);
    let view = backed
        .status()
        .nodes
        .into_iter()
        .find(|n| n.url == light_node::Provider::url(backed_liar.as_ref()))
        .unwrap();
    assert_eq!(view.health, light_node::Health::Faulty);

    // The devnet's own lying mode (every answer's last byte flipped) on the primary: its
    // proofs fail and the witnesses prove the heads, and its pages are refused and asked of
    // a witness.
    let valid2 = samples_with(&samples, SampleStatus::Valid)[1].clone();
    revoke_committed(&net, &samples, &valid2, 500_001).await;
    node.sync().await.unwrap();
    backed.sync().await.unwrap();
    *backed_liar.lie.lock().unwrap() = Lie::Honest;
    net.set_behaviour(0, Behaviour::LieValue);
    let third = sync_with(&store, &backed)
        .await
        .expect("lie-value on the primary: the witnesses serve");
    assert_eq!(third.new_revocations, 1);
    assert!(third.status.height > second.status.height);
    net.set_behaviour(0, Behaviour::Honest);
    net.shutdown().await;
}

/// A full node in memory: a registry and light blocks whose app hashes are its roots, signed
/// by test validators; answers proven queries from the registry (no pages are asked of it in
/// the test below, it answers them all the same).
#[derive(Debug)]
struct RegistryNode {
    url: String,
    reg: registry::Registry,
    blocks: Vec<light_client::LightBlock>,
}

impl RegistryNode {
    /// The demo genesis and `empty` empty blocks, with `empty + 1` light blocks (header
    /// H + 1 commits to state H), times ending now.
    fn new(url: &str, empty: u64) -> RegistryNode {
        use light_client::test_utils::{light_block, resign, validators, BlockSpec};
        let now = unix_now();
        let genesis = registry::devkit::demo_genesis(LOCAL_CHAIN, now - 3_600);
        let mut reg = registry::Registry::new(&genesis).unwrap();
        for h in 1..=empty {
            reg.execute_block(h, now - 3_600 + h, &[]).unwrap();
        }
        let vals = validators("v", 4, 10);
        let mut blocks: Vec<light_client::LightBlock> = Vec::new();
        for h in 1..=empty + 1 {
            let time =
                light_client::Time::from_unix((now - (empty + 1 - h) * 5) as i64, 0).unwrap();
            let mut spec = BlockSpec::new(LOCAL_CHAIN, h, time, &vals);
            spec.last_block_id = blocks.last().map(|b| b.signed_header.commit.block_id);
            let mut block = light_block(&spec);
            block.signed_header.header.app_hash =
                light_client::types::HexBytes(reg.app_hash_at(h - 1).unwrap().to_vec());
            blocks.push(resign(&block, &vals));
        }
        RegistryNode {
            url: url.to_owned(),
            reg,
            blocks,
        }
    }

    fn block(
        &self,
        h: light_client::Height,
    ) -> Result<&light_client::LightBlock, light_node::ProviderError> {
        usize::try_from(h.value())
            .ok()
            .and_then(|h| h.checked_sub(1))
            .and_then(|i| self.blocks.get(i))
            .ok_or(light_node::ProviderError::HeightUnavailable(h))
    }
}

const LOCAL_CHAIN: &str = "tradeseal-offline-test";

impl light_node::Provider for RegistryNode {
    fn url(&self) -> &str {
        &self.url
    }
    fn status(
        &self,
    ) -> light_node::BoxFuture<'_, Result<light_node::NodeInfo, light_node::ProviderError>> {
        let latest = light_client::Height(self.blocks.len() as u64);
        Box::pin(async move {
            Ok(light_node::NodeInfo {
                network: LOCAL_CHAIN.to_owned(),
                latest_height: latest,
            })
        })
    }
    fn signed_header(
        &self,
        height: Option<light_client::Height>,
    ) -> light_node::BoxFuture<'_, Result<light_client::SignedHeader, light_node::ProviderError>>
    {
        let h = height.unwrap_or(light_client::Height(self.blocks.len() as u64));
        let out = self.block(h).map(|b| b.signed_header.clone());
        Box::pin(async move { out })
    }
    fn header(
        &self,
        height: light_client::Height,
    ) -> light_node::BoxFuture<'_, Result<light_client::Header, light_node::ProviderError>> {
        let out = self.block(height).map(|b| b.signed_header.header.clone());
        Box::pin(async move { out })
    }
    fn validators(
        &self,
        height: light_client::Height,
    ) -> light_node::BoxFuture<'_, Result<light_client::ValidatorSet, light_node::ProviderError>>
    {
        let out = self.block(height).map(|b| b.validators.clone());
        Box::pin(async move { out })
    }
    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: light_client::Height,
    ) -> light_node::BoxFuture<'a, Result<light_node::QueryAnswer, light_node::ProviderError>> {
        let q = self.reg.query(path, data, Some(height.value()), true);
        Box::pin(async move {
            Ok(light_node::QueryAnswer {
                code: q.code,
                log: q.log,
                key: q.key,
                value: q.value,
                height: light_client::Height(q.height),
                proof_ops: q
                    .proof
                    .into_iter()
                    .map(|p| light_node::ProofOp {
                        kind: p.kind,
                        key: p.key,
                        data: p.data,
                    })
                    .collect(),
            })
        })
    }
    fn tx(
        &self,
        _hash: light_client::Hash,
    ) -> light_node::BoxFuture<'_, Result<light_node::TxAnswer, light_node::ProviderError>> {
        Box::pin(async { Err(light_node::ProviderError::Unreachable("no tx index".into())) })
    }
    fn broadcast_tx_sync<'a>(
        &'a self,
        _tx: &'a [u8],
    ) -> light_node::BoxFuture<'a, Result<light_node::BroadcastAnswer, light_node::ProviderError>>
    {
        Box::pin(async { Err(light_node::ProviderError::Unreachable("read only".into())) })
    }
    fn broadcast_evidence<'a>(
        &'a self,
        _evidence: &'a serde_json::Value,
    ) -> light_node::BoxFuture<'a, Result<String, light_node::ProviderError>> {
        Box::pin(async { Err(light_node::ProviderError::Unreachable("read only".into())) })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_without_a_head_is_proven_entry_by_entry() {
    use light_node::{LightNode, NodeOptions, Provider, PruneWindow, SqliteStore, StoreIdentity};
    use tradeseal_wallet::offline::{self, OfflineStore};
    // The demo genesis registers its issuers in the issuer log and writes no head: until the
    // first issuer change, the log has entries and no head, as on a chain from before heads.
    let primary = Arc::new(RegistryNode::new("mem://registry-0", 3));
    let witness = Arc::new(RegistryNode::new("mem://registry-1", 3));
    assert!(primary.reg.get(registry::keys::ISSUER_LOG_HEAD).is_none());
    let checkpoint = &primary.blocks[0];
    let chain = light_client::config::ChainConfig {
        chain_id: light_client::ChainId::new(LOCAL_CHAIN),
        checkpoint: light_client::config::Checkpoint {
            height: checkpoint.height(),
            hash: checkpoint.signed_header.header.hash(),
        },
        trusting_period: Duration::from_secs(14 * 86_400),
        trust_level: light_client::config::TrustLevel::ONE_THIRD,
        max_clock_drift: Duration::from_secs(10),
        primary: primary.url.clone(),
        witnesses: vec![witness.url.clone()],
    };
    let identity = StoreIdentity {
        chain_id: LOCAL_CHAIN.to_owned(),
        checkpoint_height: chain.checkpoint.height,
        checkpoint_hash: chain.checkpoint.hash,
    };
    let node = LightNode::new(
        chain.clone(),
        SqliteStore::in_memory(identity, PruneWindow(1_000))
            .await
            .unwrap(),
        primary.clone() as Arc<dyn Provider>,
        vec![witness.clone() as Arc<dyn Provider>],
        Arc::new(light_node::SystemClock),
        NodeOptions::default(),
        Vec::new(),
    )
    .await
    .unwrap();
    node.sync().await.unwrap();
    let store = OfflineStore::in_memory().await.unwrap();
    let first = offline::sync(&store, &node, LOCAL_CHAIN, unix_now(), 86_400, 14 * 86_400)
        .await
        .unwrap();
    let issuers = registry::devkit::demo_genesis(LOCAL_CHAIN, 0).issuers.len() as u64;
    assert_eq!(first.new_issuer_changes, issuers);
    assert_eq!(first.status.issuers, issuers);
    assert_eq!(first.status.revocations, 0);
    // The five values of the lengths and heads, each issuer-log entry on its own and each
    // issuer record.
    assert_eq!(first.proofs, 5 + issuers + issuers, "{first:?}");
    assert_eq!(store.issuer_count().await.unwrap(), issuers);
    let id = registry::devkit::demo_genesis(LOCAL_CHAIN, 0).issuers[0]
        .id
        .clone();
    assert!(store.issuer(&id).await.unwrap().is_some());
    let meta = store.meta().await.unwrap().unwrap();
    assert_eq!(meta.issuer_log_len, issuers);
}
