//! The open patient's history: every visit here and elsewhere in a table that lays out
//! only the rows in view, the card's own log beside it, and the charts of weight, blood
//! pressure and temperature, where a point names its visit.

use eframe::egui;
use egui_extras::{Column, TableBuilder};
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints, Points};

use crate::poli::ChartPoint;
use crate::state::State;
use crate::text::T;
use kartika_store::DeliveryState;

/// The history table, with the card's log beside it when the card is in the reader.
pub fn history(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let Some(open) = &state.poli.open else {
        return;
    };
    if let Some(card) = &state.poli.card {
        if card.patient_number.as_deref() == Some(open.history.patient.patient_number.as_str()) {
            egui::Panel::right("card_log")
                .resizable(false)
                .default_size(260.0)
                .show(ui, |ui| super::poli_card::card_log(ui, state, card));
        }
    }
    ui.label(format!(
        "{}: {}",
        T::VisitsInHistory.get(lang),
        open.rows.len()
    ));
    let rows = &open.rows;
    // The status (a referral, a cancellation) comes before the diagnoses, which take
    // whatever width the other columns leave, so the vital signs stay in view in any
    // window wide enough for them; a narrower one scrolls sideways. Every cell stays on
    // one line, so a row is as high as the table says and only rows in view are laid out.
    egui::ScrollArea::horizontal().show(ui, |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(78.0))
            .column(Column::exact(66.0).clip(true))
            .column(Column::exact(80.0).clip(true))
            .column(Column::exact(62.0).clip(true))
            .column(Column::remainder().at_least(160.0).clip(true))
            .column(Column::exact(56.0))
            .column(Column::exact(36.0))
            .column(Column::exact(40.0))
            .column(Column::exact(40.0))
            .header(22.0, |mut header| {
                for name in [
                    T::Date,
                    T::Facility,
                    T::Unit,
                    T::Status,
                    T::Diagnoses,
                    T::BloodPressure,
                    T::PulseShort,
                    T::TemperatureShort,
                    T::WeightShort,
                ] {
                    header.col(|ui| {
                        ui.strong(name.get(lang));
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let r = &rows[row.index()];
                    let cells = [
                        &r.date,
                        &r.facility,
                        &r.unit,
                        &r.status,
                        &r.diagnoses,
                        &r.blood_pressure,
                        &r.pulse,
                        &r.temperature,
                        &r.weight,
                    ];
                    for (index, text) in cells.into_iter().enumerate() {
                        row.col(|ui| {
                            let rich = egui::RichText::new(text.as_str());
                            // Another Puskesmas's visit stands out.
                            let rich = if index == 1 && r.elsewhere {
                                rich.color(ui.visuals().hyperlink_color)
                            } else {
                                rich
                            };
                            // A visit SATUSEHAT or P-Care refused stands out; their states
                            // on hover.
                            let refused = r.satusehat == Some(DeliveryState::Refused)
                                || r.pcare
                                    .as_ref()
                                    .is_some_and(|p| p.state == DeliveryState::Refused);
                            let rich = if index == 3 && refused {
                                rich.color(ui.visuals().warn_fg_color)
                            } else {
                                rich
                            };
                            let label = ui.add(egui::Label::new(rich).truncate());
                            if index == 3 && (r.satusehat.is_some() || r.pcare.is_some()) {
                                label.on_hover_text(outside_states(r, lang));
                            } else if index == 4 {
                                // The whole line, cut in the cell, and WHO's titles.
                                label.on_hover_text(format!("{text}\n\nWHO: {}", r.diagnoses_who));
                            }
                        });
                    }
                });
            });
    });
}

/// Where a visit stands with SATUSEHAT and P-Care, a line each: "P-Care: terkirim
/// (0114U000001)", or BPJS's words for why not.
fn outside_states(row: &crate::poli::HistoryRow, lang: crate::text::Lang) -> String {
    let mut lines = Vec::new();
    if let Some(sent) = row.satusehat {
        lines.push(format!(
            "{}: {}",
            T::Satusehat.get(lang),
            delivery_words(sent).get(lang)
        ));
    }
    if let Some(pcare) = &row.pcare {
        let number = pcare
            .no_kunjungan
            .as_deref()
            .or(pcare.no_urut.as_deref())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let why = pcare
            .reason
            .as_deref()
            .map(|why| format!(": {why}"))
            .unwrap_or_default();
        lines.push(format!(
            "{}: {}{number}{why}",
            T::PcareVisit.get(lang),
            delivery_words(pcare.state).get(lang)
        ));
    }
    lines.join("\n")
}

/// A delivery state in the screen's words.
pub fn delivery_words(state: DeliveryState) -> T {
    match state {
        DeliveryState::Waiting => T::SatusehatWaiting,
        DeliveryState::Sent => T::SatusehatSent,
        DeliveryState::Retrying => T::SatusehatRetrying,
        DeliveryState::Refused => T::SatusehatRefused,
    }
}

/// Weight, blood pressure and temperature over time.
pub fn charts(ui: &mut egui::Ui, state: &State) {
    let lang = state.lang();
    let Some(open) = &state.poli.open else {
        return;
    };
    let series = &open.charts;
    egui::ScrollArea::vertical().show(ui, |ui| {
        chart(
            ui,
            "chart_weight",
            T::ChartWeight.get(lang),
            &[(T::WeightShort.get(lang), &series.weight)],
        );
        chart(
            ui,
            "chart_pressure",
            T::ChartBloodPressure.get(lang),
            &[
                (T::Systolic.get(lang), &series.systolic),
                (T::Diastolic.get(lang), &series.diastolic),
            ],
        );
        chart(
            ui,
            "chart_temperature",
            T::ChartTemperature.get(lang),
            &[(T::TemperatureShort.get(lang), &series.temperature)],
        );
    });
}

fn chart(ui: &mut egui::Ui, id: &str, title: &str, lines: &[(&str, &Vec<ChartPoint>)]) {
    let count: usize = lines.iter().map(|(_, points)| points.len()).sum();
    ui.strong(format!("{title} ({count})"));
    if count == 0 {
        ui.weak("—");
        return;
    }
    Plot::new(id)
        .height(170.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_formatter(|mark, _| day_label(mark.value))
        .label_formatter(|hover| match hover {
            HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let (_, points) = lines.iter().find(|(name, _)| name == plot_name)?;
                let p = points.get(*index)?;
                Some(format!("{plot_name}: {}\n{} · {}", p.y, p.date, p.facility))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for (name, points) in lines {
                let xy: Vec<[f64; 2]> = points.iter().map(|p| [p.x, p.y]).collect();
                plot.line(Line::new(*name, PlotPoints::from(xy.clone())));
                plot.points(Points::new(*name, PlotPoints::from(xy)).radius(3.0));
            }
        });
}

/// Days since 1970 as "03-2025".
fn day_label(days: f64) -> String {
    let seconds = (days * 86_400.0) as i64;
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| format!("{:02}-{}", u8::from(t.month()), t.year()))
        .unwrap_or_default()
}
