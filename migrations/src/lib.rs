//! Schema migrations, one file per change, named `mYYYYMMDD_HHMMSS_what.rs`.
//! A migration that has been applied anywhere is never edited: write a new one.
//! Both backends run the same migrations: PostgreSQL in production and
//! SQLite for the embedded default, so only portable DDL is used (raw SQL
//! only where both dialects agree, such as partial unique indexes).

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_organisation;
mod m20261124_000002_identity;
mod m20261124_000003_cases;
mod m20261124_000004_routing_rules;
mod m20261124_000005_staff_routing;
mod m20261124_000006_moderation;
mod m20261124_000007_resident_phone;
mod m20261124_000008_qr_codes;
mod m20261124_000009_notifications;
mod m20261124_000010_media_checks;
mod m20261124_000011_case_routing;
mod m20261124_000012_stats_indexes;
mod m20261124_000013_workflow_edits;
mod m20261124_000014_case_preference;
mod m20261124_000015_mediations;
mod m20261124_000016_tips;
mod m20261124_000017_mediation_resident_side;
mod m20261124_000018_open311_public;
mod m20261202_000001_tip_anonymity;
mod m20261202_090000_sessions;
mod m20261202_120000_outbox_unpublished;
mod m20261202_120000_setup_edits;
mod m20261202_160000_calendar_years;
mod m20261202_161000_duty_rotas;
mod m20261203_100000_staff_events;
mod m20261203_140000_case_urges;
mod m20261204_100000_supervision;
mod m20261204_120000_case_conversions;
mod m20261204_121000_case_intakes;
mod m20261205_110000_staff_wechat;
mod m20261205_120000_content_flags;
mod m20261205_130000_event_chain;
mod m20261205_140000_conversion_withdrawn;
mod m20261206_100000_case_numbers;
mod m20261206_120000_personal_data_views;
mod m20261206_130000_retention;
mod m20261207_140000_canned_replies;
mod m20261207_150000_resident_deletions;
mod m20261207_150100_staff_load;
mod m20261208_100000_outbox_run_at;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_organisation::Migration),
            Box::new(m20261124_000002_identity::Migration),
            Box::new(m20261124_000003_cases::Migration),
            Box::new(m20261124_000004_routing_rules::Migration),
            Box::new(m20261124_000005_staff_routing::Migration),
            Box::new(m20261124_000006_moderation::Migration),
            Box::new(m20261124_000007_resident_phone::Migration),
            Box::new(m20261124_000008_qr_codes::Migration),
            Box::new(m20261124_000009_notifications::Migration),
            Box::new(m20261124_000010_media_checks::Migration),
            Box::new(m20261124_000011_case_routing::Migration),
            Box::new(m20261124_000012_stats_indexes::Migration),
            Box::new(m20261124_000013_workflow_edits::Migration),
            Box::new(m20261124_000014_case_preference::Migration),
            Box::new(m20261124_000015_mediations::Migration),
            Box::new(m20261124_000016_tips::Migration),
            Box::new(m20261124_000017_mediation_resident_side::Migration),
            Box::new(m20261124_000018_open311_public::Migration),
            Box::new(m20261202_000001_tip_anonymity::Migration),
            Box::new(m20261202_090000_sessions::Migration),
            Box::new(m20261202_120000_outbox_unpublished::Migration),
            Box::new(m20261202_120000_setup_edits::Migration),
            Box::new(m20261202_160000_calendar_years::Migration),
            Box::new(m20261202_161000_duty_rotas::Migration),
            Box::new(m20261203_100000_staff_events::Migration),
            Box::new(m20261203_140000_case_urges::Migration),
            Box::new(m20261204_100000_supervision::Migration),
            Box::new(m20261204_120000_case_conversions::Migration),
            Box::new(m20261204_121000_case_intakes::Migration),
            Box::new(m20261205_110000_staff_wechat::Migration),
            Box::new(m20261205_120000_content_flags::Migration),
            Box::new(m20261205_130000_event_chain::Migration),
            Box::new(m20261205_140000_conversion_withdrawn::Migration),
            Box::new(m20261206_100000_case_numbers::Migration),
            Box::new(m20261206_120000_personal_data_views::Migration),
            Box::new(m20261206_130000_retention::Migration),
            Box::new(m20261207_140000_canned_replies::Migration),
            Box::new(m20261207_150000_resident_deletions::Migration),
            Box::new(m20261207_150100_staff_load::Migration),
            Box::new(m20261208_100000_outbox_run_at::Migration),
        ]
    }
}
