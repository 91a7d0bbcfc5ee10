//! The clinic store against real SQLite files in temporary folders: schema and migrations,
//! patients, cards, visits, diagnoses, roles, the audit chain, the outbox, and several
//! processes sharing one file.

mod audit;
mod backup;
mod bpjs_codes;
mod cards;
mod desk;
mod generate;
mod merges;
mod patients;
mod processes;
mod pulled;
mod reports;
mod requests;
mod roles;
mod rollback;
mod satusehat;
mod schema;
mod sessions;
mod support;
mod visits;
