//! The card of the patient in the room: its own visit log (readable offline) and the
//! medical summary, opened by the patient's PIN (typed masked, tries left shown) and
//! written back by this terminal.

use eframe::egui;
use kartika_card::PinStatus;

use super::widgets;
use crate::command::{Command, Commands};
use crate::format;
use crate::poli::PoliCard;
use crate::state::State;
use crate::text::T;

/// One line on the card in the reader, when no visit is open.
pub fn card_line(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    if let Some(card) = &state.poli.card {
        ui.label(format!(
            "{}: {}",
            T::CardInReader.get(lang),
            card.identity.name
        ));
        if let Some(problem) = &card.problem {
            widgets::problem(ui, problem, lang);
        }
    }
}

/// The card's own visit log.
pub fn card_log(ui: &mut egui::Ui, state: &State, card: &PoliCard) {
    let lang = state.lang();
    ui.strong(T::CardLog.get(lang));
    if card.busy {
        ui.spinner();
    }
    if let Some(notice) = &card.notice {
        ui.label(notice);
    }
    if let Some(problem) = &card.problem {
        widgets::problem(ui, problem, lang);
    }
    let Some(visits) = &card.visits else {
        return;
    };
    if visits.is_empty() {
        ui.weak(T::CardLogEmpty.get(lang));
    }
    egui::ScrollArea::vertical()
        .id_salt("card_log_rows")
        .show(ui, |ui| {
            for visit in visits {
                let codes: Vec<&str> = visit.diagnoses().iter().map(|c| c.as_str()).collect();
                ui.label(format!(
                    "{} · {} · {}",
                    format::short_date(visit.date()),
                    visit.facility_code().as_str(),
                    visit.service_unit()
                ));
                ui.weak(codes.join(", "));
                ui.separator();
            }
        });
}

/// The Kartu tab.
pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let open_patient = state
        .poli
        .open
        .as_ref()
        .map(|o| o.history.patient.patient_number.clone());
    let Some(card) = &state.poli.card else {
        ui.label(T::NoCardForPatient.get(lang));
        return;
    };
    if card.patient_number.is_none() || card.patient_number != open_patient {
        ui.label(T::NoCardForPatient.get(lang));
        card_line(ui, state);
        return;
    }
    ui.columns(2, |columns| {
        if let Some(card) = &state.poli.card {
            card_log(&mut columns[0], state, card);
        }
        summary(&mut columns[1], state, commands);
    });
}

fn summary(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let Some(card) = &mut state.poli.card else {
        return;
    };
    ui.strong(T::MedicalSummary.get(lang));
    let blood = card
        .identity
        .blood_group
        .as_ref()
        .map_or_else(|| "—".to_owned(), ToString::to_string);
    ui.label(format!("{}: {blood}", T::BloodGroup.get(lang)));
    match card.pin {
        Some(PinStatus::Blocked) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                crate::problem::Problem::PinBlocked.text(lang),
            );
            return;
        }
        Some(PinStatus::TriesLeft(left)) => {
            ui.weak(format!("{}: {left}", T::PinTriesLeft.get(lang)));
        }
        _ => {}
    }
    if !card.summary.read {
        let pin =
            widgets::labelled_password(ui, T::PatientPin.get(lang), &mut card.summary.pin_typed);
        let entered = pin.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        // While the card is at work the button is greyed out: a click then is not lost
        // without a sign.
        let open = ui.add_enabled(!card.busy, egui::Button::new(T::OpenSummary.get(lang)));
        if open.clicked() || (entered && !card.busy) {
            commands.push(Command::ReadCardSummary);
        }
        return;
    }
    widgets::labelled_input(ui, T::Allergies.get(lang), &mut card.summary.allergies);
    widgets::labelled_input(
        ui,
        T::ChronicConditions.get(lang),
        &mut card.summary.conditions,
    );
    let write = ui.add_enabled(!card.busy, egui::Button::new(T::WriteSummary.get(lang)));
    if write.clicked() {
        commands.push(Command::WriteCardSummary);
    }
}
