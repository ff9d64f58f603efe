//! Value types parsed once at the edge. Their fields are private and their
//! only constructors validate, so a `QuestionText` in hand is always valid.

use serde::Serialize;
use std::fmt;

/// Why a value was refused, with the request field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Trimmed text whose length in characters (not bytes: questions are
/// Chinese) lies in `min..=max`, with no control characters but newlines/tabs.
pub(crate) fn bounded_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars < min {
        return Err(ValidationError::new(
            field,
            format!("must be at least {min} characters (got {chars})"),
        ));
    }
    if chars > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

string_value!(
    /// A community's QR `scene`: WeChat allows at most 32 characters of
    /// `[0-9A-Za-z!#$&'()*+,/:;=?@-._~]`. An opaque id, never personal data.
    Scene
);

impl Scene {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "scene",
                format!("must be 1 to {} characters", Self::MAX_LEN),
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
        if !raw.chars().all(allowed) {
            return Err(ValidationError::new(
                "scene",
                "may only contain 0-9 A-Z a-z and !#$&'()*+,/:;=?@-._~",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

string_value!(
    /// A consultation question: 10 to 2000 characters.
    QuestionText
);

impl QuestionText {
    pub const MIN: usize = 10;
    pub const MAX: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("question", raw, Self::MIN, Self::MAX).map(Self)
    }
}

string_value!(
    /// A message in a case thread (reply, follow-up, internal note): 1 to 2000 characters.
    MessageBody
);

impl MessageBody {
    pub const MAX: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("body", raw, 1, Self::MAX).map(Self)
    }
}

string_value!(
    /// Why staff declined or handed back a case: 2 to 500 characters, so
    /// the coordinator reading it later learns something.
    Reason
);

impl Reason {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("reason", raw, 2, 500).map(Self)
    }
}

string_value!(
    /// A client-chosen `Idempotency-Key`: 8 to 128 visible ASCII characters.
    IdempotencyKey
);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok_len = (8..=128).contains(&raw.len());
        if !ok_len || !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ValidationError::new(
                "Idempotency-Key",
                "must be 8 to 128 visible ASCII characters (a UUID is ideal)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A resident's rating of an answer: 1 to 5 stars and an optional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    stars: u8,
    comment: Option<String>,
}

impl Rating {
    pub fn parse(stars: i64, comment: Option<&str>) -> Result<Self, ValidationError> {
        if !(1..=5).contains(&stars) {
            return Err(ValidationError::new("stars", "must be between 1 and 5"));
        }
        let comment = match comment.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(bounded_text("comment", text, 1, 500)?),
        };
        Ok(Self {
            stars: stars as u8,
            comment,
        })
    }

    pub fn stars(&self) -> u8 {
        self.stars
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_follow_wechat_rules() {
        assert!(Scene::parse("c-jjq01").is_ok());
        assert!(Scene::parse("a=b&c=d").is_ok());
        assert!(Scene::parse(&"x".repeat(32)).is_ok());
        assert!(Scene::parse(&"x".repeat(33)).is_err());
        assert!(Scene::parse("").is_err());
        assert!(Scene::parse("蒋家桥").is_err());
        assert!(Scene::parse("has space").is_err());
        assert!(Scene::parse("quote\"").is_err());
    }

    #[test]
    fn questions_count_characters_not_bytes() {
        // 10 Chinese characters are 30 bytes but exactly the minimum.
        assert!(QuestionText::parse("邻居家漏水怎么办呢？").is_ok());
        assert!(QuestionText::parse("漏水怎么办").is_err());
        assert!(QuestionText::parse(&"问".repeat(2000)).is_ok());
        assert!(QuestionText::parse(&"问".repeat(2001)).is_err());
    }

    #[test]
    fn questions_are_trimmed_and_refuse_control_characters() {
        let q = QuestionText::parse("   楼上装修噪音太大怎么办？  \n").unwrap();
        assert_eq!(q.as_str(), "楼上装修噪音太大怎么办？");
        assert!(QuestionText::parse("楼上装修噪音\u{0007}太大怎么办？").is_err());
        assert!(QuestionText::parse("第一行问题描述\n第二行补充说明").is_ok());
    }

    #[test]
    fn ratings_are_one_to_five() {
        assert!(Rating::parse(0, None).is_err());
        assert!(Rating::parse(6, None).is_err());
        let r = Rating::parse(5, Some("  很有帮助 ")).unwrap();
        assert_eq!((r.stars(), r.comment()), (5, Some("很有帮助")));
        assert_eq!(Rating::parse(3, Some("   ")).unwrap().comment(), None);
        assert!(Rating::parse(3, Some(&"好".repeat(501))).is_err());
    }

    #[test]
    fn idempotency_keys_are_bounded_ascii() {
        assert!(IdempotencyKey::parse("0192f5c4-7e1a-7cc0-b2a5-5f1f0c1b9a77").is_ok());
        assert!(IdempotencyKey::parse("short").is_err());
        assert!(IdempotencyKey::parse("has a space in it").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
    }

    #[test]
    fn reasons_and_bodies_have_bounds() {
        assert!(Reason::parse("忙").is_err());
        assert!(Reason::parse("正在开庭").is_ok());
        assert!(MessageBody::parse("  ").is_err());
        assert!(MessageBody::parse("好的").is_ok());
    }
}
