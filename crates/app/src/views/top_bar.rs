//! The top bar: facility, who is logged in, each reader's state, sync, language; and the
//! workstation settings (the ticket printer).

use std::path::PathBuf;

use eframe::egui;

use super::login::role_name;
use crate::app::zone_offset;
use crate::command::{Command, Commands};
use crate::format;
use crate::state::{Screen, State};
use crate::text::{Lang, T};
use crate::ticket::PrinterTarget;
use crate::workers::reader::ReaderState;
use kartika_store::Role;

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.strong(T::AppTitle.get(lang));
            if let Some(facility) = &state.facility {
                ui.label(format!("· {}", facility.name));
            }
            if let Some(session) = &state.session {
                ui.label(format!(
                    "· {} ({})",
                    session.display_name(),
                    role_name(session.role()).get(lang)
                ));
            }
            navigation(ui, state, commands);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if state.session.is_some() && ui.button(T::LogOut.get(lang)).clicked() {
                    commands.push(Command::LogOut);
                }
                let other = match lang {
                    Lang::Id => Lang::En,
                    Lang::En => Lang::Id,
                };
                if ui.button(T::SwitchLanguage.get(lang)).clicked() {
                    commands.push(Command::SetLanguage(other));
                }
                if ui.button(T::Settings.get(lang)).clicked() {
                    commands.push(Command::ToggleSettings);
                }
            });
        });
        if let Some(away) = &state.server_away {
            ui.colored_label(ui.visuals().error_fg_color, away.text(lang));
        }
        // The second line: the state of the things the desk depends on.
        ui.horizontal_wrapped(|ui| {
            readers(ui, state);
            ui.separator();
            sync(ui, state);
            satusehat(ui, state);
        });
    });
}

/// The screens the role may open.
fn navigation(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let Some(session) = &state.session else {
        return;
    };
    let lang = state.lang();
    let screens: &[(Screen, T)] = match session.role() {
        Role::Admin => &[
            (Screen::Desk, T::Registration),
            (Screen::Poli, T::Poli),
            (Screen::Reports, T::Reports),
            (Screen::Admin, T::AdminRoom),
        ],
        Role::Registration => &[],
        Role::Nurse => &[(Screen::Poli, T::Poli), (Screen::Reports, T::Reports)],
    };
    if screens.len() < 2 {
        return;
    }
    ui.separator();
    for (screen, name) in screens {
        if ui
            .selectable_label(state.screen == *screen, name.get(lang))
            .clicked()
            && state.screen != *screen
        {
            commands.push(Command::Show(screen.clone()));
        }
    }
}

fn readers(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    if state.reader_service_down {
        ui.colored_label(
            ui.visuals().error_fg_color,
            crate::problem::Problem::CardServiceDown.text(lang),
        );
    }
    if state.readers.is_empty() {
        ui.label(T::NoReaders.get(lang));
    }
    for reader in &state.readers {
        let (word, color) = match reader.state {
            ReaderState::Waiting => (T::ReaderWaiting, ui.visuals().weak_text_color()),
            ReaderState::CardPresent => (T::ReaderCardPresent, ui.visuals().text_color()),
            ReaderState::Reading => (T::ReaderReading, ui.visuals().warn_fg_color),
        };
        ui.colored_label(color, format!("{}: {}", reader.name, word.get(lang)));
    }
}

fn sync(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let Some(sync) = &state.sync else {
        ui.label(T::SyncStandalone.get(lang));
        return;
    };
    if sync.progress.running {
        ui.spinner();
        ui.label(T::SyncRunning.get(lang));
    }
    if let Some(health) = &sync.health {
        ui.label(format!("{} {}", health.pending, T::SyncPending.get(lang)));
        match health.last_success {
            Some(at) => ui.label(format!(
                "{} {}",
                T::SyncLastSuccess.get(lang),
                format::clock_time(at, zone_offset(state.zone()), lang)
            )),
            None => ui.label(T::SyncNeverSucceeded.get(lang)),
        };
    }
    if let Some(error) = &sync.progress.last_error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
}

/// How many finished visits have not reached SATUSEHAT yet, when any have not.
fn satusehat(ui: &mut egui::Ui, state: &State) {
    let Some(status) = &state.satusehat else {
        return;
    };
    let lang = state.lang();
    let count = |state: &str| status.counts.get(state).copied().unwrap_or(0);
    let waiting = count("waiting") + count("retrying");
    let refused = count("refused");
    if waiting + refused == 0 {
        return;
    }
    ui.separator();
    ui.label(format!(
        "{}: {waiting} {}",
        T::Satusehat.get(lang),
        T::SatusehatWaiting.get(lang)
    ));
    if refused > 0 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{refused} {}", T::SatusehatRefused.get(lang)),
        );
    }
}

/// The workstation's settings: where tickets are printed.
pub fn settings_window(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let mut open = true;
    egui::Window::new(T::Settings.get(lang))
        .open(&mut open)
        .collapsible(false)
        .show(ui.ctx(), |ui| {
            ui.strong(T::PrinterSettings.get(lang));
            let current = state.prefs.printer.clone();
            let address = state.printer_address.trim().to_owned();
            if ui
                .radio(current == PrinterTarget::None, T::PrinterNone.get(lang))
                .clicked()
            {
                commands.push(Command::SetPrinter(PrinterTarget::None));
            }
            if ui
                .radio(
                    matches!(current, PrinterTarget::Network(_)),
                    T::PrinterNetwork.get(lang),
                )
                .clicked()
            {
                commands.push(Command::SetPrinter(PrinterTarget::Network(address.clone())));
            }
            if ui
                .radio(
                    matches!(current, PrinterTarget::Device(_)),
                    T::PrinterDevice.get(lang),
                )
                .clicked()
            {
                commands.push(Command::SetPrinter(PrinterTarget::Device(PathBuf::from(
                    &address,
                ))));
            }
            let edited = super::widgets::labelled_input(
                ui,
                T::PrinterAddress.get(lang),
                &mut state.printer_address,
            )
            .changed();
            if edited {
                let address = state.printer_address.trim().to_owned();
                match current {
                    PrinterTarget::Network(_) => {
                        commands.push(Command::SetPrinter(PrinterTarget::Network(address)));
                    }
                    PrinterTarget::Device(_) => {
                        commands.push(Command::SetPrinter(PrinterTarget::Device(address.into())));
                    }
                    PrinterTarget::None => {}
                }
            }
            if let Some(lines) = &state.recent_errors {
                ui.separator();
                ui.strong(T::RecentErrors.get(lang));
                if lines.is_empty() {
                    ui.label(T::NoRecentErrors.get(lang));
                }
                egui::ScrollArea::vertical()
                    .max_height(200.0)
                    .show(ui, |ui| {
                        for line in lines {
                            ui.label(egui::RichText::new(line).monospace().small());
                        }
                    });
            }
            if ui.button(T::Close.get(lang)).clicked() {
                commands.push(Command::ToggleSettings);
            }
        });
    if !open {
        commands.push(Command::ToggleSettings);
    }
}
