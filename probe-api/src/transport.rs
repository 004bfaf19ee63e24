//! The attempts of one call, read top to bottom in [`execute`]: the
//! operation's facts and the first request ([`start`]), then for each
//! attempt a limiter permit, the time it may take and the analysis that
//! fits in it, the request sent and its answer read, the retry decision
//! and the back-off ([`Call::attempts`]). Every generated `send()` calls
//! [`execute`] with a closure that builds its request from the builder's
//! typed values (see `codegen/rewrite.rs`), and decodes the [`Answer`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::OperationInfo;
use reqwest::StatusCode;
use tracing::Instrument;

use crate::Client;
use crate::call::{Answer, Cause, Exchange, Failure, Redaction, read_body, seconds};
use crate::error::Error;
use crate::facts::OperationFacts;
use crate::limit::{Outcome, Permit};
use crate::retry::{Jitter, is_retryable_status};
use crate::spec::OperationSpec;
use crate::timeouts::{Analysis, fit_analysis, request_timeout};

/// How a call makes the request of each attempt: built again from the
/// caller's values, asking the server for the given analysis time, so
/// nothing is copied ahead for a retry that rarely comes. The generated
/// `send()`s pass a closure over their validated parameters (see
/// `codegen/rewrite.rs`); the raw request clones its template.
pub(crate) type Build<'a> = &'a (dyn Fn(Analysis) -> Result<reqwest::Request, Error> + Sync);

/// Sends the request `build` makes for the operation `info` names, whose
/// builder asked for the analysis time `asked`, retrying as the client's
/// [`RetryPolicy`](crate::RetryPolicy) allows. Unless `streams`, the body
/// is read within the attempt, so a connection that breaks or stalls
/// mid-body is retried like one that breaks before the status line.
pub(crate) async fn execute(
    client: &Client,
    info: &OperationInfo,
    facts: &OperationFacts,
    asked: Analysis,
    build: Build<'_>,
    streams: bool,
) -> Result<Answer, Error> {
    let (call, first, exchange) = start(client, info, facts, asked, build, streams)?;
    let span = call.span.clone();
    let Some(deadline) = call.deadline else {
        return call.attempts(first, exchange, None).instrument(span).await;
    };
    // The attempts keep to the deadline themselves (each attempt's time and
    // each back-off fit in what is left); this bounds what they do not
    // control, such as a wait for the limiter.
    let sent = AtomicU32::new(0);
    let mut context = exchange.clone();
    let attempts = call
        .attempts(first, exchange, Some(&sent))
        .instrument(span.clone());
    match tokio::time::timeout_at(deadline.into(), attempts).await {
        Ok(result) => result,
        Err(_) => {
            context.attempts = sent.load(Ordering::SeqCst);
            span.record("attempt", context.attempts);
            let limit = deadline.saturating_duration_since(context.started);
            Err(Error::timed_out(
                format!("the call's deadline of {} ran out", seconds(limit)),
                Some(&context),
            ))
        }
    }
}

/// Everything a call works out before its first attempt: the operation's
/// facts, the first request (asking for the analysis that fits the time
/// the caller allowed, with credentials and cookies), the exchange and the
/// span. Analysis the caller set that cannot fit is refused here, before
/// anything is sent or waited for.
fn start<'a>(
    client: &'a Client,
    info: &OperationInfo,
    facts: &OperationFacts,
    asked: Analysis,
    build: Build<'a>,
    streams: bool,
) -> Result<(Call<'a>, Ready, Exchange), Error> {
    let started = Instant::now();
    let state = &client.inner;
    let known = facts.get(info.operation_id);
    let spec = known.map(|k| k.spec);
    let mut call = Call {
        client,
        build,
        spec,
        asked,
        // Operations the document lists without security (sign-in) get no
        // credentials; every other operation accepts the configured scheme
        // or rejects it on the server side with the API's own message.
        needs_auth: known.is_none_or(|k| k.needs_auth),
        takes_cookies: known.is_some_and(|k| k.takes_cookies),
        timeout: Duration::ZERO,
        bound: state.timeout_is_bound.then_some(state.timeout),
        deadline: state.deadline.map(|limit| started + limit),
        // A walking client's reports are decoded as the body arrives
        // (`reports::walk`).
        streams: streams || state.walk.is_some(),
        span: tracing::Span::none(),
    };
    let fitted = call
        .limit(started)
        .map(|(limit, name)| fit_analysis(spec, asked, limit, name));
    let analysis = match &fitted {
        Some(Ok(analysis)) => *analysis,
        _ => asked,
    };
    let mut request = build(analysis)?;
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
    let refuse = |message: String| {
        Error::invalid_request(message).for_request(info.operation_id, &method, &path)
    };
    if let Some(Err(message)) = fitted {
        return Err(refuse(message));
    }
    call.prepare(&mut request).map_err(refuse)?;
    call.timeout = match call.bound {
        Some(bound) => bound,
        None => request_timeout(spec, analysis, state.timeout),
    };
    // DEBUG: one span a request is detail an application asks for
    // (`probe_api=debug`); retries are INFO events of their own. The
    // attempt's fields are recorded by each attempt.
    call.span = tracing::debug_span!(
        "probe_api.request",
        operation = info.operation_id,
        method = %method,
        path = %path,
        timeout_ms = tracing::field::Empty,
        analysis_timeout_ms = tracing::field::Empty,
        queue_timeout_ms = tracing::field::Empty,
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
    };
    Ok((call, Ready { request, analysis }, exchange))
}

/// A request built ahead of its attempt, and the analysis it asks for.
struct Ready {
    request: reqwest::Request,
    analysis: Analysis,
}

/// What every attempt of one call shares.
struct Call<'a> {
    client: &'a Client,
    /// Makes each attempt's request.
    build: Build<'a>,
    spec: Option<&'static OperationSpec>,
    /// The analysis time the caller's builder asked for.
    asked: Analysis,
    needs_auth: bool,
    /// The operation has cookie parameters.
    takes_cookies: bool,
    /// Each attempt's timeout when the caller set neither a timeout nor a
    /// deadline: until the status line, from the analysis asked for.
    timeout: Duration,
    /// The timeout the caller set, which bounds each attempt whole.
    bound: Option<Duration>,
    deadline: Option<Instant>,
    streams: bool,
    span: tracing::Span,
}

impl Call<'_> {
    /// The attempts, one after another, until one answers or no retry is
    /// left. `sent` counts them for the deadline's error.
    async fn attempts(
        self,
        first: Ready,
        mut exchange: Exchange,
        sent: Option<&AtomicU32>,
    ) -> Result<Answer, Error> {
        let state = &self.client.inner;
        let mut jitter = None;
        let mut ready = Some(first);
        loop {
            exchange.attempts += 1;
            let attempt = exchange.attempts;
            // 1. A permit of the client's limiter, if it has one.
            let permit = match &state.limiter {
                Some(limiter) => Some(limiter.acquire().await),
                None => None,
            };
            // The first attempt starts with the call, unless it waited.
            let attempt_started = if attempt == 1 && permit.is_none() {
                exchange.started
            } else {
                Instant::now()
            };
            // 2. The time this attempt may take (bounded whole when the
            // caller set a timeout or a deadline, else until the status
            // line), and the analysis that fits in it.
            let (timeout, until, analysis) = match self.limit(attempt_started) {
                None => (self.timeout, None, self.asked),
                Some((limit, name)) => {
                    let analysis =
                        fit_analysis(self.spec, self.asked, limit, name).map_err(|message| {
                            Error::timed_out(
                                format!("too little time is left for the attempt: {message}"),
                                Some(&exchange),
                            )
                        })?;
                    (limit, Some(attempt_started + limit), analysis)
                }
            };
            // 3. The request: the one built ahead when it asks for that
            // analysis, else built again.
            let request = match ready.take() {
                Some(ready) if ready.analysis == analysis => ready.request,
                _ => self.request(analysis).ok_or_else(|| {
                    Error::invalid_request(format!(
                        "the request cannot be built again for attempt {attempt}"
                    ))
                    .for_exchange(&exchange)
                })?,
            };
            self.record_attempt(attempt, timeout, analysis, attempt_started);
            let recorded = state.recording.as_ref().and_then(|_| request.try_clone());
            if let Some(sent) = sent {
                sent.store(attempt, Ordering::SeqCst);
            }
            crate::telemetry::attempt(exchange.operation);
            // 4. The attempt: the request handed to reqwest, the answer read.
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
            // 5. The outcome: the call's result, or a retry after a wait.
            match self.settle(
                outcome,
                exchange,
                attempt_started,
                &mut jitter,
                permit,
                recorded,
            ) {
                Settled::Done(result) => return result,
                Settled::Retry(delay, next, kept) => {
                    exchange = kept;
                    log_retry(&exchange, attempt, delay, timeout, analysis);
                    ready = Some(Ready {
                        request: next,
                        analysis,
                    });
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Adds what the client, not the caller, puts on a request: the
    /// credential where its scheme puts it, and the cookies the operation
    /// takes.
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

    /// An attempt's request, built again asking for `analysis`; `None` if
    /// it cannot be (the raw request's body could not be copied).
    fn request(&self, analysis: Analysis) -> Option<reqwest::Request> {
        let mut request = (self.build)(analysis).ok()?;
        self.prepare(&mut request).ok()?;
        Some(request)
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

    /// The span shows what each attempt sends: its timeout, the analysis
    /// it asks the server for, and the deadline's time left.
    fn record_attempt(&self, attempt: u32, timeout: Duration, analysis: Analysis, at: Instant) {
        let span = &self.span;
        span.record("attempt", attempt);
        span.record("timeout_ms", timeout.as_millis() as u64);
        if let Some(ms) = analysis.timeout {
            span.record("analysis_timeout_ms", ms);
        }
        if let Some(ms) = analysis.queue_timeout {
            span.record("queue_timeout_ms", ms);
        }
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(at);
            span.record("deadline_left_ms", left.as_millis() as u64);
        }
    }

    /// What an attempt's `outcome` leads to: the call's result, or a retry
    /// after a wait with the request built again. The limiter's `permit`
    /// learns how the attempt went; a recording client writes the attempt
    /// (`recorded`, the request as sent) to its cassette.
    fn settle(
        &self,
        outcome: Result<(reqwest::Response, Option<Bytes>), Failure>,
        exchange: Exchange,
        attempt_started: Instant,
        jitter: &mut Option<Jitter>,
        permit: Option<Permit>,
        recorded: Option<reqwest::Request>,
    ) -> Settled {
        let attempt = exchange.attempts;
        let ended = Instant::now();
        if let Some(recording) = &self.client.inner.recording {
            let answer = outcome
                .as_ref()
                .map(|(response, body)| (response, body.as_ref()));
            let answer = answer.map_err(Failure::summary);
            crate::cassette::record(recording, recorded, answer, &exchange);
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
                && let Some((delay, next)) = self.plan_retry(
                    attempt,
                    jitter,
                    retry_after,
                    stalled.then_some(exchange.started),
                )
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
        self.span.record("duration_ms", duration.as_millis() as u64);
        Settled::Done(match outcome {
            Ok((response, body)) => {
                self.span.record("status", response.status().as_u16());
                Ok(Answer {
                    response,
                    body,
                    exchange,
                    walk: self.client.inner.walk.clone(),
                })
            }
            Err(failure) => Err(failure_error(failure, &exchange)),
        })
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

    /// The wait before a retry and its request, built again asking for the
    /// analysis that fits then; `None` (the last answer is then the call's)
    /// when the policy gives no wait, or the retry does not fit:
    /// - under a timeout the caller set, it waits no longer than that
    ///   timeout (a `Retry-After` asking for more ends the call with the
    ///   answer that asked, so a call takes at most its attempts' timeouts
    ///   and their back-offs);
    /// - after a body that stalled (in the call `stalled_since` started), it
    ///   could stall in its turn past the call's stall budget;
    /// - it could not start before the deadline, or its analysis times would
    ///   no longer fit;
    /// - the request cannot be built again.
    ///
    /// Every check comes before the request is built.
    fn plan_retry(
        &self,
        attempt: u32,
        jitter: &mut Option<Jitter>,
        retry_after: Option<Duration>,
        stalled_since: Option<Instant>,
    ) -> Option<(Duration, reqwest::Request)> {
        let unit = jitter.get_or_insert_with(Jitter::from_entropy).next_unit();
        let delay = self.client.inner.retry.delay(attempt, unit, retry_after)?;
        if self.bound.is_some_and(|bound| delay > bound) {
            return None;
        }
        if stalled_since.is_some_and(|started| !self.stall_retry_fits(started, delay)) {
            return None;
        }
        let analysis = match self.limit(Instant::now() + delay) {
            None => self.asked,
            Some((left, _)) if left.is_zero() => return None,
            Some((left, name)) => fit_analysis(self.spec, self.asked, left, name).ok()?,
        };
        Some((delay, self.request(analysis)?))
    }

    /// Whether an attempt's outcome is worth a retry, and the wait the
    /// server asked for; logged at DEBUG.
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
            Err(failure) => {
                tracing::debug!(attempt, elapsed_ms, error = %failure.summary(), "attempt failed");
                (failure.is_retryable(), None)
            }
        }
    }
}

/// What an attempt's outcome leads to ([`Call::settle`]).
enum Settled {
    Done(Result<Answer, Error>),
    /// A retry after the wait, with its request and the exchange so far.
    Retry(Duration, reqwest::Request, Exchange),
}

/// The event of a retry: at INFO, outside a request span (which is
/// DEBUG), so it says which call it is and what the attempt sent.
fn log_retry(
    exchange: &Exchange,
    attempt: u32,
    delay: Duration,
    timeout: Duration,
    analysis: Analysis,
) {
    tracing::info!(
        operation = exchange.operation,
        method = %exchange.method,
        path = %exchange.path,
        attempt,
        delay_ms = delay.as_millis() as u64,
        timeout_ms = timeout.as_millis() as u64,
        analysis_timeout_ms = analysis.timeout,
        queue_timeout_ms = analysis.queue_timeout,
        "retrying"
    );
}

/// The error a failed attempt ends the call with.
fn failure_error(failure: Failure, exchange: &Exchange) -> Error {
    match failure.cause {
        Cause::Http(error) => Error::transport(error, Some(exchange)),
        Cause::TimedOut(message) => Error::timed_out(message, Some(exchange)),
    }
}

/// The wait a retryable or overloaded answer asks for (`Retry-After`).
fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    crate::retry::retry_after(headers, std::time::SystemTime::now())
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

/// Hands one attempt's request to reqwest. A streamed body is the
/// caller's to read, so there `timeout` covers the whole exchange, as
/// reqwest's own timeout does; otherwise [`receive`]'s timer replaces
/// reqwest's.
fn send(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    streams: bool,
    timeout: Duration,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + use<> {
    if streams {
        *request.timeout_mut() = Some(timeout);
    } else {
        *request.timeout_mut() = None;
    }
    http.execute(request)
}

/// One attempt's answer to the request [`send`] handed over. Unless
/// `streams`, the body is read here and returned beside the response
/// (whose own body is then spent), so the response keeps its status,
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
