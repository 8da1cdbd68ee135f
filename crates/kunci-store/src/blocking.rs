//! Where SQLite's blocking calls run, and what happens when a caller stops waiting for one.
//!
//! diesel-async runs each SQLite statement on tokio's blocking pool. Its default runner, when
//! the waiting future is dropped early (a client disconnects and actix drops the handler),
//! waits for the statement with `tokio::task::block_in_place`, which **panics on a
//! current-thread runtime**, the kind actix-web runs its workers on. It must wait somehow:
//! the connection may only be reused once the statement has let go of it.
//!
//! [`BlockingRuntime`] keeps the same guarantee without `block_in_place`: the blocking task
//! raises a flag when it has finished (and dropped its handle on the connection), and a
//! dropped future waits for that flag on a plain condition variable. The wait is bounded by
//! one SQLite statement, itself bounded by `busy_timeout`.

use diesel_async::sync_connection_wrapper::SpawnBlocking;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use tokio::task::JoinHandle;

type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// Runs blocking work on the tokio runtime that was current when the connection was opened.
pub(crate) struct BlockingRuntime {
    handle: Option<tokio::runtime::Handle>,
}

impl SpawnBlocking for BlockingRuntime {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = Result<R, BoxError>> + Send + 'a>>
    where
        R: Send + 'static,
    {
        let Some(handle) = &self.handle else {
            // Outside any runtime there is nobody to block but the caller.
            return Box::pin(std::future::ready(Ok(task())));
        };
        let done = Arc::new(Done::default());
        let signal = SignalOnDrop(Arc::clone(&done));
        let join = handle.spawn_blocking(move || {
            // `signal` is declared first, so it is dropped last: after `task` has run and
            // dropped everything it captured (notably its handle on the connection).
            let _signal = signal;
            task()
        });
        Box::pin(WaitOnDrop { join, done })
    }

    fn get_runtime() -> Self {
        Self {
            handle: tokio::runtime::Handle::try_current().ok(),
        }
    }
}

/// Set once the blocking task is over (run to the end, panicked, or dropped unrun).
#[derive(Default)]
struct Done {
    finished: Mutex<bool>,
    cond: Condvar,
}

impl Done {
    fn set(&self) {
        *self.finished.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cond.notify_all();
    }

    fn wait(&self) {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        while !*finished {
            finished = self.cond.wait(finished).unwrap_or_else(|p| p.into_inner());
        }
    }
}

struct SignalOnDrop(Arc<Done>);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// The future handed to diesel-async: the task's result, and on early drop, a wait for it.
struct WaitOnDrop<R> {
    join: JoinHandle<R>,
    done: Arc<Done>,
}

impl<R> Future for WaitOnDrop<R> {
    type Output = Result<R, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.join).poll(cx).map_err(BoxError::from)
    }
}

impl<R> Drop for WaitOnDrop<R> {
    fn drop(&mut self) {
        if !self.join.is_finished() {
            self.done.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::CacheSize;
    use diesel::{Connection, SqliteConnection};
    use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
    use diesel_async::{AsyncConnection, RunQueryDsl};
    use std::time::Duration;

    type Conn = SyncConnectionWrapper<SqliteConnection, BlockingRuntime>;

    /// A statement that keeps SQLite busy for a while.
    const SLOW: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) \
                        SELECT count(*) FROM n";

    // The default flavour of `#[tokio::test]` is the current-thread runtime, like actix's workers.
    #[tokio::test]
    async fn dropping_a_running_statement_on_a_current_thread_runtime_does_not_panic() {
        let mut rt = BlockingRuntime::get_runtime();
        let sqlite = rt
            .spawn_blocking(|| SqliteConnection::establish(":memory:"))
            .await
            .unwrap()
            .unwrap();
        let mut conn = Conn::with_runtime(sqlite, rt);

        let slow = diesel::sql_query(SLOW).execute(&mut conn);
        let timed_out = tokio::time::timeout(Duration::from_millis(5), slow).await;
        assert!(
            timed_out.is_err(),
            "the slow statement should still have been running"
        );

        // The statement has let go of the connection: exclusive access (which panics while
        // a blocking task still holds it) works, and so does the next statement.
        conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
        let n: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("7"))
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 7);
    }

    #[test]
    fn outside_a_runtime_the_task_runs_inline() {
        let mut rt = BlockingRuntime::get_runtime();
        let ran = Arc::new(Mutex::new(false));
        let flag = Arc::clone(&ran);
        let fut = rt.spawn_blocking(move || *flag.lock().unwrap() = true);
        assert!(*ran.lock().unwrap(), "ran before the future was polled");
        drop(fut);
    }
}
