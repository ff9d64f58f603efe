//! Body limits, attacked as the issue did: the real `sansuo` binary as a
//! child process (embedded demo), 1 GiB bodies streamed at every upload
//! path (and a few JSON ones), with and without credentials, declared
//! (`Content-Length`) and undeclared (chunked). The bodies are generated
//! while they are sent, never held. Every answer must come early (401/403
//! before the body is read, or 413 once the route's limit is passed), as
//! JSON, and the server's peak resident memory must stay under 150 MB.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;
/// How far the peak may rise above the idle server's RSS while gigabyte
/// bodies arrive: a body read whole would add a thousand MB. (An absolute
/// ceiling measured the debug binary's own growth as features landed, not
/// the bodies.)
const RSS_GROWTH_CEILING_KB: u64 = 48 * 1000;
const BOUNDARY: &str = "sansuo-body-limit-boundary";

struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn start() -> Server {
        let dir = std::env::temp_dir().join(format!("sansuo-body-limits-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_sansuo"))
            .args(["serve", "--demo"])
            .env_clear()
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.join("sansuo.db").display()),
            )
            .env("SANSUO_BIND", format!("127.0.0.1:{port}"))
            .env(
                "SANSUO_PHOTO_STORE",
                format!("dir:{}", dir.join("photos").display()),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sansuo binary runs");
        let server = Server { child, port, dir };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = server.request("GET", "/healthz", &[], None) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not come up"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// (VmHWM, VmRSS) of the server process, in kB.
    fn memory_kb(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc status"))
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    /// A small request, read to its end: (status, body).
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        json: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = json.unwrap_or("");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if json.is_some() {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(parse_response(&raw).expect("a whole response"))
    }
}

/// The status and body of a raw HTTP/1.1 response (a plain or chunked
/// body), or `None` while it is incomplete.
fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let rest = &raw[end + 4..];
    if let Some(length) = header("content-length") {
        let length: usize = length.parse().ok()?;
        return (rest.len() >= length).then(|| {
            (
                status,
                String::from_utf8_lossy(&rest[..length]).into_owned(),
            )
        });
    }
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let line_end = at + rest[at..].windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[at..line_end]).ok()?.trim(), 16)
                    .ok()?;
            if size == 0 {
                return Some((status, String::from_utf8_lossy(&body).into_owned()));
            }
            let start = line_end + 2;
            if rest.len() < start + size + 2 {
                return None;
            }
            body.extend_from_slice(&rest[start..start + size]);
            at = start + size + 2;
        }
    }
    Some((status, String::from_utf8_lossy(rest).into_owned()))
}

/// (path, headers, body shape, the statuses it may answer with)
type Case = (String, Vec<(&'static str, String)>, Shape, &'static [u16]);

/// What the 1 GiB body looks like.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// One multipart `field` whose content never ends.
    OnePart(&'static str),
    /// Multipart text fields of 60 KiB, one after another.
    ManyFields,
    /// Bytes of a JSON string that never closes.
    Json,
}

/// Send a 1 GiB body, generated as it goes, while reading: the answer as
/// soon as the server gives it (the writer stops then, or when the server
/// stops reading), and how many bytes had been written by then.
fn send_gib(
    server: &Server,
    path: &str,
    headers: &[(&str, String)],
    shape: Shape,
    declared: bool,
) -> (u16, String, u64) {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let content_type = match shape {
        Shape::Json => "application/json".to_owned(),
        _ => format!("multipart/form-data; boundary={BOUNDARY}"),
    };
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n");
    if declared {
        head.push_str(&format!("Content-Length: {GIB}\r\n"));
    } else {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    let answered = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let answered = answered.clone();
        std::thread::spawn(move || -> u64 {
            stream
                .set_write_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            if stream.write_all(head.as_bytes()).is_err() {
                return 0;
            }
            let filler = vec![b'a'; 64 * 1024];
            let field = |name: &str| {
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                )
            };
            let mut sent: u64 = 0;
            let mut part = 0u64;
            while sent < GIB && !answered.load(Ordering::Relaxed) {
                let mut piece: Vec<u8> = Vec::with_capacity(filler.len() + 256);
                match shape {
                    Shape::OnePart(name) if sent == 0 => {
                        piece.extend_from_slice(field(name).as_bytes())
                    }
                    Shape::ManyFields => {
                        part += 1;
                        piece.extend_from_slice(
                            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note{part}\"\r\n\r\n").as_bytes(),
                        );
                        piece.extend_from_slice(&filler[..60 * 1024]);
                        piece.extend_from_slice(b"\r\n");
                    }
                    Shape::Json if sent == 0 => piece.extend_from_slice(b"{\"username\":\""),
                    _ => {}
                }
                if !matches!(shape, Shape::ManyFields) {
                    piece.extend_from_slice(&filler);
                }
                let piece_len = piece.len() as u64;
                let written = if declared {
                    let room = (GIB - sent).min(piece_len) as usize;
                    stream.write_all(&piece[..room])
                } else {
                    stream
                        .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                        .and_then(|_| stream.write_all(&piece))
                        .and_then(|_| stream.write_all(b"\r\n"))
                };
                if written.is_err() {
                    break;
                }
                sent += piece_len;
            }
            if !declared && !answered.load(Ordering::Relaxed) {
                let _ = stream.write_all(b"0\r\n\r\n");
            }
            sent
        })
    };
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let answer = loop {
        if let Some(answer) = parse_response(&raw) {
            break Some(answer);
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break parse_response(&raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    answered.store(true, Ordering::Relaxed);
    let _ = stream.shutdown(Shutdown::Both);
    let sent = writer.join().unwrap();
    let (status, body) = answer.unwrap_or_else(|| {
        panic!(
            "POST {path} ({shape:?}, declared {declared}): no answer after {} MiB",
            sent >> 20
        )
    });
    (status, body, sent)
}

fn json_field(body: &str, pointer: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {body}"));
    value
        .pointer(pointer)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_else(|| panic!("no {pointer} in {body}"))
}

#[test]
fn gigabyte_bodies_are_refused_early_and_memory_stays_flat() {
    let server = Server::start();
    let (_, baseline) = server.memory_kb();

    // Credentials for the authenticated variants: a demo resident, and an
    // Open311 key issued by the demo administrator.
    let (status, body) = server
        .request(
            "POST",
            "/api/v1/auth/demo",
            &[],
            Some(r#"{"name":"big-body"}"#),
        )
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let resident = format!("Bearer {}", json_field(&body, "/access_token"));
    let (status, body) = server
        .request(
            "POST",
            "/api/v1/auth/staff",
            &[],
            Some(r#"{"username":"admin","password":"sansuo-demo"}"#),
        )
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let admin = format!("Bearer {}", json_field(&body, "/access_token"));
    let (status, body) = server
        .request(
            "POST",
            "/api/v1/admin/open311-keys",
            &[("Authorization", admin)],
            Some(r#"{"name":"big-body client"}"#),
        )
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let api_key = json_field(&body, "/api_key");
    let tip = uuid::Uuid::now_v7();
    let none: Vec<(&str, String)> = Vec::new();
    let bearer = vec![("Authorization", resident.clone())];
    let tracking = vec![(
        "X-Tracking-Token",
        "0123456789abcdef0123456789abcdef".to_owned(),
    )];

    // (path, headers, shape, the statuses it may answer with)
    let photo = Shape::OnePart("photo");
    let media = Shape::OnePart("media");
    let open311 = "/open311/v2/requests.json";
    let keyed = format!("{open311}?api_key={api_key}");
    let cases: Vec<Case> = vec![
        // Unauthenticated: refused before the body is read.
        (
            "/api/v1/tips/with-photos".into(),
            none.clone(),
            photo,
            &[401],
        ),
        (
            format!("/api/v1/tips/{tip}/photos"),
            none.clone(),
            photo,
            &[401],
        ),
        (
            "/api/v1/tips/tracked/photos".into(),
            none.clone(),
            photo,
            &[401],
        ),
        (
            "/api/v1/tips/tracked/photos".into(),
            tracking.clone(),
            photo,
            &[404],
        ),
        (open311.into(), none.clone(), media, &[403]),
        (open311.into(), none.clone(), Shape::ManyFields, &[403, 413]),
        (
            format!("{open311}?api_key=not-a-key"),
            none.clone(),
            media,
            &[403],
        ),
        (
            "/api/v1/auth/staff".into(),
            none.clone(),
            Shape::Json,
            &[413],
        ),
        (
            "/api/v1/auth/demo".into(),
            none.clone(),
            Shape::Json,
            &[413],
        ),
        // Authenticated: read up to the route's limit, then cut off.
        (
            "/api/v1/tips/with-photos".into(),
            bearer.clone(),
            photo,
            &[413],
        ),
        (
            "/api/v1/tips/with-photos".into(),
            bearer.clone(),
            Shape::ManyFields,
            &[413],
        ),
        (
            format!("/api/v1/tips/{tip}/photos"),
            bearer.clone(),
            photo,
            &[404, 413],
        ),
        (keyed.clone(), none.clone(), media, &[413]),
        (keyed, none.clone(), Shape::ManyFields, &[413]),
        (
            "/api/v1/consultations".into(),
            bearer.clone(),
            Shape::Json,
            &[413],
        ),
    ];
    let mut peak = 0;
    for (path, headers, shape, allowed) in &cases {
        for declared in [true, false] {
            let (status, body, sent) = send_gib(&server, path, headers, *shape, declared);
            let (hwm, rss) = server.memory_kb();
            peak = peak.max(hwm);
            println!(
                "POST {path} {shape:?} declared={declared}: {status} after {} MiB sent; VmRSS {} MB, VmHWM {} MB",
                sent >> 20,
                rss / 1000,
                hwm / 1000
            );
            assert!(
                allowed.contains(&status) || (declared && status == 413),
                "POST {path} {shape:?} declared={declared}: {status} {body}"
            );
            // JSON, or Open311's JSON error list.
            let parsed: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {body}"));
            if status == 413 && !path.starts_with("/open311") {
                let code = parsed["error"]["code"].as_str().unwrap_or_default();
                assert!(
                    ["body_too_large", "photo_too_large", "field_too_large"].contains(&code),
                    "{body}"
                );
            }
            assert!(
                sent < 64 << 20,
                "POST {path} {shape:?}: the server read {} MiB before answering",
                sent >> 20
            );
            assert!(
                hwm.saturating_sub(baseline) < RSS_GROWTH_CEILING_KB,
                "POST {path} {shape:?}: peak RSS {} MB (baseline {} MB)",
                hwm / 1000,
                baseline / 1000
            );
        }
    }
    // Still serving.
    assert_eq!(server.request("GET", "/healthz", &[], None).unwrap().0, 200);
    println!(
        "baseline VmRSS {} MB, peak VmHWM {} MB over {} gigabyte requests",
        baseline / 1000,
        peak / 1000,
        cases.len() * 2
    );
}
