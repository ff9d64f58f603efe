//! The sansuo server as a library: configuration, start-up and demo data.
//! `main.rs` is a thin CLI over it, and the end-to-end tests start the very
//! same `Application` on port 0.

pub mod app;
pub mod backup;
pub mod bootstrap;
pub mod config;
pub mod demo_key;
pub mod metrics;
pub mod seed;
pub mod telemetry;
pub mod verify;

pub use app::Application;
pub use config::Config;

/// The category catalogue (BRIEF §4): workflows with SLA targets and
/// escalation ladders, 15 top categories and their sub-items. Checked in as
/// data and synced into the database at every start (upsert; categories
/// removed from the file are deactivated, not deleted).
pub const CATALOG_JSON: &str = include_str!("../../../data/categories.json");

/// Published public-holiday calendars, imported at start when the database
/// has no import of that year yet (or only a provisional one and the file is
/// the notice). A later year's notice is imported with `sansuo calendar
/// import FILE` or `POST /api/v1/admin/calendar/import` (docs/calendar.md).
pub const CALENDARS_JSON: &[&str] = &[
    include_str!("../../../data/calendar/2026.json"),
    include_str!("../../../data/calendar/2027.json"),
];

pub fn catalog() -> sansuo_domain::catalog::CatalogFile {
    serde_json::from_str(CATALOG_JSON).expect("data/categories.json is valid (checked by a test)")
}

pub fn published_calendars() -> Vec<sansuo_domain::calendar::PublishedYear> {
    CALENDARS_JSON
        .iter()
        .map(|json| {
            serde_json::from_str::<sansuo_domain::calendar::PublishedYearText>(json)
                .expect("data/calendar/*.json is valid (checked by a test)")
                .check()
                .expect("data/calendar/*.json passes the import's checks (tested)")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sansuo_domain::catalog::Service;

    #[test]
    fn the_catalogue_resolves_with_15_top_categories_and_over_100_sub_items() {
        let file = super::catalog();
        let categories = file.resolve().expect("the catalogue is valid");
        let top = categories.iter().filter(|c| c.parent.is_none()).count();
        let subs = categories.iter().filter(|c| c.parent.is_some()).count();
        assert_eq!(top, 15);
        assert!(subs >= 100, "{subs} sub-items");
        for category in &categories {
            let services = file.services_of(category);
            assert!(!services.is_empty(), "{} accepts no service", category.code);
            if category.urgent {
                // Emergencies are never queued as consultations or mediations.
                assert_eq!(services, vec![Service::Tip], "{}", category.code);
            }
        }
        assert!(
            categories.iter().any(|c| c.urgent),
            "some categories are emergencies"
        );
    }

    #[test]
    fn the_published_calendars_parse() {
        let years = super::published_calendars();
        let y2026 = years
            .iter()
            .find(|y| y.year == 2026)
            .expect("2026 is seeded");
        let overrides = y2026.overrides();
        // 3 + 9 + 3 + 5 + 3 + 3 + 7 holiday days and 6 make-up working days.
        assert_eq!(overrides.len(), 33 + 6);
        assert!(!y2026.provisional);
        let y2027 = years
            .iter()
            .find(|y| y.year == 2027)
            .expect("2027 is seeded");
        assert!(y2027.provisional, "2027 waits for the State Council notice");
        // The statutory 13 days: 1 + 4 + 1 + 2 + 1 + 1 + 3, no make-up days.
        assert_eq!(y2027.overrides().len(), 13);
        assert!(y2027.workdays.is_empty());
        let spring_festival = chrono::NaiveDate::from_ymd_opt(2027, 2, 6).unwrap();
        assert!(
            y2027
                .holidays
                .iter()
                .any(|(a, b)| *a <= spring_festival && spring_festival <= *b)
        );
    }
}
