//! The app's last warnings and errors, read from its own log (a file a day in the data
//! folder's `logs/`), for the admin's Pengaturan: what went wrong lately, without a
//! terminal.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the newest log's end is read: enough for a day's last warnings.
const TAIL_BYTES: u64 = 256 * 1024;

/// The last `most` warning and error lines of the newest log file in `folder`, oldest
/// first; none when there is no log.
pub fn recent_errors(folder: &Path, most: usize) -> Vec<String> {
    let newest = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("kartika") && n.ends_with(".log"))
        })
        .max();
    let Some(newest) = newest else {
        return Vec::new();
    };
    let mut text = Vec::new();
    let read = std::fs::File::open(&newest).and_then(|mut file| {
        let length = file.metadata()?.len();
        file.seek(SeekFrom::Start(length.saturating_sub(TAIL_BYTES)))?;
        file.read_to_end(&mut text)
    });
    if read.is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&text);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .map(str::to_owned)
        .collect();
    lines.drain(..lines.len().saturating_sub(most));
    lines
}
