"""GET /v1/events: server-sent events of snapshot changes, replay with Last-Event-ID."""
import http.client
import json
import queue
import re
import threading
import time

import pytest
import requests

from conftest import HOST, SPEC, check_response

EVENT_SCHEMAS = SPEC.doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"][
    "schema"]["x-event-data"]


class EventStream:
    """One SSE connection; a thread parses frames into a queue."""

    def __init__(self, port, last_event_id=None, accept="text/event-stream"):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=10)
        headers = {"Accept": accept}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/v1/events", headers=headers)
        self.resp = self.conn.getresponse()
        self.headers = requests.structures.CaseInsensitiveDict(self.resp.getheaders())
        self.frames = queue.Queue()
        self.comments = []
        self.retry = None
        if self.resp.status == 200:
            check_response("GET", "/v1/events", 200, self.headers, b"")
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()

    def _read(self):
        frame = {}
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\n")
                if line == "":
                    if frame:
                        self.frames.put(frame)
                    frame = {}
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "retry":
                        self.retry = int(v)
                    else:
                        frame[k] = v
        except Exception:  # closed by close() or by the server
            pass
        self.frames.put(None)

    def next(self, timeout=5.0):
        try:
            f = self.frames.get(timeout=timeout)
        except queue.Empty:
            return None
        if f is not None:
            if f.get("event") == "gap":  # no id line: the client's last id stays
                assert set(f) == {"event", "data"}, f
            else:
                assert set(f) == {"id", "event", "data"}, f
                # ids are "<boot>-<n>": unique across restarts
                assert re.fullmatch(r"[0-9a-f]{12}-[0-9]{1,20}", f["id"]), f
                f["boot"], n = f["id"].split("-")
                f["n"] = int(n)
            f["data"] = json.loads(f["data"])
            SPEC.validate(f["data"], EVENT_SCHEMAS[f["event"]])
        return f

    def until(self, event, timeout=5.0):
        got = []
        deadline = time.monotonic() + timeout
        while True:
            f = self.next(max(0.0, deadline - time.monotonic()))
            assert f is not None, f"no {event} event; got {got}"
            got.append(f)
            if f["event"] == event:
                return got

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


@pytest.fixture
def events_server(spawn):
    return spawn(args=["--debounce-ms", "50"])


def wait_generation(api, gen, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get("/ready").json()["generation"] >= gen:
            return
        time.sleep(0.05)
    raise AssertionError(f"generation {gen} not reached")


def test_change_is_announced_and_replayed(events_server):
    srv = events_server
    api = srv.api()
    es = EventStream(srv.port)
    assert es.resp.status == 200
    assert es.headers["Content-Type"] == "text/event-stream"
    assert es.headers["Cache-Control"] == "no-store"
    # the hello ("retry: 2000" and a blank line) comes first
    deadline = time.monotonic() + 3
    while es.retry is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert es.retry == 2000
    path = srv.profiles / "fx-leaf.md"
    path.write_text(path.read_text().replace("description: Third-level", "description: Changed third-level"))
    frames = es.until("snapshot.reloaded")
    changed = [f for f in frames if f["event"] == "profile.changed"]
    assert [f["data"]["id"] for f in changed] == ["fx-leaf"]
    assert changed[0]["data"]["generation"] == 2 and changed[0]["data"]["stale"] is False
    reloaded = frames[-1]
    assert reloaded["data"] == {"generation": 2, "added": 0, "changed": 1, "removed": 0, "invalid": 0}
    ids = [f["n"] for f in frames]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    boot = frames[0]["boot"]
    assert {f["boot"] for f in frames} == {boot}
    r = api.get("/v1/profiles/fx-leaf", headers={"Accept-Encoding": "identity"})
    assert r.headers["ETag"] == changed[0]["data"]["etag"]
    assert r.json()["description"].startswith("Changed")
    es.close()

    # reconnect: everything after Last-Event-ID is replayed at once
    again = EventStream(srv.port, last_event_id=f"{boot}-{ids[0] - 1}")
    replay = [again.next() for _ in frames]
    assert [(f["id"], f["event"], f["data"]) for f in replay] == [(f["id"], f["event"], f["data"]) for f in frames]
    assert again.next(timeout=0.5) is None
    again.close()
    # from the middle
    mid = EventStream(srv.port, last_event_id=frames[0]["id"])
    assert [f["n"] for f in (mid.next() for _ in frames[1:])] == ids[1:]
    mid.close()
    # up to date: nothing to replay
    cur = EventStream(srv.port, last_event_id=frames[-1]["id"])
    assert cur.next(timeout=0.5) is None
    cur.close()
    # an id this process never sent: a gap event the client sees, then live events
    future = EventStream(srv.port, last_event_id=f"{boot}-{ids[-1] + 1000}")
    gap = future.next()
    assert gap["event"] == "gap" and gap["data"]["reason"] == "unknown_id", gap
    assert gap["data"]["requested"] == f"{boot}-{ids[-1] + 1000}"
    assert gap["data"]["oldest"] == f"{boot}-1"
    assert future.next(timeout=0.5) is None
    future.close()
    # an id from another process (a restart): a gap event, no unrelated replay
    other = "0" * 12 if boot != "0" * 12 else "f" * 12
    prev = EventStream(srv.port, last_event_id=f"{other}-{ids[0]}")
    gap = prev.next()
    assert gap["event"] == "gap" and gap["data"]["reason"] == "other_boot", gap
    assert prev.next(timeout=0.5) is None
    prev.close()
    # not an id this service could have sent: 400
    for junk in ("abc", "5", f"{boot}-", f"{boot}-x", f"{boot.upper()}-1", f"{boot}-1-2"):
        r = EventStream(srv.port, last_event_id=junk)
        assert r.resp.status == 400, junk
        body = json.loads(r.resp.read())
        check_response("GET", "/v1/events", 400, r.headers, json.dumps(body).encode())
        assert body["code"] == "invalid_last_event_id"
        r.close()
    api.close()


def test_added_invalid_removed(events_server):
    srv = events_server
    api = srv.api()
    es = EventStream(srv.port)
    new = srv.profiles / "fx-new.md"
    new.write_text("---\nid: fx-new\nname: New\ncategory: fixture\n---\n\n# New\n\nA new profile.\n")
    frames = es.until("snapshot.reloaded")
    assert [(f["event"], f["data"]["id"]) for f in frames[:-1]] == [("profile.added", "fx-new")]
    assert frames[-1]["data"]["added"] == 1
    wait_generation(api, 2)
    assert api.get("/v1/profiles/fx-new").status_code == 200

    # break a served profile: it goes stale and is announced as invalid
    leaf = srv.profiles / "fx-leaf.md"
    leaf.write_text(leaf.read_text().replace("extends: worker-devops", "extends: [worker-devops"))
    frames = es.until("snapshot.reloaded")
    inv = [f for f in frames if f["event"] == "profile.invalid"]
    assert [f["data"]["id"] for f in inv] == ["fx-leaf"]
    assert inv[0]["data"]["stale"] is True and inv[0]["data"]["diagnostics"]
    assert frames[-1]["data"]["invalid"] == 1

    new.unlink()
    frames = es.until("snapshot.reloaded")
    assert [(f["event"], f["data"]["id"]) for f in frames[:-1]] == [("profile.removed", "fx-new")]
    assert frames[-1]["data"]["removed"] == 1
    wait_generation(api, 4)
    assert api.get("/v1/profiles/fx-new").json()["code"] == "profile_not_found"
    es.close()
    api.close()


def test_events_refuses_other_media_types(events_server):
    es = EventStream(events_server.port, accept="application/json")
    assert es.resp.status == 406
    body = es.resp.read()
    check_response("GET", "/v1/events", 406, es.headers, body)
    es.close()


def test_events_without_accept_header(events_server):
    conn = http.client.HTTPConnection(HOST, events_server.port, timeout=5)
    conn.putrequest("GET", "/v1/events", skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    conn.sock.shutdown(2)
    conn.close()


def test_stream_ends_on_shutdown(events_server):
    es = EventStream(events_server.port)
    time.sleep(0.2)
    t0 = time.monotonic()
    events_server.signal()
    es.thread.join(3)
    assert not es.thread.is_alive(), "the stream was not ended by the server"
    es.close()  # the client lets go of the connection
    assert events_server.proc.wait(5) == 0
    assert time.monotonic() - t0 < 3


def test_event_ids_differ_across_restarts(rosterd, tmp_path):
    """Two processes over the same directory (a restart) never share event ids."""
    from conftest import Server, make_profiles
    d = make_profiles(tmp_path / "profiles", fixtures=False)
    boots = []
    for _ in range(2):
        srv = Server(d).start()
        es = EventStream(srv.port)
        p = d / "base.md"
        p.write_text(p.read_text() + f"\n<!-- restart {len(boots)} -->\n")
        f = es.until("snapshot.reloaded")[-1]
        boots.append(f["boot"])
        assert f["n"] >= 1
        es.close()
        assert srv.stop() == 0
    assert boots[0] != boots[1]
