//! Captures the tracing events emitted on the current thread while a guard lives, rendered
//! as `name=value` text, so tests can assert what is and is not logged.
//!
//! tracing caches per call site whether anyone listens, and with a single thread-local
//! subscriber it decides that from whichever thread reaches the call site first: a call site
//! first reached by another test thread stays silent for us. So one process-wide subscriber
//! is installed, and it routes each event to the capture active on the emitting thread.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Buffer = Arc<Mutex<Vec<String>>>;

thread_local! {
    static ACTIVE: RefCell<Option<Buffer>> = const { RefCell::new(None) };
}

pub struct Logs(Buffer);

/// Ends the capture on this thread when dropped.
pub struct Capturing(());

impl Drop for Capturing {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.borrow_mut().take());
    }
}

impl Logs {
    /// Starts capturing the events of the current thread.
    pub fn capture() -> (Self, Capturing) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            tracing::subscriber::set_global_default(Router).expect("no other global subscriber");
        });
        let buffer = Buffer::default();
        ACTIVE.with(|a| *a.borrow_mut() = Some(Arc::clone(&buffer)));
        (Self(buffer), Capturing(()))
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn push(line: String) {
    ACTIVE.with(|a| {
        if let Some(buffer) = &*a.borrow() {
            buffer.lock().unwrap().push(line);
        }
    });
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

struct Router;

impl Subscriber for Router {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = Line(format!("span {}", span.metadata().name()));
        span.record(&mut line);
        push(line.0);
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = Line("record".into());
        values.record(&mut line);
        push(line.0);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = Line(format!("{} {}", meta.level(), meta.target()));
        event.record(&mut line);
        push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
