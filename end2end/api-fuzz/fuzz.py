#!/usr/bin/env python3
"""Fuzzes the REST API from its own OpenAPI document with Schemathesis.

Starts the release server (offline assistant, fresh SQLite data directory), seeds it with a
recruiter, two candidates, a published template, a session in progress and an ended one, then lets
Schemathesis drive every documented operation with generated valid and invalid inputs, in two
runs: candidate operations with the candidate's token, recruiter and account operations with the
recruiter's. Path ids are the seeded ones half of the time and generated ones otherwise, so both
the handlers' logic and their refusals are reached. Any ERROR line or panic in the server's log
fails the run too.

Failing checks: any 5xx, a status or content type the document does not list, a body that breaks
its schema, invalid input accepted, an operation that ignores its authentication, and the rest of
Schemathesis's checks except `positive_data_acceptance`: some rules span fields (weights summing
to 1, `correct` indexes within `options`, unique question ids, non-blank text) and cannot be
written in JSON Schema, so a schema-valid request may rightly be refused with a 422.

Usage: fuzz.py [SERVER_BINARY]   (default: target/release/server)
Environment: FUZZ_SEED (reproduce a run), FUZZ_MAX_EXAMPLES (per operation, default 40).
"""

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "fuzzing-password-1"

TEMPLATE = {
    "title": "Fuzzing template",
    "description": "Seeded for the API fuzz run.",
    "time_limit_minutes": 60,
    "default_prompt_budget": 5,
    "weights": {"accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2},
    "questions": [
        {
            "id": "q1",
            "type": "coding",
            "prompt": "Return the sum of a and b.",
            "function_name": "add",
            "test_cases": [{"input": [1, 2], "expected": 3}],
            "examples": [{"input": [2, 2], "expected": 4}],
        },
        {
            "id": "q2",
            "type": "multiple_choice",
            "prompt": "Which is a prime?",
            "options": ["4", "7", "9"],
            "correct": [1],
        },
        {
            "id": "q3",
            "type": "theory",
            "prompt": "What is a closure?",
            "reference_answer": "A function together with the variables it captures.",
            "rubric_keywords": ["function", "captures"],
        },
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, form=None):
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        raise SystemExit(f"seeding failed: {method} {path} -> {err.code} {err.read()[:300]!r}")


def account(base, role, email):
    call(base, "POST", f"/api/v1/auth/{role}/register", body={"email": email, "password": PASSWORD})
    login = call(base, "POST", f"/api/v1/auth/{role}/login", form={"username": email, "password": PASSWORD})
    return login["access_token"]


def seed(base):
    recruiter = account(base, "recruiter", "recruiter@fuzz.example.com")
    candidate = account(base, "candidate", "candidate@fuzz.example.com")
    other = account(base, "candidate", "finished@fuzz.example.com")
    template = call(base, "POST", "/api/v1/recruiter/test-template", recruiter, body=TEMPLATE)["id"]
    active = call(base, "POST", f"/api/v1/candidate/session/start/{template}", candidate)["session_id"]
    call(base, "POST", f"/api/v1/candidate/session/submit-answer/{active}", candidate,
         body={"question_id": "q1", "answer": "function add(a, b) { return a + b; }"})
    ended = call(base, "POST", f"/api/v1/candidate/session/start/{template}", other)["session_id"]
    call(base, "POST", f"/api/v1/candidate/session/submit-answer/{ended}", other,
         body={"question_id": "q2", "answer": [1]})
    call(base, "POST", f"/api/v1/candidate/session/end/{ended}", other)
    return {"recruiter": recruiter, "candidate": candidate, "template": template,
            "active": active, "ended": ended}


def configs(seeded):
    """One Schemathesis configuration per role: its token and the seeded ids it owns."""
    ids = lambda name: {"dictionary": name, "probability": 0.5}  # noqa: E731
    dictionaries = {
        "templates": {"values": [seeded["template"]]},
        "candidate_sessions": {"values": [seeded["active"]]},
        "recruiter_sessions": {"values": [seeded["ended"], seeded["active"]]},
        "questions": {"values": ["q1", "q2", "q3"]},
    }
    candidate = {
        "auth": {"openapi": {"bearer": {"bearer": seeded["candidate"]}}},
        "dictionaries": dictionaries,
        "parameters": {"path.session_id": ids("candidate_sessions"), "path.template_id": ids("templates")},
    }
    recruiter = {
        "auth": {"openapi": {"bearer": {"bearer": seeded["recruiter"]}}},
        "dictionaries": dictionaries,
        "parameters": {
            "path.id": ids("templates"),
            "path.session_id": ids("recruiter_sessions"),
            "path.question_id": ids("questions"),
        },
    }
    return [("candidate", ["candidate"], candidate), ("recruiter", ["recruiter", "auth"], recruiter)]


def toml(value, prefix=""):
    """Just enough TOML for `config()` (tables, arrays of tables, inline tables, strings)."""

    def inline(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {inline(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(inline(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v)

    lines = []
    for key, v in value.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                lines.append(f"[[{key}]]")
                lines.extend(f"{json.dumps(k)} = {inline(x)}" for k, x in item.items())
        elif isinstance(v, dict):
            for name, table in v.items():
                lines.append(f"[{key}.{json.dumps(name)}]")
                lines.extend(f"{json.dumps(k)} = {inline(x)}" for k, x in table.items())
        else:
            lines.append(f"{json.dumps(key)} = {inline(v)}")
    return "\n".join(lines) + "\n"


def main():
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target/release/server")
    schemathesis = Path(sys.executable).parent / "schemathesis"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    seed_value = int(os.environ.get("FUZZ_SEED") or random.randrange(1, 2**31))
    with tempfile.TemporaryDirectory(prefix="assess-fuzz-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "LLM_BASE_URL", "LLM_API_KEY")}
        env.update(DATA_DIR=data_dir, LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", LEPTOS_OUTPUT_NAME="assess",
                   LEPTOS_SITE_ROOT=str(ROOT / "target/site"), APP_ENV="development", RUST_LOG="warn")
        log_path = Path(data_dir) / "server.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen([str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/readyz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not become ready:\n" + log_path.read_text())
            seeded = seed(base)
            print(f"fuzzing {base}/api/openapi.json (seed {seed_value}; set FUZZ_SEED to repeat)", flush=True)
            failed = []
            for role, tags, settings in configs(seeded):
                config_path = Path(data_dir) / f"{role}.toml"
                config_path.write_text(toml(settings))
                print(f"\n==> as the {role}: {', '.join(tags)} operations", flush=True)
                tag_args = [arg for tag in tags for arg in ("--include-tag", tag)]
                result = subprocess.run([
                    str(schemathesis), "--config-file", str(config_path), "run", f"{base}/api/openapi.json",
                    *tag_args, "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                    "--max-examples", os.environ.get("FUZZ_MAX_EXAMPLES", "40"),
                    "--seed", str(seed_value), "--workers", "1", "--request-timeout", "40",
                    "--suppress-health-check", "too_slow,filter_too_much",
                ], cwd=data_dir)  # its caches stay out of the repository
                if result.returncode != 0:
                    failed.append(role)
        finally:
            server.terminate()
            server.wait(timeout=30)
        errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "panicked" in line]
        if errors:
            print("server errors during the run:\n" + "\n".join(errors[:50]))
            return 1
        if failed:
            print(f"fuzzing found failures (as the {' and the '.join(failed)}); seed {seed_value}")
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
