/* Listing queries: filters and search over the snapshot's summaries. */
#include "roster_query.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_doc.h"
#include "roster_snapshot.h"

static const char *const SUMMARY_FIELDS[] = {"id",      "name",   "category", "description",
                                             "version", "role",   "extends",  "lineage",
                                             "link",    "digest", NULL};
static const char *const PROFILE_FIELDS[] = {"id",
                                             "name",
                                             "category",
                                             "description",
                                             "version",
                                             "extends",
                                             "lineage",
                                             "metadata",
                                             "role",
                                             "competencies",
                                             "work_patterns",
                                             "tool_priorities",
                                             "output_standards",
                                             "anti_patterns",
                                             "sections",
                                             "variables",
                                             "source",
                                             "diagnostics",
                                             "stale",
                                             "digest",
                                             NULL};

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

int roster_query_summary_field(const char *name)
{
    return in_list(name, SUMMARY_FIELDS);
}

int roster_query_profile_field(const char *name)
{
    return in_list(name, PROFILE_FIELDS);
}

json_t *roster_query_project(const json_t *o, const char *const *fields, size_t n)
{
    json_t *p = json_object();
    for (size_t k = 0; p && k < n; k++) {
        json_t *v = json_object_get(o, fields[k]);
        if (v && json_object_set(p, fields[k], v)) {
            json_decref(p);
            return NULL;
        }
    }
    return p;
}

static int str_eq(const json_t *v, const char *want)
{
    const char *s = json_string_value(v);
    return s && strcmp(s, want) == 0;
}

/* extends= matches a parent as the profile's front matter writes it (what
 * the summaries show, e.g. "base") or as resolved (what facets count, e.g.
 * "role-base"), so neither spelling finds nothing. */
static int extends_match(const struct roster_sprofile *sp, const char *want)
{
    for (size_t k = 0; k < sp->nparents; k++)
        if (strcmp(sp->parents[k], want) == 0)
            return 1;
    const json_t *w = json_object_get(sp->summary, "extends");
    if (str_eq(w, want))
        return 1;
    size_t i;
    const json_t *v;
    json_array_foreach(w, i, v)
    {
        if (str_eq(v, want))
            return 1;
    }
    return 0;
}

static int matches(const struct roster_sprofile *sp, const struct roster_list_query *q,
                   const char *needle)
{
    if (!sp->ok)
        return 0;
    if (q->category && !str_eq(json_object_get(sp->summary, "category"), q->category))
        return 0;
    if (q->role && !str_eq(json_object_get(sp->summary, "role"), q->role))
        return 0;
    if (q->extends && !extends_match(sp, q->extends))
        return 0;
    return !needle || strstr(sp->haystack, needle) != NULL;
}

json_t *roster_query_list(const struct roster_snapshot *s, const struct roster_list_query *q)
{
    char *needle = NULL;
    if (q->q && *q->q) {
        needle = roster_strndup(q->q, strlen(q->q));
        if (!needle)
            return NULL;
        for (char *c = needle; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    json_t *items = json_array();
    size_t total = 0, taken = 0;
    const char *last = NULL;
    int more = 0, bad = !items;
    for (size_t i = 0; i < s->n && !bad; i++) {
        const struct roster_sprofile *sp = &s->profiles[i];
        if (!matches(sp, q, needle))
            continue;
        total++;
        if (q->after && strcmp(sp->id, q->after) <= 0)
            continue;
        if (taken == q->limit) {
            more = 1;
            continue;
        }
        json_t *item = q->nfields ? roster_query_project(sp->summary, q->fields, q->nfields)
                                  : json_incref(sp->summary);
        bad = !item || json_array_append_new(items, item);
        taken++;
        last = sp->id;
    }
    char cursor[400];
    json_t *next = json_null();
    if (!bad && more && last && roster_cursor_encode(last, cursor, sizeof(cursor)) == 0)
        next = json_string(cursor);
    roster_free(needle);
    return json_pack("{s:o, s:I, s:o}", "items", items, "total", (json_int_t)total, "next_cursor",
                     roster_json_unless(bad, next));
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int roster_cursor_encode(const char *id, char *out, size_t cap)
{
    size_t n = strlen(id), k = 0;
    const unsigned char *s = (const unsigned char *)id;
    if ((n + 2) / 3 * 4 + 1 > cap)
        return ROSTER_E2BIG;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[k++] = B64[(v >> 18) & 63];
        out[k++] = B64[(v >> 12) & 63];
        if (i + 1 < n)
            out[k++] = B64[(v >> 6) & 63];
        if (i + 2 < n)
            out[k++] = B64[v & 63];
    }
    out[k] = '\0';
    return 0;
}

int roster_cursor_decode_text(const char *cursor, char *out, size_t cap, size_t *len)
{
    size_t n = strlen(cursor), k = 0;
    unsigned v = 0, bits = 0;
    if (n == 0 || n % 4 == 1)
        return ROSTER_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(B64, cursor[i]);
        if (!p || !cursor[i])
            return ROSTER_EINVAL;
        v = (v << 6) | (unsigned)(p - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k + 1 >= cap)
                return ROSTER_EINVAL;
            out[k++] = (char)((v >> bits) & 0xFF);
        }
    }
    out[k] = '\0';
    *len = k;
    return 0;
}

int roster_cursor_decode(const char *cursor, char *out, size_t cap)
{
    /* decoded into a buffer of our own: out is written only on success */
    char id[ROSTER_ID_MAX_BUF];
    size_t k = 0;
    if (roster_cursor_decode_text(cursor, id, cap < sizeof(id) ? cap : sizeof(id), &k) < 0 ||
        !roster_id_valid(id, k))
        return ROSTER_EINVAL;
    memcpy(out, id, k + 1);
    return 0;
}
