//! sansuo's benchmark: the real server, started on an empty PostgreSQL
//! database and its own Redis prefix, loaded by named scenarios and
//! compared with what the same machine allows (pgbench inserts, the
//! `/healthz` ceiling). See BENCHMARKS.md at the workspace root.
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | command line, full and smoke presets |
//! | [`sandbox`] | the benchmark's database and Redis prefix, removed at the end |
//! | [`server`] | the server process (or in-process), readiness, peak RSS |
//! | [`seed`] | the district (lawyers, mediators, officers on duty rotas) through the store; stored cases by SQL |
//! | [`accounts`] | resident (WeChat) and lawyer logins |
//! | [`load`] | open-loop and closed-loop drivers |
//! | [`stats`] | HDR histograms, errors by status |
//! | [`scenarios`] | intake (the mix of services), board, route, mixed, burst, statements |
//! | [`references`] | pgbench and /healthz |
//! | [`report`] | JSON, ratios, targets, the table |
//! | [`run`] | the order of it all |
//! | [`drill`] | the cluster drill: instances behind haproxy, faults, checks |

pub mod accounts;
pub mod cli;
pub mod drill;
pub mod load;
pub mod references;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod scenarios;
pub mod seed;
pub mod server;
pub mod stats;

pub use cli::{Cli, Options, Scenario};
pub use report::Report;
pub use run::run;
