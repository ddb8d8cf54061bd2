//! The app's light node on the local development network, through the real app: it syncs to
//! the devnet's height and shows the three nodes healthy; a primary that stops answering is
//! shown silent and replaced; a witness that serves a validly signed fork stops the wallet
//! with the evidence on screen; on first run, a pasted chain config is previewed, trusted and
//! synced, and so is one read from the QR code image the operator publishes (while a QR code
//! that holds something else is refused in words); a corrupt chain config gives a clear error and is left
//! as it was.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devnet::Behaviour;

use crate::harness::{head_claim, number_after, App, Net, NodeRow, SYNC, WAIT};

/// How far behind the devnet a "synced" head may be: the devnet makes five blocks a second and
/// the app syncs on each (woken by its primary's new-block subscription, else polling once a
/// second), plus the time to verify on a busy machine.
const NEAR: u64 = 15;
/// A primary that never answers: 2 attempts of 5 s (the app's RPC timeout) before it counts
/// as silent (about 11 s); then a sync from the next node, whose witness checks wait at most
/// 3 s for the silent node, now a witness. The bound leaves room for a busy machine.
const REPLACE: Duration = Duration::from_secs(90);
/// From staging the fork to the fork screen: the next sync (every second) sees it.
const FORK: Duration = Duration::from_secs(30);

/// What the status bar and the node list say, in one line, logged when it changes.
fn snapshot(app: &App) -> String {
    let nodes: Vec<String> = app
        .nodes()
        .iter()
        .map(|n| {
            let port = n.url.rsplit(':').next().unwrap_or_default();
            format!("{port}:{}:{}", n.role, n.health)
        })
        .collect();
    let reason = app.text_of("#node-state-reason").unwrap_or_default();
    format!(
        "{} | {} | {} {}",
        app.state(),
        app.status_line(),
        nodes.join(" "),
        reason
    )
}

/// Logs what the app shows whenever it changes (the head's age and height left out).
struct Timeline {
    last: String,
    states: Vec<String>,
}

impl Timeline {
    fn new() -> Self {
        Self {
            last: String::new(),
            states: Vec::new(),
        }
    }

    fn record(&mut self, app: &App, net: &Net) {
        check_head_claim(app, net);
        let now = snapshot(app);
        let key: String = now.chars().filter(|c| !c.is_ascii_digit()).collect();
        if key != self.last {
            app.log(&now);
            self.last = key;
        }
        let state = app.state();
        if self.states.last() != Some(&state) {
            self.states.push(state);
        }
    }
}

/// Whatever the state, the head the status bar names is a block of the devnet and the age it
/// gives is that block's real age.
fn check_head_claim(app: &App, net: &Net) {
    let line = app.status_line();
    let Some((height, shown)) = head_claim(&line) else {
        return;
    };
    let time = net
        .time_of(height)
        .unwrap_or_else(|| panic!("the status bar names height {height}, never made: {line:?}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let real = now.saturating_sub(u64::try_from(time).unwrap());
    let shown = shown.as_secs();
    // Ages are shown in whole units, rounded down, and the UI's clock ticks once a second.
    let unit = if shown < 60 { 1 } else { 60 };
    assert!(
        real + 3 >= shown && real <= shown + unit + 3,
        "the status bar says height {height} is {shown} s old; it is {real} s old: {line:?}"
    );
}

/// The states the status bar went through, but for the flips between syncing and synced that
/// every new block makes (counted).
fn print_states(states: &[(f64, String, String)]) {
    let mut flips = 0;
    for (at, state, line) in states {
        if state == "synced" || state == "syncing" {
            flips += 1;
        } else {
            println!("    state at {at:6.1} s: {state:13} {line}");
        }
    }
    println!("    and {flips} times syncing or synced");
}

fn row<'a>(nodes: &'a [NodeRow], url: &str) -> &'a NodeRow {
    nodes
        .iter()
        .find(|n| n.url == url)
        .unwrap_or_else(|| panic!("no row for {url} in {nodes:?}"))
}

/// Wait until the status bar says synced and the Network page shows a head near the devnet's
/// (on the devnet's chain) and the three nodes healthy; answers the head shown.
fn synced(net: &Net, app: &App) -> (u64, String) {
    app.record_states();
    app.wait_state(SYNC, &["synced"]);
    app.log(format_args!("synced: {}", app.status_line()));
    app.open("network");
    let head = app.wait_head_near(net, NEAR, SYNC);
    app.wait(WAIT, "three node rows with health ok", || {
        let nodes = app.nodes();
        (nodes.len() == 3 && nodes.iter().all(|n| n.health == "ok")).then_some(())
    });
    head
}

#[test]
fn app_syncs_with_the_devnet_and_replaces_a_silent_primary() {
    let net = Net::start();
    let app = App::launch(Some(&net.chain_config));

    // 1. Synced at the devnet's height, the three nodes healthy.
    let (height, hash) = synced(&net, &app);
    app.log(format_args!(
        "head {height} {hash}, devnet at {}",
        net.height()
    ));
    // Each new block shows "verifying headers" for a moment; then the line names the head.
    let bar = app.wait(WAIT, "the status bar to name the verified head", || {
        let bar = app.visible_text("#node-state");
        bar.contains("verified up to height ").then_some(bar)
    });
    assert!(bar.starts_with(&net.chain_id), "status bar says {bar:?}");
    let shown = number_after(&bar, "height").unwrap();
    assert!(
        shown + NEAR >= net.height() && shown <= net.height(),
        "status bar height {shown}, devnet {}",
        net.height()
    );
    let nodes = app.nodes();
    assert_eq!(
        nodes.iter().map(|n| n.url.as_str()).collect::<Vec<_>>(),
        net.urls
    );
    assert_eq!(
        nodes.iter().map(|n| n.role.as_str()).collect::<Vec<_>>(),
        ["primary", "witness", "witness"]
    );
    assert_eq!(app.visible_text("#primary-node"), net.urls[0]);
    assert_eq!(app.text_of("#chain-id").unwrap(), net.chain_id);
    let (checkpoint, checkpoint_hash) = net.checkpoint();
    assert_eq!(
        app.text_of("#chain-checkpoint-height").unwrap(),
        checkpoint.to_string()
    );
    assert_eq!(
        app.text_of("#chain-checkpoint-hash").unwrap(),
        checkpoint_hash
    );
    assert_eq!(
        app.text_of("#chain-fingerprint").unwrap(),
        net.fingerprint()
    );
    app.shot("devnet-1-synced.png");
    app.scroll_to("#nodes-card");
    app.shot("devnet-1-synced-nodes.png");

    // 2. The primary stops answering: its row turns silent, another node becomes primary,
    // and the head moves on along the devnet's chain.
    net.set_behaviour(0, Behaviour::Timeout);
    let stopped_at = net.height();
    let since = Instant::now();
    app.log(format_args!(
        "node 0 set to timeout at devnet height {stopped_at}"
    ));
    let mut timeline = Timeline::new();
    let mut hanging_shot = false;
    let nodes = app.wait(
        REPLACE,
        "the old primary shown silent and another node primary",
        || {
            timeline.record(&app, &net);
            // While the app still waits for the old primary's answer.
            if !hanging_shot && since.elapsed() > Duration::from_secs(15) {
                hanging_shot = true;
                app.log(format_args!("still waiting: {}", app.status_line()));
                app.shot("devnet-2-primary-hanging.png");
            }
            let nodes = app.nodes();
            let old = nodes.iter().find(|n| n.url == net.urls[0])?;
            let replaced = nodes
                .iter()
                .any(|n| n.role == "primary" && n.url != net.urls[0]);
            (old.health == "silent" && old.role == "witness" && replaced).then_some(nodes)
        },
    );
    app.log(format_args!(
        "primary replaced after {:.1} s",
        since.elapsed().as_secs_f64()
    ));
    let old = row(&nodes, &net.urls[0]);
    assert!(
        old.detail.starts_with("no answer within"),
        "the silent node's row says {:?}",
        old.detail
    );
    let primary = nodes.iter().find(|n| n.role == "primary").unwrap();
    assert_eq!(app.visible_text("#primary-node"), primary.url);
    app.scroll_to("#nodes-card");
    app.shot("devnet-3-primary-silent.png");

    // The head moves on past the height where node 0 stopped, on the devnet's own chain; the
    // status bar says how old the head is whatever the state.
    let (moved, _) = app.wait(
        REPLACE,
        "the head past the old primary's last height",
        || {
            timeline.record(&app, &net);
            app.head().filter(|(h, _)| *h > stopped_at + 5)
        },
    );
    let (height, hash) = app.head().unwrap();
    assert_eq!(net.hash_at(height).as_deref(), Some(hash.as_str()));
    app.log(format_args!(
        "head {moved} after {:.1} s, states seen: {:?}",
        since.elapsed().as_secs_f64(),
        timeline.states
    ));
    // Every state shown meanwhile is one of following the chain (never a fork, an expired
    // trust or an error), and a stale or offline state says why.
    let from = since.duration_since(app.launched()).as_secs_f64();
    let states: Vec<_> = app
        .recorded_states()
        .into_iter()
        .filter(|(at, ..)| *at >= from)
        .collect();
    print_states(&states);
    for (_, state, line) in &states {
        assert!(
            ["synced", "syncing", "stale", "offline"].contains(&state.as_str()),
            "{state}: {line}"
        );
    }
    let state = app.state();
    if state == "stale" || state == "offline" {
        let reason = app.text_of("#node-state-reason").unwrap_or_default();
        assert!(!reason.is_empty(), "{state} without a reason");
    }
    app.scroll_to("#nodes-card");
    app.shot("devnet-4-head-moves-on.png");
}

#[test]
fn app_stops_on_a_fork_and_shows_the_evidence() {
    let net = Net::start();
    let app = App::launch(Some(&net.chain_config));
    synced(&net, &app);

    // 3. Witness 2 serves a conflicting chain, validly signed, from the next block on.
    let before = net.height();
    net.set_behaviour(2, Behaviour::Fork { from_height: 0 });
    let since = Instant::now();
    app.log(format_args!("node 2 set to fork at devnet height {before}"));
    app.wait(FORK, "the fork panel", || {
        app.exists("#fork-panel").then_some(())
    });
    app.log(format_args!(
        "fork panel after {:.1} s",
        since.elapsed().as_secs_f64()
    ));
    assert_eq!(app.state(), "fork_detected");
    let bar = app.visible_text("#node-state");
    assert!(
        bar.starts_with(&net.chain_id)
            && bar.ends_with("fork detected: new headers are not trusted"),
        "status bar says {bar:?}"
    );
    app.wait_for("#fork-evidence");

    let conflict: u64 = app
        .text_of("#fork-conflict-height")
        .unwrap()
        .parse()
        .unwrap();
    let common: u64 = app.text_of("#fork-common-height").unwrap().parse().unwrap();
    assert!(
        conflict > before && conflict <= net.height(),
        "conflict height {conflict}: the fork started after {before}"
    );
    assert!(common < conflict, "common {common}, conflict {conflict}");
    assert_eq!(app.visible_text("#fork-witness"), net.urls[2]);
    let trusted = app.text_of("#fork-trusted-hash").unwrap();
    let conflicting = app.text_of("#fork-conflicting-hash").unwrap();
    assert_eq!(
        net.hash_at(conflict).as_deref(),
        Some(trusted.as_str()),
        "the trusted hash is the devnet's canonical block"
    );
    assert_ne!(trusted, conflicting);
    // The forged headers carry another app hash: CometBFT calls that a lunatic attack
    // (`ConflictingHeaderIsInvalid`), whoever signed it. Here the real validators did.
    assert_eq!(
        app.js("return document.querySelector('#fork-attack').dataset.attack"),
        "lunatic"
    );
    let byzantine = app.js("return document.querySelectorAll('#fork-byzantine li').length");
    assert_eq!(byzantine, 4, "the devnet's four validators signed the fork");
    let what = app.visible_text("#fork-what");
    assert!(
        what.contains(&net.urls[2]) && what.contains(&format!("height {conflict}")),
        "{what:?}"
    );

    // The evidence file is on disk, in the app's data folder, and holds both attacks.
    let file = app.visible_text("#fork-evidence-file");
    assert!(
        std::path::Path::new(&file).starts_with(app.data_dir().join("evidence")),
        "evidence file {file}"
    );
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        evidence["against_primary"].is_object() && evidence["against_witness"].is_object(),
        "{evidence}"
    );
    // It was sent to every node (against the primary to the witness, against the witness to
    // the primary, both to the others), each accepted it, and the devnet has it.
    let submitted = app.js(
        "return Array.from(document.querySelectorAll('#fork-submitted li')).map(e => e.textContent)",
    );
    let submitted: Vec<&str> = submitted
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        submitted.iter().all(|s| s.contains(": accepted ")),
        "{submitted:?}"
    );
    for (i, url) in net.urls.iter().enumerate() {
        assert!(
            submitted.iter().any(|s| s.starts_with(&format!("{url}: "))),
            "evidence not sent to {url}: {submitted:?}"
        );
        let received = net.evidence(i);
        assert!(!received.is_empty(), "node {i} received no evidence");
        assert!(
            received
                .iter()
                .all(|e| e.conflicting_height == conflict && e.common_height == common),
            "node {i} received {received:?}"
        );
    }
    assert_eq!(net.evidence(2)[0].byzantine_validators, 4);

    let nodes = app.nodes();
    assert_eq!(row(&nodes, &net.urls[2]).health, "forked");
    app.log(format_args!("nodes after the fork: {nodes:?}"));
    app.shot("fork-1-network.png");
    app.log(format_args!("at the screenshot: {}", snapshot(&app)));
    print_states(&app.recorded_states());

    // Nothing new is trusted: the head stays where the fork stopped it.
    let head = app.head().unwrap();
    assert!(
        head.0 <= common,
        "head {head:?} above the common height {common}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(app.head().unwrap(), head);
    assert_eq!(app.state(), "fork_detected");

    // Every other page carries the panel, with the evidence behind "show".
    app.open("verify");
    app.wait_for("#fork-panel");
    app.click("#fork-show-evidence");
    app.wait(WAIT, "the evidence shown", || {
        (app.visible_text("#fork-evidence-file") == file).then_some(())
    });
    app.shot("fork-2-verify-evidence.png");
}

#[test]
fn first_run_joins_the_devnet_from_a_pasted_chain_config() {
    let net = Net::start();
    let app = App::launch(None);

    // 4. No chain config: the app opens the join screen by itself.
    app.wait_state(WAIT, &["not_configured"]);
    app.wait_for("#page-network");
    app.wait_for("#join-network");
    assert!(!app.config_dir().join("chain-config.json").exists());
    let text = net.config_text();
    let paste = app.session().find("#chain-paste").unwrap();
    // Typed as the keyboard would: a line break is the Enter key.
    app.session()
        .send_keys(&paste, &text.replace('\n', "\u{E007}"))
        .unwrap();
    let typed = app.js("return document.querySelector('#chain-paste').value");
    assert_eq!(typed.as_str().unwrap().trim(), text.trim());
    app.click("#chain-preview-button");
    app.wait_for("#chain-preview");

    let (checkpoint, checkpoint_hash) = net.checkpoint();
    assert_eq!(app.visible_text("#preview-chain-id"), net.chain_id);
    assert_eq!(
        app.visible_text("#preview-chain-checkpoint-height"),
        checkpoint.to_string()
    );
    assert_eq!(
        app.visible_text("#preview-chain-checkpoint-hash"),
        checkpoint_hash
    );
    assert_eq!(
        app.visible_text("#preview-chain-fingerprint"),
        net.fingerprint()
    );
    let listed = app.js(
        "return Array.from(document.querySelectorAll('#preview-chain-nodes li')).map(e => [e.dataset.role, e.querySelector('bdi').textContent])",
    );
    let listed: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        listed,
        net.urls
            .iter()
            .enumerate()
            .map(|(i, u)| (if i == 0 { "primary" } else { "witness" }.into(), u.clone()))
            .collect::<Vec<_>>()
    );
    // Nothing is trusted before the user says so.
    assert_eq!(app.state(), "not_configured");
    assert!(!app.config_dir().join("chain-config.json").exists());
    app.scroll_to("#chain-preview");
    app.shot("join-1-preview.png");

    app.click("#chain-trust");
    let since = Instant::now();
    let (height, _) = synced(&net, &app);
    app.log(format_args!(
        "trusted → synced at {height} in {:.1} s",
        since.elapsed().as_secs_f64()
    ));
    assert!(!app.exists("#join-network"), "the join screen stays open");
    assert_eq!(
        app.text_of("#chain-fingerprint").unwrap(),
        net.fingerprint()
    );
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(app.config_dir().join("chain-config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stored["chain_id"], net.chain_id.as_str());
    assert_eq!(stored["checkpoint"], net.config()["checkpoint"]);
    app.scroll_to("#node-card");
    app.shot("join-2-synced.png");
    app.scroll_to("#nodes-card");
    app.shot("join-3-synced-nodes.png");
}

/// Gives `bytes` to the file input `css` as the user's choice of file `name`.
fn choose_file(app: &App, css: &str, name: &str, mime: &str, bytes: &[u8]) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    app.js(&format!(
        "const bytes = Uint8Array.from(atob({b64}), c => c.charCodeAt(0));\
         const dt = new DataTransfer();\
         dt.items.add(new File([bytes], {name}, {{type: {mime}}}));\
         const input = document.querySelector({css});\
         input.files = dt.files;\
         input.dispatchEvent(new Event('change', {{bubbles: true}}));\
         return true",
        b64 = serde_json::Value::from(b64),
        name = serde_json::Value::from(name),
        mime = serde_json::Value::from(mime),
        css = serde_json::Value::from(css),
    ));
}

#[test]
fn first_run_joins_the_devnet_from_the_chain_config_qr_image() {
    let net = Net::start();
    let app = App::launch(None);
    app.wait_state(WAIT, &["not_configured"]);
    app.wait_for("#join-network");

    // A QR code that is not a chain config (a certificate's): refused in words, nothing
    // trusted.
    let foreign = devnet::qr_png(b"TS1:not-a-chain-config").unwrap();
    choose_file(&app, "#chain-qr-file", "code.png", "image/png", &foreign);
    let error = app.wait(WAIT, "the foreign code refused", || {
        app.text_of("#chain-error").filter(|e| !e.trim().is_empty())
    });
    app.log(format!("foreign code: {error}"));
    assert!(!app.exists("#chain-preview"));
    assert_eq!(app.state(), "not_configured");

    // The operator's published image of the chain config: previewed as the text would be.
    let image = std::fs::read(net.files_dir().join(devnet::CHAIN_CONFIG_QR_FILE)).unwrap();
    choose_file(
        &app,
        "#chain-qr-file",
        "chain-config.png",
        "image/png",
        &image,
    );
    app.wait_for("#chain-preview");
    let (checkpoint, checkpoint_hash) = net.checkpoint();
    assert_eq!(app.visible_text("#preview-chain-id"), net.chain_id);
    assert_eq!(
        app.visible_text("#preview-chain-checkpoint-height"),
        checkpoint.to_string()
    );
    assert_eq!(
        app.visible_text("#preview-chain-checkpoint-hash"),
        checkpoint_hash
    );
    assert_eq!(
        app.visible_text("#preview-chain-fingerprint"),
        net.fingerprint()
    );
    assert_eq!(app.state(), "not_configured", "nothing trusted yet");
    app.scroll_to("#chain-preview");
    app.shot("join-qr-preview.png");
    app.click("#chain-trust");
    let (height, _) = synced(&net, &app);
    app.log(format_args!(
        "trusted from the QR image → synced at {height}"
    ));
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(app.config_dir().join("chain-config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stored["checkpoint"], net.config()["checkpoint"]);
}

#[test]
fn a_corrupt_chain_config_gives_a_clear_error_and_is_left_as_it_was() {
    let data = tempfile::tempdir().unwrap();
    let corrupt = data.path().join("corrupt-chain-config.json");
    std::fs::write(&corrupt, b"{\"chain_id\": 12").unwrap();
    let app = App::launch(Some(&corrupt));
    app.wait_state(WAIT, &["config_invalid"]);
    app.open("network");
    app.wait_for("#chain-config-invalid");
    assert_eq!(
        app.visible_text("#chain-config-source"),
        corrupt.display().to_string()
    );
    assert!(!app.visible_text("#chain-config-reason").is_empty());
    app.shot("network-config-invalid.png");
    drop(app);
    assert_eq!(std::fs::read(&corrupt).unwrap(), b"{\"chain_id\": 12");
}
