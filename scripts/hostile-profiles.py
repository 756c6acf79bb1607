#!/usr/bin/python3
"""Hostile profiles directory: rosterd must report every bad entry with its
diagnostic code, serve the good profiles, and neither crash nor stall.

    scripts/hostile-profiles.py [--rosterd PATH] [--keep] [--many N]

Builds a temporary directory with a 100 MB (sparse) file, a file of NUL
bytes, invalid UTF-8, front matter nested 100,000 deep (flow `[`, flow `{`,
block `- `; all over the 64 KiB front matter cap, so `frontmatter.too_large`)
plus the same shapes under the cap (`frontmatter.too_deep`), Markdown lists
and block quotes 100,000 deep, symbolic links out of the directory, link
loops, a FIFO, a device node (root only) and a Unix socket, unreadable files
and directories, a directory of 10,000 small valid profiles, the bundled
profiles, and a few more limits (headings, fence repairs, node count,
inheritance cycles and depth, directory depth).

Then, as an unprivileged user (setpriv to nobody when run as root, so file
permissions apply), runs `rosterd check --format json` and `rosterd serve`
(until /ready answers 200) under `timeout` and `/usr/bin/time -v`, checks
every expected diagnostic by file and code (from `check` and from
GET /v1/diagnostics), fetches good profiles, and prints a table with each
case, its diagnostic, and the start-up time and peak RSS of both runs.
Loopback only; every wait is bounded. Exits 1 on any failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 100_000
CHECK_TIMEOUT = 120
READY_TIMEOUT = 120


def fm(pid, extra=""):
    return "---\nid: %s\n%s---\n" % (pid, extra)


def body(title="Hostile"):
    return "# %s\n\nA profile.\n\n## Core Competencies\n\n- **A**: b\n" % title


def build(d, many, many_extends=False):
    """Creates the tree; returns [(case, relative path, accepted codes)]."""
    cases = []

    def write(rel, data, case, codes):
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        cases.append((case, rel, codes))

    # size and encoding
    p = os.path.join(d, "huge.md")
    with open(p, "wb") as f:
        f.write(fm("huge").encode())
        f.truncate(100 * 1024 * 1024)  # sparse
    cases.append(("100 MB file (sparse)", "huge.md", {"file.too_large"}))
    write("over-1mib.md", fm("over-1mib") + body() + "x" * (1024 * 1024), "1 MiB + 60 bytes", {"file.too_large"})
    write("nul.md", b"\0" * 65536, "64 KiB of NUL bytes", {"file.nul_byte"})
    write("nul-late.md", (fm("nul-late") + body()).encode() + b"text\0more\n", "one NUL after valid text", {"file.nul_byte"})
    write("bad-utf8.md", (fm("bad-utf8") + body()).encode() + b"caf\xc3\x28\n", "invalid UTF-8 (\\xc3\\x28)", {"file.invalid_utf8"})
    write("overlong-utf8.md", (fm("overlong-utf8") + body()).encode() + b"\xc0\xae\xc0\xae/\n", "overlong UTF-8 (\\xc0\\xae)", {"file.invalid_utf8"})
    write("surrogate-utf8.md", (fm("surrogate-utf8") + body()).encode() + b"\xed\xa0\x80\n", "UTF-8 surrogate (\\xed\\xa0\\x80)", {"file.invalid_utf8"})
    write("latin1.md", b"---\nid: latin1\nname: Jos\xe9\n---\n# T\n", "Latin-1 in front matter", {"file.invalid_utf8"})

    # nesting: 100,000 deep cannot fit in 64 KiB, so the size cap answers first
    deep_codes = {"frontmatter.too_large", "frontmatter.too_deep"}
    write("fm-flow-seq-100k.md", fm("fm-flow-seq-100k", "x: " + "[" * N + "]" * N + "\n") + body(),
          "front matter [ x 100k", deep_codes)
    write("fm-flow-map-100k.md", fm("fm-flow-map-100k", "x: " + "{a: " * N + "}" * N + "\n") + body(),
          "front matter {a: x 100k", deep_codes)
    write("fm-block-seq-100k.md", fm("fm-block-seq-100k", "x:\n" + "- " * N + "v\n") + body(),
          "front matter block '- ' x 100k", deep_codes)
    write("fm-flow-seq-unclosed.md", fm("fm-flow-seq-unclosed", "x: " + "[" * N + "\n") + body(),
          "front matter [ x 100k, never closed", deep_codes | {"frontmatter.syntax"})
    write("fm-flow-seq-30k.md", fm("fm-flow-seq-30k", "x: " + "[" * 30000 + "]" * 30000 + "\n") + body(),
          "front matter [ x 30k (under 64 KiB)", {"frontmatter.too_deep"})
    write("fm-flow-map-10k.md", fm("fm-flow-map-10k", "x: " + "{a: " * 10000 + "}" * 10000 + "\n") + body(),
          "front matter {a: x 10k (under 64 KiB)", {"frontmatter.too_deep"})
    write("fm-block-seq-30k.md", fm("fm-block-seq-30k", "x:\n" + "- " * 30000 + "v\n") + body(),
          "front matter block '- ' x 30k", {"frontmatter.too_deep"})
    write("fm-block-map-100.md", fm("fm-block-map-100", "".join(" " * i + "a:\n" for i in range(100)) + " " * 100 + "a: 1\n") + body(),
          "front matter block mapping 100 deep", {"frontmatter.too_deep"})
    write("fm-nodes.md", fm("fm-nodes", "x: [" + ",".join("1" for _ in range(12000)) + "]\n") + body(),
          "front matter 12,000 nodes", {"frontmatter.too_many_nodes"})
    write("fm-alias-bomb.md", fm("fm-alias-bomb", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n") + body(),
          "front matter alias bomb", {"frontmatter.anchor", "frontmatter.alias"})
    write("md-list-100k.md", fm("md-list-100k") + "# T\n\n" + "- " * N + "x\n", "Markdown list '- ' x 100k", {"markdown.too_deep"})
    write("md-olist-100k.md", fm("md-olist-100k") + "# T\n\n" + "1. " * N + "x\n", "Markdown list '1. ' x 100k", {"markdown.too_deep"})
    write("md-quote-100k.md", fm("md-quote-100k") + "# T\n\n" + ">" * N + " x\n", "Markdown block quote '>' x 100k", {"markdown.too_deep"})
    write("md-mixed-100k.md", fm("md-mixed-100k") + "# T\n\n" + "> - " * (N // 2) + "x\n", "Markdown '> - ' x 50k", {"markdown.too_deep"})
    write("md-indented-lists.md", fm("md-indented-lists") + "# T\n\n" + "".join("  " * i + "- x\n" for i in range(200)),
          "Markdown lists indented 200 deep", {"markdown.too_deep"})
    write("md-headings.md", fm("md-headings") + "".join("## h%d\n\n" % i for i in range(5000)),
          "5,000 headings", {"markdown.too_many_sections"})
    write("md-fences.md", fm("md-fences") + "# T\n\n" + "```\ncode\n```x\n\n" * 70,
          "70 info-string closing fences", {"markdown.fence_repair_limit"})

    # inheritance
    write("cycle/a.md", fm("cycle-a", "extends: cycle-b\n") + body(), "extends cycle a -> b -> a", {"extends.cycle"})
    write("cycle/b.md", fm("cycle-b", "extends: cycle-a\n") + body(), "extends cycle b -> a -> b", {"extends.cycle"})
    for i in range(13):
        ext = "extends: chain-%02d\n" % (i - 1) if i else ""
        write("chain/c%02d.md" % i, fm("chain-%02d" % i, ext) + body(), None, None)
    cases = [c for c in cases if c[0] is not None]
    cases.append(("extends chain 11 hops", "chain/c11.md", {"extends.too_deep"}))
    cases.append(("extends chain 12 hops (parent invalid)", "chain/c12.md", {"extends.parent_invalid"}))

    # links and special files
    outside_target = os.path.join(os.path.dirname(d), os.path.basename(d) + "-outside.md")
    with open(outside_target, "w") as f:
        f.write(fm("outside-target") + body())
    os.symlink("/etc/passwd", os.path.join(d, "passwd.md"))
    cases.append(("symlink to /etc/passwd", "passwd.md", {"file.symlink_outside"}))
    os.symlink("../" + os.path.basename(outside_target), os.path.join(d, "escape.md"))
    cases.append(("relative symlink ../x.md", "escape.md", {"file.symlink_outside"}))
    os.symlink("/etc", os.path.join(d, "etc"))
    cases.append(("directory symlink to /etc", "etc", {"file.symlink_outside"}))
    os.symlink("loop.md", os.path.join(d, "loop.md"))
    cases.append(("symlink to itself", "loop.md", {"file.symlink_loop"}))
    os.symlink("loop-b.md", os.path.join(d, "loop-a.md"))
    os.symlink("loop-a.md", os.path.join(d, "loop-b.md"))
    cases.append(("symlink loop a -> b -> a", "loop-a.md", {"file.symlink_loop"}))
    os.makedirs(os.path.join(d, "dirloop"))
    os.symlink("..", os.path.join(d, "dirloop", "up"))
    cases.append(("directory link to its parent", "dirloop/up", {"file.symlink_loop"}))
    os.symlink("nowhere.md", os.path.join(d, "dangling.md"))
    cases.append(("dangling symlink", "dangling.md", {"file.symlink_broken"}))
    os.mkfifo(os.path.join(d, "fifo.md"))
    cases.append(("FIFO", "fifo.md", {"file.not_regular"}))
    if os.geteuid() == 0:
        null = os.stat("/dev/null")
        os.mknod(os.path.join(d, "null.md"), 0o666 | stat.S_IFCHR, null.st_rdev)
        cases.append(("character device (/dev/null's numbers)", "null.md", {"file.not_regular"}))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(d, "sock.md"))
    sock.close()
    cases.append(("Unix socket", "sock.md", {"file.not_regular"}))
    deep = os.path.join(d, *["n%d" % i for i in range(20)])
    os.makedirs(deep)
    with open(os.path.join(deep, "deep.md"), "w") as f:
        f.write(fm("deep-dir") + body())
    cases.append(("directories 20 deep", "/".join("n%d" % i for i in range(17)), {"file.too_deep"}))

    # permissions (apply to the unprivileged user the checks run as)
    write("secret.md", fm("secret") + body(), "file mode 000", {"file.unreadable"})
    os.chmod(os.path.join(d, "secret.md"), 0)
    os.makedirs(os.path.join(d, "locked"))
    with open(os.path.join(d, "locked", "inner.md"), "w") as f:
        f.write(fm("locked-inner") + body())
    os.chmod(os.path.join(d, "locked"), 0)
    cases.append(("directory mode 000", "locked", {"file.unreadable"}))

    # good profiles
    os.makedirs(os.path.join(d, "good"))
    for name in sorted(os.listdir(os.path.join(ROOT, "profiles"))):
        if name.endswith(".md"):
            shutil.copy(os.path.join(ROOT, "profiles", name), os.path.join(d, "good", name))
    os.makedirs(os.path.join(d, "many"))
    for i in range(many):
        with open(os.path.join(d, "many", "p-%05d.md" % i), "w") as f:
            f.write("---\nid: many-%05d\ncategory: bulk\n%s---\n# Many %d\n\nA small profile.\n\n"
                    "## Core Competencies\n\n- **Item %d**: one\n" % (i, "extends: base\n" if many_extends else "", i, i))
    return cases, outside_target


def as_user(cmd):
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd


def parse_time(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().rpartition(": ")
                out[k] = v
    except OSError:
        pass
    rss = out.get("Maximum resident set size (kbytes)")
    wall = out.get("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = None
    if wall:
        parts = [float(x) for x in wall.split(":")]
        secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return (int(rss) / 1024 if rss else None), secs, out.get("Exit status")


def http_get(port, path, accept="application/json"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rosterd", default=os.path.join(ROOT, "build/service/rosterd"))
    ap.add_argument("--many", type=int, default=10000, help="small valid profiles (default 10000)")
    ap.add_argument("--many-extends", action="store_true",
                    help="the small profiles extend the bundled base (every one then carries its sections)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    rosterd = os.path.abspath(args.rosterd)
    failures = []

    top = tempfile.mkdtemp(prefix="roster-hostile-")
    os.chmod(top, 0o755)
    d = os.path.join(top, "profiles")
    os.makedirs(d)
    out = os.path.join(top, "out")
    os.makedirs(out)
    if os.geteuid() == 0:
        os.chown(out, 65534, 65534)
    proc = None
    try:
        t0 = time.monotonic()
        cases, _ = build(d, args.many, args.many_extends)
        print("built %s in %.1fs: %d hostile entries, %d bundled + %d small valid profiles" % (
            d, time.monotonic() - t0, len(cases), 3, args.many), file=sys.stderr)
        who = "nobody (setpriv)" if os.geteuid() == 0 else "uid %d" % os.geteuid()

        # ---- rosterd check
        tfile = os.path.join(out, "check.time")
        jfile = os.path.join(out, "check.json")
        cmd = ["timeout", "-s", "KILL", str(CHECK_TIMEOUT)] + as_user(
            ["/usr/bin/time", "-v", "-o", tfile, rosterd, "check", "--profiles", d, "--format", "json"])
        t0 = time.monotonic()
        with open(jfile, "wb") as jf:
            rc = subprocess.run(cmd, stdout=jf, stderr=subprocess.PIPE, timeout=CHECK_TIMEOUT + 10).returncode
        check_wall = time.monotonic() - t0
        check_rss, _, _ = parse_time(tfile)
        if rc not in (0, 1):
            failures.append("check exited %d (expected 1: errors found; 137 = killed at the %ds timeout, "
                            "negative or >128 = signal)" % (rc, CHECK_TIMEOUT))
        try:
            with open(jfile) as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            report = {"diagnostics": []}
            failures.append("check output is not JSON: %s" % e)
        check_diags = report.get("diagnostics", [])

        # ---- rosterd serve
        tfile2 = os.path.join(out, "serve.time")
        logpath = os.path.join(out, "serve.log")
        cmd = as_user(["/usr/bin/time", "-v", "-o", tfile2, rosterd, "serve", "--listen", "127.0.0.1:0",
                       "--profiles", d, "--log-level", "info", "--watch", "0"])
        logf = open(logpath, "wb")
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf, stdin=subprocess.DEVNULL)
        port, ready_s, start_ev = None, None, {}
        while time.monotonic() - t0 < READY_TIMEOUT and proc.poll() is None:
            if port is None:
                with open(logpath, "rb") as f:
                    m = re.search(rb'^(\{[^\n]*"event":"start"[^\n]*\})$', f.read(), re.M)
                if m:
                    start_ev = json.loads(m.group(1))
                    port = start_ev["port"]
            if port is not None:
                try:
                    st, _ = http_get(port, "/ready")
                    if st == 200:
                        ready_s = time.monotonic() - t0
                        break
                except OSError:
                    pass
            time.sleep(0.02)
        server_diags = []
        serve_rss = None
        if ready_s is None:
            failures.append("serve did not answer /ready with 200 within %ds (exit %s)" % (READY_TIMEOUT, proc.poll()))
        else:
            for path in ("/v1/profiles/worker-devops", "/v1/profiles/worker-sre", "/v1/profiles/many-00000",
                         "/v1/profiles/many-%05d" % (args.many - 1)):
                st, b = http_get(port, path)
                if st != 200:
                    failures.append("GET %s -> %d (a good profile must be served)" % (path, st))
            st, b = http_get(port, "/v1/profiles/worker-devops/prompt", "text/markdown")
            if st != 200:
                failures.append("GET worker-devops/prompt -> %d" % st)
            for path in ("/v1/profiles/passwd", "/v1/profiles/outside-target", "/v1/profiles/secret",
                         "/v1/profiles/locked-inner", "/v1/profiles/deep-dir"):
                st, b = http_get(port, path)
                if st == 200 or b"root:x:0:0" in b:
                    failures.append("GET %s -> %d: content that must not be served" % (path, st))
            st, b = http_get(port, "/v1/profiles?limit=1")
            total = json.loads(b).get("total") if st == 200 else None
            st, b = http_get(port, "/v1/diagnostics")
            server_diags = json.loads(b).get("items", []) if st == 200 else []
            kids = children(proc.pid)
            rpid = kids[0] if kids else proc.pid
            try:
                with open("/proc/%d/status" % rpid) as f:
                    m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
                    serve_rss = int(m.group(1)) / 1024 if m else None
            except OSError:
                pass
            os.kill(rpid, signal.SIGTERM)
        try:
            src = proc.wait(30)
        except subprocess.TimeoutExpired:
            for k in children(proc.pid):
                os.kill(k, signal.SIGKILL)
            proc.kill()
            src = proc.wait()
            failures.append("serve did not stop within 30s of SIGTERM")
        logf.close()
        time_rss, _, _ = parse_time(tfile2)
        serve_rss = serve_rss or time_rss
        if src != 0:
            failures.append("serve exited with %d" % src)
        with open(logpath, "rb") as f:
            log = f.read()
        for marker in (b"AddressSanitizer", b"runtime error", b"LeakSanitizer"):
            if marker in log:
                failures.append("sanitizer output in the serve log")

        # ---- table
        def find(diags, rel, codes):
            for x in diags:
                if x.get("file") == rel and x.get("code") in codes:
                    return x
            return None

        print()
        print("%-40s %-28s %-7s %-34s %s" % ("case", "file", "sev", "diagnostic [line:col]", "result"))
        print("-" * 122)
        for case, rel, codes in cases:
            a, b = find(check_diags, rel, codes), find(server_diags, rel, codes)
            ok = a is not None and (ready_s is None or b is not None)
            where = ""
            if a and a.get("line"):
                where = ":%s:%s" % (a.get("line"), a.get("column"))
            code = (a or b or {}).get("code", "MISSING (want %s)" % "|".join(sorted(codes)))
            mark = "" if (a and b) else " (check only)" if a else " (serve only)" if b else ""
            sev = (a or b or {}).get("severity", "-")
            print("%-40s %-28s %-7s %-34s %s" % (case[:40], rel[:28], sev, code + where + mark,
                                                 "pass" if ok else "FAIL"))
            if not ok:
                failures.append("%s (%s): no %s diagnostic from %s" % (
                    case, rel, "|".join(sorted(codes)), "check" if a is None else "serve"))
        valid, served = report.get("valid"), start_ev.get("served")
        good_errors = [x for x in check_diags if x.get("severity") == "error" and
                       str(x.get("file", "")).startswith(("good/", "many/"))]
        want = args.many + 3
        ok = not good_errors and (valid or 0) >= want and (served or 0) >= want
        print("%-40s %-28s %-7s %-34s %s" % ("good profiles (3 bundled + %d small)" % args.many, "good/, many/",
                                             "-", "%s valid, %s served" % (valid, served), "pass" if ok else "FAIL"))
        if not ok:
            failures.append("good profiles: want at least %d valid and served with no errors; check says %s "
                            "valid, serve says %s served, errors on good files: %s" % (
                                want, valid, served, good_errors[:3]))
        print()
        print("run as %s; %d files under %s" % (who, report.get("profiles", 0), d))
        print("%-8s %10s %12s %12s %s" % ("command", "wall s", "peak RSS MB", "exit", "notes"))
        print("%-8s %10.2f %12s %12s %s" % ("check", check_wall, "%.1f" % check_rss if check_rss else "?", rc,
                                            "%d diagnostics (%s errors, %s warnings)" % (
                                                len(check_diags), report.get("errors"), report.get("warnings"))))
        print("%-8s %10s %12s %12s %s" % ("serve", "%.2f" % ready_s if ready_s is not None else "-",
                                          "%.1f" % serve_rss if serve_rss else "?", src,
                                          "wall = spawn to /ready 200; snapshot build_ms %s; served %s, invalid %s" % (
                                              start_ev.get("build_ms"), start_ev.get("served"), start_ev.get("invalid"))))
        if total is not None:
            print("GET /v1/profiles total: %s" % total)
    finally:
        if proc is not None and proc.poll() is None:
            for k in children(proc.pid):
                os.kill(k, signal.SIGKILL)
            proc.kill()
        if args.keep:
            print("kept %s" % top)
        else:
            locked = os.path.join(d, "locked")
            if os.path.isdir(locked):
                os.chmod(locked, 0o755)
            shutil.rmtree(top, ignore_errors=True)

    print()
    if failures:
        for f in failures:
            print("FAIL: %s" % f)
        print("RESULT: FAIL (%d problem(s))" % len(failures))
        return 1
    print("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
