//! What the three case-file handlers share: the `format` parameter, the
//! cover (number, unit, category name, dates, handler) and the answer in
//! JSON, HTML or PDF. Each handler decides who may read the case and what
//! they see (masked or unmasked parties), then builds its sections; the
//! model and both renderings are `sansuo-casefile`.

use crate::{ApiError, AppState};
use actix_web::HttpResponse;
use chrono::Utc;
use sansuo_casefile::{
    CaseFile, CaseFileEvent, CaseFileParty, CaseFileSection, labels, number, time,
};
use sansuo_domain::OrgUnitId;
use sansuo_store::records::CaseRecord;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseFileQuery {
    /// `json` (default), `html` (a printable page) or `pdf`.
    #[param(pattern = "^(json|html|pdf)$")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Pdf,
}

impl CaseFileQuery {
    pub fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(Format::Json),
            Some("html") => Ok(Format::Html),
            Some("pdf") => Ok(Format::Pdf),
            Some(other) => Err(ApiError::bad_parameter(format!(
                "format `{other}`: use json, html or pdf"
            ))),
        }
    }
}

/// One event as the handlers' views carry it.
pub struct Event<'a> {
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub actor: &'a str,
    pub note: Option<&'a str>,
    pub at: chrono::DateTime<Utc>,
}

/// The parts a handler brings.
pub struct Parts<'a> {
    pub case: &'a CaseRecord,
    /// `consultation`, `mediation`, `tip`.
    pub service: &'static str,
    pub status: &'a str,
    pub handler: Option<String>,
    pub parties: Vec<CaseFileParty>,
    pub parties_unmasked: bool,
    pub sections: Vec<CaseFileSection>,
    pub events: Vec<Event<'a>>,
}

/// The case's number: given the first time any file of the case is
/// produced, and read back ever after (`store::case_numbers`).
///
/// Why not at registration: cases are registered by many paths (the app,
/// Open311, a QR code, in person, conversions from another service) and
/// most never reach the archive within days of it; numbering when the file
/// is first produced keeps one code path for all three services and gives
/// numbers only to cases that are filed. The year in the number is still
/// the Beijing year of registration, so a file produced in January for a
/// December case is numbered with the cases of its own year.
async fn case_number(
    state: &AppState,
    case: &CaseRecord,
    service: &'static str,
) -> Result<(String, String), ApiError> {
    let numbers = state.store.case_numbers();
    if let Some(found) = numbers.get(case.id.into()).await? {
        // The unit that numbered it, even if another unit numbers the
        // community's cases now.
        let name = state
            .store
            .org()
            .unit(OrgUnitId::from(found.unit_id))
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        return Ok((found.number, name));
    }
    let unit = numbers
        .numbering_unit(OrgUnitId::from(case.community_id))
        .await?;
    let pattern = unit
        .pattern
        .clone()
        .unwrap_or_else(|| number::DEFAULT_PATTERN.to_owned());
    let year = time::year(case.created_at);
    let kind = labels::service_kind(service);
    let assigned = numbers
        .assign(case.id.into(), unit.id, service, year, Utc::now(), |n| {
            number::render(&pattern, year, &unit.name, kind, n)
        })
        .await?;
    Ok((assigned.number, unit.name))
}

/// The whole file.
pub async fn build(state: &AppState, parts: Parts<'_>) -> Result<CaseFile, ApiError> {
    let case = parts.case;
    let service = parts.service;
    let (number, unit) = case_number(state, case, service).await?;
    let category = state
        .store
        .catalog()
        .any_category(&case.category_code)
        .await?;
    let category_name = category
        .map(|c| c.name_zh)
        .unwrap_or_else(|| case.category_code.clone());
    let community = state
        .store
        .org()
        .unit(OrgUnitId::from(case.community_id))
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let case_name = match service {
        "mediation" => format!("{category_name}纠纷"),
        "consultation" => format!("{category_name}咨询"),
        _ => format!("{category_name}线索"),
    };
    let events = parts
        .events
        .iter()
        .map(|e| CaseFileEvent {
            at: time::datetime(e.at),
            action: e.action.to_owned(),
            label: labels::action_name(service, e.action),
            from_status: e.from_status.map(str::to_owned),
            to_status: e.to_status.to_owned(),
            to_status_name: labels::status_name(service, e.to_status),
            actor: labels::actor_name(e.actor),
            note: e.note.map(str::to_owned),
        })
        .collect();
    Ok(CaseFile {
        service: service.to_owned(),
        service_name: labels::service_name(service).to_owned(),
        title: labels::file_title(service).to_owned(),
        number,
        unit,
        community,
        case_id: case.id,
        case_name,
        category_code: case.category_code.clone(),
        category_name,
        status: parts.status.to_owned(),
        status_name: labels::status_name(service, parts.status),
        registered_at: time::datetime(case.created_at),
        closed_at: case.closed_at.map(time::datetime),
        handler: parts.handler,
        parties_unmasked: parts.parties_unmasked,
        parties: parts.parties,
        sections: parts.sections,
        events,
        exported_at: time::datetime(Utc::now()),
    })
}

/// The answer in the format asked for.
pub fn respond(file: &CaseFile, format: Format) -> Result<HttpResponse, ApiError> {
    // A file with `file.parties_unmasked` was audited where its parties
    // were opened (`crate::audit`): the mediation's parties as
    // `case_file_parties`, an in-person asker as `intake_resident`, each row
    // naming this file's operation; a tip's file opens nobody.
    tracing::info!(case_id = %file.case_id, service = %file.service, unmasked = file.parties_unmasked, "case file exported");
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(file),
        Format::Html => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(sansuo_casefile::html::render(file)),
        Format::Pdf => {
            let bytes = sansuo_casefile::pdf::render(file).map_err(ApiError::internal)?;
            HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((
                    "Content-Disposition",
                    format!("inline; filename=\"case-file-{}.pdf\"", file.case_id),
                ))
                .body(bytes)
        }
    })
}

/// A section builder with the `Option` rows most sections have.
pub fn section(title: &str) -> CaseFileSection {
    CaseFileSection::new(title)
}
