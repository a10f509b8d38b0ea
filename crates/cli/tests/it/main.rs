//! Every integration test of the `infraguard` binary, in one test binary
//! over a shared harness ([`harness`]): the binary is driven as a user, or an
//! agent's shell, would drive it.

mod harness;

mod approval;
mod exit_codes;
mod iam;
mod output;
mod promotion;
mod scan;
mod workflow;
