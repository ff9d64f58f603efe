//! Moderation of resident text as stored: automatic verdicts arriving late,
//! coordinators' decisions on held text, and the queue of what is held.

use crate::cases::Context;
use crate::consultations::{SERVICE, move_case};
use crate::entity::{case, case_message, consultation, resident};
use crate::outbox::{self, Work};
use crate::{Store, StoreError};
use sansuo_domain::ConsultationAction;
use sansuo_domain::moderation::{Moderation, Verdict};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// What is being moderated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A case's question.
    Case(Uuid),
    /// A resident's follow-up message.
    Message(Uuid),
}

/// Resident text to check, with who wrote it (WeChat checks per openid).
#[derive(Debug, Clone)]
pub struct HeldText {
    pub subject: Subject,
    pub case_id: Uuid,
    pub community_id: Uuid,
    pub moderation: Moderation,
    pub text: String,
    pub author_openid: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Moderation of stored resident text and media.
///
/// Reached as `store.moderation()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Checks<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Checks<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Moderation of stored resident text and media.
    pub fn moderation(&self) -> Checks<'_> {
        Checks(self)
    }
}

impl Checks<'_> {
    pub async fn held_text(self, subject: Subject) -> Result<Option<HeldText>, StoreError> {
        let (case_id, text, moderation, author, created_at) = match subject {
            Subject::Case(id) => {
                let Some(c) = case::Entity::find_by_id(id).one(self.db()).await? else {
                    return Ok(None);
                };
                let Some(d) = consultation::Entity::find_by_id(id).one(self.db()).await? else {
                    return Ok(None);
                };
                (c.id, d.question, c.moderation, c.resident_id, c.created_at)
            }
            Subject::Message(id) => {
                let Some(m) = case_message::Entity::find_by_id(id).one(self.db()).await? else {
                    return Ok(None);
                };
                (
                    m.case_id,
                    m.body,
                    m.moderation,
                    Some(m.author_id),
                    m.created_at,
                )
            }
        };
        let Some(c) = case::Entity::find_by_id(case_id).one(self.db()).await? else {
            return Ok(None);
        };
        let author_openid = match author {
            Some(id) => resident::Entity::find_by_id(id)
                .one(self.db())
                .await?
                .map(|r| r.openid),
            None => None,
        };
        let moderation = Moderation::parse(&moderation)
            .ok_or_else(|| StoreError::conflict(format!("unknown moderation `{moderation}`")))?;
        Ok(Some(HeldText {
            subject,
            case_id,
            community_id: c.community_id,
            moderation,
            text,
            author_openid,
            created_at,
        }))
    }

    /// Apply an automatic verdict to text that was waiting for one.
    /// Returns the new state, or `None` when nothing was waiting (a repeat).
    pub async fn apply_check(
        self,
        subject: Subject,
        verdict: Verdict,
        ctx: Context<'_>,
    ) -> Result<Option<Moderation>, StoreError> {
        let Some(held) = self.held_text(subject).await? else {
            return Err(StoreError::NotFound);
        };
        let Some(next) = held.moderation.after_check(verdict) else {
            return Ok(None);
        };
        self.moderate(held, next, None, ctx).await
    }

    /// A coordinator approves or rejects held text.
    pub async fn decide(
        self,
        subject: Subject,
        approve: bool,
        reason: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<Moderation, StoreError> {
        let held = self.held_text(subject).await?.ok_or(StoreError::NotFound)?;
        let next = held.moderation.after_decision(approve).ok_or_else(|| {
            StoreError::conflict(format!("this text is already {}", held.moderation))
        })?;
        self.moderate(held, next, reason, ctx)
            .await?
            .ok_or_else(|| StoreError::conflict("decided meanwhile"))
    }

    /// One transaction: a guarded change of the moderation state, and what
    /// follows it — a passed question is routed, a rejected one closed.
    async fn moderate(
        self,
        held: HeldText,
        next: Moderation,
        reason: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<Option<Moderation>, StoreError> {
        let txn = self.begin_write().await?;
        let from = held.moderation.as_str();
        let updated = match held.subject {
            Subject::Case(id) => {
                case::Entity::update_many()
                    .col_expr(case::Column::Moderation, Expr::value(next.as_str()))
                    .filter(case::Column::Id.eq(id))
                    .filter(case::Column::Moderation.eq(from))
                    .exec(&txn)
                    .await?
            }
            Subject::Message(id) => {
                case_message::Entity::update_many()
                    .col_expr(case_message::Column::Moderation, Expr::value(next.as_str()))
                    .filter(case_message::Column::Id.eq(id))
                    .filter(case_message::Column::Moderation.eq(from))
                    .exec(&txn)
                    .await?
            }
        };
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        if let Subject::Case(id) = held.subject {
            match next {
                Moderation::Passed => {
                    let route = Work::RouteCase { case_id: id.into() };
                    outbox::append(&txn, &route, ctx.request_id, ctx.now).await?;
                }
                Moderation::Rejected => {
                    let case = case::Entity::find_by_id(id)
                        .one(&txn)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let why = reason.unwrap_or("the content check refused this question");
                    move_case(
                        &txn,
                        &case,
                        ConsultationAction::Reject,
                        Some(why),
                        ctx,
                        |u| u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now)),
                    )
                    .await?;
                }
                Moderation::Pending | Moderation::Review => {}
            }
        }
        self.commit_work(txn).await?;
        Ok(Some(next))
    }

    /// Text held for a person to look at (or still unchecked), oldest first.
    pub async fn held_for_review(self, limit: u64) -> Result<Vec<HeldText>, StoreError> {
        let held = [Moderation::Review.as_str(), Moderation::Pending.as_str()];
        let cases: Vec<Uuid> = case::Entity::find()
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::Moderation.is_in(held))
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let messages: Vec<Uuid> = case_message::Entity::find()
            .filter(case_message::Column::Moderation.is_in(held))
            .order_by_asc(case_message::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect();
        let subjects = cases
            .into_iter()
            .map(Subject::Case)
            .chain(messages.into_iter().map(Subject::Message));
        let mut out = Vec::new();
        for subject in subjects {
            if let Some(held) = self.held_text(subject).await? {
                out.push(held);
            }
        }
        out.sort_by_key(|h| h.created_at);
        out.truncate(limit as usize);
        Ok(out)
    }

    /// Text whose check is still owed (the checker was down): the
    /// reconciler re-publishes these if their outbox job was lost.
    pub async fn pending_checks(self, limit: u64) -> Result<Vec<Subject>, StoreError> {
        let pending = Moderation::Pending.as_str();
        let cases = case::Entity::find()
            .filter(case::Column::Moderation.eq(pending))
            .limit(limit)
            .all(self.db())
            .await?;
        let messages = case_message::Entity::find()
            .filter(case_message::Column::Moderation.eq(pending))
            .limit(limit)
            .all(self.db())
            .await?;
        Ok(cases
            .into_iter()
            .map(|c| Subject::Case(c.id))
            .chain(messages.into_iter().map(|m| Subject::Message(m.id)))
            .collect())
    }
}

/// `media_checks.status` of a check WeChat has not answered yet; once it
/// has, the status is the verdict's name.
const MEDIA_CHECK_PENDING: &str = "pending";

/// An asynchronous image check, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCheck {
    pub trace_id: String,
    /// What was checked (`photo:<id>`, ...).
    pub subject: String,
    /// `None` until WeChat pushes its verdict.
    pub verdict: Option<Verdict>,
    pub label: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Image checks pushed back by WeChat.
impl Checks<'_> {
    /// Remember what an asynchronous image check is about.
    pub async fn register_media_check(
        self,
        trace_id: &str,
        subject: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        use crate::entity::media_check;
        use sea_orm::ActiveValue::Set;
        media_check::Entity::insert(media_check::ActiveModel {
            trace_id: Set(trace_id.to_owned()),
            subject: Set(subject.to_owned()),
            status: Set(MEDIA_CHECK_PENDING.to_owned()),
            label: Set(None),
            created_at: Set(now),
            checked_at: Set(None),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// Record WeChat's verdict once (a repeated push changes nothing).
    /// Returns the checked subject when this push settled it.
    pub async fn record_media_verdict(
        self,
        trace_id: &str,
        verdict: Verdict,
        label: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<String>, StoreError> {
        use crate::entity::media_check;
        let updated = media_check::Entity::update_many()
            .col_expr(media_check::Column::Status, Expr::value(verdict.as_str()))
            .col_expr(media_check::Column::Label, Expr::value(label))
            .col_expr(media_check::Column::CheckedAt, Expr::value(now))
            .filter(media_check::Column::TraceId.eq(trace_id))
            .filter(media_check::Column::Status.eq(MEDIA_CHECK_PENDING))
            .exec(self.db())
            .await?;
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        Ok(self.media_check(trace_id).await?.map(|m| m.subject))
    }

    pub async fn media_check(self, trace_id: &str) -> Result<Option<MediaCheck>, StoreError> {
        let Some(row) = crate::entity::media_check::Entity::find_by_id(trace_id.to_owned())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let verdict = match row.status.as_str() {
            MEDIA_CHECK_PENDING => None,
            other => Some(Verdict::parse(other).ok_or_else(|| {
                StoreError::from(sea_orm::DbErr::Type(format!(
                    "media_checks.status: unknown `{other}`"
                )))
            })?),
        };
        Ok(Some(MediaCheck {
            trace_id: row.trace_id,
            subject: row.subject,
            verdict,
            label: row.label,
            created_at: row.created_at,
            checked_at: row.checked_at,
        }))
    }
}

/// What a content flag is about (`content_flags.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagKind {
    /// A tip's description (subject: the tip's case id).
    Tip,
    /// A reporter's follow-up on a tip (subject: the message id).
    TipMessage,
    /// A resident photo (subject: the photo id).
    Photo,
    /// A mediation application's facts and claims (subject: the case id).
    Mediation,
    /// A rating's comment, of a consultation or a mediation (subject: the case id).
    Rating,
    /// The comment of a resident's answer to a mediation's follow-up visit
    /// (subject: the case id).
    VisitAnswer,
    /// A resident's reason for reopening their consultation (subject: the
    /// case id; the text is the latest reopen's).
    Reopen,
}

impl FlagKind {
    pub const ALL: [FlagKind; 7] = [
        FlagKind::Tip,
        FlagKind::TipMessage,
        FlagKind::Photo,
        FlagKind::Mediation,
        FlagKind::Rating,
        FlagKind::VisitAnswer,
        FlagKind::Reopen,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FlagKind::Tip => "tip",
            FlagKind::TipMessage => "tip_message",
            FlagKind::Photo => "photo",
            FlagKind::Mediation => "mediation",
            FlagKind::Rating => "rating",
            FlagKind::VisitAnswer => "visit_answer",
            FlagKind::Reopen => "reopen",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What the check said about a flagged item (`content_flags.verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagVerdict {
    /// The checker asked for a person to look.
    Review,
    /// The checker said risky.
    Risky,
    /// No automatic check could be run (an anonymous reporter has no
    /// openid we may send, or the checker failed): a person looks instead.
    Unchecked,
}

impl FlagVerdict {
    pub const ALL: [FlagVerdict; 3] = [
        FlagVerdict::Review,
        FlagVerdict::Risky,
        FlagVerdict::Unchecked,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FlagVerdict::Review => "review",
            FlagVerdict::Risky => "risky",
            FlagVerdict::Unchecked => "unchecked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// A photo with this verdict is hidden from resident-facing views
    /// until a person passes it; an unchecked one is not (nothing was found).
    pub fn hides_photo(&self) -> bool {
        !matches!(self, FlagVerdict::Unchecked)
    }
}

/// One item of the review queue that is flagged, not withheld from the
/// staff handling its case.
#[derive(Debug, Clone)]
pub struct ContentFlag {
    pub kind: FlagKind,
    pub subject_id: Uuid,
    pub case_id: Uuid,
    pub community_id: Uuid,
    pub verdict: FlagVerdict,
    pub label: Option<i64>,
    /// `Review` until a person decides, then `Passed` or `Rejected`.
    pub moderation: Moderation,
    /// The flagged text (empty for a photo).
    pub text: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Flags on items that are checked but never withheld from the staff
/// handling the case (tips) or that arrive late (photos).
impl Checks<'_> {
    /// Put an item in the review queue. A second flag on the same subject
    /// (a repeated push, a retried request) changes nothing.
    pub async fn flag(
        self,
        kind: FlagKind,
        subject_id: Uuid,
        case_id: Uuid,
        verdict: FlagVerdict,
        label: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        use crate::entity::content_flag;
        use sea_orm::ActiveValue::Set;
        use sea_orm::sea_query::OnConflict;
        content_flag::Entity::insert(content_flag::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind.as_str().to_owned()),
            subject_id: Set(subject_id),
            case_id: Set(case_id),
            verdict: Set(verdict.as_str().to_owned()),
            label: Set(label),
            status: Set(Moderation::Review.as_str().to_owned()),
            created_at: Set(now),
            decided_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([content_flag::Column::Kind, content_flag::Column::SubjectId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// The flag on one subject, if any.
    pub async fn flag_of(
        self,
        kind: FlagKind,
        subject_id: Uuid,
    ) -> Result<Option<ContentFlag>, StoreError> {
        use crate::entity::content_flag;
        let Some(row) = content_flag::Entity::find()
            .filter(content_flag::Column::Kind.eq(kind.as_str()))
            .filter(content_flag::Column::SubjectId.eq(subject_id))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        self.flag_record(row).await
    }

    /// Flagged items still waiting for a person, oldest first.
    pub async fn open_flags(self, limit: u64) -> Result<Vec<ContentFlag>, StoreError> {
        use crate::entity::content_flag;
        let rows = content_flag::Entity::find()
            .filter(content_flag::Column::Status.eq(Moderation::Review.as_str()))
            .order_by_asc(content_flag::Column::CreatedAt)
            .limit(limit)
            .all(self.db())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(flag) = self.flag_record(row).await? {
                out.push(flag);
            }
        }
        Ok(out)
    }

    /// Every flag on one case's items (for the staff and resident views).
    pub async fn flags_of_case(self, case_id: Uuid) -> Result<Vec<ContentFlag>, StoreError> {
        use crate::entity::content_flag;
        let rows = content_flag::Entity::find()
            .filter(content_flag::Column::CaseId.eq(case_id))
            .order_by_asc(content_flag::Column::CreatedAt)
            .all(self.db())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(flag) = self.flag_record(row).await? {
                out.push(flag);
            }
        }
        Ok(out)
    }

    /// A person passes or rejects a flagged item, once.
    pub async fn decide_flag(
        self,
        kind: FlagKind,
        subject_id: Uuid,
        approve: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Moderation, StoreError> {
        use crate::entity::content_flag;
        let flag = self
            .flag_of(kind, subject_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let next = flag.moderation.after_decision(approve).ok_or_else(|| {
            StoreError::conflict(format!("this item is already {}", flag.moderation))
        })?;
        let updated = content_flag::Entity::update_many()
            .col_expr(content_flag::Column::Status, Expr::value(next.as_str()))
            .col_expr(content_flag::Column::DecidedAt, Expr::value(now))
            .filter(content_flag::Column::Kind.eq(kind.as_str()))
            .filter(content_flag::Column::SubjectId.eq(subject_id))
            .filter(content_flag::Column::Status.eq(flag.moderation.as_str()))
            .exec(self.db())
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::conflict("decided meanwhile"));
        }
        Ok(next)
    }

    async fn flag_record(
        self,
        row: crate::entity::content_flag::Model,
    ) -> Result<Option<ContentFlag>, StoreError> {
        use crate::entity::tip;
        let corrupt = |column: &str, value: &str| {
            StoreError::from(sea_orm::DbErr::Type(format!(
                "content_flags.{column}: unknown `{value}`"
            )))
        };
        let kind = FlagKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?;
        let verdict =
            FlagVerdict::parse(&row.verdict).ok_or_else(|| corrupt("verdict", &row.verdict))?;
        let moderation =
            Moderation::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        let Some(c) = case::Entity::find_by_id(row.case_id).one(self.db()).await? else {
            return Ok(None);
        };
        let text = match kind {
            FlagKind::Tip => tip::Entity::find_by_id(row.subject_id)
                .one(self.db())
                .await?
                .map(|t| t.description)
                .unwrap_or_default(),
            FlagKind::TipMessage => case_message::Entity::find_by_id(row.subject_id)
                .one(self.db())
                .await?
                .map(|m| m.body)
                .unwrap_or_default(),
            FlagKind::Photo => String::new(),
            FlagKind::Mediation => crate::entity::mediation::Entity::find_by_id(row.subject_id)
                .one(self.db())
                .await?
                .map(|m| format!("{}\n{}", m.facts, m.claims))
                .unwrap_or_default(),
            FlagKind::Rating => {
                let consultation = consultation::Entity::find_by_id(row.subject_id)
                    .one(self.db())
                    .await?
                    .and_then(|c| c.rating_comment);
                match consultation {
                    Some(comment) => comment,
                    None => crate::entity::mediation::Entity::find_by_id(row.subject_id)
                        .one(self.db())
                        .await?
                        .and_then(|m| m.rating_comment)
                        .unwrap_or_default(),
                }
            }
            FlagKind::VisitAnswer => crate::entity::mediation::Entity::find_by_id(row.subject_id)
                .one(self.db())
                .await?
                .and_then(|m| m.visit_answer_comment)
                .unwrap_or_default(),
            FlagKind::Reopen => crate::entity::case_event::Entity::find()
                .filter(crate::entity::case_event::Column::CaseId.eq(row.subject_id))
                .filter(crate::entity::case_event::Column::Action.eq("reopen"))
                .order_by_desc(crate::entity::case_event::Column::CreatedAt)
                .one(self.db())
                .await?
                .and_then(|e| e.reason)
                .unwrap_or_default(),
        };
        Ok(Some(ContentFlag {
            kind,
            subject_id: row.subject_id,
            case_id: row.case_id,
            community_id: c.community_id,
            verdict,
            label: row.label,
            moderation,
            text,
            created_at: row.created_at,
        }))
    }
}

/// Photos as the image check needs them.
impl Checks<'_> {
    /// The case a resident photo belongs to.
    pub async fn photo_case(self, photo_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        Ok(crate::entity::tip_photo::Entity::find_by_id(photo_id)
            .one(self.db())
            .await?
            .map(|p| p.case_id))
    }

    /// Flag a photo the image check found doubtful or risky (the push
    /// callback); a passed photo is not flagged.
    pub async fn flag_photo(
        self,
        photo_id: Uuid,
        verdict: Verdict,
        label: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let flag = match verdict {
            Verdict::Pass => return Ok(false),
            Verdict::Review => FlagVerdict::Review,
            Verdict::Risky => FlagVerdict::Risky,
        };
        let Some(case_id) = self.photo_case(photo_id).await? else {
            return Ok(false);
        };
        self.flag(FlagKind::Photo, photo_id, case_id, flag, Some(label), now)
            .await?;
        Ok(true)
    }
}
