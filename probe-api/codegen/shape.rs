//! The generated client, read.
