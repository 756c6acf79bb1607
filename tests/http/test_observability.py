"""Probes, version, structured logs and Prometheus metrics."""
import json
import re
import subprocess
import time
import uuid

from prometheus_client.parser import text_string_to_metric_families

from conftest import GENERATED_ID_RE, ROSTERD, raw_request


def metric_samples(api):
    r = api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    out = []
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out.append((s.name, tuple(sorted(s.labels.items())), s.value, fam.type))
    return out


def value(samples, name, **labels):
    want = tuple(sorted(labels.items()))
    vals = [v for n, lab, v, _ in samples if n == name and lab == want]
    assert len(vals) <= 1, f"duplicate series {name}{labels}"
    return vals[0] if vals else 0.0


def test_health(api):
    r = api.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["Content-Type"] == "application/json"


def test_ready(api, server):
    r = api.get("/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["generation"] == 1
    start = server.wait_for(lambda d: d.get("event") == "start")
    assert body["profiles"]["served"] + body["profiles"]["stale"] == start["served"]
    assert body["profiles"]["invalid"] == start["invalid"] == 2  # fx-broken, fx-orphan
    assert body["profiles"]["stale"] == 0


def test_version(api):
    r = api.get("/version")
    assert r.status_code == 200
    v = r.json()
    assert v["name"] == "rosterd" and re.match(r"^\d+\.\d+\.\d+", v["version"])
    out = subprocess.run([str(ROSTERD), "--version"], capture_output=True, text=True, timeout=10).stdout
    assert out.strip() == f"rosterd {v['version']} ({v['revision']})"


def test_start_line(server):
    start = server.wait_for(lambda d: d.get("event") == "start")
    assert start["port"] == server.port
    assert start["host"] == "127.0.0.1" and start["listen"] == "127.0.0.1:0"
    assert start["profiles_dir"] == str(server.profiles)
    assert start["profiles"] == start["served"] + start["invalid"]
    assert start["admin"] is False and start["watch"] is True


def test_request_log_lines(server, api):
    tag = uuid.uuid4().hex[:12]
    cases = [
        ("GET", "/v1/profiles?limit=2&fields=id", 200),
        ("GET", "/v1/profiles/fx-leaf", 200),
        ("HEAD", "/v1/profiles/fx-leaf", 200),
        ("GET", "/v1/profiles/fx-leaf/prompt", 200),
        ("GET", "/v1/profiles/nope", 404),
        ("OPTIONS", "/health", 204),
        ("POST", "/v1/admin/reload", 403),
        ("GET", "/v1/profiles?limit=0", 400),
        ("GET", "/nope", 404),
    ]
    sent = []
    for i, (method, path, status) in enumerate(cases):
        rid = f"log-{tag}-{i}"
        r = api.request(method, path, headers={"X-Request-Id": rid, "Accept-Encoding": "identity"})
        assert r.status_code == status
        sent.append((rid, method, path, status, len(r.wire)))
    for rid, method, path, status, nbytes in sent:
        line = server.request_line(rid)
        assert line is not None, f"no log line for {rid}"
        assert line["level"] == "info" and line["event"] == "request"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line["time"])
        assert line["method"] == method
        assert line["path"] == path.split("?")[0]
        assert line["status"] == status
        assert line["bytes"] == (0 if method == "HEAD" else nbytes)
        assert isinstance(line["duration_us"], int) and 0 <= line["duration_us"] < 5_000_000
        assert line["remote"] == "127.0.0.1"
        assert line["completed"] is True
        assert isinstance(line["route"], str)
    time.sleep(0.2)
    records = server.records()
    for rid, *_ in sent:
        assert sum(1 for d in records if d.get("request_id") == rid) == 1, rid


def test_log_line_for_generated_id(server, api):
    r = api.get("/v1/profiles/fx-leaf/lineage")
    rid = r.headers["X-Request-Id"]
    assert GENERATED_ID_RE.match(rid)
    line = server.request_line(rid)
    assert line["path"] == "/v1/profiles/fx-leaf/lineage" and line["bytes"] == len(r.wire)


def test_every_stderr_line_is_json(server, api):
    api.get("/health")
    raw_request(server.port, "GET", "/v1/profiles/caf\u00e9".encode("utf-8"), path_for_spec="/v1/profiles/x")
    assert server.request_line(api.get("/ready").headers["X-Request-Id"])
    with server.cond:
        lines = list(server.lines)
    assert lines
    for raw in lines:
        d = json.loads(raw.decode("utf-8"))
        assert {"time", "level", "event"} <= set(d), d


def test_log_lines_stay_json_for_non_utf8_targets(spawn):
    """A request target with a byte that is not UTF-8 must not break the JSON log."""
    srv = spawn(fixtures=False)
    r = raw_request(srv.port, "GET", b"/v1/profiles/\xff", path_for_spec="/v1/profiles/x")
    assert r.status_code == 400 and r.json()["code"] == "invalid_id"
    assert srv.request_line(r.headers["X-Request-Id"], timeout=2) is not None, "no parseable log line"
    time.sleep(0.2)
    with srv.cond:
        lines = list(srv.lines)
    bad = []
    for raw in lines:
        try:
            json.loads(raw.decode("utf-8"))
        except ValueError as e:
            bad.append((raw, str(e)))
    assert not bad, bad


def test_metrics_parse_and_request_counter_moves(api, server):
    before = metric_samples(api)
    names = {n for n, *_ in before}
    for n in ("roster_http_requests_total", "roster_http_request_duration_seconds_bucket",
              "roster_http_request_duration_seconds_sum", "roster_http_request_duration_seconds_count",
              "roster_profiles", "roster_snapshot_generation", "roster_snapshot_build_seconds",
              "roster_diagnostics", "roster_reloads_total", "roster_last_reload_timestamp_seconds",
              "roster_ready", "roster_build_info"):
        assert n in names, n
    h0 = value(before, "roster_http_requests_total", route="health", method="GET", status="200")
    nf0 = value(before, "roster_http_requests_total", route="profile", method="GET", status="404")
    c0 = value(before, "roster_http_request_duration_seconds_count", route="health")
    for _ in range(3):
        api.get("/health")
    api.get("/v1/profiles/does-not-exist")
    time.sleep(0.1)
    after = metric_samples(api)
    assert value(after, "roster_http_requests_total", route="health", method="GET", status="200") == h0 + 3
    assert value(after, "roster_http_requests_total", route="profile", method="GET", status="404") == nf0 + 1
    assert value(after, "roster_http_request_duration_seconds_count", route="health") == c0 + 3
    assert value(after, "roster_http_requests_total", route="metrics", method="GET", status="200") >= 1


def test_metrics_gauges(api):
    s = metric_samples(api)
    ready = api.get("/ready").json()
    diags = api.get("/v1/diagnostics").json()
    version = api.get("/version").json()
    assert value(s, "roster_profiles", state="served") == ready["profiles"]["served"]
    assert value(s, "roster_profiles", state="stale") == ready["profiles"]["stale"]
    assert value(s, "roster_snapshot_generation") == ready["generation"]
    for sev in ("error", "warning", "info"):
        assert value(s, "roster_diagnostics", severity=sev) == diags["counts"][sev]
    assert value(s, "roster_ready") == 1
    assert value(s, "roster_build_info", version=version["version"], revision=version["revision"]) == 1
    assert value(s, "roster_snapshot_build_seconds") > 0


def test_metrics_histogram_is_cumulative(api):
    api.get("/health")
    s = metric_samples(api)
    buckets = sorted(((float(dict(lab)["le"]), v) for n, lab, v, _ in s
                      if n == "roster_http_request_duration_seconds_bucket" and dict(lab)["route"] == "health"))
    assert buckets[-1][0] == float("inf")
    vals = [v for _, v in buckets]
    assert vals == sorted(vals)
    assert vals[-1] == value(s, "roster_http_request_duration_seconds_count", route="health")


def test_metrics_have_no_duplicate_series(api, server):
    """Every series appears once: Prometheus rejects a scrape with duplicate samples."""
    api.get("/v1/profiles/fx-leaf")
    api.get("/v1/profiles/nope")
    raw_request(server.port, "GET", "/v1/profiles/%00")  # an invalid id: route "profile" too
    r = api.get("/metrics")
    seen, dups = set(), []
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        series = line.rsplit(" ", 1)[0]
        if series in seen:
            dups.append(series)
        seen.add(series)
    assert not dups, dups
