//! `tradeseal-cli keys` against real stores started by the test: GNOME Keyring's Secret
//! Service on a private D-Bus session bus, and a SoftHSM2 token (the wallet's `stores.rs`).

#[path = "../../wallet/tests/stores.rs"]
mod stores;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use stores::{require, Stores, PIN, TOKEN_LABEL};

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// The public key of [`WORDS`] by the derivation in docs/protocol.md.
const WORDS_PUBLIC_KEY: &str = "5ed264dc2d5b27401d5a3b5fcdc9254ea4ccf79afbe89689941989bb5b49ced8";

fn cli(stores: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (Output, Value) {
    let data = stores.dir.path().join("cli-data");
    let mut child = stores
        .command(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("TRADESEAL_PIN")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tradeseal-cli");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, json)
}

fn ok(stores: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Value {
    let (out, json) = cli(stores, args, stdin, env);
    assert!(
        out.status.success(),
        "keys {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json
}

fn err(stores: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Value {
    let (out, json) = cli(stores, args, stdin, env);
    assert_eq!(out.status.code(), Some(2), "keys {args:?}: {json}");
    assert!(json["error"]["kind"].is_string(), "keys {args:?}: {json}");
    assert!(
        json["error"]["message"].is_string(),
        "keys {args:?}: {json}"
    );
    json
}

#[test]
fn keys_in_the_os_credential_store() {
    if !require(&[
        "dbus-daemon",
        "dbus-send",
        "gnome-keyring-daemon",
        "secret-tool",
    ]) {
        return;
    }
    let mut s = Stores::new();
    s.start_secret_service();

    assert_eq!(ok(&s, &["list"], "", &[])["keys"], Value::Array(vec![]));
    let created = ok(&s, &["create", "--label", "inspector"], "", &[]);
    let words = created["backup_mnemonic"].as_str().unwrap();
    assert_eq!(words.split(' ').count(), 24);
    assert!(created["backup_warning"]
        .as_str()
        .unwrap()
        .contains("not shown again"));
    assert_eq!(created["key"]["backend"], "keyring");
    assert_eq!(created["key"]["origin"], "created");
    assert!(created["key"]["protection"]
        .as_str()
        .unwrap()
        .contains("Secret Service"));

    // The backup words import the same key (elsewhere: here it is already in the wallet).
    let again = err(
        &s,
        &["import", "--label", "copy"],
        &format!("{words}\n"),
        &[],
    );
    assert_eq!(again["error"]["kind"], "exists");

    let imported = ok(
        &s,
        &["import", "--label", "abandon"],
        &format!("{WORDS}\n"),
        &[],
    );
    assert_eq!(imported["key"]["public_key"], WORDS_PUBLIC_KEY);
    assert_eq!(imported["key"]["origin"], "imported");
    let bad = err(
        &s,
        &["import", "--label", "bad"],
        "abandon abandon abandon\n",
        &[],
    );
    assert_eq!(bad["error"]["kind"], "invalid_request");
    let none = err(&s, &["import", "--label", "none"], "", &[]);
    assert!(none["error"]["message"].as_str().unwrap().contains("stdin"));

    let public = ok(&s, &["export-public", "--label", "abandon"], "", &[]);
    assert_eq!(public["public_key"], WORDS_PUBLIC_KEY);
    assert_eq!(public["algorithm"], "ed25519");
    assert_eq!(public["public_key_base64"].as_str().unwrap().len(), 44);

    let renamed = ok(
        &s,
        &["rename", "--label", "abandon", "--to", "words"],
        "",
        &[],
    );
    assert_eq!(renamed["key"]["label"], "words");
    let listed = ok(&s, &["list"], "", &[]);
    let labels: Vec<&str> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["inspector", "words"]);
    // The listing holds no secret.
    assert!(!listed.to_string().contains(words));

    let unconfirmed = err(&s, &["delete", "--label", "words"], "", &[]);
    assert_eq!(unconfirmed["error"]["kind"], "confirmation_required");
    assert!(unconfirmed["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--yes"));
    let deleted = ok(&s, &["delete", "--label", "words", "--yes"], "", &[]);
    assert_eq!(deleted["deleted"]["public_key"], WORDS_PUBLIC_KEY);
    let missing = err(&s, &["export-public", "--label", "words"], "", &[]);
    assert_eq!(missing["error"]["kind"], "not_found");

    // Development keys from a devnet key file, marked as such.
    let file = s.dir.path().join("dev-keys.json");
    let key = registry::devkit::dev_key("gov-0");
    std::fs::write(
        &file,
        serde_json::json!({
            "warning": devnet::DEV_KEY_WARNING,
            "governance": {"threshold": 1, "keys": [{
                "label": "governance-0",
                "public_key": hex::encode(key.verifying_key().to_bytes()),
                "secret_key": hex::encode(key.to_bytes()),
            }]},
            "issuers": [],
        })
        .to_string(),
    )
    .unwrap();
    let dev = ok(
        &s,
        &["import-dev", "--file", file.to_str().unwrap()],
        "",
        &[],
    );
    assert_eq!(dev["keys"][0]["label"], "dev/governance-0");
    assert_eq!(dev["keys"][0]["development"], true);
}

#[test]
fn keys_in_a_pkcs11_token() {
    if !require(&["softhsm2-util", "pkcs11-tool"]) {
        return;
    }
    let mut s = Stores::new();
    s.start_softhsm();
    let lib = s.pkcs11_library.clone().unwrap();
    let lib = lib.to_str().unwrap();
    let token = [
        "--backend",
        "pkcs11",
        "--pkcs11-lib",
        lib,
        "--token-label",
        TOKEN_LABEL,
    ];

    // A PIN is never an argument.
    let (out, _) = cli(&s, &["create", "--label", "x", "--pin", PIN], "", &[]);
    assert_eq!(out.status.code(), Some(2));
    let args = |label: &'static str| {
        let mut a = vec!["create", "--label", label];
        a.extend_from_slice(&token);
        a
    };
    let wrong = err(&s, &args("hsm"), "000000\n", &[]);
    assert_eq!(wrong["error"]["kind"], "wrong_pin");
    assert_eq!(wrong["error"]["pin_retry"], "count_low");
    let no_pin = err(&s, &args("hsm"), "", &[]);
    assert_eq!(no_pin["error"]["kind"], "invalid_request");

    // The PIN from the environment, then from stdin.
    let created = ok(&s, &args("hsm"), "", &[("TRADESEAL_PIN", PIN)]);
    assert_eq!(created["backup_mnemonic"], Value::Null);
    assert_eq!(created["key"]["origin"], "generated_in_token");
    assert_eq!(created["key"]["token"]["label"], TOKEN_LABEL);
    let mut import = vec!["import", "--label", "words"];
    import.extend_from_slice(&token);
    let imported = ok(&s, &import, &format!("{WORDS}\n{PIN}\n"), &[]);
    assert_eq!(imported["key"]["public_key"], WORDS_PUBLIC_KEY);
    assert!(imported["key"]["protection"]
        .as_str()
        .unwrap()
        .contains("imported into the token"));

    let unknown = err(
        &s,
        &["create", "--label", "y", "--backend", "paper"],
        "",
        &[],
    );
    assert_eq!(unknown["error"]["kind"], "invalid_request");
    let missing_lib = err(
        &s,
        &["create", "--label", "y", "--backend", "pkcs11"],
        "",
        &[],
    );
    assert!(missing_lib["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--pkcs11-lib"));

    let deleted = ok(
        &s,
        &["delete", "--label", "hsm", "--yes"],
        &format!("{PIN}\n"),
        &[],
    );
    assert_eq!(deleted["deleted"]["label"], "hsm");
    assert_eq!(
        ok(&s, &["list"], "", &[])["keys"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn without_a_credential_store_create_fails_plainly() {
    let s = Stores::new();
    let bus = format!("unix:path={}", s.dir.path().join("no-bus").display());
    let e = err(
        &s,
        &["create", "--label", "k"],
        "",
        &[("DBUS_SESSION_BUS_ADDRESS", bus.as_str())],
    );
    assert_eq!(e["error"]["kind"], "credential_store");
    assert_eq!(ok(&s, &["list"], "", &[])["keys"], Value::Array(vec![]));
}

#[test]
fn help_says_where_secrets_come_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .args(["keys", "import", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("stdin") && help.contains("TRADESEAL_PIN"),
        "{help}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .args(["keys", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "list",
        "create",
        "import",
        "import-dev",
        "rename",
        "delete",
        "export-public",
    ] {
        assert!(help.contains(sub), "{sub} missing from:\n{help}");
    }
}
