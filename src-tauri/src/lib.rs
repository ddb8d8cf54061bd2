//! Tradeseal app.
