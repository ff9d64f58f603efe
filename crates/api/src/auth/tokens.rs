//! Short-lived JWT access tokens (HS256) carrying subject, role and scope,
//! and opaque refresh tokens stored only as SHA-256 hashes.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sansuo_domain::{Actor, OrgUnitId, ResidentId, StaffId, StaffRole};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const ISSUER: &str = "sansuo";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: Uuid,
    /// `resident` or `staff`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The organisation unit a staff member acts in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Uuid>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Resident(ResidentId),
    Staff {
        id: StaffId,
        role: StaffRole,
        scope: OrgUnitId,
    },
}

impl From<Principal> for Actor {
    fn from(p: Principal) -> Self {
        match p {
            Principal::Resident(id) => Actor::Resident(id),
            Principal::Staff { id, role, scope } => Actor::Staff { id, role, scope },
        }
    }
}

pub struct TokenPair {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_hash: String,
    pub refresh_expires_at: DateTime<Utc>,
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenIssuer {
    pub fn new(secret: &SecretString, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn issue(&self, principal: Principal, now: DateTime<Utc>) -> Result<TokenPair, String> {
        let (sub, kind, role, scope) = match principal {
            Principal::Resident(id) => (id.as_uuid(), "resident", None, None),
            Principal::Staff { id, role, scope } => (
                id.as_uuid(),
                "staff",
                Some(role.as_str().to_owned()),
                Some(scope.as_uuid()),
            ),
        };
        let access_expires_at = now + self.access_ttl;
        let claims = AccessClaims {
            sub,
            kind: kind.to_owned(),
            role,
            scope,
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: access_expires_at.timestamp(),
        };
        let access_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
                .map_err(|e| e.to_string())?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let refresh_token = hex::encode(raw);
        Ok(TokenPair {
            access_token,
            access_expires_at,
            refresh_token_hash: hash_refresh_token(&refresh_token),
            refresh_token,
            refresh_expires_at: now + self.refresh_ttl,
        })
    }

    /// The principal of a valid, unexpired token; `Err` says why not.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        match claims.kind.as_str() {
            "resident" => Ok(Principal::Resident(claims.sub.into())),
            "staff" => {
                let role = claims
                    .role
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .ok_or(TokenError::Invalid)?;
                let scope = claims.scope.ok_or(TokenError::Invalid)?;
                Ok(Principal::Staff {
                    id: claims.sub.into(),
                    role,
                    scope: scope.into(),
                })
            }
            _ => Err(TokenError::Invalid),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(secret: &str, ttl: Duration) -> TokenIssuer {
        TokenIssuer::new(
            &SecretString::from(secret.to_owned()),
            ttl,
            Duration::days(30),
        )
    }

    #[test]
    fn tokens_round_trip_with_role_and_scope() {
        let issuer = issuer(
            "a-secret-of-at-least-32-bytes-long!!",
            Duration::minutes(15),
        );
        let principal = Principal::Staff {
            id: StaffId::new(),
            role: StaffRole::Lawyer,
            scope: OrgUnitId::new(),
        };
        let pair = issuer.issue(principal, Utc::now()).unwrap();
        assert_eq!(issuer.verify(&pair.access_token), Ok(principal));
        assert_eq!(
            pair.refresh_token_hash,
            hash_refresh_token(&pair.refresh_token)
        );
        assert_ne!(pair.refresh_token, pair.refresh_token_hash);
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let issuer_a = issuer(
            "a-secret-of-at-least-32-bytes-long!!",
            Duration::minutes(15),
        );
        let issuer_b = issuer("another-secret-of-at-least-32-bytes", Duration::minutes(15));
        let resident = Principal::Resident(ResidentId::new());
        let old = issuer_a
            .issue(resident, Utc::now() - Duration::hours(1))
            .unwrap();
        assert_eq!(issuer_a.verify(&old.access_token), Err(TokenError::Expired));
        let foreign = issuer_b.issue(resident, Utc::now()).unwrap();
        assert_eq!(
            issuer_a.verify(&foreign.access_token),
            Err(TokenError::Invalid)
        );
        assert_eq!(issuer_a.verify("not.a.jwt"), Err(TokenError::Invalid));
    }
}
