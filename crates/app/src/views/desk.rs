//! The registration desk: "Tempelkan kartu", the verdict of a tap, the patient at a glance,
//! unit, payer and sick or well (one key each), and the ticket shown large. Beside it, the
//! search for the day the card was left at home, and today's queue.

use eframe::egui;
use kartika_card::model::Sex;
use kartika_store::{Care, DeskPatient, Payer, Warning};

use super::widgets;
use crate::app::waiting_ahead;
use crate::command::{Command, Commands};
use crate::format;
use crate::state::{NewPatientForm, Pending, State, TapVerdict};
use crate::text::{Lang, T};
use crate::workers::bpjs::BpjsLine;

const DIGIT_KEYS: [egui::Key; 9] = [
    egui::Key::Num1,
    egui::Key::Num2,
    egui::Key::Num3,
    egui::Key::Num4,
    egui::Key::Num5,
    egui::Key::Num6,
    egui::Key::Num7,
    egui::Key::Num8,
    egui::Key::Num9,
];

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    egui::ScrollArea::vertical().show(ui, |ui| {
        if state.desk.ticket.is_some() {
            ticket(ui, state, commands);
        } else if state.desk.new_patient.is_some() {
            new_patient(ui, state, commands);
        } else {
            verdict(ui, state);
            if let Some(patient) = &state.desk.patient {
                ui.add_space(12.0);
                at_a_glance(ui, state, patient, commands);
                ui.add_space(12.0);
                visit_choice(ui, state, commands);
            }
        }
        if let Some(problem) = &state.desk.problem {
            ui.add_space(8.0);
            widgets::problem(ui, problem, lang);
        }
        if let Some(notice) = &state.desk.notice {
            ui.label(notice);
        }
    });
}

fn verdict(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let good = egui::Color32::from_rgb(0x1b, 0x7f, 0x3b);
    match &state.desk.verdict {
        None => {
            if state.desk.patient.is_none() {
                ui.add_space(40.0);
                ui.vertical_centered(|ui| {
                    ui.label(
                        egui::RichText::new(T::TapCard.get(lang))
                            .size(40.0)
                            .strong(),
                    );
                    ui.label(T::TapCardHint.get(lang));
                });
            }
        }
        Some(TapVerdict::Reading | TapVerdict::Admitting) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(egui::RichText::new(T::ReadingCard.get(lang)).size(20.0));
            });
        }
        Some(TapVerdict::Genuine) => {
            ui.label(
                egui::RichText::new(T::CardGenuine.get(lang))
                    .size(22.0)
                    .color(good),
            );
        }
        Some(TapVerdict::GenuineNewHere) => {
            ui.label(
                egui::RichText::new(T::CardGenuineNewHere.get(lang))
                    .size(20.0)
                    .color(good),
            );
        }
        Some(TapVerdict::Refused(problem)) => {
            ui.label(
                egui::RichText::new(problem.text(lang))
                    .size(22.0)
                    .color(ui.visuals().error_fg_color),
            );
        }
    }
}

pub(super) fn sex_word(sex: Sex) -> T {
    match sex {
        Sex::Male => T::Male,
        Sex::Female => T::Female,
        _ => T::SexUnknown,
    }
}

/// What BPJS said of the member, in the desk's words (nothing when BPJS is not set up;
/// why it could not be asked is in the log, for the admin).
fn bpjs_words(line: &BpjsLine, lang: Lang) -> Option<String> {
    Some(match line {
        BpjsLine::Checking => T::BpjsChecking.get(lang).to_owned(),
        BpjsLine::Active { elsewhere, arrears } => {
            let mut words = T::BpjsActive.get(lang).to_owned();
            if let Some(place) = elsewhere {
                words.push_str(&format!(" · {} {place}", T::BpjsRegisteredAt.get(lang)));
            }
            if let Some(owed) = arrears {
                words.push_str(&format!(" · {} {owed:.0}", T::BpjsArrears.get(lang)));
            }
            words
        }
        BpjsLine::Inactive(why) => format!("{}: {why}", T::BpjsInactive.get(lang)),
        BpjsLine::NotMember => T::BpjsNotMember.get(lang).to_owned(),
        BpjsLine::Unchecked(_) => T::BpjsUnchecked.get(lang).to_owned(),
        BpjsLine::NotSetUp => return None,
    })
}

fn at_a_glance(ui: &mut egui::Ui, state: &State, desk: &DeskPatient, commands: &mut Commands) {
    let lang = state.lang();
    let patient = &desk.patient;
    ui.label(egui::RichText::new(&patient.name).size(28.0).strong());
    egui::Grid::new("patient_at_a_glance")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            let mut row = |label: T, value: String| {
                ui.label(label.get(lang));
                ui.label(egui::RichText::new(value).strong());
                ui.end_row();
            };
            row(T::PatientNumber, patient.patient_number.clone());
            if let Some(birth) = format::parse_iso(&patient.birth_date) {
                row(T::Age, format::age_words(birth, state.today, lang));
                row(T::BirthDate, format::date_words(birth, lang));
            }
            row(T::Sex, sex_word(patient.sex).get(lang).to_owned());
            if let Some(nik) = &patient.nik {
                row(T::Nik, format::masked_nik(nik));
            }
            if let Some(bpjs) = &patient.bpjs_number {
                row(T::Bpjs, bpjs.clone());
                if let Some((asked, line)) = &state.desk.bpjs {
                    if let (true, Some(words)) = (asked == bpjs, bpjs_words(line, lang)) {
                        row(T::BpjsStatus, words);
                    }
                }
            }
            let last = match &desk.last_visit {
                Some(visit) => {
                    let unit = visit
                        .unit_name
                        .clone()
                        .unwrap_or_else(|| visit.unit_code.clone());
                    let here = state
                        .facility
                        .as_ref()
                        .is_some_and(|f| f.code == visit.facility_code);
                    let place = if here {
                        unit
                    } else {
                        format!("{unit}, {}", visit.facility_code)
                    };
                    format!("{}, {place}", format::iso_date_words(&visit.date, lang))
                }
                None => T::NeverVisited.get(lang).to_owned(),
            };
            row(T::LastVisit, last);
        });
    for flag in &desk.possible_duplicates {
        let other = if flag.patient_number == patient.patient_number {
            &flag.other_patient_number
        } else {
            &flag.patient_number
        };
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{}: {other}", T::PossibleDuplicate.get(lang)),
            );
            if ui
                .button(format!("{} {other}", T::Open.get(lang)))
                .clicked()
            {
                commands.push(Command::OpenPatient(other.clone()));
            }
        });
    }
    if !state.desk.warnings.is_empty() {
        ui.strong(T::Warnings.get(lang));
        for warning in &state.desk.warnings {
            ui.colored_label(ui.visuals().warn_fg_color, warning_text(warning, lang));
        }
    }
    for held in &desk.today {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{}: {} ({})",
                    T::AlreadyQueuedToday.get(lang),
                    held.ticket,
                    held.unit_name
                ),
            );
            if ui.button(T::Reprint.get(lang)).clicked() {
                commands.push(Command::Reprint(held.clone()));
            }
        });
    }
}

fn warning_text(warning: &Warning, lang: Lang) -> String {
    match (lang, warning) {
        (Lang::Id, Warning::UnknownNikDistrict { district }) => {
            format!("Kode kecamatan NIK ({district}) tidak dikenal; cocokkan NIK dengan KTP.")
        }
        (Lang::Id, Warning::UnknownRegion { region_code }) => {
            format!("Kode desa {region_code} tidak dikenal.")
        }
        (
            Lang::Id,
            Warning::PossibleDuplicate {
                patient_number,
                name,
            },
        ) => format!(
            "Mungkin orang yang sama dengan {name} ({patient_number}); admin akan memeriksa."
        ),
        (
            Lang::Id,
            Warning::CardDiffers {
                field,
                on_card,
                here,
            },
        ) => {
            let field = match field.as_str() {
                "name" => "nama",
                "birth date" => "tanggal lahir",
                other => other,
            };
            format!(
                "Kartu menyebut {field} \"{on_card}\", data di sini \"{here}\"; tanyakan pasien mana yang benar."
            )
        }
        (Lang::En, other) => other.to_string(),
    }
}

pub(super) fn payer_word(payer: Payer) -> T {
    match payer {
        Payer::General => T::PayerGeneral,
        Payer::BpjsPbi => T::PayerBpjsPbi,
        Payer::BpjsNonPbi => T::PayerBpjsNonPbi,
    }
}

fn visit_choice(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let busy = state.is_pending(Pending::RegisterVisit);
    let typing = ui.memory(|m| m.focused().is_some());
    let choice = &mut state.desk.choice;
    if !typing && !busy {
        ui.input(|input| {
            for (index, key) in DIGIT_KEYS.iter().enumerate() {
                if input.key_pressed(*key) {
                    if let Some(unit) = state.units.get(index) {
                        choice.unit_code.clone_from(&unit.code);
                    }
                }
            }
            for (key, payer) in [
                (egui::Key::U, Payer::General),
                (egui::Key::P, Payer::BpjsPbi),
                (egui::Key::N, Payer::BpjsNonPbi),
            ] {
                if input.key_pressed(key) {
                    choice.payer = payer;
                }
            }
            if input.key_pressed(egui::Key::S) {
                choice.care = Care::Sick;
            }
            if input.key_pressed(egui::Key::H) {
                choice.care = Care::Well;
            }
            if input.key_pressed(egui::Key::Enter) {
                commands.push(Command::RegisterVisit);
            }
        });
    }
    ui.strong(T::Unit.get(lang));
    ui.horizontal_wrapped(|ui| {
        for (index, unit) in state.units.iter().enumerate() {
            let text = if index < 9 {
                format!("{} {}", index + 1, unit.name)
            } else {
                unit.name.clone()
            };
            ui.selectable_value(&mut choice.unit_code, unit.code.clone(), text);
        }
    });
    ui.strong(T::Payer.get(lang));
    ui.horizontal(|ui| {
        for payer in [Payer::General, Payer::BpjsPbi, Payer::BpjsNonPbi] {
            ui.selectable_value(&mut choice.payer, payer, payer_word(payer).get(lang));
        }
    });
    ui.strong(T::Care.get(lang));
    ui.horizontal(|ui| {
        ui.selectable_value(&mut choice.care, Care::Sick, T::Sick.get(lang));
        ui.selectable_value(&mut choice.care, Care::Well, T::Well.get(lang));
    });
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled_ui(!busy, |ui| widgets::big_button(ui, T::Register.get(lang)))
            .inner
            .clicked()
        {
            commands.push(Command::RegisterVisit);
        }
        if busy {
            ui.spinner();
        }
    });
    ui.small(T::KeyboardHint.get(lang));
}

fn ticket(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let lang = state.lang();
    let Some(ticket) = &state.desk.ticket else {
        return;
    };
    ui.vertical_centered(|ui| {
        if let Some(patient) = &state.desk.patient {
            ui.label(egui::RichText::new(&patient.patient.name).size(20.0));
        }
        ui.label(T::QueueNumber.get(lang));
        ui.label(egui::RichText::new(&ticket.ticket).size(96.0).strong());
        ui.label(egui::RichText::new(&ticket.unit_name).size(28.0));
        if let Some(day) = format::parse_iso(&ticket.queue_date) {
            ui.label(format::long_date(day, lang));
        }
        ui.label(egui::RichText::new(waiting_ahead(ticket.waiting_ahead, lang)).size(18.0));
        ui.add_space(16.0);
        ui.horizontal_wrapped(|ui| {
            if widgets::big_button(ui, T::Print.get(lang)).clicked() {
                commands.push(Command::PrintTicket);
            }
            if widgets::big_button(ui, T::SavePdf.get(lang)).clicked() {
                commands.push(Command::SaveTicketPdf);
            }
            if widgets::big_button(ui, T::NextPatient.get(lang)).clicked() {
                commands.push(Command::NextPatient);
            }
        });
    });
    let typing = ui.memory(|m| m.focused().is_some());
    if !typing && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
        commands.push(Command::NextPatient);
    }
}

fn new_patient(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let busy = state.is_pending(Pending::CreatePatient);
    let Some(form) = &mut state.desk.new_patient else {
        return;
    };
    ui.heading(T::NewPatientTitle.get(lang));
    ui.set_max_width(520.0);
    let NewPatientForm {
        name,
        nik,
        birth_date,
        sex,
        bpjs_number,
        family_card_number,
        address,
        region_code,
        phone,
    } = form;
    widgets::labelled_input(ui, T::FullName.get(lang), name);
    widgets::labelled_input(ui, T::Nik.get(lang), nik);
    widgets::labelled_input(ui, T::BirthDateTyped.get(lang), birth_date);
    ui.label(T::Sex.get(lang));
    ui.horizontal(|ui| {
        ui.radio_value(sex, Some(Sex::Female), T::Female.get(lang));
        ui.radio_value(sex, Some(Sex::Male), T::Male.get(lang));
    });
    widgets::labelled_input(ui, T::Bpjs.get(lang), bpjs_number);
    widgets::labelled_input(ui, T::FamilyCard.get(lang), family_card_number);
    widgets::labelled_input(ui, T::Address.get(lang), address);
    widgets::labelled_input(ui, T::VillageCode.get(lang), region_code);
    widgets::labelled_input(ui, T::Phone.get(lang), phone);
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!busy, egui::Button::new(T::Save.get(lang)))
            .clicked()
        {
            commands.push(Command::SaveNewPatient);
        }
        if ui.button(T::Cancel.get(lang)).clicked() {
            commands.push(Command::CancelNewPatient);
        }
        if busy {
            ui.spinner();
        }
    });
    if let Some(crate::problem::Problem::DuplicateNik { patient_number, .. }) = &state.desk.problem
    {
        if ui.button(T::Open.get(lang)).clicked() {
            commands.push(Command::OpenPatient(patient_number.clone()));
            commands.push(Command::CancelNewPatient);
        }
    }
}

/// The side panel: search without a card, and today's queue.
pub fn side_panel(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    egui::Panel::right("desk_side")
        .resizable(false)
        .default_size(320.0)
        .show(ui, |ui| {
            ui.heading(T::SearchTitle.get(lang));
            let search = &mut state.desk.search;
            let text = widgets::labelled_input(ui, T::SearchBox.get(lang), &mut search.text);
            let date =
                widgets::labelled_input(ui, T::SearchBirthDate.get(lang), &mut search.birth_date);
            let entered = (text.lost_focus() || date.lost_focus())
                && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if ui.button(T::Search.get(lang)).clicked() || entered {
                    commands.push(Command::Search);
                }
                if ui.button(T::NewPatient.get(lang)).clicked() {
                    commands.push(Command::StartNewPatient);
                }
                if state.is_pending(Pending::Search) {
                    ui.spinner();
                }
            });
            if let Some(results) = &state.desk.search.results {
                if results.is_empty() {
                    ui.label(T::NotFound.get(lang));
                }
                egui::ScrollArea::vertical()
                    .max_height(260.0)
                    .show(ui, |ui| {
                        for hit in results {
                            let birth = format::iso_date_words(&hit.birth_date, lang);
                            let mut text =
                                format!("{} · {} · {}", hit.name, birth, hit.patient_number);
                            if let Some(retired) = &hit.merged_from {
                                text.push_str(&format!(" · {} {retired}", T::MergedFrom.get(lang)));
                            }
                            if ui.button(text).clicked() {
                                commands.push(Command::OpenPatient(hit.patient_number.clone()));
                            }
                        }
                    });
            }
            ui.add_space(12.0);
            ui.separator();
            ui.heading(T::TodayQueue.get(lang));
            ui.label(format::long_date(state.today, lang));
            egui::Grid::new("today_queue")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    ui.label(T::Unit.get(lang));
                    ui.label(T::Waiting.get(lang));
                    ui.label(T::InProgress.get(lang));
                    ui.label(T::Finished.get(lang));
                    ui.end_row();
                    for unit in &state.desk.queue {
                        ui.label(&unit.unit_name);
                        ui.label(unit.waiting.to_string());
                        ui.label(unit.in_progress.to_string());
                        ui.label(unit.finished.to_string());
                        ui.end_row();
                    }
                });
        });
}
