//! Real key stores started by the tests themselves, in a temporary folder: a private D-Bus
//! session bus with GNOME Keyring's Secret Service unlocked in it, and a SoftHSM2 token.
//! Shared with the CLI's tests (`#[path]`). Every process started here is a child of the
//! [`Stores`] guard and is stopped when it drops.
//!
//! The credential store and the PKCS#11 library are reached through the environment
//! (`DBUS_SESSION_BUS_ADDRESS`, `SOFTHSM2_CONF`), which a test process must not change while
//! it runs threads: tests that sign in-process run their body in a child test process
//! started with that environment ([`Stores::run_child`]); CLI tests pass it to the binary.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The SoftHSM2 token's PIN in the tests.
pub const PIN: &str = "246810";
/// Its security officer's PIN.
pub const SO_PIN: &str = "13579111";
/// The token's label.
pub const TOKEN_LABEL: &str = "tradeseal-test";
/// The environment variable that marks a child test process.
pub const CHILD: &str = "TRADESEAL_KEYSTORE_TEST_CHILD";
/// The login keyring's password.
const KEYRING_PASSWORD: &str = "test-login-password";

/// SoftHSM2's PKCS#11 module, where Debian installs it.
pub const SOFTHSM_LIBRARIES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tools are here. Missing under `CI=true` is a failure with the reason;
/// elsewhere the test says what is missing and is skipped.
pub fn require(tools: &[&str]) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|t| !have(t))
        .map(|t| (*t).to_owned())
        .collect();
    if tools.contains(&"softhsm2-util") && softhsm_library().is_none() {
        missing.push("libsofthsm2.so".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "missing {} (Debian: dbus, gnome-keyring, libsecret-tools, softhsm2, opensc; \
         `cargo xtask setup --test` installs them)",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// SoftHSM2's module on this machine.
pub fn softhsm_library() -> Option<PathBuf> {
    SOFTHSM_LIBRARIES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The running stores.
pub struct Stores {
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    /// The session bus, when started.
    pub dbus_address: Option<String>,
    /// The SoftHSM2 configuration file, when a token was made.
    pub softhsm_conf: Option<PathBuf>,
    /// The PKCS#11 module.
    pub pkcs11_library: Option<PathBuf>,
}

impl Drop for Stores {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Stores {
    /// Nothing started yet.
    pub fn new() -> Stores {
        Stores {
            dir: tempfile::tempdir().expect("a temporary folder"),
            children: Vec::new(),
            dbus_address: None,
            softhsm_conf: None,
            pkcs11_library: None,
        }
    }

    /// The folder the OS credential store keeps its files in (GNOME Keyring's keyrings).
    pub fn keyring_files(&self) -> PathBuf {
        self.dir.path().join("xdg-data/keyrings")
    }

    /// The SoftHSM2 token folder.
    pub fn token_dir(&self) -> PathBuf {
        self.dir.path().join("tokens")
    }

    /// A private session bus and GNOME Keyring's Secret Service, its login keyring unlocked.
    pub fn start_secret_service(&mut self) -> &mut Stores {
        let root = self.dir.path().to_path_buf();
        let runtime = root.join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::create_dir_all(root.join("xdg-data")).unwrap();
        let address = format!("unix:path={}", root.join("bus").display());
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address={address}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting dbus-daemon");
        // The daemon prints its address once it listens.
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("unix:"), "dbus-daemon printed {line:?}");
        self.children.push(bus);
        let address = line.trim().to_owned();

        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(self.secret_service_env_for(&address))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting gnome-keyring-daemon");
        {
            let mut stdin = keyring.stdin.take().unwrap();
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).unwrap();
        }
        self.children.push(keyring);
        // Ready when the Secret Service's name is on the bus (bounded; not a timing check).
        let mut ready = false;
        for _ in 0..400 {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .envs(self.secret_service_env_for(&address))
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                ready = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            ready,
            "gnome-keyring-daemon did not take the Secret Service name"
        );
        self.dbus_address = Some(address);
        self
    }

    fn secret_service_env_for(&self, address: &str) -> Vec<(String, String)> {
        let root = self.dir.path();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), address.to_owned()),
            (
                "XDG_DATA_HOME".into(),
                root.join("xdg-data").display().to_string(),
            ),
            (
                "XDG_RUNTIME_DIR".into(),
                root.join("run").display().to_string(),
            ),
            ("HOME".into(), root.display().to_string()),
        ]
    }

    /// A SoftHSM2 configuration with its own token folder, and a token initialised in it.
    pub fn start_softhsm(&mut self) -> &mut Stores {
        let tokens = self.token_dir();
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = self.dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", TOKEN_LABEL])
            .args(["--so-pin", SO_PIN, "--pin", PIN])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.softhsm_conf = Some(conf);
        self.pkcs11_library = softhsm_library();
        self
    }

    /// The environment that reaches these stores.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Some(a) = &self.dbus_address {
            env.extend(self.secret_service_env_for(a));
        }
        if let Some(c) = &self.softhsm_conf {
            env.push(("SOFTHSM2_CONF".into(), c.display().to_string()));
        }
        env
    }

    /// A command with the stores' environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env());
        c
    }

    /// Runs test `name` of this test binary again, alone, in a child process that has the
    /// stores' environment, and fails when it fails.
    pub fn run_child(&self, name: &str) {
        let exe = std::env::current_exe().unwrap();
        let out = self
            .command(exe)
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("TRADESEAL_TEST_DIR", self.dir.path())
            .output()
            .expect("running the child test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child test {name} failed:\n{stdout}\n{stderr}"
        );
        print!("{stdout}");
    }
}

/// In a child test process: the stores' folder. `None` in the parent.
pub fn child_dir() -> Option<PathBuf> {
    std::env::var_os(CHILD)?;
    std::env::var_os("TRADESEAL_TEST_DIR").map(PathBuf::from)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Fails when any file under `dir` holds any of `secret`'s forms: raw, hex (either case),
/// base64 (standard or URL-safe, padded or not), and any 16-byte window of the raw bytes.
pub fn assert_no_secret(dir: &Path, what: &str, secret: &[u8]) {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::STANDARD.encode(secret);
    let mut needles: Vec<Vec<u8>> = vec![
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        e.trim_end_matches('=').as_bytes().to_vec(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
    ];
    for w in secret.windows(16.min(secret.len())) {
        needles.push(w.to_vec());
    }
    let files = files_under(dir);
    assert!(!files.is_empty(), "nothing to scan in {}", dir.display());
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "{what} found in {}",
                file.display()
            );
        }
    }
}
