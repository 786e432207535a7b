//! Pure rules of the evaluation: survey files, roster files, tokens, answers, scoring. Nothing
//! here does I/O or knows actix, diesel or lettre; this is where most unit tests live.

pub mod answers;
pub mod people;
pub mod roster;
pub mod scoring;
pub mod seal;
pub mod survey;
pub mod text;
pub mod token;

pub use text::{Lang, Text};
