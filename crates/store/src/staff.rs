//! Staff accounts: added by an admin (the first one at set-up), passwords hashed with
//! argon2, disabled rather than deleted so the audit log keeps meaning something.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Role, Session};
use crate::clock::{from_millis, to_millis};
use crate::text::required_line;
use crate::{audit, Result, Store, StoreError};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A staff account to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStaff {
    /// Login name: 2 to 32 lower-case letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// The name shown on screens.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
    /// At least [`MIN_PASSWORD_CHARS`] characters.
    pub password: String,
}

/// A staff account as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl Store {
    /// Creates the first admin account of a new database. Refused once any account exists:
    /// from then on an admin adds staff with [`Store::add_staff`].
    pub fn add_first_admin(&mut self, new: &NewStaff) -> Result<StaffMember> {
        if new.role != Role::Admin {
            return Err(StoreError::invalid(
                "role",
                "the first account must be an admin",
            ));
        }
        let (username, display_name, hash) = validate(new)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let count: i64 = tx.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))?;
        if count > 0 {
            return Err(StoreError::Conflict(
                "staff accounts exist already; an admin must log in to add more".into(),
            ));
        }
        let now = to_millis(self.clock.now());
        insert(&tx, &username, &display_name, Role::Admin, &hash, now)?;
        audit::append(
            &tx,
            now,
            "kartika staff add",
            "staff.add",
            None,
            &format!("{username} admin"),
        )?;
        tx.commit()?;
        self.staff_member(&username)
    }

    /// Adds a staff account (admins only).
    pub fn add_staff(&mut self, session: &Session, new: &NewStaff) -> Result<StaffMember> {
        let (username, display_name, hash) = validate(new)?;
        self.write(session, Action::ManageStaff, |ctx| {
            insert(
                ctx.tx,
                &username,
                &display_name,
                new.role,
                &hash,
                ctx.now_ms,
            )?;
            ctx.audit("staff.add", None, &format!("{username} {}", new.role))
        })?;
        self.staff_member(&username)
    }

    /// Disables an account; it can no longer log in, and its open sessions stop working.
    pub fn disable_staff(&mut self, session: &Session, username: &str) -> Result<()> {
        if username == session.username {
            return Err(StoreError::Conflict(
                "you cannot disable your own account".into(),
            ));
        }
        self.write(session, Action::ManageStaff, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE staff SET disabled_at = ?2 WHERE username = ?1 AND disabled_at IS NULL",
                params![username, ctx.now_ms],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("enabled staff account", username));
            }
            keep_an_admin(ctx.tx)?;
            ctx.audit("staff.disable", None, username)
        })
    }

    /// Enables a disabled account again, with its wrong-password count cleared.
    pub fn enable_staff(&mut self, session: &Session, username: &str) -> Result<()> {
        self.write(session, Action::ManageStaff, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE staff SET disabled_at = NULL, failed_logins = 0, locked_until = NULL
                 WHERE username = ?1 AND disabled_at IS NOT NULL",
                [username],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("disabled staff account", username));
            }
            ctx.tx
                .execute("DELETE FROM login_failure WHERE username = ?1", [username])?;
            ctx.audit("staff.enable", None, username)
        })
    }

    /// Sets a new password for an account (admins only), and lifts its wait after wrong
    /// passwords: the person was given the new one in person.
    pub fn reset_password(
        &mut self,
        session: &Session,
        username: &str,
        password: &str,
    ) -> Result<()> {
        let hash = hash_password(password)?;
        self.write(session, Action::ManageStaff, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE staff SET password_hash = ?2, failed_logins = 0, locked_until = NULL
                 WHERE username = ?1",
                params![username, hash],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("staff account", username));
            }
            // A reset password (perhaps a known one) ends the account's open sessions.
            ctx.tx
                .execute("DELETE FROM staff_session WHERE username = ?1", [username])?;
            ctx.tx
                .execute("DELETE FROM login_failure WHERE username = ?1", [username])?;
            ctx.audit("staff.password", None, username)
        })
    }

    /// Gives an account another role. The last enabled admin keeps theirs, so the
    /// Puskesmas is never left without someone who can manage accounts.
    pub fn set_role(&mut self, session: &Session, username: &str, role: Role) -> Result<()> {
        self.write(session, Action::ManageStaff, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE staff SET role = ?2 WHERE username = ?1",
                params![username, role],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("staff account", username));
            }
            keep_an_admin(ctx.tx)?;
            ctx.audit("staff.role", None, &format!("{username} {role}"))
        })
    }

    /// Every account, enabled or not (admins only).
    pub fn list_staff(&mut self, session: &Session) -> Result<Vec<StaffMember>> {
        self.write(session, Action::ManageStaff, |ctx| {
            let mut stmt = ctx.tx.prepare(
                "SELECT username, display_name, role, disabled_at, created_at FROM staff ORDER BY username",
            )?;
            let rows = stmt.query_map([], staff_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Checks a username and password typed at this PC (the store's own console or app)
    /// and returns a session; see [`Store::login_from`].
    pub fn login(&mut self, username: &str, password: &str) -> Result<Session> {
        self.login_from(username, password, CONSOLE)
    }

    /// Checks a username and password typed at `source` (a workstation, a PC on the LAN:
    /// the server names it) and returns a session. Every attempt is audited. After
    /// [`LOCKOUT_AFTER`] wrong passwords in a row for one name from one source, that name
    /// waits at that source before it may try again, the wait doubling up to fifteen
    /// minutes: a hostile PC locks out only itself. A name that is no account is counted
    /// and answered the same way, and costs the same password check, so neither the
    /// answer nor its time tells which names exist.
    pub fn login_from(&mut self, username: &str, password: &str, source: &str) -> Result<Session> {
        let now = to_millis(self.clock.now());
        let username: String = username.chars().take(64).collect();
        let source: String = source.chars().take(80).collect();
        let row: Option<LoginRow> = self
            .conn
            .query_row(
                "SELECT display_name, role, password_hash, disabled_at FROM staff WHERE username = ?1",
                [&username],
                |r| {
                    Ok(LoginRow {
                        display_name: r.get(0)?,
                        role: r.get(1)?,
                        hash: r.get(2)?,
                        disabled: r.get::<_, Option<i64>>(3)?.is_some(),
                    })
                },
            )
            .optional()?;
        let (failures, locked_until): (i64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT failures, locked_until FROM login_failure WHERE username = ?1 AND source = ?2",
                [&username, &source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, None));
        let attempt = match (row, locked_until) {
            (_, Some(until)) if until > now => Attempt::Waiting { until },
            (None, _) => {
                password_matches(password, unknown_user_hash()?)?;
                Attempt::Refused {
                    failures: failures + 1,
                }
            }
            (Some(account), _) => {
                if password_matches(password, &account.hash)? && !account.disabled {
                    Attempt::Accepted(Session {
                        username: username.clone(),
                        display_name: account.display_name,
                        role: account.role,
                        on_server: false,
                    })
                } else {
                    Attempt::Refused {
                        failures: failures + 1,
                    }
                }
            }
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let audit =
            |action: &str, detail: &str| audit::append(&tx, now, &username, action, None, detail);
        let outcome = match attempt {
            Attempt::Accepted(session) => {
                tx.execute(
                    "DELETE FROM login_failure WHERE username = ?1 AND source = ?2",
                    [&username, &source],
                )?;
                audit("staff.login", &source)?;
                Ok(session)
            }
            Attempt::Waiting { until } => {
                audit("staff.login_while_locked", &source)?;
                Err(StoreError::LoginLocked {
                    minutes: minutes_until(now, until),
                })
            }
            Attempt::Refused { failures } => {
                let locked_until = lockout(failures).map(|wait| now + wait);
                tx.execute(
                    "INSERT INTO login_failure (username, source, failures, locked_until)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (username, source) DO UPDATE
                     SET failures = excluded.failures, locked_until = excluded.locked_until",
                    params![username, source, failures, locked_until],
                )?;
                audit(
                    "staff.login_failed",
                    &format!("{failures} in a row from {source}"),
                )?;
                match locked_until {
                    Some(until) => {
                        audit(
                            "staff.locked",
                            &format!("{source} until {}", from_millis(until)),
                        )?;
                        Err(StoreError::LoginLocked {
                            minutes: minutes_until(now, until),
                        })
                    }
                    None => Err(StoreError::LoginFailed),
                }
            }
        };
        tx.commit()?;
        outcome
    }

    fn staff_member(&self, username: &str) -> Result<StaffMember> {
        Ok(self.conn.query_row(
            "SELECT username, display_name, role, disabled_at, created_at FROM staff WHERE username = ?1",
            [username],
            staff_row,
        )?)
    }
}

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffMember> {
    let disabled: Option<i64> = r.get(3)?;
    Ok(StaffMember {
        username: r.get(0)?,
        display_name: r.get(1)?,
        role: r.get(2)?,
        disabled: disabled.is_some(),
        created_at: from_millis(r.get(4)?),
    })
}

fn validate(new: &NewStaff) -> Result<(String, String, String)> {
    let username = new.username.trim();
    let shaped = (2..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !shaped {
        return Err(StoreError::invalid(
            "username",
            "must be 2 to 32 lower-case letters, digits, '.', '_' or '-'",
        ));
    }
    let display_name = required_line(&new.display_name, "display name", 80)?;
    Ok((
        username.to_owned(),
        display_name,
        hash_password(&new.password)?,
    ))
}

fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| StoreError::Password(e.to_string()))?
        .to_string())
}

/// Inside a change to accounts: refuses it when no enabled admin would be left.
fn keep_an_admin(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    let admins: i64 = tx.query_row(
        "SELECT count(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    if admins == 0 {
        return Err(StoreError::Conflict(
            "this would leave the Puskesmas without an enabled admin; make another admin first"
                .into(),
        ));
    }
    Ok(())
}

fn insert(
    tx: &rusqlite::Transaction<'_>,
    username: &str,
    display_name: &str,
    role: Role,
    hash: &str,
    now: i64,
) -> Result<()> {
    let inserted = tx.execute(
        "INSERT INTO staff (username, display_name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (username) DO NOTHING",
        params![username, display_name, role, hash, now],
    )?;
    if inserted == 0 {
        return Err(StoreError::AlreadyRecorded {
            what: "username",
            key: username.to_owned(),
        });
    }
    Ok(())
}

/// Wrong passwords in a row before an account must wait.
pub const LOCKOUT_AFTER: i64 = 5;
/// The first wait, in milliseconds; it doubles with each further wrong password.
const FIRST_WAIT_MS: i64 = 30_000;
/// The longest wait.
const LONGEST_WAIT_MS: i64 = 15 * 60_000;

/// The source of a login typed at the store's own PC (its command line or its app).
pub const CONSOLE: &str = "console";

/// An account as a login reads it.
struct LoginRow {
    display_name: String,
    role: Role,
    hash: String,
    disabled: bool,
}

/// What one login attempt came to, before it is recorded.
enum Attempt {
    Accepted(Session),
    Waiting { until: i64 },
    Refused { failures: i64 },
}

/// How long an account waits after `failures` wrong passwords in a row, if at all.
fn lockout(failures: i64) -> Option<i64> {
    let beyond = failures - LOCKOUT_AFTER;
    (beyond >= 0).then(|| {
        FIRST_WAIT_MS
            .saturating_mul(1i64 << beyond.min(20))
            .min(LONGEST_WAIT_MS)
    })
}

fn minutes_until(now: i64, until: i64) -> i64 {
    ((until - now).max(0) + 59_999) / 60_000
}

/// A hash no password matches, checked for unknown usernames so that they take as long as
/// known ones.
fn unknown_user_hash() -> Result<&'static str> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash);
    }
    let hash = Argon2::default()
        .hash_password(b"no account has this password")
        .map_err(|e| StoreError::Password(e.to_string()))?
        .to_string();
    Ok(HASH.get_or_init(|| hash))
}

fn password_matches(password: &str, stored: &str) -> Result<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|_| StoreError::Damaged("a staff password hash".into()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}
