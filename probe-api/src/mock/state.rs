//! The mock's in-memory account: users, sessions and the media request log.

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

/// Who a request's credentials belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Principal {
    /// The API key: the first user, no session.
    ApiKey,
    /// A JWT of this session.
    Session(Uuid),
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) users: Vec<User>,
    pub(crate) sessions: Vec<Session>,
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
            log: Vec::new(),
            counter: 0,
        };
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

    pub(crate) fn open_session(
        &mut self,
        user_id: u64,
        user_agent: &str,
        remote_ip: &str,
    ) -> Session {
        let id = self.next_uuid();
        let created = Utc::now();
        let session = Session {
            id,
            jwt: format!("mock.{}.jwt", id.simple()),
            user_id,
            created,
            expire: created + Duration::days(14),
            user_agent: user_agent.to_string(),
            remote_ip: remote_ip.to_string(),
        };
        self.sessions.push(session.clone());
        session
    }

    /// Who `credential` belongs to, if anyone.
    pub(crate) fn principal(&self, credential: &str) -> Option<Principal> {
        if credential == super::API_KEY {
            return Some(Principal::ApiKey);
        }
        self.sessions
            .iter()
            .find(|s| s.jwt == credential && s.expire > Utc::now())
            .map(|s| Principal::Session(s.id))
    }

    /// The user a principal acts as.
    pub(crate) fn user_of(&self, principal: Principal) -> Option<&User> {
        let id = match principal {
            Principal::ApiKey => 1,
            Principal::Session(session) => self.sessions.iter().find(|s| s.id == session)?.user_id,
        };
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn user_mut(&mut self, id: u64) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }
}
