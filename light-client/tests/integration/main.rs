//! Integration tests of the light-client crate against data made by other projects.

mod celestia;
mod ed25519;
mod json;
mod limits;
mod model_based;
mod properties;
mod support;
