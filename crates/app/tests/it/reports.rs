//! Laporan: the admin reads and exports the month's reports; a nurse reads her unit's.

use egui_kittest::kittest::Queryable;
use kartika_store::Role;

use crate::support::App;

/// The demo's history ends yesterday: on the first of a month, its reports are last month's.
fn to_a_month_with_history(app: &mut App) {
    let today = kartika_store::Clock::now(&app.clock).date();
    if today.day() == 1 {
        app.click("« Sebelumnya");
    }
}

#[test]
fn the_admin_reads_lb1_and_the_top_ten_and_saves_them() {
    let mut app = App::demo();
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Laporan");
    to_a_month_with_history(&mut app);
    app.until_text("LB1 — Laporan Bulanan Data Kesakitan");
    assert!(app.shows("Kode ICD-10"));
    assert!(app.shows("0-7 hr L"), "age groups by sex");
    assert!(app.shows("Kasus baru"));

    app.click("XLSX");
    app.until_text("Laporan disimpan:");
    let saved = std::fs::read_dir(app.folder().join("reports"))
        .expect("the reports folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(
        saved
            .iter()
            .any(|n| n.starts_with("lb1-") && n.ends_with(".xlsx")),
        "{saved:?}"
    );

    app.click("10 besar penyakit");
    app.until_text("10 Besar Penyakit");
    assert!(app.shows("Grafik 10 besar penyakit"));
    assert!(
        app.shows("Periode 1 "),
        "the period in words, not ISO dates"
    );
    let Some(kartika_report::Report::Top10(top)) = app
        .harness
        .state()
        .state()
        .reports
        .shown
        .as_ref()
        .map(|(report, _)| report.clone())
    else {
        panic!("the top ten is shown");
    };
    let first = top.rows.first().expect("the month has diagnoses");
    let indonesian = first.title_id.as_deref().expect("an Indonesian title");
    assert!(app.shows(indonesian), "{indonesian} on screen");
    assert!(
        app.harness.query_by_label(&first.title).is_none(),
        "WHO's title {:?} waits for the pointer, not a column",
        first.title
    );
    app.click("Kasus baru saja");
    app.until_text("kasus baru saja");

    app.click("Rekap kunjungan");
    app.until_text("Rekap Kunjungan (LB4)");
    assert!(app.shows("Jumlah kunjungan"));
    assert!(app.shows("Dalam wilayah"));
}

#[test]
fn a_nurse_reads_her_units_reports_and_nothing_else() {
    let mut app = App::demo();
    app.log_in(Role::Nurse);
    app.until_text("Antrian poli hari ini");
    app.click("Laporan");
    app.until_text("LB1 — Laporan Bulanan Data Kesakitan");
    assert!(app.shows("poli general"), "limited to her unit");
    assert!(app.harness.query_by_label("Semua poli").is_none());
    assert!(app.harness.query_by_label("XLSX").is_none(), "read only");
    assert!(app.harness.query_by_label("Pendaftaran").is_none());
    app.click("KIA");
    app.until_text("poli maternal_child");
}

#[test]
fn the_desk_has_no_reports() {
    let mut app = App::demo();
    app.at_the_desk();
    assert!(app.harness.query_by_label("Laporan").is_none());
}
