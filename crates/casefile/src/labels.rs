//! Chinese names for the codes a case file prints: services, statuses,
//! event actions, roles. An unknown code (a newer action this table does
//! not know yet) prints as `其他（code）` rather than failing the file.

fn other(code: &str) -> String {
    format!("其他（{code}）")
}

/// The service's Chinese name.
pub fn service_name(service: &str) -> &'static str {
    match service {
        "consultation" => "法律咨询",
        "mediation" => "人民调解",
        "tip" => "线索举报",
        _ => "其他",
    }
}

/// The file's title.
pub fn file_title(service: &str) -> &'static str {
    match service {
        "consultation" => "法律咨询卷宗",
        "mediation" => "人民调解卷宗",
        "tip" => "线索举报卷宗",
        _ => "卷宗",
    }
}

/// The character a case number names its service by (`{kind}` in a
/// numbering pattern): 调 (调解) for mediations, 询 (咨询) for
/// consultations, 线 (线索) for tips.
pub fn service_kind(service: &str) -> &'static str {
    match service {
        "consultation" => "询",
        "mediation" => "调",
        "tip" => "线",
        _ => "案",
    }
}

/// A status of the given service, in Chinese.
pub fn status_name(service: &str, status: &str) -> String {
    let name = match (service, status) {
        (_, "submitted") => "已提交",
        (_, "offered") => "待签收",
        (_, "pooled") => "待认领",
        ("consultation", "assigned") => "律师已受理",
        ("consultation", "answered") => "律师已答复",
        ("consultation", "resolved") => "已解决",
        ("mediation", "accepted") => "已受理",
        ("mediation", "scheduled") => "已安排调解",
        ("mediation", "heard") => "已调解",
        ("mediation", "agreed") => "达成协议",
        ("mediation", "terminated") => "调解终止",
        ("mediation", "refused") => "不予受理",
        ("tip", "acknowledged") => "已签收",
        ("tip", "valid") => "线索属实",
        ("tip", "verifying") => "核查中",
        ("tip", "actioned") => "已处置",
        ("tip", "unfounded") => "线索不实",
        ("tip", "referred") => "已移交",
        ("tip", "duplicate") => "重复线索",
        (_, "closed") => "已结案",
        (_, "withdrawn") => "已撤回",
        (_, "rejected") => "已驳回",
        (_, "converted") => "已转办",
        _ => return other(status),
    };
    name.to_owned()
}

/// An event's action, in Chinese.
pub fn action_name(service: &str, action: &str) -> String {
    let name = match (service, action) {
        (_, "submit") => "提交申请",
        (_, "offer") => "派单",
        (_, "pool") => "进入待认领池",
        (_, "escalate") => "上报上级",
        (_, "unroute") => "无人可派",
        (_, "accept") => "签收受理",
        (_, "decline") => "拒绝派单",
        (_, "expire_offer") => "派单超时",
        (_, "claim") => "认领",
        (_, "reassign") => "改派",
        (_, "hand_back") => "退回",
        (_, "reopen") => "重新办理",
        (_, "sla_breach") => "超出办理时限",
        (_, "convert") => "转办",
        (_, "withdraw") => "撤回",
        (_, "reject") => "驳回",
        (_, "urge") | (_, "urged") => "催办",
        (_, "supervise") | (_, "supervised") => "督办",
        (_, "supervision_lifted") => "解除督办",
        (_, "supervision_ended") => "督办结束",
        (_, "supervision_missed") => "督办逾期",
        (_, "extension") | (_, "extend") => "延期",
        (_, "extension_requested") => "申请延期",
        (_, "extension_granted") => "批准延期",
        (_, "extension_refused") => "不予延期",
        (_, "in_person_intake") => "现场代办登记",
        (_, "propose_conversion") => "建议转办",
        (_, "refuse_conversion") => "居民不同意转办",
        (_, "convert_from_consultation") => "由法律咨询转来",
        (_, "convert_from_tip") => "由线索举报转来",
        (_, "flag_public_order_risk") => "发现治安风险",
        ("consultation", "reply") => "律师答复",
        ("consultation", "note") => "内部备注",
        ("consultation", "follow_up") => "追问",
        ("consultation", "resolve") => "办结",
        ("consultation", "rate") => "评价",
        ("mediation", "refuse") => "不予受理",
        ("mediation", "schedule") => "安排调解",
        ("mediation", "cancel_session") => "取消调解",
        ("mediation", "reschedule") => "改期",
        ("mediation", "hold") => "进行调解",
        ("mediation", "agree") => "达成调解协议",
        ("mediation", "terminate") => "终止调解",
        ("mediation", "judicial_confirmation") => "申请司法确认",
        ("mediation", "visit") => "回访",
        ("mediation", "close") => "结案",
        ("mediation", "escalate_tier") => "提级调解",
        ("mediation", "rate") => "评价",
        ("mediation", "cannot_attend") => "告知无法到场",
        ("mediation", "confirm_attendance") => "确认到场",
        ("mediation", "visit_answer") => "回访答复",
        ("tip", "triage_valid") => "研判属实",
        ("tip", "triage_unfounded") => "研判不实",
        ("tip", "refer") => "移交",
        ("tip", "verify") => "核查",
        ("tip", "action") => "处置",
        ("tip", "close") => "结案",
        ("tip", "mark_duplicate") => "标记重复",
        ("tip", "follow_up") => "举报人补充",
        ("tip", "support") => "附议",
        ("tip", "photo") | ("tip", "add_photo") => "补充照片",
        (_, "note") => "内部备注",
        _ => return other(action),
    };
    name.to_owned()
}

/// Who acted on an event.
pub fn actor_name(actor: &str) -> String {
    match actor {
        "resident" => "居民",
        "reporter" => "举报人",
        "staff" => "工作人员",
        "system" => "系统",
        "lawyer" => "律师",
        "mediator" => "调解员",
        "officer" => "民警",
        "coordinator" => "协调员",
        "admin" => "管理员",
        other_code => return other(other_code),
    }
    .to_owned()
}

/// A party's (or a message author's) role.
pub fn role_name(role: &str) -> String {
    match role {
        "applicant" => "申请人",
        "respondent" => "被申请人",
        "other" => "其他当事人",
        "resident" => "咨询人",
        "reporter" => "举报人",
        "lawyer" => "律师",
        "mediator" => "调解员",
        "officer" => "民警",
        "staff" => "工作人员",
        "system" => "系统",
        other_code => return other(other_code),
    }
    .to_owned()
}

/// A mediation session's status.
pub fn session_status_name(status: &str) -> String {
    match status {
        "scheduled" => "已安排",
        "held" => "已举行",
        "cancelled" => "已取消",
        s => return other(s),
    }
    .to_owned()
}

/// How a mediation ended.
pub fn outcome_name(kind: &str) -> String {
    match kind {
        "agreement_written" => "达成书面调解协议",
        "agreement_oral" => "达成口头调解协议",
        "terminated" => "调解终止",
        k => return other(k),
    }
    .to_owned()
}

/// Whether an agreement was performed (回访).
pub fn performance_name(p: &str) -> String {
    match p {
        "performed" => "已履行",
        "partly" => "部分履行",
        "not_performed" => "未履行",
        p => return other(p),
    }
    .to_owned()
}

/// A tip's triage verdict.
pub fn triage_name(v: &str) -> String {
    match v {
        "valid" => "属实",
        "unfounded" => "不实",
        "not_police_matter" => "非警务事项",
        v => return other(v),
    }
    .to_owned()
}

/// Why a mediation was refused.
pub fn refusal_name(g: &str) -> String {
    match g {
        "already_handled" => "已由其他机关受理或处理",
        "specialised_body" => "应由专门机关处理",
        "party_refuses" => "当事人拒绝调解",
        "not_mediable" => "不属于人民调解范围",
        g => return other(g),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_in_chinese_and_unknown_ones_say_so() {
        assert_eq!(status_name("mediation", "closed"), "已结案");
        assert_eq!(status_name("tip", "valid"), "线索属实");
        assert_eq!(action_name("mediation", "agree"), "达成调解协议");
        assert_eq!(action_name("tip", "brand_new"), "其他（brand_new）");
        assert_eq!(role_name("respondent"), "被申请人");
    }

    /// Every action the store writes (the domain's action names and the
    /// store's own event names, by the service whose history has them):
    /// none prints as `其他`.
    #[test]
    fn every_action_written_has_a_chinese_name() {
        let common = [
            "submit",
            "offer",
            "pool",
            "escalate",
            "unroute",
            "accept",
            "decline",
            "expire_offer",
            "claim",
            "reassign",
            "hand_back",
            "reopen",
            "sla_breach",
            "convert",
            "withdraw",
            "reject",
            "urged",
            "supervised",
            "supervision_lifted",
            "supervision_ended",
            "supervision_missed",
            "extension_requested",
            "extension_granted",
            "extension_refused",
            "in_person_intake",
            "note",
        ];
        let own = [
            (
                "consultation",
                &[
                    "reply",
                    "follow_up",
                    "resolve",
                    "rate",
                    "propose_conversion",
                    "refuse_conversion",
                ][..],
            ),
            (
                "mediation",
                &[
                    "refuse",
                    "schedule",
                    "cancel_session",
                    "reschedule",
                    "hold",
                    "agree",
                    "terminate",
                    "judicial_confirmation",
                    "visit",
                    "visit_answer",
                    "close",
                    "escalate_tier",
                    "rate",
                    "cannot_attend",
                    "confirm_attendance",
                    "convert_from_consultation",
                    "convert_from_tip",
                    "flag_public_order_risk",
                ][..],
            ),
            (
                "tip",
                &[
                    "triage_valid",
                    "triage_unfounded",
                    "refer",
                    "verify",
                    "action",
                    "close",
                    "mark_duplicate",
                    "follow_up",
                    "add_photo",
                    "convert_from_consultation",
                ][..],
            ),
        ];
        for (service, actions) in own {
            for action in common.iter().chain(actions) {
                let name = action_name(service, action);
                assert!(!name.starts_with("其他"), "{service} {action}: {name}");
            }
        }
    }
}
