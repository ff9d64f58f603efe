//! Signed evidence receipts (issue 18, item 4): the public half of the key
//! that signs tip photo receipts.
pub mod public_key;
