//! "Pasien ganda": the possible duplicates, two records side by side with the one that
//! stays and each differing field chosen, what a merge would move before it is done, and
//! the merges in force with their undo.

use eframe::egui;
use kartika_store::{MergeField, MergePlan, Patient, VisitsAtAGlance};

use crate::command::{Command, Commands};
use crate::format;
use crate::state::State;
use crate::text::{Lang, T};

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
