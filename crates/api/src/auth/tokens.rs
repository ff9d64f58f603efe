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
    /// A staff account's session epoch: the token dies when it moves on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i32>,
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

/// A new opaque refresh token: the token for the client, its hash for the
/// database.
pub struct RefreshToken {
    pub token: String,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
}

/// A valid access token: who, and for staff the session epoch it was
/// issued under (0 for residents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub principal: Principal,
    pub epoch: i32,
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    resident_refresh_ttl: Duration,
    staff_refresh_ttl: Duration,
}

impl TokenIssuer {
    pub fn new(
        secret: &SecretString,
        access_ttl: Duration,
        resident_refresh_ttl: Duration,
        staff_refresh_ttl: Duration,
    ) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            access_ttl,
            resident_refresh_ttl,
            staff_refresh_ttl,
        }
    }

    /// An access token for `principal`; a staff member's carries the
    /// session `epoch` of the account, checked on every request.
    pub fn access(
        &self,
        principal: Principal,
        epoch: i32,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), String> {
        let (sub, kind, role, scope, ver) = match principal {
            Principal::Resident(id) => (id.as_uuid(), "resident", None, None, None),
            Principal::Staff { id, role, scope } => (
                id.as_uuid(),
                "staff",
                Some(role.as_str().to_owned()),
                Some(scope.as_uuid()),
                Some(epoch),
            ),
        };
        let expires_at = now + self.access_ttl;
        let claims = AccessClaims {
            sub,
            kind: kind.to_owned(),
            role,
            scope,
            ver,
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok((token, expires_at))
    }

    /// A new refresh token. A resident's expires at the end of a whole UTC
    /// day: its row must not date the resident's last activity (ARCHITECTURE,
    /// "anonymity"); a staff member's after the shorter staff lifetime.
    pub fn refresh(&self, staff: bool, now: DateTime<Utc>) -> RefreshToken {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        RefreshToken {
            hash: hash_refresh_token(&token),
            token,
            expires_at: self.refresh_expiry(staff, now),
        }
    }

    pub fn refresh_expiry(&self, staff: bool, now: DateTime<Utc>) -> DateTime<Utc> {
        if staff {
            now + self.staff_refresh_ttl
        } else {
            let end = now + self.resident_refresh_ttl;
            // The next midnight (UTC) at or after `end`.
            let day = end.date_naive();
            let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
            if midnight == end {
                midnight
            } else {
                midnight + Duration::days(1)
            }
        }
    }

    /// The principal of a valid, unexpired token; `Err` says why not. Only
    /// the signature and expiry: whether a staff session still stands is
    /// `extract`'s check against the account.
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        match claims.kind.as_str() {
            "resident" => Ok(Verified {
                principal: Principal::Resident(claims.sub.into()),
                epoch: 0,
            }),
            "staff" => {
                let role = claims
                    .role
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .ok_or(TokenError::Invalid)?;
                let scope = claims.scope.ok_or(TokenError::Invalid)?;
                // A staff token without an epoch predates sessions that end.
                let epoch = claims.ver.ok_or(TokenError::Invalid)?;
                Ok(Verified {
                    principal: Principal::Staff {
                        id: claims.sub.into(),
                        role,
                        scope: scope.into(),
                    },
                    epoch,
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
            Duration::hours(12),
        )
    }

    #[test]
    fn tokens_round_trip_with_role_scope_and_epoch() {
        let issuer = issuer(
            "a-secret-of-at-least-32-bytes-long!!",
            Duration::minutes(15),
        );
        let principal = Principal::Staff {
            id: StaffId::new(),
            role: StaffRole::Lawyer,
            scope: OrgUnitId::new(),
        };
        let (token, _) = issuer.access(principal, 7, Utc::now()).unwrap();
        assert_eq!(
            issuer.verify(&token),
            Ok(Verified {
                principal,
                epoch: 7
            })
        );
        let refresh = issuer.refresh(true, Utc::now());
        assert_eq!(refresh.hash, hash_refresh_token(&refresh.token));
        assert_ne!(refresh.token, refresh.hash);
    }

    #[test]
    fn a_residents_refresh_expiry_is_a_whole_day_and_a_staff_members_is_short() {
        let issuer = issuer(
            "a-secret-of-at-least-32-bytes-long!!",
            Duration::minutes(15),
        );
        let now = "2026-12-02T09:13:27.123Z".parse::<DateTime<Utc>>().unwrap();
        let resident = issuer.refresh_expiry(false, now);
        assert_eq!(resident.to_rfc3339(), "2027-01-02T00:00:00+00:00");
        assert_eq!(issuer.refresh_expiry(true, now), now + Duration::hours(12));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let issuer_a = issuer(
            "a-secret-of-at-least-32-bytes-long!!",
            Duration::minutes(15),
        );
        let issuer_b = issuer("another-secret-of-at-least-32-bytes", Duration::minutes(15));
        let resident = Principal::Resident(ResidentId::new());
        let (old, _) = issuer_a
            .access(resident, 0, Utc::now() - Duration::hours(1))
            .unwrap();
        assert_eq!(issuer_a.verify(&old), Err(TokenError::Expired));
        let (foreign, _) = issuer_b.access(resident, 0, Utc::now()).unwrap();
        assert_eq!(issuer_a.verify(&foreign), Err(TokenError::Invalid));
        assert_eq!(issuer_a.verify("not.a.jwt"), Err(TokenError::Invalid));
    }
}
