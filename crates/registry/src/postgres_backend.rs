//! The PostgreSQL backend, for a province or the nation (PostgreSQL is also what Citus or
//! a managed cluster shards). A push is a handful of set-based statements per batch, not
//! a few per record: over a network every statement is a round trip.

use std::collections::{HashMap, HashSet};

use kartika_protocol::{Change, ChangePage, Kind, PushOutcome};
use postgres::{Client, NoTls};

use crate::backend::{Backend, Node};
use crate::validate::ValidRecord;
use crate::{now_millis, RegistryError, Result};

const MIGRATIONS: &[&str] = &[include_str!("migrations/postgres_0001.sql")];

/// An arbitrary constant that names this registry's migration lock.
const MIGRATION_LOCK: i64 = 0x4B41_5254;

/// The registry in a PostgreSQL database.
pub struct PostgresBackend {
    client: Client,
}

impl PostgresBackend {
    /// Connects to `url` (for example `postgresql://kartika@127.0.0.1:5433/registry`) and
    /// brings the schema up to date.
    pub fn connect(url: &str) -> Result<Self> {
        let mut client = Client::connect(url, NoTls)?;
        let mut tx = client.transaction()?;
        // Two registries starting at once must not both migrate.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS registry_schema (version BIGINT NOT NULL)")?;
        let version: i64 = tx
            .query_opt("SELECT version FROM registry_schema", &[])?
            .map_or(0, |row| row.get(0));
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(RegistryError::NewerSchema {
                found: version,
                supported,
            });
        }
        for sql in MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.batch_execute(sql)?;
        }
        tx.execute("DELETE FROM registry_schema", &[])?;
        tx.execute(
            "INSERT INTO registry_schema (version) VALUES ($1)",
            &[&supported],
        )?;
        tx.commit()?;
        Ok(Self { client })
    }
}

fn to_change(row: &postgres::Row) -> Option<Change> {
    crate::sqlite::to_change((row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
}

impl Backend for PostgresBackend {
    fn enroll(&mut self, node: &Node, token_hash: &[u8; 32], certificate: &[u8]) -> Result<()> {
        let inserted = self.client.execute(
            "INSERT INTO node (id, roles, token_hash, certificate, enrolled_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[
                &node.id,
                &node.roles,
                &&token_hash[..],
                &certificate,
                &now_millis(),
            ],
        )?;
        if inserted == 0 {
            return Err(RegistryError::AlreadyEnrolled(node.id.clone()));
        }
        Ok(())
    }

    fn node_for_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<Node>> {
        Ok(self
            .client
            .query_opt(
                "SELECT id, roles FROM node WHERE token_hash = $1",
                &[&&token_hash[..]],
            )?
            .map(|row| Node {
                id: row.get(0),
                roles: row.get(1),
            }))
    }

    fn push(
        &mut self,
        node: &Node,
        records: &[Result<ValidRecord, String>],
    ) -> Result<Vec<PushOutcome>> {
        let now = now_millis();
        let mut tx = self.client.transaction()?;
        let valid: Vec<&ValidRecord> = records.iter().filter_map(|r| r.as_ref().ok()).collect();

        // What is stored already, looked up for the whole batch at once.
        let numbers: Vec<&str> = valid.iter().map(|r| r.patient_number.as_str()).collect();
        let mut known: HashSet<String> = tx
            .query(
                "SELECT patient_number FROM patient WHERE patient_number = ANY($1)",
                &[&numbers],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let visit_ids: Vec<&str> = valid
            .iter()
            .filter(|r| r.kind == Kind::Visit)
            .map(|r| r.record_id.as_str())
            .collect();
        let owners: HashMap<String, String> = tx
            .query(
                "SELECT DISTINCT ON (record_id) record_id, facility FROM change
                 WHERE kind = 'visit' AND record_id = ANY($1)",
                &[&visit_ids],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();

        // Decide each record in order; a patient earlier in the batch counts as known.
        let mut outcomes: Vec<Option<PushOutcome>> = Vec::with_capacity(records.len());
        let mut accepted: Vec<&ValidRecord> = Vec::new();
        for record in records {
            let record = match record {
                Ok(r) => r,
                Err(reason) => {
                    outcomes.push(Some(PushOutcome::Rejected {
                        reason: reason.clone(),
                    }));
                    continue;
                }
            };
            let refusal = match record.kind {
                Kind::Visit => match owners.get(&record.record_id) {
                    Some(owner) if *owner != record.facility => Some(format!(
                        "visit {} belongs to facility {owner}; only it may change the visit",
                        record.record_id
                    )),
                    _ => unknown(&known, record),
                },
                Kind::Card => unknown(&known, record),
                Kind::Patient => {
                    known.insert(record.patient_number.clone());
                    None
                }
                Kind::Revocation => None,
            };
            match refusal {
                Some(reason) => outcomes.push(Some(PushOutcome::Rejected { reason })),
                None => {
                    outcomes.push(None);
                    accepted.push(record);
                }
            }
        }

        // One INSERT for the batch; the change ids it returns were new, the rest resends.
        let ids: Vec<&[u8]> = accepted.iter().map(|r| &r.change_id[..]).collect();
        let kinds: Vec<&str> = accepted.iter().map(|r| r.kind.as_str()).collect();
        let record_ids: Vec<&str> = accepted.iter().map(|r| r.record_id.as_str()).collect();
        let patients: Vec<&str> = accepted.iter().map(|r| r.patient_number.as_str()).collect();
        let payloads: Vec<&str> = accepted.iter().map(|r| r.payload.as_str()).collect();
        let stored: HashSet<Vec<u8>> = tx
            .query(
                "INSERT INTO change (change_id, facility, kind, record_id, patient_number, payload, received_at)
                 SELECT id, $2, kind, record_id, patient_number, payload, $3
                 FROM unnest($1::bytea[], $4::text[], $5::text[], $6::text[], $7::text[])
                      WITH ORDINALITY AS t (id, kind, record_id, patient_number, payload, n)
                 ORDER BY n
                 ON CONFLICT (change_id) DO NOTHING
                 RETURNING change_id",
                &[&ids, &node.id, &now, &kinds, &record_ids, &patients, &payloads],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect();

        let new_patients: Vec<&&ValidRecord> = accepted
            .iter()
            .filter(|r| r.kind == Kind::Patient && stored.contains(&r.change_id[..]))
            .collect();
        register_patients(&mut tx, &new_patients, &node.id, now)?;
        let seen: Vec<&str> = accepted
            .iter()
            .filter(|r| !r.patient_number.is_empty())
            .map(|r| r.patient_number.as_str())
            .collect();
        tx.execute(
            "INSERT INTO patient_seen (node, patient_number)
             SELECT DISTINCT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING",
            &[&node.id, &seen],
        )?;
        tx.commit()?;

        // A change id sent twice in one batch is stored for its first copy only.
        let mut claimed: HashSet<&[u8]> = HashSet::new();
        let mut accepted_iter = accepted.iter();
        Ok(outcomes
            .into_iter()
            .map(|decided| {
                decided.unwrap_or_else(|| match accepted_iter.next() {
                    Some(r)
                        if stored.contains(&r.change_id[..])
                            && claimed.insert(&r.change_id[..]) =>
                    {
                        PushOutcome::Stored
                    }
                    _ => PushOutcome::Duplicate,
                })
            })
            .collect())
    }

    fn changes(&mut self, node: &Node, after: i64, limit: usize) -> Result<ChangePage> {
        let limit = limit.clamp(1, kartika_protocol::MAX_PAGE);
        let rows = self.client.query(
            "SELECT seq, facility, kind, record_id, payload FROM change
             WHERE seq > $1 AND facility != $2
               AND (kind = 'revocation' OR patient_number IN
                    (SELECT patient_number FROM patient_seen WHERE node = $2))
             ORDER BY seq LIMIT $3",
            &[&after, &node.id, &(limit as i64 + 1)],
        )?;
        let mut changes: Vec<Change> = rows.iter().filter_map(to_change).collect();
        let more = changes.len() > limit;
        changes.truncate(limit);
        let next_after = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next_after,
            more,
        })
    }

    fn patient_history(&mut self, node: &Node, patient_number: &str) -> Result<Vec<Change>> {
        let mut tx = self.client.transaction()?;
        let changes: Vec<Change> = tx
            .query(
                "SELECT seq, facility, kind, record_id, payload FROM change
                 WHERE patient_number = $1 ORDER BY seq",
                &[&patient_number],
            )?
            .iter()
            .filter_map(to_change)
            .collect();
        if !changes.is_empty() {
            tx.execute(
                "INSERT INTO patient_seen (node, patient_number) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&node.id, &patient_number],
            )?;
        }
        tx.commit()?;
        Ok(changes)
    }

    fn patients_with_nik(&mut self, nik: &str) -> Result<Vec<String>> {
        Ok(self
            .client
            .query(
                "SELECT patient_number FROM patient WHERE nik = $1 ORDER BY 1",
                &[&nik],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    fn patient_of_record(&mut self, record_id: &str) -> Result<Option<String>> {
        Ok(self
            .client
            .query_opt(
                "SELECT patient_number FROM change WHERE record_id = $1 AND patient_number <> ''
                 LIMIT 1",
                &[&record_id],
            )?
            .map(|row| row.get(0)))
    }

    fn nik_conflicts(&mut self) -> Result<Vec<(String, String, String)>> {
        Ok(self
            .client
            .query(
                "SELECT nik, patient_number, other_patient_number FROM nik_conflict ORDER BY id",
                &[],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    fn ready(&mut self) -> Result<()> {
        self.client.query_one("SELECT 1", &[])?;
        Ok(())
    }
}

fn unknown(known: &HashSet<String>, record: &ValidRecord) -> Option<String> {
    (!known.contains(&record.patient_number)).then(|| {
        format!(
            "patient {} is unknown to the registry; push the patient first",
            record.patient_number
        )
    })
}

/// Keeps the patient index and flags NIKs that another facility registered for another
/// patient.
fn register_patients(
    tx: &mut postgres::Transaction<'_>,
    patients: &[&&ValidRecord],
    facility: &str,
    now: i64,
) -> Result<()> {
    if patients.is_empty() {
        return Ok(());
    }
    let numbers: Vec<&str> = patients.iter().map(|r| r.patient_number.as_str()).collect();
    let niks: Vec<Option<&str>> = patients.iter().map(|r| r.nik.as_deref()).collect();
    tx.execute(
        "INSERT INTO patient (patient_number, nik, facility)
         SELECT DISTINCT ON (p) p, n, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t (p, n, o)
         ORDER BY p, o DESC
         ON CONFLICT (patient_number) DO UPDATE SET nik = excluded.nik",
        &[&numbers, &niks, &facility],
    )?;
    tx.execute(
        "INSERT INTO nik_conflict (nik, patient_number, other_patient_number, flagged_at)
         SELECT mine.nik, mine.patient_number, other.patient_number, $3
         FROM unnest($1::text[], $2::text[]) AS mine (patient_number, nik)
         JOIN patient other ON other.nik = mine.nik
              AND other.patient_number != mine.patient_number AND other.facility != $4
         ON CONFLICT DO NOTHING",
        &[&numbers, &niks, &now, &facility],
    )?;
    Ok(())
}
