//! The PostgreSQL backend, for a province or the nation (PostgreSQL is also what Citus or
//! a managed cluster shards). A push is a handful of set-based statements per batch, not
//! a few per record: over a network every statement is a round trip.

mod merges;

use std::collections::{HashMap, HashSet};

use kartika_protocol::{
    Change, ChangePage, Kind, MergeBoard, MergeProposal, ProposeMerge, PushOutcome,
};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, NoTls, Statement};

use crate::backend::{AccessEntry, Backend, Lookup, Node, OPERATOR};
use crate::rules::{self, Stored, StoredCard, StoredPatient};
use crate::validate::ValidRecord;
use crate::{now_millis, RegistryError, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres_0001.sql"),
    include_str!("migrations/postgres_0002.sql"),
    include_str!("migrations/postgres_0003.sql"),
];

/// An arbitrary constant that names this registry's migration lock.
const MIGRATION_LOCK: i64 = 0x4B41_5254;

/// The registry in a PostgreSQL database.
pub struct PostgresBackend {
    client: Closing,
    statements: Statements,
}

/// A push's statements, prepared once per connection: each is otherwise parsed and planned
/// again, one more round trip, every batch.
#[derive(Default)]
struct Statements(HashMap<&'static str, Statement>);

impl Statements {
    fn get(&mut self, tx: &mut postgres::Transaction<'_>, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = tx.prepare(sql)?;
        self.0.insert(sql, statement.clone());
        Ok(statement)
    }

    fn query(
        &mut self,
        tx: &mut postgres::Transaction<'_>,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        let statement = self.get(tx, sql)?;
        Ok(tx.query(&statement, params)?)
    }
}

/// A connection closed where closing may block. `postgres::Client` closes by blocking on a
/// runtime of its own, which cannot start on a thread of another runtime, and the last
/// handle to the registry's pool may be dropped on one of the server's threads as it
/// stops: there the connection is handed to a thread of its own to close.
struct Closing(Option<Client>);

impl std::ops::Deref for Closing {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.0
            .as_ref()
            .expect("a connection is present until dropped")
    }
}

impl std::ops::DerefMut for Closing {
    fn deref_mut(&mut self) -> &mut Client {
        self.0
            .as_mut()
            .expect("a connection is present until dropped")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Were no thread to be had, the closure is dropped unrun: the connection is then
            // left open for the operating system to close, rather than closed here.
            let client = std::mem::ManuallyDrop::new(client);
            let _ = std::thread::Builder::new()
                .name("postgres-close".into())
                .spawn(move || drop(std::mem::ManuallyDrop::into_inner(client)));
        }
    }
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
        // Where a push's batch is copied before its one INSERT; emptied at each commit.
        // A push's statements stay prepared, but each is planned for the arrays it is
        // given: a plan made once for any array looks up a batch's visits by reading the
        // whole change table.
        client.batch_execute(
            "SET plan_cache_mode = force_custom_plan;
             CREATE TEMPORARY TABLE push_staging (n BIGINT, change_id BYTEA, kind TEXT,
                 record_id TEXT, patient_number TEXT, payload TEXT) ON COMMIT DELETE ROWS",
        )?;
        Ok(Self {
            client: Closing(Some(client)),
            statements: Statements::default(),
        })
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
                "SELECT id, roles, revoked_at FROM node WHERE token_hash = $1",
                &[&&token_hash[..]],
            )?
            .map(|row| Node {
                id: row.get(0),
                roles: row.get(1),
                revoked_at: row.get(2),
            }))
    }

    fn push(
        &mut self,
        node: &Node,
        records: &[Result<ValidRecord, String>],
    ) -> Result<Vec<PushOutcome>> {
        let now = now_millis();
        let statements = &mut self.statements;
        let mut tx = self.client.transaction()?;
        let valid: Vec<&ValidRecord> = records.iter().filter_map(|r| r.as_ref().ok()).collect();

        // What is stored already, looked up for the whole batch at once.
        let mut facts = BatchFacts::load(&mut tx, statements, node, &valid)?;

        // Decide each record in order; what an earlier record of the batch did counts.
        let mut outcomes: Vec<Option<PushOutcome>> = Vec::with_capacity(records.len());
        let mut accepted: Vec<&ValidRecord> = Vec::new();
        let mut proven: Vec<&str> = Vec::new();
        let mut in_batch: HashSet<&[u8]> = HashSet::new();
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
            // A change id twice in one batch: the first copy decides. A resend of a
            // stored change passes the rules as it did the first time, and the INSERT's
            // RETURNING tells it apart.
            if !in_batch.insert(&record.change_id[..]) {
                outcomes.push(Some(PushOutcome::Duplicate));
                continue;
            }
            let stored = facts.of(node, record);
            if let Some(reason) = rules::refusal(node, record, &stored, now) {
                outcomes.push(Some(PushOutcome::Rejected { reason }));
                continue;
            }
            facts.accept(node, record);
            if record.kind == Kind::Presence {
                proven.push(record.patient_number.as_str());
                outcomes.push(Some(PushOutcome::Stored));
                continue;
            }
            outcomes.push(None);
            accepted.push(record);
        }

        // One INSERT for the batch; the change ids it returns were new, the rest resends.
        // The batch goes in by binary COPY into the session's staging table, then one
        // INSERT … SELECT: COPY is the fastest way in, and the INSERT keeps ON CONFLICT.
        let staging = tx.copy_in(
            "COPY push_staging (n, change_id, kind, record_id, patient_number, payload)
             FROM STDIN BINARY",
        )?;
        let mut rows = BinaryCopyInWriter::new(
            staging,
            &[
                Type::INT8,
                Type::BYTEA,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
            ],
        );
        for (n, r) in (0_i64..).zip(&accepted) {
            rows.write(&[
                &n,
                &&r.change_id[..],
                &r.kind.as_str(),
                &r.record_id,
                &r.patient_number,
                &r.payload,
            ])?;
        }
        rows.finish()?;
        let insert = statements.get(
            &mut tx,
            "INSERT INTO change (change_id, facility, kind, record_id, patient_number, payload, received_at)
             SELECT change_id, $1, kind, record_id, patient_number, payload, $2
             FROM push_staging ORDER BY n
             ON CONFLICT (change_id) DO NOTHING
             RETURNING change_id",
        )?;
        let stored: HashSet<Vec<u8>> = tx
            .query(&insert, &[&node.id, &now])?
            .iter()
            .map(|row| row.get(0))
            .collect();

        let new_patients: Vec<&&ValidRecord> = accepted
            .iter()
            .filter(|r| r.kind == Kind::Patient && stored.contains(&r.change_id[..]))
            .collect();
        register_patients(&mut tx, statements, &new_patients, &node.id, now)?;
        let new_cards: Vec<&&ValidRecord> = accepted
            .iter()
            .filter(|r| r.kind == Kind::Card && stored.contains(&r.change_id[..]))
            .collect();
        keep_cards(&mut tx, statements, &new_cards, &node.id)?;
        // Subscribed once each, and only those the node had not dealt with before.
        let mut seen: Vec<&str> = accepted
            .iter()
            .filter(|r| !r.patient_number.is_empty())
            .map(|r| r.patient_number.as_str())
            .chain(proven)
            .filter(|number| !facts.subscribed.contains(*number))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let subscribe = statements.get(
            &mut tx,
            "INSERT INTO patient_seen (node, patient_number)
             SELECT DISTINCT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING",
        )?;
        tx.execute(&subscribe, &[&node.id, &seen])?;
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
            "SELECT seq, facility, kind, record_id, payload, patient_number FROM change
             WHERE seq > $1 AND facility != $2
               AND (kind = 'revocation' OR patient_number IN
                    (SELECT patient_number FROM patient_seen WHERE node = $2))
             ORDER BY seq LIMIT $3",
            &[&after, &node.id, &(limit as i64 + 1)],
        )?;
        let mut changes = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for row in &rows {
            if let Some(change) = to_change(row) {
                changes.push(change);
                named.push(row.get(5));
            }
        }
        let more = changes.len() > limit;
        changes.truncate(limit);
        named.truncate(limit);
        let next_after = changes.last().map_or(after, |c| c.seq);
        let patients = crate::sqlite::distinct_patients(&named);
        if !patients.is_empty() {
            let mut tx = self.client.transaction()?;
            let said = format!("answered {} changes", changes.len());
            log_access(
                &mut tx,
                &node.id,
                "/v1/changes",
                &said,
                &patients,
                now_millis(),
            )?;
            tx.commit()?;
        }
        Ok(ChangePage {
            changes,
            next_after,
            more,
        })
    }

    fn patient_history(
        &mut self,
        node: &Node,
        patient_number: &str,
        lookup: Lookup<'_>,
    ) -> Result<Vec<Change>> {
        let now = now_millis();
        let mut tx = self.client.transaction()?;
        let outcome = match may_look(&mut tx, node, patient_number, lookup, now)? {
            Some(reason) => Err(reason),
            None => {
                let person = merges::one_person(&mut tx, patient_number)?;
                Ok(tx
                    .query(
                        "SELECT seq, facility, kind, record_id, payload FROM change
                         WHERE patient_number = ANY($1) ORDER BY seq",
                        &[&person],
                    )?
                    .iter()
                    .filter_map(to_change)
                    .collect::<Vec<Change>>())
            }
        };
        let said = match &outcome {
            Ok(changes) => format!("answered {} records", changes.len()),
            Err(reason) => format!("refused: {reason}"),
        };
        log_access(
            &mut tx,
            &node.id,
            lookup.endpoint(),
            &said,
            &[patient_number],
            now,
        )?;
        if let Ok(changes) = &outcome {
            if !changes.is_empty() {
                tx.execute(
                    "INSERT INTO patient_seen (node, patient_number) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&node.id, &patient_number],
                )?;
            }
        }
        tx.commit()?;
        outcome.map_err(RegistryError::Forbidden)
    }

    fn access_log(&mut self, patient_number: &str) -> Result<Vec<AccessEntry>> {
        Ok(self
            .client
            .query(
                "SELECT l.at, l.node, l.endpoint, l.outcome FROM access_patient a
                 JOIN access_log l ON l.id = a.access_id
                 WHERE a.patient_number = $1 ORDER BY l.id",
                &[&patient_number],
            )?
            .iter()
            .map(|row| AccessEntry {
                at: row.get(0),
                node: row.get(1),
                endpoint: row.get(2),
                outcome: row.get(3),
            })
            .collect())
    }

    fn operator_revocation(&mut self, card_number: &str, reason: &str, lifted: bool) -> Result<()> {
        let mut tx = self.client.transaction()?;
        let known = tx
            .query_opt("SELECT 1 FROM card WHERE card_number = $1", &[&card_number])?
            .is_some();
        if !known {
            return Err(RegistryError::NotFound(rules::unknown_card(card_number)));
        }
        let now = now_millis();
        let payload = crate::operator_revocation_payload(card_number, reason, lifted, now);
        insert_operator_change(&mut tx, card_number, &payload, now)?;
        tx.commit()?;
        Ok(())
    }

    fn revoke_node(&mut self, node_id: &str, reason: &str) -> Result<()> {
        let mut tx = self.client.transaction()?;
        let now = now_millis();
        let changed = tx.execute(
            "UPDATE node SET revoked_at = $2, revoked_reason = $3
             WHERE id = $1 AND revoked_at IS NULL",
            &[&node_id, &now, &reason],
        )?;
        if changed == 0 {
            return Err(RegistryError::NotFound(rules::no_such_node(node_id)));
        }
        let payload = crate::node_revocation_payload(node_id, reason, now);
        insert_operator_change(&mut tx, &format!("node:{node_id}"), &payload, now)?;
        tx.commit()?;
        Ok(())
    }

    fn forget_audit_heads(&mut self, node_id: &str) -> Result<usize> {
        let forgotten = self
            .client
            .execute("DELETE FROM audit_head WHERE node = $1", &[&node_id])?;
        Ok(usize::try_from(forgotten).unwrap_or(usize::MAX))
    }

    fn rotate_token(&mut self, node_id: &str, token_hash: &[u8; 32]) -> Result<()> {
        let changed = self.client.execute(
            "UPDATE node SET token_hash = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&node_id, &&token_hash[..]],
        )?;
        if changed == 0 {
            return Err(RegistryError::NotFound(rules::no_such_node(node_id)));
        }
        Ok(())
    }

    fn last_audit_head(&mut self, node: &Node) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(self
            .client
            .query_opt(
                "SELECT seq, hash FROM audit_head WHERE node = $1 ORDER BY seq DESC LIMIT 1",
                &[&node.id],
            )?
            .map(|row| (row.get(0), row.get(1))))
    }

    fn keep_audit_head(&mut self, node: &Node, seq: i64, hash: &[u8; 32]) -> Result<i64> {
        let now = now_millis();
        self.client.execute(
            "INSERT INTO audit_head (node, seq, hash, received_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (node, seq) DO NOTHING",
            &[&node.id, &seq, &&hash[..], &now],
        )?;
        let row = self.client.query_one(
            "SELECT hash, received_at FROM audit_head WHERE node = $1 AND seq = $2",
            &[&node.id, &seq],
        )?;
        let kept: Vec<u8> = row.get(0);
        if kept != hash[..] {
            return Err(RegistryError::Forbidden(rules::audit_rewritten(
                seq, &node.id,
            )));
        }
        Ok(row.get(1))
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

    fn merge_board(&mut self, node: &Node) -> Result<MergeBoard> {
        merges::board(&mut self.client, node)
    }

    fn propose_merge(&mut self, node: &Node, ask: &ProposeMerge) -> Result<MergeProposal> {
        merges::propose(&mut self.client, node, ask)
    }

    fn decide_merge(
        &mut self,
        node: &Node,
        proposal: &str,
        decision: crate::merges::Decision,
    ) -> Result<MergeProposal> {
        merges::decide(&mut self.client, node, proposal, decision)
    }

    fn links_of(&mut self, patient_number: &str) -> Result<Vec<(String, String)>> {
        merges::links_of(&mut self.client, patient_number)
    }

    fn ready(&mut self) -> Result<()> {
        self.client.query_one("SELECT 1", &[])?;
        Ok(())
    }
}

/// Keeps the patient index and flags NIKs that another facility registered for another
/// patient.
fn register_patients(
    tx: &mut postgres::Transaction<'_>,
    statements: &mut Statements,
    patients: &[&&ValidRecord],
    facility: &str,
    now: i64,
) -> Result<()> {
    if patients.is_empty() {
        return Ok(());
    }
    let numbers: Vec<&str> = patients.iter().map(|r| r.patient_number.as_str()).collect();
    let niks: Vec<Option<&str>> = patients.iter().map(|r| r.nik.as_deref()).collect();
    let ids: Vec<Option<&str>> = patients.iter().map(|r| r.patient_id.as_deref()).collect();
    let people: Vec<Option<&str>> = patients.iter().map(|r| r.person_key.as_deref()).collect();
    let index = statements.get(
        tx,
        "INSERT INTO patient (patient_number, nik, facility, patient_id, person_key)
         SELECT DISTINCT ON (p) p, n, $3, i, k
         FROM unnest($1::text[], $2::text[], $4::text[], $5::text[])
              WITH ORDINALITY AS t (p, n, i, k, o)
         ORDER BY p, o DESC
         ON CONFLICT (patient_number) DO UPDATE
         SET nik = excluded.nik, patient_id = coalesce(patient.patient_id, excluded.patient_id),
             person_key = excluded.person_key",
    )?;
    tx.execute(&index, &[&numbers, &niks, &facility, &ids, &people])?;
    let flag = statements.get(
        tx,
        "INSERT INTO nik_conflict (nik, patient_number, other_patient_number, flagged_at)
         SELECT mine.nik, mine.patient_number, other.patient_number, $3
         FROM unnest($1::text[], $2::text[]) AS mine (patient_number, nik)
         JOIN patient other ON other.nik = mine.nik
              AND other.patient_number != mine.patient_number AND other.facility != $4
         ON CONFLICT DO NOTHING",
    )?;
    tx.execute(&flag, &[&numbers, &niks, &now, &facility])?;
    Ok(())
}

/// What is stored that bears on a batch, read in a few queries, and kept up to date as the
/// batch's own records are accepted.
struct BatchFacts {
    patients: HashMap<String, StoredPatient>,
    id_holders: HashMap<String, String>,
    visit_owners: HashMap<String, String>,
    cards: HashMap<String, StoredCard>,
    present: HashSet<String>,
    /// The patients the node had dealt with before this batch.
    subscribed: HashSet<String>,
}

impl BatchFacts {
    fn load(
        tx: &mut postgres::Transaction<'_>,
        statements: &mut Statements,
        node: &Node,
        valid: &[&ValidRecord],
    ) -> Result<Self> {
        // A batch names each patient several times (their visits): each is looked up once.
        let mut numbers: Vec<&str> = valid.iter().map(|r| r.patient_number.as_str()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        // With whether the node has dealt with each before: only a known patient can have
        // been dealt with.
        let known = statements.query(
            tx,
            "SELECT p.patient_number, p.facility, p.patient_id,
                    EXISTS (SELECT 1 FROM patient_seen s
                            WHERE s.node = $2 AND s.patient_number = p.patient_number)
             FROM patient p WHERE p.patient_number = ANY($1)",
            &[&numbers, &node.id],
        )?;
        let present: HashSet<String> = known
            .iter()
            .filter(|row| row.get::<_, bool>(3))
            .map(|row| row.get(0))
            .collect();
        let patients = known
            .iter()
            .map(|row| {
                (
                    row.get(0),
                    StoredPatient {
                        facility: row.get(1),
                        patient_id: row.get(2),
                    },
                )
            })
            .collect();
        let patient_ids: Vec<&str> = valid
            .iter()
            .filter_map(|r| r.patient_id.as_deref())
            .collect();
        let id_holders = statements
            .query(
                tx,
                "SELECT patient_id, patient_number FROM patient WHERE patient_id = ANY($1)",
                &[&patient_ids],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let visit_ids: Vec<&str> = valid
            .iter()
            .filter(|r| r.kind == Kind::Visit)
            .map(|r| r.record_id.as_str())
            .collect();
        let visit_owners = statements
            .query(
                tx,
                "SELECT DISTINCT ON (record_id) record_id, facility FROM change
                 WHERE kind = 'visit' AND record_id = ANY($1) ORDER BY record_id, seq",
                &[&visit_ids],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let card_numbers: Vec<&str> = valid
            .iter()
            .filter(|r| matches!(r.kind, Kind::Card | Kind::Revocation | Kind::Presence))
            .map(|r| r.record_id.as_str())
            .collect();
        let cards = statements
            .query(
                tx,
                "SELECT card_number, facility, patient_number, public_key FROM card
                 WHERE card_number = ANY($1)",
                &[&card_numbers],
            )?
            .iter()
            .map(|row| {
                (
                    row.get(0),
                    StoredCard {
                        facility: row.get(1),
                        patient_number: row.get(2),
                        public_key: row.get(3),
                    },
                )
            })
            .collect();
        Ok(Self {
            patients,
            id_holders,
            visit_owners,
            cards,
            subscribed: present.clone(),
            present,
        })
    }

    fn of(&self, node: &Node, record: &ValidRecord) -> Stored {
        let _ = node;
        Stored {
            patient: self.patients.get(&record.patient_number).cloned(),
            id_holder: record
                .patient_id
                .as_ref()
                .and_then(|id| self.id_holders.get(id))
                .filter(|holder| **holder != record.patient_number)
                .cloned(),
            visit_owner: (record.kind == Kind::Visit)
                .then(|| self.visit_owners.get(&record.record_id).cloned())
                .flatten(),
            card: matches!(record.kind, Kind::Card | Kind::Revocation | Kind::Presence)
                .then(|| self.cards.get(&record.record_id).cloned())
                .flatten(),
            present: self.present.contains(&record.patient_number),
        }
    }

    fn accept(&mut self, node: &Node, record: &ValidRecord) {
        match record.kind {
            Kind::Patient => {
                let entry = self
                    .patients
                    .entry(record.patient_number.clone())
                    .or_insert_with(|| StoredPatient {
                        facility: node.id.clone(),
                        patient_id: None,
                    });
                if entry.patient_id.is_none() {
                    entry.patient_id.clone_from(&record.patient_id);
                }
                if let Some(id) = &record.patient_id {
                    self.id_holders
                        .entry(id.clone())
                        .or_insert_with(|| record.patient_number.clone());
                }
            }
            Kind::Visit => {
                self.visit_owners
                    .entry(record.record_id.clone())
                    .or_insert_with(|| node.id.clone());
            }
            Kind::Card => {
                let entry = self
                    .cards
                    .entry(record.record_id.clone())
                    .or_insert_with(|| StoredCard {
                        facility: node.id.clone(),
                        patient_number: record.patient_number.clone(),
                        public_key: None,
                    });
                if record.public_key.is_some() {
                    entry.public_key.clone_from(&record.public_key);
                }
            }
            Kind::Revocation | Kind::Presence | Kind::Link => {}
        }
        if !record.patient_number.is_empty() {
            self.present.insert(record.patient_number.clone());
        }
    }
}

/// Records the cards of a batch with their issuer and key.
fn keep_cards(
    tx: &mut postgres::Transaction<'_>,
    statements: &mut Statements,
    cards: &[&&ValidRecord],
    facility: &str,
) -> Result<()> {
    if cards.is_empty() {
        return Ok(());
    }
    let numbers: Vec<&str> = cards.iter().map(|r| r.record_id.as_str()).collect();
    let patients: Vec<&str> = cards.iter().map(|r| r.patient_number.as_str()).collect();
    let keys: Vec<Option<&[u8]>> = cards.iter().map(|r| r.public_key.as_deref()).collect();
    let keep = statements.get(
        tx,
        "INSERT INTO card (card_number, facility, patient_number, public_key)
         SELECT DISTINCT ON (c) c, $2, p, k
         FROM unnest($1::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS t (c, p, k, o)
         ORDER BY c, o DESC
         ON CONFLICT (card_number) DO UPDATE
         SET public_key = coalesce(excluded.public_key, card.public_key)",
    )?;
    tx.execute(&keep, &[&numbers, &facility, &patients, &keys])?;
    Ok(())
}

/// Why `node` may not see the patient's records, if it may not; a proof that holds is
/// used up.
fn may_look(
    tx: &mut postgres::Transaction<'_>,
    node: &Node,
    patient_number: &str,
    lookup: Lookup<'_>,
    now: i64,
) -> Result<Option<String>> {
    let owner: Option<String> = tx
        .query_opt(
            "SELECT facility FROM patient WHERE patient_number = $1",
            &[&patient_number],
        )?
        .map(|row| row.get(0));
    if owner.is_none() || owner.as_deref() == Some(node.id.as_str()) {
        return Ok(None);
    }
    Ok(match lookup {
        Lookup::OwnOnly => Some(rules::no_presence(patient_number)),
        Lookup::OwnOrSubscribed => {
            let subscribed = tx
                .query_opt(
                    "SELECT 1 FROM patient_seen WHERE node = $1 AND patient_number = $2",
                    &[&node.id, &patient_number],
                )?
                .is_some();
            (!subscribed).then(|| rules::no_presence(patient_number))
        }
        Lookup::Presence(proof) if proof.patient_number != patient_number => Some(format!(
            "the proof of presence is for patient {}, not {patient_number}",
            proof.patient_number
        )),
        Lookup::Presence(proof) => {
            let card = tx
                .query_opt(
                    "SELECT facility, patient_number, public_key FROM card WHERE card_number = $1",
                    &[&proof.card_number],
                )?
                .map(|row| StoredCard {
                    facility: row.get(0),
                    patient_number: row.get(1),
                    public_key: row.get(2),
                });
            match rules::presence_refusal(
                &node.id,
                proof,
                card.as_ref(),
                now,
                Some(rules::LOOKUP_WINDOW_MS),
            ) {
                Some(reason) => Some(reason),
                None => {
                    let fresh = tx.execute(
                        "INSERT INTO presence_used (signature_hash, node, received_at)
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        &[&&rules::proof_key(&node.id, proof)[..], &node.id, &now],
                    )?;
                    (fresh == 0).then(rules::replayed_proof)
                }
            }
        }
    })
}

fn log_access(
    tx: &mut postgres::Transaction<'_>,
    node: &str,
    endpoint: &str,
    outcome: &str,
    patients: &[&str],
    now: i64,
) -> Result<()> {
    tx.execute(
        "WITH entry AS (
             INSERT INTO access_log (at, node, endpoint, outcome) VALUES ($1, $2, $3, $4)
             RETURNING id)
         INSERT INTO access_patient (access_id, patient_number)
         SELECT DISTINCT entry.id, p FROM entry, unnest($5::text[]) AS p",
        &[&now, &node, &endpoint, &outcome, &patients],
    )?;
    Ok(())
}

fn insert_operator_change(
    tx: &mut postgres::Transaction<'_>,
    record_id: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO change (change_id, facility, kind, record_id, patient_number, payload,
            received_at)
         VALUES ($1, $2, 'revocation', $3, '', $4, $5)",
        &[
            &&uuid::Uuid::now_v7().as_bytes()[..],
            &OPERATOR,
            &record_id,
            &payload,
            &now,
        ],
    )?;
    Ok(())
}
