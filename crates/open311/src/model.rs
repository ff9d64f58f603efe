//! The documents of GeoReport v2 as plain data. Field order follows the
//! specification's response tables, and the JSON field names are the
//! specification's (serde renames where Rust needs another name).
//!
//! Empty optional fields: every field of a response table is always
//! emitted, as `null` in JSON and as an empty element in XML, which is what
//! the specification's own examples do (`"status_notes":null`,
//! `<status_notes></status_notes>`). The one exception is the POST receipt,
//! where the specification says `service_request_id` "should not be
//! returned if token is returned" and vice versa.

use chrono::{DateTime, FixedOffset};
use serde::{Serialize, Serializer};

use crate::datetime::format_w3c;
use crate::format::Format;

/// The specification token of GeoReport v2, used in the discovery document.
pub const GEOREPORT_V2_SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

// ---------------------------------------------------------------- discovery

/// The service discovery document (`/discovery.{xml,json}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    /// Sortable, the time the document (or the service list / definitions)
    /// last changed; clients refresh their caches when it moves.
    pub changeset: String,
    /// How to reach the people running the endpoint.
    pub contact: String,
    /// How to get an API key.
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint listed by the discovery document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// Normally [`GEOREPORT_V2_SPECIFICATION`].
    pub specification: String,
    /// The base URL (ending in `/v2`, without a trailing slash).
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub endpoint_type: EndpointType,
    #[serde(serialize_with = "mime_types")]
    pub formats: Vec<Format>,
}

/// Whether an endpoint's data is live and acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointType {
    Production,
    Test,
}

impl EndpointType {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Production => "production",
            EndpointType::Test => "test",
        }
    }
}

fn mime_types<S: Serializer>(formats: &[Format], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(formats.iter().map(|f| f.mime_type()))
}

// ----------------------------------------------------------------- services

/// One entry of the service list (`/services.{xml,json}`): a kind of report
/// residents can file (for us, a tip category).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDef {
    pub service_code: String,
    pub service_name: String,
    pub description: Option<String>,
    /// Whether the service has a definition with attributes to fetch from
    /// `/services/{service_code}`.
    pub metadata: bool,
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    /// Rendered as the specification's single comma-separated string
    /// (`"lorem, ipsum, dolor"`); no keywords renders as null / empty.
    #[serde(serialize_with = "comma_separated")]
    pub keywords: Vec<String>,
    pub group: Option<String>,
}

/// What a POST returns for this service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    /// A `service_request_id` straight away.
    Realtime,
    /// A token, exchanged later for the id at `/tokens/{token}`.
    Batch,
    /// Neither.
    Blackbox,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Realtime => "realtime",
            ServiceType::Batch => "batch",
            ServiceType::Blackbox => "blackbox",
        }
    }
}

pub(crate) fn join_keywords(keywords: &[String]) -> Option<String> {
    (!keywords.is_empty()).then(|| keywords.join(", "))
}

fn comma_separated<S: Serializer>(keywords: &[String], s: S) -> Result<S::Ok, S::Error> {
    join_keywords(keywords).serialize(s)
}

/// The definition of one service (`/services/{service_code}.{xml,json}`):
/// the extra questions a report of this kind asks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    /// In the order to render them; `order` says the order to show them.
    pub attributes: Vec<Attribute>,
}

impl ServiceDefinition {
    pub fn attribute(&self, code: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.code == code)
    }
}

/// One question of a service definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    /// `true`: the user answers it; `false`: it only informs the user and
    /// takes no answer.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    /// 1 is shown first; unique within the service.
    pub order: u32,
    pub description: String,
    /// The options of a `singlevaluelist` / `multivaluelist`; empty (but
    /// still rendered, as `[]` / `<values></values>`) for other datatypes.
    pub values: Vec<AttributeValue>,
}

/// The kind of input an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// One line of text.
    String,
    Number,
    /// A W3C datetime with a time zone.
    Datetime,
    /// Text that may contain line breaks.
    Text,
    /// One key among `values`.
    Singlevaluelist,
    /// One or more keys among `values`.
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

/// One option of a list attribute: `key` is what the client sends back,
/// `name` what the user reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

// ----------------------------------------------------------------- requests

/// The two states the specification knows. Our richer work-order states map
/// onto them, with the detail in `status_notes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Open,
    Closed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Closed => "closed",
        }
    }

    /// Exactly `open` or `closed`, as the specification spells them.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(RequestStatus::Open),
            "closed" => Some(RequestStatus::Closed),
            _ => None,
        }
    }
}

/// One service request as GET `/requests` and `/requests/{id}` return it.
/// Ids are strings in both formats (the specification's JSON examples show
/// numbers such as `006`, which are not even valid JSON; ours are opaque).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: RequestStatus,
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    #[serde(serialize_with = "w3c")]
    pub requested_datetime: DateTime<FixedOffset>,
    /// For a closed request, when it was closed.
    #[serde(serialize_with = "w3c")]
    pub updated_datetime: DateTime<FixedOffset>,
    #[serde(serialize_with = "w3c_opt")]
    pub expected_datetime: Option<DateTime<FixedOffset>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    /// WGS84; numbers in JSON, as in the specification's examples.
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

fn w3c<S: Serializer>(datetime: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_w3c(datetime))
}

fn w3c_opt<S: Serializer>(
    datetime: &Option<DateTime<FixedOffset>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    datetime.as_ref().map(format_w3c).serialize(s)
}

/// What POST `/requests` returns: one element of a `<service_requests>`
/// list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedRequestReceipt {
    pub id: ReceiptId,
    /// What will be done about the report.
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

/// How the client will find the request again, by the service's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptId {
    /// `realtime`: the request's id.
    ServiceRequestId(String),
    /// `batch`: a token for `/tokens/{token}`. For an anonymous tip this is
    /// the reporter's private tracking token.
    Token(String),
    /// `blackbox`: nothing.
    None,
}

/// One element of the `/tokens/{token}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenLookup {
    /// `None` while the request behind the token has no id yet.
    pub service_request_id: Option<String>,
    pub token: String,
}
