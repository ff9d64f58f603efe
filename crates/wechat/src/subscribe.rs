//! Subscribe messages (`POST /cgi-bin/message/subscribe/send`) and the pure
//! helpers that make template values fit WeChat's per-kind limits.
//!
//! WeChat names each template field by kind and number (`thing1`, `time2`,
//! `character_string3`, ...). [`template_value`] makes a raw value valid for
//! its kind; [`WechatClient::send_subscribe_message`] applies it to every
//! field before sending, so an over-long value is shortened here rather than
//! refused by WeChat with 47003. Lengths count characters, not bytes.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::json;

use crate::WechatClient;
use crate::error::WechatError;
use crate::http::Api;

/// Path of the subscribe-message API.
pub(crate) const SUBSCRIBE_SEND_PATH: &str = "/cgi-bin/message/subscribe/send";

/// The kind of a template field, from the prefix of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// `thing`: up to 20 characters of any kind; shortened with `…`.
    Thing,
    /// `name`: up to 10 characters (Chinese or mixed) or 20 (ASCII only);
    /// cut without an ellipsis.
    Name,
    /// `phrase`: up to 5 Chinese characters; a fixed word, never cut.
    Phrase,
    /// `character_string`: up to 32 ASCII letters, digits and symbols;
    /// shortened with `...`.
    CharacterString,
    /// `number`: up to 32 digits, optionally with a decimal point.
    Number,
    /// `time`: `15:01`, `2019年10月1日 15:01`, `2019-10-01 15:01`, or a
    /// range of them joined by `~`.
    Time,
    /// `date`: `2019年10月1日` or `2019-10-01`, optionally with a time, or a
    /// range joined by `~`.
    Date,
    /// `phone_number`: up to 17 digits and `+ - ( )` / spaces.
    PhoneNumber,
}

impl FieldKind {
    /// The kind of a data key such as `thing1` or `character_string12`;
    /// `None` for kinds these helpers do not know.
    pub fn from_key(key: &str) -> Option<Self> {
        let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
        Some(match kind {
            "thing" => Self::Thing,
            "name" => Self::Name,
            "phrase" => Self::Phrase,
            "character_string" => Self::CharacterString,
            "number" => Self::Number,
            "time" => Self::Time,
            "date" => Self::Date,
            "phone_number" => Self::PhoneNumber,
            _ => return None,
        })
    }

    /// The most characters WeChat accepts for this kind (for `name`, the
    /// limit of a non-ASCII name).
    pub fn max_chars(self) -> usize {
        match self {
            Self::Thing => 20,
            Self::Name => 10,
            Self::Phrase => 5,
            Self::CharacterString | Self::Number => 32,
            Self::Time | Self::Date => 64,
            Self::PhoneNumber => 17,
        }
    }
}

/// Why a value cannot be made valid for its kind.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateValueError {
    #[error("empty value")]
    Empty,
    #[error("longer than {max} characters and cannot be shortened")]
    TooLong { max: usize },
    #[error("characters not allowed for this field kind")]
    InvalidCharacters,
    #[error("not in a format WeChat accepts for this field kind")]
    BadFormat,
}

/// Make `raw` a valid value for a field of `kind`: control characters and
/// runs of whitespace become one space, the ends are trimmed, then the
/// kind's limit applies. Free text (`thing`, `character_string`) is
/// shortened with an ellipsis, `name` is cut; values that cannot be
/// shortened without changing their meaning (`phrase`, `number`, `time`,
/// `date`, `phone_number`) are refused when too long or malformed.
pub fn template_value(kind: FieldKind, raw: &str) -> Result<String, TemplateValueError> {
    let value = clean(raw);
    if value.is_empty() {
        return Err(TemplateValueError::Empty);
    }
    let chars = value.chars().count();
    match kind {
        FieldKind::Thing => Ok(shorten(&value, 20, "…")),
        FieldKind::Name => {
            let max = if value.is_ascii() { 20 } else { 10 };
            Ok(value
                .chars()
                .take(max)
                .collect::<String>()
                .trim()
                .to_owned())
        }
        FieldKind::Phrase => {
            if !value.chars().all(is_chinese) {
                Err(TemplateValueError::InvalidCharacters)
            } else if chars > 5 {
                Err(TemplateValueError::TooLong { max: 5 })
            } else {
                Ok(value)
            }
        }
        FieldKind::CharacterString => {
            if !value.chars().all(|c| c.is_ascii_graphic()) {
                return Err(TemplateValueError::InvalidCharacters);
            }
            Ok(shorten(&value, 32, "..."))
        }
        FieldKind::Number => {
            let mut parts = value.split('.');
            let int = parts.next().unwrap_or_default();
            let frac = parts.next();
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if parts.next().is_some() || !digits(int) || frac.is_some_and(|f| !digits(f)) {
                Err(TemplateValueError::InvalidCharacters)
            } else if chars > 32 {
                Err(TemplateValueError::TooLong { max: 32 })
            } else {
                Ok(value)
            }
        }
        FieldKind::Time | FieldKind::Date => {
            let point = if kind == FieldKind::Time {
                is_time_point
            } else {
                is_date_point
            };
            let parts: Vec<&str> = value.split('~').map(str::trim).collect();
            if parts.len() > 2 || !parts.iter().all(|p| point(p)) {
                Err(TemplateValueError::BadFormat)
            } else {
                Ok(parts.join("~"))
            }
        }
        FieldKind::PhoneNumber => {
            if !value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '))
                || !value.chars().any(|c| c.is_ascii_digit())
            {
                Err(TemplateValueError::InvalidCharacters)
            } else if chars > 17 {
                Err(TemplateValueError::TooLong { max: 17 })
            } else {
                Ok(value)
            }
        }
    }
}

/// A `time` value: `2019年10月1日 15:01`. Give it Beijing local time.
pub fn format_time(at: NaiveDateTime) -> String {
    format!(
        "{} {:02}:{:02}",
        format_date(at.date()),
        at.hour(),
        at.minute()
    )
}

/// A `date` value: `2019年10月1日`.
pub fn format_date(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

fn clean(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `max` characters; if cut, the last ones make room for `ellipsis`.
fn shorten(value: &str, max: usize, ellipsis: &str) -> String {
    if value.chars().count() <= max {
        return value.to_owned();
    }
    let keep = max - ellipsis.chars().count();
    let head: String = value.chars().take(keep).collect();
    format!("{}{ellipsis}", head.trim_end())
}

fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{20000}'..='\u{2A6DF}'
        | '\u{F900}'..='\u{FAFF}' | '\u{2A700}'..='\u{2EBEF}' | '\u{30000}'..='\u{3134F}')
}

/// `HH:MM` or `HH:MM:SS`.
fn is_clock(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| {
        (1..=2).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= max)
    };
    matches!(parts.len(), 2 | 3)
        && num(parts[0], 23)
        && num(parts[1], 59)
        && parts.get(2).is_none_or(|p| num(p, 59))
}

/// `2019年10月1日`, `2019-10-01` or `2019/10/01`, a real calendar day.
fn is_day(s: &str) -> bool {
    let ymd: Option<(&str, &str, &str)> = if let Some(rest) = s.strip_suffix('日') {
        rest.split_once('年')
            .and_then(|(y, md)| md.split_once('月').map(|(m, d)| (y, m, d)))
    } else {
        let sep = if s.contains('-') { '-' } else { '/' };
        let mut it = s.split(sep);
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(y), Some(m), Some(d), None) => Some((y, m, d)),
            _ => None,
        }
    };
    let Some((y, m, d)) = ymd else { return false };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4
        || !all_digits(y)
        || !all_digits(m)
        || !all_digits(d)
        || m.len() > 2
        || d.len() > 2
    {
        return false;
    }
    match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d).is_some(),
        _ => false,
    }
}

fn is_time_point(s: &str) -> bool {
    match s.split_once(' ') {
        Some((day, clock)) => is_day(day) && is_clock(clock),
        None => is_clock(s),
    }
}

fn is_date_point(s: &str) -> bool {
    match s.split_once(' ') {
        Some((day, clock)) => is_day(day) && is_clock(clock),
        None => is_day(s),
    }
}

/// Which version of the mini-program a message opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MiniprogramState {
    Developer,
    Trial,
    #[default]
    Formal,
}

impl MiniprogramState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Developer => "developer",
            Self::Trial => "trial",
            Self::Formal => "formal",
        }
    }
}

/// Language of the message chrome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    ZhCn,
    EnUs,
    ZhHk,
    ZhTw,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZhCn => "zh_CN",
            Self::EnUs => "en_US",
            Self::ZhHk => "zh_HK",
            Self::ZhTw => "zh_TW",
        }
    }
}

/// One subscribe message. Data values are raw; sending normalises them with
/// [`template_value`] by the kind in their key. `Debug` shows the data keys
/// but not the values (they may hold names or phone numbers).
#[derive(Clone)]
pub struct SubscribeMessage {
    /// The recipient's openid.
    pub touser: String,
    pub template_id: String,
    /// Page opened on tap, e.g. `pages/case/detail?id=1`.
    pub page: Option<String>,
    /// Data key (`thing1`, ...) → raw value.
    pub data: BTreeMap<String, String>,
    pub miniprogram_state: MiniprogramState,
    pub lang: Lang,
}

impl fmt::Debug for SubscribeMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeMessage")
            .field("template_id", &self.template_id)
            .field("page", &self.page)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field("miniprogram_state", &self.miniprogram_state)
            .field("lang", &self.lang)
            .finish_non_exhaustive()
    }
}

impl SubscribeMessage {
    pub fn new(touser: impl Into<String>, template_id: impl Into<String>) -> Self {
        Self {
            touser: touser.into(),
            template_id: template_id.into(),
            page: None,
            data: BTreeMap::new(),
            miniprogram_state: MiniprogramState::default(),
            lang: Lang::default(),
        }
    }

    pub fn page(mut self, page: impl Into<String>) -> Self {
        self.page = Some(page.into());
        self
    }

    /// Set the raw value of a data key (`thing1`, `time2`, ...).
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    pub fn state(mut self, state: MiniprogramState) -> Self {
        self.miniprogram_state = state;
        self
    }

    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// The JSON body WeChat expects, values normalised by kind. Keys of
    /// unknown kinds are sent with whitespace cleaned only.
    pub fn to_body(&self) -> Result<serde_json::Value, WechatError> {
        if self.touser.is_empty() {
            return Err(WechatError::InvalidArgument("touser is empty"));
        }
        if self.template_id.is_empty() {
            return Err(WechatError::InvalidArgument("template_id is empty"));
        }
        if self.data.is_empty() {
            return Err(WechatError::InvalidArgument("no template data"));
        }
        let mut data = serde_json::Map::new();
        for (key, raw) in &self.data {
            let value = match FieldKind::from_key(key) {
                Some(kind) => template_value(kind, raw),
                None => Some(clean(raw))
                    .filter(|v| !v.is_empty())
                    .ok_or(TemplateValueError::Empty),
            }
            .map_err(|reason| WechatError::InvalidTemplateValue {
                field: key.clone(),
                reason,
            })?;
            data.insert(key.clone(), json!({ "value": value }));
        }
        let mut body = json!({
            "touser": self.touser,
            "template_id": self.template_id,
            "data": data,
            "miniprogram_state": self.miniprogram_state.as_str(),
            "lang": self.lang.as_str(),
        });
        if let Some(page) = &self.page {
            body["page"] = json!(page);
        }
        Ok(body)
    }
}

impl WechatClient {
    /// Send a subscribe message (`POST /cgi-bin/message/subscribe/send`).
    ///
    /// Errors: [`WechatError::InvalidTemplateValue`] / `InvalidArgument`
    /// (refused locally, no request); [`WechatError::NoSubscriptionCredit`]
    /// (43101: the user must subscribe again; do not retry);
    /// [`WechatError::TemplateParamInvalid`] (47003; do not retry);
    /// [`WechatError::Busy`] (-1) and `Unavailable` (retry later).
    pub async fn send_subscribe_message(
        &self,
        message: &SubscribeMessage,
    ) -> Result<(), WechatError> {
        let body = message.to_body()?;
        self.call(Api::json(SUBSCRIBE_SEND_PATH), &body, &[])
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kind: FieldKind, raw: &str) -> String {
        template_value(kind, raw).unwrap()
    }

    #[test]
    fn kind_from_key() {
        assert_eq!(FieldKind::from_key("thing1"), Some(FieldKind::Thing));
        assert_eq!(FieldKind::from_key("thing12"), Some(FieldKind::Thing));
        assert_eq!(
            FieldKind::from_key("character_string3"),
            Some(FieldKind::CharacterString)
        );
        assert_eq!(
            FieldKind::from_key("phone_number4"),
            Some(FieldKind::PhoneNumber)
        );
        assert_eq!(FieldKind::from_key("phrase2"), Some(FieldKind::Phrase));
        assert_eq!(FieldKind::from_key("amount1"), None);
        assert_eq!(FieldKind::from_key("things1"), None);
    }

    #[test]
    fn thing_counts_characters_not_bytes() {
        // 20 Chinese characters are 60 bytes but fit.
        let twenty = "法".repeat(20);
        assert_eq!(ok(FieldKind::Thing, &twenty), twenty);
        let long = "法律咨询已受理请耐心等待律师联系您谢谢配合祝好";
        let short = ok(FieldKind::Thing, long);
        assert_eq!(short.chars().count(), 20);
        assert!(short.ends_with('…'));
        assert_eq!(short, "法律咨询已受理请耐心等待律师联系您谢谢…");
    }

    #[test]
    fn thing_cleans_whitespace_and_controls() {
        assert_eq!(ok(FieldKind::Thing, "  a\n\tb\u{0}c  "), "a b c");
        assert_eq!(
            template_value(FieldKind::Thing, " \n\t "),
            Err(TemplateValueError::Empty)
        );
        // No dangling space before the ellipsis.
        let v = ok(FieldKind::Thing, "aaaaaaaaaaaaaaaaaa bbbbbb");
        assert_eq!(v, "aaaaaaaaaaaaaaaaaa…");
    }

    #[test]
    fn name_limits_depend_on_script() {
        assert_eq!(ok(FieldKind::Name, "张三"), "张三");
        assert_eq!(
            ok(FieldKind::Name, "欧阳一二三四五六七八九"),
            "欧阳一二三四五六七八"
        );
        assert_eq!(
            ok(FieldKind::Name, "Alexander Hamiltonian Smith"),
            "Alexander Hamiltonia"
        );
        assert_eq!(ok(FieldKind::Name, "Li Lei"), "Li Lei");
    }

    #[test]
    fn phrase_is_short_chinese_only() {
        assert_eq!(ok(FieldKind::Phrase, "已受理"), "已受理");
        assert_eq!(
            template_value(FieldKind::Phrase, "处理已经完成了"),
            Err(TemplateValueError::TooLong { max: 5 })
        );
        assert_eq!(
            template_value(FieldKind::Phrase, "done"),
            Err(TemplateValueError::InvalidCharacters)
        );
    }

    #[test]
    fn character_string_is_ascii_up_to_32() {
        assert_eq!(
            ok(FieldKind::CharacterString, "SS-2025-000123"),
            "SS-2025-000123"
        );
        let long = "A".repeat(40);
        let v = ok(FieldKind::CharacterString, &long);
        assert_eq!(v.len(), 32);
        assert!(v.ends_with("..."));
        assert_eq!(
            template_value(FieldKind::CharacterString, "案件-1"),
            Err(TemplateValueError::InvalidCharacters)
        );
        assert_eq!(
            template_value(FieldKind::CharacterString, "a b"),
            Err(TemplateValueError::InvalidCharacters)
        );
    }

    #[test]
    fn number_is_digits_with_optional_decimals() {
        assert_eq!(ok(FieldKind::Number, "42"), "42");
        assert_eq!(ok(FieldKind::Number, "3.14"), "3.14");
        for bad in ["-1", "1e5", "1.2.3", ".5", "5.", "12a"] {
            assert_eq!(
                template_value(FieldKind::Number, bad),
                Err(TemplateValueError::InvalidCharacters),
                "{bad}"
            );
        }
        assert_eq!(
            template_value(FieldKind::Number, &"9".repeat(33)),
            Err(TemplateValueError::TooLong { max: 32 })
        );
        assert_eq!(ok(FieldKind::Number, &"9".repeat(32)), "9".repeat(32));
    }

    #[test]
    fn time_and_date_formats() {
        for good in [
            "15:01",
            "2019年10月1日 15:01",
            "2019-10-01 15:01:30",
            "2019年10月1日 15:01~2019年10月1日 16:00",
        ] {
            assert_eq!(ok(FieldKind::Time, good), good, "{good}");
        }
        assert_eq!(ok(FieldKind::Time, "15:01 ~ 16:00"), "15:01~16:00");
        for bad in [
            "25:00",
            "15:61",
            "2019年10月1日",
            "tomorrow",
            "1:2:3:4",
            "15:01~16:00~17:00",
        ] {
            assert_eq!(
                template_value(FieldKind::Time, bad),
                Err(TemplateValueError::BadFormat),
                "{bad}"
            );
        }
        for good in [
            "2019年10月1日",
            "2019-10-01",
            "2019/10/01 15:01",
            "2024-02-29",
        ] {
            assert_eq!(ok(FieldKind::Date, good), good, "{good}");
        }
        for bad in [
            "2019年13月1日",
            "2023-02-29",
            "15:01",
            "19-10-01",
            "2019-10",
        ] {
            assert_eq!(
                template_value(FieldKind::Date, bad),
                Err(TemplateValueError::BadFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn formatted_time_and_date_are_accepted() {
        let at = NaiveDate::from_ymd_opt(2019, 10, 1)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        assert_eq!(format_time(at), "2019年10月1日 09:05");
        assert_eq!(format_date(at.date()), "2019年10月1日");
        assert!(template_value(FieldKind::Time, &format_time(at)).is_ok());
        assert!(template_value(FieldKind::Date, &format_date(at.date())).is_ok());
    }

    #[test]
    fn phone_number_limits() {
        assert_eq!(
            ok(FieldKind::PhoneNumber, "+86 138-0013-8000"),
            "+86 138-0013-8000"
        );
        assert_eq!(
            template_value(FieldKind::PhoneNumber, "+86 (010) 1234-56789"),
            Err(TemplateValueError::TooLong { max: 17 })
        );
        assert_eq!(
            template_value(FieldKind::PhoneNumber, "call me"),
            Err(TemplateValueError::InvalidCharacters)
        );
        assert_eq!(
            template_value(FieldKind::PhoneNumber, "+-"),
            Err(TemplateValueError::InvalidCharacters)
        );
    }

    #[test]
    fn body_normalises_values_and_refuses_invalid_ones() {
        let message = SubscribeMessage::new("openid-1", "tmpl-1")
            .page("pages/case/detail?id=7")
            .field("thing1", "法".repeat(30))
            .field("amount2", "  ¥12.00 ")
            .state(MiniprogramState::Trial)
            .lang(Lang::EnUs);
        let body = message.to_body().unwrap();
        assert_eq!(body["touser"], "openid-1");
        assert_eq!(body["template_id"], "tmpl-1");
        assert_eq!(body["page"], "pages/case/detail?id=7");
        assert_eq!(body["miniprogram_state"], "trial");
        assert_eq!(body["lang"], "en_US");
        assert_eq!(
            body["data"]["thing1"]["value"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            20
        );
        assert_eq!(body["data"]["amount2"]["value"], "¥12.00");

        let bad = SubscribeMessage::new("o", "t").field("number1", "abc");
        match bad.to_body() {
            Err(WechatError::InvalidTemplateValue { field, reason }) => {
                assert_eq!(field, "number1");
                assert_eq!(reason, TemplateValueError::InvalidCharacters);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            SubscribeMessage::new("o", "t").to_body(),
            Err(WechatError::InvalidArgument(_))
        ));
        let debug = format!("{message:?}");
        assert!(debug.contains("thing1") && !debug.contains("法"), "{debug}");
        assert!(!debug.contains("openid-1"), "{debug}");

        let no_page = SubscribeMessage::new("o", "t")
            .field("thing1", "x")
            .to_body()
            .unwrap();
        assert!(no_page.get("page").is_none());
    }
}
