//! Sends one operation's request: credentials, cookie parameters, the
//! request timeout, the deadline, the limiter, retries, and a tracing span.
//! Every generated `send()` calls [`execute`] (see `codegen/rewrite.rs`),
//! which hands back an [`Answer`]: the response and the [`Exchange`] it
//! belongs to, what the decoder and any error need to know about the call.

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use progenitor_client::OperationInfo;
use reqwest::StatusCode;

use crate::Client;
use crate::batch::limit::Outcome;
use crate::error::Error;
use crate::facts::OperationFacts;
use crate::response::Redaction;
use crate::retry::{Jitter, is_retryable_status};
use crate::spec::OperationSpec;

/// How a call makes the request of each attempt: built again from the
/// caller's values, so nothing is copied ahead for a retry that rarely comes.
/// The generated `send()`s pass a closure over their validated parameters
/// (see `codegen/rewrite.rs`); the raw request clones its template.
pub(crate) type Build<'a> = &'a (dyn Fn() -> Result<reqwest::Request, Error> + Sync);

/// Sends the request `build` makes for the operation `info` names,
/// retrying as the client's [`RetryPolicy`](crate::RetryPolicy) allows:
/// each retry sends a request built again. Unless `streams`, the body is
/// read within the attempt, so a connection that breaks or stalls mid-body
/// is retried like one that breaks before the status line.
pub(crate) async fn execute(
    client: &Client,
    build: Build<'_>,
    info: &OperationInfo,
    facts: &OperationFacts,
    streams: bool,
) -> Result<Answer, Error> {
    let sent = AtomicU32::new(0);
    let (deadline, mut context, span);
    // What the attempts start from is made in this block, so that none of
    // it is kept beside the attempts' future (a local moved from keeps its
    // place in an `async fn`'s state until its scope ends). The future is
    // pinned where it is made: it is large, and each move of it is a copy.
    let mut attempts = std::pin::pin!({
        let (call, request, exchange, request_span) = start(client, build, info, facts, streams)?;
        deadline = call.deadline;
        // Boxed: only a call with a deadline keeps it, beside every await.
        context = deadline.map(|_| Box::new(exchange.clone()));
        span = request_span;
        call.attempts(request, exchange, &sent, &span)
    });
    // In the span while polled; borrowed, like the attempts' own records,
    // rather than cloned into an `Instrumented`.
    let attempts = std::future::poll_fn(|cx| {
        let _entered = span.enter();
        attempts.as_mut().poll(cx)
    });
    let (Some(deadline), Some(context)) = (deadline, context.as_mut()) else {
        return attempts.await;
    };
    // The attempts keep to the deadline themselves (each attempt's timeout
    // and each back-off fit in what is left); this bounds what they do not
    // control, such as a wait for the limiter.
    match tokio::time::timeout_at(deadline.into(), attempts).await {
        Ok(result) => result,
        Err(_) => {
            context.attempts = sent.load(Ordering::SeqCst);
            span.record("attempt", context.attempts);
            let limit = deadline.saturating_duration_since(context.started);
            Err(Error::timed_out(
                format!("the call's deadline of {} ran out", seconds(limit)),
                Some(&**context),
            ))
        }
    }
}

/// Everything a call works out before its first attempt: the first
/// request (with credentials and cookies), the operation's facts, the
/// request timeout, the exchange and the span.
///
/// Inlined into its one caller, so that what it returns is made in the
/// call's state rather than copied there.
#[inline(always)]
fn start<'a>(
    client: &'a Client,
    build: Build<'a>,
    info: &OperationInfo,
    facts: &OperationFacts,
    streams: bool,
) -> Result<(Call<'a>, reqwest::Request, Exchange, tracing::Span), Error> {
    let started = Instant::now();
    let mut request = build()?;
    let known = facts.get(info.operation_id);
    let spec = known.map(|k| k.spec);
    let method = request.method().clone();
    // A path that carries a credential (an API token) is printed redacted
    // everywhere, and the values are kept to redact what the server echoes.
    // A raw request (no operation) is matched against every operation's path.
    let url_path = request.url().path();
    let redacted = match known {
        Some(k) if k.secret_path => k.spec.redact_path(url_path),
        Some(_) => None,
        None => crate::spec::redact_path_of_any(url_path),
    };
    let (path, path_secrets) = redacted.unwrap_or_else(|| (url_path.to_string(), Vec::new()));
    let state = &client.inner;
    let refuse =
        |message: String| Error::invalid_request_for(info.operation_id, &method, &path, message);
    let mut call = Call {
        client,
        build,
        spec,
        // Operations the document lists without security (sign-in) get no
        // credentials; every other operation accepts the configured scheme
        // or rejects it on the server side with the API's own message.
        needs_auth: known.is_none_or(|k| k.needs_auth),
        takes_cookies: known.is_some_and(|k| k.takes_cookies),
        timeout: Duration::ZERO,
        bound: state.timeout_is_bound.then_some(state.timeout),
        deadline: state.deadline.map(|limit| started + limit),
        // A walked report is decoded as its body arrives (`reports::walk`).
        streams: streams || crate::reports::walk::walking(),
    };
    call.prepare(&mut request).map_err(refuse)?;
    // Analysis times the caller set that cannot fit the deadline or the
    // caller's timeout are refused before anything is sent or waited for.
    if let Some((limit, name)) = call.limit(started) {
        crate::timeouts::fit_analysis(spec, &request, limit, name).map_err(refuse)?;
    }
    call.timeout = match call.bound {
        Some(bound) => bound,
        None => crate::timeouts::request_timeout(spec, &request, state.timeout),
    };

    // DEBUG: one span a request is detail an application asks for
    // (`probe_api=debug`); at INFO it would cost every call its fields
    // (BENCHMARKS.md, the traced rows) for output a pipeline of millions of
    // probes does not want. Retries are INFO events of their own.
    let span = tracing::debug_span!(
        "probe_api.request",
        operation = info.operation_id,
        method = %method,
        path = %path,
        timeout_ms = call.timeout.as_millis() as u64,
        deadline_left_ms = tracing::field::Empty,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let exchange = Exchange {
        operation: info.operation_id,
        method,
        path,
        attempts: 0,
        started,
        redaction: Redaction {
            secret: state.auth.as_ref().map(|a| a.secret.clone()),
            path_secrets,
        },
        body: None,
    };
    Ok((call, request, exchange, span))
}

/// A response as the transport hands it to the generated code: the status
/// to match on, and the [`Exchange`] it belongs to (carried beside the
/// response rather than in its extensions, which would cost a map per call).
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status code, read by value: the generated code matches on it
    /// without borrowing the answer, which would keep the answer's place in
    /// the call's state while its value is decoded (see `codegen/rewrite.rs`).
    pub(crate) status: u16,
    pub(crate) response: reqwest::Response,
    pub(crate) exchange: Exchange,
}

impl Answer {
    /// A response and the exchange it belongs to.
    #[inline]
    pub(crate) fn new(response: reqwest::Response, exchange: Exchange) -> Answer {
        Answer {
            status: response.status().as_u16(),
            response,
            exchange,
        }
    }

    /// The response status.
    pub(crate) fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response and its exchange, for the decoder.
    pub(crate) fn into_parts(self) -> (reqwest::Response, Option<Exchange>) {
        (self.response, Some(self.exchange))
    }
}

/// What the transport knows about the exchange a response belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) operation: &'static str,
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) attempts: u32,
    /// When the call began, for [`Response::elapsed`].
    pub(crate) started: std::time::Instant,
    /// The credential, and any the request carried in its path (an API
    /// token, as sent and decoded), so that nothing echoed by the server
    /// shows them.
    pub(crate) redaction: Redaction,
    /// The body, when the transport read it within its attempt (so that a
    /// connection breaking mid-body is retried).
    pub(crate) body: Option<bytes::Bytes>,
}

impl Exchange {
    /// `value` with the credential replaced in every string it holds.
    pub(crate) fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.redact(&k), self.redact_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// `text` with every credential of the exchange replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.redaction.redact(text)
    }
}

/// What every attempt of one call shares.
#[derive(Clone, Copy)]
struct Call<'a> {
    client: &'a Client,
    /// Makes each attempt's request.
    build: Build<'a>,
    spec: Option<&'static OperationSpec>,
    needs_auth: bool,
    /// The operation has cookie parameters.
    takes_cookies: bool,
    /// Each attempt's timeout: until the status line when the caller set
    /// neither a timeout nor a deadline, else the whole attempt.
    timeout: Duration,
    /// The timeout the caller set, which bounds each attempt whole.
    bound: Option<Duration>,
    deadline: Option<Instant>,
    streams: bool,
}

impl<'a> Call<'a> {
    /// Adds what the client, not the caller, puts on a request: the
    /// credential where its scheme puts it, and the cookies the operation
    /// takes.
    #[inline]
    fn prepare(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let state = &self.client.inner;
        if let (Some(auth), true) = (&state.auth, self.needs_auth) {
            auth.apply(request)?;
        }
        if self.takes_cookies
            && let Some(spec) = self.spec
        {
            apply_cookies(spec, state, request)?;
        }
        Ok(())
    }

    /// The request of a retry, built again; `None` if it cannot be (the
    /// raw request's body could not be copied), which ends the retries.
    fn rebuild(&self) -> Option<reqwest::Request> {
        let mut request = (self.build)().ok()?;
        self.prepare(&mut request).ok()?;
        Some(request)
    }

    /// The attempts, one after another, until one answers or no retry is
    /// left: a limiter permit, the attempt's time (the caller's timeout, the
    /// deadline, or the request timeout) with the analysis fitted in it,
    /// the request sent and its answer read, then the retry decision and
    /// the back-off.
    async fn attempts(
        self,
        mut request: reqwest::Request,
        mut exchange: Exchange,
        sent: &AtomicU32,
        span: &tracing::Span,
    ) -> Result<Answer, Error> {
        let state = &self.client.inner;
        let mut jitter = None;
        loop {
            exchange.attempts += 1;
            let attempt = exchange.attempts;
            let permit = match &state.limiter {
                Some(limiter) => Some(limiter.acquire().await),
                None => None,
            };
            let attempt_started = if attempt == 1 && permit.is_none() {
                exchange.started
            } else {
                Instant::now()
            };
            // The time this attempt may take: bounded whole when the caller
            // set a timeout or a deadline, else until the status line.
            let (timeout, until) = match self.limit(attempt_started) {
                None => (self.timeout, None),
                Some((limit, name)) => {
                    self.fit_analysis(limit, name, &mut request, &exchange, span)?;
                    (limit, Some(attempt_started + limit))
                }
            };
            sent.store(attempt, Ordering::SeqCst);
            crate::telemetry::attempt(exchange.operation);
            // Handed to reqwest here, so the attempt's future holds
            // reqwest's (boxed) exchange rather than the request.
            let sent_request = send(&self.client.client, request, self.streams, timeout);
            let outcome = receive(
                sent_request,
                exchange.operation,
                self.streams,
                timeout,
                until,
                state.stall_timeout(),
            )
            .await;
            match self.settle(
                outcome,
                exchange,
                attempt_started,
                &mut jitter,
                permit,
                span,
            ) {
                Settled::Done(result) => return result,
                Settled::Retry(delay, next, kept) => {
                    request = next;
                    exchange = kept;
                    log_retry(&exchange, attempt, delay);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// The most an attempt starting at `at` may take, and how messages name
    /// that limit: the deadline's time left, the caller's timeout, or the
    /// shorter of both; `None` when the caller set neither.
    fn limit(&self, at: Instant) -> Option<(Duration, &'static str)> {
        let left = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(at));
        match (left, self.bound) {
            (Some(left), Some(bound)) if bound < left => {
                Some((bound, "the client's timeout allows"))
            }
            (Some(left), _) => Some((left, "the deadline leaves")),
            (None, Some(bound)) => Some((bound, "the client's timeout allows")),
            (None, None) => None,
        }
    }

    /// What an attempt's `outcome` leads to: the call's result, or a retry
    /// after a wait with the request built again. The span records the
    /// call's last attempt; the limiter's `permit` learns how the attempt
    /// went.
    #[inline]
    fn settle(
        &self,
        outcome: Result<(reqwest::Response, Option<Bytes>), Failure>,
        mut exchange: Exchange,
        attempt_started: Instant,
        jitter: &mut Option<Jitter>,
        permit: Option<crate::batch::limit::Permit>,
        span: &tracing::Span,
    ) -> Settled {
        let attempt = exchange.attempts;
        let ended = Instant::now();
        if let Some(recording) = &self.client.inner.recording {
            let answer = outcome
                .as_ref()
                .map(|(response, body)| (response, body.as_ref()));
            let answer = answer.map_err(Failure::summary);
            crate::cassette::record(recording, self.rebuild(), answer, &exchange);
        }
        let (retryable, retry_after) = self.weigh(&outcome, attempt, attempt_started, ended);
        if let Some(permit) = permit {
            permit.finish(load(&outcome, retry_after));
        }
        if retryable {
            let policy = &self.client.inner.retry;
            let stalled = matches!(&outcome, Err(failure) if failure.stalled);
            if policy.allows(&exchange.method)
                && attempt <= policy.max_retries()
                && let Some((delay, next)) = self.plan_retry(attempt, jitter, retry_after)
                && (!stalled || self.stall_retry_fits(exchange.started, delay))
            {
                crate::telemetry::retry(exchange.operation, retry_reason(&outcome));
                return Settled::Retry(delay, next, exchange);
            }
        }
        let duration = ended.duration_since(exchange.started);
        let outcome_label = match &outcome {
            Ok((response, _)) => crate::telemetry::Outcome::of_status(response.status().as_u16()),
            Err(failure) if failure.is_timeout() => crate::telemetry::Outcome::Timeout,
            Err(_) => crate::telemetry::Outcome::Transport,
        };
        crate::telemetry::call(exchange.operation, outcome_label, duration);
        span.record("attempt", attempt);
        span.record("duration_ms", duration.as_millis() as u64);
        Settled::Done(match outcome {
            Ok((response, body)) => {
                span.record("status", response.status().as_u16());
                exchange.body = body;
                Ok(Answer::new(response, exchange))
            }
            Err(failure) => Err(failure.into_error(&exchange)),
        })
    }

    /// Sets on `request` the analysis times that fit in `limit` (the time
    /// the attempt may take), unless the caller set them; an error when
    /// too little is left. The span shows what was sent.
    fn fit_analysis(
        &self,
        limit: Duration,
        name: &str,
        request: &mut reqwest::Request,
        exchange: &Exchange,
        span: &tracing::Span,
    ) -> Result<(), Error> {
        let fitted =
            crate::timeouts::fit_analysis(self.spec, request, limit, name).map_err(|message| {
                Error::timed_out(
                    format!("too little time is left for the attempt: {message}"),
                    Some(exchange),
                )
            })?;
        crate::timeouts::apply_fitted(self.spec, request, fitted);
        span.record("timeout_ms", limit.as_millis() as u64);
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            span.record("deadline_left_ms", left.as_millis() as u64);
        }
        Ok(())
    }

    /// Whether a retry after a stalled body, made after `delay`, could
    /// stall in its turn and still end within the call's stall budget
    /// ([`STALL_BUDGET_PERIODS`](crate::STALL_BUDGET_PERIODS) stall
    /// timeouts from `started`): stalled bodies do not multiply the time a
    /// call takes by its attempts.
    fn stall_retry_fits(&self, started: Instant, delay: Duration) -> bool {
        let stall = self.client.inner.stall_timeout();
        let budget = stall.saturating_mul(crate::STALL_BUDGET_PERIODS);
        started.elapsed() + delay + stall <= budget
    }

    /// The wait before a retry and its request, built again; `None` when
    /// the policy gives no wait or the request cannot be built again, or
    /// when the retry could not start before the deadline or its analysis
    /// times would no longer fit: the last answer is then the call's.
    #[cold]
    #[inline(never)]
    fn plan_retry(
        &self,
        attempt: u32,
        jitter: &mut Option<Jitter>,
        retry_after: Option<Duration>,
    ) -> Option<(Duration, reqwest::Request)> {
        let unit = jitter.get_or_insert_with(Jitter::from_entropy).next_unit();
        let delay = self.client.inner.retry.delay(attempt, unit, retry_after)?;
        let next = self.rebuild()?;
        self.retry_fits(&next, delay).then_some((delay, next))
    }

    /// Whether an attempt's outcome is worth a retry, and the wait the
    /// server asked for; logged at DEBUG.
    #[inline]
    fn weigh(
        &self,
        outcome: &Result<(reqwest::Response, Option<Bytes>), Failure>,
        attempt: u32,
        attempt_started: Instant,
        ended: Instant,
    ) -> (bool, Option<Duration>) {
        let elapsed_ms = ended.duration_since(attempt_started).as_millis() as u64;
        match outcome {
            Ok((response, _)) => {
                let status = response.status();
                tracing::debug!(attempt, status = status.as_u16(), elapsed_ms, "response");
                let retryable = is_retryable_status(status);
                let retry_after = if retryable || is_overloaded(status) {
                    server_wait(response.headers())
                } else {
                    None
                };
                (retryable, retry_after)
            }
            Err(failure) => weigh_failure(failure, attempt, elapsed_ms),
        }
    }

    /// Whether a retry of `next` after `delay` still fits in the deadline
    /// and the caller's timeout. Under a timeout the caller set, a retry
    /// waits no longer than that timeout: a `Retry-After` asking for more
    /// ends the call with the answer that asked, so a call takes at most
    /// its attempts' timeouts and their back-offs.
    fn retry_fits(&self, next: &reqwest::Request, delay: Duration) -> bool {
        if self.bound.is_some_and(|bound| delay > bound) {
            return false;
        }
        let Some((left, name)) = self.limit(Instant::now() + delay) else {
            return true;
        };
        !left.is_zero() && crate::timeouts::fit_analysis(self.spec, next, left, name).is_ok()
    }
}

/// What an attempt's outcome leads to ([`Call::settle`]).
enum Settled {
    Done(Result<Answer, Error>),
    /// A retry after the wait, with its request and the exchange so far.
    Retry(Duration, reqwest::Request, Exchange),
}

/// The event of a retry: at INFO, outside a request span (which is
/// DEBUG), so it says which call it is.
#[cold]
#[inline(never)]
fn log_retry(exchange: &Exchange, attempt: u32, delay: Duration) {
    tracing::info!(
        operation = exchange.operation,
        method = %exchange.method,
        path = %exchange.path,
        attempt,
        delay_ms = delay.as_millis() as u64,
        "retrying"
    );
}

/// The wait a retryable or overloaded answer asks for (`Retry-After`).
#[cold]
#[inline(never)]
fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    crate::retry::retry_after(headers, std::time::SystemTime::now())
}

/// Whether a failed attempt is worth a retry; logged at DEBUG.
#[cold]
#[inline(never)]
fn weigh_failure(failure: &Failure, attempt: u32, elapsed_ms: u64) -> (bool, Option<Duration>) {
    tracing::debug!(attempt, elapsed_ms, error = %failure.summary(), "attempt failed");
    (failure.is_retryable(), None)
}

/// Why an attempt is retried, as the retry metric's `reason` label says it.
fn retry_reason(outcome: &Result<(reqwest::Response, Option<Bytes>), Failure>) -> &'static str {
    match outcome {
        Ok((response, _)) => match response.status().as_u16() {
            408 => "status_408",
            429 => "status_429",
            500 => "status_500",
            502 => "status_502",
            503 => "status_503",
            504 => "status_504",
            _ => "status_other",
        },
        Err(failure) if failure.stalled => "stalled_body",
        Err(Failure {
            cause: Cause::Http(error),
            ..
        }) if error.is_connect() => "connect",
        Err(failure) if failure.reading_body => "body",
        Err(_) => "request",
    }
}

/// An answer that says the API is overloaded.
fn is_overloaded(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503 | 504)
}

/// What an attempt's outcome tells the limiter about the API's load.
fn load(
    outcome: &Result<(reqwest::Response, Option<Bytes>), Failure>,
    retry_after: Option<Duration>,
) -> Outcome {
    match outcome {
        Ok((response, _)) if is_overloaded(response.status()) => Outcome::Refused(retry_after),
        Ok((response, _)) if response.status().is_success() => Outcome::Success,
        Ok(_) => Outcome::Neutral,
        Err(failure) if failure.is_timeout() && !failure.stalled => Outcome::TimedOut,
        Err(_) => Outcome::Neutral,
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// A failed attempt, and whether it failed while reading the body (the
/// status line had arrived).
struct Failure {
    cause: Cause,
    reading_body: bool,
    /// The body stopped delivering bytes for the stall timeout.
    stalled: bool,
}

enum Cause {
    Http(reqwest::Error),
    /// A timer of the SDK ran out, as this says.
    TimedOut(String),
}

impl Failure {
    fn http(error: reqwest::Error, reading_body: bool) -> Failure {
        Failure {
            cause: Cause::Http(error),
            reading_body,
            stalled: false,
        }
    }

    #[cold]
    fn no_response(timeout: Duration) -> Failure {
        Failure {
            cause: Cause::TimedOut(format!("no response within {}", seconds(timeout))),
            reading_body: false,
            stalled: false,
        }
    }

    /// A body that delivered nothing for `stall` after `total` bytes of
    /// the `expected`.
    #[cold]
    fn stalled(stall: Duration, total: usize, expected: Option<u64>) -> Failure {
        let expected = expected.map_or(String::new(), |n| format!(" of {n}"));
        Failure {
            cause: Cause::TimedOut(format!(
                "the response body stalled: no bytes for {} after {total}{expected} bytes",
                seconds(stall)
            )),
            reading_body: true,
            stalled: true,
        }
    }

    /// A body still coming when the attempt's `limit` (the caller's
    /// timeout or the deadline) ran out, after `total` of the `expected`
    /// bytes.
    #[cold]
    fn body_too_slow(limit: Duration, total: usize, expected: Option<u64>) -> Failure {
        let expected = expected.map_or(String::new(), |n| format!(" of {n}"));
        Failure {
            cause: Cause::TimedOut(format!(
                "the response body was not complete within the attempt's {} ({total}{expected} bytes arrived)",
                seconds(limit)
            )),
            reading_body: true,
            stalled: false,
        }
    }

    fn is_timeout(&self) -> bool {
        match &self.cause {
            Cause::Http(error) => error.is_timeout(),
            Cause::TimedOut(_) => true,
        }
    }

    /// A timeout before the status line is not retried: the server may
    /// still be analysing. A stalled body is: the answer was written.
    fn is_retryable(&self) -> bool {
        match &self.cause {
            Cause::Http(error) => {
                !error.is_timeout()
                    && (self.reading_body || error.is_connect() || error.is_request())
            }
            Cause::TimedOut(_) => self.stalled,
        }
    }

    fn summary(&self) -> String {
        match &self.cause {
            Cause::Http(error) => transport_summary(error),
            Cause::TimedOut(message) => format!("timeout: {message}"),
        }
    }

    #[cold]
    fn into_error(self, exchange: &Exchange) -> Error {
        match self.cause {
            Cause::Http(error) => Error::transport(error, Some(exchange)),
            Cause::TimedOut(message) => Error::timed_out(message, Some(exchange)),
        }
    }
}

/// What kind of transport failure `error` is, with the messages of its
/// causes; reqwest's own message is left out because it prints the URL.
pub(crate) fn transport_summary(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else {
        "request"
    };
    match error.source() {
        Some(cause) => format!("{kind}: {}", error_chain(cause)),
        None => kind.to_string(),
    }
}

/// The messages of an error and its sources, joined by `: `.
fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Hands one attempt's request to reqwest. A streamed body is the
/// caller's to read, so there `timeout` covers the whole exchange, as
/// reqwest's own timeout does; otherwise [`receive`]'s timer replaces
/// reqwest's.
#[inline]
fn send(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    streams: bool,
    timeout: Duration,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + use<> {
    if streams {
        *request.timeout_mut() = Some(timeout);
    } else if request.timeout().is_some() {
        // An absent timeout is left absent (setting one, even to `None`,
        // costs the request a map).
        *request.timeout_mut() = None;
    }
    http.execute(request)
}

/// One attempt's answer to the request [`send`] handed over. Unless
/// `streams`, the body is read here and returned beside the response
/// (whose own body is then spent); it travels to the decoder in the
/// [`Exchange`] of the [`Answer`], so the response keeps its status,
/// headers and URL without being rebuilt.
///
/// `timeout` runs until the status line; after it, a body that delivers
/// nothing for `stall` ends the attempt, and none may run past `until`
/// (the end of an attempt the caller bounded). One timer serves all three
/// (see [`read_body`]).
async fn receive(
    sent: impl Future<Output = Result<reqwest::Response, reqwest::Error>>,
    operation: &'static str,
    streams: bool,
    timeout: Duration,
    until: Option<Instant>,
    stall: Duration,
) -> Result<(reqwest::Response, Option<Bytes>), Failure> {
    let began = Instant::now();
    if streams {
        let response = sent.await.map_err(|error| Failure::http(error, false))?;
        crate::telemetry::response_head(operation, began.elapsed());
        return Ok((response, None));
    }
    let mut timer = std::pin::pin!(tokio::time::sleep(timeout));
    let mut sent = std::pin::pin!(sent);
    // The response first, as `tokio::time::timeout` does: one that is
    // there when the timer runs out still counts.
    let arrived = std::future::poll_fn(|cx| match sent.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(Some(result)),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
    });
    let mut response = match arrived.await {
        Some(result) => result.map_err(|error| Failure::http(error, false))?,
        None => return Err(Failure::no_response(timeout)),
    };
    crate::telemetry::response_head(operation, began.elapsed());
    let bytes = read_body(&mut response, timer, stall, until.map(|u| (u, timeout))).await?;
    crate::telemetry::response_bytes(operation, bytes.len());
    Ok((response, Some(bytes)))
}

/// A response whose body the caller reads as it arrives.
pub(crate) fn stream_response(answer: Answer) -> crate::Response<crate::ByteStream> {
    use futures_util::StreamExt;
    let Answer {
        mut response,
        exchange,
        ..
    } = answer;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let context = exchange.clone();
    let body = response
        .bytes_stream()
        .map(move |chunk| chunk.map_err(|e| Error::transport(e, Some(&context))))
        .boxed();
    crate::decode::stream_parts(status, headers, exchange, crate::ByteStream::new(body))
}

/// Reads the whole body, each chunk within `stall` of the last and all of
/// it before the attempt's end (`bound`: when, and the attempt's limit, for
/// the message), on the attempt's `timer`. The timer is moved only when a
/// read has to wait: a body that is there when it is read (a small one
/// usually is) costs no timer work.
///
/// A body that arrives in one chunk is not copied; any other is copied
/// once, into a buffer of its exact size: a buffer grown by doubling would
/// hold up to twice the body while the report decoded from it is built
/// (see BENCHMARKS.md, peak memory of the user path).
async fn read_body(
    response: &mut reqwest::Response,
    mut timer: Pin<&mut tokio::time::Sleep>,
    stall: Duration,
    bound: Option<(Instant, Duration)>,
) -> Result<Bytes, Failure> {
    let mut first: Option<Bytes> = None;
    // Chunks after the first of a body whose size is not known in time.
    let mut rest: Vec<Bytes> = Vec::new();
    let mut all = BytesMut::new();
    let mut total = 0usize;
    loop {
        // Whether the timer runs out `stall` after the last chunk.
        let mut armed = false;
        let read = {
            let mut chunk = std::pin::pin!(response.chunk());
            std::future::poll_fn(|cx| {
                if let Poll::Ready(read) = chunk.as_mut().poll(cx) {
                    return Poll::Ready(Some(read));
                }
                if !armed {
                    let stalls_at = Instant::now() + stall;
                    let end = bound.map_or(stalls_at, |(until, _)| stalls_at.min(until));
                    timer.as_mut().reset(end.into());
                    armed = true;
                }
                timer.as_mut().poll(cx).map(|()| None)
            })
            .await
        };
        let Some(read) = read else {
            return Err(match bound {
                Some((until, limit)) if Instant::now() >= until => {
                    Failure::body_too_slow(limit, total, response.content_length())
                }
                _ => Failure::stalled(stall, total, response.content_length()),
            });
        };
        let Some(chunk) = read.map_err(|error| Failure::http(error, true))? else {
            break;
        };
        total += chunk.len();
        if all.capacity() > 0 {
            all.extend_from_slice(&chunk);
            continue;
        }
        let Some(head) = &first else {
            first = Some(chunk);
            continue;
        };
        // With two chunks the body is not one piece: from here on it goes
        // into the buffer, sized by the announced length when it covers
        // what came so far; else the chunks are kept until the end. (A body
        // of one chunk, as most small ones are, never reads the length.)
        match rest.is_empty().then(|| announced_size(response)) {
            Some(announced) if announced >= total => {
                all.reserve(announced);
                all.extend_from_slice(head);
                all.extend_from_slice(&chunk);
                first = None;
            }
            _ => rest.push(chunk),
        }
    }
    if all.capacity() > 0 {
        return Ok(all.freeze());
    }
    let Some(head) = first else {
        return Ok(Bytes::new());
    };
    if rest.is_empty() {
        return Ok(head);
    }
    all.reserve(total);
    all.extend_from_slice(&head);
    for chunk in rest {
        all.extend_from_slice(&chunk);
    }
    Ok(all.freeze())
}

/// The body's size as the response announces it, for the buffer of a body
/// that arrives in pieces. reqwest hides the size when it may decompress,
/// but removes the `content-length` header when it does: the header is the
/// body's size. It is only a hint, capped so a wrong one cannot reserve
/// much.
#[inline(never)]
fn announced_size(response: &reqwest::Response) -> usize {
    response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .or(response.content_length())
        .map_or(0, |n| n.min(MAX_PREALLOCATED) as usize)
}

/// The most a `content-length` may reserve ahead of the body (128 MiB);
/// a larger body grows its buffer as it arrives.
const MAX_PREALLOCATED: u64 = 128 << 20;

/// Adds the operation's cookie parameters that the client has values for;
/// a required one without a value refuses the request.
fn apply_cookies(
    spec: &OperationSpec,
    state: &crate::client::ClientState,
    request: &mut reqwest::Request,
) -> Result<(), String> {
    for cookie in spec.cookies {
        match state.cookies.iter().find(|(name, _)| name == cookie.name) {
            Some((name, value)) => {
                crate::auth::append_cookie(request, name, value.expose(), true)?;
            }
            None if cookie.required => {
                return Err(format!(
                    "{} requires the cookie `{}`; set it with Client::with_cookies",
                    spec.rust_name, cookie.name
                ));
            }
            None => {}
        }
    }
    Ok(())
}
