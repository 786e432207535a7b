//! sanping (三评): anonymous three-step evaluation of a university's grassroots Party
//! organizations — self-assessment (基层自评), mass evaluation (群众测评) and committee
//! assessment (组织考评).
//!
//! The binary is a thin shell over this library: the CLI (`cli`) and the web server (`web`)
//! call the same functions. `domain` holds the pure rules (no I/O), `db` is the only place
//! that speaks SQL.

pub mod api_token;
pub mod app;
pub mod assess;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod deactivate;
pub mod deadline;
pub mod demo;
pub mod domain;
pub mod error;
pub mod forecast;
pub mod import;
pub mod mail;
pub mod rating;
pub mod record;
pub mod report;
pub mod respond;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod tally;
pub mod wave;
pub mod web;
