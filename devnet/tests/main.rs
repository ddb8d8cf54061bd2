//! Integration tests of the local network: each starts a network on loopback (port 0) and
//! talks to it over HTTP as the wallet does.

mod abci;
mod bad_input;
mod clients;
mod evidence;
mod history;
mod misbehaviour;
mod persistence;
mod registry;
mod rpc_shapes;
mod support;
mod verification;
mod websocket;
