//! The HTTP JSON API of sansuo.
//!
//! One handler per file under `handlers/`, named by its verb; every route is
//! wired once in [`routes`], which feeds both the server and the OpenAPI
//! document (so the spec cannot miss an endpoint). One error type,
//! [`ApiError`], gives every failure a stable code and an explicit status.

pub mod audit;
pub mod auth;
mod case_file;
pub mod error;
mod extract;
mod handlers;
pub mod middleware;
mod moderation;
mod openapi;
mod pagination;
mod qr;
mod report_files;
#[cfg(test)]
mod row_boundary;
mod scoped;
mod staff_stream;
mod state;
pub mod throttle;
pub mod views;
#[cfg(test)]
mod write_limits;

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use openapi::{ApiDoc, openapi};
pub use staff_stream::StaffEventPulse;
pub use state::{ApiConfig, AppState, RouteSoon};

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

/// The largest JSON body accepted. A question is at most 2000 characters
/// (about 6 KiB of UTF-8); anything near this limit is not a real client.
pub const MAX_JSON_BODY: usize = 32 * 1024;

/// Every endpoint, wired in one place.
pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(auth::wechat_login::wechat_login)
                .service(auth::demo_login::demo_login)
                .service(auth::staff_login::staff_login)
                .service(auth::refresh::refresh)
                .service(auth::logout::logout)
                .service(auth::password::change_password)
                .service(auth::password::reset_password)
                .service(communities::by_scene::community_by_scene)
                .service(residents::me::me)
                .service(residents::data_views::my_data_views)
                .service(residents::delete::delete_me)
                .service(residents::bind_phone::bind_phone)
                .service(residents::templates::list_templates)
                .service(residents::subscribe::subscribe)
                .service(wechat::push_verify::push_verify)
                .service(wechat::push_receive::push_receive)
                .service(tips::photos::media_check_photo)
                .service(categories::list::list_categories)
                .service(receipts::public_key::receipt_public_key)
                .service(consultations::create::create_consultation)
                .service(consultations::list::list_consultations)
                .service(consultations::get::get_consultation)
                .service(consultations::follow_up::post_follow_up)
                .service(consultations::rate::rate_consultation)
                .service(consultations::withdraw::withdraw_consultation)
                .service(consultations::reopen::reopen_consultation)
                .service(urges::consultation::urge_consultation)
                .service(consultations::conversion::accept_conversion)
                .service(consultations::conversion::refuse_conversion)
                .service(mediations::apply::apply_mediation)
                .service(mediations::list::list_my_mediations)
                .service(mediations::get::get_mediation)
                .service(mediations::messages::post_mediation_message)
                .service(mediations::withdraw::withdraw_mediation)
                .service(mediations::attendance::confirm_attendance)
                .service(mediations::rate::rate_mediation)
                .service(mediations::visit_answer::answer_visit)
                .service(mediations::case_file::case_file)
                .service(mediations::staff_list::list_staff_mediations)
                .service(mediations::my_sessions::my_sessions)
                .service(mediations::staff::get_staff_mediation)
                .service(mediations::staff_message::post_staff_mediation_message)
                .service(mediations::staff::accept_mediation)
                .service(mediations::staff::decline_mediation)
                .service(mediations::staff::refuse_mediation)
                .service(mediations::staff::book_session)
                .service(mediations::staff::cancel_session)
                .service(mediations::reschedule::reschedule_session)
                .service(mediations::outcome::session_held)
                .service(mediations::outcome::record_agreement)
                .service(mediations::outcome::terminate)
                .service(mediations::outcome::record_confirmation)
                .service(mediations::outcome::record_visit)
                .service(mediations::outcome::close)
                .service(mediations::outcome::escalate)
                .service(mediations::hand_back::hand_back_mediation)
                .service(mediations::outcome::flag_public_order_risk)
                .service(mediations::reopen::reopen_mediation)
                .service(urges::mediation::urge_mediation)
                .service(mediations::rooms::list_staff_rooms)
                .service(mediations::rooms::room_free_slots)
                // `tracked` and `similar` before `{id}`: they are not ids.
                .service(tips::report::report_tip)
                .service(tips::report::report_tip_with_photos)
                .service(tips::resident::list_my_tips)
                .service(tips::resident::similar_tips)
                .service(tips::tracked::get_tracked_tip)
                .service(tips::tracked::follow_up_tracked_tip)
                .service(urges::tip::urge_tracked_tip)
                .service(tips::photos::upload_tracked_tip_photos)
                .service(tips::photos::tracked_tip_photo)
                .service(tips::resident::get_my_tip)
                .service(tips::resident::follow_up_my_tip)
                .service(tips::resident::me_too)
                .service(urges::tip::urge_my_tip)
                .service(tips::photos::upload_my_tip_photos)
                .service(tips::photos::my_tip_photo)
                .service(tips::staff::triage_board)
                .service(tips::staff::get_staff_tip)
                .service(tips::staff::similar_to_tip)
                .service(tips::case_file::tip_case_file)
                .service(tips::staff::acknowledge_tip)
                .service(tips::staff::decline_tip)
                .service(tips::hand_back::hand_back_tip)
                .service(tips::staff::message_tip)
                .service(tips::photos::staff_tip_photo)
                .service(tips::triage::triage_tip)
                .service(tips::triage::verify_tip)
                .service(tips::triage::action_tip)
                .service(tips::triage::close_tip)
                .service(tips::triage::mark_duplicate)
                .service(tips::triage::convert_tip)
                .service(staff::me::me)
                .service(canned_replies::list::list_canned_replies)
                .service(canned_replies::create_own::create_own_canned_reply)
                .service(canned_replies::delete_own::delete_own_canned_reply)
                .service(staff::duty_shifts::staff_duty_shifts)
                .service(staff::wechat::bind_wechat)
                .service(staff::wechat::unbind_wechat)
                .service(staff::subscribe::list_staff_templates)
                .service(staff::subscribe::subscribe_staff)
                .service(staff::events::staff_events)
                .service(staff::list_offers::list_offers)
                .service(staff::accept_offer::accept_offer)
                .service(staff::decline_offer::decline_offer)
                .service(staff::list_consultations::list_staff_consultations)
                .service(staff::get_consultation::get_staff_consultation)
                .service(staff::case_file::consultation_case_file)
                .service(staff::claim::claim_consultation)
                .service(staff::post_message::post_staff_message)
                .service(staff::resolve::resolve_consultation)
                .service(staff::set_presence::set_presence)
                .service(staff::next_case::next_case)
                .service(staff::hand_back::hand_back)
                .service(extensions::consultation::request_consultation_extension)
                .service(extensions::mediation::request_mediation_extension)
                .service(extensions::tip::request_tip_extension)
                .service(staff::convert::convert_consultation)
                .service(intake::consultation::intake_consultation)
                .service(intake::mediation::intake_mediation)
                .service(admin::create_org_unit::create_org_unit)
                .service(admin::list_org_units::list_org_units)
                .service(admin::update_org_unit::update_org_unit)
                .service(admin::create_staff::create_staff)
                .service(admin::update_staff::update_staff)
                .service(admin::list_staff::list_staff)
                .service(admin::add_shift::add_shift)
                .service(admin::list_shifts::list_shifts)
                .service(admin::delete_shift::delete_shift)
                .service(canned_replies::create_shared::create_shared_canned_reply)
                .service(canned_replies::delete_shared::delete_shared_canned_reply)
                .service(admin::duty_rotas::put_rota)
                .service(admin::duty_rotas::get_rota)
                .service(admin::duty_rotas::delete_rota)
                .service(admin::duty_rotas::preview_rota)
                .service(admin::duty_rotas::list_rotas)
                .service(admin::create_room::create_room)
                .service(admin::list_rooms::list_rooms)
                .service(admin::update_room::update_room)
                .service(admin::law_firms::create_law_firm)
                .service(admin::law_firms::list_law_firms)
                .service(admin::law_firms::sign_law_firm)
                .service(admin::law_firms::end_law_firm_signing)
                .service(admin::lawyer_signings::sign_lawyer)
                .service(admin::lawyer_signings::end_lawyer_signing)
                .service(admin::lawyer_signings::list_lawyer_signings)
                .service(admin::import_calendar::import_calendar)
                .service(admin::import_district::import_district)
                .service(admin::set_calendar_day::set_calendar_day)
                .service(admin::delete_calendar_day::delete_calendar_day)
                .service(admin::list_calendar::list_calendar)
                .service(admin::list_held::list_held)
                .service(admin::decide_held::decide_held)
                .service(admin::community_qrcode::community_qrcode)
                .service(admin::generate_qrcodes::generate_qrcodes)
                .service(admin::cases::list_unrouted)
                .service(admin::cases::reassign_case)
                .service(admin::cases::reopen_case)
                .service(urges::admin::urge_case)
                // `supervised` and `overdue` are not ids: before `{id}` paths.
                .service(supervision::list::list_supervised)
                .service(supervision::overdue::list_overdue)
                .service(supervision::supervise::supervise_case)
                .service(supervision::lift::lift_supervision)
                .service(extensions::list::list_pending_extensions)
                .service(extensions::grant::grant_extension)
                .service(extensions::refuse::refuse_extension)
                .service(admin::workflows::list_workflows)
                .service(admin::workflows::update_workflow)
                .service(admin::categories::list_admin_categories)
                .service(admin::categories::update_category)
                .service(admin::stats_live::stats_live)
                .service(admin::stats_summary::stats_summary)
                .service(admin::integrity::check_integrity)
                .service(admin::mediation_report::mediation_report)
                .service(admin::monthly_report::monthly_report)
                .service(admin::list_mediations::list_mediations)
                .service(admin::personal_data_views::list_personal_data_views)
                // Open311 GeoReport v2 over tips: the keys (admins), then the
                // endpoint itself, outside `/api/v1` at the specification's
                // paths; anything else under `/open311` is its 404, in XML.
                .service(admin::open311_keys::issue_open311_key)
                .service(admin::open311_keys::list_open311_keys)
                .service(admin::open311_keys::revoke_open311_key)
                .wrap(actix_web::middleware::from_fn(middleware::authenticate)),
        )
        .service(
            utoipa_actix_web::scope("/open311")
                .service(open311::discovery::discovery)
                .service(open311::services::list_services)
                .service(open311::services::get_service_definition)
                .service(open311::requests::list_requests)
                .service(open311::requests::create_request)
                .service(open311::requests::get_request)
                .service(open311::tokens::get_token)
                .default_service(web::to(open311::not_found)),
        );
}

async fn docs_with_slash() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// Mount the API on an actix app: state, body limits with JSON errors, the
/// routes, the spec and the offline docs page, and a JSON 404 for the rest
/// (405 with `Allow` for a known path and another method).
pub fn mount(cfg: &mut web::ServiceConfig, state: AppState, spec: utoipa::openapi::OpenApi) {
    let known_paths = handlers::KnownPaths::from_spec(&spec);
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(known_paths))
        .app_data(extract::json_config())
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        // Before the routes: the `/api/v1` scope would otherwise claim
        // `/api/v1/openapi.json` and answer 404 for it.
        // `/docs` (no slash) is what people type; the page lives at `/docs/`.
        .route("/docs", web::get().to(docs_with_slash))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .url("/api/v1/openapi.json", spec)
                // Swagger UI otherwise sends the document to an external
                // validator whenever the page is opened under a host name
                // other than localhost: the docs must work offline, and the
                // document stays on this server.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .configure(|c| routes(&mut ServiceConfig::new(c)))
        .default_service(web::to(handlers::not_found));
}
