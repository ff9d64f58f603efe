//! The demo district: enough organisation and staff to walk every flow.
//! Idempotent: a second run finds the district and changes nothing.
//!
//! Its accounts share a published password, so they are marked as the
//! demo's: a server not running `--demo` refuses them. And `seed_demo`
//! writes only into a demo database or an empty one, unless forced.

use chrono::Utc;
use sansuo_domain::{OrgUnitId, StaffId, StaffRole};
use sansuo_store::Store;
use sansuo_store::identity::NewStaff;
use sansuo_store::org::{NewOrgUnit, kind};

/// Printed at start-up in demo mode; never used outside it.
pub const DEMO_PASSWORD: &str = "sansuo-demo";
pub const SCENE_JIANGJIAQIAO: &str = "hk-jjq";
pub const SCENE_SHANGQIU: &str = "hk-sq";

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: StaffRole,
    pub note: &'static str,
    pub id: StaffId,
}

/// Where a demo account sits in the tree.
enum Home {
    District,
    Street,
    Station,
    CommunityA,
}

struct DemoStaff {
    username: &'static str,
    display_name: &'static str,
    role: StaffRole,
    home: Home,
    /// Member of the demo law firm (and so of the street's lawyer pool).
    in_firm: bool,
    note: &'static str,
}

impl DemoStaff {
    fn account(&self, id: StaffId) -> DemoAccount {
        DemoAccount {
            username: self.username,
            display_name: self.display_name,
            role: self.role,
            note: self.note,
            id,
        }
    }
}

const fn staff(
    username: &'static str,
    display_name: &'static str,
    role: StaffRole,
    home: Home,
    in_firm: bool,
    note: &'static str,
) -> DemoStaff {
    DemoStaff {
        username,
        display_name,
        role,
        home,
        in_firm,
        note,
    }
}

const DEMO_STAFF: [DemoStaff; 8] = [
    staff(
        "lawyer.zhang",
        "张律师",
        StaffRole::Lawyer,
        Home::Street,
        true,
        "signed lawyer of 蒋家桥居委 (hk-jjq)",
    ),
    staff(
        "lawyer.li",
        "李律师",
        StaffRole::Lawyer,
        Home::Street,
        true,
        "signed lawyer of 商丘居委 (hk-sq)",
    ),
    staff(
        "lawyer.wang",
        "王律师",
        StaffRole::Lawyer,
        Home::Street,
        true,
        "law-firm pool",
    ),
    staff(
        "lawyer.zhao",
        "赵律师",
        StaffRole::Lawyer,
        Home::Street,
        true,
        "law-firm pool",
    ),
    staff(
        "mediator.chen",
        "陈调解员",
        StaffRole::Mediator,
        Home::CommunityA,
        false,
        "people's mediator, 蒋家桥居委",
    ),
    staff(
        "officer.liu",
        "刘警官",
        StaffRole::Officer,
        Home::Station,
        false,
        "community officer, 欧阳路派出所",
    ),
    staff(
        "coordinator.sun",
        "孙协调员",
        StaffRole::Coordinator,
        Home::Street,
        false,
        "street coordinator",
    ),
    staff(
        "admin",
        "区管理员",
        StaffRole::Admin,
        Home::District,
        false,
        "district administrator",
    ),
];

#[derive(Debug, Clone)]
pub struct DemoDistrict {
    pub district: OrgUnitId,
    pub street: OrgUnitId,
    pub police_station: OrgUnitId,
    /// 蒋家桥居委 (scene `hk-jjq`), signed lawyer `lawyer.zhang`.
    pub community_a: OrgUnitId,
    /// 商丘居委 (scene `hk-sq`), signed lawyer `lawyer.li`.
    pub community_b: OrgUnitId,
    pub accounts: Vec<DemoAccount>,
    /// False when the district was already there.
    pub created: bool,
}

impl DemoDistrict {
    pub fn account(&self, username: &str) -> &DemoAccount {
        self.accounts
            .iter()
            .find(|a| a.username == username)
            .expect("a demo account")
    }
}

/// Seed the demo district and mark its accounts as the demo's. Refused on
/// a database with accounts or units that are not the demo's, unless
/// `force`: the demo's passwords are published.
pub async fn seed_demo(store: &Store, force: bool) -> anyhow::Result<DemoDistrict> {
    use sansuo_store::identity::DemoSeedTarget;
    match store.identity().demo_seed_target().await? {
        DemoSeedTarget::Demo | DemoSeedTarget::Empty => {}
        DemoSeedTarget::NotDemo if force => {
            tracing::warn!(
                "seeding the demo district into a database that is not a demo's (--force)"
            );
        }
        DemoSeedTarget::NotDemo => anyhow::bail!(
            "this database holds accounts or units that are not the demo's; seed-demo would add \
             accounts with the demo's published password. Point DATABASE_URL at a demo or empty \
             database, or pass --force if you mean it"
        ),
    }
    let district = seed_district(store).await?;
    let ids: Vec<StaffId> = district.accounts.iter().map(|a| a.id).collect();
    store.identity().mark_demo_staff(&ids).await?;
    Ok(district)
}

/// The same district with its accounts NOT marked as the demo's: the
/// end-to-end tests' fixture, logged into on servers in production mode.
/// Never reachable from the command line.
pub async fn seed_fixture(store: &Store) -> anyhow::Result<DemoDistrict> {
    seed_district(store).await
}

async fn seed_district(store: &Store) -> anyhow::Result<DemoDistrict> {
    if let Some(card) = store.org().community_by_scene(SCENE_JIANGJIAQIAO).await? {
        return existing(store, card.id).await;
    }
    let now = Utc::now();
    let unit = |kind, parent, station, name, scene, address, services: &'static [&'static str]| {
        NewOrgUnit {
            kind,
            parent,
            station,
            name,
            scene,
            address,
            office_hours: if scene.is_some() {
                Some("周一至周五 09:00–12:00, 13:30–17:30")
            } else {
                None
            },
            services,
        }
    };
    let district = store
        .org()
        .insert_unit(
            unit(
                kind::DISTRICT,
                None,
                None,
                "虹口区（演示）",
                None,
                None,
                &[],
            ),
            now,
        )
        .await?;
    let street = store
        .org()
        .insert_unit(
            unit(
                kind::STREET,
                Some(district),
                None,
                "欧阳路街道",
                None,
                Some("欧阳路 1 号"),
                &[],
            ),
            now,
        )
        .await?;
    let station = store
        .org()
        .insert_unit(
            unit(
                kind::POLICE_STATION,
                Some(district),
                None,
                "欧阳路派出所",
                None,
                Some("欧阳路 100 号"),
                &[],
            ),
            now,
        )
        .await?;
    store
        .org()
        .insert_unit(
            unit(
                kind::JUDICIAL_OFFICE,
                Some(street),
                None,
                "欧阳路司法所",
                None,
                None,
                &[],
            ),
            now,
        )
        .await?;
    let services: &[&str] = &["consultation", "mediation", "tip"];
    let community_a = store
        .org()
        .insert_unit(
            unit(
                kind::COMMUNITY,
                Some(street),
                Some(station),
                "蒋家桥居委",
                Some(SCENE_JIANGJIAQIAO),
                Some("蒋家桥居委会活动室"),
                services,
            ),
            now,
        )
        .await?;
    let community_b = store
        .org()
        .insert_unit(
            unit(
                kind::COMMUNITY,
                Some(street),
                Some(station),
                "商丘居委",
                Some(SCENE_SHANGQIU),
                Some("商丘居委会一楼"),
                services,
            ),
            now,
        )
        .await?;
    let firm = store
        .org()
        .insert_law_firm("三所联动律师事务所（演示）", now)
        .await?;
    store.org().sign_firm(firm, street).await?;

    // One hash for every demo account: they share the printed password.
    let hash = sansuo_api::auth::hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut accounts = Vec::with_capacity(DEMO_STAFF.len());
    for spec in DEMO_STAFF {
        let org_unit = match spec.home {
            Home::District => district,
            Home::Street => street,
            Home::Station => station,
            Home::CommunityA => community_a,
        };
        let new = NewStaff {
            username: spec.username,
            password_hash: &hash,
            display_name: spec.display_name,
            role: spec.role,
            org_unit,
            law_firm: spec.in_firm.then_some(firm),
        };
        let id = store.identity().insert_staff(new, now).await?;
        accounts.push(spec.account(id));
    }
    let id_of = |name: &str| {
        accounts
            .iter()
            .find(|a| a.username == name)
            .map(|a| a.id)
            .expect("seeded")
    };
    store
        .org()
        .sign_lawyer(community_a, id_of("lawyer.zhang"), now)
        .await?;
    store
        .org()
        .sign_lawyer(community_b, id_of("lawyer.li"), now)
        .await?;
    // Mediation rooms: the community's own and the police station's.
    for (unit, name, address) in [
        (community_a, "蒋家桥居委人民调解室", "蒋家桥路 1 号 1 楼"),
        (station, "欧阳路派出所警民联调室", "欧阳路 100 号 2 楼"),
    ] {
        store
            .staffing()
            .add_room(
                sansuo_store::staffing::NewRoom {
                    unit,
                    name,
                    address: Some(address),
                    opening_hours: Some("周一至周五 09:00-12:00, 13:30-17:30"),
                },
                now,
            )
            .await?;
    }
    // The duty roster (值班表): 刘警官 is the station's duty officer for the
    // demo's first 90 days, so tips reach someone at once.
    store
        .staffing()
        .add_duty_shift(
            station,
            id_of("officer.liu"),
            now - chrono::Duration::hours(1),
            now + chrono::Duration::days(90),
            now,
        )
        .await?;
    Ok(DemoDistrict {
        district,
        street,
        police_station: station,
        community_a,
        community_b,
        accounts,
        created: true,
    })
}

async fn existing(store: &Store, community_a: OrgUnitId) -> anyhow::Result<DemoDistrict> {
    let a = store
        .org()
        .unit(community_a)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo community vanished"))?;
    let b = store
        .org()
        .community_by_scene(SCENE_SHANGQIU)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo community hk-sq missing"))?;
    let street = a
        .parent_id
        .ok_or_else(|| anyhow::anyhow!("demo community has no street"))?;
    let street_unit = store
        .org()
        .unit(street.into())
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo street missing"))?;
    let mut accounts = Vec::with_capacity(DEMO_STAFF.len());
    for spec in DEMO_STAFF {
        if let Some(s) = store.identity().staff_by_username(spec.username).await? {
            accounts.push(spec.account(s.id));
        }
    }
    Ok(DemoDistrict {
        district: street_unit
            .parent_id
            .map(Into::into)
            .unwrap_or(street.into()),
        street: street.into(),
        police_station: a.station_id.map(Into::into).unwrap_or(street.into()),
        community_a,
        community_b: b.id,
        accounts,
        created: false,
    })
}
