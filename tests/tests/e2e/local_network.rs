//! The app on the local development network: the devnet writes its chain config, and the app
//! started on it shows that chain, its checkpoint and its full nodes; a corrupt chain config
//! gives a clear error and is left as it was.

use std::{ffi::OsStr, time::Duration};

use tradeseal_tests::{app_binary, artifacts_dir, Session, TauriDriver, VirtualDisplay};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn app_shows_the_local_network_it_trusts() {
    let app = app_binary();
    let shots = artifacts_dir();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = devnet::DevnetConfig::for_tests();
    config.data_dir = Some(data.path().to_path_buf());
    let net = runtime.block_on(devnet::Devnet::start(config)).unwrap();
    let chain_config = net
        .files()
        .expect("files were written")
        .chain_config
        .clone();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&chain_config).unwrap()).unwrap();
    let chain_id = written["chain_id"].as_str().unwrap().to_owned();
    let urls = net.rpc_urls().to_vec();

    let display = VirtualDisplay::start();
    let home = tempfile::tempdir().unwrap();
    let driver = TauriDriver::start(
        &display,
        home.path(),
        &[("TRADESEAL_CHAIN_CONFIG", chain_config.as_os_str())],
    );
    let session = Session::launch(&driver.url, &app)
        .unwrap()
        .with_diagnostics(&shots);
    session
        .wait_for("#status-bar[data-state='configured']", WAIT)
        .unwrap();
    let state = session.text(&session.find("#node-state").unwrap()).unwrap();
    assert!(state.starts_with(&chain_id), "status bar says {state:?}");

    session
        .click(&session.find("#nav-network").unwrap())
        .unwrap();
    let primary = session.wait_for("#primary-node", WAIT).unwrap();
    assert_eq!(session.text(&primary).unwrap(), urls[0]);
    assert_eq!(
        session.text(&session.find("#chain-id").unwrap()).unwrap(),
        chain_id
    );
    let witnesses = session
        .execute("return Array.from(document.querySelectorAll('#witness-nodes li')).map(e => e.textContent)")
        .unwrap();
    let witnesses: Vec<&str> = witnesses
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(witnesses, urls[1..]);
    session
        .screenshot(&shots.join("network-devnet.png"))
        .unwrap();
    session.quit().unwrap();
    drop(driver);

    // A corrupt chain config: a clear error on the Network page, the file left as it was.
    let corrupt = data.path().join("corrupt-chain-config.json");
    std::fs::write(&corrupt, b"{\"chain_id\": 12").unwrap();
    let driver = TauriDriver::start(
        &display,
        home.path(),
        &[("TRADESEAL_CHAIN_CONFIG", OsStr::new(&corrupt))],
    );
    let session = Session::launch(&driver.url, &app)
        .unwrap()
        .with_diagnostics(&shots);
    session
        .wait_for("#status-bar[data-state='config_invalid']", WAIT)
        .unwrap();
    session
        .click(&session.find("#nav-network").unwrap())
        .unwrap();
    session.wait_for("#chain-config-invalid", WAIT).unwrap();
    session
        .screenshot(&shots.join("network-config-invalid.png"))
        .unwrap();
    session.quit().unwrap();
    assert_eq!(std::fs::read(&corrupt).unwrap(), b"{\"chain_id\": 12");

    runtime.block_on(net.shutdown());
}
