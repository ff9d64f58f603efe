//! POST `/requests`: the form arguments of a new service request.

use std::collections::BTreeMap;

use crate::args::{self, single, too_long};
use crate::datetime::parse_w3c;
use crate::error::Open311Error;
use crate::model::{Datatype, ServiceDefinition};

/// The specification's limit on `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Our limit on the one-line arguments (names, phone, email, address, ids):
/// the specification sets none; this keeps junk out of the tip store.
pub const MAX_FIELD_CHARS: usize = 255;
/// Our limit on `media_url`.
pub const MAX_MEDIA_URL_CHARS: usize = 2048;
/// Our limit on one attribute answer (the same as `description`).
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = MAX_DESCRIPTION_CHARS;

/// Answers to a service definition's attributes, by attribute code:
/// `attribute[CODE]=v` gives one value, each `attribute[CODE][]=v` adds one
/// (multivaluelist). Empty values are dropped, as empty arguments are.
pub type AttributeAnswers = BTreeMap<String, Vec<String>>;

/// A WGS84 point, checked to lie on the globe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLong {
    pub lat: f64,
    pub long: f64,
}

/// Where the report is. At least one of the three is present (the
/// specification requires "a full location parameter"); a client may send
/// several, as the specification's own example sends `lat`/`long` *and*
/// `address_string`.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub lat_long: Option<LatLong>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
}

/// A POSTed service request, checked against everything that does not need
/// a lookup: the caller still checks the `api_key` ([`require_api_key`]),
/// that `service_code` exists (404 otherwise, see
/// [`Open311Error::unknown_service_code`]) and the attributes against its
/// definition ([`validate_attributes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewServiceRequest {
    /// Accepted and kept, but we serve a single jurisdiction, so it is
    /// optional, as the specification allows.
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    pub location: Location,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    pub attributes: AttributeAnswers,
}

/// The `api_key` argument, for the caller to look up. Missing (or empty) is
/// a 403, as the specification's general errors say; an unknown key is the
/// caller's [`Open311Error::invalid_api_key`].
pub fn require_api_key(fields: &[(String, String)]) -> Result<&str, Open311Error> {
    args::values(fields, "api_key").next().ok_or_else(|| {
        Open311Error::forbidden("api_key is missing -- can't proceed with create_request.")
    })
}

/// Reads the decoded form fields (or the text parts of a multipart body) of
/// POST `/requests`, collecting every problem rather than stopping at the
/// first, so a client can fix them all at once. Every error is a 400.
/// Arguments we do not know, `api_key` included, are ignored.
pub fn parse_post_request(
    fields: &[(String, String)],
) -> Result<NewServiceRequest, Vec<Open311Error>> {
    let mut errors = Vec::new();

    let service_code = single(fields, "service_code", &mut errors);
    // `single` has already reported a conflicting repeat; otherwise absent.
    if service_code.is_none() && args::values(fields, "service_code").next().is_none() {
        errors.push(Open311Error::bad_request("service_code was not provided"));
    }

    let location = parse_location(fields, &mut errors);

    let mut text = |name: &'static str, max: usize| -> Option<String> {
        let value = single(fields, name, &mut errors)?;
        if let Some(chars) = too_long(value, max) {
            errors.push(Open311Error::bad_request(format!(
                "{name} is {chars} characters long; at most {max} are allowed"
            )));
        }
        Some(value.to_owned())
    };
    let jurisdiction_id = text("jurisdiction_id", MAX_FIELD_CHARS);
    let email = text("email", MAX_FIELD_CHARS);
    let device_id = text("device_id", MAX_FIELD_CHARS);
    let account_id = text("account_id", MAX_FIELD_CHARS);
    let first_name = text("first_name", MAX_FIELD_CHARS);
    let last_name = text("last_name", MAX_FIELD_CHARS);
    let phone = text("phone", MAX_FIELD_CHARS);
    let description = text("description", MAX_DESCRIPTION_CHARS);
    let media_url = text("media_url", MAX_MEDIA_URL_CHARS);

    let attributes = parse_attributes(fields, &mut errors);

    match (service_code, location) {
        (Some(service_code), Some(location)) if errors.is_empty() => Ok(NewServiceRequest {
            jurisdiction_id,
            service_code: service_code.to_owned(),
            location,
            email,
            device_id,
            account_id,
            first_name,
            last_name,
            phone,
            description,
            media_url,
            attributes,
        }),
        _ => Err(errors),
    }
}

/// `lat`+`long`, `address_string` or `address_id`: at least one complete.
fn parse_location(fields: &[(String, String)], errors: &mut Vec<Open311Error>) -> Option<Location> {
    let errors_before = errors.len();
    let lat = single(fields, "lat", errors);
    let long = single(fields, "long", errors);
    let lat = lat.and_then(|text| coordinate(text, "lat", 90.0, errors));
    let long = long.and_then(|text| coordinate(text, "long", 180.0, errors));
    let mut short = |name: &'static str| -> Option<String> {
        let value = single(fields, name, errors)?;
        if let Some(chars) = too_long(value, MAX_FIELD_CHARS) {
            errors.push(Open311Error::bad_request(format!(
                "{name} is {chars} characters long; at most {MAX_FIELD_CHARS} are allowed"
            )));
        }
        Some(value.to_owned())
    };
    let address_string = short("address_string");
    let address_id = short("address_id");

    let given = |name: &str| args::values(fields, name).next().is_some();
    let lat_long = match (lat, long) {
        (Some(lat), Some(long)) => Some(LatLong { lat, long }),
        _ => {
            // Only one half of the pair: say which, whatever else was sent.
            if given("lat") != given("long") {
                let missing = if given("lat") { "long" } else { "lat" };
                errors.push(Open311Error::bad_request(format!(
                    "lat and long must be sent together: {missing} is missing"
                )));
            }
            None
        }
    };
    if !given("lat") && !given("long") && address_string.is_none() && address_id.is_none() {
        errors.push(Open311Error::bad_request(
            "a location is required: lat and long, or address_string, or address_id",
        ));
    }
    (errors.len() == errors_before).then_some(Location {
        lat_long,
        address_string,
        address_id,
    })
}

/// A decimal degree within `[-limit, limit]`.
fn coordinate(text: &str, name: &str, limit: f64, errors: &mut Vec<Open311Error>) -> Option<f64> {
    match text.parse::<f64>() {
        // `f64::from_str` also takes "NaN" and "inf"; neither is a place.
        Ok(value) if value.is_finite() && (-limit..=limit).contains(&value) => Some(value),
        Ok(value) if value.is_finite() => {
            errors.push(Open311Error::bad_request(format!(
                "{name} must be between -{limit} and {limit} (WGS84 degrees); got {text}"
            )));
            None
        }
        _ => {
            errors.push(Open311Error::bad_request(format!(
                "{name} must be a decimal number of WGS84 degrees; got {text:?}"
            )));
            None
        }
    }
}

/// Gathers `attribute[CODE]=v` and `attribute[CODE][]=v`. A name that
/// starts like an attribute but is not one of these two shapes is a client
/// bug worth reporting (400) rather than a field to ignore.
fn parse_attributes(
    fields: &[(String, String)],
    errors: &mut Vec<Open311Error>,
) -> AttributeAnswers {
    let mut answers = AttributeAnswers::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .filter(|code| !code.is_empty() && !code.contains(['[', ']']));
        let Some(code) = code else {
            errors.push(Open311Error::bad_request(format!(
                "{name:?} is not a valid attribute argument: expected attribute[CODE] or attribute[CODE][]"
            )));
            continue;
        };
        let value = value.trim();
        let entry = answers.entry(code.to_owned()).or_default();
        if !value.is_empty() {
            entry.push(value.to_owned());
        }
    }
    // An attribute sent only empty was not answered.
    answers.retain(|_, values| !values.is_empty());
    answers
}

/// Checks the answers against the service's definition, collecting every
/// problem (each a 400):
/// - a required, variable attribute must be answered;
/// - an answer must be to a variable attribute of this service (a typo'd
///   code would otherwise be stored and lost);
/// - all but `multivaluelist` take exactly one value;
/// - list values must be among the definition's keys;
/// - `number` must parse as a finite decimal, `datetime` as a W3C datetime
///   with a time zone, `string` must be one line;
/// - no value longer than [`MAX_ATTRIBUTE_VALUE_CHARS`].
pub fn validate_attributes(
    definition: &ServiceDefinition,
    answers: &AttributeAnswers,
) -> Result<(), Vec<Open311Error>> {
    let mut errors = Vec::new();
    let bad = |errors: &mut Vec<Open311Error>, text: String| {
        errors.push(Open311Error::bad_request(text));
    };

    for attribute in &definition.attributes {
        if attribute.variable && attribute.required && !answers.contains_key(&attribute.code) {
            bad(
                &mut errors,
                format!("attribute[{}] is required", attribute.code),
            );
        }
    }

    for (code, values) in answers {
        let Some(attribute) = definition.attribute(code).filter(|a| a.variable) else {
            bad(
                &mut errors,
                format!(
                    "attribute[{code}] is not an attribute of service_code {:?}",
                    definition.service_code
                ),
            );
            continue;
        };
        if attribute.datatype != Datatype::Multivaluelist && values.len() > 1 {
            bad(
                &mut errors,
                format!("attribute[{code}] takes one value; got {}", values.len()),
            );
        }
        for value in values {
            if let Some(chars) = too_long(value, MAX_ATTRIBUTE_VALUE_CHARS) {
                bad(
                    &mut errors,
                    format!(
                        "attribute[{code}] is {chars} characters long; at most {MAX_ATTRIBUTE_VALUE_CHARS} are allowed"
                    ),
                );
                continue;
            }
            match attribute.datatype {
                Datatype::Singlevaluelist | Datatype::Multivaluelist => {
                    if !attribute.values.iter().any(|v| &v.key == value) {
                        let keys: Vec<&str> =
                            attribute.values.iter().map(|v| v.key.as_str()).collect();
                        bad(
                            &mut errors,
                            format!(
                                "attribute[{code}] must be one of {}; got {value:?}",
                                keys.join(", ")
                            ),
                        );
                    }
                }
                Datatype::Number => {
                    if !value.parse::<f64>().is_ok_and(f64::is_finite) {
                        bad(
                            &mut errors,
                            format!("attribute[{code}] must be a number; got {value:?}"),
                        );
                    }
                }
                Datatype::Datetime => {
                    if parse_w3c(value).is_none() {
                        bad(
                            &mut errors,
                            format!(
                                "attribute[{code}] must be a datetime with a time zone, e.g. 2010-01-01T00:00:00Z; got {value:?}"
                            ),
                        );
                    }
                }
                Datatype::String => {
                    if value.contains(['\n', '\r']) {
                        bad(
                            &mut errors,
                            format!("attribute[{code}] must be a single line"),
                        );
                    }
                }
                Datatype::Text => {}
            }
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
