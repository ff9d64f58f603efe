//! The Open311 GeoReport v2 wire format for sansuo's tips: the documents
//! (discovery, services, service definitions, service requests, receipts,
//! token lookups, errors), their XML and JSON renderings, and the parsing
//! of POST and GET arguments.
//!
//! Pure: no I/O, no HTTP framework, no database. The HTTP layer picks the
//! [`Format`] from the path, calls the parsers, looks things up, and sends
//! what [`Render`] produces with [`Format::content_type`] and, for errors,
//! [`http_status`].
//!
//! Specification: <http://wiki.open311.org/GeoReport_v2> and
//! <http://wiki.open311.org/Service_Discovery>. The choices it leaves open
//! are listed in this crate's README.

mod args;
mod datetime;
mod error;
mod format;
mod model;
mod post;
mod query;
mod render;
mod xml;

pub use datetime::{china_standard_time, format_w3c, parse_w3c};
pub use error::{Open311Error, http_status};
pub use format::Format;
pub use model::{
    Attribute, AttributeValue, Datatype, Discovery, Endpoint, EndpointType,
    GEOREPORT_V2_SPECIFICATION, PostedRequestReceipt, ReceiptId, RequestStatus, ServiceDef,
    ServiceDefinition, ServiceRequest, ServiceType, TokenLookup,
};
pub use post::{
    AttributeAnswers, LatLong, Location, MAX_ATTRIBUTE_VALUE_CHARS, MAX_DESCRIPTION_CHARS,
    MAX_FIELD_CHARS, MAX_MEDIA_URL_CHARS, NewServiceRequest, parse_post_request, require_api_key,
    validate_attributes,
};
pub use query::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_WINDOW_DAYS, RequestQuery, RequestSearch,
    parse_request_query,
};
pub use render::Render;
