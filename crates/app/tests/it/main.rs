//! The desktop app driven as its users drive it: egui_kittest finds widgets by their
//! accessible names and roles, clicks and types, in Bahasa Indonesia.

mod admin;
mod bpjs;
mod desk;
mod duplicates;
mod keyboard;
mod lan;
mod pcsc;
mod poli;
mod reader_on_open;
mod reports;
mod satusehat;
mod setup;
mod support;
