//! The screens. Each view draws from the state and pushes commands; none of them talks to
//! a worker or changes anything but its own form fields.

mod admin;
mod admin_duplicates;
mod admin_records;
mod desk;
mod login;
mod poli;
mod poli_card;
mod poli_history;
mod reports;
mod setup;
mod top_bar;
mod tray;
mod widgets;

use eframe::egui;

use crate::command::Commands;
use crate::state::{Screen, State};
use crate::text::T;

/// Draws the whole window.
pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    top_bar::show(ui, state, commands);
    if state.demo.is_some() && state.session.is_some() {
        tray::show(ui, state, commands);
    }
    if state.screen == Screen::Desk {
        desk::side_panel(ui, state, commands);
    }
    if state.screen == Screen::Poli {
        poli::queue_panel(ui, state, commands);
    }
    egui::CentralPanel::default().show(ui, |ui| match &state.screen {
        Screen::Opening => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(T::OpeningStore.get(state.lang()));
            });
        }
        Screen::Broken(problem) => {
            let text = problem.text(state.lang());
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        Screen::SetUp => setup::show(ui, state, commands),
        Screen::Login => login::show(ui, state, commands),
        Screen::Desk => desk::show(ui, state, commands),
        Screen::Poli => poli::show(ui, state, commands),
        Screen::Admin => admin::show(ui, state, commands),
        Screen::Reports => reports::show(ui, state, commands),
    });
    if state.settings_open {
        top_bar::settings_window(ui, state, commands);
    }
}
