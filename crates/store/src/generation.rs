//! The store's generation: raised when a standby copy is promoted to be the server, so
//! that the store left behind (and any copy of it) is recognisably older.

use crate::access::{Action, Session};
use crate::{Result, Store};

impl Store {
    /// The store's generation (1 for a store never promoted).
    pub fn generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT generation FROM store_generation", [], |r| r.get(0))?)
    }

    /// A copy of the store for the standby PC, made for an admin: SQLite's online backup,
    /// audited.
    pub fn backup_for_standby(
        &mut self,
        session: &Session,
        dest: &std::path::Path,
    ) -> Result<crate::BackupReport> {
        self.write(session, Action::ManageFacility, |ctx| {
            ctx.audit("store.standby_copy", None, "")
        })?;
        self.backup_to(dest)
    }

    /// Makes this store (a standby's copy) the server's: the next generation, audited.
    pub fn promote(&mut self, session: &Session) -> Result<i64> {
        self.write(session, Action::ManageFacility, |ctx| {
            ctx.tx.execute(
                "UPDATE store_generation SET generation = generation + 1",
                [],
            )?;
            let generation: i64 =
                ctx.tx
                    .query_row("SELECT generation FROM store_generation", [], |r| r.get(0))?;
            ctx.audit("store.promoted", None, &format!("generation {generation}"))?;
            Ok(generation)
        })
    }
}
