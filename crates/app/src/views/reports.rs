//! Laporan: the monthly reports on screen, for the admin (every unit, exportable) and for a
//! nurse (one unit at a time, read only). A month picker, the report as a table that lays out only
//! the rows in view, and for the top ten a bar chart.

use eframe::egui;
use egui_extras::{Column as TableColumn, TableBuilder};
use egui_plot::{Bar, BarChart, Plot};
use kartika_report::{Format, Value};
use kartika_store::Role;

use super::widgets;
use crate::command::{Command, Commands};
use crate::format;
use crate::state::{Pending, State};
use crate::text::T;
use crate::workers::clinic::ReportKind;

fn kind_name(kind: ReportKind) -> T {
    match kind {
        ReportKind::Lb1 => T::ReportLb1,
        ReportKind::Visits => T::ReportVisits,
        ReportKind::Top10 => T::ReportTop10,
        ReportKind::Daily => T::ReportDaily,
    }
}

pub fn show(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let lang = state.lang();
    let reports = &state.reports;
    let is_admin = state
        .session
        .as_ref()
        .is_some_and(|s| s.role() == Role::Admin);
    ui.heading(T::Reports.get(lang));
    ui.horizontal_wrapped(|ui| {
        for kind in [
            ReportKind::Lb1,
            ReportKind::Visits,
            ReportKind::Top10,
            ReportKind::Daily,
        ] {
            if ui
                .selectable_label(reports.kind == kind, kind_name(kind).get(lang))
                .clicked()
            {
                commands.push(Command::SetReportKind(kind));
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        if ui.button(T::Earlier.get(lang)).clicked() {
            commands.push(Command::ShiftReportPeriod(-1));
        }
        let period = if reports.kind == ReportKind::Daily {
            format::long_date(reports.day, lang)
        } else {
            format::month_year(reports.month.0, reports.month.1, lang)
        };
        ui.label(egui::RichText::new(period).strong().size(18.0));
        if ui.button(T::Later.get(lang)).clicked() {
            commands.push(Command::ShiftReportPeriod(1));
        }
        ui.separator();
        ui.label(T::Unit.get(lang));
        // The admin may read all units at once; a nurse reads one unit at a time, hers.
        if is_admin
            && ui
                .selectable_label(reports.unit_code.is_none(), T::AllUnits.get(lang))
                .clicked()
        {
            commands.push(Command::SetReportUnit(None));
        }
        for unit in &state.units {
            let chosen = reports.unit_code.as_deref() == Some(unit.code.as_str());
            if ui.selectable_label(chosen, &unit.name).clicked() && !chosen {
                commands.push(Command::SetReportUnit(Some(unit.code.clone())));
            }
        }
        if reports.kind == ReportKind::Top10 {
            ui.separator();
            let mut new_only = reports.new_cases_only;
            if ui
                .checkbox(&mut new_only, T::NewCasesOnly.get(lang))
                .changed()
            {
                commands.push(Command::SetNewCasesOnly(new_only));
            }
        }
    });
    if is_admin && reports.shown.is_some() {
        ui.horizontal(|ui| {
            ui.label(T::SaveAs.get(lang));
            for (format, name) in [
                (Format::Xlsx, "XLSX"),
                (Format::Csv, "CSV"),
                (Format::Json, "JSON"),
            ] {
                if ui.button(name).clicked() {
                    commands.push(Command::ExportReport(format));
                }
            }
        });
    }
    if let Some(problem) = &reports.problem {
        widgets::problem(ui, problem, lang);
    }
    if let Some(notice) = &reports.notice {
        ui.label(notice);
    }
    if state.is_pending(Pending::Report) {
        ui.spinner();
        return;
    }
    let Some((report, sheet)) = &reports.shown else {
        return;
    };
    ui.add_space(8.0);
    ui.strong(&sheet.title);
    ui.label(&sheet.subtitle);
    if sheet.rows.is_empty() {
        ui.label(T::NoData.get(lang));
        return;
    }
    if let kartika_report::Report::Top10(top) = report {
        ui.label(T::Top10Chart.get(lang));
        let bars = top
            .rows
            .iter()
            .map(|r| Bar::new(r.rank as f64, r.count as f64).name(&r.code))
            .collect();
        Plot::new("top10_chart")
            .height(220.0)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .show_x(false)
            .show(ui, |plot| {
                plot.bar_chart(BarChart::new(T::ReportTop10.get(lang), bars))
            });
    }
    table(ui, sheet);
}

/// The sheet as a table: one heading row of flat names, the rows (only those in view are
/// laid out), the totals in bold. WHO's titles beside the Indonesian ones are not a column
/// here: they show when the pointer rests on the Indonesian title.
fn table(ui: &mut egui::Ui, sheet: &kartika_report::Sheet) {
    let who_column = sheet
        .columns
        .iter()
        .position(|c| c.name == kartika_report::WHO_TITLE_COLUMN);
    let shown: Vec<usize> = (0..sheet.columns.len())
        .filter(|i| Some(*i) != who_column)
        .collect();
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let mut builder = TableBuilder::new(ui).striped(true);
        for &index in &shown {
            let column = &sheet.columns[index];
            builder = builder.column(match column.name.as_str() {
                "Diagnosa" | "Uraian" => TableColumn::initial(320.0).clip(true),
                _ if column.group.is_some() => TableColumn::exact(64.0),
                _ => TableColumn::auto(),
            });
        }
        let rows: Vec<(&Vec<Value>, bool)> = sheet
            .rows
            .iter()
            .map(|r| (r, false))
            .chain(sheet.totals.iter().map(|r| (r, true)))
            .collect();
        builder
            .header(22.0, |mut header| {
                for &index in &shown {
                    header.col(|ui| {
                        ui.strong(sheet.columns[index].flat_name());
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let (values, totals) = rows[row.index()];
                    let who_title = who_column.and_then(|i| values.get(i));
                    for &index in &shown {
                        let Some(value) = values.get(index) else {
                            continue;
                        };
                        row.col(|ui| {
                            let text = egui::RichText::new(value.display());
                            let label = ui.label(if totals { text.strong() } else { text });
                            if let (Some(who), true) = (who_title, Some(index + 1) == who_column) {
                                label.on_hover_text(who.display());
                            }
                        });
                    }
                });
            });
    });
}
