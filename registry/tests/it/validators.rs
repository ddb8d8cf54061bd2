//! Validator changes by governance (`SetValidator`): the rules, the state, the block's
//! validator updates, and a genesis without validators.

use registry::devkit::{demo_genesis, dev_public_key};
use registry::state::{GovAction, Validator, ValidatorTotals, MAX_VALIDATORS, MAX_VALIDATOR_POWER};
use registry::{keys, Canonical, Genesis, GenesisError, Message, PublicKey, Registry, TxBuilder};

use crate::support::*;

fn validator(n: usize) -> PublicKey {
    dev_public_key(&format!("validator-{n}"))
}

/// The demo genesis with validators 0..n of power 10.
fn genesis_with(n: usize) -> Genesis {
    let mut g = demo_genesis(CHAIN, T0);
    g.validators = (0..n)
        .map(|i| Validator {
            pub_key: validator(i),
            power: 10,
        })
        .collect();
    g
}

fn chain_with(n: usize) -> Chain {
    Chain {
        reg: Registry::new(&genesis_with(n)).unwrap(),
        time: T0,
    }
}

/// Governance members 0 and 1 (threshold 2) propose and approve `action`, each in its own
/// block; returns the approval's result and its block's validator updates.
fn propose_and_approve(
    c: &mut Chain,
    seq: u64,
    action: GovAction,
) -> (registry::TxResult, Vec<Validator>) {
    let proposal = u64::from_be_bytes(c.reg.get(keys::PROPOSAL_LEN).unwrap().try_into().unwrap());
    let exp = c.time + 3600;
    let r = c.run(
        TxBuilder::new(CHAIN, &gov(0))
            .propose(seq, action, exp)
            .unwrap(),
    );
    assert_code(&r, 0);
    let out = c.block(&[TxBuilder::new(CHAIN, &gov(1))
        .approve(seq, proposal)
        .unwrap()]);
    (out.tx_results[0].clone(), out.validator_updates)
}

#[test]
fn genesis_validators_are_in_the_state() {
    let c = chain_with(2);
    assert_eq!(c.reg.validator_power(&validator(0)), Some(10));
    assert_eq!(c.reg.validator_power(&validator(5)), Some(0));
    assert_eq!(
        c.reg.validator_totals(),
        Some(ValidatorTotals {
            count: 2,
            total_power: 20
        })
    );
    assert_eq!(
        c.reg.get(&keys::validator(&validator(1))).unwrap(),
        10u64.to_be_bytes()
    );
}

#[test]
fn a_genesis_without_validators_is_unchanged_and_refuses_changes() {
    // The same genesis as before validators existed: same JSON, same app hash.
    let g = demo_genesis(CHAIN, T0);
    let json = serde_json::to_string(&g).unwrap();
    assert!(!json.contains("validators"));
    let back: Genesis = serde_json::from_str(&json).unwrap();
    assert!(back.validators.is_empty());
    let mut c = Chain::new();
    assert_eq!(c.reg.get(keys::VALIDATOR_SET), None);
    assert_eq!(c.reg.validator_power(&validator(0)), None);
    assert_ne!(
        Registry::new(&genesis_with(1)).unwrap().app_hash(),
        c.reg.app_hash()
    );
    // Refused at proposal time, with its own code.
    let r = c.run(
        TxBuilder::new(CHAIN, &gov(0))
            .set_validator(1, validator(0), 5, c.time + 100)
            .unwrap(),
    );
    assert_code(&r, 25);
}

#[test]
fn approved_changes_are_the_blocks_validator_updates() {
    let mut c = chain_with(2);
    // Add a validator: nothing changes at the proposal, the approval's block reports it.
    let exp = c.time + 3600;
    let out = c.block(&[TxBuilder::new(CHAIN, &gov(0))
        .set_validator(1, validator(2), 7, exp)
        .unwrap()]);
    assert_code(&out.tx_results[0], 0);
    assert!(out.validator_updates.is_empty());
    assert_eq!(c.reg.validator_power(&validator(2)), Some(0));
    let out = c.block(&[TxBuilder::new(CHAIN, &gov(1)).approve(1, 0).unwrap()]);
    assert_code(&out.tx_results[0], 0);
    assert_eq!(
        out.validator_updates,
        vec![Validator {
            pub_key: validator(2),
            power: 7
        }]
    );
    let ev = out.tx_results[0]
        .events
        .iter()
        .find(|e| e.kind == "validator_updated")
        .expect("validator_updated event");
    assert_eq!(
        ev.attributes,
        vec![
            ("pub_key".to_owned(), validator(2).to_hex()),
            ("power".to_owned(), "7".to_owned()),
            ("proposal".to_owned(), "0".to_owned()),
        ]
    );
    assert_eq!(
        c.reg.validator_totals(),
        Some(ValidatorTotals {
            count: 3,
            total_power: 27
        })
    );
    // Change a power, then remove one.
    let set = GovAction::SetValidator {
        pub_key: validator(0),
        power: 30,
    };
    let (r, updates) = propose_and_approve(&mut c, 2, set);
    assert_code(&r, 0);
    assert_eq!(updates[0].power, 30);
    let remove = GovAction::SetValidator {
        pub_key: validator(1),
        power: 0,
    };
    let (r, updates) = propose_and_approve(&mut c, 3, remove);
    assert_code(&r, 0);
    assert_eq!(
        updates,
        vec![Validator {
            pub_key: validator(1),
            power: 0
        }]
    );
    assert_eq!(c.reg.validator_power(&validator(1)), Some(0));
    assert_eq!(
        c.reg.validator_totals(),
        Some(ValidatorTotals {
            count: 2,
            total_power: 37
        })
    );
    // Removing it again: not a validator.
    let again = GovAction::SetValidator {
        pub_key: validator(1),
        power: 0,
    };
    let r = c.run(
        TxBuilder::new(CHAIN, &gov(0))
            .propose(4, again, c.time + 100)
            .unwrap(),
    );
    assert_code(&r, 26);
}

#[test]
fn several_changes_in_one_block_are_one_update_per_validator() {
    // With threshold 1 a proposal executes at once, so one block can change a validator twice.
    let mut g = genesis_with(2);
    g.governance.threshold = 1;
    let mut c = Chain {
        reg: Registry::new(&g).unwrap(),
        time: T0,
    };
    let k0 = gov(0);
    let b = TxBuilder::new(CHAIN, &k0);
    let exp = T0 + 3600;
    let out = c.block(&[
        b.set_validator(1, validator(0), 3, exp).unwrap(),
        b.set_validator(2, validator(0), 4, exp).unwrap(),
        // Added then removed in the same block: CometBFT never hears of it (removing a key
        // it does not know would halt it).
        b.set_validator(3, validator(5), 9, exp).unwrap(),
        b.set_validator(4, validator(5), 0, exp).unwrap(),
        // Set and set back: no change.
        b.set_validator(5, validator(1), 11, exp).unwrap(),
        b.set_validator(6, validator(1), 10, exp).unwrap(),
    ]);
    assert!(out.tx_results.iter().all(|r| r.is_ok()), "{out:?}");
    assert_eq!(
        out.validator_updates,
        vec![Validator {
            pub_key: validator(0),
            power: 4
        }]
    );
}

#[test]
fn refused_changes_change_nothing() {
    let mut c = chain_with(1);
    let hash_before = c.reg.app_hash();
    let exp = c.time + 3600;
    let k0 = gov(0);
    let g0 = TxBuilder::new(CHAIN, &k0);
    // The last validator cannot be removed.
    let out = c.block(&[g0.set_validator(1, validator(0), 0, exp).unwrap()]);
    assert_code(&out.tx_results[0], 27);
    assert!(out.validator_updates.is_empty());
    // A key that is not a valid ed25519 point (the builder refuses it; a hostile encoder
    // does not): code 24, as for RegisterIssuer.
    let bad = GovAction::SetValidator {
        pub_key: PublicKey([0; 32]),
        power: 1,
    };
    assert!(g0.propose(1, bad.clone(), exp).is_err());
    let msg = Message::Propose {
        action: bad,
        expires_at: exp,
    };
    assert_code(&c.run(raw_tx(&gov(0), CHAIN, 1, &msg)), 24);
    // A power over 2^40.
    let high = GovAction::SetValidator {
        pub_key: validator(1),
        power: MAX_VALIDATOR_POWER + 1,
    };
    let msg = Message::Propose {
        action: high,
        expires_at: exp,
    };
    assert_code(&c.run(raw_tx(&gov(0), CHAIN, 1, &msg)), 29);
    assert_eq!(c.reg.validator_power(&validator(0)), Some(10));
    assert_eq!(c.reg.validator_power(&validator(1)), Some(0));
    assert_ne!(c.reg.app_hash(), hash_before); // meta/block moved on, nothing else
    assert_eq!(c.reg.get(keys::PROPOSAL_LEN).unwrap(), 0u64.to_be_bytes());
}

#[test]
fn an_approval_whose_change_no_longer_fits_is_refused() {
    // Two proposals each removing one of two validators: the first executes, the second's
    // approval would remove the last one and is refused (the proposal stays open).
    let mut c = chain_with(2);
    let exp = c.time + 3600;
    let (k0, k1) = (gov(0), gov(1));
    let g0 = TxBuilder::new(CHAIN, &k0);
    let g1 = TxBuilder::new(CHAIN, &k1);
    c.block(&[
        g0.set_validator(1, validator(0), 0, exp).unwrap(),
        g0.set_validator(2, validator(1), 0, exp).unwrap(),
    ]);
    let out = c.block(&[g1.approve(1, 0).unwrap()]);
    assert_code(&out.tx_results[0], 0);
    assert_eq!(out.validator_updates.len(), 1);
    let out = c.block(&[g1.approve(2, 1).unwrap()]);
    assert_code(&out.tx_results[0], 27);
    assert!(out.validator_updates.is_empty());
    assert_eq!(c.reg.validator_power(&validator(1)), Some(10));
}

#[test]
fn the_set_is_bounded() {
    let mut c = chain_with(MAX_VALIDATORS);
    let r = c.run(
        TxBuilder::new(CHAIN, &gov(0))
            .set_validator(1, validator(MAX_VALIDATORS), 1, c.time + 100)
            .unwrap(),
    );
    assert_code(&r, 28);
    // A member's power may still change in a full set.
    let r = c.run(
        TxBuilder::new(CHAIN, &gov(0))
            .set_validator(2, validator(0), MAX_VALIDATOR_POWER, c.time + 100)
            .unwrap(),
    );
    assert_code(&r, 0);
}

#[test]
fn genesis_validators_are_checked() {
    let mut g = genesis_with(2);
    g.validators[1].pub_key = g.validators[0].pub_key;
    assert!(matches!(
        Registry::new(&g),
        Err(GenesisError::DuplicateValidator(_))
    ));
    let mut g = genesis_with(1);
    g.validators[0].power = 0;
    assert!(Registry::new(&g).is_err());
    let mut g = genesis_with(1);
    g.validators[0].power = MAX_VALIDATOR_POWER + 1;
    assert!(Registry::new(&g).is_err());
    let mut g = genesis_with(1);
    g.validators[0].pub_key = PublicKey([0; 32]);
    assert!(Registry::new(&g).is_err());
    assert!(Registry::new(&genesis_with(MAX_VALIDATORS + 1)).is_err());
    // JSON: keys as hex, like every key of the genesis.
    let json = serde_json::to_value(genesis_with(1)).unwrap();
    assert_eq!(json["validators"][0]["pub_key"], validator(0).to_hex());
    assert_eq!(json["validators"][0]["power"], 10);
    let totals = ValidatorTotals::from_bytes(
        &Registry::new(&genesis_with(3))
            .unwrap()
            .get(keys::VALIDATOR_SET)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(totals.count, 3);
}
