//! The wallet's services: the composition root shared by the app and the CLI.
