//! The mock's in-memory account: users, sessions, API tokens, issued JWTs
//! and the media request log, on a clock tests can move forward.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

/// A user of the mock account.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: u64,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
}

/// A signed-in session and the JWT that stands for it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: Uuid,
    pub(crate) jwt: String,
    pub(crate) user_id: u64,
    pub(crate) created: DateTime<Utc>,
    pub(crate) expire: DateTime<Utc>,
    pub(crate) user_agent: String,
    pub(crate) remote_ip: String,
}

/// An API token: a credential sent as the API key, with permissions and an
/// optional expiry. The mock's own [`API_KEY`](super::API_KEY) is one of
/// them, so it can be read, refreshed and deleted like any other.
#[derive(Debug, Clone)]
pub(crate) struct ApiToken {
    pub(crate) token: String,
    pub(crate) user_id: u64,
    pub(crate) permissions: Vec<String>,
    pub(crate) restrictions: Vec<String>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    /// `None`: the token does not expire (a TTL of 0).
    pub(crate) expires: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub(crate) fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// A JWT minted by `post_jwt_token` (not tied to a session).
#[derive(Debug, Clone)]
pub(crate) struct IssuedJwt {
    pub(crate) jwt: String,
    pub(crate) user_id: u64,
    pub(crate) expire: DateTime<Utc>,
}

/// Who a request's credentials belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Principal {
    /// An API token or a minted JWT of this user, no session.
    User(u64),
    /// A JWT of this session.
    Session(Uuid),
}

/// Every permission the document names, which the mock's own key has.
pub(crate) const ALL_PERMISSIONS: [&str; 14] = [
    "read:admin",
    "read:billing",
    "read:invite",
    "read:media",
    "read:profile",
    "read:statistics",
    "read:sub-user",
    "read:user",
    "write:admin",
    "write:billing",
    "write:invite",
    "write:media",
    "write:sub-user",
    "write:user",
];

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) users: Vec<User>,
    pub(crate) sessions: Vec<Session>,
    pub(crate) tokens: Vec<ApiToken>,
    pub(crate) jwts: Vec<IssuedJwt>,
    /// How far the mock's clock runs ahead of the real one
    /// ([`MockServer::advance_clock`](super::MockServer::advance_clock)).
    pub(crate) clock_offset: Duration,
    /// Media requests, newest last, as `MediaShortLog` objects.
    pub(crate) log: Vec<Value>,
    counter: u64,
}

impl State {
    pub(crate) fn new() -> State {
        let mut state = State {
            users: vec![
                User {
                    id: 1,
                    email: super::EMAIL.to_string(),
                    password: super::PASSWORD.to_string(),
                    first_name: "Ada".into(),
                    last_name: "Lovelace".into(),
                },
                User {
                    id: 2,
                    email: "colleague@example.com".into(),
                    password: "another-password".into(),
                    first_name: "Alan".into(),
                    last_name: "Turing".into(),
                },
            ],
            sessions: Vec::new(),
            tokens: Vec::new(),
            jwts: Vec::new(),
            clock_offset: Duration::zero(),
            log: Vec::new(),
            counter: 0,
        };
        let created = state.now();
        state.tokens.push(ApiToken {
            token: super::API_KEY.to_string(),
            user_id: 1,
            permissions: ALL_PERMISSIONS.iter().map(|p| p.to_string()).collect(),
            restrictions: Vec::new(),
            created,
            updated: created,
            expires: None,
        });
        // One session exists from the start, so that listing and getting
        // sessions works before anyone signs in.
        state.open_session(1, "probe-api-mock/1", "127.0.0.1");
        state
    }

    /// A fresh id: deterministic, so runs are reproducible.
    pub(crate) fn next_uuid(&mut self) -> Uuid {
        self.counter += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&0x7072_6f62_652d_6d6fu64.to_be_bytes());
        bytes[8..].copy_from_slice(&self.counter.to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// The mock's time: the real clock plus what tests advanced it by.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now()
            .checked_add_signed(self.clock_offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// A new secret value: unpredictable to a caller (random bits from the
    /// id generator would be guessable), so tests can tell a leak from a
    /// coincidence.
    pub(crate) fn new_secret(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", Uuid::new_v4().simple())
    }

    pub(crate) fn open_session(
        &mut self,
        user_id: u64,
        user_agent: &str,
        remote_ip: &str,
    ) -> Session {
        let id = self.next_uuid();
        let created = self.now();
        let session = Session {
            id,
            jwt: format!("mock.{}.jwt", id.simple()),
            user_id,
            created,
            expire: created
                .checked_add_signed(Duration::days(14))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            user_agent: user_agent.to_string(),
            remote_ip: remote_ip.to_string(),
        };
        self.sessions.push(session.clone());
        session
    }

    /// Who `credential` belongs to, if anyone: an API token that has not
    /// expired, or a JWT of a live session or minted by `post_jwt_token`,
    /// whose user still exists.
    pub(crate) fn principal(&self, credential: &str) -> Option<Principal> {
        let now = self.now();
        let principal = if let Some(token) = self
            .tokens
            .iter()
            .find(|t| t.token == credential && !t.expired_at(now))
        {
            Principal::User(token.user_id)
        } else if let Some(session) = self
            .sessions
            .iter()
            .find(|s| s.jwt == credential && s.expire > now)
        {
            Principal::Session(session.id)
        } else {
            let jwt = self
                .jwts
                .iter()
                .find(|j| j.jwt == credential && j.expire > now)?;
            Principal::User(jwt.user_id)
        };
        self.user_of(principal).map(|_| principal)
    }

    /// The user a principal acts as.
    pub(crate) fn user_of(&self, principal: Principal) -> Option<&User> {
        let id = match principal {
            Principal::User(id) => id,
            Principal::Session(session) => self.sessions.iter().find(|s| s.id == session)?.user_id,
        };
        self.users.iter().find(|u| u.id == id)
    }

    /// Removes a user with every session, API token and JWT of theirs.
    pub(crate) fn delete_user(&mut self, id: u64) {
        self.users.retain(|u| u.id != id);
        self.sessions.retain(|s| s.user_id != id);
        self.tokens.retain(|t| t.user_id != id);
        self.jwts.retain(|j| j.user_id != id);
    }

    pub(crate) fn user_mut(&mut self, id: u64) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }
}
