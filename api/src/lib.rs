//! Types shared by the UI and the app backend.
