//! Every integration test of the engine, in one test binary over a shared
//! harness ([`harness`]): the real SQLite store and the local cloud, two
//! environments, no sleeping.

mod harness;

mod attest;
mod billed;
mod iam;
mod inflight;
mod levels;
mod mfa;
mod promotion;
mod protection;
mod retries;
mod secrets;
mod store;
mod tokens;
mod workflow;
