//! Renders the specification's example documents (GeoReport v2 and Service
//! Discovery pages) from our types and compares them with the examples.
//!
//! XML is compared as a tree: element names, trimmed text, and children,
//! where siblings are compared in order among those of the same name (so
//! the order of a list matters, while the order of a record's fields does
//! not: the specification's own service list example writes its second
//! service's fields in another order than its first). Exact field order is
//! checked separately against the specification's response tables.
//!
//! JSON is compared as `serde_json::Value`. The specification's JSON
//! examples write ids as bare numbers with leading zeros (`"service_code":
//! 001`), which is not JSON; ours are strings, so the expected documents
//! below are the examples with those ids quoted.

use chrono::{DateTime, FixedOffset};
use sansuo_open311::*;
use serde_json::{Value, json};

// ------------------------------------------------------------ comparison

#[derive(Debug, PartialEq)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

fn tree(xml: &str) -> Element {
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    element(document.root_element())
}

fn element(node: roxmltree::Node) -> Element {
    let mut children: Vec<Element> = node
        .children()
        .filter(|c| c.is_element())
        .map(element)
        .collect();
    // Stable: siblings of the same name keep their order.
    children.sort_by(|a, b| a.name.cmp(&b.name));
    let text = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned();
    Element {
        name: node.tag_name().name().to_owned(),
        text,
        children,
    }
}

fn assert_same_xml(ours: &str, spec: &str) {
    assert!(
        ours.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
        "no XML declaration: {ours}"
    );
    assert_eq!(tree(ours), tree(spec), "ours:\n{ours}\nspec:\n{spec}");
}

fn assert_same_json(ours: &str, expected: Value) {
    let ours: Value = serde_json::from_str(ours).unwrap_or_else(|e| panic!("{e}: {ours}"));
    assert_eq!(ours, expected);
}

/// Names of the children of each `<request>` (etc.), in document order.
fn child_names(xml: &str, parent: &str) -> Vec<Vec<String>> {
    let document = roxmltree::Document::parse(xml).unwrap();
    document
        .descendants()
        .filter(|n| n.has_tag_name(parent))
        .map(|n| {
            n.children()
                .filter(|c| c.is_element())
                .map(|c| c.tag_name().name().to_owned())
                .collect()
        })
        .collect()
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

// ------------------------------------------------------------- services

fn spec_services() -> Vec<ServiceDef> {
    let service = |code: &str, name: &str, description: &str, group: &str| ServiceDef {
        service_code: code.into(),
        service_name: name.into(),
        description: Some(description.into()),
        metadata: true,
        service_type: ServiceType::Realtime,
        keywords: vec!["lorem".into(), "ipsum".into(), "dolor".into()],
        group: Some(group.into()),
    };
    vec![
        service(
            "001",
            "Cans left out 24x7",
            "Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.",
            "sanitation",
        ),
        service(
            "002",
            "Construction plate shifted",
            "Metal construction plate covering the street or sidewalk has been moved.",
            "street",
        ),
        service(
            "003",
            "Curb or curb ramp defect",
            "Sidewalk curb or ramp has problems such as cracking, missing pieces, holes, and/or chipped curb.",
            "street",
        ),
    ]
}

#[test]
fn service_list_matches_the_spec_example_in_xml() {
    let spec = r#"<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
    <service>
        <service_code>002</service_code>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>street</group>
        <service_name>Construction plate shifted</service_name>
        <description>Metal construction plate covering the street or sidewalk has been moved.</description>
    </service>
    <service>
        <service_code>003</service_code>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>street</group>
        <service_name>Curb or curb ramp defect</service_name>
        <description>Sidewalk curb or ramp has problems such as cracking, missing pieces, holes, and/or chipped curb.</description>
    </service>
</services>"#;
    let ours = spec_services().render(Format::Xml);
    assert_same_xml(&ours, spec);
    let fields = [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ];
    for names in child_names(&ours, "service") {
        assert_eq!(names, fields, "fields in the order of the spec's table");
    }
}

#[test]
fn service_list_matches_the_spec_example_in_json() {
    let ours = spec_services().render(Format::Json);
    assert_same_json(
        &ours,
        json!([
          {
            "service_code":"001",
            "service_name":"Cans left out 24x7",
            "description":"Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.",
            "metadata":true,
            "type":"realtime",
            "keywords":"lorem, ipsum, dolor",
            "group":"sanitation"
          },
          {
            "service_code":"002",
            "metadata":true,
            "type":"realtime",
            "keywords":"lorem, ipsum, dolor",
            "group":"street",
            "service_name":"Construction plate shifted",
            "description":"Metal construction plate covering the street or sidewalk has been moved."
          },
          {
            "service_code":"003",
            "metadata":true,
            "type":"realtime",
            "keywords":"lorem, ipsum, dolor",
            "group":"street",
            "service_name":"Curb or curb ramp defect",
            "description":"Sidewalk curb or ramp has problems such as cracking, missing pieces, holes, and/or chipped curb."
          }
        ]),
    );
}

#[test]
fn a_service_without_optional_fields_renders_them_empty_and_null() {
    let services = [ServiceDef {
        service_code: "tip.fraud".into(),
        service_name: "诈骗线索".into(),
        description: None,
        metadata: false,
        service_type: ServiceType::Batch,
        keywords: vec![],
        group: None,
    }];
    assert_same_xml(
        &services.render(Format::Xml),
        "<services><service><service_code>tip.fraud</service_code>\
         <service_name>诈骗线索</service_name><description/><metadata>false</metadata>\
         <type>batch</type><keywords/><group/></service></services>",
    );
    assert_same_json(
        &services.render(Format::Json),
        json!([{"service_code":"tip.fraud","service_name":"诈骗线索","description":null,
                "metadata":false,"type":"batch","keywords":null,"group":null}]),
    );
}

// --------------------------------------------------- service definition

fn spec_definition() -> ServiceDefinition {
    ServiceDefinition {
        service_code: "DMV66".into(),
        attributes: vec![Attribute {
            variable: true,
            code: "WHISHETN".into(),
            datatype: Datatype::Singlevaluelist,
            required: true,
            datatype_description: None,
            order: 1,
            description: "What is the ticket/tag/DL number?".into(),
            values: vec![
                AttributeValue {
                    key: "123".into(),
                    name: "Ford".into(),
                },
                AttributeValue {
                    key: "124".into(),
                    name: "Chrysler".into(),
                },
            ],
        }],
    }
}

#[test]
fn service_definition_matches_the_spec_example_in_xml() {
    let spec = r#"<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value>
                    <key>123</key>
                    <name>Ford</name>
                </value>
                <value>
                    <key>124</key>
                    <name>Chrysler</name>
                </value>
            </values>
        </attribute>
    </attributes>
</service_definition>"#;
    let ours = spec_definition().render(Format::Xml);
    assert_same_xml(&ours, spec);
    assert_eq!(
        child_names(&ours, "attribute"),
        [[
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values"
        ]]
    );
}

#[test]
fn service_definition_matches_the_spec_example_in_json() {
    assert_same_json(
        &spec_definition().render(Format::Json),
        json!({
          "service_code":"DMV66",
          "attributes":[
            {
              "variable":true,
              "code":"WHISHETN",
              "datatype":"singlevaluelist",
              "required":true,
              "datatype_description":null,
              "order":1,
              "description":"What is the ticket/tag/DL number?",
              "values":[
                {"key":"123","name":"Ford"},
                {"key":"124","name":"Chrysler"}
              ]
            }
          ]
        }),
    );
}

#[test]
fn every_datatype_renders_with_the_spec_spelling() {
    let attribute = |code: &str, datatype| Attribute {
        variable: true,
        code: code.into(),
        datatype,
        required: false,
        datatype_description: Some("说明".into()),
        order: 1,
        description: "d".into(),
        values: vec![],
    };
    let definition = ServiceDefinition {
        service_code: "x".into(),
        attributes: vec![
            attribute("a", Datatype::String),
            attribute("b", Datatype::Number),
            attribute("c", Datatype::Datetime),
            attribute("d", Datatype::Text),
            attribute("e", Datatype::Singlevaluelist),
            attribute("f", Datatype::Multivaluelist),
        ],
    };
    let json: Value = serde_json::from_str(&definition.render(Format::Json)).unwrap();
    let spelled: Vec<&str> = json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["datatype"].as_str().unwrap())
        .collect();
    let expected = [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ];
    assert_eq!(spelled, expected);
    assert_eq!(json["attributes"][0]["values"], json!([]));
    let xml = definition.render(Format::Xml);
    for datatype in expected {
        assert!(
            xml.contains(&format!("<datatype>{datatype}</datatype>")),
            "{xml}"
        );
    }
    assert!(xml.contains("<values></values>"), "{xml}");
}

// ------------------------------------------------------------- requests

fn spec_request() -> ServiceRequest {
    ServiceRequest {
        service_request_id: "638344".into(),
        status: RequestStatus::Closed,
        status_notes: Some("Duplicate request.".into()),
        service_name: "Sidewalk and Curb Issues".into(),
        service_code: "006".into(),
        description: None,
        agency_responsible: None,
        service_notice: None,
        requested_datetime: at("2010-04-14T06:37:38-08:00"),
        updated_datetime: at("2010-04-14T06:37:38-08:00"),
        expected_datetime: Some(at("2010-04-15T06:37:38-08:00")),
        address: Some("8TH AVE and JUDAH ST".into()),
        address_id: Some("545483".into()),
        zipcode: Some("94122".into()),
        lat: Some(37.762221815),
        long: Some(-122.4651145),
        media_url: Some("http://city.gov.s3.amazonaws.com/requests/media/638344.jpg".into()),
    }
}

const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

#[test]
fn one_request_is_a_one_element_list_matching_the_spec_example_in_xml() {
    let spec = r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url>
    </request>
</service_requests>"#;
    let request = spec_request();
    let ours = std::slice::from_ref(&request).render(Format::Xml);
    assert_same_xml(&ours, spec);
    assert_eq!(child_names(&ours, "request"), [REQUEST_FIELDS]);
}

#[test]
fn one_request_is_a_one_element_list_matching_the_spec_example_in_json() {
    let request = spec_request();
    let ours = std::slice::from_ref(&request).render(Format::Json);
    assert_same_json(
        &ours,
        json!([
          {
            "service_request_id":"638344",
            "status":"closed",
            "status_notes":"Duplicate request.",
            "service_name":"Sidewalk and Curb Issues",
            "service_code":"006",
            "description":null,
            "agency_responsible":null,
            "service_notice":null,
            "requested_datetime":"2010-04-14T06:37:38-08:00",
            "updated_datetime":"2010-04-14T06:37:38-08:00",
            "expected_datetime":"2010-04-15T06:37:38-08:00",
            "address":"8TH AVE and JUDAH ST",
            "address_id":"545483",
            "zipcode":"94122",
            "lat":37.762221815,
            "long":-122.4651145,
            "media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"
          }
        ]),
    );
    // Field order in JSON too (serde keeps the struct's order).
    let positions: Vec<usize> = REQUEST_FIELDS
        .iter()
        .map(|field| ours.find(&format!("\"{field}\":")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "JSON fields out of the spec's order: {ours}"
    );
}

#[test]
fn ids_are_strings_and_coordinates_numbers_in_json() {
    let request = spec_request();
    let json: Value =
        serde_json::from_str(&std::slice::from_ref(&request).render(Format::Json)).unwrap();
    let request = &json[0];
    assert!(request["service_request_id"].is_string());
    assert!(request["service_code"].is_string());
    assert!(request["address_id"].is_string());
    assert!(request["lat"].is_f64());
    assert!(request["long"].is_f64());
    assert_eq!(request["lat"].as_f64(), Some(37.762221815));
}

#[test]
fn no_requests_is_an_empty_list() {
    let none: [ServiceRequest; 0] = [];
    assert_same_xml(&none.render(Format::Xml), "<service_requests/>");
    assert_eq!(none.render(Format::Json), "[]");
}

#[test]
fn datetimes_keep_their_offset_and_utc_is_z() {
    let mut request = spec_request();
    request.requested_datetime = china_standard_time(at("2024-05-01T02:00:00Z").to_utc());
    request.updated_datetime = at("2024-05-01T02:00:00+00:00");
    request.expected_datetime = None;
    let xml = std::slice::from_ref(&request).render(Format::Xml);
    assert!(xml.contains("<requested_datetime>2024-05-01T10:00:00+08:00</requested_datetime>"));
    assert!(xml.contains("<updated_datetime>2024-05-01T02:00:00Z</updated_datetime>"));
    assert!(xml.contains("<expected_datetime></expected_datetime>"));
    let json: Value =
        serde_json::from_str(&std::slice::from_ref(&request).render(Format::Json)).unwrap();
    assert_eq!(json[0]["requested_datetime"], "2024-05-01T10:00:00+08:00");
    assert_eq!(json[0]["expected_datetime"], Value::Null);
}

#[test]
fn text_is_escaped_in_xml_and_survives_both_formats() {
    let mut request = spec_request();
    let hostile = "小区东门<script>alert(\"x\" & 'y')</script>\u{0}\u{1B}]]> 井盖缺失\r\n第二行";
    request.description = Some(hostile.into());
    request.status_notes = Some("已核实 & 转交派出所".into());
    request.lat = None;
    request.long = None;
    let xml = std::slice::from_ref(&request).render(Format::Xml);
    assert!(!xml.contains("<script>"), "{xml}");
    assert!(xml.contains("&lt;script&gt;"), "{xml}");
    let document = roxmltree::Document::parse(&xml).expect("well-formed despite the input");
    let text = |name: &str| {
        document
            .descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or("")
            .to_owned()
    };
    // Control characters XML cannot carry are dropped; the rest, CR
    // included, comes back exactly.
    assert_eq!(
        text("description"),
        "小区东门<script>alert(\"x\" & 'y')</script>]]> 井盖缺失\r\n第二行"
    );
    assert_eq!(text("status_notes"), "已核实 & 转交派出所");
    assert_eq!(text("lat"), "");
    let json: Value =
        serde_json::from_str(&std::slice::from_ref(&request).render(Format::Json)).unwrap();
    assert_eq!(json[0]["description"], hostile);
    assert_eq!(json[0]["lat"], Value::Null);
}

// ------------------------------------------------------------- receipts

#[test]
fn post_receipt_with_an_id_matches_the_spec_example() {
    let notice = "The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code";
    let receipts = [PostedRequestReceipt {
        id: ReceiptId::ServiceRequestId("293944".into()),
        service_notice: Some(notice.into()),
        account_id: None,
    }];
    let spec = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>
            {notice}
        </service_notice>
        <account_id/>
    </request>
</service_requests>"#
    );
    let xml = receipts.render(Format::Xml);
    assert_same_xml(&xml, &spec);
    assert_eq!(
        child_names(&xml, "request"),
        [["service_request_id", "service_notice", "account_id"]]
    );
    assert_same_json(
        &receipts.render(Format::Json),
        json!([{"service_request_id":"293944","service_notice":notice,"account_id":null}]),
    );
}

#[test]
fn post_receipt_with_a_token_has_no_service_request_id() {
    let receipts = [PostedRequestReceipt {
        id: ReceiptId::Token("a1b2-c3d4".into()),
        service_notice: Some("已收到，值班民警将尽快核实。".into()),
        account_id: Some("u-77".into()),
    }];
    let xml = receipts.render(Format::Xml);
    assert_same_xml(
        &xml,
        "<service_requests><request><token>a1b2-c3d4</token>\
         <service_notice>已收到，值班民警将尽快核实。</service_notice>\
         <account_id>u-77</account_id></request></service_requests>",
    );
    assert!(!xml.contains("service_request_id"));
    let json = receipts.render(Format::Json);
    assert_same_json(
        &json,
        json!([{"token":"a1b2-c3d4","service_notice":"已收到，值班民警将尽快核实。","account_id":"u-77"}]),
    );
    assert!(!json.contains("service_request_id"));
}

#[test]
fn blackbox_receipt_has_neither_id_nor_token() {
    let receipts = [PostedRequestReceipt {
        id: ReceiptId::None,
        service_notice: None,
        account_id: None,
    }];
    assert_same_xml(
        &receipts.render(Format::Xml),
        "<service_requests><request><service_notice/><account_id/></request></service_requests>",
    );
    assert_same_json(
        &receipts.render(Format::Json),
        json!([{"service_notice":null,"account_id":null}]),
    );
}

// -------------------------------------------------------------- tokens

#[test]
fn token_lookup_matches_the_spec_example() {
    let lookups = [TokenLookup {
        service_request_id: Some("638344".into()),
        token: "12345".into(),
    }];
    let xml = lookups.render(Format::Xml);
    assert_same_xml(
        &xml,
        r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <token>12345</token>
    </request>
</service_requests>"#,
    );
    assert_eq!(
        child_names(&xml, "request"),
        [["service_request_id", "token"]]
    );
    assert_same_json(
        &lookups.render(Format::Json),
        json!([{"service_request_id":"638344","token":"12345"}]),
    );
}

#[test]
fn token_without_a_request_yet_renders_an_empty_id() {
    let lookups = [TokenLookup {
        service_request_id: None,
        token: "t".into(),
    }];
    assert_same_xml(
        &lookups.render(Format::Xml),
        "<service_requests><request><service_request_id/><token>t</token></request></service_requests>",
    );
    assert_same_json(
        &lookups.render(Format::Json),
        json!([{"service_request_id":null,"token":"t"}]),
    );
}

// -------------------------------------------------------------- errors

#[test]
fn errors_match_the_spec_example() {
    let errors = [Open311Error::invalid_api_key()];
    assert_eq!(http_status(&errors), 403);
    assert_same_xml(
        &errors.render(Format::Xml),
        r#"<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"#,
    );
    assert_same_json(
        &errors.render(Format::Json),
        json!([{"code":403,"description":"Invalid api_key received -- can't proceed with create_request."}]),
    );
}

#[test]
fn several_errors_are_one_list_with_one_status() {
    let errors = [
        Open311Error::bad_request("service_code was not provided"),
        Open311Error::bad_request("lat must be between -90 and 90"),
    ];
    assert_eq!(http_status(&errors), 400);
    let json: Value = serde_json::from_str(&errors.render(Format::Json)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["code"], 400);
    assert_eq!(
        http_status(&[
            Open311Error::bad_request("x"),
            Open311Error::unknown_service_code("9")
        ]),
        404
    );
    assert_eq!(
        http_status(&[
            Open311Error::unknown_token("t"),
            Open311Error::forbidden("api_key is missing")
        ]),
        403
    );
}

// ----------------------------------------------------------- discovery

fn spec_discovery() -> Discovery {
    let endpoint =
        |specification: &str, url: &str, changeset: &str, endpoint_type, formats| Endpoint {
            specification: specification.into(),
            url: url.into(),
            changeset: changeset.into(),
            endpoint_type,
            formats,
        };
    Discovery {
        changeset: "2011-02-03 14:18".into(),
        contact: "You can email or call for assistance api@mycity.org +1 (555) 555-5555".into(),
        key_service: "You can request a key here: http://api.mycity.gov/api_key/request".into(),
        endpoints: vec![
            endpoint(
                GEOREPORT_V2_SPECIFICATION,
                "http://open311.mycity.gov/v2",
                "2010-11-23 09:01",
                EndpointType::Production,
                vec![Format::Xml],
            ),
            endpoint(
                GEOREPORT_V2_SPECIFICATION,
                "http://open311.mycity.gov/test/v2",
                "2010-10-02 09:01",
                EndpointType::Test,
                vec![Format::Xml, Format::Json],
            ),
            endpoint(
                "http://wiki.open311.org/GeoReport_v3",
                "http://open311.mycity.gov/v3",
                "2011-02-03 14:18",
                EndpointType::Test,
                vec![Format::Xml, Format::Json],
            ),
        ],
    }
}

#[test]
fn discovery_matches_the_spec_example_in_xml() {
    let spec = r#"<?xml version="1.0" encoding="UTF-8"?>
<discovery>
    <changeset>2011-02-03 14:18</changeset>
    <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
    <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
    <endpoints>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>http://open311.mycity.gov/v2</url>
            <changeset>2010-11-23 09:01</changeset>
            <type>production</type>
            <formats>
                <format>text/xml</format>
            </formats>
        </endpoint>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>http://open311.mycity.gov/test/v2</url>
            <changeset>2010-10-02 09:01</changeset>
            <type>test</type>
            <formats>
                <format>text/xml</format>
                <format>application/json</format>
            </formats>
        </endpoint>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v3</specification>
            <url>http://open311.mycity.gov/v3</url>
            <changeset>2011-02-03 14:18</changeset>
            <type>test</type>
            <formats>
                <format>text/xml</format>
                <format>application/json</format>
            </formats>
        </endpoint>
    </endpoints>
</discovery>"#;
    assert_same_xml(&spec_discovery().render(Format::Xml), spec);
}

#[test]
fn discovery_matches_the_spec_example_in_json() {
    assert_same_json(
        &spec_discovery().render(Format::Json),
        json!({
          "changeset":"2011-02-03 14:18",
          "contact":"You can email or call for assistance api@mycity.org +1 (555) 555-5555",
          "key_service":"You can request a key here: http://api.mycity.gov/api_key/request",
          "endpoints":[
            {
              "specification":"http://wiki.open311.org/GeoReport_v2",
              "url":"http://open311.mycity.gov/v2",
              "changeset":"2010-11-23 09:01",
              "type":"production",
              "formats":["text/xml"]
            },
            {
              "specification":"http://wiki.open311.org/GeoReport_v2",
              "url":"http://open311.mycity.gov/test/v2",
              "changeset":"2010-10-02 09:01",
              "type":"test",
              "formats":["text/xml","application/json"]
            },
            {
              "specification":"http://wiki.open311.org/GeoReport_v3",
              "url":"http://open311.mycity.gov/v3",
              "changeset":"2011-02-03 14:18",
              "type":"test",
              "formats":["text/xml","application/json"]
            }
          ]
        }),
    );
}

// -------------------------------------------------------------- format

#[test]
fn format_comes_from_the_extension() {
    assert_eq!(
        Format::split_extension("requests.json"),
        Ok(("requests", Format::Json))
    );
    assert_eq!(
        Format::split_extension("services.xml"),
        Ok(("services", Format::Xml))
    );
    assert_eq!(
        Format::split_extension("tip.fraud.XML"),
        Ok(("tip.fraud", Format::Xml)),
        "split at the last dot; the extension's case does not matter"
    );
    for bad in ["requests", "requests.html", "requests.", ".json", ""] {
        let error = Format::split_extension(bad).unwrap_err();
        assert_eq!(error.code, 404, "{bad:?}");
    }
    assert_eq!(Format::Xml.content_type(), "text/xml; charset=utf-8");
    assert_eq!(
        Format::Json.content_type(),
        "application/json; charset=utf-8"
    );
}
