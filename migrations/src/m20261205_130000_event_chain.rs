//! Append-only case events with a hash chain (issue 18, item 3).
//!
//! - `case_events` gains `seq` (the event's place in its case's history,
//!   from 1), `prev_hash` and `hash`: `hash = SHA-256(prev_hash ||
//!   encoding of the row)`, hex, `sansuo_domain::event_chain` has the
//!   encoding and the verification. `(case_id, seq)` is unique, so two
//!   appends can never both follow the same event (a fork fails loudly).
//! - Existing rows are chained here, per case in `(created_at, id)` order.
//! - The database refuses UPDATE and DELETE (and, on PostgreSQL, TRUNCATE)
//!   of `case_events` with a trigger. The one seam: DELETE is let through for
//!   the events of a case listed in `case_event_purges`, so a later retention
//!   purge can remove a case's history whole, leaving that row as the record
//!   that it did (the purge itself is not built; it must delete every event
//!   of the case, or the case no longer verifies). UPDATE has no seam.
//! - On PostgreSQL, a BEFORE INSERT trigger fills `seq`, `prev_hash`, `hash`
//!   and moves `created_at` after the case's latest event, whatever the
//!   inserter sent: one statement per append, and no insert can forge a
//!   link. It first locks the case row (`FOR NO KEY UPDATE`, as an UPDATE of
//!   the case does; a caller that moved the case holds it already), and a
//!   PL/pgSQL query after the lock reads a fresh snapshot, so concurrent
//!   appends to one case queue and each sees the one before it.
//! - On SQLite (the embedded default, one writer at a time) the store
//!   computes the same columns in Rust; SQLite has no SHA-256 of its own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Mirrors `sansuo_domain::event_chain::GENESIS`.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The encoding of `sansuo_domain::event_chain::canonical`, in SQL. Every
/// field is `octet_length ':' text`, or `-` when NULL; the time is
/// microseconds since the epoch (PostgreSQL 14+ extracts it as an exact
/// numeric).
const PG_FUNCTIONS: &str = r#"
CREATE OR REPLACE FUNCTION case_event_field(v text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT COALESCE(octet_length(v)::text || ':' || v, '-') $$;

CREATE OR REPLACE FUNCTION case_event_hash(
    p_prev text, p_seq bigint, p_id uuid, p_case_id uuid, p_action text,
    p_from_status text, p_to_status text, p_actor_kind text, p_actor_id uuid,
    p_reason text, p_public boolean, p_request_id text, p_created_at timestamptz)
  RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(
      p_prev || 'sansuo-case-event-v1'
      || case_event_field(p_seq::text)
      || case_event_field(p_id::text)
      || case_event_field(p_case_id::text)
      || case_event_field(p_action)
      || case_event_field(p_from_status)
      || case_event_field(p_to_status)
      || case_event_field(p_actor_kind)
      || case_event_field(p_actor_id::text)
      || case_event_field(p_reason)
      || case_event_field(p_public::text)
      || case_event_field(p_request_id)
      || case_event_field((extract(epoch FROM p_created_at) * 1000000)::bigint::text),
      'UTF8')), 'hex')
$$;
"#;

const PG_BACKFILL: &str = r#"
DO $$
DECLARE
  r record;
  prev text;
  prev_case uuid;
  n bigint;
BEGIN
  FOR r IN SELECT * FROM case_events ORDER BY case_id, created_at, id LOOP
    IF prev_case IS DISTINCT FROM r.case_id THEN
      prev := repeat('0', 64);
      n := 0;
      prev_case := r.case_id;
    END IF;
    n := n + 1;
    UPDATE case_events
       SET seq = n, prev_hash = prev,
           hash = case_event_hash(prev, n, r.id, r.case_id, r.action, r.from_status,
                                  r.to_status, r.actor_kind, r.actor_id, r.reason,
                                  r.public, r.request_id, r.created_at)
     WHERE id = r.id
     RETURNING hash INTO prev;
  END LOOP;
END $$;
"#;

const PG_TRIGGERS: &str = r#"
CREATE OR REPLACE FUNCTION case_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tip record;
BEGIN
  PERFORM 1 FROM cases WHERE id = NEW.case_id FOR NO KEY UPDATE;
  SELECT e.seq, e.hash, e.created_at INTO tip
    FROM case_events e WHERE e.case_id = NEW.case_id ORDER BY e.seq DESC LIMIT 1;
  IF FOUND THEN
    NEW.seq := tip.seq + 1;
    NEW.prev_hash := tip.hash;
    NEW.created_at := GREATEST(NEW.created_at, tip.created_at + INTERVAL '1 microsecond');
  ELSE
    NEW.seq := 1;
    NEW.prev_hash := repeat('0', 64);
  END IF;
  NEW.hash := case_event_hash(NEW.prev_hash, NEW.seq, NEW.id, NEW.case_id, NEW.action,
                              NEW.from_status, NEW.to_status, NEW.actor_kind, NEW.actor_id,
                              NEW.reason, NEW.public, NEW.request_id, NEW.created_at);
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION case_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND EXISTS (SELECT 1 FROM case_event_purges p WHERE p.case_id = OLD.case_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER case_events_chain BEFORE INSERT ON case_events
  FOR EACH ROW EXECUTE FUNCTION case_events_chain();
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
  FOR EACH ROW EXECUTE FUNCTION case_events_refuse();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
  FOR EACH STATEMENT EXECUTE FUNCTION case_events_refuse();
"#;

const PG_DOWN: &str = r#"
DROP TRIGGER IF EXISTS case_events_chain ON case_events;
DROP TRIGGER IF EXISTS case_events_append_only ON case_events;
DROP TRIGGER IF EXISTS case_events_no_truncate ON case_events;
DROP FUNCTION IF EXISTS case_events_chain();
DROP FUNCTION IF EXISTS case_events_refuse();
DROP FUNCTION IF EXISTS case_event_hash(text, bigint, uuid, uuid, text, text, text, text, uuid, text, boolean, text, timestamptz);
DROP FUNCTION IF EXISTS case_event_field(text);
"#;

const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events \
     BEGIN SELECT RAISE(ABORT, 'case_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events \
     WHEN NOT EXISTS (SELECT 1 FROM case_event_purges p WHERE p.case_id = OLD.case_id) \
     BEGIN SELECT RAISE(ABORT, 'case_events is append-only: DELETE refused'); END",
];

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    CaseId,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum CaseEventPurges {
    Table,
    CaseId,
    PurgedAt,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        // Defaults only to add the columns to existing rows; the backfill
        // below sets every one.
        for col in [
            ColumnDef::new(CaseEvents::Seq)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(CaseEvents::PrevHash)
                .string_len(64)
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(CaseEvents::Hash)
                .string_len(64)
                .not_null()
                .default("")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseEvents::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CaseEventPurges::Table)
                    .col(
                        ColumnDef::new(CaseEventPurges::CaseId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CaseEventPurges::PurgedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CaseEventPurges::Reason).text().not_null())
                    .to_owned(),
            )
            .await?;

        if backend == DbBackend::Postgres {
            db.execute_unprepared(PG_FUNCTIONS).await?;
            db.execute_unprepared(PG_BACKFILL).await?;
            db.execute_unprepared(
                "ALTER TABLE case_events ALTER COLUMN seq DROP DEFAULT, \
                 ALTER COLUMN prev_hash DROP DEFAULT, ALTER COLUMN hash DROP DEFAULT",
            )
            .await?;
        } else {
            backfill_sqlite(db).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("case_events_chain")
                    .table(CaseEvents::Table)
                    .col(CaseEvents::CaseId)
                    .col(CaseEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(PG_TRIGGERS).await?;
        } else {
            for sql in SQLITE_TRIGGERS {
                db.execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(PG_DOWN).await?;
        } else {
            db.execute_unprepared("DROP TRIGGER IF EXISTS case_events_no_update")
                .await?;
            db.execute_unprepared("DROP TRIGGER IF EXISTS case_events_no_delete")
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("case_events_chain")
                    .table(CaseEvents::Table)
                    .to_owned(),
            )
            .await?;
        for col in [CaseEvents::Hash, CaseEvents::PrevHash, CaseEvents::Seq] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseEvents::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(CaseEventPurges::Table).to_owned())
            .await
    }
}

/// A uuid column of SQLite as text: sea-orm stores them as 16-byte blobs;
/// text is read as it is.
fn uuid_text(raw: &[u8]) -> Result<String, DbErr> {
    if raw.len() == 16 {
        let h: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        return Ok(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ));
    }
    String::from_utf8(raw.to_vec())
        .map(|s| s.to_ascii_lowercase())
        .map_err(|_| DbErr::Custom("case_events: an id is neither a uuid blob nor text".into()))
}

fn field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => {
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        None => out.push(b'-'),
    }
}

/// Chains the existing events of the embedded default. The encoding is
/// `sansuo_domain::event_chain::canonical`'s (this crate knows nothing of
/// the domain); `e2e::integrity` verifies a backfilled database with it.
async fn backfill_sqlite(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT rowid AS row_id, id, case_id, action, from_status, to_status, actor_kind, \
             actor_id, reason, public, request_id, created_at FROM case_events \
             ORDER BY case_id, created_at, id",
        ))
        .await?;
    let mut prev_case: Option<Vec<u8>> = None;
    let mut prev = GENESIS.to_owned();
    let mut seq: i64 = 0;
    for row in rows {
        let case_raw: Vec<u8> = row.try_get("", "case_id")?;
        if prev_case.as_ref() != Some(&case_raw) {
            prev = GENESIS.to_owned();
            seq = 0;
            prev_case = Some(case_raw.clone());
        }
        seq += 1;
        let id: Vec<u8> = row.try_get("", "id")?;
        let actor_id: Option<Vec<u8>> = row.try_get("", "actor_id")?;
        let created_at: String = row.try_get("", "created_at")?;
        let micros = chrono::DateTime::parse_from_rfc3339(&created_at)
            .or_else(|_| chrono::DateTime::parse_from_str(&created_at, "%Y-%m-%d %H:%M:%S%.f%:z"))
            .map_err(|e| DbErr::Custom(format!("case_events.created_at {created_at:?}: {e}")))?
            .timestamp_micros();
        let public: bool = row.try_get("", "public")?;
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"sansuo-case-event-v1");
        field(&mut bytes, Some(&seq.to_string()));
        field(&mut bytes, Some(&uuid_text(&id)?));
        field(&mut bytes, Some(&uuid_text(&case_raw)?));
        field(&mut bytes, Some(&row.try_get::<String>("", "action")?));
        field(
            &mut bytes,
            row.try_get::<Option<String>>("", "from_status")?.as_deref(),
        );
        field(&mut bytes, Some(&row.try_get::<String>("", "to_status")?));
        field(&mut bytes, Some(&row.try_get::<String>("", "actor_kind")?));
        let actor = actor_id.as_deref().map(uuid_text).transpose()?;
        field(&mut bytes, actor.as_deref());
        field(
            &mut bytes,
            row.try_get::<Option<String>>("", "reason")?.as_deref(),
        );
        field(&mut bytes, Some(if public { "true" } else { "false" }));
        field(
            &mut bytes,
            row.try_get::<Option<String>>("", "request_id")?.as_deref(),
        );
        field(&mut bytes, Some(&micros.to_string()));
        let mut digest = Sha256::new();
        digest.update(prev.as_bytes());
        digest.update(&bytes);
        let hash = hex::encode(digest.finalize());
        let row_id: i64 = row.try_get("", "row_id")?;
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE case_events SET seq = ?, prev_hash = ?, hash = ? WHERE rowid = ?",
            [
                Value::from(seq),
                Value::from(prev.clone()),
                Value::from(hash.clone()),
                Value::from(row_id),
            ],
        ))
        .await?;
        prev = hash;
    }
    Ok(())
}
