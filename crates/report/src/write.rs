//! A sheet spelled as a text table, CSV or an XLSX workbook.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use crate::sheet::{Sheet, Value};
use crate::ReportError;

/// The rows as written: body, then totals.
fn all_rows(sheet: &Sheet) -> impl Iterator<Item = &Vec<Value>> {
    sheet.rows.iter().chain(sheet.totals.iter())
}

/// Aligned columns: text to the left, numbers to the right.
pub fn table(sheet: &Sheet) -> String {
    let header: Vec<String> = sheet.columns.iter().map(|c| c.flat_name()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in all_rows(sheet) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.display().chars().count());
        }
    }
    let line = |cells: Vec<(String, bool)>| -> String {
        let parts: Vec<String> = cells
            .into_iter()
            .zip(&widths)
            .map(|((text, right), width)| {
                if right {
                    format!("{text:>width$}")
                } else {
                    format!("{text:<width$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = format!("{}\n{}\n\n", sheet.title, sheet.subtitle);
    out.push_str(&line(header.into_iter().map(|h| (h, false)).collect()));
    let rule: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    out.push_str(&"-".repeat(rule));
    out.push('\n');
    for row in all_rows(sheet) {
        out.push_str(&line(
            row.iter()
                .map(|c| (c.display(), matches!(c, Value::Number(_))))
                .collect(),
        ));
    }
    out
}

/// One header row of flat column names, then the rows and the totals; fields quoted when
/// they hold a comma, a quote or a line break.
pub fn csv(sheet: &Sheet) -> String {
    let field = |text: String| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let line = |cells: Vec<String>| cells.into_iter().map(field).collect::<Vec<_>>().join(",");
    let mut out = line(sheet.columns.iter().map(|c| c.flat_name()).collect());
    out.push_str("\r\n");
    for row in all_rows(sheet) {
        out.push_str(&line(row.iter().map(Value::display).collect()));
        out.push_str("\r\n");
    }
    out
}

/// The first row of data in the workbook: title, subtitle, a blank row, then one or two
/// header rows.
fn first_data_row(sheet: &Sheet) -> u32 {
    if has_groups(sheet) {
        5
    } else {
        4
    }
}

fn has_groups(sheet: &Sheet) -> bool {
    sheet.columns.iter().any(|c| c.group.is_some())
}

/// The workbook: the form's title, its headings (a group heading merged over its
/// columns, a plain column's heading merged down both header rows), the rows, and the
/// totals in bold.
pub fn xlsx(sheet: &Sheet) -> Result<Vec<u8>, ReportError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("Laporan")?;
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let total = Format::new().set_bold().set_border(FormatBorder::Thin);
    ws.write_string_with_format(0, 0, &sheet.title, &bold)?;
    ws.write_string(1, 0, &sheet.subtitle)?;
    let top = 3u32;
    let grouped = has_groups(sheet);
    let mut col = 0usize;
    while col < sheet.columns.len() {
        let column = &sheet.columns[col];
        let c = u16::try_from(col).unwrap_or(u16::MAX);
        match &column.group {
            Some(group) => {
                let span = sheet.columns[col..]
                    .iter()
                    .take_while(|other| other.group.as_ref() == Some(group))
                    .count();
                let last = u16::try_from(col + span - 1).unwrap_or(u16::MAX);
                if span > 1 {
                    ws.merge_range(top, c, top, last, group, &head)?;
                } else {
                    ws.write_string_with_format(top, c, group, &head)?;
                }
                for (i, member) in sheet.columns[col..col + span].iter().enumerate() {
                    let at = u16::try_from(col + i).unwrap_or(u16::MAX);
                    ws.write_string_with_format(top + 1, at, &member.name, &head)?;
                }
                col += span;
            }
            None => {
                if grouped {
                    ws.merge_range(top, c, top + 1, c, &column.name, &head)?;
                } else {
                    ws.write_string_with_format(top, c, &column.name, &head)?;
                }
                col += 1;
            }
        }
    }
    let mut row = first_data_row(sheet);
    for values in &sheet.rows {
        write_row(ws, row, values, &cell)?;
        row += 1;
    }
    if let Some(totals) = &sheet.totals {
        write_row(ws, row, totals, &total)?;
    }
    for (i, column) in sheet.columns.iter().enumerate() {
        let width = match column.name.as_str() {
            "Diagnosa" | "Uraian" => 48.0,
            _ if column.group.is_some() => 6.0,
            _ => 12.0,
        };
        ws.set_column_width(u16::try_from(i).unwrap_or(u16::MAX), width)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_row(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    values: &[Value],
    format: &Format,
) -> Result<(), ReportError> {
    for (i, value) in values.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        match value {
            Value::Text(text) => ws.write_string_with_format(row, col, text, format)?,
            // Counts of a month are far below 2^53: exact as a spreadsheet's number.
            Value::Number(n) => ws.write_number_with_format(row, col, *n as f64, format)?,
        };
    }
    Ok(())
}
