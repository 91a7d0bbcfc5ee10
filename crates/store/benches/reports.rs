//! The monthly reports over one month of a million-visit database (200,000 patients, two
//! years of history), each beside the bare SQL aggregate of the same rows in the same run.
//! Run: `cargo bench -p kartika-store --bench reports` (`-- --small` for 20,000 visits).
//! Prints a Markdown table for docs/benchmarks.md.

use std::time::{Duration, Instant};

use kartika_store::{ReportFilter, ReportPeriod};
use rusqlite::Connection;

#[path = "support/mod.rs"]
mod support;

const ROUNDS: usize = 9;

fn median(mut run: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    samples[ROUNDS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The same rows aggregated by SQLite alone.
fn bare(conn: &Connection, sql: &str, period: &ReportPeriod) -> Duration {
    let mut stmt = conn.prepare(sql).expect("prepare");
    median(|| {
        let rows: i64 = stmt
            .query_map([&period.from, &period.to], |_| Ok(()))
            .expect("query")
            .count() as i64;
        assert!(rows > 0, "the month has rows");
    })
}

fn main() {
    let support::Bench {
        db,
        mut store,
        admin,
        patients,
        visits,
        dir: _dir,
        ..
    } = support::million_visits();
    // The last whole month of the history.
    let today = store.today();
    let last_month = today.replace_day(1).expect("first of month") - time::Duration::days(1);
    let month = format!("{:04}-{:02}", last_month.year(), last_month.month() as u8);
    let period = ReportPeriod::month(&month).expect("month");
    let all = ReportFilter::default();

    let conn = Connection::open(&db).expect("raw");
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM visit v JOIN diagnosis d ON d.visit_id = v.id
             WHERE v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'",
            [&period.from, &period.to],
            |r| r.get(0),
        )
        .expect("count");
    let month_visits: i64 = conn
        .query_row(
            "SELECT count(*) FROM visit WHERE queue_date BETWEEN ?1 AND ?2 AND status != 'cancelled'",
            [&period.from, &period.to],
            |r| r.get(0),
        )
        .expect("count");

    let lb1 = median(|| {
        store.lb1_report(&admin, &period, &all).expect("lb1");
    });
    let bare_lb1 = bare(
        &conn,
        "SELECT d.code, p.sex, d.new_case, count(*) FROM visit v
         JOIN diagnosis d ON d.visit_id = v.id JOIN patient p ON p.id = v.patient_id
         WHERE v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'
         GROUP BY d.code, p.sex, d.new_case",
        &period,
    );
    let recap = median(|| {
        store.visit_recap(&admin, &period, &all).expect("recap");
    });
    let bare_recap = bare(
        &conn,
        "SELECT v.unit_code, v.payer, v.care, v.first_this_year, v.inside_catchment,
                v.status, v.queue_date, p.birth_date
         FROM visit v JOIN patient p ON p.id = v.patient_id
         WHERE v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'",
        &period,
    );
    let top = median(|| {
        store.top_diagnoses(&admin, &period, &all, 10).expect("top");
    });
    let bare_top = bare(
        &conn,
        "SELECT d.code, count(*) AS n FROM visit v JOIN diagnosis d ON d.visit_id = v.id
         WHERE v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'
         GROUP BY d.code ORDER BY n DESC LIMIT 10",
        &period,
    );
    let day = period.to.clone();
    let daily = median(|| {
        store.daily_report(&admin, &day).expect("daily");
    });
    let day_period = ReportPeriod::day(&day).expect("day");
    let bare_daily = bare(
        &conn,
        "SELECT d.code, count(*) AS n FROM visit v JOIN diagnosis d ON d.visit_id = v.id
         WHERE v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'
         GROUP BY d.code ORDER BY n DESC",
        &day_period,
    );

    println!("month {month}: {month_visits} visits, {rows} diagnoses ({visits} visits, {patients} patients in all)");
    println!();
    println!("| report | store operation (median of {ROUNDS}) | bare SQL aggregate, same rows | target |");
    println!("|---|---|---|---|");
    println!(
        "| LB1, one month | {} | {} | under 200 ms |",
        ms(lb1),
        ms(bare_lb1)
    );
    println!("| visit recap, one month (bare: the same rows read, with the patient's birth date) | {} | {} | — |", ms(recap), ms(bare_recap));
    println!(
        "| ten most common, one month | {} | {} | — |",
        ms(top),
        ms(bare_top)
    );
    println!(
        "| the day's report | {} | {} | — |",
        ms(daily),
        ms(bare_daily)
    );
}
