"""RSS does not grow with reloads: 1,000 SIGHUP reloads (file events off),
each after an edit so that every reload swaps in a new snapshot. The mix
of edits covers every reload path: changed content, a broken parent (stale
last-good copies and profile.invalid events with diagnostics), a fix, an
added and a removed profile. An SSE client stays connected and reads, so
the event ring is exercised (and fills: 1,024 events) too."""
import os
import time

import pytest

from . import reload_support as rs
from .reload_support import original, set_field

RELOADS = 1000
LIMIT_KB = 8 * 1024
TIME_LIMIT_S = 120

EXTRA = original("worker-sre.md").replace("id: worker-sre", "id: worker-extra", 1)


def edit(profiles_dir, i):
    """Edit number i: something changes every time."""
    step = i % 10
    if step == 3:
        rs.write_in_place(profiles_dir / "worker-devops.md", rs.BROKEN_YAML.format(id="worker-devops"))
    elif step == 4:
        rs.write_in_place(profiles_dir / "worker-devops.md",
                          set_field(original("worker-devops.md"), "description", f"devops {i}"))
    elif step == 6:
        rs.write_in_place(profiles_dir / "worker-extra.md", EXTRA)
    elif step == 8:
        os.remove(profiles_dir / "worker-extra.md")
    else:
        rs.write_in_place(profiles_dir / "base.md", set_field(original("base.md"), "description", f"base {i}"))


def _sanitized(binary):
    """True for an AddressSanitizer build: its quarantine keeps freed memory
    resident on purpose, so RSS says nothing there (LSan checks leaks)."""
    import subprocess
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    return "libasan" in out


@pytest.mark.skipif(_sanitized(rs.ROSTERD),
                    reason="RSS under ASan reflects its quarantine; the plain build runs this")
def test_rss_flat_over_1000_reloads(spawn, profiles_dir, capsys):
    srv = spawn(profiles_dir, "--watch", "0", "--debounce-ms", "10")
    sse = rs.SSEClient(srv.port)
    drained = 0
    last_id = 0
    boot = None
    try:
        session = srv.session

        def wait_generation(want, mark):
            rec = srv.wait_reload(want, since=mark, timeout=rs.SLOW_S)
            return rec["generation"] if rec else None

        g = srv.generation()
        mark = srv.mark()
        edit(profiles_dir, 0)
        srv.sighup()
        g = wait_generation(g + 1, mark)
        assert g is not None, "the first reload did not happen"
        # let the first requests' allocations settle
        for _ in range(20):
            session.get(srv.base + "/v1/profiles/worker-sre", timeout=10)
        rss_first = srv.rss_kb()
        rss_peak = rss_first
        t0 = time.monotonic()
        for i in range(1, RELOADS + 1):
            assert time.monotonic() - t0 < TIME_LIMIT_S, f"only {i - 1} reloads in {TIME_LIMIT_S} s"
            mark = srv.mark()
            edit(profiles_dir, i)
            srv.sighup()
            got = wait_generation(g + 1, mark)
            assert got is not None, f"reload {i} did not happen (generation stuck at {g})"
            g = got
            if i % 50 == 0:
                rss_peak = max(rss_peak, srv.rss_kb())
                while (item := sse.next_item(0)) is not None:
                    drained += 1
                    last_id = item.get("id") or last_id
                    boot = item.get("boot") or boot
        elapsed = time.monotonic() - t0
        # a few requests on the final snapshot, like after the first reload
        for _ in range(20):
            session.get(srv.base + "/v1/profiles/worker-sre", timeout=10)
        rss_last = srv.rss_kb()
        while (item := sse.next_item(0.5)) is not None:
            drained += 1
            last_id = item.get("id") or last_id
            boot = item.get("boot") or boot
    finally:
        sse.close()
    with capsys.disabled():
        print(f"\nmemory: VmRSS after the first reload {rss_first} kB, after {RELOADS} more reloads "
              f"{rss_last} kB (growth {rss_last - rss_first:+d} kB, peak {rss_peak} kB), "
              f"{elapsed:.1f} s, generation {g}, {drained} SSE items read")
    assert srv.alive()
    assert drained >= 2 * RELOADS, f"the event client read only {drained} items"
    assert rss_last - rss_first <= LIMIT_KB, \
        f"VmRSS grew from {rss_first} kB to {rss_last} kB over {RELOADS} reloads"
    assert srv.records(event="reload_failed") == []
    check_replay_after_ring_overflow(srv, last_id, boot)


def check_replay_after_ring_overflow(srv, last_id, boot):
    """With more than 1,024 events published, a Last-Event-ID older than
    the ring gets a `gap` event first (an event, which EventSource clients
    see, not a comment), then the oldest kept event; a recent one gets
    exactly the events after it."""
    assert last_id > 1100, last_id
    c = rs.SSEClient(srv.port, last_event_id=f"{boot}-1")
    try:
        assert c.next_item(rs.SLOW_S) == {"retry": 2000}
        gap = c.next_item(rs.SLOW_S)
        assert gap is not None and gap.get("event") == "gap", gap
        assert gap["id"] is None  # no id line: the client keeps its last id
        assert gap["data"] == {"requested": f"{boot}-1", "oldest": f"{boot}-{last_id - 1023}",
                               "reason": "evicted"}, gap
        first = c.next_event(rs.SLOW_S)
        assert first["id"] == last_id - 1023, (first["id"], last_id)
    finally:
        c.close()
    c = rs.SSEClient(srv.port, last_event_id=f"{boot}-{last_id - 10}")
    try:
        assert c.next_item(rs.SLOW_S) == {"retry": 2000}
        evs = c.events(10, timeout=rs.SLOW_S)
        assert [e["id"] for e in evs] == list(range(last_id - 9, last_id + 1))
    finally:
        c.close()
