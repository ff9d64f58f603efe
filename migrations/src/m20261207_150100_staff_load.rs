//! Each staff member's load — owned cases not finished plus pending offers,
//! what counts against their capacity — as a counter on their row (issue
//! 16), kept in the transactions that change what it counts, instead of
//! two `COUNT(*)` sub-queries in every routing decision and offer. Filled
//! here from those counts; the reconciler repairs any drift the same way.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Staff {
    Table,
    Load,
}

/// `sansuo_domain::work_order::FINISHED_STATUSES` as of this migration.
const FINISHED: &str = "'resolved', 'closed', 'withdrawn', 'rejected', 'archived', 'refused', \
     'terminated', 'agreed', 'unfounded', 'referred', 'duplicate', 'converted'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(integer(Staff::Load).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE staff SET load = \
                   (SELECT COUNT(*) FROM cases c WHERE c.owner_staff_id = staff.id \
                      AND c.status NOT IN ({FINISHED})) \
                 + (SELECT COUNT(*) FROM offers o WHERE o.staff_id = staff.id \
                      AND o.status = 'pending')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .drop_column(Staff::Load)
                    .to_owned(),
            )
            .await
    }
}
