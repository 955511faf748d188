//! The benchmark suite of issue #10: the store's ceiling against the API under load, login against
//! raw argon2id, 1,000 chat sockets, server-side rendering and first-load bytes. It prints
//! Markdown tables to paste into `docs/BENCHMARKS.md`; it asserts nothing (the machines are shared
//! and noisy: compare figures of one run).
//!
//! `cargo bench -p server --features app/ssr --bench suite` (or `.ci/dev bench`, which also builds
//! the site first so the first-load bytes are measured). `BENCH_SECONDS` sets each measurement's
//! length (default 3); `BENCH_ONLY` runs some sections only (comma-separated: `pages`, `api`,
//! `logins`, `sockets`), e.g. to profile one; `BENCH_ROWS` runs only the API rows whose name
//! contains one of its comma-separated parts (e.g. `results,prompt`).
//!
//! Everything runs against real processes on this machine: the release `server` binary (SQLite
//! store, offline assistant) and `bench-ceiling`, a bare axum handler doing one read on the same
//! store. The load generator shares the cores with them, as it would with any local tool.

use futures::{SinkExt, StreamExt, stream};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

const CANDIDATES: usize = 200;
/// Templates every candidate has a session on (in progress) for answers, prompts and sockets.
const SESSION_TEMPLATES: usize = 5;
/// Templates only the "start session" measurement starts sessions on.
const START_TEMPLATES: usize = 40;
const LEVELS: [usize; 3] = [1, 50, 200];
const PASSWORD: &str = "benchmark-password";
const WATCHERS: usize = 100;

struct Process {
    child: Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// CPU time the process has used so far, user and system, in /proc's clock ticks
    /// (`USER_HZ`, 100 per second on Linux).
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command's name, which is in parentheses and may hold spaces:
        // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after it.
        stat.rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|field| field.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// Microseconds per tick of [`Process::cpu_ticks`].
const MICROS_PER_TICK: f64 = 10_000.0;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

async fn spawn(binary: &str, data_dir: &Path, ready_path: &str) -> Process {
    let port = free_port();
    let child = Command::new(binary)
        .env("DATA_DIR", data_dir)
        .env("APP_ENV", "development")
        .env(
            "SECRET_KEY",
            "benchmark-secret-key-0123456789abcdef-0123456789",
        )
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "assess")
        .env("LEPTOS_SITE_ROOT", workspace_root().join("target/site"))
        .env("RUST_LOG", "warn")
        .env_remove("MONGO_URI")
        .env_remove("LLM_BASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let process = Process {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = Client::new();
    for _ in 0..600 {
        if let Ok(response) = client
            .get(format!("{}{ready_path}", process.base))
            .send()
            .await
            && response.status().is_success()
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{binary} did not become ready");
}

/// Throughput and latency of one measurement.
struct Stats {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    /// Every call made, the warm-up's included.
    calls: u64,
    /// CPU time the server used per call, in µs, over the warm-up and the measured window: what
    /// a request costs, which the machine's other load changes far less than its throughput.
    cpu_us: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn seconds() -> Duration {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Whether section `name` runs: all do unless `BENCH_ONLY` names some.
fn wanted(name: &str) -> bool {
    std::env::var("BENCH_ONLY")
        .map(|only| only.split(',').any(|s| s.trim() == name))
        .unwrap_or(true)
}

/// Whether the API row `name` runs: all do unless `BENCH_ROWS` names parts of some.
fn row_wanted(name: &str) -> bool {
    std::env::var("BENCH_ROWS")
        .map(|rows| rows.split(',').any(|part| name.contains(part.trim())))
        .unwrap_or(true)
}

/// `clients` tasks call `request(client, iteration)` back to back for a warm-up second and then
/// `seconds()`; only the calls that start in the measured window count.
async fn load<F, Fut>(clients: usize, request: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let errors = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_secs(1);
    let end = start + seconds();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let request = request.clone();
            let errors = errors.clone();
            let calls = calls.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut iteration = 0;
                loop {
                    let began = Instant::now();
                    if began >= end {
                        break;
                    }
                    let ok = request(client, iteration).await;
                    iteration += 1;
                    calls.fetch_add(1, Ordering::Relaxed);
                    if began >= start {
                        latencies.push(began.elapsed());
                        if !ok {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a load task"));
    }
    all.sort();
    Stats {
        rps: all.len() as f64 / seconds().as_secs_f64(),
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        errors: errors.load(Ordering::Relaxed),
        calls: calls.load(Ordering::Relaxed),
        cpu_us: 0.0,
    }
}

struct World {
    client: Client,
    base: String,
    recruiter: String,
    candidates: Vec<String>,
    candidate_ids: Vec<String>,
    /// `sessions[candidate][k]`: in progress, on the k-th session template.
    sessions: Vec<Vec<String>>,
    start_templates: Vec<String>,
    /// The templates of `sessions`, which every candidate has in progress.
    session_templates: Vec<String>,
}

fn template(title: &str) -> Value {
    json!({
        "title": title, "time_limit_minutes": 600, "default_prompt_budget": 1000,
        "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
        "questions": [
            { "id": "q1", "type": "coding", "prompt": "Add a and b.", "function_name": "add",
              "test_cases": [{ "input": [1, 2], "expected": 3 }, { "input": [5, 5], "expected": 10 }] },
            { "id": "q2", "type": "multiple_choice", "prompt": "Which is prime?",
              "options": ["4", "7", "9"], "correct": [1] },
            { "id": "q3", "type": "theory", "prompt": "What is a closure?",
              "reference_answer": "A function with the variables it captures.",
              "rubric_keywords": ["function", "captures"] },
        ],
    })
}

async fn post_json(client: &Client, url: String, token: &str, body: &Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "seeding: {status} {body}");
    body
}

async fn account(client: &Client, base: &str, role: &str, email: &str) -> (String, String) {
    let user = post_json(
        client,
        format!("{base}/api/v1/auth/{role}/register"),
        "",
        &json!({ "email": email, "password": PASSWORD }),
    )
    .await;
    let login: Value = client
        .post(format!("{base}/api/v1/auth/{role}/login"))
        .form(&[("username", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    (
        login["access_token"].as_str().expect("token").to_owned(),
        user["id"].as_str().expect("id").to_owned(),
    )
}

async fn seed(base: &str) -> World {
    let client = Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .expect("client");
    let (recruiter, _) = account(&client, base, "recruiter", "recruiter@bench.example.com").await;
    let accounts: Vec<(String, String)> = stream::iter(0..CANDIDATES)
        .map(|i| {
            let client = client.clone();
            async move {
                account(
                    &client,
                    base,
                    "candidate",
                    &format!("candidate{i}@bench.example.com"),
                )
                .await
            }
        })
        .buffered(8)
        .collect()
        .await;
    let create = |title: String| {
        let client = client.clone();
        let recruiter = recruiter.clone();
        async move {
            post_json(
                &client,
                format!("{base}/api/v1/recruiter/test-template"),
                &recruiter,
                &template(&title),
            )
            .await["id"]
                .as_str()
                .expect("template id")
                .to_owned()
        }
    };
    let mut session_templates = Vec::new();
    for k in 0..SESSION_TEMPLATES {
        session_templates.push(create(format!("Sessions {k}")).await);
    }
    let results_template = create("Results".into()).await;
    let mut start_templates = Vec::new();
    for k in 0..START_TEMPLATES {
        start_templates.push(create(format!("Start {k}")).await);
    }
    let sessions: Vec<Vec<String>> = stream::iter(accounts.iter().map(|(token, _)| token.clone()))
        .map(|token| {
            let client = client.clone();
            let templates = session_templates.clone();
            let results_template = results_template.clone();
            async move {
                let start = |template: String| {
                    let client = client.clone();
                    let token = token.clone();
                    async move {
                        post_json(
                            &client,
                            format!("{base}/api/v1/candidate/session/start/{template}"),
                            &token,
                            &json!({}),
                        )
                        .await["session_id"]
                            .as_str()
                            .expect("session id")
                            .to_owned()
                    }
                };
                // One ended session each, so the results listing has rows.
                let ended = start(results_template).await;
                post_json(
                    &client,
                    format!("{base}/api/v1/candidate/session/submit-answer/{ended}"),
                    &token,
                    &json!({ "question_id": "q2", "answer": [1] }),
                )
                .await;
                post_json(
                    &client,
                    format!("{base}/api/v1/candidate/session/end/{ended}"),
                    &token,
                    &json!({}),
                )
                .await;
                let mut mine = Vec::new();
                for template in templates {
                    mine.push(start(template).await);
                }
                mine
            }
        })
        .buffered(16)
        .collect()
        .await;
    World {
        client,
        base: base.to_owned(),
        recruiter,
        candidates: accounts.iter().map(|(t, _)| t.clone()).collect(),
        candidate_ids: accounts.into_iter().map(|(_, id)| id).collect(),
        sessions,
        start_templates,
        session_templates,
    }
}

/// Whether the call succeeded; the first few failures are printed (to stderr) with their reason.
async fn ok(response: Result<reqwest::Response, reqwest::Error>) -> bool {
    static SHOWN: AtomicU64 = AtomicU64::new(0);
    let failure = match response {
        Ok(r) if r.status().is_success() => return true,
        Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
        Err(err) => err.to_string(),
    };
    if SHOWN.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("request failed: {failure}");
    }
    false
}

type Request = Arc<dyn Fn(&World, usize, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Call `n` of client `c` to the assistant. Spread over every candidate's sessions: a session's
/// budget is at most 1,000 prompts (the product's limit), which one client alone spends within
/// a row.
fn prompt(w: &World, c: usize, n: u64, body: Value) -> reqwest::RequestBuilder {
    let n = n as usize;
    let k = (c + n) % w.candidates.len();
    let session = &w.sessions[k][(n / w.candidates.len()) % SESSION_TEMPLATES];
    w.client
        .post(format!("{}/api/v1/candidate/llm-prompt/{session}", w.base))
        .bearer_auth(&w.candidates[k])
        .json(&body)
}

/// Client `c` starts (or resumes) its attempt at `template`.
fn start(w: &World, c: usize, template: &str) -> reqwest::RequestBuilder {
    w.client
        .post(format!(
            "{}/api/v1/candidate/session/start/{template}",
            w.base
        ))
        .bearer_auth(&w.candidates[c])
}

fn endpoints() -> Vec<(&'static str, Request)> {
    vec![
        (
            "`GET /auth/me`",
            Arc::new(|w: &World, c, _| {
                w.client
                    .get(format!("{}/api/v1/auth/me", w.base))
                    .bearer_auth(&w.candidates[c])
            }),
        ),
        (
            "`POST /candidate/session/start/{id}` (new, then resumed)",
            Arc::new(|w: &World, c, n| {
                start(w, c, &w.start_templates[n as usize % START_TEMPLATES])
            }),
        ),
        (
            // What a reload of the test page costs: every one of these is in progress.
            "`POST /candidate/session/start/{id}` (resumed)",
            Arc::new(|w: &World, c, n| {
                start(w, c, &w.session_templates[n as usize % SESSION_TEMPLATES])
            }),
        ),
        (
            "`POST /candidate/session/submit-answer/{id}`",
            Arc::new(|w: &World, c, n| {
                let session = &w.sessions[c][n as usize % SESSION_TEMPLATES];
                w.client
                    .post(format!(
                        "{}/api/v1/candidate/session/submit-answer/{session}",
                        w.base
                    ))
                    .bearer_auth(&w.candidates[c])
                    .json(&json!({ "question_id": "q1", "answer": format!("function add(a, b) {{ return a + b; }} // {n}") }))
            }),
        ),
        (
            "`POST /candidate/llm-prompt/{id}` (offline assistant)",
            Arc::new(|w: &World, c, n| {
                prompt(
                    w,
                    c,
                    n,
                    json!({ "prompt": "How does Array.prototype.map work?" }),
                )
            }),
        ),
        (
            "`POST /candidate/llm-prompt/{id}` about a coding question (offline assistant)",
            // The test page sends the question the candidate is on; the gatekeeper then also
            // looks for that question's function in the prompt and the reply.
            Arc::new(|w: &World, c, n| {
                let body =
                    json!({ "prompt": "How does Array.prototype.map work?", "question_id": "q1" });
                prompt(w, c, n, body)
            }),
        ),
        (
            "`GET /recruiter/results` (20 of 200)",
            Arc::new(|w: &World, _, _| {
                w.client
                    .get(format!("{}/api/v1/recruiter/results?per_page=20", w.base))
                    .bearer_auth(&w.recruiter)
            }),
        ),
    ]
}

/// `request` by `clients` at once against `server`, whose CPU time is measured meanwhile.
async fn measure(world: &Arc<World>, server: &Process, request: &Request, clients: usize) -> Stats {
    let world = world.clone();
    let request = request.clone();
    let cpu_before = server.cpu_ticks();
    let mut stats = load(clients, move |c, n| {
        let call = request(&world, c, n);
        async move { ok(call.send().await).await }
    })
    .await;
    let ticks = server.cpu_ticks().saturating_sub(cpu_before);
    stats.cpu_us = ticks as f64 * MICROS_PER_TICK / stats.calls.max(1) as f64;
    stats
}

fn row(name: &str, clients: usize, stats: &Stats, ceiling: Option<&Stats>) -> String {
    let share = ceiling
        .map(|c| format!("{:.0}%", 100.0 * stats.rps / c.rps))
        .unwrap_or_else(|| "—".into());
    format!(
        "| {name} | {clients} | {:.0} | {share} | {} | {} | {:.0} | {} |",
        stats.rps,
        ms(stats.p50),
        ms(stats.p99),
        stats.cpu_us,
        stats.errors
    )
}

/// Argon2id verifications per second with the server's hasher, one thread per core.
fn raw_argon2_rate() -> f64 {
    use app::backend::auth::password::argon2id;
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    let phc = argon2id()
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let end = Instant::now() + seconds();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let phc = phc.clone();
                scope.spawn(move || {
                    let parsed = PasswordHash::new(&phc).expect("phc");
                    let mut n = 0;
                    while Instant::now() < end {
                        argon2id()
                            .verify_password(PASSWORD.as_bytes(), &parsed)
                            .expect("verifies");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    counts.iter().sum::<u64>() as f64 / seconds().as_secs_f64()
}

async fn sockets(world: &Arc<World>, server: &Process) {
    let ws_base = world.base.replace("http://", "ws://");
    let before = server.rss_kib();
    let connect = |session: String, token: String| {
        let url = format!("{ws_base}/api/v1/candidate/ws/chat/{session}?token={token}");
        async move {
            // Like a browser: small read buffers and no Nagle delay. tungstenite's default 128 KiB
            // read buffer per socket is zeroed on the first read: 1,100 of them made this client
            // spend the first burst's milliseconds faulting in pages on the server's cores.
            let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
            let (mut socket, _) =
                tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                    .await
                    .expect("a socket");
            // The first frame is the history.
            let _ = socket.next().await;
            socket
        }
    };
    let pairs: Vec<(String, String)> = world
        .sessions
        .iter()
        .zip(&world.candidates)
        .flat_map(|(sessions, token)| sessions.iter().map(move |s| (s.clone(), token.clone())))
        .collect();
    let began = Instant::now();
    let candidates: Vec<_> = stream::iter(pairs.iter().cloned())
        .map(|(s, t)| connect(s, t))
        .buffered(50)
        .collect()
        .await;
    let watchers: Vec<_> = stream::iter(pairs.iter().take(WATCHERS).cloned())
        .map(|(s, _)| connect(s, world.recruiter.clone()))
        .buffered(50)
        .collect()
        .await;
    let connect_time = began.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected = server.rss_kib();

    // Every candidate sends one line; their own socket and (for the first 100) the recruiter's
    // get it back. Sends are spread over about two seconds.
    let sent_at: SentAt = Arc::new(std::sync::Mutex::new(vec![
        None::<Instant>;
        candidates.len()
    ]));
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for (i, socket) in candidates.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        writers.push(sink);
        readers.push(tokio::spawn(arrival(stream, i, sent_at.clone(), false)));
    }
    for (i, socket) in watchers.into_iter().enumerate() {
        let (_sink, stream) = socket.split();
        readers.push(tokio::spawn(arrival(stream, i, sent_at.clone(), true)));
    }
    let mut peak = connected;
    for (i, sink) in writers.iter_mut().enumerate() {
        sent_at.lock().expect("lock")[i] = Some(Instant::now());
        let line = json!({ "message": line(i) }).to_string();
        sink.send(Message::Text(line.into())).await.expect("send");
        if i % 100 == 99 {
            peak = peak.max(server.rss_kib());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let mut echo = Vec::new();
    let mut fanout = Vec::new();
    let mut lost = 0;
    for reader in readers {
        match reader.await.expect("reader") {
            Some((true, d)) => fanout.push(d),
            Some((false, d)) => echo.push(d),
            None => lost += 1,
        }
    }
    peak = peak.max(server.rss_kib());
    echo.sort();
    fanout.sort();
    println!("\n### WebSocket scale (goal: fan-out p99 < 50 ms, RSS < 150 MB)\n");
    println!(
        "{} candidate sockets on {} sessions and {WATCHERS} recruiter sockets watching, connected in {:.1} s; one chat line per candidate socket, sent over about two seconds.\n",
        pairs.len(),
        pairs.len(),
        connect_time.as_secs_f64()
    );
    println!("| measure | p50 ms | p99 ms | count |\n|---|---|---|---|");
    println!(
        "| round trip (candidate sends, own socket receives) | {} | {} | {} |",
        ms(percentile(&echo, 0.5)),
        ms(percentile(&echo, 0.99)),
        echo.len()
    );
    println!(
        "| fan-out (candidate sends, watching recruiter receives) | {} | {} | {} |",
        ms(percentile(&fanout, 0.5)),
        ms(percentile(&fanout, 0.99)),
        fanout.len()
    );
    println!("\nLines not received within 20 s: {lost}.\n");
    println!(
        "| server RSS | MiB |\n|---|---|\n| before connecting | {:.1} |\n| {} sockets connected | {:.1} |\n| peak while messaging | {:.1} |",
        before as f64 / 1024.0,
        pairs.len() + WATCHERS,
        connected as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

/// The chat line candidate socket `i` sends (brackets: "line 1" is not found in "line 10").
fn line(i: usize) -> String {
    format!("[bench line {i}]")
}

type SentAt = Arc<std::sync::Mutex<Vec<Option<Instant>>>>;

/// How long after it was sent line `i` arrived on `stream` (`watcher`: a recruiter's socket), or
/// `None` if it did not within 20 s.
async fn arrival(
    mut stream: impl futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
    + Unpin,
    i: usize,
    sent_at: SentAt,
    watcher: bool,
) -> Option<(bool, Duration)> {
    let marker = line(i);
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_secs(20), stream.next()).await
    {
        if let Message::Text(text) = frame
            && text.contains(&marker)
        {
            let sent = sent_at.lock().expect("lock")[i];
            return sent.map(|s| (watcher, s.elapsed()));
        }
    }
    None
}

async fn render_times(world: &Arc<World>) {
    println!("\n### Server-side rendering and first load\n");
    println!("| page | HTML bytes | p50 ms | p99 ms |\n|---|---|---|---|");
    let session = &world.sessions[0][0];
    let mut pages = Vec::new();
    for (name, path, cookie) in [
        ("landing `/`", "/".to_owned(), None),
        (
            "test page `/candidate/session/{id}`",
            format!("/candidate/session/{session}"),
            Some(format!(
                "{}={}",
                app::backend::auth::web::SESSION_COOKIE,
                world.candidates[0]
            )),
        ),
    ] {
        let mut times = Vec::new();
        let mut html = String::new();
        for i in 0..220 {
            let mut request = world
                .client
                .get(format!("{}{path}", world.base))
                .header("accept", "text/html");
            if let Some(cookie) = &cookie {
                request = request.header("cookie", cookie);
            }
            let began = Instant::now();
            let response = request.send().await.expect("page");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            html = response.text().await.expect("body");
            if i >= 20 {
                times.push(began.elapsed());
            }
        }
        times.sort();
        println!(
            "| {name} | {} | {} | {} |",
            html.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
        pages.push((name, html));
    }
    println!(
        "\nFirst load: every file a page needs before it is interactive: the stylesheet, script \
         and WebAssembly it links, the chunk loader that script imports, and the split chunks of \
         the page's lazy islands (cargo-leptos `--split`, from `__wasm_split_manifest.json`). \
         Bytes as served: from the copies the site build writes next to each file, brotli \
         (cargo-leptos `--precompress`, quality 11) and gzip (zopfli); without them, compressed \
         on the fly by tower-http:\n"
    );
    let manifest: Value = match world
        .client
        .get(format!("{}/pkg/__wasm_split_manifest.json", world.base))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => {
            response.json().await.expect("the split manifest")
        }
        _ => Value::Null,
    };
    for (name, html) in pages {
        let mut groups: Vec<(String, Vec<String>)> = first_load_files(&html)
            .into_iter()
            .filter(|href| !href.contains("/chunk_") && !href.contains("/split_"))
            .map(|href| (href.clone(), vec![href]))
            .collect();
        // A lazy island's code is the split point `{island in snake case}_loader_{hash}`.
        let islands = island_names(&html);
        let mut chunks: Vec<String> = Vec::new();
        for (key, modules) in manifest.as_object().into_iter().flatten() {
            if islands
                .iter()
                .any(|island| key.starts_with(&format!("{island}_loader_")))
            {
                for href in module_hrefs(modules) {
                    if !chunks.contains(&href) {
                        chunks.push(href);
                    }
                }
            }
        }
        // A split build's script imports the chunk loader on every page.
        if manifest.is_object() {
            let loader = "/pkg/__wasm_split.______________________.js".to_owned();
            groups.retain(|(href, _)| *href != loader);
            groups.push((loader.clone(), vec![loader]));
        }
        if !chunks.is_empty() {
            groups.push((
                format!(
                    "{} chunks of its islands ({})",
                    chunks.len(),
                    islands.join(", ")
                ),
                chunks.clone(),
            ));
        }
        println!("{name}:\n\n| file | raw | gzip | brotli |\n|---|---|---|---|");
        let mut totals = [0usize; 3];
        for (label, files) in groups {
            let Some(sizes) = served_sizes(world, &files).await else {
                return;
            };
            for k in 0..3 {
                totals[k] += sizes[k];
            }
            println!("| {label} | {} | {} | {} |", sizes[0], sizes[1], sizes[2]);
        }
        println!(
            "| **total** | {} | **{}** | {} |\n",
            totals[0], totals[1], totals[2]
        );
        // Code fetched on first use (the test page's panels, marked by their empty slot, the
        // example runner and ending the test): each split point that is not an island's,
        // counting only chunks the first load lacks.
        if !html.contains("class=\"panel-slot\"") {
            continue;
        }
        println!(
            "{name}, loaded later, on first use (a panel opened, examples run, the test ended):\n"
        );
        println!("| split point | chunks | raw | gzip | brotli |\n|---|---|---|---|---|");
        for (key, modules) in manifest.as_object().into_iter().flatten() {
            if key.contains("_loader_") {
                continue;
            }
            let extra: Vec<String> = module_hrefs(modules)
                .filter(|href| !chunks.contains(href))
                .collect();
            let Some(sizes) = served_sizes(world, &extra).await else {
                return;
            };
            let point = key.rsplit_once('_').map_or(key.as_str(), |(name, _)| name);
            println!(
                "| {point} | {} | {} | {} | {} |",
                extra.len(),
                sizes[0],
                sizes[1],
                sizes[2]
            );
        }
        println!();
    }
}

/// The bytes of `files` as served raw, gzipped and brotli-compressed; `None` (said in the table)
/// when one is missing.
async fn served_sizes(world: &Arc<World>, files: &[String]) -> Option<[usize; 3]> {
    let mut sizes = [0usize; 3];
    for href in files {
        for (k, encoding) in ["identity", "gzip", "br"].into_iter().enumerate() {
            let response = world
                .client
                .get(format!("{}{href}", world.base))
                .header("accept-encoding", encoding)
                .send()
                .await
                .expect("asset");
            if !response.status().is_success() {
                println!("| {href} | not built (run `.ci/dev bench`) | | |");
                return None;
            }
            sizes[k] += response.bytes().await.expect("body").len();
        }
    }
    Some(sizes)
}

/// The islands of a page, in snake case (`<leptos-island data-component="TestRoom_123">` is
/// `test_room`), without repeats.
fn island_names(html: &str) -> Vec<String> {
    let mut names = Vec::new();
    for tag in opening_tags(html, "<leptos-island") {
        let Some(id) = attribute(tag, "data-component") else {
            continue;
        };
        let component = id.rsplit_once('_').map_or(id.as_str(), |(name, _)| name);
        let mut snake = String::new();
        for (i, c) in component.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        if !snake.is_empty() && !names.contains(&snake) {
            names.push(snake);
        }
    }
    names
}

/// The text of each opening tag (`start`: `<link`, …) in `html`, attributes only.
fn opening_tags<'a>(html: &'a str, start: &'static str) -> impl Iterator<Item = &'a str> {
    html.split(start)
        .skip(1)
        .filter_map(|t| t.split('>').next())
}

/// The chunk files of one split point of `__wasm_split_manifest.json`.
fn module_hrefs(modules: &Value) -> impl Iterator<Item = String> + '_ {
    modules
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| format!("/pkg/{}.wasm", m.as_str().unwrap_or_default()))
}

/// The value of attribute `name` in the text of an opening tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

/// The same-origin files a page has the browser load up front: `<link>`s with `rel` stylesheet,
/// preload or modulepreload, in order, without repeats.
fn first_load_files(html: &str) -> Vec<String> {
    let mut files = Vec::new();
    for tag in opening_tags(html, "<link") {
        let rel = attribute(tag, "rel").unwrap_or_default();
        if let Some(href) = attribute(tag, "href")
            && ["stylesheet", "preload", "modulepreload"].contains(&rel.as_str())
            && href.starts_with('/')
            && !files.contains(&href)
        {
            files.push(href);
        }
    }
    files
}

#[tokio::main]
async fn main() {
    let data = tempfile::tempdir().expect("a data directory");
    let server = spawn(env!("CARGO_BIN_EXE_server"), data.path(), "/readyz").await;
    eprintln!(
        "seeding {CANDIDATES} candidates, {} templates, {} sessions…",
        SESSION_TEMPLATES + START_TEMPLATES + 1,
        CANDIDATES * (SESSION_TEMPLATES + 1)
    );
    let world = Arc::new(seed(&server.base).await);
    let mut memory = vec![("seeded, before any load", server.rss_kib())];
    // Pages first, while the sessions hold what a real one does (not thousands of load-test
    // prompts).
    if wanted("pages") {
        render_times(&world).await;
    }
    if wanted("api") {
        api(&world, &server, data.path()).await;
        memory.push(("after the API load", server.rss_kib()));
    }
    if wanted("logins") {
        logins(&world, &server).await;
        memory.push(("after the logins", server.rss_kib()));
    }
    if wanted("sockets") {
        sockets(&world, &server).await;
    }
    println!("\n### Server memory between sections\n");
    println!("| after | RSS MiB |\n|---|---|");
    for (stage, kib) in memory {
        println!("| {stage} | {:.1} |", kib as f64 / 1024.0);
    }
}

/// The ceiling, then every endpoint at every level against it.
async fn api(world: &Arc<World>, server: &Process, data_dir: &Path) {
    let ceiling = spawn(env!("CARGO_BIN_EXE_bench-ceiling"), data_dir, "/healthz").await;

    println!(
        "### Ceiling and API under load (goal: authenticated JSON ≥ 50% of the ceiling, p99 < 10 ms at 200 clients)\n"
    );
    println!(
        "{} s per row after a 1 s warm-up; \"share\" is the row's throughput over the ceiling's at the same concurrency.\n",
        seconds().as_secs_f64()
    );
    println!(
        "\"server CPU\" is the CPU time the serving process (the ceiling's, or the app's) used per request, warm-up included: the cost of a request, which other load on the machine moves far less than its throughput.\n"
    );
    println!(
        "| request | clients | req/s | share | p50 ms | p99 ms | server CPU µs | errors |\n|---|---|---|---|---|---|---|---|"
    );
    let base = ceiling.base.clone();
    let read: Request = Arc::new(move |w: &World, c, _| {
        w.client
            .get(format!("{base}/read/{}", w.candidate_ids[c % CANDIDATES]))
    });
    let mut ceilings = Vec::new();
    for clients in LEVELS {
        let stats = measure(world, &ceiling, &read, clients).await;
        println!(
            "{}",
            row(
                "ceiling: bare handler, one store read",
                clients,
                &stats,
                None
            )
        );
        ceilings.push(stats);
    }
    for (name, request) in endpoints().into_iter().filter(|(name, _)| row_wanted(name)) {
        for (level, clients) in LEVELS.into_iter().enumerate() {
            let stats = measure(world, server, &request, clients).await;
            println!("{}", row(name, clients, &stats, Some(&ceilings[level])));
        }
        eprintln!("server RSS after {name}: {} KiB", server.rss_kib());
    }
    drop(ceiling);
}

/// Logins at rising concurrency against the raw argon2id rate.
async fn logins(world: &Arc<World>, server: &Process) {
    let login: Request = Arc::new(|w: &World, c, _| {
        w.client
            .post(format!("{}/api/v1/auth/candidate/login", w.base))
            .form(&[
                ("username", format!("candidate{c}@bench.example.com")),
                ("password", PASSWORD.to_owned()),
            ])
    });
    let mut logins = Vec::new();
    for clients in [2, 8, 50] {
        logins.push((clients, measure(world, server, &login, clients).await));
    }
    let raw = raw_argon2_rate();
    println!("\n### Login against raw argon2id (goal: ≥ 90%)\n");
    println!(
        "| what | clients | per second | share of raw | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|"
    );
    println!(
        "| raw argon2id verify (m=19 MiB, t=2, p=1), one thread per core | — | {raw:.1} | 100% | | | |"
    );
    for (clients, stats) in &logins {
        println!(
            "| `POST /auth/candidate/login` | {clients} | {:.1} | {:.0}% | {} | {} | {} |",
            stats.rps,
            100.0 * stats.rps / raw,
            ms(stats.p50),
            ms(stats.p99),
            stats.errors
        );
    }
}
