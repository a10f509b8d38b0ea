//! The guard: a daemon that runs under its own OS account, hosts the engine
//! for adopted projects, holds their state, policy, secrets and cloud
//! credentials, and checks approvers' factors (TOTP codes).
//!
//! # Layout
//!
//! - [`wire`]: the socket protocol (one JSON line each way, progress lines between).
//! - [`client`]: the client side: the engine API over the socket, and the
//!   guard's own requests.
//! - [`factors`]: approvers' TOTP factors, enrolment, replay and lockout.
//! - [`files`]: 0600 files in 0700 folders.
//! - [`server`]: the daemon: [`server::Guard`] hosts adopted projects' engines behind the socket.
//! - [`page`]: the one-time approval page served on 127.0.0.1 by whichever
//!   process hosts the engine.
//!
//! Not here: any rule about what needs approval (the engine's gate).

pub mod client;
pub mod factors;
pub mod files;
pub mod page;
pub mod server;
pub mod wire;
