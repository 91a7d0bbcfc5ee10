//! "Pasien ganda": the possible duplicates, two records side by side with the one that
//! stays and each differing field chosen, what a merge would move before it is done, and
//! the merges in force with their undo; and, through the registry, the records of one
//! person at two Puskesmas: proposed by one admin, accepted or declined by the other's,
//! and undone by either.

use eframe::egui;
use kartika_store::{MergeField, MergePlan, Patient, VisitsAtAGlance};
use kartika_sync::{LikelySame, MergeBoard, MergeDecision, MergeProposal, ProposalState};

use crate::command::{Command, Commands};
use crate::format;
use crate::state::State;
use crate::text::{Lang, T};
use crate::workers::sync::RegistryAsk;

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    let zone = crate::app::zone_offset(state.zone());
    let form = &state.admin.duplicates;
    if let Some(plan) = &form.plan {
        side_by_side(ui, plan, &form.take, lang, commands);
        ui.separator();
    }
    let Some(view) = &form.view else {
        return;
    };
    let own = state
        .facility
        .as_ref()
        .map(|f| f.code.clone())
        .unwrap_or_default();
    if view.flags.is_empty() {
        ui.label(T::NoDuplicates.get(lang));
    }
    egui::Grid::new("duplicate_flags")
        .striped(true)
        .show(ui, |ui| {
            for flag in &view.flags {
                ui.label(&flag.patient_number);
                ui.label(&flag.other_patient_number);
                ui.label(&flag.reason);
                let label = format!(
                    "{} {} · {}",
                    T::Compare.get(lang),
                    flag.patient_number,
                    flag.other_patient_number
                );
                if ui.button(label).clicked() {
                    commands.push(Command::ComparePatients(
                        flag.patient_number.clone(),
                        flag.other_patient_number.clone(),
                    ));
                }
                ui.end_row();
            }
        });
    if !view.links.is_empty() {
        ui.add_space(8.0);
        ui.strong(T::LinksInForce.get(lang));
        egui::Grid::new("links_in_force")
            .striped(true)
            .show(ui, |ui| {
                for link in &view.links {
                    ui.label(format!(
                        "{} {} {}",
                        link.retired,
                        T::LinkedInto.get(lang),
                        link.survivor
                    ));
                    ui.label(format!(
                        "{} {} {}",
                        format::moment(link.at_ms, zone, lang),
                        T::AcceptedBy.get(lang),
                        link.by
                    ));
                    // Undone through the registry: only a PC that syncs with it asks.
                    let label = format!("{} {}", T::UndoLink.get(lang), link.retired);
                    if state.sync.is_some() && ui.button(label).clicked() {
                        commands.push(Command::RegistryMerges(RegistryAsk::Decide {
                            proposal: link.proposal.clone(),
                            decision: MergeDecision::Undo,
                        }));
                    }
                    ui.end_row();
                }
            });
    }
    other_puskesmas(ui, state, &own, lang, commands);
    let Some(view) = &state.admin.duplicates.view else {
        return;
    };
    if view.merges.is_empty() {
        return;
    }
    ui.add_space(8.0);
    ui.strong(T::MergesInForce.get(lang));
    egui::Grid::new("merges_in_force")
        .striped(true)
        .show(ui, |ui| {
            for merge in &view.merges {
                ui.label(format!(
                    "{} {} {}",
                    merge.retired,
                    T::MergeInto.get(lang),
                    merge.survivor
                ));
                ui.label(format!(
                    "{} {} {}",
                    format::moment(merge.merged_at_ms, zone, lang),
                    T::MergedBy.get(lang),
                    merge.merged_by
                ));
                let label = format!("{} {}", T::Unmerge.get(lang), merge.retired);
                if ui.button(label).clicked() {
                    commands.push(Command::Unmerge(merge.retired.clone()));
                }
                ui.end_row();
            }
        });
}

/// The registry's pairs of a record here and one of another Puskesmas, and the proposals.
fn other_puskesmas(
    ui: &mut egui::Ui,
    state: &State,
    own: &str,
    lang: Lang,
    commands: &mut Commands,
) {
    let form = &state.admin.duplicates;
    ui.add_space(8.0);
    ui.strong(T::OtherPuskesmas.get(lang));
    if state.sync.is_none() {
        ui.label(T::OtherPuskesmasNoRegistry.get(lang));
        return;
    }
    if form.registry_busy {
        ui.label(T::AskingRegistry.get(lang));
    }
    let board = match &form.registry {
        None => return,
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
            return;
        }
        Some(Ok(board)) => board,
    };
    if board.candidates.is_empty() && board.proposals.is_empty() {
        ui.label(T::NoOtherDuplicates.get(lang));
    }
    candidates(ui, board, lang, commands);
    egui::Grid::new("merge_proposals")
        .striped(true)
        .show(ui, |ui| {
            for proposal in &board.proposals {
                ui.label(format!(
                    "{} ({}) {} {} ({})",
                    proposal.survivor,
                    proposal.survivor_facility,
                    T::StandsFor.get(lang),
                    proposal.retired,
                    proposal.retired_facility
                ));
                ui.label(proposal_state(proposal, own, lang));
                for (label, decision) in decisions(proposal, own) {
                    let text = format!("{} {}", label.get(lang), proposal.retired);
                    if ui.button(text).clicked() {
                        commands.push(Command::RegistryMerges(RegistryAsk::Decide {
                            proposal: proposal.id.clone(),
                            decision,
                        }));
                    }
                }
                ui.end_row();
            }
        });
}

fn candidates(ui: &mut egui::Ui, board: &MergeBoard, lang: Lang, commands: &mut Commands) {
    egui::Grid::new("registry_candidates")
        .striped(true)
        .show(ui, |ui| {
            for pair in &board.candidates {
                ui.label(&pair.patient);
                ui.label(format!("{} ({})", pair.other, pair.other_facility));
                ui.label(match pair.reason {
                    LikelySame::Nik => T::SameNik.get(lang),
                    LikelySame::NameBirthSex => T::SameNameBirthSex.get(lang),
                });
                for (survivor, retired) in
                    [(&pair.patient, &pair.other), (&pair.other, &pair.patient)]
                {
                    let label = format!("{} {survivor}", T::ProposeKeep.get(lang));
                    if ui.button(label).clicked() {
                        commands.push(Command::RegistryMerges(RegistryAsk::Propose {
                            survivor: survivor.clone(),
                            retired: retired.clone(),
                        }));
                    }
                }
                ui.end_row();
            }
        });
}

fn proposal_state(proposal: &MergeProposal, own: &str, lang: Lang) -> String {
    let by = proposal.decided_by.as_deref().unwrap_or("");
    match proposal.state {
        ProposalState::Proposed if proposal.proposed_by == own => {
            let other = if proposal.survivor_facility == own {
                &proposal.retired_facility
            } else {
                &proposal.survivor_facility
            };
            format!("{} {other}", T::WaitingFor.get(lang))
        }
        ProposalState::Proposed => format!("{} {}", T::ProposedBy.get(lang), proposal.proposed_by),
        ProposalState::Accepted => format!("{} {by}", T::AcceptedBy.get(lang)),
        ProposalState::Declined => format!("{} {by}", T::DeclinedBy.get(lang)),
        ProposalState::Undone => format!("{} {by}", T::UndoneBy.get(lang)),
    }
}

/// What this Puskesmas may do with a proposal.
fn decisions(proposal: &MergeProposal, own: &str) -> Vec<(T, MergeDecision)> {
    match proposal.state {
        ProposalState::Proposed if proposal.proposed_by == own => {
            vec![(T::Withdraw, MergeDecision::Decline)]
        }
        ProposalState::Proposed => vec![
            (T::Accept, MergeDecision::Accept),
            (T::Decline, MergeDecision::Decline),
        ],
        // Undone from the links in force, which this store follows.
        ProposalState::Accepted | ProposalState::Declined | ProposalState::Undone => Vec::new(),
    }
}

fn field_name(field: MergeField) -> T {
    match field {
        MergeField::Nik => T::FieldNik,
        MergeField::BpjsNumber => T::FieldBpjs,
        MergeField::FamilyCardNumber => T::FieldKk,
        MergeField::Name => T::FieldName,
        MergeField::BirthDate => T::FieldBirthDate,
        MergeField::Sex => T::FieldSex,
        MergeField::BloodGroup => T::FieldBloodGroup,
        MergeField::Address => T::FieldAddress,
        MergeField::RegionCode => T::FieldRegion,
        MergeField::Phone => T::FieldPhone,
    }
}

fn side_by_side(
    ui: &mut egui::Ui,
    plan: &MergePlan,
    take: &[MergeField],
    lang: Lang,
    commands: &mut Commands,
) {
    let heading = |p: &Patient, role: T| format!("{} · {}", role.get(lang), p.patient_number);
    egui::Grid::new("merge_side_by_side")
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.strong(heading(&plan.survivor, T::Survivor));
            ui.strong(heading(&plan.retired, T::Retired));
            ui.end_row();
            for difference in &plan.differences {
                let field = difference.field;
                ui.label(field_name(field).get(lang));
                ui.label(difference.survivor.as_deref().unwrap_or("–"));
                let mut taken = take.contains(&field);
                let shown = format!(
                    "{} ({})",
                    difference.retired.as_deref().unwrap_or("–"),
                    T::TakeThis.get(lang)
                );
                if ui.checkbox(&mut taken, shown).changed() {
                    commands.push(Command::ToggleMergeField(field));
                }
                ui.end_row();
            }
            let glance = |v: &VisitsAtAGlance| {
                v.per_year
                    .iter()
                    .map(|(year, n)| format!("{year}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            ui.label(T::VisitsPerYear.get(lang));
            ui.label(glance(&plan.survivor_visits));
            ui.label(glance(&plan.retired_visits));
            ui.end_row();
            let last = |v: &VisitsAtAGlance| {
                v.last
                    .as_deref()
                    .map(|d| format::iso_date_words(d, lang))
                    .unwrap_or_else(|| "–".into())
            };
            ui.label(T::LastVisit.get(lang));
            ui.label(last(&plan.survivor_visits));
            ui.label(last(&plan.retired_visits));
            ui.end_row();
            ui.label(T::FieldCards.get(lang));
            ui.label(plan.survivor_visits.cards.join(", "));
            ui.label(plan.retired_visits.cards.join(", "));
            ui.end_row();
        });
    ui.label(format!(
        "{}: {} {} · {} {} · {} {} · {} {}",
        T::MergeMoves.get(lang),
        plan.visits,
        T::MergeVisits.get(lang),
        plan.diagnoses,
        T::MergeDiagnoses.get(lang),
        plan.cards.len(),
        T::MergeCards.get(lang),
        plan.flags,
        T::MergeFlags.get(lang),
    ));
    ui.horizontal(|ui| {
        let merge = format!(
            "{} {} {} {}",
            T::MergeButton.get(lang),
            plan.retired.patient_number,
            T::MergeInto.get(lang),
            plan.survivor.patient_number
        );
        if ui.button(merge).clicked() {
            commands.push(Command::MergePatients);
        }
        if ui.button(T::SwapSurvivor.get(lang)).clicked() {
            commands.push(Command::SwapSurvivor);
        }
        if ui.button(T::Cancel.get(lang)).clicked() {
            commands.push(Command::CancelMerge);
        }
    });
}
