#!/usr/bin/env python3
"""Instructions per request of the API's rows, counted by callgrind: the same figure run after
run, whatever else the machine is doing, for before/after comparisons that the throughput rows of
`suite.rs` are too noisy for on a shared machine. The kernel's share (the hop to the blocking pool,
the sockets) is not counted: callgrind sees user space only.

    python3 server/benches/instructions.py [server binary] [requests per row]

`INSTRUCTIONS_ROWS=results` counts only the rows whose name holds that text; each row's callgrind
dump is named after it (for `callgrind_annotate`). Defaults: `target/release/server`, 800 requests (at most 900). It starts the server under
`valgrind --tool=callgrind` on a fresh SQLite store in development mode (demo accounts, offline
assistant), sets up a test, sessions and ended attempts, then sends each row's request one after
another: a warm-up with counting off, then the measured requests with it on.
"""

import glob
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/server")
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 800
WARM_UP = 100
# A session's prompt budget is at most 1,000: each prompt row has a session of its own.
BUDGET = 1000
PASSWORD = "bench-password-0123"
ENDED = 20

TEMPLATE = {
    "title": "Instructions",
    "time_limit_minutes": 600,
    "default_prompt_budget": BUDGET,
    "weights": {"accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2},
    "questions": [
        {"id": "q1", "type": "coding", "prompt": "Add a and b.", "function_name": "add",
         "test_cases": [{"input": [1, 2], "expected": 3}, {"input": [5, 5], "expected": 10}]},
        {"id": "q2", "type": "multiple_choice", "prompt": "Which is prime?",
         "options": ["4", "7", "9"], "correct": [1]},
        {"id": "q3", "type": "theory", "prompt": "What is a closure?",
         "reference_answer": "A function with the variables it captures.",
         "rubric_keywords": ["function", "captures"]},
    ],
}


def free_port():
    """A free port below Linux's ephemeral range, where the clients' own ports come from: a
    port the kernel picked there could be handed to one of them before the server binds it."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


class Client:
    """Calls to the server on `port`, over one kept-alive connection."""

    def __init__(self, port):
        self.port = port
        self.connection = None
        self.reconnects = 0

    def call(self, method, path, body=None, token=None, form=False):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"content-type": "application/x-www-form-urlencoded" if form
                   else "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        if body is not None and not form:
            body = json.dumps(body)
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # Under valgrind the server now and then closes a kept-alive connection just after
            # a response, before reading the next request; that request is sent again once.
            self.reconnects += 1
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
        return response.status, response.read()

    def json(self, method, path, body=None, token=None):
        status, raw = self.call(method, path, body, token)
        if status >= 400:
            sys.exit(f"{method} {path}: {status} {raw[:200]!r}")
        return json.loads(raw) if raw else None

    def account(self, role, email):
        self.json("POST", f"/api/v1/auth/{role}/register", {"email": email, "password": PASSWORD})
        status, raw = self.call("POST", f"/api/v1/auth/{role}/login",
                                f"username={email.replace('@', '%40')}&password={PASSWORD}",
                                form=True)
        return json.loads(raw)["access_token"]


class Server(Client):
    """The server under callgrind, on a fresh store, with a client of its own."""

    def __init__(self, binary):
        super().__init__(free_port())
        self.out = os.path.join(tempfile.mkdtemp(), "callgrind.out")
        env = dict(os.environ, DATA_DIR=tempfile.mkdtemp(), APP_ENV="development",
                   SECRET_KEY="benchmark-secret-key-0123456789abcdef-0123456789",
                   LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}", LEPTOS_OUTPUT_NAME="assess",
                   LEPTOS_SITE_ROOT=os.path.join(ROOT, "target/site"), RUST_LOG="warn")
        for name in ("MONGO_URI", "LLM_BASE_URL"):
            env.pop(name, None)
        self.log = open(self.out + ".log", "w")
        self.process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={self.out}", binary],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(2400):
            try:
                status, _ = self.call("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                self.connection = None
            time.sleep(0.25)
        sys.exit("the server did not become ready")

    def control(self, command):
        """Gives callgrind a monitor command through vgdb. vgdb's default, for a process idle in
        its system calls, is to interrupt them with ptrace; `--max-invoke-ms=0` waits instead
        until valgrind reads the command at its next scheduling point, which a second connection
        keeps coming. The few busy calls that land in a counted window are `/healthz`, next to
        nothing beside the rows."""
        busy, done = Client(self.port), threading.Event()

        def keep_busy():
            while not done.is_set():
                busy.call("GET", "/healthz")

        thread = threading.Thread(target=keep_busy)
        thread.start()
        try:
            subprocess.run(["vgdb", f"--pid={self.process.pid}", "--max-invoke-ms=0",
                            *command.split()], check=True, capture_output=True, timeout=120)
        finally:
            done.set()
            thread.join()

    def count(self, request):
        """Instructions per call of `request` (a function that makes one call). Ends the server:
        the count is read from the dump callgrind writes when it exits."""
        for _ in range(WARM_UP):
            request()
        self.control("instrumentation on")
        for _ in range(REQUESTS):
            request()
        self.control("instrumentation off")
        self.stop()
        instructions = total(self.out)
        if instructions is None:
            sys.exit(f"no totals in callgrind's dump {self.out}")
        return instructions / REQUESTS

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self.log.close()


def total(path):
    with open(path) as dump:
        for line in dump:
            if line.startswith("totals:"):
                return int(line.split()[1])
    return None


def main():
    if WARM_UP + REQUESTS > BUDGET:
        sys.exit(f"at most {BUDGET - WARM_UP} requests per row (a session's prompt budget)")
    print(f"Instructions per request (callgrind, user space), {REQUESTS} requests per row "
          f"after {WARM_UP} uncounted, one client, a fresh server per row, "
          f"`{os.path.relpath(BINARY, ROOT)}`:\n")
    print("| request | instructions per request |\n|---|---|", flush=True)
    wanted = os.environ.get("INSTRUCTIONS_ROWS", "")
    number, dumps = 0, []
    while True:
        server = Server(BINARY)
        try:
            table = rows(server)
            # The next row asked for; a server of its own counts it.
            number = next((n for n in range(number, len(table)) if wanted in table[n][0]), None)
            if number is None:
                break
            name, request = table[number]
            instructions = server.count(request)
            note = f" ({server.reconnects} reconnected)" if server.reconnects else ""
            print(f"| {name}{note} | {instructions:,.0f} |", flush=True)
            dumps.append(server.out)
        finally:
            server.stop()
        number += 1
        if not any(wanted in name for name, _ in table[number:]):
            break
    print("\ncallgrind's dumps, in the rows' order:", *dumps, sep="\n  ")


def rows(server):
    """The rows, as (name, request), with what they need set up on `server`."""
    recruiter = server.account("recruiter", "recruiter@instructions.example.com")
    template, other = (
        server.json("POST", "/api/v1/recruiter/test-template", dict(TEMPLATE, title=title),
                    recruiter)["id"]
        for title in ("Sessions", "Prompts about code"))
    results = server.json("POST", "/api/v1/recruiter/test-template",
                          dict(TEMPLATE, title="Results"), recruiter)["id"]
    candidates = [server.account("candidate", f"candidate{i}@instructions.example.com")
                  for i in range(ENDED)]
    for token in candidates:
        ended = server.json("POST", f"/api/v1/candidate/session/start/{results}", {},
                            token)["session_id"]
        server.json("POST", f"/api/v1/candidate/session/submit-answer/{ended}",
                    {"question_id": "q2", "answer": [1]}, token)
        server.json("POST", f"/api/v1/candidate/session/end/{ended}", {}, token)
    candidate = candidates[0]
    session, coding = (
        server.json("POST", f"/api/v1/candidate/session/start/{t}", {}, candidate)["session_id"]
        for t in (template, other))
    answers = iter(range(10**9))

    def ok(method, path, body=None, token=candidate):
        def request():
            payload = body() if callable(body) else body
            status, raw = server.call(method, path, payload, token)
            if status >= 400:
                sys.exit(f"{method} {path}: {status} {raw[:200]!r}")
        return request

    table = [
        ("`GET /auth/me`", ok("GET", "/api/v1/auth/me")),
        ("`POST /candidate/session/start/{id}` (resumed)",
         ok("POST", f"/api/v1/candidate/session/start/{template}", {})),
        ("`POST /candidate/session/submit-answer/{id}`",
         ok("POST", f"/api/v1/candidate/session/submit-answer/{session}",
            lambda: {"question_id": "q1",
                     "answer": f"function add(a, b) {{ return a + b; }} // {next(answers)}"})),
        ("`POST /candidate/llm-prompt/{id}` (offline assistant)",
         ok("POST", f"/api/v1/candidate/llm-prompt/{session}",
            {"prompt": "How does Array.prototype.map work?"})),
        ("`POST /candidate/llm-prompt/{id}` about a coding question (offline assistant)",
         ok("POST", f"/api/v1/candidate/llm-prompt/{coding}",
            {"prompt": "How does Array.prototype.map work?", "question_id": "q1"})),
        (f"`GET /recruiter/results` ({ENDED} of {ENDED})",
         ok("GET", "/api/v1/recruiter/results", token=recruiter)),
    ]
    return table


if __name__ == "__main__":
    main()
