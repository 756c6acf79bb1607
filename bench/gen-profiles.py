#!/usr/bin/python3
"""Generate N synthetic worker profiles for benchmarks.

    bench/gen-profiles.py --count 1000 --out /tmp/profiles-1k [--seed 1]

Writes OUT/ID.md for every profile: YAML front matter (id, name, category,
description, version "1.0", extends, role) and a Markdown body shaped like
profiles/worker-devops.md (H1 + role paragraph, Core Competencies, Work
Patterns with numbered steps, nested bullets and code blocks, Tool
Priorities, Output Standards with a table, Anti-Patterns with DO NOT /
ALWAYS lists).

Inheritance has three levels: roots (no extends), mids (extend a root) and
leaves (extend a mid). About 2% of the profiles are roots and 10% mids, with
at least one of each. Leaves sometimes leave out a section and inherit it.

The output is a pure function of --count and --seed: the same arguments give
byte-identical files. Standard library only; run with /usr/bin/python3.
"""

import argparse
import os
import random
import sys

AREAS = [
    ("devops", "DevOps", "CI/CD pipelines and infrastructure automation"),
    ("sre", "Site Reliability", "incident response, SLOs and capacity planning"),
    ("backend", "Backend", "HTTP services, data models and APIs"),
    ("frontend", "Frontend", "web interfaces, accessibility and performance"),
    ("data", "Data Engineering", "batch and streaming data pipelines"),
    ("ml", "Machine Learning", "model training, evaluation and serving"),
    ("security", "Security", "threat modelling, hardening and audits"),
    ("qa", "Quality Assurance", "test strategy, automation and release gates"),
    ("docs", "Documentation", "reference docs, tutorials and runbooks"),
    ("mobile", "Mobile", "iOS and Android applications"),
    ("dba", "Database", "schema design, migrations and query tuning"),
    ("network", "Network", "routing, load balancing and service mesh"),
]

SPECIALTIES = [
    "pipelines", "observability", "migrations", "caching", "auth", "billing",
    "search", "storage", "kubernetes", "terraform", "queues", "payments",
    "onboarding", "reporting", "compliance", "localization", "release",
    "incident", "capacity", "cost", "backup", "api-gateway", "edge", "batch",
]

ADJECTIVES = [
    "reliable", "secure", "observable", "maintainable", "fast", "reproducible",
    "well-tested", "documented", "recoverable", "cost-effective", "scalable",
]

VERBS = [
    "Design", "Maintain", "Review", "Automate", "Measure", "Harden", "Document",
    "Profile", "Migrate", "Monitor", "Refactor", "Validate", "Plan", "Test",
]

NOUNS = [
    "build pipelines", "deployment workflows", "service contracts", "schemas",
    "dashboards", "alert rules", "container images", "access policies",
    "backup jobs", "load tests", "feature flags", "release notes", "runbooks",
    "retry policies", "rate limits", "data retention rules", "cache layers",
]

COMPETENCIES = [
    "CI/CD Pipelines", "Infrastructure as Code", "Containerization",
    "Deployment Strategies", "Monitoring & Alerting", "Security Hardening",
    "Disaster Recovery", "Performance Optimization", "API Design",
    "Data Modelling", "Incident Response", "Capacity Planning",
    "Cost Management", "Test Automation", "Accessibility", "Code Review",
    "Dependency Management", "Schema Migrations", "Release Engineering",
    "Technical Writing", "Threat Modelling", "Query Tuning",
]

PATTERNS = [
    "Pipeline Optimization", "Rollback Planning", "Monitoring Setup",
    "Incident Triage", "Schema Migration", "Capacity Review",
    "Dependency Upgrade", "Release Preparation", "Access Review",
    "Load Testing", "Cost Audit", "On-call Handover", "API Versioning",
    "Data Backfill", "Cache Invalidation", "Secret Rotation",
]

STEPS = [
    "Analyze Current State", "Design for Speed", "Design for Reliability",
    "Design for Security", "Implement Health Checks", "Automate Recovery",
    "Document Procedures", "Define Key Metrics", "Set Up Alerting",
    "Verify in Staging", "Roll Out Gradually", "Review the Results",
]

TOOLS = [
    ("Shell Tools", "Execute and automate"),
    ("Read Tools", "Understand configs"),
    ("Edit Tools", "Modify configurations"),
    ("Search Tools", "Find patterns"),
    ("Browser Tools", "Check rendered output"),
    ("Database Tools", "Inspect schemas and data"),
    ("Test Runners", "Prove behaviour"),
]
QUALIFIERS = ["Primary", "Secondary", "Tertiary", "Discovery", "Occasional",
              "Rare", "Last resort"]

TABLE_ROWS = [
    ("Secrets", "Vault, sealed secrets, environment vars (not in code)"),
    ("Images", "Minimal base, pinned versions, vulnerability scanning"),
    ("Network", "Minimal exposure, mTLS, network policies"),
    ("Access", "Least privilege, short-lived tokens, audit logs"),
    ("Runtime", "Read-only filesystems, non-root users, resource limits"),
    ("Logs", "Structured JSON, correlation ids, no personal data"),
    ("Tests", "Deterministic, isolated, fast feedback"),
    ("Docs", "Versioned with the code, reviewed like code"),
]

DONTS = [
    "Include manual steps in automated pipelines",
    "Hardcode secrets in code or configs",
    "Deploy untested changes to production",
    "Create snowflake servers with undocumented configs",
    "Skip health checks or monitoring",
    "Use `latest` tags for container images",
    "Disable security controls for convenience",
    "Ignore failed deployments or alerts",
    "Merge without review",
    "Silence flaky tests instead of fixing them",
    "Change shared configuration without telling its owners",
]

DOS = [
    "Version control all infrastructure and configs",
    "Use secrets management (vault, sealed secrets)",
    "Test changes in staging before production",
    "Implement health checks and monitoring",
    "Plan for rollback before deploying",
    "Pin versions for reproducibility",
    "Apply the least privilege principle",
    "Document runbooks for operations",
    "Write down what you did not verify",
    "Keep changes small and reviewable",
]

CODE_BLOCKS = [
    ("yaml", [
        "# {title}",
        "name: {slug}",
        "on:",
        "  push:",
        "    branches: [main]",
        "jobs:",
        "  check:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - run: make check  # {adj} by default",
    ]),
    ("bash", [
        "#!/usr/bin/env bash",
        "# {title}",
        "set -euo pipefail",
        "kubectl -n {slug} rollout status deploy/app --timeout=5m",
        "kubectl -n {slug} get pods -l app={slug}",
        "curl -fsS http://127.0.0.1:9080/ready",
    ]),
    ("", [
        "{title}:",
        "+-------------------+----------------+----------------+",
        "| Scenario          | Detection      | Action         |",
        "+-------------------+----------------+----------------+",
        "| Health check fail | Automatic      | Auto-rollback  |",
        "| Error rate spike  | Alert @ 5%     | Manual assess  |",
        "| Latency increase  | Alert @ P99    | Manual assess  |",
        "+-------------------+----------------+----------------+",
    ]),
    ("json", [
        "{{",
        '  "name": "{slug}",',
        '  "policy": "{adj}",',
        '  "retries": 3,',
        '  "timeout_seconds": 30',
        "}}",
    ]),
]


def sentence(rng, words=12):
    """A plain sentence made of verbs, nouns and adjectives."""
    parts = []
    while len(parts) < words:
        parts.append(rng.choice(VERBS).lower())
        parts.append(rng.choice(ADJECTIVES))
        parts.append(rng.choice(NOUNS))
    text = " ".join(parts[:words])
    return text[0].upper() + text[1:] + "."


def code_block(rng, title, slug):
    lang, lines = rng.choice(CODE_BLOCKS)
    adj = rng.choice(ADJECTIVES)
    out = ["```" + lang]
    out += [line.format(title=title, slug=slug, adj=adj) for line in lines]
    out.append("```")
    return out


def front_matter(p):
    lines = ["---", "id: " + p["id"], "name: " + p["name"],
             "category: " + p["category"],
             "description: " + p["description"], 'version: "1.0"']
    if p["extends"]:
        lines.append("extends: " + p["extends"])
    lines.append("role: " + p["role"])
    lines.append("---")
    return lines


def body(rng, p, level):
    title = p["title"]
    slug = p["id"]
    out = ["", "# " + title, ""]
    out.append("You are a {} worker with deep expertise in {}. {} {}".format(
        p["area_title"], p["area_desc"], sentence(rng, 18), sentence(rng, 14)))

    def section(name):
        out.extend(["", "## " + name, ""])

    # Leaves inherit some sections from their mid-level parent.
    skip = set()
    if level == 2:
        for name in ("Tool Priorities", "Output Standards"):
            if rng.random() < 0.25:
                skip.add(name)

    section("Core Competencies")
    for label in rng.sample(COMPETENCIES, rng.randint(5, 9)):
        out.append("- **{}**: {}".format(label, sentence(rng, rng.randint(6, 11))[:-1]))

    section("Work Patterns")
    for pat in rng.sample(PATTERNS, rng.randint(2, 4)):
        out.extend(["### " + pat, "", "When working on {}:".format(pat.lower()), ""])
        for i, step in enumerate(rng.sample(STEPS, rng.randint(3, 5)), 1):
            out.append("{}. **{}**".format(i, step))
            for _ in range(rng.randint(2, 4)):
                out.append("   - " + sentence(rng, rng.randint(4, 9))[:-1])
            out.append("")
        out.extend(code_block(rng, pat, slug))
        out.append("")
    if out[-1] == "":
        out.pop()

    if "Tool Priorities" not in skip:
        section("Tool Priorities")
        out.extend(["Prioritize tools in this order for {} tasks:".format(p["area_title"]), ""])
        tools = rng.sample(TOOLS, rng.randint(3, 5))
        for i, (name, desc) in enumerate(tools, 1):
            out.append("{}. **{}** ({}) - {}".format(i, name, QUALIFIERS[i - 1], desc))
            for _ in range(rng.randint(2, 3)):
                out.append("   - " + sentence(rng, rng.randint(4, 7))[:-1])
            out.append("")
        out.pop()

    if "Output Standards" not in skip:
        section("Output Standards")
        for sub in rng.sample(["Infrastructure as Code", "Security Hardening",
                               "Change Records", "Test Reports", "Runbooks"],
                              rng.randint(1, 2)):
            out.extend(["### " + sub, "", sentence(rng, 10), "", "| Layer | Practice |",
                        "|-------|----------|"])
            for layer, practice in rng.sample(TABLE_ROWS, rng.randint(3, 6)):
                out.append("| {} | {} |".format(layer, practice))
            out.append("")
            if rng.random() < 0.5:
                out.extend(code_block(rng, sub, slug))
                out.append("")
        out.pop()

    section("Anti-Patterns")
    out.extend(["**DO NOT:**", ""])
    out.extend("- ❌ " + d for d in rng.sample(DONTS, rng.randint(4, 8)))
    out.extend(["", "**ALWAYS:**", ""])
    out.extend("- ✅ " + d for d in rng.sample(DOS, rng.randint(4, 8)))
    return out


def plan(count, rng):
    """The list of profiles, roots first, then mids, then leaves."""
    n_roots = max(1, count // 50)
    n_mids = max(1, count // 10)
    if count < 3:
        raise ValueError("--count must be at least 3 (one profile per level)")
    n_leaves = count - n_roots - n_mids
    if n_leaves < 1:
        n_mids = count - n_roots - 1
        n_leaves = 1
    roles = [a[0] for a in AREAS]
    profiles = []

    def make(kind, idx, parent):
        area = AREAS[idx % len(AREAS)] if parent is None else parent["area"]
        if kind == "root":
            pid = "base-{}-{:05d}".format(area[0], idx)
            category = "base"
            title = "{} Base {}".format(area[1], idx)
        elif kind == "mid":
            pid = "team-{}-{:05d}".format(area[0], idx)
            category = "team"
            title = "{} Team Worker {}".format(area[1], idx)
        else:
            spec = rng.choice(SPECIALTIES)
            pid = "worker-{}-{}-{:05d}".format(area[0], spec, idx)
            category = "worker"
            title = "{} {} Worker {}".format(area[1], spec.replace("-", " ").title(), idx)
        role = area[0] if rng.random() < 0.8 else rng.choice(roles)
        return {
            "id": pid, "name": "Bench " + title, "title": title,
            "category": category, "role": role, "area": area,
            "area_title": area[1], "area_desc": area[2],
            "description": "{} worker for {}".format(area[1], area[2]),
            "extends": parent["id"] if parent else None,
            "kind": kind,
        }

    roots = [make("root", i, None) for i in range(n_roots)]
    mids = [make("mid", i, rng.choice(roots)) for i in range(n_mids)]
    leaves = [make("leaf", i, rng.choice(mids)) for i in range(n_leaves)]
    profiles.extend(roots + mids + leaves)
    return profiles


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="number of profiles (>= 3)")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--force", action="store_true",
                    help="write into a directory that already holds .md files")
    args = ap.parse_args()
    if args.count < 3:
        ap.error("--count must be at least 3 (one profile per level)")
    os.makedirs(args.out, exist_ok=True)
    if not args.force and any(n.endswith(".md") for n in os.listdir(args.out)):
        ap.error("{} already holds .md files (use --force)".format(args.out))
    rng = random.Random(args.seed)
    profiles = plan(args.count, rng)
    level = {"root": 0, "mid": 1, "leaf": 2}
    total = 0
    for p in profiles:
        text = "\n".join(front_matter(p) + body(rng, p, level[p["kind"]])) + "\n"
        data = text.encode("utf-8")
        total += len(data)
        with open(os.path.join(args.out, p["id"] + ".md"), "wb") as f:
            f.write(data)
    counts = {k: sum(1 for p in profiles if p["kind"] == k) for k in level}
    print("generated {} profiles ({} roots, {} mids, {} leaves, {} bytes) in {}".format(
        len(profiles), counts["root"], counts["mid"], counts["leaf"], total, args.out),
        file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
