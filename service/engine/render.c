/* Building the profile JSON once per snapshot. */
#include "roster_render.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_extract.h"
#include "roster_json.h"
#include "roster_resolve.h"
#include "roster_template.h"
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
    [ROSTER_VIEW_VARIABLES] = {"variables", "variables"},
    [ROSTER_VIEW_PROMPT] = {"prompt", NULL},
    [ROSTER_VIEW_SOURCE] = {"source", NULL},
};

const char *roster_view_name(enum roster_view v)
{
    return v < ROSTER_VIEW_COUNT ? VIEWS[v].name : NULL;
}

/* The JSON key of a view ("work_patterns"), NULL for those that are not a
 * key of the profile object. */
static const char *view_key(enum roster_view v)
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

void roster_view_names(char *buf, size_t cap, unsigned skip)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    for (int v = 0; v < ROSTER_VIEW_COUNT && used < cap; v++) {
        if (skip & (1u << v))
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", VIEWS[v].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
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

/* The declared variables (templates), [] when there are none. */
static json_t *variables_of(const struct roster_profile *p)
{
    struct roster_template *t = NULL;
    char why[300];
    if (!json_object_get(p->meta, "variables"))
        return json_array();
    if (roster_template_declared(&t, p, why, sizeof(why)) < 0)
        return NULL;
    json_t *a = roster_template_declarations(t);
    roster_template_free(t);
    return a;
}

json_t *roster_render_profile(const struct roster_profile *lean, const struct roster_diags *diags)
{
    struct roster_expanded x;
    if (roster_profile_expand(lean, &x) < 0)
        return NULL;
    const struct roster_profile *p = &x.profile;
    json_t *o = json_object(), *src = json_object();
    json_t *ext = json_object_get(p->doc->meta, "extends");
    if (!o || !src || roster_json_set(src, "path", json_string(p->doc->relpath)) ||
        roster_json_set(src, "sha256", json_string(p->doc->sha256)))
        goto fail;
    if (roster_json_set(o, "id", json_string(p->doc->id)) ||
        roster_json_set(o, "name", meta_text(p->meta, "name")) ||
        roster_json_set(o, "category", meta_text(p->meta, "category")) ||
        roster_json_set(o, "description", meta_text(p->meta, "description")) ||
        roster_json_set(o, "version", meta_text(p->meta, "version")) ||
        roster_json_set(o, "extends", ext ? json_deep_copy(ext) : json_null()) ||
        roster_json_set(o, "lineage", lineage(p)) ||
        roster_json_set(o, "metadata", json_deep_copy(p->meta)) ||
        roster_json_set(o, "role", roster_extract_role(p)) ||
        roster_json_set(o, "competencies", roster_extract_competencies(p)) ||
        roster_json_set(o, "work_patterns", roster_extract_work_patterns(p)) ||
        roster_json_set(o, "tool_priorities", roster_extract_tool_priorities(p)) ||
        roster_json_set(o, "output_standards", roster_extract_output_standards(p)) ||
        roster_json_set(o, "anti_patterns", roster_extract_anti_patterns(p)) ||
        roster_json_set(o, "sections", roster_extract_sections(p)) ||
        roster_json_set(o, "variables", variables_of(lean)) ||
        roster_json_set(o, "source", json_incref(src)) ||
        roster_json_set(o, "diagnostics", own_diagnostics(p, diags)) ||
        roster_json_set(o, "stale", json_false()))
        goto fail;
    json_decref(src);
    roster_expanded_release(&x);
    return o;
fail:
    json_decref(src);
    json_decref(o);
    roster_expanded_release(&x);
    return NULL;
}

int roster_scope_parse(const char *s, enum roster_scope *out)
{
    static const char *const NAMES[] = {"all", "own", "inherited"};
    for (int k = 0; k < 3; k++) {
        if (strcmp(s, NAMES[k]) == 0) {
            *out = (enum roster_scope)k;
            return 0;
        }
    }
    return ROSTER_EINVAL;
}

int roster_scope_applies(enum roster_view v)
{
    return v == ROSTER_VIEW_PROFILE || v == ROSTER_VIEW_COMPETENCIES ||
           v == ROSTER_VIEW_WORK_PATTERNS || v == ROSTER_VIEW_TOOL_PRIORITIES ||
           v == ROSTER_VIEW_OUTPUT_STANDARDS || v == ROSTER_VIEW_ANTI_PATTERNS ||
           v == ROSTER_VIEW_SECTIONS;
}

/* The items of array a whose "from" is (own) or is not (inherited) id. */
static json_t *items_in_scope(json_t *a, const char *id, enum roster_scope scope)
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(a, i, item)
    {
        const char *from = json_string_value(json_object_get(item, "from"));
        int own = from && strcmp(from, id) == 0;
        if (out && own == (scope == ROSTER_SCOPE_OWN) && json_array_append(out, item)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *roster_render_scoped(const json_t *profile, enum roster_scope scope)
{
    static const char *const KEYS[] = {"competencies",     "work_patterns", "tool_priorities",
                                       "output_standards", "sections",      NULL};
    const char *id = json_string_value(json_object_get(profile, "id"));
    json_t *o = json_copy((json_t *)profile); /* shallow: values are shared */
    if (!o || !id || scope == ROSTER_SCOPE_ALL)
        return o;
    for (const char *const *k = KEYS; *k; k++) {
        if (roster_json_set(o, *k, items_in_scope(json_object_get(o, *k), id, scope)))
            goto fail;
    }
    json_t *ap = json_object_get(o, "anti_patterns");
    json_t *sap =
        json_pack("{s:o, s:o}", "avoid", items_in_scope(json_object_get(ap, "avoid"), id, scope),
                  "always", items_in_scope(json_object_get(ap, "always"), id, scope));
    if (roster_json_set(o, "anti_patterns", sap) == 0)
        return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *roster_render_view(const json_t *profile, enum roster_view v)
{
    const char *key = view_key(v);
    json_t *o = json_object();
    if (!o || !key || roster_json_set(o, "id", json_incref(json_object_get(profile, "id"))) ||
        roster_json_set(o, key, json_incref(json_object_get(profile, key)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *roster_render_prompt(const struct roster_profile *p)
{
    char hex[65];
    char *prompt = roster_profile_prompt(p);
    if (!prompt)
        return NULL;
    roster_sha256_hex(prompt, p->prompt_len, hex);
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o}", "id", json_string(p->doc->id), "lineage", lineage(p),
                  "prompt", json_stringn(prompt, p->prompt_len), "sha256", json_string(hex));
    roster_free(prompt);
    return o;
}

/* The summary from its parts: the fields of the profile object that the
 * listing shows (role is the role's name). */
static json_t *summary(json_t *id, json_t *name, json_t *category, json_t *description,
                       json_t *version, json_t *role, json_t *extends, json_t *lineage_a)
{
    char link[200];
    snprintf(link, sizeof(link), "/v1/profiles/%s",
             json_is_string(id) ? json_string_value(id) : "");
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "id", id, "name", name,
                     "category", category, "description", description, "version", version, "role",
                     role, "extends", extends, "lineage", lineage_a, "link", link);
}

json_t *roster_render_summary(const json_t *profile)
{
    static const char *const keys[] = {"id",      "name",    "category", "description",
                                       "version", "extends", "lineage"};
    json_t *v[7];
    for (size_t k = 0; k < 7; k++) {
        v[k] = json_incref(json_object_get(profile, keys[k]));
        /* a missing key fails the pack below; it then drops the rest */
    }
    json_t *role = json_object_get(json_object_get(profile, "role"), "name");
    return summary(v[0], v[1], v[2], v[3], v[4], role ? json_incref(role) : json_null(), v[5],
                   v[6]);
}

json_t *roster_render_summary_of(const struct roster_profile *p)
{
    json_t *ext = json_object_get(p->doc->meta, "extends");
    json_t *role = json_object_get(p->meta, "role");
    return summary(json_string(p->doc->id), meta_text(p->meta, "name"),
                   meta_text(p->meta, "category"), meta_text(p->meta, "description"),
                   meta_text(p->meta, "version"),
                   json_is_string(role) ? json_incref(role) : json_null(),
                   ext ? json_deep_copy(ext) : json_null(), lineage(p));
}

/* Where json_dump_callback writes: jansson 2.14 ignores a failed write of
 * an object key (the key is left out and the bytes are no longer JSON), so
 * a failure is remembered here and the whole dump refused. */
struct dump_sink {
    struct roster_buf b;
    int failed;
};

static int dump_write(const char *buf, size_t size, void *data)
{
    struct dump_sink *d = data;
    if (roster_buf_append(&d->b, buf, size) < 0) {
        d->failed = 1;
        return -1;
    }
    return 0;
}

char *roster_render_dump(const json_t *j, size_t *len)
{
    struct dump_sink d = {.failed = 0};
    roster_buf_init(&d.b, ROSTER_RENDER_MAX_BYTES);
    if (json_dump_callback(j, dump_write, &d, JSON_COMPACT | JSON_ENCODE_ANY) < 0 || d.failed ||
        roster_json_shorten_reals(&d.b) < 0 || roster_buf_putc(&d.b, '\n') < 0) {
        roster_buf_release(&d.b);
        return NULL;
    }
    return roster_buf_steal(&d.b, len);
}
