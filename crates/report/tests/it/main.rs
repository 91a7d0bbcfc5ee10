//! The reports written in each format and read back: the XLSX opened by a spreadsheet
//! reader and compared cell by cell, the CSV parsed back.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use kartika_report::{Format, Report};
use kartika_store::{
    AgeGroup, BySex, DiagnosisCount, Lb1Report, Lb1Row, ReportPeriod, TopDiagnoses, UnitCount,
    VisitRecap,
};

fn row(code: &str, title: &str, cells: &[(AgeGroup, i64, i64)], old: i64) -> Lb1Row {
    let mut new_by_age = [BySex::default(); 12];
    for (group, male, female) in cells {
        let i = AgeGroup::ALL.iter().position(|g| g == group).unwrap();
        new_by_age[i] = BySex {
            male: *male,
            female: *female,
        };
    }
    let new_cases: i64 = cells.iter().map(|(_, m, f)| m + f).sum();
    Lb1Row {
        code: code.into(),
        title: title.into(),
        new_by_age,
        new_cases,
        old_cases: old,
        total: new_cases + old,
    }
}

fn lb1() -> Report {
    let a09 = row(
        "A09",
        "Other gastroenteritis and colitis of infectious and unspecified origin",
        &[
            (AgeGroup::Days29ToUnder1Year, 1, 0),
            (AgeGroup::Years1To4, 0, 1),
        ],
        0,
    );
    let j06 = row(
        "J06.9",
        "Acute upper respiratory infection, unspecified",
        &[(AgeGroup::Days0To7, 0, 1), (AgeGroup::Years70Plus, 2, 0)],
        2,
    );
    let mut totals = row(
        "TOTAL",
        "Jumlah",
        &[
            (AgeGroup::Days0To7, 0, 1),
            (AgeGroup::Days29ToUnder1Year, 1, 0),
            (AgeGroup::Years1To4, 0, 1),
            (AgeGroup::Years70Plus, 2, 0),
        ],
        2,
    );
    totals.total = 7;
    Report::Lb1(Box::new(Lb1Report {
        facility_code: "P3674060".into(),
        facility_name: "Puskesmas Pamulang".into(),
        period: ReportPeriod::month("2026-11").unwrap(),
        unit_code: None,
        rows: vec![a09, j06],
        totals,
    }))
}

fn text(data: Option<&Data>) -> String {
    match data {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => format!("{f}"),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Empty) | None => String::new(),
        Some(other) => format!("{other:?}"),
    }
}

#[test]
fn lb1_as_xlsx_is_laid_out_as_the_paper_form() {
    let bytes = lb1().render(Format::Xlsx).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Laporan").unwrap();
    let at = |r: u32, c: u32| text(sheet.get_value((r, c)));
    assert_eq!(at(0, 0), "LB1 — Laporan Bulanan Data Kesakitan");
    assert_eq!(
        at(1, 0),
        "Puskesmas Pamulang (P3674060), Periode 1 November 2026 s.d. 30 November 2026"
    );
    // Headings: code and title down two rows, each age group over its L and P.
    assert_eq!(at(3, 0), "Kode ICD-10");
    assert_eq!(at(3, 1), "Diagnosa");
    assert_eq!(at(3, 2), "0-7 hr");
    assert_eq!((at(4, 2), at(4, 3)), ("L".into(), "P".into()));
    assert_eq!(at(3, 24), "70+ th");
    assert_eq!(at(3, 26), "Kasus baru");
    assert_eq!(at(3, 28), "Jumlah");
    // The rows, every cell.
    let mut expected_a09 = vec![
        "A09".to_owned(),
        "Other gastroenteritis and colitis of infectious and unspecified origin".to_owned(),
    ];
    let mut cells = vec!["0"; 24];
    cells[4] = "1"; // 29 hr-<1 th, L
    cells[7] = "1"; // 1-4 th, P
    expected_a09.extend(cells.iter().map(|s| s.to_string()));
    expected_a09.extend(["2", "0", "2"].map(String::from));
    let a09: Vec<String> = (0..29).map(|c| at(5, c)).collect();
    assert_eq!(a09, expected_a09);
    assert_eq!(at(6, 0), "J06.9");
    assert_eq!(at(6, 24), "2", "70+ th L");
    assert_eq!(
        (at(6, 26), at(6, 27), at(6, 28)),
        ("3".into(), "2".into(), "5".into())
    );
    assert_eq!(at(7, 0), "TOTAL");
    assert_eq!(at(7, 28), "7");
    let merged: Vec<((u32, u32), (u32, u32))> = book
        .merge_cells_by_sheet_name("Laporan")
        .unwrap()
        .iter()
        .map(|d| (d.start, d.end))
        .collect();
    assert!(
        merged.contains(&((3, 0), (4, 0))),
        "code heading spans both rows"
    );
    assert!(merged.contains(&((3, 2), (3, 3))), "0-7 hr over L and P");
    assert!(merged.contains(&((3, 24), (3, 25))), "70+ th over L and P");
    assert_eq!(merged.len(), 2 + 12 + 3, "{merged:?}");
}

/// Splits one CSV line, honouring quotes.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn lb1_as_csv_parses_back_to_the_same_cells() {
    let bytes = lb1().render(Format::Csv).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<Vec<String>> = text.lines().map(fields).collect();
    assert_eq!(lines.len(), 4, "header, two rows, totals");
    assert_eq!(
        lines[0][..4],
        ["Kode ICD-10", "Diagnosa", "0-7 hr L", "0-7 hr P"]
    );
    assert_eq!(lines[0].len(), 29);
    assert_eq!(
        lines[2][1],
        "Acute upper respiratory infection, unspecified"
    );
    assert_eq!(lines[2][24], "2", "70+ th L");
    assert_eq!(lines[3][0], "TOTAL");
    assert!(lines.iter().all(|l| l.len() == 29));
}

#[test]
fn the_other_reports_write_in_every_format() {
    let period = ReportPeriod::month("2026-11").unwrap();
    let top = Report::Top10(TopDiagnoses {
        period: period.clone(),
        unit_code: None,
        new_cases_only: true,
        rows: vec![DiagnosisCount {
            rank: 1,
            code: "I10".into(),
            title: "Essential (primary) hypertension".into(),
            title_id: Some("Hipertensi esensial (primer)".into()),
            count: 31,
        }],
    });
    let table = String::from_utf8(top.render(Format::Table).unwrap()).unwrap();
    assert!(table.contains("10 Besar Penyakit"));
    assert!(table.contains("kasus baru saja"));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(" 1  I10") && l.ends_with("31")),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&top.render(Format::Json).unwrap()).unwrap();
    assert_eq!(json["report"], "top10");
    assert_eq!(json["rows"][0]["count"], 31);
    let csv = String::from_utf8(top.render(Format::Csv).unwrap()).unwrap();
    assert!(
        csv.contains("I10,Hipertensi esensial (primer),Essential (primary) hypertension,31"),
        "the Indonesian title, WHO's beside it: {csv}"
    );
    assert!(
        table.contains("Periode 1 November 2026 s.d. 30 November 2026"),
        "{table}"
    );

    let recap = Report::Visits(VisitRecap {
        period: Some(period),
        total: 13,
        by_unit: vec![UnitCount {
            unit_code: "general".into(),
            unit_name: "Poli Umum".into(),
            visits: 13,
        }],
        referrals: 1,
        ..VisitRecap::default()
    });
    let csv = String::from_utf8(recap.render(Format::Csv).unwrap()).unwrap();
    assert!(csv.starts_with("Kelompok,Uraian,Jumlah\r\n"));
    assert!(csv.contains("Poli,Poli Umum,13\r\n"));
    assert!(csv.contains("Rujukan,Dirujuk,1\r\n"));
    let bytes = recap.render(Format::Xlsx).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Laporan").unwrap();
    assert_eq!(text(sheet.get_value((3, 2))), "Jumlah", "one header row");
    assert_eq!(text(sheet.get_value((4, 1))), "Jumlah kunjungan");
    assert_eq!(text(sheet.get_value((4, 2))), "13");
}
