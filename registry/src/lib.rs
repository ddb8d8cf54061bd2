//! The trade registry application: authenticated state, transactions, certificates.
