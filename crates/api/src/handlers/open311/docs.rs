//! The JSON shapes of the GeoReport v2 documents, for the OpenAPI document
//! only (the `sansuo-open311` crate renders them; it knows no utoipa). The
//! XML renderings carry the same fields under the specification's root
//! elements: `<discovery>`, `<services><service>`, `<service_definition>`,
//! `<service_requests><request>`, `<errors><error>`.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// One entry of the specification's error list.
#[derive(Serialize, ToSchema)]
pub struct Open311ErrorDoc {
    /// The HTTP status of the response: 400, 403 or 404 (500 for our faults).
    #[schema(example = 400)]
    pub code: u16,
    #[schema(example = "service_code was not provided")]
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct DiscoveryDoc {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<EndpointDoc>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointDoc {
    #[schema(example = "http://wiki.open311.org/GeoReport_v2")]
    pub specification: String,
    #[schema(example = "https://sansuo.example.cn/open311/v2")]
    pub url: String,
    pub changeset: String,
    /// `production`, or `test` on a demo server.
    #[serde(rename = "type")]
    pub endpoint_type: String,
    /// `["text/xml", "application/json"]`
    pub formats: Vec<String>,
}

/// One service: a tip sub-category that is not an emergency.
#[derive(Serialize, ToSchema)]
pub struct ServiceDoc {
    #[schema(example = "AQ01")]
    pub service_code: String,
    #[schema(example = "Fire hazards")]
    pub service_name: String,
    /// The Chinese name residents see.
    #[schema(example = "消防隐患")]
    pub description: Option<String>,
    /// Always true: every service has a definition (the `community` question).
    pub metadata: bool,
    /// Always `realtime`: the response carries the `service_request_id`.
    #[serde(rename = "type")]
    #[schema(example = "realtime")]
    pub service_type: String,
    pub keywords: Option<String>,
    /// The parent category's English name.
    #[schema(example = "Hazards, illegal activity, abandoned cars")]
    pub group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceDefinitionDoc {
    pub service_code: String,
    pub attributes: Vec<AttributeDoc>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributeDoc {
    pub variable: bool,
    /// `community` (required) or `ongoing`.
    pub code: String,
    /// `singlevaluelist`
    pub datatype: String,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: u32,
    pub description: String,
    pub values: Vec<AttributeValueDoc>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributeValueDoc {
    /// For `community`: the community's QR scene, e.g. `hk-jjq`.
    pub key: String,
    pub name: String,
}

/// A tip as the public reading shows it.
#[derive(Serialize, ToSchema)]
pub struct ServiceRequestDoc {
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: String,
    /// Our status in plain words (never an officer's own text).
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    /// Always null: a reporter's free text may hold personal data.
    pub description: Option<String>,
    /// The community's police station.
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    /// W3C datetime with offset, `+08:00`.
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    /// Always null.
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    /// WGS-84, rounded to 3 decimals (about 100 m).
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// Always null: photos are evidence, not public.
    pub media_url: Option<String>,
}

/// What POST `requests` returns, in a one-element list.
#[derive(Serialize, ToSchema)]
pub struct ReceiptDoc {
    /// The tip's id.
    pub service_request_id: String,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenLookupDoc {
    pub service_request_id: Option<String>,
    pub token: String,
}
