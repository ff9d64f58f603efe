//! End-to-end tests over HTTP against the real server, PostgreSQL, Redis
//! and a fake WeChat. One binary, one module per concern.

mod admin;
mod anonymity;
mod auth;
mod auth_first;
mod backup;
mod calendar;
mod catalog;
mod concurrency;
mod contract;
mod dispatch;
mod embedded;
mod engine;
mod hygiene;
mod input;
mod matrix;
mod mediation;
mod moderation;
mod notifications;
mod open311;
mod ops;
mod phone;
mod push;
mod qrcodes;
mod resilience;
mod rota;
mod routing;
mod scope;
mod scoping;
mod sessions;
mod setup;
mod spec;
mod stats;
mod tips;
mod walk;
mod write_limits;
