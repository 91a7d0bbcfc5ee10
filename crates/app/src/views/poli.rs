//! The poli: the unit's queue beside the open visit. The visit shows who the patient is,
//! then the examination (vitals, complaint, notes, diagnoses found as you type), the
//! history, the charts and the card. Keyboard first: F2 calls the next patient, Tab walks
//! the form, Enter adds the highlighted diagnosis, Ctrl+S saves and Ctrl+Enter finishes.

use eframe::egui;
use kartika_store::{DiagnosisRank, VisitStatus};

use super::{poli_card, poli_history, widgets};
use crate::command::{Command, Commands};
use crate::format;
use crate::poli::{case_words, diagnosis_title, minutes_waited, rank_words, status_words, PoliTab};
use crate::state::{Pending, State};
use crate::text::T;

const CALL_NEXT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::NONE, egui::Key::F2);
const FINISH: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Enter);
const SAVE: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);
const REFER: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::R);

/// The unit's queue, at the side.
pub fn queue_panel(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    // Its width is fixed: a row's buttons wrap inside it, so a long queue line never
    // pushes the history's last columns off the window.
    egui::Panel::left("poli_queue")
        .resizable(false)
        .exact_size(330.0)
        .show(ui, |ui| {
            ui.heading(T::PoliQueue.get(lang));
            let chosen = state
                .prefs
                .poli_unit
                .clone()
                .or_else(|| state.units.first().map(|u| u.code.clone()));
            ui.horizontal_wrapped(|ui| {
                for unit in &state.units {
                    let on = chosen.as_deref() == Some(unit.code.as_str());
                    if ui.selectable_label(on, &unit.name).clicked() && !on {
                        commands.push(Command::SetPoliUnit(unit.code.clone()));
                    }
                }
            });
            ui.add_space(6.0);
            let busy = state.is_pending(Pending::OpenVisit);
            ui.horizontal(|ui| {
                let call = ui.add_enabled(
                    !busy,
                    egui::Button::new(egui::RichText::new(T::CallNext.get(lang)).size(18.0))
                        .min_size(egui::vec2(0.0, 32.0)),
                );
                if call.clicked() {
                    commands.push(Command::CallNext);
                }
                if busy {
                    ui.spinner();
                }
            });
            let waiting = state
                .poli
                .queue
                .iter()
                .filter(|q| q.status == VisitStatus::Waiting)
                .count();
            ui.label(format!("{}: {waiting}", T::StillWaiting.get(lang)));
            ui.separator();
            queue_list(ui, state, commands);
        });
}

fn queue_list(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let lang = state.lang();
    let now = time::OffsetDateTime::now_utc();
    let open_id = state.poli.open_visit_id();
    let offset = crate::app::zone_offset(state.zone());
    egui::ScrollArea::vertical().show(ui, |ui| {
        if state.poli.queue.is_empty() {
            ui.label(T::QueueEmpty.get(lang));
        }
        for entry in &state.poli.queue {
            let open = open_id == Some(entry.visit_id.as_str());
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    let ticket = egui::RichText::new(&entry.ticket).strong().size(16.0);
                    ui.label(if open { ticket.underline() } else { ticket });
                    ui.label(&entry.name);
                });
                ui.horizontal_wrapped(|ui| {
                    ui.label(status_words(entry.status, lang));
                    ui.weak(format!(
                        "· {} {}",
                        T::Arrived.get(lang),
                        format::clock_time(entry.arrived_at, offset, lang)
                    ));
                    if matches!(entry.status, VisitStatus::Waiting | VisitStatus::InProgress) {
                        let minutes = minutes_waited(entry, now);
                        ui.weak(format!(
                            "· {} {minutes} {}",
                            T::Waited.get(lang),
                            T::Minutes.get(lang)
                        ));
                    }
                });
                // The buttons on a line of their own, so the words above wrap, never them.
                ui.horizontal(|ui| {
                    let action = if entry.status == VisitStatus::Waiting {
                        T::Call
                    } else {
                        T::Open
                    };
                    let label = format!("{} {}", action.get(lang), entry.ticket);
                    // Ids of the visit's own, not counted from the row's labels: a queue
                    // reloaded as the visit changes keeps them, so a click (or a screen
                    // reader's press) in that moment still reaches its button.
                    let open = ui.push_id(("open", &entry.visit_id), |ui| ui.button(label));
                    if open.inner.clicked() {
                        commands.push(Command::OpenQueueVisit {
                            visit_id: entry.visit_id.clone(),
                            patient_number: entry.patient_number.clone(),
                        });
                    }
                    if entry.status == VisitStatus::Waiting {
                        let cancel = ui.push_id(("cancel", &entry.visit_id), |ui| {
                            ui.button(format!("{} {}", T::CancelVisit.get(lang), entry.ticket))
                        });
                        if cancel.inner.clicked() {
                            commands.push(Command::CancelQueueVisit(entry.visit_id.clone()));
                        }
                    }
                });
            });
        }
    });
}

/// The open visit, or what to do when none is.
pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let active = state.poli.open_is_active();
    // Taken before the text fields see them, so Ctrl+Enter in the notes finishes rather
    // than breaking the line.
    let (call, finish, save, refer) = ui.input_mut(|i| {
        (
            i.consume_shortcut(&CALL_NEXT),
            i.consume_shortcut(&FINISH),
            i.consume_shortcut(&SAVE),
            i.consume_shortcut(&REFER),
        )
    });
    if active && refer {
        start_referral(state);
    }
    if call && !active {
        commands.push(Command::CallNext);
    }
    if active && finish {
        commands.push(Command::FinishVisit);
    }
    if active && save {
        commands.push(Command::SaveExamination);
    }
    if let Some(problem) = &state.poli.problem {
        widgets::problem(ui, problem, lang);
    }
    if let Some(notice) = &state.poli.notice {
        ui.label(notice);
    }
    if state.poli.open.is_none() {
        ui.add_space(30.0);
        ui.label(egui::RichText::new(T::PoliHint.get(lang)).size(22.0));
        ui.label(T::PoliHintCard.get(lang));
        poli_card::card_line(ui, state);
        return;
    }
    patient_header(ui, state, commands);
    ui.separator();
    ui.horizontal(|ui| {
        for (tab, name) in [
            (PoliTab::Examination, T::TabExamination),
            (PoliTab::History, T::TabHistory),
            (PoliTab::Charts, T::TabCharts),
            (PoliTab::Card, T::TabCard),
        ] {
            if ui
                .selectable_label(state.poli.tab == tab, name.get(lang))
                .clicked()
            {
                commands.push(Command::SetPoliTab(tab));
            }
        }
    });
    ui.separator();
    match state.poli.tab {
        PoliTab::Examination => examination(ui, state, commands),
        PoliTab::History => poli_history::history(ui, state),
        PoliTab::Charts => poli_history::charts(ui, state),
        PoliTab::Card => poli_card::show(ui, state, commands),
    }
}

fn patient_header(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let lang = state.lang();
    let Some(open) = &state.poli.open else {
        return;
    };
    let patient = &open.history.patient;
    let visit = &open.visit;
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(&patient.name).size(24.0).strong());
        ui.label(egui::RichText::new(&visit.ticket).size(20.0));
        ui.label(status_words(visit.status, lang));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(T::BackToQueue.get(lang)).clicked() {
                commands.push(Command::CloseVisit);
            }
        });
    });
    ui.horizontal_wrapped(|ui| {
        // A label and its value are one piece of text, so they wrap to the next line
        // together.
        let mut item = |label: T, value: String| {
            let mut job = egui::text::LayoutJob::default();
            let style = ui.style().clone();
            let weak = ui.visuals().weak_text_color();
            egui::RichText::new(label.get(lang)).color(weak).append_to(
                &mut job,
                &style,
                egui::FontSelection::Default,
                egui::Align::Center,
            );
            egui::RichText::new(format!(" {value}")).append_to(
                &mut job,
                &style,
                egui::FontSelection::Default,
                egui::Align::Center,
            );
            ui.add(egui::Label::new(job).wrap_mode(egui::TextWrapMode::Extend));
            ui.add_space(10.0);
        };
        if let Some(birth) = format::parse_iso(&patient.birth_date) {
            item(T::Age, format::age_words(birth, state.today, lang));
        }
        item(
            T::Sex,
            super::desk::sex_word(patient.sex).get(lang).to_owned(),
        );
        item(T::PatientNumber, patient.patient_number.clone());
        item(
            T::Payer,
            super::desk::payer_word(visit.payer).get(lang).to_owned(),
        );
        if let Some(blood) = &patient.blood_group {
            item(T::BloodGroup, blood.clone());
        }
        let card_summary = state
            .poli
            .card
            .as_ref()
            .filter(|c| c.summary.read && !c.summary.allergies.is_empty());
        if let Some(card) = card_summary {
            item(T::Allergies, card.summary.allergies.clone());
        }
    });
    for flag in &open.duplicates {
        let other = if flag.patient_number == patient.patient_number {
            &flag.other_patient_number
        } else {
            &flag.patient_number
        };
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "{}: {other} ({})",
                T::PossibleDuplicate.get(lang),
                flag.reason
            ),
        );
    }
}

/// A label and a one-line input named by it, in a grid row; the label turns red when the
/// store named this field.
fn vital_input(
    ui: &mut egui::Ui,
    label: &str,
    field: &str,
    wrong: Option<&str>,
    value: &mut String,
) -> egui::Response {
    let text = egui::RichText::new(label);
    let text = if wrong == Some(field) {
        text.color(ui.visuals().error_fg_color)
    } else {
        text
    };
    let label = ui.label(text);
    let response = ui
        .add(egui::TextEdit::singleline(value).desired_width(90.0))
        .labelled_by(label.id);
    ui.end_row();
    response
}

fn examination(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let active = state.poli.open_is_active();
    let wrong: Option<String> = match &state.poli.problem {
        Some(crate::problem::Problem::InvalidField { field, .. }) => Some(field.clone()),
        _ => None,
    };
    let wrong = wrong.as_deref();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.add_enabled_ui(active, |ui| {
            let focus_first = std::mem::take(&mut state.poli.focus_exam);
            ui.columns(2, |columns| {
                let exam = &mut state.poli.exam;
                // Named as the store names them, so the field it refuses turns red.
                let vitals: [(T, &str, &mut String); 7] = [
                    (T::Systolic, "systolic pressure", &mut exam.systolic),
                    (T::Diastolic, "diastolic pressure", &mut exam.diastolic),
                    (T::Pulse, "pulse", &mut exam.pulse),
                    (
                        T::RespiratoryRate,
                        "respiratory rate",
                        &mut exam.respiratory_rate,
                    ),
                    (T::Temperature, "temperature", &mut exam.temperature),
                    (T::Weight, "weight", &mut exam.weight),
                    (T::Height, "height", &mut exam.height),
                ];
                egui::Grid::new("vitals")
                    .num_columns(2)
                    .show(&mut columns[0], |ui| {
                        for (index, (label, field, value)) in vitals.into_iter().enumerate() {
                            let input = vital_input(ui, label.get(lang), field, wrong, value);
                            if index == 0 && focus_first {
                                input.request_focus();
                            }
                        }
                    });
                let ui = &mut columns[1];
                let label = ui.label(T::Complaint.get(lang));
                ui.add(
                    egui::TextEdit::multiline(&mut exam.complaint)
                        .desired_rows(2)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
                let label = ui.label(T::Notes.get(lang));
                ui.add(
                    egui::TextEdit::multiline(&mut exam.notes)
                        .desired_rows(4)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            });
            ui.add_space(8.0);
            diagnoses(ui, state, commands);
            ui.add_space(8.0);
            ending(ui, state, commands);
        });
    });
}

fn diagnoses(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    ui.strong(T::Diagnoses.get(lang));
    if let Some(open) = &state.poli.open {
        let mut listed: Vec<_> = open.visit.diagnoses.iter().collect();
        listed.sort_by_key(|d| d.rank != DiagnosisRank::Primary);
        for d in listed {
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(&d.code).strong());
                ui.label(diagnosis_title(&d.code, &d.title, lang))
                    .on_hover_text(&d.title);
                ui.weak(format!(
                    "{} · {}",
                    rank_words(d.rank, lang),
                    case_words(d.case, lang)
                ));
                if ui
                    .small_button(format!("{} {}", T::Remove.get(lang), d.code))
                    .clicked()
                {
                    commands.push(Command::RemoveDiagnosis(d.code.clone()));
                }
            });
        }
    }
    let search = &mut state.poli.diagnosis;
    let label = ui.label(T::DiagnosisSearch.get(lang));
    // An id of its own: an added diagnosis puts a row above the box, which would give an
    // id counted by position a new value, and the keyboard would stay with the old one.
    let response = ui
        .add(
            egui::TextEdit::singleline(&mut search.text)
                .id_salt("diagnosis_search")
                .desired_width(360.0),
        )
        .labelled_by(label.id);
    search.refresh();
    if response.has_focus() {
        let (down, up) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::ArrowUp),
            )
        });
        if down && search.selected + 1 < search.hits.len() {
            search.selected += 1;
        }
        if up {
            search.selected = search.selected.saturating_sub(1);
        }
    }
    let entered = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if entered {
        if let Some(hit) = search.hits.get(search.selected) {
            commands.push(Command::AddDiagnosis(hit.code.clone()));
            // Stay in the box for the next diagnosis.
            response.request_focus();
        }
    }
    for (index, hit) in search.hits.iter().enumerate() {
        let text = format!(
            "{}  {}",
            hit.code,
            diagnosis_title(&hit.code, &hit.title, lang)
        );
        if ui
            .selectable_label(index == search.selected, text)
            .on_hover_text(&hit.title)
            .clicked()
        {
            commands.push(Command::AddDiagnosis(hit.code.clone()));
        }
    }
    if !search.text.trim().is_empty() && search.hits.is_empty() {
        ui.weak(T::NoDiagnosisFound.get(lang));
    }
}

/// Opens the referral's "where to", with the keyboard in it.
fn start_referral(state: &mut State) {
    if state.poli.referral.is_none() {
        state.poli.referral = Some(String::new());
    }
    state.poli.focus_referral = true;
}

fn ending(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let busy = state.is_pending(Pending::EndVisit) || state.is_pending(Pending::VisitChange);
    ui.horizontal(|ui| {
        if ui.button(T::SaveExamination.get(lang)).clicked() {
            commands.push(Command::SaveExamination);
        }
        if widgets::big_button(ui, T::FinishVisit.get(lang)).clicked() {
            commands.push(Command::FinishVisit);
        }
        if state.poli.referral.is_none() && ui.button(T::Refer.get(lang)).clicked() {
            start_referral(state);
        }
        if busy {
            ui.spinner();
        }
    });
    if let Some(referral) = &mut state.poli.referral {
        ui.horizontal(|ui| {
            let label = ui.label(T::ReferTo.get(lang));
            let field = ui
                .add(egui::TextEdit::singleline(referral).desired_width(300.0))
                .labelled_by(label.id);
            if std::mem::take(&mut state.poli.focus_referral) {
                field.request_focus();
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button(T::ReferConfirm.get(lang)).clicked() || entered {
                commands.push(Command::ReferVisit);
            }
        });
    }
    ui.weak(T::PoliKeys.get(lang));
}
