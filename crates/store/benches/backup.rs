//! A backup of the million-visit clinic file while it is open (SQLite's online backup, as
//! the admin room and `kartika db backup` make it), beside a plain copy of the same file
//! in the same run; and the restore's checks (integrity, audit chain) of that backup.
//! `cargo bench -p kartika-store --bench backup` (`-- --small` for a quick look).

mod support;

use std::time::Instant;

use kartika_store::Store;

fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds
}

fn main() {
    let support::Bench {
        db,
        store,
        visits,
        dir,
        ..
    } = support::million_visits();
    // Everything in the main file, as a plain copy would need to be consistent.
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))
        .expect("checkpoint");
    let size = std::fs::metadata(&db).expect("size").len();

    let copy_path = dir.path().join("plain-copy.sqlite");
    let started = Instant::now();
    std::fs::copy(&db, &copy_path).expect("copy");
    std::fs::File::open(&copy_path)
        .and_then(|f| f.sync_all())
        .expect("sync");
    let copy = started.elapsed().as_secs_f64();

    let folder = dir.path().join("backups");
    let report = store.backup_into(&folder, 3).expect("backup");
    let backup = report.took.as_secs_f64();

    drop(store);
    let restored = dir.path().join("restored.sqlite");
    let started = Instant::now();
    let checked = Store::restore(&report.path, &restored).expect("restore");
    let restore = started.elapsed().as_secs_f64();

    println!("file: {visits} visits, {:.1} MB", size as f64 / 1e6);
    println!(
        "online backup (one step, synced, renamed): {backup:.2} s, {:.0} MB/s",
        mb_per_s(report.bytes, backup)
    );
    println!(
        "plain file copy (synced), same run: {copy:.2} s, {:.0} MB/s",
        mb_per_s(size, copy)
    );
    println!(
        "restore with its checks (integrity, audit chain of {} entries): {restore:.2} s",
        checked.audit_entries
    );
}
