//! Order statistics for the routing reports: median and 90th percentile of
//! durations such as "time to accept".
//!
//! Percentiles use the **nearest-rank** method: the p-th percentile of n
//! sorted values is the value at 1-based rank ⌈p·n/100⌉. Every answer is a
//! value that was actually observed (a real case took exactly that long),
//! figures can be checked by hand, and integer seconds stay integers. For
//! an even count the median is the lower of the two middle values.
//!
//! The counting rules of the reports live here too: which cases of each
//! service count as resolved ([`CaseTally::is_resolved`]), which are in
//! their owner's hands ([`is_in_hand`]), where a tip ended
//! ([`TipOutcome`]), and the satisfaction of consultations.

use crate::catalog::Service;
use crate::consultation::ConsultationStatus;
use crate::mediation::MediationStatus;
use crate::tip::TipStatus;
use crate::work_order::CaseStatus;

/// The `percent`-th percentile (1..=100) of `sorted` by nearest rank;
/// `None` for no values. `sorted` must be in ascending order.
///
/// A `percent` of 0 is treated as 1 (the smallest value), above 100 as 100.
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let percent = percent.clamp(1, 100) as usize;
    // ⌈percent·n/100⌉ in integers, so no rounding error at exact ranks.
    let rank = (percent * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Count, median and 90th percentile of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationSummary {
    pub count: u64,
    /// `None` when there are no values.
    pub median_secs: Option<i64>,
    /// `None` when there are no values.
    pub p90_secs: Option<i64>,
}

impl DurationSummary {
    /// Summarise durations given in any order.
    pub fn of(mut secs: Vec<i64>) -> Self {
        secs.sort_unstable();
        Self {
            count: secs.len() as u64,
            median_secs: nearest_rank(&secs, 50),
            p90_secs: nearest_rank(&secs, 90),
        }
    }
}

/// One group of cases as the reports count them: their status and, where
/// the status alone does not say whether the case ended well, the fact
/// that does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseTally {
    pub status: CaseStatus,
    /// A mediation whose recorded outcome is an agreement (written or oral).
    pub agreement: bool,
    /// A tip on which action was taken (it passed through `actioned`).
    pub actioned: bool,
}

impl CaseTally {
    /// A case whose facts beyond its status do not matter (or are not known).
    pub fn of(status: CaseStatus) -> Self {
        Self {
            status,
            agreement: false,
            actioned: false,
        }
    }

    /// Whether the case reached its service's successful outcome:
    /// - a consultation once it is answered (`answered`, `resolved`, or
    ///   `closed` by the resident's rating, which only follows an answer);
    /// - a mediation that reached an agreement (`agreed`, or `closed` after
    ///   an agreement: a terminated mediation closes too, and is no success);
    /// - a tip closed after action was taken (closing a valid tip without
    ///   action, or finding it unfounded, referring or merging it, is not).
    pub fn is_resolved(&self) -> bool {
        match self.status {
            CaseStatus::Consultation(s) => matches!(
                s,
                ConsultationStatus::Answered
                    | ConsultationStatus::Resolved
                    | ConsultationStatus::Closed
            ),
            CaseStatus::Mediation(s) => {
                self.agreement && matches!(s, MediationStatus::Agreed | MediationStatus::Closed)
            }
            CaseStatus::Tip(s) => self.actioned && s == TipStatus::Closed,
        }
    }

    /// Where a tip ended, if it has ended (`None` for other services and
    /// for tips still open).
    pub fn tip_outcome(&self) -> Option<TipOutcome> {
        let CaseStatus::Tip(status) = self.status else {
            return None;
        };
        Some(match status {
            TipStatus::Closed if self.actioned => TipOutcome::ClosedWithAction,
            TipStatus::Closed => TipOutcome::ClosedWithoutAction,
            TipStatus::Unfounded => TipOutcome::Unfounded,
            TipStatus::Referred => TipOutcome::Referred,
            TipStatus::Duplicate => TipOutcome::Duplicate,
            TipStatus::Converted => TipOutcome::Converted,
            _ => return None,
        })
    }
}

/// Whether a case with an owner is in that owner's hands now: taken and not
/// yet finished (not waiting, not merely offered, not done). This is the
/// live view's "owned": a consultation `assigned` or `answered`, a mediation
/// `accepted`, `scheduled` or `heard`, a tip `acknowledged`, `valid`,
/// `verifying` or `actioned`.
pub fn is_in_hand(status: CaseStatus) -> bool {
    let offered = matches!(
        status,
        CaseStatus::Consultation(ConsultationStatus::Offered)
            | CaseStatus::Mediation(MediationStatus::Offered)
            | CaseStatus::Tip(TipStatus::Offered)
    );
    !status.is_waiting() && !offered && !status.is_finished()
}

/// Every status of `service`, in its machine's order.
pub fn statuses_of(service: Service) -> Vec<CaseStatus> {
    match service {
        Service::Consultation => ConsultationStatus::ALL.map(CaseStatus::from).to_vec(),
        Service::Mediation => MediationStatus::ALL.map(CaseStatus::from).to_vec(),
        Service::Tip => TipStatus::ALL.map(CaseStatus::from).to_vec(),
    }
}

/// The cases of one service: how many, how many resolved, and how many in
/// each of its statuses (every status, zeros included, in machine order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCounts {
    pub service: Service,
    pub total: u64,
    pub resolved: u64,
    pub by_status: Vec<(CaseStatus, u64)>,
}

impl ServiceCounts {
    pub fn new(service: Service) -> Self {
        Self {
            service,
            total: 0,
            resolved: 0,
            by_status: statuses_of(service).into_iter().map(|s| (s, 0)).collect(),
        }
    }
}

/// The cases of every service, counted by [`CaseTally`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCounts {
    /// One per service, in `Service::ALL` order.
    pub services: Vec<ServiceCounts>,
    pub tip_outcomes: TipOutcomes,
}

impl Default for CaseCounts {
    fn default() -> Self {
        Self {
            services: Service::ALL.into_iter().map(ServiceCounts::new).collect(),
            tip_outcomes: TipOutcomes::default(),
        }
    }
}

impl CaseCounts {
    /// Count `n` cases of `tally`.
    pub fn add(&mut self, tally: CaseTally, n: u64) {
        let service = tally.status.service();
        if let Some(counts) = self.services.iter_mut().find(|c| c.service == service) {
            counts.total += n;
            if tally.is_resolved() {
                counts.resolved += n;
            }
            if let Some(slot) = counts
                .by_status
                .iter_mut()
                .find(|(s, _)| *s == tally.status)
            {
                slot.1 += n;
            }
        }
        if let Some(outcome) = tally.tip_outcome() {
            self.tip_outcomes.add(outcome, n);
        }
    }

    /// Every case of every service.
    pub fn total(&self) -> u64 {
        self.services.iter().map(|c| c.total).sum()
    }

    /// Resolved cases of every service.
    pub fn resolved(&self) -> u64 {
        self.services.iter().map(|c| c.resolved).sum()
    }

    pub fn of(&self, service: Service) -> Option<&ServiceCounts> {
        self.services.iter().find(|c| c.service == service)
    }
}

/// Where a tip ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipOutcome {
    /// Closed after action was taken.
    ClosedWithAction,
    /// Closed as valid, without action recorded.
    ClosedWithoutAction,
    Unfounded,
    /// Not a police matter: referred to the body responsible.
    Referred,
    Duplicate,
    /// Handed over as a mediation.
    Converted,
}

impl TipOutcome {
    pub const ALL: [TipOutcome; 6] = [
        TipOutcome::ClosedWithAction,
        TipOutcome::ClosedWithoutAction,
        TipOutcome::Unfounded,
        TipOutcome::Referred,
        TipOutcome::Duplicate,
        TipOutcome::Converted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TipOutcome::ClosedWithAction => "closed_with_action",
            TipOutcome::ClosedWithoutAction => "closed_without_action",
            TipOutcome::Unfounded => "unfounded",
            TipOutcome::Referred => "referred",
            TipOutcome::Duplicate => "duplicate",
            TipOutcome::Converted => "converted",
        }
    }
}

/// The ended tips by outcome, and each outcome's share of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TipOutcomes {
    counts: [u64; 6],
}

impl TipOutcomes {
    pub fn add(&mut self, outcome: TipOutcome, n: u64) {
        self.counts[outcome as usize] += n;
    }

    /// Tips that have ended (the denominator of every rate).
    pub fn ended(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn count(&self, outcome: TipOutcome) -> u64 {
        self.counts[outcome as usize]
    }

    /// `count / ended`; `None` while no tip has ended.
    pub fn rate(&self, outcome: TipOutcome) -> Option<f64> {
        let ended = self.ended();
        (ended > 0).then(|| self.count(outcome) as f64 / ended as f64)
    }
}

/// The residents' ratings of their consultations (1 to 5 stars).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Satisfaction {
    pub rated: u64,
    /// The mean of the stars; `None` with no rating.
    pub average_stars: Option<f64>,
}

impl Satisfaction {
    /// From the ratings' count and the sum of their stars.
    pub fn of(rated: u64, stars_sum: u64) -> Self {
        Self {
            rated,
            average_stars: (rated > 0).then(|| stars_sum as f64 / rated as f64),
        }
    }
}

/// How a case reached the programme. Recorded today by three facts, read
/// together: a `case_intakes` row (filed in person by staff), a tip's
/// `channel` (`open311`, or `mediation`/`consultation` for a tip opened
/// from another case), and a conversion (`case_conversions.to_case_id`,
/// `tips.converted_to`). A case with none of them was filed by a resident
/// in the mini-program, reached through the community's QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceChannel {
    /// The mini-program (the community's QR code).
    App,
    /// A city system through Open311.
    Open311,
    /// Filed by staff for a resident who came in person (代办).
    InPerson,
    /// Opened from another case (a conversion or a mediator's flag).
    Converted,
}

impl SourceChannel {
    pub const ALL: [SourceChannel; 4] = [
        SourceChannel::App,
        SourceChannel::Open311,
        SourceChannel::InPerson,
        SourceChannel::Converted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            SourceChannel::App => "app",
            SourceChannel::Open311 => "open311",
            SourceChannel::InPerson => "in_person",
            SourceChannel::Converted => "converted",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            SourceChannel::App => "扫码/小程序",
            SourceChannel::Open311 => "Open311 接口",
            SourceChannel::InPerson => "现场代办",
            SourceChannel::Converted => "由其他案件转来",
        }
    }

    /// The channel of a case from the facts recorded about it. A converted
    /// case is counted as converted whatever else is true of it, then an
    /// in-person filing, then Open311.
    pub fn classify(converted: bool, in_person: bool, open311: bool) -> Self {
        if converted {
            SourceChannel::Converted
        } else if in_person {
            SourceChannel::InPerson
        } else if open311 {
            SourceChannel::Open311
        } else {
            SourceChannel::App
        }
    }
}

/// `resolved / total` (0 to 1); `None` without cases.
pub fn success_rate(resolved: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| resolved as f64 / total as f64)
}

/// A service's name as the reports print it.
pub fn service_label_zh(service: Service) -> &'static str {
    match service {
        Service::Consultation => "法律咨询",
        Service::Mediation => "人民调解",
        Service::Tip => "线索举报",
    }
}

/// A status's name as the reports print it.
pub fn status_label_zh(status: CaseStatus) -> &'static str {
    use ConsultationStatus as C;
    use MediationStatus as M;
    use TipStatus as T;
    match status {
        CaseStatus::Consultation(s) => match s {
            C::Submitted => "已提交",
            C::Offered => "派单中",
            C::Pooled => "待接单",
            C::Assigned => "已签收",
            C::Answered => "已答复",
            C::Resolved => "已办结",
            C::Closed => "已评价关闭",
            C::Withdrawn => "已撤回",
            C::Rejected => "未通过审核",
            C::Converted => "已转办",
        },
        CaseStatus::Mediation(s) => match s {
            M::Submitted => "已申请",
            M::Offered => "派单中",
            M::Pooled => "待受理",
            M::Accepted => "已受理",
            M::Scheduled => "已排期",
            M::Heard => "已调解",
            M::Agreed => "达成协议",
            M::Terminated => "调解终止",
            M::Closed => "已结案",
            M::Refused => "不予受理",
            M::Withdrawn => "已撤回",
        },
        CaseStatus::Tip(s) => match s {
            T::Submitted => "已提交",
            T::Offered => "派单中",
            T::Pooled => "待签收",
            T::Acknowledged => "已签收",
            T::Valid => "有效待处置",
            T::Verifying => "核查中",
            T::Actioned => "已处置",
            T::Closed => "已办结",
            T::Unfounded => "查无实据",
            T::Referred => "已移交",
            T::Duplicate => "重复线索",
            T::Converted => "已转调解",
        },
    }
}

impl TipOutcome {
    /// The outcome's name as the reports print it.
    pub fn label_zh(&self) -> &'static str {
        match self {
            TipOutcome::ClosedWithAction => "处置后办结",
            TipOutcome::ClosedWithoutAction => "未处置办结",
            TipOutcome::Unfounded => "查无实据",
            TipOutcome::Referred => "移交其他部门",
            TipOutcome::Duplicate => "重复线索",
            TipOutcome::Converted => "转为人民调解",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(status: impl Into<CaseStatus>, agreement: bool, actioned: bool) -> CaseTally {
        CaseTally {
            status: status.into(),
            agreement,
            actioned,
        }
    }

    #[test]
    fn each_service_counts_its_own_success_as_resolved() {
        use ConsultationStatus as C;
        use MediationStatus as M;
        use TipStatus as T;
        for s in ConsultationStatus::ALL {
            assert_eq!(
                CaseTally::of(s.into()).is_resolved(),
                matches!(s, C::Answered | C::Resolved | C::Closed),
                "{s}"
            );
        }
        for s in MediationStatus::ALL {
            assert!(
                !tally(s, false, false).is_resolved(),
                "{s} without agreement"
            );
            assert_eq!(
                tally(s, true, false).is_resolved(),
                matches!(s, M::Agreed | M::Closed),
                "{s} with agreement"
            );
        }
        for s in TipStatus::ALL {
            assert!(!tally(s, false, false).is_resolved(), "{s} without action");
            assert_eq!(tally(s, false, true).is_resolved(), s == T::Closed, "{s}");
        }
    }

    #[test]
    fn only_ended_tips_have_an_outcome() {
        let ended: Vec<_> = TipStatus::ALL
            .into_iter()
            .filter(|s| tally(*s, false, false).tip_outcome().is_some())
            .collect();
        assert_eq!(
            ended,
            [
                TipStatus::Closed,
                TipStatus::Unfounded,
                TipStatus::Referred,
                TipStatus::Duplicate,
                TipStatus::Converted
            ]
        );
        assert_eq!(
            tally(TipStatus::Closed, false, true).tip_outcome(),
            Some(TipOutcome::ClosedWithAction)
        );
        assert_eq!(
            tally(TipStatus::Closed, false, false).tip_outcome(),
            Some(TipOutcome::ClosedWithoutAction)
        );
        assert_eq!(
            CaseTally::of(MediationStatus::Closed.into()).tip_outcome(),
            None
        );
    }

    #[test]
    fn in_hand_means_taken_and_not_finished_for_every_service() {
        let in_hand: Vec<&str> = Service::ALL
            .into_iter()
            .flat_map(statuses_of)
            .filter(|s| is_in_hand(*s))
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            in_hand,
            [
                "assigned",
                "answered",
                "accepted",
                "scheduled",
                "heard",
                "acknowledged",
                "valid",
                "verifying",
                "actioned"
            ]
        );
    }

    #[test]
    fn counts_add_up_per_service_and_in_total() {
        let mut counts = CaseCounts::default();
        counts.add(CaseTally::of(ConsultationStatus::Closed.into()), 2);
        counts.add(CaseTally::of(ConsultationStatus::Pooled.into()), 1);
        counts.add(tally(MediationStatus::Closed, true, false), 1);
        counts.add(tally(MediationStatus::Closed, false, false), 1);
        counts.add(tally(TipStatus::Closed, false, true), 1);
        counts.add(tally(TipStatus::Unfounded, false, false), 2);
        counts.add(tally(TipStatus::Valid, false, false), 1);
        assert_eq!(counts.total(), 9);
        assert_eq!(counts.resolved(), 4);
        let c = counts.of(Service::Consultation).unwrap();
        assert_eq!((c.total, c.resolved), (3, 2));
        assert_eq!(c.by_status.len(), ConsultationStatus::ALL.len());
        assert_eq!(c.by_status.iter().map(|(_, n)| n).sum::<u64>(), 3);
        let m = counts.of(Service::Mediation).unwrap();
        assert_eq!((m.total, m.resolved), (2, 1));
        let t = counts.of(Service::Tip).unwrap();
        assert_eq!((t.total, t.resolved), (4, 1));
        let outcomes = &counts.tip_outcomes;
        assert_eq!(outcomes.ended(), 3);
        assert_eq!(outcomes.rate(TipOutcome::ClosedWithAction), Some(1.0 / 3.0));
        assert_eq!(outcomes.rate(TipOutcome::Unfounded), Some(2.0 / 3.0));
        assert_eq!(outcomes.rate(TipOutcome::Referred), Some(0.0));
        assert_eq!(TipOutcomes::default().rate(TipOutcome::Referred), None);
    }

    #[test]
    fn satisfaction_is_the_mean_of_the_stars() {
        assert_eq!(Satisfaction::of(0, 0).average_stars, None);
        assert_eq!(Satisfaction::of(2, 9).average_stars, Some(4.5));
    }

    #[test]
    fn no_values_have_no_percentiles() {
        assert_eq!(nearest_rank::<i64>(&[], 50), None);
        assert_eq!(
            DurationSummary::of(Vec::new()),
            DurationSummary {
                count: 0,
                median_secs: None,
                p90_secs: None
            }
        );
    }

    #[test]
    fn one_value_is_every_percentile() {
        for percent in [0, 1, 50, 90, 100, 250] {
            assert_eq!(nearest_rank(&[42], percent), Some(42));
        }
        assert_eq!(
            DurationSummary::of(vec![42]),
            DurationSummary {
                count: 1,
                median_secs: Some(42),
                p90_secs: Some(42)
            }
        );
    }

    #[test]
    fn an_even_count_takes_the_lower_middle_value_as_median() {
        assert_eq!(nearest_rank(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(nearest_rank(&[10, 20], 50), Some(10));
    }

    #[test]
    fn an_odd_count_takes_the_middle_value_as_median() {
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5], 50), Some(3));
    }

    #[test]
    fn p90_is_at_rank_ceil_of_ninety_percent() {
        let ten: Vec<i64> = (1..=10).collect();
        // 0.9 × 10 = 9 exactly: rank 9, not 10.
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        let eleven: Vec<i64> = (1..=11).collect();
        // 0.9 × 11 = 9.9: rank 10.
        assert_eq!(nearest_rank(&eleven, 90), Some(10));
        // Fewer than ten values: p90 is the largest.
        assert_eq!(nearest_rank(&[5, 6, 7], 90), Some(7));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 90), Some(90));
        assert_eq!(nearest_rank(&hundred, 100), Some(100));
        assert_eq!(nearest_rank(&hundred, 1), Some(1));
    }

    #[test]
    fn out_of_range_percents_are_clamped() {
        assert_eq!(nearest_rank(&[3, 4, 5], 0), Some(3));
        assert_eq!(nearest_rank(&[3, 4, 5], 101), Some(5));
    }

    #[test]
    fn the_summary_sorts_its_input_first() {
        let summary = DurationSummary::of(vec![300, 60, 600, 120, 30]);
        assert_eq!(summary.count, 5);
        // Sorted: 30 60 120 300 600 → rank 3 and rank ⌈4.5⌉ = 5.
        assert_eq!(summary.median_secs, Some(120));
        assert_eq!(summary.p90_secs, Some(600));
    }

    #[test]
    fn negative_durations_are_kept_not_hidden() {
        // A clock step between instances can put accepted_at before
        // created_at; the report shows it rather than rounding it away.
        let summary = DurationSummary::of(vec![-5, 10, 20]);
        assert_eq!(summary.median_secs, Some(10));
        assert_eq!(nearest_rank(&[-5, 10, 20], 1), Some(-5));
    }

    #[test]
    fn a_conversion_outranks_every_other_channel_fact() {
        use SourceChannel as S;
        assert_eq!(S::classify(false, false, false), S::App);
        assert_eq!(S::classify(false, false, true), S::Open311);
        assert_eq!(S::classify(false, true, true), S::InPerson);
        assert_eq!(S::classify(true, true, true), S::Converted);
        let codes: Vec<_> = S::ALL.iter().map(S::as_str).collect();
        assert_eq!(codes, ["app", "open311", "in_person", "converted"]);
    }

    #[test]
    fn every_status_has_a_chinese_label() {
        for status in Service::ALL.into_iter().flat_map(statuses_of) {
            assert!(!status_label_zh(status).is_ascii(), "{}", status.as_str());
        }
        assert_eq!(success_rate(0, 0), None);
        assert_eq!(success_rate(1, 4), Some(0.25));
    }
}
