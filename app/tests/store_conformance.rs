//! One contract, every engine: each test runs against SQLite always and against MongoDB when
//! `TEST_MONGO_URI` is set (a fresh database per test, dropped afterwards).

use app::backend::store::{
    AnswerRecord, IntegrityRecord, NewSession, NewTemplate, NewUser, PromptRecord, ResultsFilter,
    SaveOutcome, SessionRecord, SessionStatus, SpendOutcome, StartOutcome, Store, StoreError,
    new_id, now,
};
use app::model::{Id, Role, Speaker};
use app::session::{Grading, IntegrityKind, QuestionGrade, ResultsSort, Scores};
use app::template::{TemplateContent, TemplateStatus};
use std::collections::HashSet;

enum Engine {
    Sqlite(tempfile::TempDir),
    Mongo { uri: String, db: String },
}

impl Engine {
    fn all() -> Vec<Engine> {
        let mut engines = vec![Engine::Sqlite(tempfile::tempdir().expect("temp dir"))];
        if let Some(uri) = std::env::var("TEST_MONGO_URI")
            .ok()
            .filter(|u| !u.is_empty())
        {
            engines.push(Engine::Mongo {
                uri,
                db: format!("assess_test_{}", new_id()),
            });
        }
        engines
    }

    fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite(_) => "sqlite",
            Engine::Mongo { .. } => "mongodb",
        }
    }

    /// Opens the engine's store; opening again on the same engine is a restart.
    async fn open(&self) -> Store {
        let store = match self {
            Engine::Sqlite(dir) => Store::sqlite(dir.path()).await,
            Engine::Mongo { uri, db } => Store::mongo(uri, db).await,
        };
        store.unwrap_or_else(|e| panic!("{}: cannot open store: {e}", self.name()))
    }

    async fn cleanup(self) {
        if let Engine::Mongo { uri, db } = self {
            let client = mongodb::Client::with_uri_str(&uri)
                .await
                .expect("mongo client");
            client
                .database(&db)
                .drop()
                .await
                .expect("drop test database");
        }
    }
}

fn user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.to_owned(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn session(budget: u32) -> NewSession {
    NewSession {
        candidate_id: new_id(),
        candidate_email: "candidate@example.com".into(),
        template_id: new_id(),
        template_version: 1,
        recruiter_id: new_id(),
        prompt_budget: budget,
        deadline: now() + chrono::Duration::hours(1),
        content: content("Snapshot"),
    }
}

/// A new account of `role`.
async fn account(store: &Store, role: Role) -> Id {
    let email = format!("{role}-{}@example.com", new_id());
    store
        .users
        .insert(user(&email, role))
        .await
        .expect("create an account")
        .id
}

/// A new published template of `owner`'s.
async fn published(store: &Store, owner: &Id) -> Id {
    store
        .templates
        .insert(NewTemplate {
            owner_id: owner.clone(),
            status: TemplateStatus::Published,
            content: content("Published"),
        })
        .await
        .expect("create a template")
        .id
}

/// Starts a session that must be new, for a candidate account that exists (one is created when
/// `new` names none): answers and prompts are taken only from sessions whose owner has one.
async fn started(store: &Store, mut new: NewSession) -> SessionRecord {
    if store
        .users
        .find_by_id(&new.candidate_id)
        .await
        .expect("find the candidate")
        .is_none()
    {
        new.candidate_id = account(store, Role::Candidate).await;
    }
    match store.sessions.start(new).await.expect("start") {
        StartOutcome::Started(record) => record,
        other => panic!("expected a new session, got {other:?}"),
    }
}

#[tokio::test]
async fn users_are_stored_found_and_deleted() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        assert_eq!(store.users.count().await.expect(name), 0, "{name}");
        let ada = store
            .users
            .insert(user("ada@example.com", Role::Recruiter))
            .await
            .expect(name);
        assert_eq!(ada.role, Role::Recruiter, "{name}");
        assert_eq!(store.users.count().await.expect(name), 1, "{name}");

        let by_email = store
            .users
            .find_by_email("ada@example.com")
            .await
            .expect(name);
        assert_eq!(by_email.as_ref(), Some(&ada), "{name}");
        let by_id = store.users.find_by_id(&ada.id).await.expect(name);
        assert_eq!(by_id.as_ref(), Some(&ada), "{name}");
        assert_eq!(
            store
                .users
                .find_by_email("nobody@example.com")
                .await
                .expect(name),
            None,
            "{name}"
        );
        assert_eq!(
            store.users.find_by_id(&new_id()).await.expect(name),
            None,
            "{name}"
        );

        assert!(store.users.delete(&ada.id).await.expect(name), "{name}");
        assert!(
            !store.users.delete(&ada.id).await.expect(name),
            "{name}: second delete"
        );
        assert_eq!(
            store.users.find_by_id(&ada.id).await.expect(name),
            None,
            "{name}"
        );
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn a_duplicate_email_is_refused() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        store
            .users
            .insert(user("grace@example.com", Role::Candidate))
            .await
            .expect(name);
        // The same email is refused whatever the role.
        let err = store
            .users
            .insert(user("grace@example.com", Role::Recruiter))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate("email")),
            "{name}: {err}"
        );
        store
            .users
            .insert(user("grace2@example.com", Role::Candidate))
            .await
            .expect(name);
        engine.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_registrations_of_one_email_store_exactly_one() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .users
                        .insert(user("race@example.com", Role::Candidate))
                        .await
                })
            })
            .collect();
        let mut created = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(_) => created += 1,
                Err(StoreError::Duplicate("email")) => {}
                Err(other) => panic!("{name}: unexpected error {other}"),
            }
        }
        assert_eq!(created, 1, "{name}");
        engine.cleanup().await;
    }
}

/// Spends from 20 concurrent callers and returns how many spends succeeded.
async fn spend_concurrently(store: &Store, s: &SessionRecord, callers: usize) -> (usize, usize) {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let store = store.clone();
            let (id, owner) = (s.id.clone(), s.candidate_id.clone());
            tokio::spawn(async move { store.sessions.spend_prompt(&id, &owner).await })
        })
        .collect();
    let (mut spent, mut exhausted) = (0, 0);
    for task in tasks {
        match task.await.expect("task").expect("spend") {
            SpendOutcome::Spent(_) => spent += 1,
            SpendOutcome::BudgetExhausted => exhausted += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    (spent, exhausted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guarded_spend_applies_exactly_budget_times_under_20_concurrent_callers() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        for budget in [0_u32, 1, 5, 7] {
            let s = started(&store, session(budget)).await;
            let (spent, exhausted) = spend_concurrently(&store, &s, 20).await;
            assert_eq!(spent, budget as usize, "{name}: budget {budget}");
            assert_eq!(exhausted, 20 - budget as usize, "{name}: budget {budget}");
            let after = store
                .sessions
                .find(&s.id)
                .await
                .expect(name)
                .expect("session exists");
            assert_eq!(
                after.used_prompts, budget,
                "{name}: stored count for budget {budget}"
            );
        }
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn spending_reports_each_reason_it_did_not_happen() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        assert_eq!(s.status, SessionStatus::InProgress, "{name}");
        match store
            .sessions
            .spend_prompt(&s.id, &s.candidate_id)
            .await
            .expect(name)
        {
            SpendOutcome::Spent(now) => {
                assert_eq!((now.used_prompts, now.prompt_budget), (1, 3), "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            store
                .sessions
                .spend_prompt(&new_id(), &s.candidate_id)
                .await
                .expect(name),
            SpendOutcome::NotFound,
            "{name}"
        );

        let ended_at = now();
        let ended = store
            .sessions
            .close(&s.id, ended_at)
            .await
            .expect(name)
            .expect("first completion wins");
        assert_eq!(ended.status, SessionStatus::Completed, "{name}");
        assert_eq!(ended.ended_at, Some(ended_at), "{name}");
        assert_eq!(
            store.sessions.close(&s.id, now()).await.expect(name),
            None,
            "{name}: second completion"
        );
        assert_eq!(
            store
                .sessions
                .spend_prompt(&s.id, &s.candidate_id)
                .await
                .expect(name),
            SpendOutcome::NotActive,
            "{name}"
        );
        let stored = store
            .sessions
            .find(&s.id)
            .await
            .expect(name)
            .expect("session");
        assert_eq!(
            stored.used_prompts, 1,
            "{name}: nothing spent after the end"
        );
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn chat_history_is_per_session_in_order_and_limited_to_the_newest() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let (a, b) = (new_id(), new_id());
        let lines = ["Hello", "How long do I have?", "45 minutes.", "Thanks"];
        for (i, line) in lines.iter().enumerate() {
            let speaker = if i % 2 == 0 {
                Speaker::Candidate
            } else {
                Speaker::Interviewer
            };
            store.chat.append(&a, speaker, line).await.expect(name);
        }
        store
            .chat
            .append(&b, Speaker::System, "Session started")
            .await
            .expect(name);

        let history = store.chat.history(&a, 100).await.expect(name);
        let texts: Vec<_> = history.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(texts, lines, "{name}");
        assert!(
            history.iter().all(|m| m.session_id == a),
            "{name}: room isolation"
        );
        let ids: HashSet<_> = history.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids.len(), lines.len(), "{name}: ids are unique");

        let newest = store.chat.history(&a, 2).await.expect(name);
        let texts: Vec<_> = newest.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(texts, ["45 minutes.", "Thanks"], "{name}");
        assert_eq!(
            store.chat.history(&b, 100).await.expect(name).len(),
            1,
            "{name}"
        );
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn a_burst_of_lines_from_many_rooms_at_once_lands_whole_and_in_order() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let rooms: Vec<Id> = (0..40).map(|_| new_id()).collect();
        let line = |room: &Id, i: usize| format!("{room}: line {i}");
        // Every room says its lines one after another; all rooms at once.
        let senders: Vec<_> = rooms
            .iter()
            .map(|room| {
                let (store, room) = (store.clone(), room.clone());
                tokio::spawn(async move {
                    for i in 0..6 {
                        let stored = store
                            .chat
                            .append(&room, Speaker::Candidate, &line(&room, i))
                            .await?;
                        assert_eq!(stored.message, line(&room, i));
                        assert_eq!(stored.session_id, room);
                    }
                    Ok::<_, app::backend::store::StoreError>(())
                })
            })
            .collect();
        for sender in senders {
            sender.await.expect("sender task").expect(name);
        }
        for room in &rooms {
            let history = store.chat.history(room, 100).await.expect(name);
            let texts: Vec<_> = history.iter().map(|m| m.message.clone()).collect();
            let expected: Vec<_> = (0..6).map(|i| line(room, i)).collect();
            assert_eq!(
                texts, expected,
                "{name}: every line, once, in order, in its own room"
            );
        }
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn data_survives_a_restart() {
    for engine in Engine::all() {
        let name = engine.name();
        let (user_id, session_id) = {
            let store = engine.open().await;
            let u = store
                .users
                .insert(user("linus@example.com", Role::Candidate))
                .await
                .expect(name);
            let s = started(
                &store,
                NewSession {
                    candidate_id: u.id.clone(),
                    ..session(4)
                },
            )
            .await;
            store.sessions.spend_prompt(&s.id, &u.id).await.expect(name);
            store
                .chat
                .append(&s.id, Speaker::Candidate, "still here?")
                .await
                .expect(name);
            (u.id, s.id)
        };
        let store = engine.open().await;
        store.ping().await.expect(name);
        let u = store
            .users
            .find_by_id(&user_id)
            .await
            .expect(name)
            .expect("user after restart");
        assert_eq!(u.email, "linus@example.com", "{name}");
        let s = store
            .sessions
            .find(&session_id)
            .await
            .expect(name)
            .expect("session after restart");
        assert_eq!((s.used_prompts, s.prompt_budget), (1, 4), "{name}");
        let chat = store.chat.history(&session_id, 10).await.expect(name);
        assert_eq!(chat.len(), 1, "{name}");
        assert_eq!(chat[0].message, "still here?", "{name}");
        // The unique index is still enforced after a restart.
        let err = store
            .users
            .insert(user("linus@example.com", Role::Recruiter))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate("email")),
            "{name}: {err}"
        );
        engine.cleanup().await;
    }
}

fn content(title: &str) -> TemplateContent {
    serde_json::from_value(serde_json::json!({
        "title": title, "description": "d", "time_limit_minutes": 45, "default_prompt_budget": 7,
        "weights": { "accuracy": 0.5, "speed_efficiency": 0.3, "prompt_wellness": 0.2 },
        "block_copy_paste": false,
        "questions": [
            { "id": "q1", "type": "coding", "prompt": "Sum", "context": "function add(a, b) {}",
              "function_name": "add",
              "test_cases": [{ "input": [1, 2], "expected": 3 }, { "input": [-1.5, [1]], "expected": null }],
              "examples": [{ "input": [0, 0], "expected": 0 }] },
            { "id": "q2", "type": "multiple_choice", "prompt": "Pick", "context": null,
              "options": ["a", "b", "c"], "correct": [0, 2] },
            { "id": "q3", "type": "theory", "prompt": "Explain", "context": null,
              "reference_answer": "Because.", "rubric_keywords": ["closure", "scope"] }
        ]
    }))
    .expect("template content")
}

#[tokio::test]
async fn templates_round_trip_and_list_per_owner_and_status_newest_first() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let (alice, bob) = (new_id(), new_id());
        let mut created = Vec::new();
        for (owner, title, status) in [
            (&alice, "first", TemplateStatus::Draft),
            (&bob, "bobs", TemplateStatus::Published),
            (&alice, "second", TemplateStatus::Published),
        ] {
            created.push(
                store
                    .templates
                    .insert(NewTemplate {
                        owner_id: owner.clone(),
                        status,
                        content: content(title),
                    })
                    .await
                    .unwrap(),
            );
            // Distinct creation times so that "newest first" is well defined.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        let found = store.templates.find(&created[0].id).await.unwrap();
        assert_eq!(found.as_ref(), Some(&created[0]), "{name}");
        assert_eq!(
            found.unwrap().content,
            content("first"),
            "{name}: content intact"
        );

        let titles = |records: Vec<app::backend::store::TemplateRecord>| {
            records
                .into_iter()
                .map(|t| t.content.title)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            titles(store.templates.list_by_owner(&alice).await.unwrap()),
            ["second", "first"],
            "{name}"
        );
        assert_eq!(
            titles(store.templates.list_published().await.unwrap()),
            ["second", "bobs"],
            "{name}"
        );
        assert_eq!(
            store.templates.find(&new_id()).await.unwrap(),
            None,
            "{name}"
        );
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn template_edits_apply_only_at_the_expected_version() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let t = store
            .templates
            .insert(NewTemplate {
                owner_id: new_id(),
                status: TemplateStatus::Draft,
                content: content("v1"),
            })
            .await
            .unwrap();
        assert_eq!((t.version, t.status), (1, TemplateStatus::Draft));

        let in_place = store
            .templates
            .replace_content(&t.id, 1, false, content("edited"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (in_place.version, in_place.content.title.as_str()),
            (1, "edited"),
            "{name}"
        );
        let bumped = store
            .templates
            .replace_content(&t.id, 1, true, content("v2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bumped.version, 2, "{name}");
        assert!(bumped.updated_at >= t.updated_at, "{name}");
        // A stale editor (still at version 1) changes nothing.
        assert_eq!(
            store
                .templates
                .replace_content(&t.id, 1, true, content("stale"))
                .await
                .unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store
                .templates
                .find(&t.id)
                .await
                .unwrap()
                .unwrap()
                .content
                .title,
            "v2",
            "{name}"
        );

        // Of racing editors at the same version exactly one wins.
        let racers = (0..8).map(|i| {
            let store = store.clone();
            let id = t.id.clone();
            tokio::spawn(async move {
                store
                    .templates
                    .replace_content(&id, 2, true, content(&format!("r{i}")))
                    .await
            })
        });
        let mut wins = 0;
        for racer in racers {
            if racer.await.unwrap().unwrap().is_some() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "{name}");
        assert_eq!(
            store.templates.find(&t.id).await.unwrap().unwrap().version,
            3,
            "{name}"
        );

        let published = store
            .templates
            .set_status(&t.id, TemplateStatus::Published)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(published.status, TemplateStatus::Published, "{name}");
        assert_eq!(
            store
                .templates
                .set_status(&new_id(), TemplateStatus::Archived)
                .await
                .unwrap(),
            None,
            "{name}"
        );

        assert_eq!(
            store.sessions.count_for_template(&t.id).await.unwrap(),
            0,
            "{name}"
        );
        let mut new = session(3);
        new.template_id = t.id.clone();
        started(&store, new).await;
        assert_eq!(
            store.sessions.count_for_template(&t.id).await.unwrap(),
            1,
            "{name}"
        );
        engine.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_starts_of_one_test_by_one_candidate_make_one_session() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let mut new = session(5);
        new.candidate_id = account(&store, Role::Candidate).await;
        new.template_id = published(&store, &new.recruiter_id).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let new = new.clone();
                tokio::spawn(async move { store.sessions.start(new).await })
            })
            .collect();
        let mut ids = HashSet::new();
        let mut fresh = 0;
        for task in tasks {
            match task.await.expect("task").expect(name) {
                StartOutcome::Started(s) => {
                    fresh += 1;
                    ids.insert(s.id);
                }
                StartOutcome::Existing(s) => {
                    ids.insert(s.id);
                }
            }
        }
        assert_eq!((fresh, ids.len()), (1, 1), "{name}");
        let id = ids.into_iter().next().expect("one id");
        let in_progress = || async {
            store
                .sessions
                .find_in_progress(&new.candidate_id, &new.template_id)
                .await
                .expect(name)
                .expect("in progress")
        };
        let found = in_progress().await;
        let whole = store.sessions.find(&id).await.expect(name).expect("stored");
        assert_eq!(found, whole.into_parts().1, "{name}: its progress");
        assert_eq!(
            (found.id.clone(), found.status, found.used_prompts),
            (id.clone(), SessionStatus::InProgress, 0),
            "{name}"
        );
        // Its answers come with it, as saved.
        let answer = answer(
            "q1",
            serde_json::json!("function add(a, b) { return a + b; }"),
        );
        let saved = store
            .sessions
            .save_answer(&id, &new.candidate_id, answer.clone())
            .await
            .expect(name);
        assert_eq!(saved, SaveOutcome::Saved, "{name}");
        let found = in_progress().await;
        assert_eq!(found.answers, vec![answer], "{name}: its answers");
        // Once it has ended, the same candidate may start the test again.
        store.sessions.close(&id, now()).await.expect(name);
        let again = started(&store, new.clone()).await;
        assert_ne!(again.id, id, "{name}");
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn a_session_in_progress_is_found_only_while_its_test_is_published_and_its_owner_exists() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let mut new = session(5);
        new.template_id = published(&store, &new.recruiter_id).await;
        let s = started(&store, new).await;
        let found = |candidate: Id| {
            let store = store.clone();
            let template = s.template_id.clone();
            async move {
                store
                    .sessions
                    .find_in_progress(&candidate, &template)
                    .await
                    .expect("find")
                    .map(|found| found.id)
            }
        };
        assert_eq!(
            found(s.candidate_id.clone()).await,
            Some(s.id.clone()),
            "{name}"
        );
        let stranger = account(&store, Role::Candidate).await;
        assert_eq!(found(stranger).await, None, "{name}: someone else's");

        store
            .templates
            .set_status(&s.template_id, TemplateStatus::Archived)
            .await
            .expect(name);
        assert_eq!(
            found(s.candidate_id.clone()).await,
            None,
            "{name}: archived"
        );
        store
            .templates
            .set_status(&s.template_id, TemplateStatus::Published)
            .await
            .expect(name);
        assert_eq!(
            found(s.candidate_id.clone()).await,
            Some(s.id.clone()),
            "{name}"
        );

        assert!(store.users.delete(&s.candidate_id).await.expect(name));
        assert_eq!(
            found(s.candidate_id.clone()).await,
            None,
            "{name}: owner deleted"
        );
        engine.cleanup().await;
    }
}

fn answer(question_id: &str, value: serde_json::Value) -> AnswerRecord {
    AnswerRecord {
        question_id: question_id.into(),
        answer: value,
        submitted_at: now(),
    }
}

/// The session's answers, as (question, answer), in the order stored.
async fn answers_of(store: &Store, id: &Id) -> Vec<(String, serde_json::Value)> {
    let stored = store
        .sessions
        .find(id)
        .await
        .expect("find")
        .expect("session");
    stored
        .answers
        .into_iter()
        .map(|a| (a.question_id, a.answer))
        .collect()
}

/// Asserts that `who` can neither save an answer into session `id` nor spend one of its prompts.
async fn assert_refused(store: &Store, name: &str, id: &Id, who: &Id, why: &str) {
    assert_eq!(
        store
            .sessions
            .save_answer(id, who, answer("q1", serde_json::json!("x")))
            .await
            .expect(name),
        SaveOutcome::NotFound,
        "{name}: {why}"
    );
    assert_eq!(
        store.sessions.spend_prompt(id, who).await.expect(name),
        SpendOutcome::NotFound,
        "{name}: {why}"
    );
    let settled = exchange(id, None, now(), "p".into(), "r".into(), true);
    assert_eq!(
        store
            .sessions
            .spend_and_record(who, settled)
            .await
            .expect(name),
        SpendOutcome::NotFound,
        "{name}: {why}"
    );
    assert!(
        store.sessions.prompts(id).await.expect(name).is_empty(),
        "{name}: {why}: nothing was recorded"
    );
}

#[tokio::test]
async fn answers_and_prompts_are_taken_only_for_the_owner_while_their_account_exists() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        let stranger = store
            .users
            .insert(user("stranger@example.com", Role::Candidate))
            .await
            .expect(name);
        let why = "someone else's session";
        assert_refused(&store, name, &s.id, &stranger.id, why).await;
        assert_refused(&store, name, &s.id, &new_id(), "no such account").await;
        assert!(
            store.users.delete(&s.candidate_id).await.expect(name),
            "{name}"
        );
        let why = "the owner's account was deleted";
        assert_refused(&store, name, &s.id, &s.candidate_id, why).await;
        let stored = store
            .sessions
            .find(&s.id)
            .await
            .expect(name)
            .expect("session");
        assert!(stored.answers.is_empty(), "{name}: nothing was saved");
        assert_eq!(stored.used_prompts, 0, "{name}: nothing was spent");
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn answers_are_kept_one_per_question_and_only_while_the_session_accepts_them() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        let save = |a: AnswerRecord| {
            let store = store.clone();
            let (id, owner) = (s.id.clone(), s.candidate_id.clone());
            async move {
                store
                    .sessions
                    .save_answer(&id, &owner, a)
                    .await
                    .expect("save")
            }
        };
        assert_eq!(
            save(answer("q1", serde_json::json!("v1"))).await,
            SaveOutcome::Saved,
            "{name}"
        );
        assert_eq!(
            save(answer("q2", serde_json::json!([0, 2]))).await,
            SaveOutcome::Saved,
            "{name}"
        );
        assert_eq!(
            save(answer("q1", serde_json::json!("v2"))).await,
            SaveOutcome::Saved,
            "{name}"
        );
        let stored = store
            .sessions
            .find(&s.id)
            .await
            .expect(name)
            .expect("session");
        assert_eq!(stored.answers.len(), 2, "{name}: one answer per question");
        assert_eq!(
            stored.answer("q1").expect("q1").answer,
            serde_json::json!("v2"),
            "{name}"
        );
        assert_eq!(
            stored.answer("q2").expect("q2").answer,
            serde_json::json!([0, 2]),
            "{name}"
        );

        // Sessions of one candidate each keep their own answers.
        let same_candidate = || NewSession {
            candidate_id: s.candidate_id.clone(),
            ..session(3)
        };
        let other = started(&store, same_candidate()).await;
        let unanswered = started(&store, same_candidate()).await;
        assert_eq!(
            store
                .sessions
                .save_answer(
                    &other.id,
                    &s.candidate_id,
                    answer("q2", serde_json::json!([1]))
                )
                .await
                .expect(name),
            SaveOutcome::Saved,
            "{name}"
        );
        let listed = store
            .sessions
            .list_for_candidate(&s.candidate_id)
            .await
            .expect(name);
        assert_eq!(listed.len(), 3, "{name}");
        let mut first = answers_of(&store, &s.id).await;
        first.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            first,
            [
                ("q1".to_owned(), serde_json::json!("v2")),
                ("q2".to_owned(), serde_json::json!([0, 2]))
            ],
            "{name}"
        );
        assert_eq!(
            answers_of(&store, &other.id).await,
            [("q2".to_owned(), serde_json::json!([1]))],
            "{name}"
        );
        assert!(
            answers_of(&store, &unanswered.id).await.is_empty(),
            "{name}"
        );

        let mut late = answer("q3", serde_json::json!("too late"));
        late.submitted_at = s.deadline;
        assert_eq!(
            save(late).await,
            SaveOutcome::NotActive,
            "{name}: at the deadline"
        );
        assert_eq!(
            store
                .sessions
                .save_answer(
                    &new_id(),
                    &s.candidate_id,
                    answer("q1", serde_json::json!("x"))
                )
                .await
                .expect(name),
            SaveOutcome::NotFound,
            "{name}"
        );
        store
            .sessions
            .close(&s.id, now())
            .await
            .expect(name)
            .expect("closed");
        assert_eq!(
            save(answer("q1", serde_json::json!("v3"))).await,
            SaveOutcome::NotActive,
            "{name}"
        );
        let stored = store
            .sessions
            .find(&s.id)
            .await
            .expect(name)
            .expect("session");
        assert_eq!(
            stored.answer("q1").expect("q1").answer,
            serde_json::json!("v2"),
            "{name}"
        );
        assert!(stored.answer("q3").is_none(), "{name}");
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn a_session_is_found_with_one_of_its_questions() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        let find = |question_id: Option<&'static str>| {
            let store = store.clone();
            let id = s.id.clone();
            async move {
                store
                    .sessions
                    .find_question(&id, question_id)
                    .await
                    .expect("find_question")
                    .expect("session")
            }
        };
        for question_id in ["q1", "q2", "q3"] {
            let found = find(Some(question_id)).await;
            assert_eq!(
                found.question.as_ref(),
                s.question(question_id),
                "{name}: {question_id}"
            );
        }
        let found = find(Some("q2")).await;
        assert_eq!(
            (
                &found.id,
                &found.candidate_id,
                found.status,
                found.deadline,
                found.graded
            ),
            (
                &s.id,
                &s.candidate_id,
                SessionStatus::InProgress,
                s.deadline,
                false
            ),
            "{name}"
        );
        assert_eq!(
            find(Some("q9")).await.question,
            None,
            "{name}: not in the test"
        );
        assert_eq!(find(None).await.question, None, "{name}: none asked for");
        assert_eq!(find(None).await.candidate_id, s.candidate_id, "{name}");
        assert_eq!(
            store
                .sessions
                .find_question(&new_id(), Some("q1"))
                .await
                .expect(name),
            None,
            "{name}: no such session"
        );

        store
            .sessions
            .close(&s.id, now())
            .await
            .expect(name)
            .expect("closed");
        let ended = find(Some("q1")).await;
        assert_eq!(
            (ended.status, ended.graded),
            (SessionStatus::Completed, false),
            "{name}"
        );
        store
            .sessions
            .set_grading(&s.id, &grading(60.0))
            .await
            .expect(name);
        assert!(find(None).await.graded, "{name}: graded");
        engine.cleanup().await;
    }
}

fn grading(total: f64) -> Grading {
    Grading {
        scores: Scores {
            accuracy: total,
            speed_efficiency: 50.0,
            prompt_wellness: 100.0,
            total_score: total,
        },
        questions: vec![QuestionGrade {
            question_id: "q1".into(),
            score: total,
            explanation: "test".into(),
            tests: Vec::new(),
            overridden: None,
        }],
    }
}

#[tokio::test]
async fn results_list_ended_sessions_per_recruiter_newest_first_in_pages() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let recruiter = account(&store, Role::Recruiter).await;
        let other_template = new_id();
        let mut ids = Vec::new();
        for i in 0..5 {
            let mut new = session(3);
            new.recruiter_id = recruiter.clone();
            if i == 4 {
                new.template_id = other_template.clone();
            }
            let s = started(&store, new).await;
            let ended = now() + chrono::Duration::seconds(i);
            store
                .sessions
                .close(&s.id, ended)
                .await
                .expect(name)
                .expect("closed");
            store
                .sessions
                .set_grading(&s.id, &grading(i as f64))
                .await
                .expect(name);
            ids.push(s.id);
        }
        // Another recruiter's result, and one still in progress: neither is listed.
        started(&store, session(3)).await;
        let mut running = session(3);
        running.recruiter_id = recruiter.clone();
        let running = started(&store, running).await;

        let first = store
            .sessions
            .list_completed_for_recruiter(&recruiter, &ResultsFilter::default(), 0, 2)
            .await
            .expect(name)
            .expect("the recruiter's account exists");
        assert_eq!(first.total, 5, "{name}");
        let listed: Vec<_> = first.items.iter().map(|s| s.id.clone()).collect();
        assert_eq!(
            listed,
            vec![ids[4].clone(), ids[3].clone()],
            "{name}: newest first"
        );
        let newest = store
            .sessions
            .find(&ids[4])
            .await
            .expect(name)
            .expect("session");
        assert_eq!(first.items[0], newest.overview(), "{name}");
        assert_eq!(first.items[0].scores, Some(grading(4.0).scores), "{name}");
        assert_eq!(first.items[0].title, "Snapshot", "{name}");
        let last = store
            .sessions
            .list_completed_for_recruiter(&recruiter, &ResultsFilter::default(), 4, 2)
            .await
            .expect(name)
            .expect("the recruiter's account exists");
        assert_eq!(last.items.len(), 1, "{name}");
        assert_eq!(last.items[0].id, ids[0], "{name}");
        let only_other = ResultsFilter {
            template_id: Some(other_template.clone()),
            ..ResultsFilter::default()
        };
        let filtered = store
            .sessions
            .list_completed_for_recruiter(&recruiter, &only_other, 0, 10)
            .await
            .expect(name)
            .expect("the recruiter's account exists");
        assert_eq!((filtered.total, filtered.items.len()), (1, 1), "{name}");

        let mine = store
            .sessions
            .list_for_candidate(&running.candidate_id)
            .await
            .expect(name);
        assert_eq!(
            mine,
            vec![running.overview()],
            "{name}: what the session says of itself"
        );
        let live = store
            .sessions
            .in_progress_for_recruiter(&recruiter, 10)
            .await
            .expect(name);
        let live: Vec<_> = live.into_iter().map(|s| s.id).collect();
        assert_eq!(
            live,
            vec![running.id.clone()],
            "{name}: only the running one of this recruiter"
        );

        assert!(store.users.delete(&recruiter).await.expect(name));
        let gone = store
            .sessions
            .list_completed_for_recruiter(&recruiter, &ResultsFilter::default(), 0, 2)
            .await
            .expect(name);
        assert_eq!(gone, None, "{name}: the recruiter's account is deleted");
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn results_sort_by_score_and_email_filter_by_candidate_and_give_a_templates_totals() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let recruiter = account(&store, Role::Recruiter).await;
        let template = new_id();
        // (email, total) in the order they end.
        let attempts = [
            ("carol@example.com", 40.0),
            ("Alice@Example.com", 95.5),
            ("bob@example.com", 70.25),
            ("dave@other.org", 95.5),
        ];
        let mut ids = Vec::new();
        for (i, (email, total)) in attempts.iter().enumerate() {
            let mut new = session(3);
            new.recruiter_id = recruiter.clone();
            new.template_id = template.clone();
            new.candidate_email = (*email).to_owned();
            let s = started(&store, new).await;
            store
                .sessions
                .close(&s.id, now() + chrono::Duration::seconds(i as i64))
                .await
                .expect(name)
                .expect("closed");
            store
                .sessions
                .set_grading(&s.id, &grading(*total))
                .await
                .expect(name);
            ids.push(s.id);
        }
        let listed = |sort: ResultsSort, candidate: Option<&str>| {
            let store = store.clone();
            let recruiter = recruiter.clone();
            let filter = ResultsFilter {
                template_id: None,
                candidate: candidate.map(str::to_owned),
                sort,
            };
            async move {
                let page = store
                    .sessions
                    .list_completed_for_recruiter(&recruiter, &filter, 0, 10)
                    .await
                    .expect("listed")
                    .expect("the recruiter's account exists");
                let order: Vec<_> = page.items.into_iter().map(|s| s.id).collect();
                (page.total, order)
            }
        };
        // Equal scores: the more recently ended first.
        assert_eq!(
            listed(ResultsSort::ScoreDesc, None).await.1,
            vec![
                ids[3].clone(),
                ids[1].clone(),
                ids[2].clone(),
                ids[0].clone()
            ],
            "{name}: highest score first"
        );
        assert_eq!(
            listed(ResultsSort::ScoreAsc, None).await.1,
            vec![
                ids[0].clone(),
                ids[2].clone(),
                ids[3].clone(),
                ids[1].clone()
            ],
            "{name}: lowest score first"
        );
        assert_eq!(
            listed(ResultsSort::Oldest, None).await.1,
            ids,
            "{name}: oldest first"
        );
        // Byte order, as both engines compare: the capital A sorts first.
        assert_eq!(
            listed(ResultsSort::Candidate, None).await.1,
            vec![
                ids[1].clone(),
                ids[2].clone(),
                ids[0].clone(),
                ids[3].clone()
            ],
            "{name}: by email"
        );
        assert_eq!(
            listed(ResultsSort::Newest, Some("EXAMPLE.COM")).await,
            (3, vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]),
            "{name}: the search ignores case and counts only matches"
        );
        assert_eq!(
            listed(ResultsSort::Newest, Some("a.*")).await,
            (0, vec![]),
            "{name}: the search is literal, not a pattern"
        );

        let mut totals = store
            .sessions
            .completed_totals(&recruiter, &template)
            .await
            .expect(name);
        totals.sort_by(f64::total_cmp);
        assert_eq!(totals, vec![40.0, 70.25, 95.5, 95.5], "{name}");
        assert!(
            store
                .sessions
                .completed_totals(&new_id(), &template)
                .await
                .expect(name)
                .is_empty(),
            "{name}: another recruiter sees no totals"
        );
        engine.cleanup().await;
    }
}

/// An assistant exchange of the session at `timestamp`: answered, or blocked as a request for
/// the solution.
fn exchange(
    session_id: &Id,
    question_id: Option<&str>,
    timestamp: chrono::DateTime<chrono::Utc>,
    prompt: String,
    response: String,
    blocked: bool,
) -> PromptRecord {
    PromptRecord {
        id: new_id(),
        session_id: session_id.clone(),
        question_id: question_id.map(str::to_owned),
        timestamp,
        prompt,
        response,
        was_blocked: blocked,
        rule: blocked.then(|| "solution_request".to_owned()),
        reason: blocked.then(|| "asks for the answer".to_owned()),
        provider: "offline".into(),
    }
}

/// The session's prompts used and blocked, as stored.
async fn prompt_counts(store: &Store, id: &Id) -> (u32, u32) {
    let found = store
        .sessions
        .find(id)
        .await
        .expect("find")
        .expect("session");
    (found.used_prompts, found.blocked_prompts)
}

/// The assistant's context: the last answered exchanges about the same question (or, for a
/// prompt about no question, about none), oldest first.
#[tokio::test]
async fn recent_exchanges_are_the_last_answered_ones_about_the_same_question() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        let start = now();
        let exchanges = (0..12)
            .map(|i| (Some("q1"), false, format!("q1 {i}")))
            .chain([
                (None, false, "general 0".to_owned()),
                (Some("q1"), true, "q1 blocked".to_owned()),
                (Some("q2"), false, "q2 0".to_owned()),
                (None, true, "general blocked".to_owned()),
                (None, false, "general 1".to_owned()),
            ]);
        for (i, (question, blocked, prompt)) in exchanges.enumerate() {
            let response = format!("reply to {prompt}");
            store
                .sessions
                .record_prompt(exchange(
                    &s.id,
                    question,
                    start + chrono::Duration::milliseconds(i as i64),
                    prompt,
                    response,
                    blocked,
                ))
                .await
                .expect(name);
        }
        let recent = |question: Option<&'static str>, limit: u32| {
            let store = &store;
            let id = s.id.clone();
            async move {
                store
                    .sessions
                    .recent_exchanges(&id, question, limit)
                    .await
                    .expect(name)
                    .into_iter()
                    .map(|p| p.prompt)
                    .collect::<Vec<_>>()
            }
        };
        let expected: Vec<String> = (2..12).map(|i| format!("q1 {i}")).collect();
        assert_eq!(recent(Some("q1"), 10).await, expected, "{name}");
        assert_eq!(recent(Some("q1"), 2).await, ["q1 10", "q1 11"], "{name}");
        assert_eq!(recent(None, 10).await, ["general 0", "general 1"], "{name}");
        assert_eq!(recent(Some("q2"), 10).await, ["q2 0"], "{name}");
        assert!(recent(Some("q3"), 10).await.is_empty(), "{name}");
        let one = store
            .sessions
            .recent_exchanges(&s.id, Some("q2"), 10)
            .await
            .expect(name);
        assert_eq!(one[0].response, "reply to q2 0", "{name}");
        assert_eq!(one[0].session_id, s.id, "{name}");
        assert!(
            store
                .sessions
                .recent_exchanges(&new_id(), Some("q1"), 10)
                .await
                .expect(name)
                .is_empty(),
            "{name}: another session has none"
        );
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn assistant_exchanges_are_kept_in_order_blocked_ones_counted_and_refunds_bounded() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(3)).await;
        for (i, blocked) in [false, true, true].into_iter().enumerate() {
            assert!(
                matches!(
                    store
                        .sessions
                        .spend_prompt(&s.id, &s.candidate_id)
                        .await
                        .expect(name),
                    SpendOutcome::Spent(_)
                ),
                "{name}"
            );
            store
                .sessions
                .record_prompt(exchange(
                    &s.id,
                    (i == 0).then_some("q1"),
                    now() + chrono::Duration::milliseconds(i as i64),
                    format!("prompt {i}"),
                    format!("reply {i}"),
                    blocked,
                ))
                .await
                .expect(name);
        }
        let prompts = store.sessions.prompts(&s.id).await.expect(name);
        let texts: Vec<_> = prompts.iter().map(|p| p.prompt.as_str()).collect();
        assert_eq!(texts, ["prompt 0", "prompt 1", "prompt 2"], "{name}");
        assert_eq!(prompts[0].question_id.as_deref(), Some("q1"), "{name}");
        assert_eq!(prompts[0].rule, None, "{name}");
        assert_eq!(
            prompts[1].reason.as_deref(),
            Some("asks for the answer"),
            "{name}"
        );
        assert!(prompts[2].was_blocked, "{name}");
        assert_eq!(prompt_counts(&store, &s.id).await, (3, 2), "{name}");
        assert!(
            store
                .sessions
                .prompts(&new_id())
                .await
                .expect(name)
                .is_empty(),
            "{name}: another session has none"
        );

        // A refund gives one prompt back, and never takes the count below zero.
        for _ in 0..4 {
            store.sessions.refund_prompt(&s.id).await.expect(name);
        }
        let found = store
            .sessions
            .find(&s.id)
            .await
            .expect(name)
            .expect("session");
        assert_eq!(found.used_prompts, 0, "{name}");
        engine.cleanup().await;
    }
}

/// An exchange settled before its prompt is paid for (a refusal, the offline assistant's reply)
/// is recorded exactly when its prompt is spent, whatever the concurrency.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exchange_settled_before_its_spend_is_recorded_only_with_it() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let s = started(&store, session(2)).await;
        let settle = |who: &Id, prompt: &str, blocked: bool| {
            let store = store.clone();
            let (who, prompt) = (who.clone(), prompt.to_owned());
            let exchange = exchange(&s.id, Some("q1"), now(), prompt, "reply".into(), blocked);
            async move {
                let outcome = store.sessions.spend_and_record(&who, exchange).await;
                outcome.expect("spend and record")
            }
        };
        let recorded = || async {
            let prompts = store.sessions.prompts(&s.id).await.expect(name);
            prompts.into_iter().map(|p| p.prompt).collect::<Vec<_>>()
        };
        match settle(&s.candidate_id, "refused", true).await {
            SpendOutcome::Spent(b) => assert_eq!((b.used_prompts, b.prompt_budget), (1, 2)),
            other => panic!("{name}: {other:?}"),
        }
        let stranger = store
            .users
            .insert(user("stranger@example.com", Role::Candidate))
            .await
            .expect(name);
        assert_eq!(
            settle(&stranger.id, "not mine", false).await,
            SpendOutcome::NotFound,
            "{name}"
        );
        match settle(&s.candidate_id, "answered", false).await {
            SpendOutcome::Spent(b) => assert_eq!((b.used_prompts, b.prompt_budget), (2, 2)),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            settle(&s.candidate_id, "over budget", false).await,
            SpendOutcome::BudgetExhausted,
            "{name}"
        );
        assert_eq!(recorded().await, ["refused", "answered"], "{name}");
        assert_eq!(prompt_counts(&store, &s.id).await, (2, 1), "{name}");

        // An ended session takes none.
        store.sessions.close(&s.id, now()).await.expect(name);
        assert_eq!(
            settle(&s.candidate_id, "too late", false).await,
            SpendOutcome::NotActive,
            "{name}"
        );
        assert_eq!(recorded().await, ["refused", "answered"], "{name}");

        // Under 20 concurrent callers, exactly the budget's worth is spent and recorded.
        let s = started(&store, session(5)).await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                let owner = s.candidate_id.clone();
                let e = exchange(&s.id, None, now(), format!("p{i}"), "r".into(), false);
                tokio::spawn(async move { store.sessions.spend_and_record(&owner, e).await })
            })
            .collect();
        let mut spent = 0;
        for task in tasks {
            match task.await.expect("task").expect(name) {
                SpendOutcome::Spent(_) => spent += 1,
                SpendOutcome::BudgetExhausted => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(spent, 5, "{name}");
        let prompts = store.sessions.prompts(&s.id).await.expect(name);
        assert_eq!(prompts.len(), 5, "{name}");
        engine.cleanup().await;
    }
}

#[tokio::test]
async fn overdue_sessions_are_found_and_integrity_events_kept_in_order() {
    for engine in Engine::all() {
        let name = engine.name();
        let store = engine.open().await;
        let mut past = session(3);
        past.deadline = now() - chrono::Duration::seconds(5);
        let past = started(&store, past).await;
        let future = started(&store, session(3)).await;
        let overdue = store.sessions.overdue(now(), 10).await.expect(name);
        assert!(overdue.contains(&past.id), "{name}");
        assert!(!overdue.contains(&future.id), "{name}");

        for (i, kind) in [IntegrityKind::TabHidden, IntegrityKind::Paste]
            .into_iter()
            .enumerate()
        {
            store
                .sessions
                .add_event(IntegrityRecord {
                    id: new_id(),
                    session_id: future.id.clone(),
                    timestamp: now() + chrono::Duration::milliseconds(i as i64),
                    kind,
                    detail: format!("event {i}"),
                })
                .await
                .expect(name);
        }
        let events = store.sessions.events(&future.id).await.expect(name);
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![IntegrityKind::TabHidden, IntegrityKind::Paste],
            "{name}"
        );
        assert_eq!(events[1].detail, "event 1", "{name}");
        assert_eq!(
            store.sessions.count_events(&future.id).await.expect(name),
            2,
            "{name}"
        );
        assert_eq!(
            store.sessions.count_events(&past.id).await.expect(name),
            0,
            "{name}"
        );
        engine.cleanup().await;
    }
}
