//! Signatures per second and latency per key backend: the OS credential store (GNOME Keyring's
//! Secret Service on a private D-Bus session), a SoftHSM2 token, and ed25519-dalek in memory
//! for comparison. Starts the stores itself (the tests' `stores.rs`). Run with
//! `cargo bench -p tradeseal-wallet --bench keys`; not part of the tests.

#[path = "../tests/stores.rs"]
mod stores;

use std::time::{Duration, Instant};

use ed25519_dalek::Signer as _;
use tradeseal_wallet::keystore::{BackendChoice, Keystore, Pin, TokenConfig};

const MESSAGE: [u8; 120] = [7; 120];

fn summary(name: &str, what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let total: Duration = samples.iter().sum();
    let pct = |p: f64| samples[((n as f64 * p) as usize).min(n - 1)];
    println!(
        "| {name} | {what} | {n} | {:.0} | {:.1} | {:.1} | {:.1} |",
        n as f64 / total.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        samples[n - 1].as_secs_f64() * 1e6,
    );
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() {
    if !stores::require(&[
        "dbus-daemon",
        "dbus-send",
        "gnome-keyring-daemon",
        "softhsm2-util",
    ]) {
        return;
    }
    let mut s = stores::Stores::new();
    s.start_secret_service().start_softhsm();
    // Before any thread: the stores are found through the environment.
    for (k, v) in s.env() {
        std::env::set_var(k, v);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| backend | operation | n | per second | median µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|---|---|");

    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let samples = (0..20_000).map(|_| time(|| key.sign(&MESSAGE)).1).collect();
    summary("in memory (ed25519-dalek)", "sign", samples);

    let ks = rt
        .block_on(Keystore::open(&s.dir.path().join("wallet")))
        .unwrap();
    let token = BackendChoice::Pkcs11(TokenConfig {
        library: s.pkcs11_library.clone().unwrap(),
        slot: None,
        token_label: Some(stores::TOKEN_LABEL.to_owned()),
    });
    let pin = || Some(Pin::new(stores::PIN.to_owned()));
    rt.block_on(ks.create("keyring", &BackendChoice::Keyring, None))
        .unwrap();
    rt.block_on(ks.create("token", &token, pin())).unwrap();

    for (label, name, opens, signs) in [
        (
            "keyring",
            "OS credential store (Secret Service)",
            300,
            20_000,
        ),
        ("token", "PKCS#11 (SoftHSM2)", 100, 5_000),
    ] {
        let p = || if label == "token" { pin() } else { None };
        let samples = (0..opens)
            .map(|_| time(|| drop(rt.block_on(ks.open_session(label, p())).unwrap())).1)
            .collect();
        summary(name, "open a session (read the secret / log in)", samples);
        let samples = (0..opens)
            .map(|_| {
                time(|| {
                    let mut session = rt.block_on(ks.open_session(label, p())).unwrap();
                    session.sign(&MESSAGE).unwrap()
                })
                .1
            })
            .collect();
        summary(name, "open a session and sign once", samples);
        let mut session = rt.block_on(ks.open_session(label, p())).unwrap();
        let samples = (0..signs)
            .map(|_| time(|| session.sign(&MESSAGE).unwrap()).1)
            .collect();
        summary(name, "sign in an open session", samples);
    }
    rt.block_on(ks.close());
}
