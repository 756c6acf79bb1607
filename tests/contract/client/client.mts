// Calls every operation of openapi/openapi.yaml against a live rosterd with a
// client generated from the contract (openapi-typescript types + openapi-fetch)
// and checks statuses and typed fields. Type-checked with `tsc --strict`: the
// annotations below (`const name: string | null = data.name`, ...) fail to
// compile when the contract makes a field optional or changes its type.
//
// Environment: ROSTERD_URL, ADMIN_TOKEN, CONTRACT_SPEC (the spec the types were
// generated from), PROFILES_DIR and HISTORY_DIR (the server's profiles copy and
// --history-dir: the versions cases edit ct-versions.md and reload),
// CONTRACT_RESULTS (file: one `PASS\tname` / `FAIL\tname\twhy` line per check).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

const baseUrl = process.env.ROSTERD_URL ?? "";
const results = process.env.CONTRACT_RESULTS ?? "";
const token = process.env.ADMIN_TOKEN ?? "";
if (!baseUrl || !results) throw new Error("ROSTERD_URL and CONTRACT_RESULTS must be set");

// Every request is bounded: its own signal (if any) or 15 s, whichever ends first.
const options = {
  baseUrl,
  fetch: (req: Request) => fetch(req, { signal: AbortSignal.any([req.signal, AbortSignal.timeout(15000)]) }),
};
// The media types a client reads fix its response types (openapi-fetch's second
// type parameter): with JSON, GET /v1/profiles/{id} is a Profile, fully typed; the
// `fields` projection is its own media type, read by the second client.
type Json = "application/json" | "application/problem+json";
type Projection = "application/vnd.roster.projection+json" | "application/problem+json";
const client = createClient<paths, Json>(options);
const projections = createClient<paths, Projection>(options);
// the operations that got an answer, as "<method> <path template>"
const exercised = new Set<string>();
for (const c of [client, projections]) {
  c.use({
    onResponse({ schemaPath, request }) {
      exercised.add(`${request.method.toLowerCase()} ${schemaPath}`);
    },
  });
}
let passed = 0;
let failed = 0;

function check(name: string, ok: boolean, why = ""): void {
  if (ok) passed++;
  else failed++;
  const line = ok ? `PASS\tts: ${name}` : `FAIL\tts: ${name}\t${why.replace(/\s+/g, " ").slice(0, 600)}`;
  console.log(line.replace(/\t/g, "  "));
  appendFileSync(results, line + "\n");
}

function expectStatus(name: string, response: Response, status: number, extra = true, why = ""): void {
  check(name, response.status === status && extra,
    response.status !== status ? `status ${response.status}, expected ${status}` : why);
}

function isProblem(e: unknown, code: Problem["code"]): boolean {
  return typeof e === "object" && e !== null && (e as Problem).code === code;
}

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    check(name, false, `threw: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const ids = ["base", "worker-devops", "worker-sre"] as const;

// ---------------------------------------------------------------- profiles
await step("getProfiles", async () => {
  const { data, response } = await client.GET("/v1/profiles", { params: { query: { limit: 2 } } });
  // fully typed without fields: ProfileList, not a union with the projection
  const items: Schemas["ProfileSummary"][] = data?.items ?? [];
  const next: string | null = data?.next_cursor ?? null;
  const total: number = data?.total ?? -1;
  const firstName: string | null = items[0]?.name ?? null;
  expectStatus("getProfiles limit=2", response, 200,
    items.length === 2 && items[0]?.id === "base" && firstName === "Roster Base Worker" && next !== null && total >= 3,
    JSON.stringify(data).slice(0, 300));
  const page2 = await client.GET("/v1/profiles", { params: { query: { limit: 2, cursor: next ?? undefined } } });
  expectStatus("getProfiles cursor", page2.response, 200, (page2.data?.items.length ?? 0) >= 1);
  const etag = response.headers.get("ETag") ?? "";
  const again = await client.GET("/v1/profiles", {
    params: { query: { limit: 2 }, header: { "If-None-Match": etag } },
  });
  expectStatus("getProfiles If-None-Match -> 304", again.response, 304);
  const sre = await client.GET("/v1/profiles", { params: { query: { extends: "worker-devops", role: "sre" } } });
  expectStatus("getProfiles extends+role", sre.response, 200,
    JSON.stringify(sre.data?.items.map((i) => i.id)) === '["worker-sre"]');
  const q = await client.GET("/v1/profiles", { params: { query: { q: "reliability", category: "worker" } } });
  expectStatus("getProfiles q+category", q.response, 200, q.data?.items.some((i) => i.id === "worker-sre") ?? false);
  // the projection: openapi-fetch sends arrays as fields=id&fields=name (the repeated form)
  const proj = await projections.GET("/v1/profiles", { params: { query: { fields: ["id", "name"], limit: 3 } } });
  const pl: Schemas["ProfileListProjection"] | undefined = proj.data;
  expectStatus("getProfiles fields=id&fields=name (ProfileListProjection)", proj.response, 200,
    (pl?.items ?? []).every((i) => JSON.stringify(Object.keys(i)) === '["id","name"]') && (pl?.items.length ?? 0) === 3 &&
      proj.response.headers.get("Content-Type") === "application/vnd.roster.projection+json",
    JSON.stringify(pl).slice(0, 300));
  const bad = await client.GET("/v1/profiles", { params: { query: { limit: 0 } } });
  expectStatus("getProfiles limit=0 -> 400 invalid_query", bad.response, 400, isProblem(bad.error, "invalid_query"));
  const na = await client.GET("/v1/profiles", { headers: { Accept: "text/html" } });
  expectStatus("getProfiles Accept: text/html -> 406", na.response, 406, isProblem(na.error, "not_acceptable"));
});

await step("headProfiles/optionsProfiles", async () => {
  const h = await client.HEAD("/v1/profiles");
  expectStatus("headProfiles", h.response, 200, h.response.headers.get("Content-Type") === "application/json");
  const o = await client.OPTIONS("/v1/profiles");
  expectStatus("optionsProfiles", o.response, 204, o.response.headers.get("Allow") === "GET, HEAD, OPTIONS");
});

await step("getProfile", async () => {
  for (const id of ids) {
    const { data, response } = await client.GET("/v1/profiles/{id}", { params: { path: { id } } });
    if (!data) {
      check(`getProfile ${id}`, false, `status ${response.status}`);
      continue;
    }
    const name: string | null = data.name;
    const stale: boolean = data.stale;
    const lineage: string[] = data.lineage;
    const role: Schemas["Role"] = data.role;
    const sha: string = data.source.sha256;
    const vars: Schemas["Variable"][] = data.variables;
    expectStatus(`getProfile ${id}`, response, 200,
      data.id === id && lineage[0] === id && !stale && typeof name === "string" && sha.length === 64 &&
        vars.every((v) => typeof v.name === "string" && typeof v.required === "boolean") &&
        (role.name === null || typeof role.name === "string"));
  }
  const proj = await projections.GET("/v1/profiles/{id}", {
    params: { path: { id: "worker-sre" }, query: { fields: ["id", "lineage"] } },
  });
  const p: Schemas["ProfileProjection"] | undefined = proj.data;
  expectStatus("getProfile fields (ProfileProjection)", proj.response, 200,
    JSON.stringify(p) === '{"id":"worker-sre","lineage":["worker-sre","worker-devops","base"]}', JSON.stringify(p));
  const nf = await client.GET("/v1/profiles/{id}", { params: { path: { id: "worker-sr" } } });
  expectStatus("getProfile unknown -> 404 with suggestions", nf.response, 404,
    isProblem(nf.error, "profile_not_found") && (nf.error?.suggestions ?? []).includes("worker-sre"));
  const inv = await client.GET("/v1/profiles/{id}", { params: { path: { id: "ct-broken" } } });
  expectStatus("getProfile invalid -> 404 profile_invalid", inv.response, 404, isProblem(inv.error, "profile_invalid"));
  const badId = await client.GET("/v1/profiles/{id}", { params: { path: { id: "Not-An-Id" } } });
  expectStatus("getProfile bad id -> 400", badId.response, 400, isProblem(badId.error, "invalid_id"));
  const h = await client.HEAD("/v1/profiles/{id}", { params: { path: { id: "base" } } });
  expectStatus("headProfile", h.response, 200, (h.response.headers.get("ETag") ?? "").startsWith('"'));
  const o = await client.OPTIONS("/v1/profiles/{id}", { params: { path: { id: "base" } } });
  expectStatus("optionsProfile", o.response, 204);
});

// ---------------------------------------------------------------- views
await step("views", async () => {
  for (const id of ids) {
    const path = { params: { path: { id } } };
    const role = await client.GET("/v1/profiles/{id}/role", path);
    const title: string | null | undefined = role.data?.role.title;
    expectStatus(`getProfileRole ${id}`, role.response, 200, role.data?.id === id && typeof title === "string");
    const comp = await client.GET("/v1/profiles/{id}/competencies", path);
    const comps: Schemas["Competency"][] = comp.data?.competencies ?? [];
    expectStatus(`getProfileCompetencies ${id}`, comp.response, 200,
      id === "base" ? comps.length === 0 : comps.length > 0 && comps.every((c) => c.description !== undefined));
    const wp = await client.GET("/v1/profiles/{id}/work-patterns", path);
    const patterns: Schemas["WorkPattern"][] = wp.data?.work_patterns ?? [];
    expectStatus(`getProfileWorkPatterns ${id}`, wp.response, 200,
      patterns.every((p) => typeof p.name === "string" && Array.isArray(p.steps)));
    const tp = await client.GET("/v1/profiles/{id}/tool-priorities", path);
    const ranks: number[] = (tp.data?.tool_priorities ?? []).map((t) => t.rank);
    expectStatus(`getProfileToolPriorities ${id}`, tp.response, 200, ranks.every((r) => Number.isInteger(r)));
    const os = await client.GET("/v1/profiles/{id}/output-standards", path);
    const md: string[] = (os.data?.output_standards ?? []).map((s) => s.markdown);
    expectStatus(`getProfileOutputStandards ${id}`, os.response, 200, md.every((m) => typeof m === "string"));
    const ap = await client.GET("/v1/profiles/{id}/anti-patterns", path);
    const avoid: Schemas["AntiPattern"][] = ap.data?.anti_patterns.avoid ?? [];
    // provenance: every item names a profile of the lineage and its section
    expectStatus(`getProfileAntiPatterns ${id}`, ap.response, 200,
      avoid.every((a) => typeof a.text === "string" && typeof a.from === "string" && typeof a.section === "string"));
    const own = await client.GET("/v1/profiles/{id}/tool-priorities", { params: { path: { id }, query: { scope: "own" } } });
    const ownFrom: string[] = (own.data?.tool_priorities ?? []).map((t) => t.from);
    expectStatus(`getProfileToolPriorities ${id} scope=own`, own.response, 200, ownFrom.every((f) => f === id));
    const sec = await client.GET("/v1/profiles/{id}/sections", path);
    const levels: number[] = (sec.data?.sections ?? []).map((s) => s.level);
    expectStatus(`getProfileSections ${id}`, sec.response, 200, levels.length > 0 && levels[0] === 1);
    const lin = await client.GET("/v1/profiles/{id}/lineage", path);
    const lineage: string[] = lin.data?.lineage ?? [];
    expectStatus(`getProfileLineage ${id}`, lin.response, 200, lineage[0] === id && lineage.at(-1) === "base");
    const vv = await client.GET("/v1/profiles/{id}/variables", path);
    const decls: Schemas["Variable"][] = vv.data?.variables ?? [];
    const defaults: (string | null)[] = decls.map((v) => v.default);
    expectStatus(`getProfileVariables ${id}`, vv.response, 200,
      vv.data?.id === id && decls.length === defaults.length &&
        decls.every((v) => typeof v.name === "string" && Number.isInteger(v.max_length) && typeof v.from === "string"));
    // the prompt: Markdown by default (parse as text), JSON with Accept: application/json
    const md1 = await client.GET("/v1/profiles/{id}/prompt", { ...path, parseAs: "text" });
    const text: string = md1.data ?? "";
    expectStatus(`getProfilePrompt ${id} (Markdown)`, md1.response, 200,
      text.startsWith("# ") && (md1.response.headers.get("Content-Type") ?? "").startsWith("text/markdown"));
    const acceptJson: components["parameters"]["PromptAccept"] = "application/json";
    const pj = await client.GET("/v1/profiles/{id}/prompt", { ...path, headers: { Accept: acceptJson } });
    const doc: Schemas["PromptDocument"] | undefined = pj.data;
    expectStatus(`getProfilePrompt ${id} (Accept: application/json)`, pj.response, 200,
      doc?.id === id && /^[0-9a-f]{64}$/.test(doc?.sha256 ?? "") && (doc?.prompt ?? "").startsWith("# "));
    const src = await client.GET("/v1/profiles/{id}/source", { ...path, parseAs: "text" });
    expectStatus(`getProfileSource ${id}`, src.response, 200, (src.data ?? "").startsWith("---"));
  }
  const unknownParam = await client.GET("/v1/profiles/{id}/role", {
    params: { path: { id: "base" } }, querySerializer: () => "x=1",
  });
  expectStatus("getProfileRole ?x=1 -> 400 unknown_parameter", unknownParam.response, 400,
    isProblem(unknownParam.error, "unknown_parameter"), JSON.stringify(unknownParam.error));
  const srcJson = await client.GET("/v1/profiles/{id}/source", {
    params: { path: { id: "base" } }, headers: { Accept: "application/json" },
  });
  expectStatus("getProfileSource Accept: application/json -> 406", srcJson.response, 406,
    isProblem(srcJson.error, "not_acceptable"));
  const path = { params: { path: { id: "worker-sre" } } };
  const heads: [string, Promise<{ response: Response }>][] = [
    ["headProfileRole", client.HEAD("/v1/profiles/{id}/role", path)],
    ["headProfileCompetencies", client.HEAD("/v1/profiles/{id}/competencies", path)],
    ["headProfileWorkPatterns", client.HEAD("/v1/profiles/{id}/work-patterns", path)],
    ["headProfileToolPriorities", client.HEAD("/v1/profiles/{id}/tool-priorities", path)],
    ["headProfileOutputStandards", client.HEAD("/v1/profiles/{id}/output-standards", path)],
    ["headProfileAntiPatterns", client.HEAD("/v1/profiles/{id}/anti-patterns", path)],
    ["headProfileSections", client.HEAD("/v1/profiles/{id}/sections", path)],
    ["headProfileLineage", client.HEAD("/v1/profiles/{id}/lineage", path)],
    ["headProfileVariables", client.HEAD("/v1/profiles/{id}/variables", path)],
    ["headProfilePrompt", client.HEAD("/v1/profiles/{id}/prompt", path)],
    ["headProfileSource", client.HEAD("/v1/profiles/{id}/source", path)],
    ["optionsProfileRole", client.OPTIONS("/v1/profiles/{id}/role", path)],
    ["optionsProfileCompetencies", client.OPTIONS("/v1/profiles/{id}/competencies", path)],
    ["optionsProfileWorkPatterns", client.OPTIONS("/v1/profiles/{id}/work-patterns", path)],
    ["optionsProfileToolPriorities", client.OPTIONS("/v1/profiles/{id}/tool-priorities", path)],
    ["optionsProfileOutputStandards", client.OPTIONS("/v1/profiles/{id}/output-standards", path)],
    ["optionsProfileAntiPatterns", client.OPTIONS("/v1/profiles/{id}/anti-patterns", path)],
    ["optionsProfileSections", client.OPTIONS("/v1/profiles/{id}/sections", path)],
    ["optionsProfileLineage", client.OPTIONS("/v1/profiles/{id}/lineage", path)],
    ["optionsProfileVariables", client.OPTIONS("/v1/profiles/{id}/variables", path)],
    ["optionsProfilePrompt", client.OPTIONS("/v1/profiles/{id}/prompt", path)],
    ["optionsProfileSource", client.OPTIONS("/v1/profiles/{id}/source", path)],
  ];
  for (const [name, p] of heads) {
    const { response } = await p;
    expectStatus(name, response, name.startsWith("head") ? 200 : 204);
  }
});

// ---------------------------------------------------------------- templates
await step("renderProfilePrompt", async () => {
  const path = { params: { path: { id: "ct-template" } } };
  const decl = await client.GET("/v1/profiles/{id}/variables", path);
  const declared: Schemas["Variable"][] = decl.data?.variables ?? [];
  const language: Schemas["Variable"] | undefined = declared.find((v) => v.name === "language");
  const allowed: string[] | null = language?.enum ?? null;
  expectStatus("getProfileVariables ct-template", decl.response, 200,
    JSON.stringify(declared.map((v) => v.name)) === '["language","task"]' && language?.default === "Go" &&
      JSON.stringify(allowed) === '["Go","Python","C"]' && declared[1]?.required === true,
    JSON.stringify(declared));
  // the body is typed from the contract (PromptRequest): variables are strings
  const request: Schemas["PromptRequest"] = { variables: { task: "fix the build", language: "C" } };
  const md = await client.POST("/v1/profiles/{id}/prompt", { ...path, body: request, parseAs: "text" });
  const text: string = md.data ?? "";
  expectStatus("renderProfilePrompt (Markdown)", md.response, 200,
    text.endsWith("Do this: fix the build, in C.") &&
      (md.response.headers.get("Content-Type") ?? "").startsWith("text/markdown") &&
      md.response.headers.get("Cache-Control") === "no-store" && md.response.headers.get("ETag") === null,
    text.slice(-200));
  const acceptJson: components["parameters"]["PromptAccept"] = "application/json";
  const js = await client.POST("/v1/profiles/{id}/prompt", {
    ...path, body: { variables: { task: "x" } }, headers: { Accept: acceptJson },
  });
  const doc: Schemas["RenderedPrompt"] | undefined = js.data;
  const values: Record<string, string> = doc?.variables ?? {};
  const lineage: string[] = doc?.lineage ?? [];
  expectStatus("renderProfilePrompt (Accept: application/json, defaults applied)", js.response, 200,
    doc?.id === "ct-template" && lineage[0] === "ct-template" && values["language"] === "Go" && values["task"] === "x" &&
      /^[0-9a-f]{64}$/.test(doc?.sha256 ?? "") && (doc?.prompt ?? "").endsWith("Do this: x, in Go."),
    JSON.stringify(doc));
  const bad = await client.POST("/v1/profiles/{id}/prompt", {
    ...path, body: { variables: { language: "Rust", nope: "x" } },
  });
  const err = bad.error;
  const errors: Schemas["VariableProblem"][] = err !== undefined && "errors" in err ? err.errors : [];
  const reasons = errors.map((e) => `${e.name}:${e.reason}`).sort().join(",");
  expectStatus("renderProfilePrompt -> 422 every offending variable", bad.response, 422,
    reasons === "language:not_in_enum,nope:unknown,task:missing", JSON.stringify(err));
  const missing = await client.POST("/v1/profiles/{id}/prompt", { ...path, body: {} });
  expectStatus("renderProfilePrompt {} -> 422 missing", missing.response, 422,
    missing.error !== undefined && "errors" in missing.error && missing.error.errors[0]?.reason === "missing");
  const nf = await client.POST("/v1/profiles/{id}/prompt", { params: { path: { id: "nobody" } }, body: {} });
  expectStatus("renderProfilePrompt unknown -> 404", nf.response, 404, isProblem(nf.error, "profile_not_found"));
  const o = await client.OPTIONS("/v1/profiles/{id}/prompt", path);
  expectStatus("optionsProfilePrompt allows POST", o.response, 204,
    o.response.headers.get("Allow") === "GET, HEAD, POST, OPTIONS");
});

// ---------------------------------------------------------------- versions
// docs/versions.md "History". rosterd runs with --history-dir (run.sh): the
// current version of worker-sre is pinned by the digest GET /v1/profiles/{id}
// gives; ct-versions is edited here and reloaded, so its first version is then
// served from the store and its listing has two pages of one.
const immutable = "public, max-age=31536000, immutable";
const zeroDigest: components["parameters"]["VersionDigestPath"] = "sha256:" + "0".repeat(64);

function pinnedHeaders(response: Response, digest: string): boolean {
  return response.headers.get("Cache-Control") === immutable && response.headers.get("Roster-Digest") === digest &&
    /^"[0-9a-f]{32}(-gz)?"$/.test(response.headers.get("ETag") ?? "");
}

await step("versions (current)", async () => {
  const id = "worker-sre";
  const path = { params: { path: { id } } };
  const prof = await client.GET("/v1/profiles/{id}", path);
  const digest: Schemas["Digest"] = prof.data?.digest ?? "";
  const list = await client.GET("/v1/profiles/{id}/versions", path);
  const page: Schemas["ProfileVersionList"] | undefined = list.data;
  const item: Schemas["ProfileVersion"] | undefined = page?.items[0];
  const files: Schemas["ProfileVersionFile"][] = item?.lineage ?? [];
  const history: boolean = page?.history ?? false;
  const skipped: Schemas["ProfileVersionSkipped"][] = page?.skipped ?? [];
  const firstSeen: number = item?.first_seen ?? -1;
  expectStatus("listProfileVersions (one current version, the digest of GET /v1/profiles/{id})", list.response, 200,
    /^sha256:[0-9a-f]{64}$/.test(digest) && history && page?.items.length === 1 && item?.digest === digest &&
      item.current && item.link === `/v1/profiles/${id}/versions/${digest}` && firstSeen > 0 &&
      item.last_seen >= firstSeen &&
      JSON.stringify(files.map((f) => f.path)) === '["base.md","worker-devops.md","worker-sre.md"]' &&
      page.next_cursor === null && skipped.length === 0 && list.response.headers.get("Roster-Digest") === digest,
    JSON.stringify(page).slice(0, 400));
  // (If-None-Match: *: the listing's ETag changes with every answer, since the
  // current version's last_seen is "now")
  const again = await client.GET("/v1/profiles/{id}/versions", {
    params: { path: { id }, header: { "If-None-Match": "*" } },
  });
  expectStatus("listProfileVersions If-None-Match: * -> 304", again.response, 304,
    again.response.headers.get("Roster-Digest") === digest);
  const one = await client.GET("/v1/profiles/{id}/versions", { params: { path: { id }, query: { limit: 1 } } });
  expectStatus("listProfileVersions limit=1 (the only version: no next page)", one.response, 200,
    one.data?.items.length === 1 && one.data.next_cursor === null);
  const nf = await client.GET("/v1/profiles/{id}/versions", { params: { path: { id: "worker-sr" } } });
  expectStatus("listProfileVersions unknown -> 404 profile_not_found", nf.response, 404,
    isProblem(nf.error, "profile_not_found") && (nf.error?.suggestions ?? []).includes("worker-sre"));
  const badLimit = await client.GET("/v1/profiles/{id}/versions", { params: { path: { id }, query: { limit: 0 } } });
  expectStatus("listProfileVersions limit=0 -> 400 invalid_query", badLimit.response, 400,
    isProblem(badLimit.error, "invalid_query"));
  const badCursor = await client.GET("/v1/profiles/{id}/versions", {
    params: { path: { id }, query: { cursor: "abc" } },
  });
  expectStatus("listProfileVersions cursor not issued -> 400 invalid_query", badCursor.response, 400,
    isProblem(badCursor.error, "invalid_query"));

  // the version pinned by the current digest: the bytes and ETag of GET /v1/profiles/{id}
  const pin = { params: { path: { id, digest } } };
  const v = await client.GET("/v1/profiles/{id}/versions/{digest}", pin);
  const pinned: Schemas["Profile"] | undefined = v.data;
  expectStatus("getProfileVersion (current digest) = GET /v1/profiles/{id}, immutable", v.response, 200,
    pinned?.digest === digest && pinned.id === id && !pinned.stale &&
      JSON.stringify(pinned) === JSON.stringify(prof.data) && pinnedHeaders(v.response, digest) &&
      v.response.headers.get("ETag") === prof.response.headers.get("ETag"),
    `Cache-Control ${v.response.headers.get("Cache-Control")}, ` +
      `ETag ${v.response.headers.get("ETag")} vs ${prof.response.headers.get("ETag")}`);
  const vEtag = v.response.headers.get("ETag") ?? "";
  const v304 = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id, digest }, header: { "If-None-Match": vEtag } },
  });
  expectStatus("getProfileVersion If-None-Match -> 304 (immutable)", v304.response, 304,
    pinnedHeaders(v304.response, digest));
  const hex = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id, digest: digest.slice("sha256:".length).toUpperCase() } },
  });
  expectStatus("getProfileVersion by the 64 digits alone (upper case)", hex.response, 200,
    hex.data?.digest === digest && hex.response.headers.get("Roster-Digest") === digest);
  const invalid = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id, digest: "sha256:abc" } },
  });
  expectStatus("getProfileVersion sha256:abc -> 400 invalid_digest", invalid.response, 400,
    isProblem(invalid.error, "invalid_digest") && invalid.response.headers.get("Cache-Control") === "no-store");
  const unknown = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id, digest: zeroDigest } },
  });
  expectStatus("getProfileVersion unknown digest -> 404 version_not_found", unknown.response, 404,
    isProblem(unknown.error, "version_not_found"));
  const otherProfile = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id: "base", digest } },
  });
  expectStatus("getProfileVersion another profile's digest -> 404 version_not_found", otherProfile.response, 404,
    isProblem(otherProfile.error, "version_not_found"));
  const noProfile = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id: "nobody", digest } },
  });
  expectStatus("getProfileVersion unknown profile -> 404 profile_not_found", noProfile.response, 404,
    isProblem(noProfile.error, "profile_not_found"));

  // its prompt: Markdown by default, the PromptDocument with Accept: application/json
  const md = await client.GET("/v1/profiles/{id}/prompt", { ...path, parseAs: "text" });
  const vmd = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", { ...pin, parseAs: "text" });
  const text: string = vmd.data ?? "";
  expectStatus("getProfileVersionPrompt (Markdown) = GET .../prompt, immutable, Vary: Accept", vmd.response, 200,
    text.startsWith("# ") && text === md.data && pinnedHeaders(vmd.response, digest) &&
      (vmd.response.headers.get("Content-Type") ?? "").startsWith("text/markdown") &&
      (vmd.response.headers.get("Vary") ?? "").startsWith("Accept, Accept-Encoding") &&
      vmd.response.headers.get("ETag") === md.response.headers.get("ETag"),
    `Vary ${vmd.response.headers.get("Vary")}, ETag ${vmd.response.headers.get("ETag")}`);
  const acceptJson: components["parameters"]["PromptAccept"] = "application/json";
  const pj = await client.GET("/v1/profiles/{id}/prompt", { ...path, headers: { Accept: acceptJson } });
  const vj = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    ...pin, headers: { Accept: acceptJson },
  });
  const doc: Schemas["PromptDocument"] | undefined = vj.data;
  expectStatus("getProfileVersionPrompt (Accept: application/json) = the PromptDocument", vj.response, 200,
    doc?.id === id && /^[0-9a-f]{64}$/.test(doc.sha256) && doc.prompt === text &&
      JSON.stringify(doc) === JSON.stringify(pj.data) && pinnedHeaders(vj.response, digest) &&
      vj.response.headers.get("Content-Type") === "application/json",
    JSON.stringify(doc).slice(0, 200));
  const mdEtag = vmd.response.headers.get("ETag") ?? "";
  const p304 = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    params: { path: { id, digest }, header: { "If-None-Match": mdEtag } }, parseAs: "text",
  });
  expectStatus("getProfileVersionPrompt If-None-Match -> 304", p304.response, 304,
    pinnedHeaders(p304.response, digest));
  const other = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    params: { path: { id, digest }, header: { "If-None-Match": mdEtag } }, headers: { Accept: acceptJson },
  });
  expectStatus("getProfileVersionPrompt the Markdown ETag with Accept: application/json -> 200", other.response, 200,
    other.data?.id === id);
  const pInvalid = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    params: { path: { id, digest: "0".repeat(63) } }, parseAs: "text",
  });
  expectStatus("getProfileVersionPrompt 63 digits -> 400 invalid_digest", pInvalid.response, 400,
    isProblem(pInvalid.error, "invalid_digest"));
  const pUnknown = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    params: { path: { id, digest: zeroDigest } }, headers: { Accept: acceptJson },
  });
  expectStatus("getProfileVersionPrompt unknown digest -> 404 version_not_found", pUnknown.response, 404,
    isProblem(pUnknown.error, "version_not_found"));

  const heads: [string, Promise<{ response: Response }>, number, string][] = [
    ["headProfileVersions", client.HEAD("/v1/profiles/{id}/versions", path), 200, ""],
    ["headProfileVersion", client.HEAD("/v1/profiles/{id}/versions/{digest}", pin), 200, digest],
    ["headProfileVersionPrompt", client.HEAD("/v1/profiles/{id}/versions/{digest}/prompt", pin), 200, digest],
    ["headProfileVersion unknown digest -> 404",
      client.HEAD("/v1/profiles/{id}/versions/{digest}", { params: { path: { id, digest: zeroDigest } } }), 404, ""],
    ["optionsProfileVersions", client.OPTIONS("/v1/profiles/{id}/versions", path), 204, ""],
    ["optionsProfileVersion", client.OPTIONS("/v1/profiles/{id}/versions/{digest}", pin), 204, ""],
    ["optionsProfileVersionPrompt", client.OPTIONS("/v1/profiles/{id}/versions/{digest}/prompt", pin), 204, ""],
  ];
  for (const [name, p, status, pinnedDigest] of heads) {
    const { response } = await p;
    const allow = response.headers.get("Allow");
    expectStatus(name, response, status,
      status !== 204 || allow === "GET, HEAD, OPTIONS",
      `Allow ${allow}`);
    if (pinnedDigest) check(`${name}: immutable, Roster-Digest`, pinnedHeaders(response, pinnedDigest));
  }
});

await step("versions (stored)", async () => {
  const id = "ct-versions";
  const path = { params: { path: { id } } };
  const profilesDir = process.env.PROFILES_DIR ?? "";
  const historyDir = process.env.HISTORY_DIR ?? "";
  // version one, as the unversioned routes send it now
  const before = await client.GET("/v1/profiles/{id}", { ...path, parseAs: "text" });
  const oldBody: string = before.data ?? "";
  const oldEtag = before.response.headers.get("ETag") ?? "";
  const oldDigest: Schemas["Digest"] = before.response.headers.get("Roster-Digest") ?? "";
  const oldMd = (await client.GET("/v1/profiles/{id}/prompt", { ...path, parseAs: "text" })).data ?? "";
  const acceptJson: components["parameters"]["PromptAccept"] = "application/json";
  const oldJson = (await client.GET("/v1/profiles/{id}/prompt", {
    ...path, parseAs: "text", headers: { Accept: acceptJson },
  })).data ?? "";
  // the store records each snapshot on its own thread: wait for version one's file
  const stored = join(historyDir, "profiles", id, `${oldDigest.slice("sha256:".length)}.v1`);
  for (let i = 0; i < 100 && !existsSync(stored); i++) await sleep(100);
  check("ct-versions: version one is in the history store", existsSync(stored), `no ${stored}`);
  // version two, and a reload
  const file = join(profilesDir, "ct-versions.md");
  writeFileSync(file, readFileSync(file, "utf8").replaceAll("ersion one", "ersion two"));
  const gen: number = (await client.GET("/ready")).data?.generation ?? 0;
  const reload = await client.POST("/v1/admin/reload", { headers: { Authorization: `Bearer ${token}` } });
  let now = gen;
  for (let i = 0; i < 100 && now <= gen; i++) {
    await sleep(100);
    now = (await client.GET("/ready")).data?.generation ?? gen;
  }
  const cur = await client.GET("/v1/profiles/{id}", path);
  const newDigest: Schemas["Digest"] = cur.data?.digest ?? "";
  check("ct-versions: edited and reloaded (a new digest)",
    reload.response.status === 202 && now > gen && newDigest !== oldDigest && /^sha256:/.test(oldDigest) &&
      (cur.data?.description ?? "").startsWith("Version two"),
    `reload ${reload.response.status}, generation ${gen} -> ${now}, digest ${oldDigest} -> ${newDigest}`);

  // the listing: newest first, the current one first; then limit=1 and the cursor
  const list = await client.GET("/v1/profiles/{id}/versions", path);
  const items: Schemas["ProfileVersion"][] = list.data?.items ?? [];
  expectStatus("listProfileVersions (two versions, newest first)", list.response, 200,
    JSON.stringify(items.map((i) => [i.digest, i.current])) ===
      JSON.stringify([[newDigest, true], [oldDigest, false]]) &&
      (items[0]?.first_seen ?? 0) >= (items[1]?.first_seen ?? 0) && list.data?.next_cursor === null &&
      list.response.headers.get("Roster-Digest") === newDigest,
    JSON.stringify(list.data).slice(0, 400));
  const p1 = await client.GET("/v1/profiles/{id}/versions", { params: { path: { id }, query: { limit: 1 } } });
  const cursor: string | null = p1.data?.next_cursor ?? null;
  expectStatus("listProfileVersions limit=1 (page 1: the current version, a cursor)", p1.response, 200,
    p1.data?.items.length === 1 && p1.data.items[0]?.digest === newDigest && cursor !== null);
  const p2 = await client.GET("/v1/profiles/{id}/versions", {
    params: { path: { id }, query: { limit: 1, cursor: cursor ?? undefined } },
  });
  const last: Schemas["ProfileVersion"] | undefined = p2.data?.items[0];
  expectStatus("listProfileVersions limit=1&cursor (page 2: version one, the last page)", p2.response, 200,
    p2.data?.items.length === 1 && last?.digest === oldDigest && !last.current &&
      last.link === `/v1/profiles/${id}/versions/${oldDigest}` && p2.data.next_cursor === null,
    JSON.stringify(p2.data).slice(0, 400));

  // version one from the store: byte for byte what the unversioned routes sent
  const pin = { params: { path: { id, digest: oldDigest } } };
  const raw = await client.GET("/v1/profiles/{id}/versions/{digest}", { ...pin, parseAs: "text" });
  expectStatus("getProfileVersion (stored) byte-identical, same ETag, immutable", raw.response, 200,
    raw.data === oldBody && raw.response.headers.get("ETag") === oldEtag && pinnedHeaders(raw.response, oldDigest),
    `ETag ${raw.response.headers.get("ETag")} vs ${oldEtag}, ${(raw.data ?? "").length} vs ${oldBody.length} bytes`);
  const typed = await client.GET("/v1/profiles/{id}/versions/{digest}", pin);
  const one: Schemas["Profile"] | undefined = typed.data;
  expectStatus("getProfileVersion (stored, typed)", typed.response, 200,
    one?.digest === oldDigest && (one.description ?? "").startsWith("Version one") && !one.stale);
  const s304 = await client.GET("/v1/profiles/{id}/versions/{digest}", {
    params: { path: { id, digest: oldDigest }, header: { "If-None-Match": oldEtag } },
  });
  expectStatus("getProfileVersion (stored) If-None-Match -> 304", s304.response, 304,
    pinnedHeaders(s304.response, oldDigest));
  const smd = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", { ...pin, parseAs: "text" });
  expectStatus("getProfileVersionPrompt (stored, Markdown) byte-identical", smd.response, 200,
    smd.data === oldMd && (smd.data ?? "").includes("version one") && pinnedHeaders(smd.response, oldDigest));
  const sj = await client.GET("/v1/profiles/{id}/versions/{digest}/prompt", {
    ...pin, parseAs: "text", headers: { Accept: acceptJson },
  });
  expectStatus("getProfileVersionPrompt (stored, Accept: application/json) byte-identical", sj.response, 200,
    sj.data === oldJson && sj.response.headers.get("Content-Type") === "application/json" &&
      pinnedHeaders(sj.response, oldDigest));
  const sh = await client.HEAD("/v1/profiles/{id}/versions/{digest}/prompt", {
    ...pin, headers: { Accept: acceptJson },
  });
  expectStatus("headProfileVersionPrompt (stored, Accept: application/json)", sh.response, 200,
    sh.response.headers.get("Content-Type") === "application/json" && pinnedHeaders(sh.response, oldDigest));

  // what changed from version one to version two (the typed comparison)
  const pair = { params: { path: { id, digest: oldDigest, other: newDigest } } };
  const diff = await client.GET("/v1/profiles/{id}/versions/{digest}/diff/{other}", pair);
  const change: Schemas["ProfileVersionDiff"] | undefined = diff.data;
  expectStatus("getProfileVersionDiff (stored -> current)", diff.response, 200,
    change?.from === oldDigest && change.to === newDigest && change.changed &&
      (change.prompt_diff ?? "").includes("+") && change.prompt_lines.added > 0 &&
      (change.fields["description"] !== undefined) &&
      diff.response.headers.get("Cache-Control") === "public, max-age=31536000, immutable",
    JSON.stringify(change).slice(0, 400));
  const same = await client.GET("/v1/profiles/{id}/versions/{digest}/diff/{other}", {
    params: { path: { id, digest: newDigest, other: newDigest } },
  });
  expectStatus("getProfileVersionDiff (a version with itself: no change)", same.response, 200,
    same.data?.changed === false && same.data.prompt_diff === null);
  const dBad = await client.GET("/v1/profiles/{id}/versions/{digest}/diff/{other}", {
    params: { path: { id, digest: oldDigest, other: "0".repeat(64) } },
  });
  expectStatus("getProfileVersionDiff unknown version -> 404 version_not_found", dBad.response, 404,
    isProblem(dBad.error, "version_not_found"));
  expectStatus("headProfileVersionDiff",
    (await client.HEAD("/v1/profiles/{id}/versions/{digest}/diff/{other}", pair)).response, 200);
  const dOpt = await client.OPTIONS("/v1/profiles/{id}/versions/{digest}/diff/{other}", pair);
  expectStatus("optionsProfileVersionDiff", dOpt.response, 204, dOpt.response.headers.get("Allow") === "GET, HEAD, OPTIONS");
});

// ---------------------------------------------------------------- facets, diagnostics
await step("facets/diagnostics", async () => {
  const f = await client.GET("/v1/facets");
  const perCategory: Record<string, number> = f.data?.categories ?? {};
  expectStatus("getFacets", f.response, 200, perCategory["worker"] === 2 && (f.data?.extends["base"] ?? 0) >= 1);
  expectStatus("headFacets", (await client.HEAD("/v1/facets")).response, 200);
  expectStatus("optionsFacets", (await client.OPTIONS("/v1/facets")).response, 204);
  const d = await client.GET("/v1/diagnostics", { params: { query: { severity: "error" } } });
  const items: Schemas["Diagnostic"][] = d.data?.items ?? [];
  const errors: number = d.data?.counts.error ?? -1;
  expectStatus("getDiagnostics severity=error", d.response, 200,
    items.some((i) => i.file === "ct-broken.md" && i.severity === "error") && errors === items.length);
  expectStatus("headDiagnostics", (await client.HEAD("/v1/diagnostics")).response, 200);
  expectStatus("optionsDiagnostics", (await client.OPTIONS("/v1/diagnostics")).response, 204);
});

// ---------------------------------------------------------------- events
await step("events", async () => {
  const ac = new AbortController();
  const { data, response } = await client.GET("/v1/events", {
    parseAs: "stream", signal: ac.signal, headers: { Accept: "text/event-stream" },
  });
  let text = "";
  if (data) {
    const reader = data.getReader();
    const timer = setTimeout(() => ac.abort(), 5000);
    try {
      while (!text.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }
  expectStatus("getEvents (stream opens with retry: 2000)", response, 200,
    response.headers.get("Content-Type") === "text/event-stream" && text.startsWith("retry: 2000\n"), text);
  const gap = new AbortController();
  const other: Schemas["EventId"] = "000000000000-1";
  const g = await client.GET("/v1/events", {
    parseAs: "stream", signal: gap.signal, params: { header: { "Last-Event-ID": other } },
    headers: { Accept: "text/event-stream" },
  });
  let gtext = "";
  if (g.data) {
    const reader = g.data.getReader();
    const timer = setTimeout(() => gap.abort(), 5000);
    try {
      while (!gtext.includes("event: gap") || !gtext.endsWith("\n\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        gtext += new TextDecoder().decode(value);
      }
    } catch { /* aborted */ } finally {
      clearTimeout(timer);
      gap.abort();
    }
  }
  const m = /event: gap\ndata: (.*)\n/.exec(gtext);
  const gapData = m ? (JSON.parse(m[1] ?? "null") as Schemas["EventGap"]) : null;
  expectStatus("getEvents Last-Event-ID of another boot -> gap event", g.response, 200,
    gapData?.reason === "other_boot" && gapData.requested === other, gtext);
  const bad = await client.GET("/v1/events", {
    params: { header: { "Last-Event-ID": "42" } }, headers: { Accept: "text/event-stream" },
  });
  expectStatus("getEvents Last-Event-ID 42 -> 400", bad.response, 400, isProblem(bad.error, "invalid_last_event_id"));
  const h = await client.HEAD("/v1/events", { headers: { Accept: "text/event-stream" } });
  expectStatus("headEvents -> 200 with the stream's headers", h.response, 200,
    h.response.headers.get("Content-Type") === "text/event-stream" &&
      h.response.headers.get("X-Accel-Buffering") === "no",
    `Content-Type ${h.response.headers.get("Content-Type")}, X-Accel-Buffering ${h.response.headers.get("X-Accel-Buffering")}`);
  const o = await client.OPTIONS("/v1/events");
  expectStatus("optionsEvents", o.response, 204, o.response.headers.get("Allow") === "GET, HEAD, OPTIONS");
});

// ---------------------------------------------------------------- admin
await step("admin", async () => {
  const none = await client.POST("/v1/admin/reload");
  expectStatus("postAdminReload without token -> 401", none.response, 401,
    isProblem(none.error, "unauthorized") && (none.response.headers.get("WWW-Authenticate") ?? "").startsWith("Bearer"));
  const wrong = await client.POST("/v1/admin/reload", { headers: { Authorization: "Bearer " + "w".repeat(24) } });
  expectStatus("postAdminReload wrong token -> 403", wrong.response, 403, isProblem(wrong.error, "forbidden"));
  const ok = await client.POST("/v1/admin/reload", { headers: { Authorization: `Bearer ${token}` } });
  const accepted: "accepted" | undefined = ok.data?.status;
  expectStatus("postAdminReload -> 202", ok.response, 202, accepted === "accepted");
  expectStatus("optionsAdminReload", (await client.OPTIONS("/v1/admin/reload")).response, 204);
});

// ---------------------------------------------------------------- meta
await step("meta", async () => {
  const spec = await client.GET("/openapi.yaml", { parseAs: "text", headers: { Accept: "application/yaml" } });
  const want = readFileSync(process.env.CONTRACT_SPEC ?? "", "utf8");
  expectStatus("getOpenapi (the served spec is the one the types came from)", spec.response, 200,
    spec.data === want, "served /openapi.yaml differs from CONTRACT_SPEC (rebuild rosterd?)");
  const specJson = await client.GET("/openapi.yaml", { headers: { Accept: "application/json" } });
  expectStatus("getOpenapi Accept: application/json -> 406", specJson.response, 406);
  const health = await client.GET("/health");
  const status: "ok" | undefined = health.data?.status;
  expectStatus("getHealth", health.response, 200, status === "ok");
  const ready = await client.GET("/ready");
  const counts: Schemas["Ready"]["profiles"] | undefined = ready.data?.profiles;
  const listed = await client.GET("/v1/profiles", { params: { query: { limit: 500 } } });
  expectStatus("getReady (served + stale = listed, invalid = ct-broken)", ready.response, 200,
    counts !== undefined && counts.invalid === 1 && counts.served + counts.stale === listed.data?.total,
    JSON.stringify(counts));
  const metrics = await client.GET("/metrics", { parseAs: "text" });
  expectStatus("getMetrics", metrics.response, 200, (metrics.data ?? "").includes("roster_ready 1"));
  const version = await client.GET("/version");
  const name: "rosterd" | undefined = version.data?.name;
  expectStatus("getVersion", version.response, 200, name === "rosterd" && typeof version.data?.revision === "string");
  const q = await client.GET("/health", { querySerializer: () => "x=1" });
  expectStatus("getHealth ?x=1 -> 400 unknown_parameter", q.response, 400, isProblem(q.error, "unknown_parameter"),
    JSON.stringify(q.error));
  for (const p of ["/openapi.yaml", "/health", "/ready", "/metrics", "/version"] as const) {
    expectStatus(`HEAD ${p}`, (await client.HEAD(p)).response, 200);
    expectStatus(`OPTIONS ${p}`, (await client.OPTIONS(p)).response, 204);
  }
});

// ---------------------------------------------------------------- mcp
// /mcp is JSON-RPC 2.0 (MCP Streamable HTTP, docs/mcp.md): the bodies are typed
// from the contract's JsonRpc* schemas; results are the MCP schema's, not the contract's.
type RpcError = Schemas["JsonRpcError"];
function rpcCode(e: unknown): number | null {
  if (typeof e !== "object" || e === null || !("jsonrpc" in e)) return null;
  const err: RpcError = e as RpcError;
  return err.id === null ? err.error.code : null;
}

await step("mcp", async () => {
  const accept = { Accept: "application/json, text/event-stream" };
  const init: Schemas["JsonRpcRequest"] = {
    jsonrpc: "2.0", id: 1, method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "contract", version: "1" } },
  };
  const first = await client.POST("/mcp", { body: init, headers: accept });
  const sid = first.response.headers.get("Mcp-Session-Id") ?? "";
  const answer: Schemas["JsonRpcResponse"] | Schemas["JsonRpcError"] | undefined = first.data;
  const result = answer !== undefined && "result" in answer ? answer.result : undefined;
  expectStatus("postMcp initialize -> 200 with Mcp-Session-Id", first.response, 200,
    /^[0-9a-f]{32}$/.test(sid) && answer?.id === 1 && result?.["protocolVersion"] === "2025-11-25" &&
      first.response.headers.get("Cache-Control") === "no-store",
    JSON.stringify(answer).slice(0, 300));
  const session = { header: { "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" as const } };
  const initialized: Schemas["JsonRpcNotification"] = { jsonrpc: "2.0", method: "notifications/initialized" };
  const note = await client.POST("/mcp", { params: session, body: initialized, headers: accept });
  expectStatus("postMcp notification -> 202 (no body)", note.response, 202,
    note.data === undefined && note.response.headers.get("Content-Length") === "0");
  const ping = await client.POST("/mcp", {
    params: session, body: { jsonrpc: "2.0", id: "p-1", method: "ping" }, headers: accept,
  });
  const pong = ping.data !== undefined && "result" in ping.data ? ping.data : undefined;
  expectStatus("postMcp ping -> 200 {}", ping.response, 200,
    pong?.id === "p-1" && JSON.stringify(pong.result) === "{}", JSON.stringify(ping.data));
  const get = await client.POST("/mcp", {
    params: session, headers: accept,
    body: { jsonrpc: "2.0", id: 2, method: "prompts/get", params: { name: "ct-template", arguments: { task: "t" } } },
  });
  const rendered = get.data !== undefined && "result" in get.data ? get.data.result : undefined;
  expectStatus("postMcp prompts/get", get.response, 200,
    JSON.stringify(rendered?.["messages"] ?? "").includes("Do this: t, in Go."),
    JSON.stringify(get.data).slice(0, 300));
  const unknown = await client.POST("/mcp", {
    params: session, headers: accept, body: { jsonrpc: "2.0", id: 3, method: "tools/list" },
  });
  const err: RpcError | undefined = unknown.data !== undefined && "error" in unknown.data ? unknown.data : undefined;
  expectStatus("postMcp unknown method -> 200 with error -32601", unknown.response, 200,
    err?.id === 3 && err.error.code === -32601, JSON.stringify(unknown.data));
  const noSession = await client.POST("/mcp", { body: { jsonrpc: "2.0", id: 4, method: "ping" }, headers: accept });
  expectStatus("postMcp without Mcp-Session-Id -> 400 -32600", noSession.response, 400,
    rpcCode(noSession.error) === -32600);
  const version = await client.POST("/mcp", {
    params: { header: { "Mcp-Session-Id": sid } }, body: { jsonrpc: "2.0", id: 5, method: "ping" },
    headers: { ...accept, "MCP-Protocol-Version": "2024-11-05" },
  });
  expectStatus("postMcp MCP-Protocol-Version 2024-11-05 -> 400", version.response, 400,
    rpcCode(version.error) === -32600);
  const origin = await client.POST("/mcp", { body: init, headers: { ...accept, Origin: "http://evil.example" } });
  expectStatus("postMcp foreign Origin -> 403", origin.response, 403, rpcCode(origin.error) === -32600);
  // the session's stream: retry first; a second GET would end it
  const ac = new AbortController();
  const stream = await client.GET("/mcp", {
    params: { header: { "Mcp-Session-Id": sid, Accept: "text/event-stream" } }, parseAs: "stream", signal: ac.signal,
    headers: { Accept: "text/event-stream" },
  });
  let text = "";
  if (stream.data) {
    const reader = stream.data.getReader();
    const timer = setTimeout(() => ac.abort(), 5000);
    try {
      while (!text.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } catch { /* aborted */ } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }
  expectStatus("getMcp (stream opens with retry: 2000)", stream.response, 200,
    stream.response.headers.get("Content-Type") === "text/event-stream" &&
      stream.response.headers.get("Mcp-Session-Id") === sid && text.startsWith("retry: 2000\n"), text);
  // (the Accept of params.header is what is sent: it must be the one that is refused)
  const notAcceptable = await client.GET("/mcp", {
    params: { header: { "Mcp-Session-Id": sid, Accept: "application/json" } },
  });
  expectStatus("getMcp Accept: application/json -> 406", notAcceptable.response, 406,
    rpcCode(notAcceptable.error) === -32600);
  const del = await client.DELETE("/mcp", { params: session });
  expectStatus("deleteMcp -> 204", del.response, 204);
  const gone = await client.POST("/mcp", {
    params: session, body: { jsonrpc: "2.0", id: 6, method: "ping" }, headers: accept,
  });
  expectStatus("postMcp after DELETE -> 404 -32001", gone.response, 404, rpcCode(gone.error) === -32001);
  const delAgain = await client.DELETE("/mcp", { params: session });
  expectStatus("deleteMcp again -> 404", delAgain.response, 404, rpcCode(delAgain.error) === -32001);
  const o = await client.OPTIONS("/mcp");
  expectStatus("optionsMcp", o.response, 204, o.response.headers.get("Allow") === "GET, POST, DELETE, OPTIONS");
});

// ---------------------------------------------------------------- coverage
const spec = readFileSync(process.env.CONTRACT_SPEC ?? "", "utf8");
const declared = new Set<string>();
let current = "";
for (const line of spec.split("\n")) {
  const p = /^ {2}(\/[^:]*):$/.exec(line);
  if (p?.[1]) current = p[1];
  const m = /^ {4}(get|head|options|post|put|patch|delete):$/.exec(line);
  if (m?.[1] && current) declared.add(`${m[1]} ${current}`);
  if (/^components:/.test(line)) break;
}
const missing = [...declared].filter((d) => !exercised.has(d));
check(`every operation was called (${declared.size})`, missing.length === 0 && declared.size > 0,
  `not called: ${missing.join(", ")}`);
console.log(`ts client: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
