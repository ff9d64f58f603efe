//! POST and GET argument parsing: the specification's example request,
//! every error case, and the attribute syntax.

use chrono::{DateTime, Duration, FixedOffset};
use sansuo_open311::*;

/// Decodes an `application/x-www-form-urlencoded` body or query string the
/// way the HTTP layer will before calling us.
fn form(encoded: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }
    encoded
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn descriptions(errors: &[Open311Error]) -> Vec<&str> {
    errors.iter().map(|e| e.description.as_str()).collect()
}

fn post_errors(encoded: &str) -> Vec<Open311Error> {
    parse_post_request(&form(encoded)).expect_err("should be refused")
}

/// The example request of the specification's "POST Service Request".
const SPEC_POST: &str = "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001";

// ------------------------------------------------------------------ POST

#[test]
fn the_spec_example_request_parses() {
    let fields = form(SPEC_POST);
    assert_eq!(require_api_key(&fields), Ok("xyz"));
    let request = parse_post_request(&fields).unwrap();
    assert_eq!(
        request,
        NewServiceRequest {
            jurisdiction_id: Some("city.gov".into()),
            service_code: "001".into(),
            location: Location {
                lat_long: Some(LatLong {
                    lat: 37.76524078,
                    long: -122.4212043
                }),
                address_string: Some("1234 5th street".into()),
                address_id: None,
            },
            email: Some("smit333@sfgov.edu".into()),
            device_id: Some("tt222111".into()),
            account_id: Some("123456".into()),
            first_name: Some("john".into()),
            last_name: Some("smith".into()),
            phone: Some("111111111".into()),
            description: Some("A large sinkhole is destroying the street".into()),
            media_url: Some("http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg".into()),
            attributes: [
                ("WHISDORN".to_owned(), vec!["COISL001".to_owned()]),
                ("WHISPAWN".to_owned(), vec!["123456".to_owned()]),
            ]
            .into(),
        }
    );
}

#[test]
fn missing_or_empty_api_key_is_403() {
    for body in [
        "service_code=001",
        "api_key=&service_code=001",
        "api_key=++",
    ] {
        let error = require_api_key(&form(body)).unwrap_err();
        assert_eq!(error.code, 403, "{body}");
        assert!(
            error.description.contains("api_key"),
            "{}",
            error.description
        );
    }
    assert_eq!(Open311Error::invalid_api_key().code, 403);
}

#[test]
fn missing_service_code_is_400() {
    let errors = post_errors("api_key=k&address_string=%E4%B8%9C%E9%97%A8");
    assert_eq!(descriptions(&errors), ["service_code was not provided"]);
    assert_eq!(errors[0].code, 400);
    let errors = post_errors("service_code=&address_id=9");
    assert_eq!(descriptions(&errors), ["service_code was not provided"]);
}

#[test]
fn conflicting_repeated_argument_is_400() {
    let errors = post_errors("service_code=1&service_code=2&address_id=9");
    assert_eq!(
        descriptions(&errors),
        ["service_code was given more than once with different values"]
    );
    // The same value twice is not ambiguous.
    assert!(parse_post_request(&form("service_code=1&service_code=1&address_id=9")).is_ok());
}

#[test]
fn missing_location_is_400() {
    let errors = post_errors("service_code=001&description=x");
    assert_eq!(
        descriptions(&errors),
        ["a location is required: lat and long, or address_string, or address_id"]
    );
    // Empty arguments count as absent.
    let errors = post_errors("service_code=001&lat=&long=&address_string=&address_id=");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, 400);
}

#[test]
fn each_location_alone_is_enough() {
    for location in [
        "lat=31.23&long=121.47",
        "address_string=%E4%B8%9C%E9%97%A8",
        "address_id=A-9",
    ] {
        let request = parse_post_request(&form(&format!("service_code=001&{location}")))
            .unwrap_or_else(|e| panic!("{location}: {e:?}"));
        assert_eq!(request.service_code, "001");
    }
    let request =
        parse_post_request(&form("service_code=001&address_string=%E4%B8%9C%E9%97%A8")).unwrap();
    assert_eq!(request.location.address_string.as_deref(), Some("东门"));
    assert_eq!(request.location.lat_long, None);
}

#[test]
fn half_a_coordinate_pair_is_400() {
    let errors = post_errors("service_code=001&lat=31.2");
    assert_eq!(
        descriptions(&errors),
        ["lat and long must be sent together: long is missing"]
    );
    // Even with an address, a lone long is a client bug worth reporting.
    let errors = post_errors("service_code=001&long=121.4&address_id=9");
    assert_eq!(
        descriptions(&errors),
        ["lat and long must be sent together: lat is missing"]
    );
}

#[test]
fn bad_coordinates_are_400() {
    let errors = post_errors("service_code=001&lat=90.0001&long=121");
    assert_eq!(
        descriptions(&errors),
        ["lat must be between -90 and 90 (WGS84 degrees); got 90.0001"]
    );
    let errors = post_errors("service_code=001&lat=31&long=-180.5");
    assert_eq!(
        descriptions(&errors),
        ["long must be between -180 and 180 (WGS84 degrees); got -180.5"]
    );
    for lat in ["abc", "NaN", "inf", "31,2"] {
        let errors = post_errors(&format!("service_code=001&lat={lat}&long=121"));
        assert_eq!(errors.len(), 1, "{lat}: {errors:?}");
        assert!(
            errors[0]
                .description
                .starts_with("lat must be a decimal number"),
            "{lat}: {errors:?}"
        );
    }
    // The bounds themselves are places.
    let request = parse_post_request(&form("service_code=001&lat=-90&long=180")).unwrap();
    assert_eq!(
        request.location.lat_long,
        Some(LatLong {
            lat: -90.0,
            long: 180.0
        })
    );
}

#[test]
fn description_is_limited_to_4000_characters_not_bytes() {
    let fits = "井".repeat(MAX_DESCRIPTION_CHARS);
    let fields = vec![
        ("service_code".to_owned(), "001".to_owned()),
        ("address_id".to_owned(), "9".to_owned()),
        ("description".to_owned(), fits.clone()),
    ];
    let request = parse_post_request(&fields).unwrap();
    assert_eq!(request.description, Some(fits.clone()));

    let mut fields = fields;
    fields[2].1.push('井');
    let errors = parse_post_request(&fields).unwrap_err();
    assert_eq!(
        descriptions(&errors),
        ["description is 4001 characters long; at most 4000 are allowed"]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let long_description = "x".repeat(4001);
    let errors = post_errors(&format!(
        "lat=100&long=0&description={long_description}&attribute[]=1"
    ));
    assert_eq!(
        descriptions(&errors),
        [
            "service_code was not provided",
            "lat must be between -90 and 90 (WGS84 degrees); got 100",
            "description is 4001 characters long; at most 4000 are allowed",
            "\"attribute[]\" is not a valid attribute argument: expected attribute[CODE] or attribute[CODE][]",
        ]
    );
    assert!(errors.iter().all(|e| e.code == 400));
}

#[test]
fn unknown_arguments_are_ignored() {
    let request = parse_post_request(&form(
        "service_code=001&address_id=9&foo=bar&api_key=k&lang=zh",
    ))
    .unwrap();
    assert_eq!(request.service_code, "001");
    assert_eq!(request.attributes, AttributeAnswers::new());
}

#[test]
fn attributes_single_and_multiple_round_trip() {
    let request = parse_post_request(&form(
        "service_code=001&address_id=9\
         &attribute[KIND]=fraud\
         &attribute[CHANNELS][]=phone&attribute[CHANNELS][]=wechat&attribute[CHANNELS][]=sms\
         &attribute[NOTE]=%E5%8F%AF%E7%96%91%E7%94%B5%E8%AF%9D\
         &attribute[EMPTY]=&attribute[EMPTY_LIST][]=",
    ))
    .unwrap();
    let expected: AttributeAnswers = [
        (
            "CHANNELS".to_owned(),
            vec!["phone".into(), "wechat".into(), "sms".into()],
        ),
        ("KIND".to_owned(), vec!["fraud".into()]),
        ("NOTE".to_owned(), vec!["可疑电话".into()]),
    ]
    .into();
    assert_eq!(request.attributes, expected, "empty answers are dropped");
}

#[test]
fn malformed_attribute_names_are_400() {
    for name in [
        "attribute[]",
        "attribute[A",
        "attribute[A][B]",
        "attribute[A]x",
        "attribute[[A]]",
    ] {
        let fields = vec![
            ("service_code".to_owned(), "001".to_owned()),
            ("address_id".to_owned(), "9".to_owned()),
            (name.to_owned(), "v".to_owned()),
        ];
        let errors = parse_post_request(&fields).unwrap_err();
        assert_eq!(errors.len(), 1, "{name}");
        assert!(
            errors[0]
                .description
                .contains("not a valid attribute argument"),
            "{name}"
        );
    }
}

// ---------------------------------------------------------- attributes

fn definition() -> ServiceDefinition {
    let attribute = |code: &str, datatype, required, keys: &[&str]| Attribute {
        variable: true,
        code: code.into(),
        datatype,
        required,
        datatype_description: None,
        order: 1,
        description: code.into(),
        values: keys
            .iter()
            .map(|k| AttributeValue {
                key: (*k).into(),
                name: k.to_uppercase(),
            })
            .collect(),
    };
    let mut notice = attribute("NOTICE", Datatype::Text, false, &[]);
    notice.variable = false;
    ServiceDefinition {
        service_code: "tip.fraud".into(),
        attributes: vec![
            attribute(
                "KIND",
                Datatype::Singlevaluelist,
                true,
                &["phone", "online", "door"],
            ),
            attribute(
                "CHANNELS",
                Datatype::Multivaluelist,
                false,
                &["wechat", "sms", "call"],
            ),
            attribute("AMOUNT", Datatype::Number, false, &[]),
            attribute("WHEN", Datatype::Datetime, false, &[]),
            attribute("CALLER", Datatype::String, false, &[]),
            attribute("STORY", Datatype::Text, false, &[]),
            notice,
        ],
    }
}

fn answers(encoded: &str) -> AttributeAnswers {
    parse_post_request(&form(&format!(
        "service_code=tip.fraud&address_id=9&{encoded}"
    )))
    .unwrap()
    .attributes
}

#[test]
fn valid_answers_pass() {
    let answers = answers(
        "attribute[KIND]=phone&attribute[CHANNELS][]=wechat&attribute[CHANNELS][]=call\
         &attribute[AMOUNT]=-12.5&attribute[WHEN]=2024-05-01T10:00:00%2B08:00\
         &attribute[CALLER]=%E7%8E%8B%E5%85%88%E7%94%9F&attribute[STORY]=line1%0Aline2",
    );
    assert_eq!(validate_attributes(&definition(), &answers), Ok(()));
    // A single value sent with the list syntax is still one value.
    assert_eq!(
        validate_attributes(&definition(), &self::answers("attribute[KIND][]=door")),
        Ok(())
    );
}

#[test]
fn missing_required_attribute_is_400() {
    let errors = validate_attributes(&definition(), &answers("attribute[AMOUNT]=1")).unwrap_err();
    assert_eq!(descriptions(&errors), ["attribute[KIND] is required"]);
    assert_eq!(errors[0].code, 400);
}

#[test]
fn every_bad_answer_is_reported() {
    let errors = validate_attributes(
        &definition(),
        &answers(
            "attribute[KIND]=fax&attribute[CHANNELS][]=sms&attribute[CHANNELS][]=pigeon\
             &attribute[AMOUNT]=12%E5%85%83&attribute[WHEN]=2024-05-01\
             &attribute[CALLER]=a%0Ab&attribute[NOTICE]=x&attribute[TYPO]=1",
        ),
    )
    .unwrap_err();
    assert_eq!(
        descriptions(&errors),
        [
            "attribute[AMOUNT] must be a number; got \"12元\"",
            "attribute[CALLER] must be a single line",
            "attribute[CHANNELS] must be one of wechat, sms, call; got \"pigeon\"",
            "attribute[KIND] must be one of phone, online, door; got \"fax\"",
            "attribute[NOTICE] is not an attribute of service_code \"tip.fraud\"",
            "attribute[TYPO] is not an attribute of service_code \"tip.fraud\"",
            "attribute[WHEN] must be a datetime with a time zone, e.g. 2010-01-01T00:00:00Z; got \"2024-05-01\"",
        ]
    );
}

#[test]
fn only_multivaluelist_takes_several_values() {
    let errors = validate_attributes(
        &definition(),
        &answers("attribute[KIND][]=phone&attribute[KIND][]=door"),
    )
    .unwrap_err();
    assert_eq!(
        descriptions(&errors),
        ["attribute[KIND] takes one value; got 2"]
    );
}

// ------------------------------------------------------------------- GET

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-06-30T12:00:00+08:00").unwrap()
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn search(encoded: &str) -> RequestSearch {
    match parse_request_query(&form(encoded), now()) {
        Ok(RequestQuery::Search(search)) => search,
        other => panic!("{encoded}: {other:?}"),
    }
}

fn query_errors(encoded: &str) -> Vec<Open311Error> {
    parse_request_query(&form(encoded), now()).expect_err("should be refused")
}

#[test]
fn defaults_are_the_last_90_days_first_page_of_50() {
    let search = search("jurisdiction_id=sansuo.example");
    assert_eq!(
        search,
        RequestSearch {
            service_codes: vec![],
            start: now() - Duration::days(90),
            end: now(),
            statuses: vec![],
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    );
    assert_eq!(search.offset(), 0);
    assert_eq!(search.limit(), 50);
    assert!(search.includes_status(RequestStatus::Closed));
    assert!(search.includes_service("anything"));
}

#[test]
fn the_spec_sample_query_parses() {
    let search = search(
        "start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open&jurisdiction_id=city.gov",
    );
    assert_eq!(search.start, at("2010-05-24T00:00:00Z"));
    assert_eq!(search.end, at("2010-06-24T00:00:00Z"));
    assert_eq!(search.statuses, [RequestStatus::Open]);
    assert!(!search.includes_status(RequestStatus::Closed));
    assert!(
        search.includes_requested(&at("2010-06-24T08:00:00+08:00")),
        "inclusive end"
    );
    assert!(!search.includes_requested(&at("2010-06-24T00:00:01Z")));
}

#[test]
fn lists_may_be_comma_separated_or_repeated() {
    let search = search(
        "status=open,closed&service_code=tip.fraud,tip.hazard&service_code=tip.noise&status=open",
    );
    assert_eq!(
        search.statuses,
        [RequestStatus::Open, RequestStatus::Closed]
    );
    assert_eq!(
        search.service_codes,
        ["tip.fraud", "tip.hazard", "tip.noise"]
    );
}

#[test]
fn one_date_anchors_a_90_day_window() {
    let window = search("start_date=2024-01-01T00:00:00%2B08:00");
    assert_eq!(window.start, at("2024-01-01T00:00:00+08:00"));
    assert_eq!(window.end, at("2024-03-31T00:00:00+08:00"));
    let window = search("end_date=2024-03-31T00:00:00Z");
    assert_eq!(window.start, at("2024-01-01T00:00:00Z"));
    // An unencoded '+' arrives as a space and is read back.
    let window = search("start_date=2024-01-01T00:00:00+08:00");
    assert_eq!(window.start, at("2024-01-01T00:00:00+08:00"));
}

#[test]
fn service_request_id_overrides_everything_else() {
    let query = parse_request_query(
        &form("service_request_id=638344,638349,+638344&status=bogus&start_date=never&page_size=0"),
        now(),
    );
    assert_eq!(
        query,
        Ok(RequestQuery::ByIds(vec!["638344".into(), "638349".into()]))
    );
    let too_many: Vec<String> = (0..=MAX_PAGE_SIZE).map(|i| i.to_string()).collect();
    let errors = query_errors(&format!("service_request_id={}", too_many.join(",")));
    assert_eq!(
        descriptions(&errors),
        ["service_request_id names 101 requests; at most 100 at once"]
    );
}

#[test]
fn bad_dates_are_400() {
    let errors = query_errors("start_date=2024-01-01&end_date=yesterday");
    assert_eq!(
        descriptions(&errors),
        [
            "start_date must be a W3C datetime with a time zone, e.g. 2010-01-01T00:00:00Z; got \"2024-01-01\"",
            "end_date must be a W3C datetime with a time zone, e.g. 2010-01-01T00:00:00Z; got \"yesterday\"",
        ]
    );
    assert!(errors.iter().all(|e| e.code == 400));
    let errors = query_errors("start_date=2024-01-01T00:00:00");
    assert_eq!(errors.len(), 1, "a datetime without a zone is refused");
}

#[test]
fn end_before_start_or_more_than_90_days_is_400() {
    let errors = query_errors("start_date=2024-02-01T00:00:00Z&end_date=2024-01-31T23:59:59Z");
    assert_eq!(
        descriptions(&errors),
        ["end_date must not be before start_date"]
    );
    let errors = query_errors("start_date=2024-01-01T00:00:00Z&end_date=2024-03-31T00:00:01Z");
    assert_eq!(
        descriptions(&errors),
        ["start_date and end_date may not span more than 90 days"]
    );
    // Exactly 90 days is allowed.
    search("start_date=2024-01-01T00:00:00Z&end_date=2024-03-31T00:00:00Z");
}

#[test]
fn unknown_status_is_400() {
    let errors = query_errors("status=open,pending");
    assert_eq!(
        descriptions(&errors),
        ["status must be open or closed (comma separated for both); got \"pending\""]
    );
    // The specification spells them in lower case.
    assert_eq!(query_errors("status=Open").len(), 1);
}

#[test]
fn page_and_page_size_bounds() {
    let errors = query_errors("page_size=0");
    assert_eq!(
        descriptions(&errors),
        ["page_size must be a whole number from 1 to 100; got \"0\""]
    );
    assert_eq!(query_errors("page_size=101").len(), 1);
    assert_eq!(query_errors("page_size=-5").len(), 1);
    let errors = query_errors("page=0");
    assert_eq!(
        descriptions(&errors),
        ["page must be a whole number from 1 to 4294967295; got \"0\""]
    );
    assert_eq!(query_errors("page=two").len(), 1);
    let third = search("page=3&page_size=100");
    assert_eq!((third.page, third.page_size), (3, 100));
    assert_eq!(third.offset(), 200);
    let last = search(&format!("page={}&page_size=100", u32::MAX));
    assert_eq!(
        last.offset(),
        (u64::from(u32::MAX) - 1) * 100,
        "no overflow"
    );
}

#[test]
fn every_query_problem_is_reported_at_once() {
    let errors = query_errors("status=done&start_date=x&page_size=0");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(http_status(&errors), 400);
}
