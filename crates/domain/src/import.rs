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
use crate::catalog::Service;
use crate::org::UnitKind;
use crate::values::Scene;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// At most this many problems are listed; a file with more is wrong in
/// some systematic way the first hundred show.
pub const MAX_ERRORS: usize = 100;
/// The word that asks for a generated initial password, returned once.
pub const GENERATE: &str = "generate";

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub units: Vec<UnitEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firms: Vec<FirmEntry>,
    #[serde(default)]
    pub rooms: Vec<RoomEntry>,
    #[serde(default)]
    pub staff: Vec<StaffEntry>,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
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
    /// A community's QR code scene, unique in the district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_hours: Option<String>,
    /// A community's services; absent: all three.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmEntry {
    /// File-local, unique among firms: what lawyers name it by.
    pub key: String,
    pub name: String,
    /// The streets (by key) whose consultation pool the firm's lawyers
    /// form; empty: the whole district's.
    #[serde(default)]
    pub serves: Vec<String>,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomEntry {
    /// The key of its unit.
    pub unit: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
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
    /// A lawyer's law firm, by key: its lawyers form a street's pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firm: Option<String>,
    /// The communities (by key) whose signed lawyer (签约律师) this
    /// lawyer is; one lawyer a community.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signs: Vec<String>,
}

/// One problem: where (`staff[3].unit`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ImportError {
    pub at: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct PlannedUnit {
    /// Its place in the file's `units` (the plan is ordered parents first).
    pub index: usize,
    pub key: String,
    pub kind: UnitKind,
    pub name: DisplayName,
    /// Index into [`ImportPlan::units`] (always earlier); `None` is the
    /// district the file is imported into.
    pub parent: Option<usize>,
    /// A community's police station, index into [`ImportPlan::units`].
    pub station: Option<usize>,
    pub scene: Option<Scene>,
    pub address: Option<String>,
    pub office_hours: Option<String>,
    /// A community's services (empty for other kinds).
    pub services: Vec<Service>,
}

#[derive(Debug, Clone)]
pub struct PlannedFirm {
    pub name: DisplayName,
    /// Streets, indices into [`ImportPlan::units`]; empty: the district.
    pub serves: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct PlannedRoom {
    pub unit: usize,
    pub name: DisplayName,
    pub address: Option<String>,
    pub opening_hours: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlannedStaff {
    pub username: Username,
    pub display_name: DisplayName,
    pub role: StaffRole,
    pub unit: usize,
    /// `None`: generate one and return it once.
    pub password: Option<StaffPassword>,
    /// Index into [`ImportPlan::firms`].
    pub firm: Option<usize>,
    /// Communities, indices into [`ImportPlan::units`].
    pub signs: Vec<usize>,
}

/// A checked file, units parents first.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub units: Vec<PlannedUnit>,
    pub firms: Vec<PlannedFirm>,
    pub rooms: Vec<PlannedRoom>,
    pub staff: Vec<PlannedStaff>,
}

/// A key as a problem's message echoes it: no key is longer than 64
/// characters, so a longer one is cut, not sent back whole.
fn shown(key: &str) -> String {
    match key.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &key[..at]),
        None => key.to_owned(),
    }
}

/// Free text of at most 128 characters; blank is absent.
fn optional_text(raw: &Option<String>) -> Result<Option<String>, String> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > 128 => Err("at most 128 characters".into()),
        Some(text) => Ok(Some(text.to_owned())),
    }
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
                format!("`{}` is also units[{first}]'s key", shown(key)),
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
    let mut scenes: HashMap<String, usize> = HashMap::new();
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
                    problems.add(
                        format!("units[{i}].parent"),
                        format!("unknown key `{}`", shown(key)),
                    );
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
                        format!("`{}` is not a police station", shown(key)),
                    );
                    None
                }
                None => {
                    problems.add(
                        format!("units[{i}].station"),
                        format!("unknown key `{}`", shown(key)),
                    );
                    None
                }
            },
        };
        let community = kind == UnitKind::Community;
        let scene = match (&unit.scene, community) {
            (None, _) => Some(None),
            (Some(_), false) => {
                problems.add(format!("units[{i}].scene"), "only a community has one");
                None
            }
            (Some(raw), true) => match Scene::parse(raw) {
                Err(e) => {
                    problems.add(format!("units[{i}].scene"), e.message);
                    None
                }
                Ok(scene) => match scenes.insert(scene.as_str().to_owned(), i) {
                    Some(first) => {
                        problems.add(
                            format!("units[{i}].scene"),
                            format!("also units[{first}]'s scene"),
                        );
                        None
                    }
                    None => Some(Some(scene)),
                },
            },
        };
        let services = match (&unit.services, community) {
            (None, true) => Some(Service::ALL.to_vec()),
            (None, false) => Some(Vec::new()),
            (Some(_), false) => {
                problems.add(format!("units[{i}].services"), "only a community has them");
                None
            }
            (Some(list), true) => {
                let parsed: Result<Vec<Service>, String> =
                    list.iter().map(|s| s.parse::<Service>()).collect();
                parsed
                    .map_err(|e| problems.add(format!("units[{i}].services"), e))
                    .ok()
            }
        };
        let address = optional_text(&unit.address)
            .map_err(|e| problems.add(format!("units[{i}].address"), e))
            .ok();
        let office_hours = optional_text(&unit.office_hours)
            .map_err(|e| problems.add(format!("units[{i}].office_hours"), e))
            .ok();
        if let (
            Some(name),
            Some(parent),
            Some(station),
            Some(scene),
            Some(services),
            Some(address),
            Some(office_hours),
        ) = (
            name,
            parent,
            station,
            scene,
            services,
            address,
            office_hours,
        ) {
            units.push((
                i,
                PlannedUnit {
                    index: i,
                    key: unit.key.trim().to_owned(),
                    kind,
                    name,
                    parent,
                    station,
                    scene,
                    address,
                    office_hours,
                    services,
                },
            ));
        }
    }

    // A unit's street (itself, or the street above it), by file index;
    // police stations have none.
    let street_of = |mut at: usize| -> Option<usize> {
        for _ in 0..4 {
            match kinds[at] {
                Some(UnitKind::Street) => return Some(at),
                Some(UnitKind::PoliceStation) | None => return None,
                _ => at = find(file.units[at].parent.as_deref()?)?,
            }
        }
        None
    };

    let mut firms = Vec::new();
    let mut firm_keys: HashMap<&str, usize> = HashMap::new();
    let mut served_by: Vec<Option<Vec<usize>>> = Vec::with_capacity(file.firms.len());
    for (i, firm) in file.firms.iter().enumerate() {
        let key = firm.key.trim();
        if key.is_empty() || key.chars().count() > 64 {
            problems.add(format!("firms[{i}].key"), "must be 1 to 64 characters");
        } else if let Some(first) = firm_keys.get(key) {
            problems.add(
                format!("firms[{i}].key"),
                format!("`{}` is also firms[{first}]'s key", shown(key)),
            );
        } else {
            firm_keys.insert(key, i);
        }
        let name = DisplayName::parse("name", &firm.name)
            .map_err(|e| problems.add(format!("firms[{i}].name"), e.message))
            .ok();
        let mut serves = Vec::new();
        for (j, street) in firm.serves.iter().enumerate() {
            match find(street) {
                Some(at) if kinds[at] == Some(UnitKind::Street) => serves.push(at),
                Some(_) => problems.add(
                    format!("firms[{i}].serves[{j}]"),
                    format!("`{}` is not a street", shown(street)),
                ),
                None => problems.add(
                    format!("firms[{i}].serves[{j}]"),
                    format!("unknown key `{}`", shown(street)),
                ),
            }
        }
        // A firm whose streets are wrong is reported once, not again for
        // each of its lawyers.
        served_by.push((serves.len() == firm.serves.len()).then(|| serves.clone()));
        if let Some(name) = name {
            firms.push(PlannedFirm { name, serves });
        }
    }

    let mut rooms = Vec::new();
    for (i, room) in file.rooms.iter().enumerate() {
        let unit = find(&room.unit);
        if unit.is_none() {
            problems.add(
                format!("rooms[{i}].unit"),
                format!("unknown key `{}`", shown(&room.unit)),
            );
        }
        let name = DisplayName::parse("name", &room.name)
            .map_err(|e| problems.add(format!("rooms[{i}].name"), e.message))
            .ok();
        let address = optional_text(&room.address)
            .map_err(|e| problems.add(format!("rooms[{i}].address"), e))
            .ok();
        let opening_hours = optional_text(&room.opening_hours)
            .map_err(|e| problems.add(format!("rooms[{i}].opening_hours"), e))
            .ok();
        if let (Some(unit), Some(name), Some(address), Some(opening_hours)) =
            (unit, name, address, opening_hours)
        {
            rooms.push(PlannedRoom {
                unit,
                name,
                address,
                opening_hours,
            });
        }
    }

    let mut staff = Vec::new();
    let mut usernames: HashMap<String, usize> = HashMap::new();
    let mut signed: HashMap<usize, usize> = HashMap::new();
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
                format!("unknown key `{}`", shown(&person.unit)),
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
        let lawyer = role == Some(StaffRole::Lawyer);
        let firm = match &person.firm {
            None => Some(None),
            Some(_) if !lawyer => {
                problems.add(format!("staff[{i}].firm"), "only a lawyer has one");
                None
            }
            Some(key) => match firm_keys.get(key.trim()) {
                None => {
                    problems.add(
                        format!("staff[{i}].firm"),
                        format!("unknown firm `{}`", shown(key)),
                    );
                    None
                }
                // A lawyer of one street in a firm serving others would be
                // offered consultations of streets they do not serve.
                Some(&f) => {
                    let street = unit.and_then(street_of);
                    let served = match &served_by[f] {
                        None => true,
                        Some(serves) => {
                            serves.is_empty()
                                || unit.is_none()
                                || street.is_some_and(|s| serves.contains(&s))
                        }
                    };
                    if served {
                        Some(Some(f))
                    } else {
                        problems.add(
                            format!("staff[{i}].firm"),
                            format!(
                                "`{}` does not serve the street of `{}`",
                                shown(key),
                                shown(&person.unit)
                            ),
                        );
                        None
                    }
                }
            },
        };
        let mut signs = Vec::new();
        if !person.signs.is_empty() && !lawyer {
            problems.add(
                format!("staff[{i}].signs"),
                "only a lawyer signs communities",
            );
        }
        for (j, community) in person.signs.iter().enumerate().filter(|_| lawyer) {
            match find(community) {
                Some(at) if kinds[at] == Some(UnitKind::Community) => match signed.insert(at, i) {
                    Some(first) => problems.add(
                        format!("staff[{i}].signs[{j}]"),
                        format!("`{}` is also staff[{first}]'s", shown(community)),
                    ),
                    None => signs.push(at),
                },
                Some(_) => problems.add(
                    format!("staff[{i}].signs[{j}]"),
                    format!("`{}` is not a community", shown(community)),
                ),
                None => problems.add(
                    format!("staff[{i}].signs[{j}]"),
                    format!("unknown key `{}`", shown(community)),
                ),
            }
        }
        if let (
            Some(username),
            Some(display_name),
            Some(role),
            Some(unit),
            Some(password),
            Some(firm),
        ) = (username, display_name, role, unit, password, firm)
        {
            staff.push(PlannedStaff {
                username,
                display_name,
                role,
                unit,
                password,
                firm,
                signs,
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
    for firm in &mut firms {
        for street in &mut firm.serves {
            *street = position[street];
        }
    }
    for room in &mut rooms {
        room.unit = position[&room.unit];
    }
    for person in &mut staff {
        person.unit = position[&person.unit];
        for community in &mut person.signs {
            *community = position[community];
        }
    }
    Ok(ImportPlan {
        units,
        firms,
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
            scene: None,
            address: None,
            office_hours: None,
            services: None,
        }
    }

    fn person(username: &str, role: &str, unit: &str) -> StaffEntry {
        StaffEntry {
            username: username.into(),
            display_name: username.into(),
            role: role.into(),
            unit: unit.into(),
            password: GENERATE.into(),
            firm: None,
            signs: Vec::new(),
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
        for s in 0..9 {
            file.firms.push(FirmEntry {
                key: format!("firm-{s}"),
                name: format!("第{s}律师事务所"),
                serves: vec![format!("street-{s}")],
            });
        }
        for c in 0..198 {
            let s = c / 22;
            let mut community = unit(
                &format!("community-{c}"),
                "community",
                Some(&format!("street-{s}")),
                Some(&format!("station-{s}")),
            );
            community.scene = Some(format!("c-{c:03}"));
            file.units.push(community);
            file.rooms.push(RoomEntry {
                unit: format!("community-{c}"),
                name: format!("第{c}调解室"),
                address: None,
                opening_hours: Some("周一至周五 09:00–17:00".into()),
            });
        }
        let roles = ["lawyer", "mediator", "officer", "coordinator"];
        for p in 0..700 {
            let role = roles[p % roles.len()];
            // The k-th lawyer is the signed lawyer of community k, in its
            // street's firm (175 lawyers: communities 175.. have none).
            let lawyer = p / 4;
            let home = match role {
                "officer" => format!("station-{}", p % 9),
                "coordinator" => format!("street-{}", p % 9),
                "lawyer" => format!("street-{}", lawyer / 22),
                _ => format!("community-{}", p % 198),
            };
            let mut entry = person(&format!("staff.{p:04}"), role, &home);
            if role == "lawyer" {
                entry.firm = Some(format!("firm-{}", lawyer / 22));
                entry.signs = vec![format!("community-{lawyer}")];
            }
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
            firms: vec![],
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
    fn firms_signings_scenes_and_services_are_checked_against_the_tree() {
        let mut file = district();
        // staff.0000 is lawyer 0 of street-0; firm-3 serves street-3 only.
        file.staff[0].firm = Some("firm-3".into());
        // Lawyer 1 signs community 0 too, and a street.
        file.staff[4].signs = vec!["community-0".into(), "street-1".into()];
        // A mediator can neither be in a firm nor sign.
        file.staff[1].firm = Some("firm-0".into());
        file.staff[1].signs = vec!["community-3".into()];
        file.units[30].scene = file.units[27].scene.clone();
        file.units[0].services = Some(vec!["tip".into()]);
        file.units[31].services = Some(vec!["haircut".into()]);
        file.firms[2].serves = vec!["station-2".into()];
        let errors = validate(&file).expect_err("invalid");
        let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(
            at,
            vec![
                "units[0].services",
                "units[30].scene",
                "units[31].services",
                "firms[2].serves[0]",
                "staff[0].firm",
                "staff[1].firm",
                "staff[1].signs",
                "staff[4].signs[0]",
                "staff[4].signs[1]",
            ]
        );
        assert!(errors[4].message.contains("does not serve"), "{errors:?}");
        assert!(errors[7].message.contains("staff[0]"), "{errors:?}");
    }

    #[test]
    fn a_plan_carries_firms_signings_and_community_defaults() {
        let plan = validate(&district()).expect("valid");
        assert_eq!(plan.firms.len(), 9);
        let lawyers: Vec<&PlannedStaff> = plan
            .staff
            .iter()
            .filter(|s| s.role == StaffRole::Lawyer)
            .collect();
        assert_eq!(lawyers.len(), 175);
        for lawyer in &lawyers {
            let firm = &plan.firms[lawyer.firm.expect("in a firm")];
            assert_eq!(plan.units[firm.serves[0]].kind, UnitKind::Street);
            assert_eq!(plan.units[lawyer.signs[0]].kind, UnitKind::Community);
        }
        let community = plan
            .units
            .iter()
            .find(|u| u.key == "community-150")
            .expect("planned");
        assert_eq!(community.services, Service::ALL.to_vec());
        assert_eq!(community.scene.as_ref().map(|s| s.as_str()), Some("c-150"));
        let street = plan.units.iter().find(|u| u.key == "street-0").unwrap();
        assert!(street.services.is_empty());
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
