//! What the light-node tests share: a devnet on loopback with its chain config on disk, the app
//! launched on it under Xvfb, and small probes of what the app's WebView shows (the status
//! bar's state, the Network page's node rows and verified head), each wait bounded.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tradeseal_tests::{
    app_binary, artifacts_dir, memory_of_tree, Session, TauriDriver, VirtualDisplay,
};

/// The devnet's block interval.
pub const BLOCK: Duration = Duration::from_millis(200);
/// Launching the app and finding an element of the current page.
pub const WAIT: Duration = Duration::from_secs(30);
/// From launch (or from trusting a chain) to "synced".
pub const SYNC: Duration = Duration::from_secs(60);
/// The app's directory name under XDG_CONFIG_HOME and XDG_DATA_HOME (tauri.conf.json).
const APP_ID: &str = "org.tradeseal.wallet";

/// A devnet on loopback (3 full nodes, 200 ms blocks) that writes its chain config to a
/// temporary directory. Stopped on drop.
pub struct Net {
    runtime: tokio::runtime::Runtime,
    net: Option<devnet::Devnet>,
    _data: tempfile::TempDir,
    /// The chain config file the devnet wrote.
    pub chain_config: PathBuf,
    pub chain_id: String,
    /// The full nodes' URLs: node 0 is the primary in the chain config, the others witnesses.
    pub urls: Vec<String>,
}

impl Net {
    pub fn start() -> Net {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let config = devnet::DevnetConfig {
            block_interval: BLOCK,
            data_dir: Some(data.path().to_path_buf()),
            ..devnet::DevnetConfig::for_tests()
        };
        let net = runtime
            .block_on(devnet::Devnet::start(config))
            .expect("the devnet starts");
        let chain_config = net
            .files()
            .expect("the devnet wrote its files")
            .chain_config
            .clone();
        let urls = net.rpc_urls().to_vec();
        assert!(urls.iter().all(|u| u.starts_with("http://127.0.0.1:")));
        let mut net = Net {
            runtime,
            net: Some(net),
            _data: data,
            chain_config,
            chain_id: String::new(),
            urls,
        };
        net.chain_id = net.config()["chain_id"].as_str().unwrap().to_owned();
        net
    }

    /// Where the devnet wrote its files (chain config, `certificates.json`, `qr/`).
    pub fn files_dir(&self) -> &Path {
        self._data.path()
    }

    pub fn devnet(&self) -> &devnet::Devnet {
        self.net.as_ref().expect("the devnet runs")
    }

    /// Submits `tx` to the devnet's mempool; panics when CheckTx refuses it.
    pub fn submit(&self, what: &str, tx: Vec<u8>) {
        let r = self
            .devnet()
            .chain()
            .submit_tx(tx)
            .unwrap_or_else(|e| panic!("{what}: the mempool refused it: {e}"));
        assert_eq!(r.code.value(), 0, "{what}: CheckTx refused it: {}", r.log);
    }

    /// Waits until the transactions submitted so far are in a block whose state is
    /// queryable (two more blocks).
    pub fn settle(&self) {
        let chain = self.devnet().chain();
        let deadline = Instant::now() + WAIT;
        while chain.mempool_size() > 0 {
            assert!(Instant::now() < deadline, "the mempool did not drain");
            std::thread::sleep(BLOCK / 2);
        }
        let h = chain.latest_height() + 2;
        assert!(self
            .runtime
            .block_on(self.devnet().wait_for_height(h, WAIT)));
    }

    /// A registry value in the devnet's latest state (empty when absent), read directly.
    pub fn state(&self, key: &[u8]) -> Vec<u8> {
        self.devnet().chain().value(key).unwrap()
    }

    /// A counter in the latest state (0 when absent).
    pub fn counter(&self, key: &[u8]) -> u64 {
        let v = self.state(key);
        if v.is_empty() {
            0
        } else {
            registry::state::decode_u64(&v).unwrap()
        }
    }

    /// The chain config's text, as the devnet wrote it.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(&self.chain_config).unwrap()
    }

    pub fn config(&self) -> Value {
        serde_json::from_str(&self.config_text()).unwrap()
    }

    /// The checkpoint's height and hash (upper-case hex).
    pub fn checkpoint(&self) -> (u64, String) {
        let config = self.config();
        let height = &config["checkpoint"]["height"];
        let height = height
            .as_str()
            .map(|h| h.parse().unwrap())
            .or_else(|| height.as_u64())
            .unwrap();
        let hash = config["checkpoint"]["hash"].as_str().unwrap().to_owned();
        (height, hash)
    }

    /// The root of trust's fingerprint as the operator computes it: the first 8 bytes of
    /// SHA-256 over the chain id, a zero byte, the checkpoint height (big-endian) and hash.
    pub fn fingerprint(&self) -> String {
        let (height, hash) = self.checkpoint();
        let mut h = Sha256::new();
        h.update(self.chain_id.as_bytes());
        h.update([0]);
        h.update(height.to_be_bytes());
        h.update(from_hex(&hash));
        upper_hex(&h.finalize()[..8])
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The latest height the devnet made.
    pub fn height(&self) -> u64 {
        self.devnet().chain().latest_height()
    }

    /// The canonical block hash at `height` (upper-case hex).
    pub fn hash_at(&self, height: u64) -> Option<String> {
        self.devnet()
            .chain()
            .blocks()
            .get(height)
            .map(|b| b.block_id.hash.to_hex())
    }

    /// The time of the block at `height` (Unix seconds).
    pub fn time_of(&self, height: u64) -> Option<i64> {
        self.devnet()
            .chain()
            .blocks()
            .get(height)
            .map(|b| b.header.time.unix_seconds())
    }

    pub fn set_behaviour(&self, node: usize, behaviour: devnet::Behaviour) {
        self.devnet().set_behaviour(node, behaviour);
    }

    /// The evidence node `node` received.
    pub fn evidence(&self, node: usize) -> Vec<devnet::EvidenceRecord> {
        self.devnet().evidence(node)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(net) = self.net.take() {
            self.runtime.block_on(net.shutdown());
        }
    }
}

/// One full node as its row on the Network page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub url: String,
    /// `primary` or `witness`.
    pub role: String,
    /// `ok`, `lagging`, `silent`, `faulty`, `forked` or `unknown`.
    pub health: String,
    /// What went wrong, in words (empty when nothing).
    pub detail: String,
}

/// The app under Xvfb, its settings and data in a private home. Closed on drop.
pub struct App {
    session: Option<Session>,
    _driver: TauriDriver,
    _display: VirtualDisplay,
    home: tempfile::TempDir,
    shots: PathBuf,
    started: Instant,
}

impl App {
    /// Launch the app; `chain_config` is given as `TRADESEAL_CHAIN_CONFIG` (without it the app
    /// looks in its own, empty, config folder).
    pub fn launch(chain_config: Option<&Path>) -> App {
        Self::launch_with(chain_config, &[])
    }

    /// Launch the app with `extra` in its environment too (a Secret Service's bus, a
    /// SoftHSM2 configuration).
    pub fn launch_with(chain_config: Option<&Path>, extra: &[(String, String)]) -> App {
        let app = app_binary();
        let shots = artifacts_dir();
        let home = tempfile::tempdir().unwrap();
        let display = VirtualDisplay::start();
        let env: Vec<(&str, &OsStr)> = chain_config
            .map(|p| ("TRADESEAL_CHAIN_CONFIG", p.as_os_str()))
            .into_iter()
            .chain(
                extra
                    .iter()
                    .map(|(k, v)| (k.as_str(), OsStr::new(v.as_str()))),
            )
            .collect();
        let driver = TauriDriver::start(&display, home.path(), &env);
        let started = Instant::now();
        let session = Session::launch(&driver.url, &app)
            .unwrap()
            .with_diagnostics(&shots);
        session.set_window_size(1100, 900).unwrap();
        App {
            session: Some(session),
            _driver: driver,
            _display: display,
            home,
            shots,
            started,
        }
    }

    pub fn session(&self) -> &Session {
        self.session.as_ref().expect("the session is open")
    }

    /// When the app was launched.
    pub fn launched(&self) -> Instant {
        self.started
    }

    /// Where the app keeps its settings and chain config.
    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config").join(APP_ID)
    }

    /// Where the app keeps its header store and evidence.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data").join(APP_ID)
    }

    /// A line of the test's log, stamped with the time since launch.
    pub fn log(&self, what: impl std::fmt::Display) {
        println!("[{:6.1} s] {what}", self.started.elapsed().as_secs_f64());
    }

    /// Poll `probe` (every 100 ms) until it yields, or fail after `timeout` naming `what`
    /// (the page is then kept in the artifacts folder).
    pub fn wait<T>(&self, timeout: Duration, what: &str, probe: impl FnMut() -> Option<T>) -> T {
        self.session()
            .wait(timeout, what, probe)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn wait_for(&self, css: &str) {
        self.wait(WAIT, &format!("element {css}"), || {
            self.exists(css).then_some(())
        });
    }

    pub fn js(&self, script: &str) -> Value {
        self.session().execute(script).unwrap()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.js(&format!(
            "return document.querySelector({}) !== null",
            Value::from(css)
        )) == Value::Bool(true)
    }

    /// The text of the first element matching `css` (Unicode isolates removed), if any.
    pub fn text_of(&self, css: &str) -> Option<String> {
        let v = self.js(&format!(
            "const e = document.querySelector({}); return e ? e.textContent : null",
            Value::from(css)
        ));
        v.as_str()
            .map(|t| t.replace(['\u{2068}', '\u{2069}'], "").trim().to_owned())
    }

    /// The text of `css` as the user sees it (WebDriver's rendered text). Asked again when a
    /// new status replaced the element between finding and reading it.
    pub fn visible_text(&self, css: &str) -> String {
        let text = self.wait(WAIT, &format!("the text of {css}"), || {
            let e = self.session().find(css).ok()?;
            self.session().text(&e).ok()
        });
        text.replace(['\u{2068}', '\u{2069}'], "")
    }

    pub fn click(&self, css: &str) {
        self.wait(WAIT, &format!("a click on {css}"), || {
            let e = self.session().find(css).ok()?;
            self.session().click(&e).ok()
        });
    }

    /// The status bar's state (`data-state`): `synced`, `stale`, `fork_detected`, ...
    pub fn state(&self) -> String {
        self.js("const b = document.querySelector('#status-bar'); return b ? b.dataset.state : ''")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The status bar's line.
    pub fn status_line(&self) -> String {
        self.text_of("#node-state").unwrap_or_default()
    }

    pub fn wait_state(&self, timeout: Duration, states: &[&str]) -> String {
        self.wait(
            timeout,
            &format!("the status bar to say {states:?}"),
            || {
                let s = self.state();
                states.contains(&s.as_str()).then_some(s)
            },
        )
    }

    /// From now on the page keeps every state the status bar shows, with its line and the
    /// time it appeared (a MutationObserver: no state is missed between two polls).
    pub fn record_states(&self) {
        self.wait_for("#status-bar");
        let since = self.started.elapsed().as_secs_f64();
        self.js(&format!(
            "if (!window.e2eStates) {{\
               const bar = document.querySelector('#status-bar'), t0 = Date.now(), log = [];\
               const note = () => {{\
                 const s = bar.dataset.state, line = document.querySelector('#node-state').textContent;\
                 if (!log.length || log[log.length - 1][1] !== s) log.push([{since} + (Date.now() - t0) / 1000, s, line]);\
               }};\
               note();\
               new MutationObserver(note).observe(bar, {{attributes: true, childList: true, subtree: true, characterData: true}});\
               window.e2eStates = log;\
             }}"
        ));
    }

    /// The states recorded since [`App::record_states`]: seconds since launch, state, line.
    pub fn recorded_states(&self) -> Vec<(f64, String, String)> {
        let log = self.js("return window.e2eStates || []");
        log.as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e[0].as_f64().unwrap_or_default(),
                    e[1].as_str().unwrap_or_default().to_owned(),
                    e[2].as_str()
                        .unwrap_or_default()
                        .replace(['\u{2068}', '\u{2069}'], ""),
                )
            })
            .collect()
    }

    /// Open a page from the navigation.
    pub fn open(&self, page: &str) {
        self.click(&format!("#nav-{page}"));
        self.wait_for(&format!("#page-{page}"));
    }

    /// The node rows of the Network page, in their order.
    pub fn nodes(&self) -> Vec<NodeRow> {
        let rows = self.js(
            "return Array.from(document.querySelectorAll('#node-list .node-row')).map(r => [\
             r.dataset.url, r.dataset.role, r.dataset.health,\
             (r.querySelector('.node-detail') || {}).textContent || ''])",
        );
        rows.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let f = |i: usize| r[i].as_str().unwrap_or_default().to_owned();
                NodeRow {
                    url: f(0),
                    role: f(1),
                    health: f(2),
                    detail: f(3),
                }
            })
            .collect()
    }

    /// The verified head on the Network page: height and hash, read together.
    pub fn head(&self) -> Option<(u64, String)> {
        let v = self.js(
            "const h = document.querySelector('#head-height'), x = document.querySelector('#head-hash');\
             return h && x ? [h.textContent, x.textContent] : null",
        );
        let height = v.get(0)?.as_str()?.trim().parse().ok()?;
        let hash = v.get(1)?.as_str()?.replace(['\u{2068}', '\u{2069}'], "");
        Some((height, hash.trim().to_owned()))
    }

    /// Wait until the Network page shows a verified head within `near` blocks of the devnet's
    /// latest height whose hash is the devnet's block at that height; answers the head.
    pub fn wait_head_near(&self, net: &Net, near: u64, timeout: Duration) -> (u64, String) {
        self.wait(
            timeout,
            &format!("a verified head within {near} blocks of the devnet's height"),
            || {
                let (height, hash) = self.head()?;
                let latest = net.height();
                assert!(
                    height <= latest,
                    "the app shows height {height}, above the devnet's {latest}"
                );
                (height + near >= latest).then(|| {
                    assert_eq!(
                        net.hash_at(height).as_deref(),
                        Some(hash.as_str()),
                        "the app's head at height {height} is not the devnet's block"
                    );
                    (height, hash)
                })
            },
        )
    }

    /// Scroll the content so that `css` is at the top of the window.
    pub fn scroll_to(&self, css: &str) {
        self.js(&format!(
            "document.querySelector({}).scrollIntoView({{block: 'start'}})",
            Value::from(css)
        ));
    }

    /// Save a screenshot to the artifacts folder, once the WebView has painted what the page
    /// holds now (on a busy machine a snapshot can otherwise show an older frame).
    pub fn shot(&self, name: &str) {
        let _ = self.session().execute_async(
            "const done = arguments[arguments.length - 1];\
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));\
             setTimeout(() => done(false), 2000);",
        );
        std::thread::sleep(Duration::from_millis(300));
        let path = self.shots.join(name);
        self.session().screenshot(&path).unwrap();
        self.log(format_args!("screenshot {}", path.display()));
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.quit();
        }
        // Let the app and its WebView go before their home and display do.
        let app = app_binary();
        let deadline = Instant::now() + Duration::from_secs(10);
        while memory_of_tree(&app).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The head a status line names and its age: "… height 42, 12 s ago" → (42, 12 s); minutes,
/// hours and days as whole units.
pub fn head_claim(line: &str) -> Option<(u64, Duration)> {
    let height = number_after(line, "height")?;
    let rest =
        &line[line.find(&format!("height {height}, "))? + format!("height {height}, ").len()..];
    let value: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let value: u64 = value.parse().ok()?;
    let unit = rest[value.to_string().len()..].trim_start_matches([' ', '\u{a0}']);
    let secs = match unit.split([' ', '\u{a0}']).next()? {
        "s" => value,
        "min" => value * 60,
        "h" => value * 3_600,
        "d" => value * 86_400,
        _ => return None,
    };
    Some((height, Duration::from_secs(secs)))
}

/// The first number after `word ` in `text` ("verified up to height 42, 1 s ago" → 42).
pub fn number_after(text: &str, word: &str) -> Option<u64> {
    let rest = &text[text.find(&format!("{word} "))? + word.len() + 1..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
