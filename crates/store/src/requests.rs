//! Requests answered once. A workstation that loses an answer (a cut cable, a server that
//! died after its COMMIT) sends the same request again with the same id; the store keeps
//! each write's answer in the transaction that made the write, and answers a retry from
//! there. Answers are kept a week: a retry comes within seconds, or at worst after a day.

use std::any::{Any, TypeId};

use rusqlite::{params, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Ctx, Result, Store, StoreError};

/// How long an answer is kept for a retry.
const KEPT_FOR_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Writes an answer (of the keeper's type) in the transaction it is given.
type KeepAnswer = Box<dyn Fn(&Ctx<'_>, &dyn Any) -> Result<()> + Send>;

/// Writes a request's answer inside the transaction of the operation that made it.
pub(crate) struct AnswerKeeper {
    /// The answer's type: a transaction that returns something else is not the request's.
    answer_type: TypeId,
    keep: KeepAnswer,
}

impl AnswerKeeper {
    /// Keeps `value` if it is the request's answer; returns whether it was.
    pub(crate) fn keep_if_answer(&self, ctx: &Ctx<'_>, value: &dyn Any) -> Result<bool> {
        if value.type_id() != self.answer_type {
            return Ok(false);
        }
        (self.keep)(ctx, value)?;
        Ok(true)
    }
}

impl Store {
    /// Runs `operation` (one write of the store) once for `request_id`: the first time it
    /// runs and its answer is kept with its change; a retry with the same id gets the kept
    /// answer and changes nothing. `operation` names what the id is for (the caller may
    /// add who sent it and what it asked): an id sent before for anything else is
    /// refused, and the earlier answer never leaves.
    pub fn answer_once<T>(
        &mut self,
        request_id: &[u8; 16],
        operation: &str,
        run: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        if let Some(answer) = self.kept_answer(request_id, operation)? {
            return Ok(answer);
        }
        let (id, name) = (request_id.to_vec(), operation.to_owned());
        self.answer_keeper = Some(AnswerKeeper {
            answer_type: TypeId::of::<T>(),
            keep: Box::new(move |ctx, value| {
                let Some(answer) = value.downcast_ref::<T>() else {
                    return Ok(());
                };
                let answer = serde_json::to_string(answer)
                    .map_err(|e| StoreError::Damaged(format!("an answer cannot be kept: {e}")))?;
                ctx.tx
                    .prepare_cached("DELETE FROM request_answer WHERE answered_at < ?1")?
                    .execute([ctx.now_ms - KEPT_FOR_MS])?;
                ctx.tx
                    .prepare_cached(
                        "INSERT INTO request_answer (request_id, operation, answer, answered_at)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![id, name, answer, ctx.now_ms])?;
                Ok(())
            }),
        });
        let outcome = run(self);
        // An operation whose transaction returns another type than its answer would be
        // done again on a retry: a mistake of the caller, caught by the tests.
        debug_assert!(
            outcome.is_err() || self.answer_keeper.is_none(),
            "{operation}: no transaction returned the answer's type, so nothing was kept"
        );
        // An operation that failed before its transaction committed kept nothing.
        self.answer_keeper = None;
        outcome
    }

    fn kept_answer<T: DeserializeOwned>(
        &self,
        request_id: &[u8; 16],
        operation: &str,
    ) -> Result<Option<T>> {
        let kept: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT operation, answer FROM request_answer WHERE request_id = ?1")?
            .query_row([&request_id[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match kept {
            None => Ok(None),
            Some((earlier, _)) if earlier != operation => Err(StoreError::Conflict(format!(
                "request {} was already used for another request; a new request needs a new id",
                hex::encode(request_id)
            ))),
            Some((_, answer)) => serde_json::from_str(&answer)
                .map(Some)
                .map_err(|e| StoreError::Damaged(format!("a kept answer cannot be read: {e}"))),
        }
    }
}
