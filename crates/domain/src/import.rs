//! A district's organisation tree and staff in one file, checked whole
//! before anything is written (issue #14, item 2, bulk import).
//!
//! The file names its units by file-local keys; parents, a community's
//! police station, rooms and staff refer to those keys. [`validate`] reads
//! every entry and returns either a plan (units ordered parents first) or
//! every problem it found, each naming the entry and field
//! (`units[17].parent: unknown key`), up to [`MAX_ERRORS`]. Nothing here
//! touches storage: the store writes a plan in one transaction.

use crate::StaffRole;
use crate::account::{DisplayName, StaffPassword, Username};
use crate::org::UnitKind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// At most this many problems are listed; a file with more is wrong in
/// some systematic way the first hundred show.
pub const MAX_ERRORS: usize = 100;
/// The word that asks for a generated initial password, returned once.
pub const GENERATE: &str = "generate";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub units: Vec<UnitEntry>,
    #[serde(default)]
    pub rooms: Vec<RoomEntry>,
    #[serde(default)]
    pub staff: Vec<StaffEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitEntry {
    /// File-local, unique: what the other entries name it by.
    pub key: String,
    /// `street`, `police_station`, `judicial_office`, `community` or `grid`.
    pub kind: String,
    pub name: String,
    /// The key of the unit above; absent for streets and police stations
    /// (they sit under the district).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// A community's police station, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomEntry {
    /// The key of its unit.
    pub unit: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    pub username: String,
    pub display_name: String,
    /// `lawyer`, `mediator`, `officer`, `coordinator` or `administrator`.
    pub role: String,
    /// The key of their home unit.
    pub unit: String,
    /// An initial password, or `generate`.
    pub password: String,
}

/// One problem: where (`staff[3].unit`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub at: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct PlannedUnit {
    pub key: String,
    pub kind: UnitKind,
    pub name: DisplayName,
    /// Index into [`ImportPlan::units`] (always earlier); `None` is the
    /// district the file is imported into.
    pub parent: Option<usize>,
    /// A community's police station, index into [`ImportPlan::units`].
    pub station: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct PlannedRoom {
    pub unit: usize,
    pub name: DisplayName,
}

#[derive(Debug, Clone)]
pub struct PlannedStaff {
    pub username: Username,
    pub display_name: DisplayName,
    pub role: StaffRole,
    pub unit: usize,
    /// `None`: generate one and return it once.
    pub password: Option<StaffPassword>,
}

/// A checked file, units parents first.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub units: Vec<PlannedUnit>,
    pub rooms: Vec<PlannedRoom>,
    pub staff: Vec<PlannedStaff>,
}

/// The tree's shape (as `POST /admin/org-units`): district → street and
/// police station; street → judicial office and community; community → grid.
fn parent_kind(kind: UnitKind) -> Option<UnitKind> {
    match kind {
        UnitKind::District => None,
        UnitKind::Street | UnitKind::PoliceStation => Some(UnitKind::District),
        UnitKind::JudicialOffice | UnitKind::Community => Some(UnitKind::Street),
        UnitKind::Grid => Some(UnitKind::Community),
    }
}

/// How deep a kind sits below the district: the order units are written in.
fn depth(kind: UnitKind) -> u8 {
    match kind {
        UnitKind::District => 0,
        UnitKind::Street | UnitKind::PoliceStation => 1,
        UnitKind::JudicialOffice | UnitKind::Community => 2,
        UnitKind::Grid => 3,
    }
}

struct Problems(Vec<ImportError>);

impl Problems {
    fn add(&mut self, at: String, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(ImportError {
                at,
                message: message.into(),
            });
        }
    }
}

/// Check the whole file; every problem (up to [`MAX_ERRORS`]) or the plan.
pub fn validate(file: &ImportFile) -> Result<ImportPlan, Vec<ImportError>> {
    let mut problems = Problems(Vec::new());

    // Keys first, so references can be checked whatever the order.
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut kinds: Vec<Option<UnitKind>> = Vec::with_capacity(file.units.len());
    for (i, unit) in file.units.iter().enumerate() {
        let key = unit.key.trim();
        if key.is_empty() || key.chars().count() > 64 {
            problems.add(format!("units[{i}].key"), "must be 1 to 64 characters");
        } else if let Some(first) = by_key.get(key) {
            problems.add(
                format!("units[{i}].key"),
                format!("`{key}` is also units[{first}]'s key"),
            );
        } else {
            by_key.insert(key, i);
        }
        let kind = unit
            .kind
            .parse::<UnitKind>()
            .ok()
            .filter(|k| *k != UnitKind::District);
        if kind.is_none() {
            problems.add(
                format!("units[{i}].kind"),
                "must be street, police_station, judicial_office, community or grid",
            );
        }
        kinds.push(kind);
    }
    let find = |key: &str| by_key.get(key.trim()).copied();

    let mut units: Vec<(usize, PlannedUnit)> = Vec::new();
    for (i, unit) in file.units.iter().enumerate() {
        let name = DisplayName::parse("name", &unit.name)
            .map_err(|e| problems.add(format!("units[{i}].name"), e.message))
            .ok();
        let Some(kind) = kinds[i] else { continue };
        let wanted = parent_kind(kind);
        let parent = match (&unit.parent, wanted) {
            (None, Some(UnitKind::District)) => Some(None),
            (Some(_), Some(UnitKind::District)) => {
                problems.add(
                    format!("units[{i}].parent"),
                    format!("a {kind} sits under the district: leave parent out"),
                );
                None
            }
            (None, _) => {
                problems.add(format!("units[{i}].parent"), "missing");
                None
            }
            (Some(key), wanted) => match find(key) {
                None => {
                    problems.add(format!("units[{i}].parent"), format!("unknown key `{key}`"));
                    None
                }
                Some(p) if kinds[p].is_some() && kinds[p] != wanted => {
                    problems.add(
                        format!("units[{i}].parent"),
                        format!(
                            "a {kind} sits under a {}, `{key}` is a {}",
                            wanted.map_or("district", |k| k.as_str()),
                            kinds[p].map_or("?", |k| k.as_str())
                        ),
                    );
                    None
                }
                Some(p) => Some(Some(p)),
            },
        };
        let station = match (&unit.station, kind) {
            (None, _) => Some(None),
            (Some(_), k) if k != UnitKind::Community => {
                problems.add(format!("units[{i}].station"), "only a community has one");
                None
            }
            (Some(key), _) => match find(key) {
                Some(s) if kinds[s] == Some(UnitKind::PoliceStation) => Some(Some(s)),
                Some(_) => {
                    problems.add(
                        format!("units[{i}].station"),
                        format!("`{key}` is not a police station"),
                    );
                    None
                }
                None => {
                    problems.add(
                        format!("units[{i}].station"),
                        format!("unknown key `{key}`"),
                    );
                    None
                }
            },
        };
        if let (Some(name), Some(parent), Some(station)) = (name, parent, station) {
            units.push((
                i,
                PlannedUnit {
                    key: unit.key.trim().to_owned(),
                    kind,
                    name,
                    parent,
                    station,
                },
            ));
        }
    }

    let mut rooms = Vec::new();
    for (i, room) in file.rooms.iter().enumerate() {
        let unit = find(&room.unit);
        if unit.is_none() {
            problems.add(
                format!("rooms[{i}].unit"),
                format!("unknown key `{}`", room.unit),
            );
        }
        let name = DisplayName::parse("name", &room.name)
            .map_err(|e| problems.add(format!("rooms[{i}].name"), e.message))
            .ok();
        if let (Some(unit), Some(name)) = (unit, name) {
            rooms.push(PlannedRoom { unit, name });
        }
    }

    let mut staff = Vec::new();
    let mut usernames: HashMap<String, usize> = HashMap::new();
    for (i, person) in file.staff.iter().enumerate() {
        let username = match Username::parse(&person.username) {
            Ok(name) => match usernames.get(name.as_str()) {
                Some(first) => {
                    problems.add(
                        format!("staff[{i}].username"),
                        format!("also staff[{first}]'s"),
                    );
                    None
                }
                None => {
                    usernames.insert(name.as_str().to_owned(), i);
                    Some(name)
                }
            },
            Err(e) => {
                problems.add(format!("staff[{i}].username"), e.message);
                None
            }
        };
        let display_name = DisplayName::parse("display_name", &person.display_name)
            .map_err(|e| problems.add(format!("staff[{i}].display_name"), e.message))
            .ok();
        let role = person.role.parse::<StaffRole>().ok();
        if role.is_none() {
            problems.add(
                format!("staff[{i}].role"),
                "must be lawyer, mediator, officer, coordinator or administrator",
            );
        }
        let unit = find(&person.unit);
        if unit.is_none() {
            problems.add(
                format!("staff[{i}].unit"),
                format!("unknown key `{}`", person.unit),
            );
        }
        let password = if person.password == GENERATE {
            Some(None)
        } else {
            StaffPassword::parse(&person.password)
                .map(Some)
                .map_err(|e| problems.add(format!("staff[{i}].password"), e.message))
                .ok()
        };
        if let (Some(username), Some(display_name), Some(role), Some(unit), Some(password)) =
            (username, display_name, role, unit, password)
        {
            staff.push(PlannedStaff {
                username,
                display_name,
                role,
                unit,
                password,
            });
        }
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    // Parents first: order by depth (stable, so the file's order within a
    // level), then renumber every reference from file index to plan index.
    units.sort_by_key(|(_, u)| depth(u.kind));
    let position: HashMap<usize, usize> = units
        .iter()
        .enumerate()
        .map(|(at, (file_index, _))| (*file_index, at))
        .collect();
    let units = units
        .into_iter()
        .map(|(_, mut u)| {
            u.parent = u.parent.map(|p| position[&p]);
            u.station = u.station.map(|s| position[&s]);
            u
        })
        .collect();
    for room in &mut rooms {
        room.unit = position[&room.unit];
    }
    for person in &mut staff {
        person.unit = position[&person.unit];
    }
    Ok(ImportPlan {
        units,
        rooms,
        staff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(key: &str, kind: &str, parent: Option<&str>, station: Option<&str>) -> UnitEntry {
        UnitEntry {
            key: key.into(),
            kind: kind.into(),
            name: format!("{key} 名称"),
            parent: parent.map(Into::into),
            station: station.map(Into::into),
        }
    }

    fn person(username: &str, role: &str, unit: &str) -> StaffEntry {
        StaffEntry {
            username: username.into(),
            display_name: username.into(),
            role: role.into(),
            unit: unit.into(),
            password: GENERATE.into(),
        }
    }

    /// A district of 9 streets, 198 communities (22 a street), 9 police
    /// stations and 9 judicial offices, a room per community, and 700
    /// staff: what a real district sends.
    pub(crate) fn district() -> ImportFile {
        let mut file = ImportFile::default();
        for s in 0..9 {
            file.units
                .push(unit(&format!("street-{s}"), "street", None, None));
            file.units
                .push(unit(&format!("station-{s}"), "police_station", None, None));
            file.units.push(unit(
                &format!("office-{s}"),
                "judicial_office",
                Some(&format!("street-{s}")),
                None,
            ));
        }
        for c in 0..198 {
            let s = c / 22;
            file.units.push(unit(
                &format!("community-{c}"),
                "community",
                Some(&format!("street-{s}")),
                Some(&format!("station-{s}")),
            ));
            file.rooms.push(RoomEntry {
                unit: format!("community-{c}"),
                name: format!("第{c}调解室"),
            });
        }
        let roles = ["lawyer", "mediator", "officer", "coordinator"];
        for p in 0..700 {
            let role = roles[p % roles.len()];
            let home = match role {
                "officer" => format!("station-{}", p % 9),
                "coordinator" => format!("street-{}", p % 9),
                _ => format!("community-{}", p % 198),
            };
            let mut entry = person(&format!("staff.{p:04}"), role, &home);
            if p % 2 == 0 {
                entry.password = format!("initial-password-{p:04}");
            }
            file.staff.push(entry);
        }
        file
    }

    #[test]
    fn a_whole_district_validates_parents_first_and_its_size_is_measured() {
        let file = district();
        let plan = validate(&file).expect("valid");
        assert_eq!(plan.units.len(), 9 * 3 + 198);
        assert_eq!(plan.rooms.len(), 198);
        assert_eq!(plan.staff.len(), 700);
        for (at, u) in plan.units.iter().enumerate() {
            if let Some(p) = u.parent {
                assert!(p < at, "{} before its parent", u.key);
                assert_eq!(Some(plan.units[p].kind), parent_kind(u.kind));
            }
            if let Some(s) = u.station {
                assert_eq!(plan.units[s].kind, UnitKind::PoliceStation);
            }
        }
        assert_eq!(
            plan.staff.iter().filter(|s| s.password.is_none()).count(),
            350
        );
        // The body limit of the import endpoint must take this with room to
        // spare: about 120 KB as compact JSON.
        let bytes = serde_json::to_vec(&file).expect("json").len();
        assert!((50_000..400_000).contains(&bytes), "{bytes} bytes");
    }

    #[test]
    fn every_problem_is_listed_with_its_entry_and_field() {
        let mut file = district();
        file.units[40].parent = Some("street-nowhere".into());
        file.units[2].kind = "village".into();
        file.staff[17].unit = "community-999".into();
        file.staff[18].username = file.staff[3].username.clone();
        file.staff[20].password = "short".into();
        file.units[50].station = Some("street-0".into());
        let errors = validate(&file).expect_err("invalid");
        let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(
            at,
            vec![
                "units[2].kind",
                "units[40].parent",
                "units[50].station",
                "staff[17].unit",
                "staff[18].username",
                "staff[20].password",
            ]
        );
        assert!(errors[1].message.contains("unknown key"));
    }

    #[test]
    fn a_parent_of_the_wrong_kind_a_duplicate_key_and_a_stray_parent() {
        let file = ImportFile {
            units: vec![
                unit("s", "street", None, None),
                unit("s", "street", None, None),
                unit("p", "police_station", Some("s"), None),
                unit("c", "community", Some("p"), None),
                unit("g", "grid", Some("s"), None),
            ],
            rooms: vec![],
            staff: vec![],
        };
        let at: Vec<String> = validate(&file)
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.at)
            .collect();
        assert_eq!(
            at,
            vec![
                "units[1].key",
                "units[2].parent",
                "units[3].parent",
                "units[4].parent"
            ]
        );
    }

    #[test]
    fn the_list_stops_at_the_cap() {
        let mut file = district();
        for p in &mut file.staff {
            p.role = "chief".into();
        }
        assert_eq!(validate(&file).expect_err("invalid").len(), MAX_ERRORS);
    }
}
