//! Rendering each GeoReport v2 document as XML (by hand, see
//! [`crate::xml`]) or JSON (serde_json).
//!
//! | document | XML root | JSON |
//! |---|---|---|
//! | discovery | `<discovery>` | object |
//! | services | `<services><service>` | array |
//! | service definition | `<service_definition>` | object |
//! | requests (GET, one or many) | `<service_requests><request>` | array |
//! | POST receipts | `<service_requests><request>` | array |
//! | token lookups | `<service_requests><request>` | array |
//! | errors | `<errors><error>` | array |
//!
//! A single request (GET `/requests/{id}`) or a single receipt is still a
//! one-element list: render it with `std::slice::from_ref(&request)`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::datetime::format_w3c;
use crate::error::Open311Error;
use crate::format::Format;
use crate::model::{
    Discovery, PostedRequestReceipt, ReceiptId, ServiceDef, ServiceDefinition, ServiceRequest,
    TokenLookup, join_keywords,
};
use crate::xml::XmlWriter;

/// A document that can be sent in either format.
pub trait Render {
    fn to_xml(&self) -> String;
    fn to_json(&self) -> String;

    fn render(&self, format: Format) -> String {
        match format {
            Format::Xml => self.to_xml(),
            Format::Json => self.to_json(),
        }
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    // Our documents have string keys and no fallible serialisers, so this
    // cannot fail; non-finite floats become null.
    serde_json::to_string(value).expect("Open311 documents serialise to JSON")
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

impl Render for Discovery {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("discovery");
        x.leaf("changeset", &self.changeset);
        x.leaf("contact", &self.contact);
        x.leaf("key_service", &self.key_service);
        x.open("endpoints");
        for endpoint in &self.endpoints {
            x.open("endpoint");
            x.leaf("specification", &endpoint.specification);
            x.leaf("url", &endpoint.url);
            x.leaf("changeset", &endpoint.changeset);
            x.leaf("type", endpoint.endpoint_type.as_str());
            x.open("formats");
            for format in &endpoint.formats {
                x.leaf("format", format.mime_type());
            }
            x.close("formats");
            x.close("endpoint");
        }
        x.close("endpoints");
        x.close("discovery");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

impl Render for [ServiceDef] {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("services");
        for service in self {
            x.open("service");
            x.leaf("service_code", &service.service_code);
            x.leaf("service_name", &service.service_name);
            x.leaf_opt("description", service.description.as_deref());
            x.leaf("metadata", bool_text(service.metadata));
            x.leaf("type", service.service_type.as_str());
            x.leaf_opt("keywords", join_keywords(&service.keywords).as_deref());
            x.leaf_opt("group", service.group.as_deref());
            x.close("service");
        }
        x.close("services");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

impl Render for ServiceDefinition {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("service_definition");
        x.leaf("service_code", &self.service_code);
        x.open("attributes");
        for attribute in &self.attributes {
            x.open("attribute");
            x.leaf("variable", bool_text(attribute.variable));
            x.leaf("code", &attribute.code);
            x.leaf("datatype", attribute.datatype.as_str());
            x.leaf("required", bool_text(attribute.required));
            x.leaf_opt(
                "datatype_description",
                attribute.datatype_description.as_deref(),
            );
            x.leaf("order", &attribute.order.to_string());
            x.leaf("description", &attribute.description);
            x.open("values");
            for value in &attribute.values {
                x.open("value");
                x.leaf("key", &value.key);
                x.leaf("name", &value.name);
                x.close("value");
            }
            x.close("values");
            x.close("attribute");
        }
        x.close("attributes");
        x.close("service_definition");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

impl Render for [ServiceRequest] {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("service_requests");
        for request in self {
            x.open("request");
            x.leaf("service_request_id", &request.service_request_id);
            x.leaf("status", request.status.as_str());
            x.leaf_opt("status_notes", request.status_notes.as_deref());
            x.leaf("service_name", &request.service_name);
            x.leaf("service_code", &request.service_code);
            x.leaf_opt("description", request.description.as_deref());
            x.leaf_opt("agency_responsible", request.agency_responsible.as_deref());
            x.leaf_opt("service_notice", request.service_notice.as_deref());
            x.leaf(
                "requested_datetime",
                &format_w3c(&request.requested_datetime),
            );
            x.leaf("updated_datetime", &format_w3c(&request.updated_datetime));
            x.leaf_opt(
                "expected_datetime",
                request
                    .expected_datetime
                    .as_ref()
                    .map(format_w3c)
                    .as_deref(),
            );
            x.leaf_opt("address", request.address.as_deref());
            x.leaf_opt("address_id", request.address_id.as_deref());
            x.leaf_opt("zipcode", request.zipcode.as_deref());
            x.leaf_opt("lat", coordinate_text(request.lat).as_deref());
            x.leaf_opt("long", coordinate_text(request.long).as_deref());
            x.leaf_opt("media_url", request.media_url.as_deref());
            x.close("request");
        }
        x.close("service_requests");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

/// The shortest decimal that reads back as the same f64, as JSON writes it;
/// a non-finite value (which JSON renders as null) is left empty.
fn coordinate_text(value: Option<f64>) -> Option<String> {
    value.filter(|v| v.is_finite()).map(|v| v.to_string())
}

impl Render for [PostedRequestReceipt] {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("service_requests");
        for receipt in self {
            x.open("request");
            match &receipt.id {
                ReceiptId::ServiceRequestId(id) => x.leaf("service_request_id", id),
                ReceiptId::Token(token) => x.leaf("token", token),
                ReceiptId::None => {}
            }
            x.leaf_opt("service_notice", receipt.service_notice.as_deref());
            x.leaf_opt("account_id", receipt.account_id.as_deref());
            x.close("request");
        }
        x.close("service_requests");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

impl Serialize for PostedRequestReceipt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.id {
            ReceiptId::ServiceRequestId(id) => map.serialize_entry("service_request_id", id)?,
            ReceiptId::Token(token) => map.serialize_entry("token", token)?,
            ReceiptId::None => {}
        }
        map.serialize_entry("service_notice", &self.service_notice)?;
        map.serialize_entry("account_id", &self.account_id)?;
        map.end()
    }
}

impl Render for [TokenLookup] {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("service_requests");
        for lookup in self {
            x.open("request");
            x.leaf_opt("service_request_id", lookup.service_request_id.as_deref());
            x.leaf("token", &lookup.token);
            x.close("request");
        }
        x.close("service_requests");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}

impl Render for [Open311Error] {
    fn to_xml(&self) -> String {
        let mut x = XmlWriter::document();
        x.open("errors");
        for error in self {
            x.open("error");
            x.leaf("code", &error.code.to_string());
            x.leaf("description", &error.description);
            x.close("error");
        }
        x.close("errors");
        x.finish()
    }

    fn to_json(&self) -> String {
        json(self)
    }
}
