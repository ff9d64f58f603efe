//! The category catalogue: what residents can ask about, and how each
//! kind of case is handled. Checked in as data (`data/categories.json`),
//! validated here, so every category reaches the right person first time.
//!
//! Named **workflows** hold a service, its SLA targets and its escalation
//! ladder; a top-level **category** lists the workflows it accepts and its
//! defaults (priority, anonymity, urgency); its **sub-items** inherit
//! everything they do not override.

use crate::actor::StaffRole;
use crate::dispatch::LadderStep;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The three services of the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Consultation,
    Mediation,
    Tip,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Consultation, Service::Mediation, Service::Tip];

    /// The name stored in `cases.service` (`const`: the store names its
    /// service constants with it).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Service::Consultation => "consultation",
            Service::Mediation => "mediation",
            Service::Tip => "tip",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|service| service.as_str() == s)
            .ok_or_else(|| format!("unknown service `{s}`"))
    }
}

/// Response-time targets, in business minutes (see `calendar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    pub accept_minutes: i64,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub service: Service,
    pub sla: SlaTargets,
    pub ladder: Vec<LadderStep>,
}

/// A category as written in the file: sub-items omit what they inherit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_allowed: Option<bool>,
    /// An emergency: the API tells the resident to call 110 and queues nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<bool>,
    /// Its tips are listed publicly through Open311 (`GET requests`), with
    /// no reporter data, no free text and a coarsened place. Only for
    /// matters of public concern (hazards, nuisances): never personal ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open311_public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflows: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<CategoryEntry>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub version: u32,
    pub workflows: BTreeMap<String, Workflow>,
    pub categories: Vec<CategoryEntry>,
}

/// A category with everything resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub parent: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub priority: i32,
    pub anonymous_allowed: bool,
    pub urgent: bool,
    /// Its tips appear in Open311's public `GET requests` (default false).
    pub open311_public: bool,
    /// Workflow names, at most one per service.
    pub workflows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error(
        "category code `{0}` must be two capital letters, or those and two digits for a sub-item"
    )]
    BadCode(String),
    #[error("sub-item `{0}` must start with its parent's code `{1}`")]
    NotUnderParent(String, String),
    #[error("category code `{0}` appears twice")]
    Duplicate(String),
    #[error("category `{0}` uses the unknown workflow `{1}`")]
    UnknownWorkflow(String, String),
    #[error("category `{0}` has two workflows for {1}")]
    TwoWorkflowsForOneService(String, Service),
    #[error("top-level category `{0}` must list its workflows")]
    NoWorkflows(String),
    #[error("workflow `{0}`: {1}")]
    BadWorkflow(String, String),
}

impl CatalogFile {
    /// Flatten, inherit and validate: parents first, then their sub-items.
    pub fn resolve(&self) -> Result<Vec<Category>, CatalogError> {
        for (name, workflow) in &self.workflows {
            validate_workflow(name, workflow)?;
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for top in &self.categories {
            if !is_code(&top.code, 2) {
                return Err(CatalogError::BadCode(top.code.clone()));
            }
            let workflows = top
                .workflows
                .clone()
                .ok_or_else(|| CatalogError::NoWorkflows(top.code.clone()))?;
            let parent = Category {
                code: top.code.clone(),
                parent: None,
                name_zh: top.name_zh.clone(),
                name_en: top.name_en.clone(),
                priority: top.priority.unwrap_or(0),
                anonymous_allowed: top.anonymous_allowed.unwrap_or(false),
                urgent: top.urgent.unwrap_or(false),
                open311_public: top.open311_public.unwrap_or(false),
                workflows,
            };
            self.check(&parent, &mut seen)?;
            for item in &top.items {
                if !is_code(&item.code, 4) {
                    return Err(CatalogError::BadCode(item.code.clone()));
                }
                if !item.code.starts_with(&top.code) {
                    return Err(CatalogError::NotUnderParent(
                        item.code.clone(),
                        top.code.clone(),
                    ));
                }
                if !item.items.is_empty() {
                    return Err(CatalogError::BadCode(format!(
                        "{} (sub-items have no sub-items)",
                        item.code
                    )));
                }
                let child = Category {
                    code: item.code.clone(),
                    parent: Some(top.code.clone()),
                    name_zh: item.name_zh.clone(),
                    name_en: item.name_en.clone(),
                    priority: item.priority.unwrap_or(parent.priority),
                    anonymous_allowed: item.anonymous_allowed.unwrap_or(parent.anonymous_allowed),
                    urgent: item.urgent.unwrap_or(parent.urgent),
                    open311_public: item.open311_public.unwrap_or(parent.open311_public),
                    workflows: item
                        .workflows
                        .clone()
                        .unwrap_or_else(|| parent.workflows.clone()),
                };
                self.check(&child, &mut seen)?;
                out.push(child);
            }
            // Parents before their children.
            let at = out.len() - top.items.len();
            out.insert(at, parent);
        }
        Ok(out)
    }

    fn check(&self, category: &Category, seen: &mut BTreeSet<String>) -> Result<(), CatalogError> {
        if !seen.insert(category.code.clone()) {
            return Err(CatalogError::Duplicate(category.code.clone()));
        }
        let mut services = BTreeSet::new();
        for name in &category.workflows {
            let workflow = self.workflows.get(name).ok_or_else(|| {
                CatalogError::UnknownWorkflow(category.code.clone(), name.clone())
            })?;
            if !services.insert(workflow.service) {
                return Err(CatalogError::TwoWorkflowsForOneService(
                    category.code.clone(),
                    workflow.service,
                ));
            }
        }
        Ok(())
    }

    /// The services a resolved category accepts.
    pub fn services_of(&self, category: &Category) -> Vec<Service> {
        let mut services: Vec<Service> = category
            .workflows
            .iter()
            .filter_map(|w| self.workflows.get(w))
            .map(|w| w.service)
            .collect();
        services.sort();
        services
    }

    /// The workflow a category uses for a service.
    pub fn workflow_for(&self, category: &Category, service: Service) -> Option<(&str, &Workflow)> {
        category
            .workflows
            .iter()
            .filter_map(|name| self.workflows.get_key_value(name))
            .find(|(_, w)| w.service == service)
            .map(|(name, w)| (name.as_str(), w))
    }
}

fn is_code(code: &str, len: usize) -> bool {
    code.len() == len
        && code[..2].chars().all(|c| c.is_ascii_uppercase())
        && code[2..].chars().all(|c| c.is_ascii_digit())
}

/// The rules every workflow obeys, whether from the file or the admin API.
pub fn validate_workflow(name: &str, workflow: &Workflow) -> Result<(), CatalogError> {
    let bad = |why: &str| Err(CatalogError::BadWorkflow(name.to_owned(), why.to_owned()));
    if workflow.ladder.is_empty() {
        return bad("the ladder has no steps");
    }
    if workflow
        .ladder
        .iter()
        .any(|s| s.timeout() <= chrono::Duration::zero())
    {
        return bad("every step needs a positive timeout");
    }
    if workflow
        .ladder
        .iter()
        .any(|s| s.signed_lawyer_only && s.role != StaffRole::Lawyer)
    {
        return bad("only lawyer steps can be limited to the signed lawyer");
    }
    let sla = workflow.sla;
    if sla.accept_minutes <= 0
        || sla.first_response_minutes < sla.accept_minutes
        || sla.resolution_minutes < sla.first_response_minutes
    {
        return bad("SLA targets must be positive and accept ≤ first response ≤ resolution");
    }
    Ok(())
}

impl Service {
    /// The service a stored name stands for (`None` for a name we do not know).
    pub fn parse(name: &str) -> Option<Service> {
        match name.trim() {
            "consultation" => Some(Service::Consultation),
            "mediation" => Some(Service::Mediation),
            "tip" => Some(Service::Tip),
            _ => None,
        }
    }
}

/// Why a request naming a category for a service is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryRefusal {
    /// No such (active) category: the request names nothing (404).
    Unknown,
    /// Happening now: nothing is recorded, the client says "call 110" (422).
    Emergency,
    /// The category exists but does not take this service (422): the
    /// client chose from the catalogue and chose wrongly, which is not a
    /// missing resource.
    NotOffered,
}

/// What a request needs to know of the category it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryTerms<'a> {
    pub urgent: bool,
    pub services: &'a [Service],
}

/// "Does this category take this service?", the one rule for consultations,
/// mediations and tips alike. An urgent category is refused before anything
/// else (no request about something happening now is queued), then the
/// category must list the service.
pub fn admits(
    category: Option<CategoryTerms<'_>>,
    service: Service,
) -> Result<(), CategoryRefusal> {
    let category = category.ok_or(CategoryRefusal::Unknown)?;
    if category.urgent {
        Err(CategoryRefusal::Emergency)
    } else if !category.services.contains(&service) {
        Err(CategoryRefusal::NotOffered)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn admits_refuses_unknown_then_urgent_then_not_offered() {
        use Service::*;
        fn terms(urgent: bool, services: &[Service]) -> Option<CategoryTerms<'_>> {
            Some(CategoryTerms { urgent, services })
        }
        for service in [Consultation, Mediation, Tip] {
            assert_eq!(admits(None, service), Err(CategoryRefusal::Unknown));
            // Urgent wins, whatever the category takes.
            assert_eq!(
                admits(terms(true, &[Consultation, Mediation, Tip]), service),
                Err(CategoryRefusal::Emergency)
            );
            assert_eq!(
                admits(terms(false, &[]), service),
                Err(CategoryRefusal::NotOffered)
            );
            assert_eq!(admits(terms(false, &[service]), service), Ok(()));
        }
        assert_eq!(
            admits(terms(false, &[Tip]), Mediation),
            Err(CategoryRefusal::NotOffered)
        );
        assert_eq!(Service::parse(" mediation"), Some(Mediation));
        assert_eq!(Service::parse("visit"), None);
    }

    use super::*;
    use crate::dispatch::ScopeLevel;

    fn workflow(service: Service) -> Workflow {
        Workflow {
            service,
            sla: SlaTargets {
                accept_minutes: 60,
                first_response_minutes: 120,
                resolution_minutes: 600,
            },
            ladder: vec![LadderStep {
                role: StaffRole::Lawyer,
                level: ScopeLevel::Community,
                timeout_minutes: 30,
                timeout_seconds: None,
                priority_boost: 0,
                skip_when_nobody: true,
                on_duty_only: false,
                signed_lawyer_only: true,
            }],
        }
    }

    fn entry(code: &str, workflows: Option<Vec<&str>>, items: Vec<CategoryEntry>) -> CategoryEntry {
        CategoryEntry {
            code: code.into(),
            name_zh: "名".into(),
            name_en: "name".into(),
            priority: None,
            anonymous_allowed: None,
            urgent: None,
            open311_public: None,
            workflows: workflows.map(|w| w.into_iter().map(str::to_owned).collect()),
            items,
        }
    }

    fn file(categories: Vec<CategoryEntry>) -> CatalogFile {
        CatalogFile {
            version: 1,
            workflows: BTreeMap::from([
                ("ask".to_owned(), workflow(Service::Consultation)),
                ("ask2".to_owned(), workflow(Service::Consultation)),
                ("mediate".to_owned(), workflow(Service::Mediation)),
            ]),
            categories,
        }
    }

    #[test]
    fn sub_items_inherit_and_may_override() {
        let mut urgent = entry("LJ02", Some(vec!["mediate"]), vec![]);
        urgent.urgent = Some(true);
        let mut top = entry(
            "LJ",
            Some(vec!["ask", "mediate"]),
            vec![entry("LJ01", None, vec![]), urgent],
        );
        top.priority = Some(2);
        top.anonymous_allowed = Some(true);
        let resolved = file(vec![top]).resolve().unwrap();
        let codes: Vec<&str> = resolved.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["LJ", "LJ01", "LJ02"]);
        assert_eq!(resolved[1].parent.as_deref(), Some("LJ"));
        assert_eq!(
            (
                resolved[1].priority,
                resolved[1].anonymous_allowed,
                resolved[1].urgent
            ),
            (2, true, false)
        );
        assert_eq!(resolved[1].workflows, ["ask", "mediate"]);
        assert!(resolved[2].urgent);
        assert_eq!(resolved[2].workflows, ["mediate"]);
        let f = file(vec![]);
        assert_eq!(
            f.services_of(&resolved[0]),
            vec![Service::Consultation, Service::Mediation]
        );
    }

    #[test]
    fn open311_public_is_inherited_and_may_be_withdrawn_per_item() {
        let mut drugs = entry("AQ09", None, vec![]);
        drugs.open311_public = Some(false);
        let mut hazards = entry(
            "AQ",
            Some(vec!["ask"]),
            vec![entry("AQ01", None, vec![]), drugs],
        );
        hazards.open311_public = Some(true);
        let mut noise = entry("ZA05", None, vec![]);
        noise.open311_public = Some(true);
        let disputes = entry(
            "ZA",
            Some(vec!["ask"]),
            vec![entry("ZA01", None, vec![]), noise],
        );
        let resolved = file(vec![hazards, disputes]).resolve().unwrap();
        let public: Vec<&str> = resolved
            .iter()
            .filter(|c| c.open311_public)
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(public, ["AQ", "AQ01", "ZA05"]);
    }

    #[test]
    fn open311_public_defaults_to_false_and_round_trips() {
        let parsed: CategoryEntry = serde_json::from_str(
            r#"{"code": "LJ", "name_zh": "名", "name_en": "n", "workflows": ["ask"]}"#,
        )
        .unwrap();
        assert_eq!(parsed.open311_public, None);
        assert!(!file(vec![parsed.clone()]).resolve().unwrap()[0].open311_public);
        // Left out when unset, so the file's other entries are unchanged.
        assert!(!serde_json::to_string(&parsed).unwrap().contains("open311"));
        let mut public = parsed;
        public.open311_public = Some(true);
        let text = serde_json::to_string(&public).unwrap();
        assert!(text.contains(r#""open311_public":true"#));
        assert_eq!(
            serde_json::from_str::<CategoryEntry>(&text).unwrap(),
            public
        );
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let cases: Vec<(CatalogFile, CatalogError)> = vec![
            (
                file(vec![entry("lj", Some(vec!["ask"]), vec![])]),
                CatalogError::BadCode("lj".into()),
            ),
            (
                file(vec![entry(
                    "LJ",
                    Some(vec!["ask"]),
                    vec![entry("HY01", None, vec![])],
                )]),
                CatalogError::NotUnderParent("HY01".into(), "LJ".into()),
            ),
            (
                file(vec![entry(
                    "LJ",
                    Some(vec!["ask"]),
                    vec![entry("LJ01", None, vec![]), entry("LJ01", None, vec![])],
                )]),
                CatalogError::Duplicate("LJ01".into()),
            ),
            (
                file(vec![entry("LJ", Some(vec!["nope"]), vec![])]),
                CatalogError::UnknownWorkflow("LJ".into(), "nope".into()),
            ),
            (
                file(vec![entry("LJ", Some(vec!["ask", "ask2"]), vec![])]),
                CatalogError::TwoWorkflowsForOneService("LJ".into(), Service::Consultation),
            ),
            (
                file(vec![entry("LJ", None, vec![])]),
                CatalogError::NoWorkflows("LJ".into()),
            ),
        ];
        for (f, want) in cases {
            assert_eq!(f.resolve(), Err(want));
        }
        let mut broken = file(vec![entry("LJ", Some(vec!["ask"]), vec![])]);
        broken.workflows.get_mut("ask").unwrap().ladder.clear();
        assert!(matches!(
            broken.resolve(),
            Err(CatalogError::BadWorkflow(_, _))
        ));
        let mut bad_sla = file(vec![]);
        bad_sla
            .workflows
            .get_mut("ask")
            .unwrap()
            .sla
            .resolution_minutes = 1;
        assert!(matches!(
            bad_sla.resolve(),
            Err(CatalogError::BadWorkflow(_, _))
        ));
    }
}
