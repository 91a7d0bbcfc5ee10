//! What the waiting room's screen shows: today's calls into the polis, by queue number and
//! unit only. No name, no patient number: what anyone in the waiting room hears anyway.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::clock::{from_millis, local_date};
use crate::{Result, Store};

/// A patient called in, as the waiting room sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The visit's id: a call is announced once.
    pub id: String,
    /// The ticket, for example `U-012`.
    pub ticket: String,
    /// The unit's name, for example "Poli Umum".
    pub unit_name: String,
    /// When the patient was called.
    #[serde(with = "time::serde::rfc3339")]
    pub called_at: time::OffsetDateTime,
}

impl Store {
    /// Today's newest `limit` calls, newest first.
    pub fn recent_calls(&mut self, limit: usize) -> Result<Vec<Call>> {
        let today = kartika_card::model::format_iso_date(local_date(
            self.clock.now(),
            self.facility.offset(),
        ));
        let mut statement = self.conn.prepare_cached(
            "SELECT v.uuid, u.queue_prefix, v.queue_number, u.name, v.started_at
             FROM visit v JOIN service_unit u ON u.code = v.unit_code
             WHERE v.queue_date = ?1 AND v.started_at IS NOT NULL
             ORDER BY v.started_at DESC, v.id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(params![today, limit as i64], |r| {
            let id: uuid::Uuid = r.get(0)?;
            let prefix: String = r.get(1)?;
            Ok(Call {
                id: id.to_string(),
                ticket: crate::visits::ticket(&prefix, r.get(2)?),
                unit_name: r.get(3)?,
                called_at: from_millis(r.get(4)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
