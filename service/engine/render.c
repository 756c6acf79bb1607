/* Building the profile JSON once per snapshot. */
#include "roster_render.h"

#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_extract.h"
#include "roster_resolve.h"
#include "roster_text.h"

static const struct {
    const char *name;
    const char *key;
} VIEWS[ROSTER_VIEW_COUNT] = {
    [ROSTER_VIEW_PROFILE] = {"profile", NULL},
    [ROSTER_VIEW_ROLE] = {"role", "role"},
    [ROSTER_VIEW_COMPETENCIES] = {"competencies", "competencies"},
    [ROSTER_VIEW_WORK_PATTERNS] = {"work-patterns", "work_patterns"},
    [ROSTER_VIEW_TOOL_PRIORITIES] = {"tool-priorities", "tool_priorities"},
    [ROSTER_VIEW_OUTPUT_STANDARDS] = {"output-standards", "output_standards"},
    [ROSTER_VIEW_ANTI_PATTERNS] = {"anti-patterns", "anti_patterns"},
    [ROSTER_VIEW_SECTIONS] = {"sections", "sections"},
    [ROSTER_VIEW_LINEAGE] = {"lineage", "lineage"},
    [ROSTER_VIEW_PROMPT] = {"prompt", NULL},
    [ROSTER_VIEW_SOURCE] = {"source", NULL},
};

const char *roster_view_name(enum roster_view v)
{
    return v < ROSTER_VIEW_COUNT ? VIEWS[v].name : NULL;
}

const char *roster_view_key(enum roster_view v)
{
    return v < ROSTER_VIEW_COUNT ? VIEWS[v].key : NULL;
}

int roster_view_parse(const char *name, size_t len, enum roster_view *out)
{
    for (int v = 0; v < ROSTER_VIEW_COUNT; v++) {
        if (strlen(VIEWS[v].name) == len && memcmp(VIEWS[v].name, name, len) == 0) {
            *out = (enum roster_view)v;
            return 0;
        }
    }
    return ROSTER_EINVAL;
}

/* Top-level fields are strings: a typed scalar is shown in its JSON form. */
static json_t *meta_text(const json_t *meta, const char *key)
{
    json_t *v = json_object_get(meta, key);
    if (json_is_string(v))
        return json_incref(v);
    if (json_is_number(v) || json_is_boolean(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        json_t *r = s ? json_string(s) : NULL;
        roster_free(s);
        return r;
    }
    return json_null();
}

static json_t *lineage(const struct roster_profile *p)
{
    json_t *a = json_array();
    for (size_t c = p->nchain; a && c-- > 0;) {
        if (json_array_append_new(a, json_string(p->chain[c]->id))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *own_diagnostics(const struct roster_profile *p, const struct roster_diags *diags)
{
    json_t *a = json_array();
    for (size_t i = 0; a && diags && i < roster_diags_count(diags); i++) {
        const struct roster_diag *g = roster_diags_get(diags, i);
        if (!g->file || strcmp(g->file, p->doc->relpath) != 0)
            continue;
        if (json_array_append_new(a, roster_diag_to_json(g))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int set(json_t *o, const char *k, json_t *v)
{
    return !v || json_object_set_new(o, k, v);
}

json_t *roster_render_profile(const struct roster_profile *p, const struct roster_diags *diags)
{
    json_t *o = json_object(), *src = json_object();
    json_t *ext = json_object_get(p->doc->meta, "extends");
    if (!o || !src || set(src, "path", json_string(p->doc->relpath)) ||
        set(src, "sha256", json_string(p->doc->sha256)))
        goto fail;
    if (set(o, "id", json_string(p->doc->id)) || set(o, "name", meta_text(p->meta, "name")) ||
        set(o, "category", meta_text(p->meta, "category")) ||
        set(o, "description", meta_text(p->meta, "description")) ||
        set(o, "version", meta_text(p->meta, "version")) ||
        set(o, "extends", ext ? json_deep_copy(ext) : json_null()) ||
        set(o, "lineage", lineage(p)) || set(o, "metadata", json_deep_copy(p->meta)) ||
        set(o, "role", roster_extract_role(p)) ||
        set(o, "competencies", roster_extract_competencies(p)) ||
        set(o, "work_patterns", roster_extract_work_patterns(p)) ||
        set(o, "tool_priorities", roster_extract_tool_priorities(p)) ||
        set(o, "output_standards", roster_extract_output_standards(p)) ||
        set(o, "anti_patterns", roster_extract_anti_patterns(p)) ||
        set(o, "sections", roster_extract_sections(p)) || set(o, "source", json_incref(src)) ||
        set(o, "diagnostics", own_diagnostics(p, diags)) || set(o, "stale", json_false()))
        goto fail;
    json_decref(src);
    return o;
fail:
    json_decref(src);
    json_decref(o);
    return NULL;
}

json_t *roster_render_view(const json_t *profile, enum roster_view v)
{
    const char *key = roster_view_key(v);
    json_t *o = json_object();
    if (!o || !key || set(o, "id", json_incref(json_object_get(profile, "id"))) ||
        set(o, key, json_incref(json_object_get(profile, key)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *roster_render_prompt(const struct roster_profile *p)
{
    char hex[65];
    roster_sha256_hex(p->prompt, p->prompt_len, hex);
    json_t *o = json_object();
    if (!o || set(o, "id", json_string(p->doc->id)) || set(o, "lineage", lineage(p)) ||
        set(o, "prompt", json_stringn(p->prompt, p->prompt_len)) ||
        set(o, "sha256", json_string(hex))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *roster_render_summary(const json_t *profile)
{
    static const char *const keys[] = {"id", "name", "category", "description", "version", NULL};
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (const char *const *k = keys; *k; k++)
        if (set(o, *k, json_incref(json_object_get(profile, *k))))
            goto fail;
    json_t *role = json_object_get(json_object_get(profile, "role"), "name");
    const char *id = json_string_value(json_object_get(profile, "id"));
    char link[200];
    snprintf(link, sizeof(link), "/v1/profiles/%s", id ? id : "");
    if (set(o, "role", role ? json_incref(role) : json_null()) ||
        set(o, "extends", json_incref(json_object_get(profile, "extends"))) ||
        set(o, "lineage", json_incref(json_object_get(profile, "lineage"))) ||
        set(o, "link", json_string(link)))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

char *roster_render_dump(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = roster_malloc(n + 2);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\n';
        out[n + 1] = '\0';
        *len = n + 1;
    }
    roster_free(s);
    return out;
}
