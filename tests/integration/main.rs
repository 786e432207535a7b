//! Integration tests: the real library, the real actix app over HTTP, real SQLite files
//! and — when `SANPING_TEST_PG` holds a URL — the real PostgreSQL.

mod admin;
mod assess;
mod audit_trail;
mod browser;
mod browser_people;
mod deactivate;
mod deadlines;
mod demo;
mod disclosure;
mod edit_draft;
mod faults;
mod foundation;
mod fuzz;
mod hardening;
mod keys_console;
mod limits;
mod mail;
mod organizer;
mod people;
mod people_console;
mod pgbouncer;
mod print;
mod rate;
mod record;
mod report;
mod respond;
mod scale;
mod sealing;
mod sessions;
mod smtp;
mod support;
mod waves;
mod worker;
