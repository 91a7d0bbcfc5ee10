//! The Kartika desktop app on eframe/egui: the registration desk, the nurse's workspace at
//! the poli, the monthly reports and the admin's room.
//!
//! **Architecture invariants:** only this crate knows egui. Views draw state and push
//! commands, applied after the frame. The store, the card readers and the registry live on
//! workers that wake the UI when they have news ([`workers`]); the app reaches the store
//! only through its clinic worker, so the UI thread never blocks and an idle window
//! repaints nothing. Every word on screen comes from [`text`].
#![deny(missing_docs)]

pub mod admin;
mod app;
pub mod card_face;
pub mod command;
pub mod display;
pub mod format;
pub mod pdf;
pub mod poli;
pub mod problem;
mod recent_errors;
pub mod state;
pub mod text;
pub mod ticket;
mod views;
pub mod workers;
pub mod workstation;

pub use app::{AppConfig, DemoConfig, KartikaApp};

/// Opens the app's window and runs until it is closed.
pub fn run(config: AppConfig) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Kartika")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Kartika",
        options,
        Box::new(|cc| Ok(Box::new(KartikaApp::new(cc, config)))),
    )
}

/// Opens the waiting room's screen, full screen.
pub fn run_display(config: display::DisplayConfig) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Kartika — antrian")
            .with_fullscreen(true),
        ..Default::default()
    };
    eframe::run_native(
        "Kartika display",
        options,
        Box::new(|cc| Ok(Box::new(display::DisplayApp::new(cc, config)))),
    )
}
