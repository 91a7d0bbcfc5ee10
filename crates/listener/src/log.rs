//! One line per request for the servers' logs: method, the route as declared (never the
//! path as sent, which may hold a patient's number), status, milliseconds, and the node
//! or workstation that called, once the server has recognised it.

use std::cell::RefCell;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static CALLER: RefCell<Option<String>>;
}

/// Names the caller of the request being answered (a node's id, a workstation's): the
/// request's log line carries it. Outside a logged request it does nothing.
pub fn name_caller(caller: &str) {
    let _ = CALLER.try_with(|slot| *slot.borrow_mut() = Some(caller.to_owned()));
}

/// The middleware that writes each request's line (`axum::middleware::from_fn`).
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let (response, caller) = CALLER
        .scope(RefCell::new(None), async move {
            let response = next.run(request).await;
            let caller = CALLER.with(|slot| slot.borrow().clone());
            (response, caller)
        })
        .await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "kartika::request",
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        ms,
        caller = caller.as_deref().unwrap_or("-"),
    );
    response
}
