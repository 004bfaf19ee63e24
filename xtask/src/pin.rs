//! The pin record: where the pinned document came from and what it is.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `openapi.pin.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The URL the document tracks.
    pub url: String,
    /// Lower-case hex sha256 of `openapi.json`.
    pub sha256: String,
    /// Size of `openapi.json` in bytes.
    pub size: u64,
    /// When the document was obtained (ISO 8601 date).
    pub obtained: String,
    /// From where and how it was obtained.
    pub obtained_from: String,
    /// The date of the document itself, where the source says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_date: Option<String>,
}

impl Pin {
    /// Parses a pin record.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("the pin record is not valid: {e}"))
    }
}

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
