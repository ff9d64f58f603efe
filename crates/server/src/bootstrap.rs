//! The first administrator of a district, on an empty production database.
//!
//! Every other account is made through the API by an administrator or a
//! coordinator; this is the one door that opens without one. It is a CLI
//! command (`sansuo admin create`), so only someone with the database's
//! credentials can use it, and it never puts a known password into the
//! database: the operator types one (stdin) or is shown a generated one once.

use chrono::Utc;
use sansuo_api::auth::generate_password;
use sansuo_domain::account::{DisplayName, StaffPassword, Username};
use sansuo_domain::{OrgUnitId, StaffId, StaffRole, ValidationError};
use sansuo_store::identity::NewStaff;
use sansuo_store::org::{NewOrgUnit, kind};
use sansuo_store::{Store, StoreError};

/// What `sansuo admin create` was asked for.
#[derive(Debug)]
pub struct NewAdministrator {
    pub username: String,
    pub display_name: String,
    /// The district the administrator runs; made when no district of this
    /// name exists yet.
    pub district: String,
    /// `None`: generate one and show it once.
    pub password: Option<String>,
}

#[derive(Debug)]
pub struct CreatedAdministrator {
    pub staff_id: StaffId,
    pub username: String,
    pub district_id: OrgUnitId,
    pub district_created: bool,
    /// The generated password, when none was given: shown once, stored
    /// only as its Argon2 hash.
    pub generated_password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("the username `{0}` is taken; choose another or reset that account's password")]
    UsernameTaken(String),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create_administrator(
    store: &Store,
    new: NewAdministrator,
) -> Result<CreatedAdministrator, BootstrapError> {
    let username = Username::parse(&new.username)?;
    let display_name = DisplayName::parse("display_name", &new.display_name)?;
    let district_name = DisplayName::parse("district", &new.district)?;
    let (password, generated_password) = match new.password {
        Some(typed) => (StaffPassword::parse(&typed)?, None),
        None => {
            let generated = generate_password();
            (StaffPassword::parse(&generated)?, Some(generated))
        }
    };
    // Checked before the slow hash and before a district is made, so a
    // taken name changes nothing; the unique index still decides a race.
    if store
        .identity()
        .staff_by_username(username.as_str())
        .await?
        .is_some()
    {
        return Err(BootstrapError::UsernameTaken(username.as_str().to_owned()));
    }
    let hash = sansuo_api::auth::hash_password(password.expose()).map_err(BootstrapError::Hash)?;
    let now = Utc::now();
    let (district_id, district_created) =
        match store.org().district_named(district_name.as_str()).await? {
            Some(id) => (id, false),
            None => {
                let id = store
                    .org()
                    .insert_unit(
                        NewOrgUnit {
                            kind: kind::DISTRICT,
                            parent: None,
                            station: None,
                            name: district_name.as_str(),
                            scene: None,
                            address: None,
                            office_hours: None,
                            services: &[],
                        },
                        now,
                    )
                    .await?;
                (id, true)
            }
        };
    let staff_id = store
        .identity()
        .insert_staff(
            NewStaff {
                username: username.as_str(),
                password_hash: &hash,
                display_name: display_name.as_str(),
                role: StaffRole::Admin,
                org_unit: district_id,
                law_firm: None,
            },
            now,
        )
        .await
        .map_err(|err| {
            if err.is_unique_violation() {
                BootstrapError::UsernameTaken(username.as_str().to_owned())
            } else {
                err.into()
            }
        })?;
    Ok(CreatedAdministrator {
        staff_id,
        username: username.as_str().to_owned(),
        district_id,
        district_created,
        generated_password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_unambiguous_and_different() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(!a.chars().any(|c| "0O1lI".contains(c)), "{a}");
        assert!(StaffPassword::parse(&a).is_ok());
    }
}
