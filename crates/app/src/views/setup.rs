//! The first run on a new workstation: the facility's profile and its first admin.

use eframe::egui;
use kartika_store::TimeZone;

use super::widgets;
use crate::command::{Command, Commands};
use crate::state::{Pending, State};
use crate::text::T;

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.set_max_width(480.0);
        ui.heading(T::SetupTitle.get(lang));
        ui.label(T::SetupIntro.get(lang));
        ui.add_space(8.0);
        let form = &mut state.setup;
        widgets::labelled_input(ui, T::FacilityCode.get(lang), &mut form.code);
        widgets::labelled_input(ui, T::FacilityName.get(lang), &mut form.name);
        widgets::labelled_input(ui, T::Catchment.get(lang), &mut form.catchment);
        ui.label(T::TimeZone.get(lang));
        ui.horizontal(|ui| {
            for zone in [TimeZone::Wib, TimeZone::Wita, TimeZone::Wit] {
                ui.radio_value(&mut form.zone, zone, zone.abbreviation());
            }
        });
        ui.add_space(8.0);
        widgets::labelled_input(ui, T::AdminUsername.get(lang), &mut form.admin_username);
        widgets::labelled_input(ui, T::AdminName.get(lang), &mut form.admin_name);
        widgets::labelled_password(ui, T::AdminPassword.get(lang), &mut form.admin_password);
        ui.add_space(8.0);
        ui.checkbox(&mut form.standalone, T::Standalone.get(lang));
        if !form.standalone {
            widgets::labelled_input(ui, T::RegistryUrl.get(lang), &mut form.registry_url);
            widgets::labelled_password(ui, T::RegistryToken.get(lang), &mut form.registry_token);
        }
        ui.add_space(8.0);
        let busy = state.pending.values().any(|p| *p == Pending::SetUp);
        if ui
            .add_enabled(!busy, egui::Button::new(T::CreateFacility.get(lang)))
            .clicked()
        {
            commands.push(Command::SetUp);
        }
        if let Some(problem) = &state.setup.problem {
            widgets::problem(ui, problem, lang);
        }
    });
}
