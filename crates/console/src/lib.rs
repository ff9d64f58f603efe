//! The staff console: the Vue single-page app built into `dist/` (checked
//! in; `web/` holds its npm project), embedded in the binary and served at
//! `/console/`.
//!
//! - `/console` redirects to `/console/`.
//! - A file of `dist/` is served with its content type. Vite names the files
//!   under `assets/` by their content's hash: they are cached for a year
//!   (`immutable`). Everything else is revalidated (`no-cache`).
//! - Any other path under `/console/` that does not look like a file (no
//!   extension) is a deep link of the app's router: `index.html`, never
//!   cached (`no-store`), so a new build is picked up at once. A missing
//!   file (with an extension, or under `assets/`) is a plain 404.
//!
//! The server's security-headers middleware gives the HTML its
//! Content-Security-Policy (`script-src 'self'`): the build has no inline
//! script.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "dist/"]
struct Dist;

/// Where the console is mounted.
pub const BASE: &str = "/console";

/// The cache policy of hashed assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The cache policy of `index.html`.
pub const NO_STORE: &str = "no-store";

/// Mount the console's routes (GET and HEAD) on an app or scope.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.route(BASE, web::get().to(redirect))
        .route(BASE, web::head().to(redirect))
        .route(&format!("{BASE}/{{tail:.*}}"), web::get().to(serve))
        .route(&format!("{BASE}/{{tail:.*}}"), web::head().to(serve));
}

async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{BASE}/")))
        .finish()
}

async fn serve(req: HttpRequest) -> HttpResponse {
    let tail = req.match_info().query("tail");
    respond(tail)
}

/// The answer for a path under `/console/` (without the prefix).
fn respond(tail: &str) -> HttpResponse {
    let tail = tail.trim_start_matches('/');
    if !tail.is_empty()
        && tail != "index.html"
        && let Some(file) = Dist::get(tail)
    {
        let cache = if tail.starts_with("assets/") {
            IMMUTABLE
        } else {
            "no-cache"
        };
        return file_response(file, cache);
    }
    if looks_like_file(tail) {
        return HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, NO_STORE))
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    }
    match Dist::get("index.html") {
        Some(index) => file_response(index, NO_STORE),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("the console was not built into this binary"),
    }
}

/// A path the router cannot mean: a file name (with an extension) or
/// anything under `assets/`.
fn looks_like_file(tail: &str) -> bool {
    tail.starts_with("assets/")
        || tail
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

fn file_response(file: EmbeddedFile, cache: &'static str) -> HttpResponse {
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_links_are_routes_and_files_are_not() {
        assert!(!looks_like_file(""));
        assert!(!looks_like_file("tips/0b7e"));
        assert!(!looks_like_file("offers"));
        assert!(looks_like_file("assets/index-abc.js"));
        assert!(looks_like_file("assets/missing"));
        assert!(looks_like_file("favicon.ico"));
    }

    #[test]
    fn the_index_is_embedded() {
        let index = Dist::get("index.html").expect("dist/index.html is embedded");
        let text = String::from_utf8_lossy(&index.data);
        assert!(text.contains("<div id=\"app\">"));
        // No inline script: the CSP allows only our own files.
        for chunk in text.split("<script").skip(1) {
            let tag = chunk.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src="),
                "an inline script in index.html: {tag}"
            );
        }
    }
}
