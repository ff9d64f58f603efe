//! The sansuo server as a library: configuration, start-up and demo data.
//! `main.rs` is a thin CLI over it, and the end-to-end tests start the very
//! same `Application` on port 0.

pub mod app;
pub mod config;
pub mod seed;
pub mod telemetry;

pub use app::Application;
pub use config::Config;

/// The category tree, checked in as data and synced into the database at
/// every start (upsert; removed categories are deactivated, not deleted).
pub const CATEGORIES_JSON: &str = include_str!("../../../data/categories.json");

pub fn category_seeds() -> Vec<sansuo_store::org::CategorySeed> {
    serde_json::from_str(CATEGORIES_JSON)
        .expect("data/categories.json is valid (checked by a test)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_category_file_parses_and_parents_come_first() {
        let seeds = super::category_seeds();
        assert!(
            seeds.len() >= 15 + 30,
            "15 top categories and their sub-items"
        );
        let mut seen = std::collections::HashSet::new();
        for seed in &seeds {
            if let Some(parent) = &seed.parent {
                assert!(
                    seen.contains(parent),
                    "{} comes before its parent {parent}",
                    seed.code
                );
            }
            assert!(
                seen.insert(seed.code.clone()),
                "duplicate code {}",
                seed.code
            );
            assert!(
                !seed.services.is_empty(),
                "{} accepts no service",
                seed.code
            );
        }
        let top = seeds.iter().filter(|s| s.parent.is_none()).count();
        assert_eq!(top, 15);
    }
}
