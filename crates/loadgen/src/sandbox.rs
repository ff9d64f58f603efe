//! The benchmark's own database and Redis key prefix, created empty and
//! removed at the end whatever happened in between. Redis is shared with
//! whoever else uses it, so only keys under our prefix are deleted (SCAN +
//! DEL; never FLUSHALL).

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

pub struct Sandbox {
    admin_url: String,
    redis_url: String,
    pub database: String,
    pub database_url: String,
    pub redis_prefix: String,
}

impl Sandbox {
    pub async fn create(admin_url: &str, redis_url: &str) -> anyhow::Result<Self> {
        let id = Uuid::now_v7().simple().to_string();
        let database = format!("sansuo_bench_{id}");
        let admin = connect(admin_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{database}\""))
            .await
            .with_context(|| format!("CREATE DATABASE {database}"))?;
        admin.close().await.ok();
        // Fail now, not after the server started, if Redis is not there.
        redis_connection(redis_url).await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            redis_url: redis_url.to_owned(),
            database_url: replace_database(admin_url, &database)?,
            database,
            redis_prefix: format!("bench:{id}:"),
        })
    }

    /// Drop the database (closing the server's leftover connections) and
    /// delete our Redis keys. Errors are reported, not fatal: the results
    /// are already written by then.
    pub async fn destroy(&self) {
        match connect(&self.admin_url).await {
            Ok(admin) => {
                if let Err(e) = admin
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.database
                    ))
                    .await
                {
                    eprintln!("warning: could not drop {}: {e}", self.database);
                }
                admin.close().await.ok();
            }
            Err(e) => eprintln!("warning: could not drop {}: {e:#}", self.database),
        }
        if let Err(e) = delete_prefix(&self.redis_url, &self.redis_prefix).await {
            eprintln!(
                "warning: could not delete Redis keys {}*: {e:#}",
                self.redis_prefix
            );
        }
    }

    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    pub fn redis_url(&self) -> &str {
        &self.redis_url
    }
}

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options.max_connections(4).sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {url}"))
}

async fn redis_connection(url: &str) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)
        .with_context(|| format!("bad Redis URL {url}"))?
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("cannot connect to Redis at {url}"))
}

async fn delete_prefix(url: &str, prefix: &str) -> anyhow::Result<()> {
    let mut conn = redis_connection(url).await?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

fn replace_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, rest) = url
        .rsplit_once('/')
        .context("the admin database URL must end in /<database>")?;
    // Keep query parameters (sslmode=...), replace only the name.
    let query = rest.split_once('?').map(|(_, q)| format!("?{q}"));
    Ok(format!("{base}/{database}{}", query.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced_and_parameters_kept() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://h/postgres?sslmode=disable", "x").unwrap(),
            "postgres://h/x?sslmode=disable"
        );
    }
}
