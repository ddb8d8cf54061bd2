//! The proof plumbing against the ICS-23 project's own vectors: our protobuf decoding and the
//! `ics23` verifier accept them under their own spec, and the registry's JMT spec rejects them
//! (a proof made for another kind of tree never passes as a registry proof).

use std::path::PathBuf;

use registry::proof::{decode_proof, verify_value, ProofError};

struct Vector {
    name: String,
    key: Vec<u8>,
    value: Vec<u8>,
    root: Vec<u8>,
    proof: Vec<u8>,
}

fn vectors(spec: &str) -> Vec<Vector> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/ics23")
        .join(spec);
    let mut out = Vec::new();
    for name in [
        "exist_left",
        "exist_middle",
        "exist_right",
        "nonexist_left",
        "nonexist_middle",
        "nonexist_right",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let field = |f: &str| hex::decode(v[f].as_str().unwrap()).unwrap();
        out.push(Vector {
            name: format!("{spec}/{name}"),
            key: field("key"),
            value: field("value"),
            root: field("root"),
            proof: field("proof"),
        });
    }
    out
}

#[test]
fn vectors_verify_under_their_own_spec_only() {
    let specs = [
        ("iavl", ics23::iavl_spec()),
        ("tendermint", ics23::tendermint_spec()),
        ("smt", ics23::smt_spec()),
    ];
    for (name, spec) in specs {
        for v in vectors(name) {
            let proof = decode_proof(&v.proof).unwrap();
            let ok = if v.value.is_empty() {
                ics23::verify_non_membership::<ics23::HostFunctionsManager>(
                    &proof, &spec, &v.root, &v.key,
                )
            } else {
                ics23::verify_membership::<ics23::HostFunctionsManager>(
                    &proof, &spec, &v.root, &v.key, &v.value,
                )
            };
            assert!(ok, "{} should verify under its own spec", v.name);
            let root: [u8; 32] = v.root.as_slice().try_into().unwrap();
            let value = (!v.value.is_empty()).then_some(v.value.as_slice());
            assert_eq!(
                verify_value(&root, &v.key, value, &v.proof),
                Err(ProofError::Invalid),
                "{} must not verify under the JMT spec",
                v.name
            );
        }
    }
}
