//! How often one resident may write, per action: one table, so every
//! resident write has a policy and none is forgotten (the api applies it
//! with one extractor, and a source test there fails on a resident write
//! without it). Tip reports keep their own rule (`tip::submission_limit`,
//! counted under a pseudonym so an anonymous tip stays unlinked).

use std::fmt;

/// At most `max` in any `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePolicy {
    pub max: u32,
    pub window_seconds: u64,
}

macro_rules! actions {
    ($($variant:ident = ($name:literal, $max:literal, $window:literal, $doc:literal)),* $(,)?) => {
        /// A kind of resident write, with its default policy.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ResidentAction {
            $(#[doc = $doc] $variant),*
        }

        impl ResidentAction {
            pub const ALL: &'static [ResidentAction] = &[$(ResidentAction::$variant),*];

            /// The stable name, in configuration and limiter keys.
            pub const fn name(self) -> &'static str {
                match self { $(ResidentAction::$variant => $name),* }
            }

            /// The default policy.
            pub const fn default_policy(self) -> RatePolicy {
                match self {
                    $(ResidentAction::$variant => RatePolicy { max: $max, window_seconds: $window }),*
                }
            }
        }
    };
}

actions! {
    AskQuestion = ("ask_question", 10, 3600, "Submit a consultation."),
    ConsultationMessage = ("consultation_message", 30, 3600, "A follow-up message on a consultation."),
    ChangeCase = ("change_case", 20, 3600, "Withdraw or reopen a consultation or mediation."),
    RateService = ("rate_service", 10, 3600, "Rate a consultation or mediation."),
    BookMediation = ("book_mediation", 5, 3600, "Apply for a mediation (names a third party)."),
    AnswerMediation = ("answer_mediation", 20, 3600, "Confirm attendance, answer the follow-up visit."),
    MediationMessage = ("mediation_message", 30, 3600, "A message to the mediator in a mediation's thread."),
    TipFollowUp = ("tip_follow_up", 30, 3600, "A follow-up on your named tip."),
    TipPhotos = ("tip_photos", 20, 3600, "Add photos to your named tip."),
    MeToo = ("me_too", 30, 3600, "Say \"me too\" on a tip."),
    BindPhone = ("bind_phone", 5, 3600, "Bind a phone number."),
    Subscribe = ("subscribe", 60, 3600, "Record subscribe-message consent."),
    Urge = ("urge", 10, 3600, "Urge (催办) a case still waiting for its first answer."),
    DeleteAccount = ("delete_account", 5, 3600, "Delete your account (注销)."),
}

impl fmt::Display for ResidentAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The policies in force: the defaults, with any overrides from
/// configuration (`ask_question=20/3600,book_mediation=3/86400`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritePolicies {
    overrides: Vec<(ResidentAction, RatePolicy)>,
}

impl WritePolicies {
    pub fn policy(&self, action: ResidentAction) -> RatePolicy {
        self.overrides
            .iter()
            .rev()
            .find(|(a, _)| *a == action)
            .map(|(_, p)| *p)
            .unwrap_or(action.default_policy())
    }

    /// `name=max/window_seconds`, comma-separated; every problem named.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut overrides = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parsed = item.split_once('=').and_then(|(name, policy)| {
                let action = ResidentAction::ALL
                    .iter()
                    .copied()
                    .find(|a| a.name() == name.trim())?;
                let (max, window) = policy.trim().split_once('/')?;
                let max: u32 = max.trim().parse().ok().filter(|m| *m >= 1)?;
                let window: u64 = window
                    .trim()
                    .parse()
                    .ok()
                    .filter(|w| (1..=7 * 24 * 3600).contains(w))?;
                Some((
                    action,
                    RatePolicy {
                        max,
                        window_seconds: window,
                    },
                ))
            });
            match parsed {
                Some(entry) => overrides.push(entry),
                None => {
                    let names: Vec<&str> = ResidentAction::ALL.iter().map(|a| a.name()).collect();
                    return Err(format!(
                        "`{item}` is not name=max/window_seconds (max at least 1, window 1 to 604800 seconds; names: {})",
                        names.join(", ")
                    ));
                }
            }
        }
        Ok(WritePolicies { overrides })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_defaults_and_bad_entries_are_named() {
        let policies =
            WritePolicies::parse("ask_question=20/60, book_mediation = 1/86400").unwrap();
        assert_eq!(
            policies.policy(ResidentAction::AskQuestion),
            RatePolicy {
                max: 20,
                window_seconds: 60
            }
        );
        assert_eq!(policies.policy(ResidentAction::BookMediation).max, 1);
        assert_eq!(
            policies.policy(ResidentAction::MeToo),
            ResidentAction::MeToo.default_policy()
        );
        for bad in [
            "ask_question=0/60",
            "nope=1/60",
            "ask_question=1",
            "ask_question=1/0",
        ] {
            let err = WritePolicies::parse(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn every_default_is_a_real_limit() {
        for action in ResidentAction::ALL {
            let p = action.default_policy();
            assert!(
                p.max >= 1 && p.max <= 60 && p.window_seconds >= 60,
                "{action}"
            );
        }
    }
}
