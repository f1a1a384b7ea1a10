//! The scripted transport of `iothub`'s tests: a [`Transport`] answering from a script (a status
//! and body, headers if any, or no HTTP answer at all), recording every request sent and every
//! wait the client asked for, and never waiting; and [`run`], which finishes a call over it in one
//! poll. Operations on `HubClient` are tested over it (ARCHITECTURE.md: a decision that does I/O is
//! tested with the scripted transport).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::client::{Answer, Transport};
use super::{Registry, Request};

/// The owner key of the scripted hub `myhub.azure-devices.net`.
pub(crate) const KEY: &str = "c2VjcmV0a2V5MTIzNDU2Nzg5MA==";

/// The registry of `myhub.azure-devices.net` (its `iothubowner` key [`KEY`]) at a local address.
pub(crate) fn registry() -> Registry {
    Registry::from_connection_string(
        "http://127.0.0.1:8081",
        &format!("HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"),
    )
    .expect("registry")
}

/// One scripted answer: an HTTP answer with its headers, or the transport's failure (no HTTP
/// answer, with what the transport said).
#[derive(Debug, Clone)]
pub(crate) struct Reply(Result<(Answer, Vec<(String, String)>), String>);

/// An HTTP answer of `status` with `body`.
pub(crate) fn answer(status: u16, body: impl Into<String>) -> Reply {
    Reply(Ok((Answer::new(status, body), Vec::new())))
}

/// No HTTP answer at all: the network down, or a browser refusing an answer.
pub(crate) fn unreachable(detail: &str) -> Reply {
    Reply(Err(detail.to_owned()))
}

impl Reply {
    /// The same answer asking for `wait` before the call is sent again (`Retry-After`).
    pub(crate) fn retry_after(mut self, wait: Duration) -> Self {
        if let Ok((answer, _)) = &mut self.0 {
            answer.retry_after = Some(wait);
        }
        self
    }

    /// The same answer with the header `name: value` (what a query's page carries).
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        if let Ok((_, headers)) = &mut self.0 {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// Answers from a script, in order, and records what was sent and how long the client waited.
#[derive(Debug, Default)]
pub(crate) struct Script {
    answers: RefCell<VecDeque<Reply>>,
    /// Every request sent, in order.
    pub(crate) sent: RefCell<Vec<Request>>,
    /// Every wait the client asked for before sending again.
    pub(crate) slept: RefCell<Vec<Duration>>,
}

impl Script {
    /// A script answering `answers` in order, each `Ok((status, body))` or `Err(detail)` (no HTTP
    /// answer); a request past its end fails the test.
    pub(crate) fn new(answers: Vec<Result<(u16, &str), &str>>) -> Self {
        Self::replies(
            answers
                .into_iter()
                .map(|a| match a {
                    Ok((status, body)) => answer(status, body),
                    Err(detail) => unreachable(detail),
                })
                .collect(),
        )
    }

    /// A script answering `replies` in order (answers with headers among them).
    pub(crate) fn replies(replies: Vec<Reply>) -> Self {
        Self {
            answers: RefCell::new(replies.into()),
            ..Self::default()
        }
    }
}

impl Transport for &Script {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        self.send_keeping(request, &[]).await.map(|(a, _)| a)
    }

    /// Keeps the scripted headers named in `keep`, as a transport that reads headers does.
    async fn send_keeping(
        &self,
        request: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        self.sent.borrow_mut().push(request.clone());
        let Reply(reply) = self
            .answers
            .borrow_mut()
            .pop_front()
            .expect("the script has an answer for every request");
        reply.map(|(answer, headers)| {
            let kept = headers
                .into_iter()
                .filter(|(name, _)| keep.iter().any(|k| k.eq_ignore_ascii_case(name)))
                .collect();
            (answer, kept)
        })
    }

    async fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }
}

/// A script behind a transport that reads no headers: the trait's default `send_keeping`, as a
/// transport without access to an answer's headers behaves.
pub(crate) struct Headless(pub(crate) Script);

impl Transport for &Headless {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        (&self.0).send(request).await
    }
}

/// Drives `f` to its end: over a script nothing waits, so one poll finishes it.
pub(crate) fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a scripted call never waits"),
    }
}
