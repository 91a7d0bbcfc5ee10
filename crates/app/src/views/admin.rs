//! The admin's room: its tabs, and Kartu — find a patient, see their cards, issue a card to
//! a blank one in the reader step by step, block, unblock, replace or terminate a card,
//! reset a blocked PIN.

use eframe::egui;
use kartika_card::IssueStep;
use kartika_store::CardStatus;

use super::{admin_duplicates, admin_records, widgets};
use crate::admin::{AdminTab, ReaderCard};
use crate::command::{Command, Commands};
use crate::format;
use crate::state::{Pending, State};
use crate::text::{Lang, T};

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    ui.horizontal(|ui| {
        for (tab, name) in [
            (AdminTab::Cards, T::TabCards),
            (AdminTab::Staff, T::TabStaff),
            (AdminTab::Audit, T::TabAudit),
            (AdminTab::Sync, T::TabSync),
            (AdminTab::Facility, T::TabFacility),
            (AdminTab::Backup, T::TabBackup),
            (AdminTab::Workstations, T::TabWorkstations),
            (AdminTab::Duplicates, T::TabDuplicates),
        ] {
            if ui
                .selectable_label(state.admin.tab == tab, name.get(lang))
                .clicked()
            {
                commands.push(Command::SetAdminTab(tab));
            }
        }
        if state.is_pending(Pending::Admin) || state.is_pending(Pending::Backup) {
            ui.spinner();
        }
    });
    ui.separator();
    if let Some(problem) = &state.admin.problem {
        widgets::problem(ui, problem, lang);
    }
    if let Some(notice) = &state.admin.notice {
        ui.label(notice);
    }
    egui::ScrollArea::vertical().show(ui, |ui| match state.admin.tab {
        AdminTab::Cards => cards(ui, state, commands),
        AdminTab::Staff => admin_records::staff(ui, state, commands),
        AdminTab::Audit => admin_records::audit(ui, state, commands),
        AdminTab::Sync => admin_records::sync(ui, state, commands),
        AdminTab::Facility => admin_records::facility(ui, state, commands),
        AdminTab::Backup => admin_records::backup(ui, state, commands),
        AdminTab::Workstations => admin_records::workstations(ui, state, commands),
        AdminTab::Duplicates => admin_duplicates::show(ui, state, commands),
    });
}

fn reader_line(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let text = match &state.admin.reader_card {
        None => T::AdminTapCard.get(lang).to_owned(),
        Some(ReaderCard::Blank { .. }) => T::BlankCardReady.get(lang).to_owned(),
        Some(ReaderCard::Issued { identity, .. }) => format!(
            "{}: {} ({})",
            T::CardInReader.get(lang),
            identity.card_number,
            identity.name
        ),
        Some(ReaderCard::Refused { problem, .. }) => problem.text(lang),
    };
    ui.label(egui::RichText::new(text).strong());
}

fn cards(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    reader_line(ui, state);
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let label = ui.label(T::SearchBox.get(lang));
        let field = ui
            .add(egui::TextEdit::singleline(&mut state.admin.search_text).desired_width(260.0))
            .labelled_by(label.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(T::Search.get(lang)).clicked() || entered {
            commands.push(Command::AdminSearch);
        }
    });
    if let Some(results) = &state.admin.results {
        if results.is_empty() {
            ui.label(T::NotFound.get(lang));
        }
        // A patient not registered yet is registered at the desk, with its checks.
        if ui.button(T::RegisterAtDesk.get(lang)).clicked() {
            commands.push(Command::Show(crate::state::Screen::Desk));
            commands.push(Command::StartNewPatient);
        }
        for hit in results.iter().take(20) {
            let born = format::parse_iso(&hit.birth_date)
                .map_or_else(|| hit.birth_date.clone(), format::short_date);
            let text = format!("{} · {} · {born}", hit.name, hit.patient_number);
            if ui.button(text).clicked() {
                commands.push(Command::AdminOpenPatient(hit.patient_number.clone()));
            }
        }
    }
    let Some((patient, patient_cards)) = &state.admin.patient else {
        return;
    };
    ui.separator();
    ui.label(egui::RichText::new(&patient.name).size(20.0).strong());
    ui.label(format!(
        "{} {}",
        T::PatientNumber.get(lang),
        patient.patient_number
    ));
    let has_active = patient_cards.iter().any(|c| c.status == CardStatus::Active);
    let label = ui.label(T::Reason.get(lang));
    ui.add(egui::TextEdit::singleline(&mut state.admin.reason).desired_width(320.0))
        .labelled_by(label.id);
    for card in patient_cards {
        let number = &card.card_number;
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(number).monospace());
            ui.label(card_status(card.status, lang));
            if let Some(reason) = &card.status_reason {
                ui.weak(reason);
            }
            match card.status {
                CardStatus::Active => {
                    if ui
                        .button(format!("{} {number}", T::Block.get(lang)))
                        .clicked()
                    {
                        commands.push(Command::BlockCard(number.clone()));
                    }
                    if ui
                        .button(format!("{} {number}", T::Replace.get(lang)))
                        .clicked()
                    {
                        commands.push(Command::StartIssue(Some(number.clone())));
                    }
                    if ui
                        .button(format!("{} {number}", T::Terminate.get(lang)))
                        .clicked()
                    {
                        commands.push(Command::TerminateCard(number.clone()));
                    }
                }
                CardStatus::Blocked => {
                    if ui
                        .button(format!("{} {number}", T::Unblock.get(lang)))
                        .clicked()
                    {
                        commands.push(Command::UnblockCard(number.clone()));
                    }
                    if !has_active
                        && ui
                            .button(format!("{} {number}", T::Replace.get(lang)))
                            .clicked()
                    {
                        commands.push(Command::StartIssue(Some(number.clone())));
                    }
                }
                CardStatus::Replaced | CardStatus::Terminated => {}
            }
        });
    }
    if !has_active && state.admin.issue.is_none() && ui.button(T::IssueNewCard.get(lang)).clicked()
    {
        commands.push(Command::StartIssue(None));
    }
    issue(ui, state, commands);
    pin_reset(ui, state, commands);
}

fn card_status(status: CardStatus, lang: Lang) -> &'static str {
    match (lang, status) {
        (Lang::Id, CardStatus::Active) => "aktif",
        (Lang::Id, CardStatus::Blocked) => "diblokir",
        (Lang::Id, CardStatus::Replaced) => "diganti",
        (Lang::Id, CardStatus::Terminated) => "dinonaktifkan",
        (Lang::En, CardStatus::Active) => "active",
        (Lang::En, CardStatus::Blocked) => "blocked",
        (Lang::En, CardStatus::Replaced) => "replaced",
        (Lang::En, CardStatus::Terminated) => "terminated",
    }
}

fn step_words(step: IssueStep, lang: Lang) -> &'static str {
    match (lang, step) {
        (Lang::Id, IssueStep::Select) => "Memeriksa kartu kosong",
        (Lang::Id, IssueStep::GenerateKey) => "Membuat kunci kartu",
        (Lang::Id, IssueStep::WriteIdentity) => "Menulis identitas",
        (Lang::Id, IssueStep::WriteSecurityObject) => "Menulis tanda tangan penerbit",
        (Lang::Id, IssueStep::WriteRootKey) => "Menulis kunci registry",
        (Lang::Id, IssueStep::SetPin) => "Menyimpan PIN",
        (Lang::Id, IssueStep::Activate) => "Mengaktifkan kartu",
        (Lang::En, IssueStep::Select) => "Checking the blank card",
        (Lang::En, IssueStep::GenerateKey) => "Generating the card's key",
        (Lang::En, IssueStep::WriteIdentity) => "Writing the identity",
        (Lang::En, IssueStep::WriteSecurityObject) => "Writing the issuer's signature",
        (Lang::En, IssueStep::WriteRootKey) => "Writing the registry key",
        (Lang::En, IssueStep::SetPin) => "Setting the PIN",
        (Lang::En, IssueStep::Activate) => "Activating the card",
    }
}

fn issue(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let Some(form) = &mut state.admin.issue else {
        return;
    };
    ui.separator();
    ui.strong(match &form.replacing {
        Some(old) => format!("{} {old}", T::ReplacingCard.get(lang)),
        None => T::IssueNewCard.get(lang).to_owned(),
    });
    if form.done {
        ui.label(T::CardIssued.get(lang));
        if ui.button(T::Close.get(lang)).clicked() {
            commands.push(Command::CancelIssue);
        }
        return;
    }
    ui.label(T::IssueSteps.get(lang));
    let pin = widgets::labelled_password(ui, T::NewPin.get(lang), &mut form.pin);
    if std::mem::take(&mut form.focus_pin) {
        pin.request_focus();
    }
    let again = widgets::labelled_password(ui, T::NewPinAgain.get(lang), &mut form.pin_again);
    let entered = again.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if let Some(step) = form.step {
        ui.add(
            egui::ProgressBar::new(f32::from(step.number()) / f32::from(IssueStep::COUNT))
                .text(step_words(step, lang)),
        );
    }
    ui.horizontal(|ui| {
        let ready = !form.running;
        if (ui
            .add_enabled(ready, egui::Button::new(T::IssueCard.get(lang)))
            .clicked()
            || entered)
            && ready
        {
            commands.push(Command::IssueCard);
        }
        if form.running {
            ui.spinner();
        } else if ui.button(T::Cancel.get(lang)).clicked() {
            commands.push(Command::CancelIssue);
        }
    });
}

fn pin_reset(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let patient_number = state
        .admin
        .patient
        .as_ref()
        .map(|(p, _)| p.patient_number.as_str());
    let card_of_patient = matches!(
        &state.admin.reader_card,
        Some(ReaderCard::Issued { identity, .. })
            if Some(identity.patient_number.as_str()) == patient_number
    );
    if !card_of_patient || state.admin.issue.is_some() {
        return;
    }
    ui.separator();
    ui.strong(T::ResetPinTitle.get(lang));
    let (pin, again) = &mut state.admin.pin_reset;
    widgets::labelled_password(ui, T::NewPin.get(lang), pin);
    widgets::labelled_password(ui, T::NewPinAgain.get(lang), again);
    if ui.button(T::ResetPin.get(lang)).clicked() {
        commands.push(Command::ResetCardPin);
    }
}
