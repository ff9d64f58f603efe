//! Authentication: JWT access tokens, rotating refresh tokens, passwords.

mod password;
mod tokens;

pub use password::{generate_password, hash_generated_password, hash_password, verify_password};
pub use tokens::{
    AccessClaims, Principal, RefreshToken, TokenError, TokenIssuer, Verified, hash_refresh_token,
};
