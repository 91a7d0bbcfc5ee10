//! The admin's room beyond the cards: accounts, the audit log and its check, sync, the
//! facility and its units, backups.

use eframe::egui;
use kartika_store::{Role, TimeZone};

use super::login::role_name;
use super::widgets;
use crate::command::{Command, Commands};
use crate::format;
use crate::state::State;
use crate::text::T;
use crate::workers::clinic::StaffChange;
use kartika_lan::WorkstationChange;

pub fn staff(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let me = state.session.as_ref().map(|s| s.username().to_owned());
    egui::Grid::new("staff").striped(true).show(ui, |ui| {
        for member in &state.admin.staff {
            ui.label(&member.username);
            ui.label(&member.display_name);
            ui.label(role_name(member.role).get(lang));
            ui.label(if member.disabled {
                T::Disabled.get(lang)
            } else {
                T::Enabled.get(lang)
            });
            let user = &member.username;
            ui.horizontal(|ui| {
                if me.as_deref() != Some(user.as_str()) {
                    let (label, change) = if member.disabled {
                        (T::Enable, StaffChange::Enable(user.clone()))
                    } else {
                        (T::Disable, StaffChange::Disable(user.clone()))
                    };
                    if ui.button(format!("{} {user}", label.get(lang))).clicked() {
                        commands.push(Command::Staff(Some(change)));
                    }
                }
                for role in [Role::Admin, Role::Registration, Role::Nurse] {
                    if role != member.role
                        && ui
                            .small_button(format!("{user} » {}", role_name(role).get(lang)))
                            .clicked()
                    {
                        commands.push(Command::Staff(Some(StaffChange::Role(user.clone(), role))));
                    }
                }
                if ui
                    .button(format!("{} {user}", T::ResetPassword.get(lang)))
                    .clicked()
                {
                    state.admin.password_reset = Some((user.clone(), String::new()));
                }
            });
            ui.end_row();
        }
    });
    if let Some((user, password)) = &mut state.admin.password_reset {
        ui.horizontal(|ui| {
            let label = ui.label(format!("{} {user}", T::NewPassword.get(lang)));
            ui.add(egui::TextEdit::singleline(password).password(true))
                .labelled_by(label.id);
            if ui.button(T::Save.get(lang)).clicked() {
                let change = StaffChange::Password(user.clone(), password.clone());
                commands.push(Command::Staff(Some(change)));
            }
        });
    }
    ui.separator();
    ui.strong(T::NewAccount.get(lang));
    let form = &mut state.admin.new_staff;
    widgets::labelled_input(ui, T::Username.get(lang), &mut form.username);
    widgets::labelled_input(ui, T::StaffName.get(lang), &mut form.display_name);
    ui.horizontal(|ui| {
        for role in [Role::Admin, Role::Registration, Role::Nurse] {
            ui.radio_value(&mut form.role, role, role_name(role).get(lang));
        }
    });
    widgets::labelled_password(ui, T::Password.get(lang), &mut form.password);
    if ui.button(T::AddStaff.get(lang)).clicked() {
        commands.push(Command::AddStaff);
    }
}

pub fn audit(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    ui.horizontal_wrapped(|ui| {
        let filter = &mut state.admin.audit_filter;
        for (label, value) in [
            (T::AuditDay, &mut filter.day),
            (T::AuditPerson, &mut filter.actor),
            (T::PatientNumber, &mut filter.patient_number),
            (T::AuditAction, &mut filter.action),
        ] {
            let text = value.get_or_insert_with(String::new);
            let label = ui.label(label.get(lang));
            ui.add(egui::TextEdit::singleline(text).desired_width(120.0))
                .labelled_by(label.id);
        }
        if ui.button(T::Search.get(lang)).clicked() {
            commands.push(Command::AuditSearch);
        }
        if ui.button(T::CheckAudit.get(lang)).clicked() {
            commands.push(Command::VerifyAudit);
        }
    });
    if let Some(report) = &state.admin.audit_verdict {
        let (color, text) = match &report.problem {
            None => (
                egui::Color32::from_rgb(0x1b, 0x7f, 0x3b),
                format!(
                    "{} ({} {}; {})",
                    T::AuditIntact.get(lang),
                    report.entries,
                    T::Entries.get(lang),
                    match report.covered_to {
                        Some(seq) =>
                            format!("{} {} {seq}", report.receipts, T::AuditReceipts.get(lang)),
                        None => T::AuditNoReceipt.get(lang).to_owned(),
                    }
                ),
            ),
            Some(problem) => (
                ui.visuals().error_fg_color,
                format!("{}: {problem:?}", T::AuditBroken.get(lang)),
            ),
        };
        ui.colored_label(color, egui::RichText::new(text).strong());
    }
    let zone = crate::app::zone_offset(state.zone());
    egui::Grid::new("audit_entries")
        .striped(true)
        .show(ui, |ui| {
            for entry in &state.admin.audit_entries {
                let local = entry.at.to_offset(zone);
                ui.label(format!(
                    "{} {}",
                    format::short_date(local.date()),
                    format::clock_time(entry.at, zone, lang)
                ));
                ui.label(&entry.actor);
                ui.label(&entry.action);
                ui.label(entry.patient_number.as_deref().unwrap_or(""));
                ui.label(&entry.detail);
                ui.end_row();
            }
        });
}

/// The registry link and the terminal certificate, warned of a month before it ends.
fn workstation(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let info = &state.workstation;
    match &info.registry {
        Some(url) => {
            ui.label(format!("{}: {url}", T::RegistryUrl.get(lang)));
            if let Some(hint) = &info.token_hint {
                ui.label(format!("{}: {hint}", T::RegistryToken.get(lang)));
            }
        }
        None => {
            ui.label(T::SyncStandalone.get(lang));
        }
    }
    match (&info.node_id, info.certificate_until) {
        (Some(node), Some(until)) => {
            let text = format!(
                "{} {node}: {} {}",
                T::TerminalCertificate.get(lang),
                T::ValidUntil.get(lang),
                format::short_date(until)
            );
            if until - state.today <= time::Duration::days(30) {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{text} · {}", T::CertificateEndsSoon.get(lang)),
                );
            } else {
                ui.label(text);
            }
        }
        _ => {
            ui.label(T::NoTerminalCertificate.get(lang));
        }
    }
    ui.separator();
}

pub fn sync(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let zone = crate::app::zone_offset(state.zone());
    workstation(ui, state);
    if let Some(health) = &state.admin.sync_health {
        ui.label(format!("{}: {}", T::SyncWaiting.get(lang), health.pending));
        ui.label(format!(
            "{}: {}",
            T::SyncSetAside.get(lang),
            health.set_aside
        ));
        if health.pulled_set_aside > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{}: {}",
                    T::SyncPulledSetAside.get(lang),
                    health.pulled_set_aside
                ),
            );
        }
        let last = health
            .last_success
            .map(|at| format::clock_time(at, zone, lang))
            .unwrap_or_else(|| "—".into());
        ui.label(format!("{}: {last}", T::SyncLastSuccess.get(lang)));
        if let Some(error) = &health.last_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    }
    // While a backlog drains: what this round sent, against what waited when last asked.
    if let (Some(sync), Some(health)) = (&state.sync, &state.admin.sync_health) {
        if sync.progress.running && health.pending > 0 {
            let sent = sync.progress.sent as f32;
            let share = sent / (sent + health.pending as f32);
            ui.add(egui::ProgressBar::new(share.min(1.0)).show_percentage());
        }
    }
    if ui.button(T::Refresh.get(lang)).clicked() {
        commands.push(Command::SyncDetails(Vec::new()));
    }
    let satusehat = Outside {
        title: T::Satusehat,
        not_set_up: T::SatusehatNotSetUp,
        send_all: T::SendAllAgain,
        retry: Command::SatusehatRetry,
    };
    outside_counts(
        ui,
        state,
        &satusehat,
        state.satusehat.as_ref(),
        state.satusehat_paused.as_deref(),
    );
    outside_visits(ui, state, &satusehat, state.satusehat.as_ref(), commands);
    let bpjs = Outside {
        title: T::BpjsQueue,
        not_set_up: T::BpjsQueueNotSetUp,
        send_all: T::SendAllAgainBpjs,
        retry: Command::BpjsRetry,
    };
    outside_counts(
        ui,
        state,
        &bpjs,
        state.bpjs_queue.as_ref(),
        state.bpjs_paused.as_deref(),
    );
    outside_visits(ui, state, &bpjs, state.bpjs_queue.as_ref(), commands);
    // The set-up last: what waits and why is what an admin comes for.
    ui.separator();
    satusehat_settings(ui, state, commands);
    if state.admin.set_aside.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(T::SyncSetAside.get(lang));
    for record in &state.admin.set_aside {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{} {}", record.kind.as_str(), record.record_id));
            ui.weak(&record.reason);
        });
    }
    if ui.button(T::SendAgain.get(lang)).clicked() {
        let ids = state.admin.set_aside.iter().map(|r| r.id.clone()).collect();
        commands.push(Command::SyncDetails(ids));
    }
}

/// SATUSEHAT's set-up: where it is and who this Puskesmas is to it. The secret typed is
/// never shown again.
fn satusehat_settings(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    use crate::admin::SatusehatPlace;
    let lang = state.lang();
    let form = &mut state.admin.satusehat;
    // Open until SATUSEHAT is set up, closed after (a header of its own for each).
    egui::CollapsingHeader::new(T::SatusehatSettings.get(lang))
        .id_salt(("satusehat-settings", form.set_up))
        .default_open(!form.set_up)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for (place, name) in [
                    (SatusehatPlace::Sandbox, T::SatusehatSandbox),
                    (SatusehatPlace::Production, T::SatusehatProduction),
                    (SatusehatPlace::Development, T::SatusehatDevelopment),
                    (SatusehatPlace::Other, T::SatusehatOther),
                ] {
                    ui.radio_value(&mut form.place, place, name.get(lang));
                }
            });
            if form.place == SatusehatPlace::Other {
                widgets::labelled_input(ui, T::SatusehatAuthUrl.get(lang), &mut form.auth_url);
                widgets::labelled_input(ui, T::SatusehatFhirUrl.get(lang), &mut form.fhir_url);
            }
            widgets::labelled_input(
                ui,
                T::SatusehatOrganization.get(lang),
                &mut form.organization_id,
            );
            widgets::labelled_input(ui, T::SatusehatClientId.get(lang), &mut form.client_id);
            let secret_label = if form.set_up {
                T::SatusehatSecretKept
            } else {
                T::SatusehatSecret
            };
            widgets::labelled_password(ui, secret_label.get(lang), &mut form.secret);
            widgets::labelled_input(ui, T::SatusehatPace.get(lang), &mut form.pace);
            if ui.button(T::Save.get(lang)).clicked() {
                commands.push(Command::SaveSatusehat);
            }
        });
}

/// An outside system's queue as the admin sees it (SATUSEHAT's, BPJS's).
struct Outside {
    title: T,
    not_set_up: T,
    send_all: T,
    retry: fn(Option<String>) -> Command,
}

/// An outside system beside the registry: counts per state, the oldest waiting, the last
/// delivery, why the sender paused.
fn outside_counts(
    ui: &mut egui::Ui,
    state: &State,
    outside: &Outside,
    status: Option<&kartika_store::DeliveryStatus>,
    paused: Option<&str>,
) {
    let lang = state.lang();
    let zone = crate::app::zone_offset(state.zone());
    ui.separator();
    ui.strong(outside.title.get(lang));
    let Some(status) = status else {
        return;
    };
    if status.counts.values().all(|n| *n == 0) && status.last_sent_at.is_none() {
        ui.label(outside.not_set_up.get(lang));
    }
    let count = |state: &str| status.counts.get(state).copied().unwrap_or(0);
    ui.label(format!(
        "{} {} · {} {} · {} {} · {} {}",
        count("sent"),
        T::SatusehatSent.get(lang),
        count("waiting"),
        T::SatusehatWaiting.get(lang),
        count("retrying"),
        T::SatusehatRetrying.get(lang),
        count("refused"),
        T::SatusehatRefused.get(lang),
    ));
    if let Some(oldest) = status.visits.iter().map(|v| v.ended_at).min() {
        ui.label(format!(
            "{}: {}",
            T::SatusehatOldest.get(lang),
            format::moment(oldest, zone, lang)
        ));
    }
    let last = status
        .last_sent_at
        .map(|at| format::moment(at, zone, lang))
        .unwrap_or_else(|| "—".into());
    ui.label(format!("{}: {last}", T::SatusehatLastSent.get(lang)));
    if let Some(why) = paused {
        ui.colored_label(ui.visuals().error_fg_color, why);
    }
}

/// Each refused visit with the system's own words and "Kirim ulang", then those that wait.
fn outside_visits(
    ui: &mut egui::Ui,
    state: &State,
    outside: &Outside,
    status: Option<&kartika_store::DeliveryStatus>,
    commands: &mut Commands,
) {
    let lang = state.lang();
    let zone = crate::app::zone_offset(state.zone());
    let Some(status) = status else {
        return;
    };
    let refused: Vec<_> = status
        .visits
        .iter()
        .filter(|v| v.state == kartika_store::DeliveryState::Refused)
        .collect();
    if !refused.is_empty() && ui.button(outside.send_all.get(lang)).clicked() {
        commands.push((outside.retry)(None));
    }
    // The oldest first, a screenful: the counts above say how many there are.
    for visit in refused.iter().take(LISTED) {
        ui.horizontal_wrapped(|ui| {
            delivery_line(ui, visit, zone, lang);
            if ui.button(T::SendAgain.get(lang)).clicked() {
                commands.push((outside.retry)(Some(visit.visit_id.clone())));
            }
        });
    }
    // What waits its turn is folded away: refused ones are what an admin acts on.
    let waiting: Vec<_> = status
        .visits
        .iter()
        .filter(|v| v.state != kartika_store::DeliveryState::Refused)
        .collect();
    if waiting.is_empty() {
        return;
    }
    let count = |state: &str| status.counts.get(state).copied().unwrap_or(0);
    egui::CollapsingHeader::new(format!(
        "{}, {} ({})",
        T::SatusehatWaiting.get(lang),
        T::SatusehatRetrying.get(lang),
        count("waiting") + count("retrying")
    ))
    .id_salt((outside.title.get(lang), "waiting"))
    .default_open(false)
    .show(ui, |ui| {
        for visit in waiting.iter().take(LISTED) {
            ui.horizontal_wrapped(|ui| delivery_line(ui, visit, zone, lang));
        }
    });
}

/// A visit not at an outside system: its patient, when it ended, the call (BPJS's), and
/// why it is not sent.
fn delivery_line(
    ui: &mut egui::Ui,
    visit: &kartika_store::PendingDelivery,
    zone: time::UtcOffset,
    lang: crate::text::Lang,
) {
    let step = visit
        .step
        .map(|s| format!(" · {}", s.as_str()))
        .unwrap_or_default();
    ui.label(format!(
        "{} · {}{step}",
        visit.patient_number,
        format::moment(visit.ended_at, zone, lang)
    ));
    ui.weak(visit.reason.as_deref().unwrap_or_default());
}

/// Visits listed of each kind, oldest first.
const LISTED: usize = 20;

pub fn facility(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    if let Some(facility) = &state.facility {
        ui.label(format!("{}: {}", T::FacilityCode.get(lang), facility.code));
    }
    let form = &mut state.admin.facility;
    widgets::labelled_input(ui, T::FacilityName.get(lang), &mut form.name);
    widgets::labelled_input(ui, T::Catchment.get(lang), &mut form.catchment);
    ui.horizontal(|ui| {
        for zone in [TimeZone::Wib, TimeZone::Wita, TimeZone::Wit] {
            ui.radio_value(&mut form.zone, Some(zone), zone.abbreviation());
        }
    });
    if ui.button(T::Save.get(lang)).clicked() {
        commands.push(Command::SaveFacility);
    }
    ui.separator();
    ui.strong(T::Units.get(lang));
    for unit in &state.units {
        ui.label(format!(
            "{} · {} · {}",
            unit.queue_prefix, unit.name, unit.code
        ));
    }
    let (code, name, letter) = &mut state.admin.new_unit;
    widgets::labelled_input(ui, T::UnitCode.get(lang), code);
    widgets::labelled_input(ui, T::UnitName.get(lang), name);
    widgets::labelled_input(ui, T::QueueLetter.get(lang), letter);
    if ui.button(T::AddUnit.get(lang)).clicked() {
        commands.push(Command::AddUnit);
    }
}

pub fn backup(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let plan = &mut state.prefs.backup;
    let folder = widgets::labelled_input(ui, T::BackupFolder.get(lang), &mut plan.folder);
    let mut changed = folder.lost_focus();
    ui.horizontal(|ui| {
        let label = ui.label(T::BackupKeep.get(lang));
        changed |= ui
            .add(egui::DragValue::new(&mut plan.keep).range(1..=60))
            .labelled_by(label.id)
            .changed();
    });
    changed |= ui
        .checkbox(&mut plan.daily, T::BackupDaily.get(lang))
        .changed();
    if changed {
        commands.push(Command::BackupPlanChanged);
    }
    if ui.button(T::BackupNow.get(lang)).clicked() {
        commands.push(Command::BackupNow);
    }
    if let Some(last) = &state.admin.backup.last {
        ui.label(last);
    }
    ui.separator();
    ui.strong(T::RestoreTitle.get(lang));
    ui.label(T::RestoreHint.get(lang));
    widgets::labelled_input(
        ui,
        T::RestoreFrom.get(lang),
        &mut state.admin.backup.restore_from,
    );
    if ui.button(T::Restore.get(lang)).clicked() {
        commands.push(Command::Restore);
    }
}

/// The workstations of the LAN: who asks to join, who is approved, who was revoked.
pub fn workstations(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    if state.admin.workstations.is_empty() {
        ui.label(T::NoWorkstations.get(lang));
        return;
    }
    egui::Grid::new("workstations")
        .striped(true)
        .show(ui, |ui| {
            for ws in &state.admin.workstations {
                // The id is the key's fingerprint, as the PC shows it while it waits; the
                // address tells a decoy from the PC the admin expects.
                ui.label(&ws.id);
                ui.label(&ws.name);
                ui.label(match &ws.requested_from {
                    Some(address) => format!("{} {address}", T::RequestedFrom.get(lang)),
                    None => String::new(),
                });
                let series = ws
                    .emergency_series
                    .map(|s| format!(" ({})", char::from(b'A' + s.saturating_sub(1))))
                    .unwrap_or_default();
                let status = match (&ws.approved_by, ws.revoked) {
                    (_, true) => T::WorkstationRevoked.get(lang).to_owned(),
                    (Some(by), false) => {
                        format!("{} · {by}{series}", T::WorkstationApproved.get(lang))
                    }
                    (None, false) => T::WorkstationWaiting.get(lang).to_owned(),
                };
                ui.label(status);
                ui.horizontal(|ui| {
                    if ws.approved_by.is_none()
                        && !ws.revoked
                        && ui
                            .button(format!("{} {}", T::Approve.get(lang), ws.name))
                            .clicked()
                    {
                        commands.push(Command::Workstation(Some(WorkstationChange::Approve(
                            ws.id.clone(),
                        ))));
                    }
                    if !ws.revoked
                        && ui
                            .button(format!("{} {}", T::Revoke.get(lang), ws.name))
                            .clicked()
                    {
                        commands.push(Command::Workstation(Some(WorkstationChange::Revoke(
                            ws.id.clone(),
                        ))));
                    }
                });
                ui.end_row();
            }
        });
}
