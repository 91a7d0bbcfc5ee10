//! Sessions of staff logged in at a workstation of the LAN. The server hands the
//! workstation a random token and the store keeps only its SHA-256, so the sessions outlive
//! a restart of the server PC and a copy of the file opens none. A session is resumed only
//! while its account is enabled; the role is checked again by every operation.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::access::Session;
use crate::clock::to_millis;
use crate::{Result, Store, StoreError};

/// A session's last use is written at most this often: reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    /// Checks a username and password as [`Store::login`] does, and keeps a session for a
    /// workstation: the token it answers is the only copy.
    pub fn open_session(&mut self, username: &str, password: &str) -> Result<(Session, String)> {
        self.open_session_from(username, password, crate::CONSOLE)
    }

    /// [`Store::open_session`] for a password typed at `source` (see [`Store::login_from`]).
    pub fn open_session_from(
        &mut self,
        username: &str,
        password: &str,
        source: &str,
    ) -> Result<(Session, String)> {
        let session = self.login_from(username, password, source)?;
        let token = new_token();
        let now = to_millis(self.clock.now());
        self.conn.execute(
            "INSERT INTO staff_session (token_hash, username, role, started_at, used_at, source)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![
                token_hash(&token).as_slice(),
                session.username,
                session.role,
                now,
                source
            ],
        )?;
        Ok((session, token))
    }

    /// The session of `token` typed at this PC; see [`Store::resume_session_from`].
    pub fn resume_session(&mut self, token: &str, idle_ms: i64) -> Result<Session> {
        self.resume_session_from(token, idle_ms, crate::CONSOLE)
    }

    /// The session of `token`, if it exists, was opened at `source` (see
    /// [`Store::login_from`]), was used within `idle_ms`, and its account is still
    /// enabled; otherwise [`StoreError::LoginFailed`]. A token from another PC than its
    /// own is refused: stolen, it is of no use elsewhere. Sessions idle too long are
    /// forgotten.
    pub fn resume_session_from(
        &mut self,
        token: &str,
        idle_ms: i64,
        source: &str,
    ) -> Result<Session> {
        let now = to_millis(self.clock.now());
        let hash = token_hash(token);
        let row: Option<(String, String, crate::Role, crate::Role, i64, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT s.username, f.display_name, f.role, s.role, s.used_at, f.disabled_at
                 FROM staff_session s JOIN staff f ON f.username = s.username
                 WHERE s.token_hash = ?1 AND (s.source IS NULL OR s.source = ?2)",
            )?
            .query_row(params![hash.as_slice(), source], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        let Some((username, display_name, role, logged_in_as, used_at, disabled_at)) = row else {
            return Err(StoreError::LoginFailed);
        };
        if disabled_at.is_some() || role != logged_in_as || now - used_at > idle_ms {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM staff_session WHERE token_hash = ?1 OR used_at < ?2",
                params![hash.as_slice(), now - idle_ms],
            )?;
            tx.commit()?;
            return Err(StoreError::LoginFailed);
        }
        if now - used_at > TOUCH_EVERY_MS {
            self.conn.execute(
                "UPDATE staff_session SET used_at = ?1 WHERE token_hash = ?2",
                params![now, hash.as_slice()],
            )?;
        }
        Ok(Session {
            username,
            display_name,
            role,
            on_server: false,
        })
    }

    /// Ends the session of `token` (a logout); an unknown token ends nothing.
    pub fn end_session(&mut self, token: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM staff_session WHERE token_hash = ?1",
            [token_hash(token).as_slice()],
        )?;
        Ok(())
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
