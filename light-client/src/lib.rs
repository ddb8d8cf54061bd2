//! CometBFT light-client verification core (pure: no I/O, no clock, no async runtime).
