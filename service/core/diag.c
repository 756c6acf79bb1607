/* Diagnostics list and its text, GitHub and JSON forms. */
#include "roster_diag.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"

struct roster_diags {
    struct roster_diag *items;
    size_t len;
    size_t cap;
    size_t dropped; /* past ROSTER_DIAGS_MAX */
    enum roster_severity dropped_worst; /* the most severe of them */
    int noted; /* the ROSTER_DIAGS_TRUNCATED entry is in items */
};

struct roster_diags *roster_diags_new(void)
{
    return roster_calloc(1, sizeof(struct roster_diags));
}

static void diag_clear(struct roster_diag *g)
{
    roster_free(g->code);
    roster_free(g->file);
    roster_free(g->message);
    roster_free(g->profile);
}

struct roster_diags *roster_diags_free(struct roster_diags *d)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->len; i++)
        diag_clear(&d->items[i]);
    roster_free(d->items);
    roster_free(d);
    return NULL;
}

static char *dup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = roster_strndup(s, strlen(s));
    if (!d)
        *failed = 1;
    return d;
}

/* Counts a diagnostic past the cap; 1 when it is dropped. */
static int over_cap(struct roster_diags *d, enum roster_severity sev)
{
    if (d->len < ROSTER_DIAGS_MAX)
        return 0;
    if (!d->dropped || sev < d->dropped_worst)
        d->dropped_worst = sev;
    d->dropped++;
    return 1;
}

/* Appends one diagnostic (the caller has checked the cap). */
static int diags_push(struct roster_diags *d, enum roster_severity sev, const char *code,
                      const char *file, unsigned line, unsigned col, const char *profile,
                      const char *msg)
{
    struct roster_diag *items = roster_grow(d->items, &d->cap, d->len, sizeof(*items), 16);
    if (!items)
        return ROSTER_ENOMEM;
    d->items = items;
    int failed = 0;
    struct roster_diag g = {
        .severity = sev,
        .code = dup_or_null(code, &failed),
        .file = dup_or_null(file, &failed),
        .line = line,
        .col = col,
        .message = dup_or_null(msg, &failed),
        .profile = dup_or_null(profile, &failed),
    };
    if (failed) {
        diag_clear(&g);
        return ROSTER_ENOMEM;
    }
    d->items[d->len++] = g;
    return 0;
}

int roster_diags_add(struct roster_diags *d, enum roster_severity sev, const char *code,
                     const char *file, unsigned line, unsigned col, const char *profile,
                     const char *fmt, ...)
{
    if (!d || over_cap(d, sev))
        return 0; /* NULL: nobody listens (a re-parse of a checked file) */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) /* cut at the buffer: fine for a message */
        msg[0] = '\0';
    va_end(ap);
    return diags_push(d, sev, code, file, line, col, profile, msg);
}

size_t roster_diags_count(const struct roster_diags *d)
{
    return d ? d->len : 0;
}

size_t roster_diags_dropped(const struct roster_diags *d)
{
    return d ? d->dropped : 0;
}

const struct roster_diag *roster_diags_get(const struct roster_diags *d, size_t i)
{
    return i < d->len ? &d->items[i] : NULL;
}

size_t roster_diags_count_severity(const struct roster_diags *d, enum roster_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; d && i < d->len; i++)
        n += d->items[i].severity == sev;
    return n;
}

static int str_cmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int diag_cmp(const void *pa, const void *pb)
{
    const struct roster_diag *a = pa, *b = pb;
    int c = str_cmp_null(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    c = str_cmp_null(a->code, b->code);
    if (c)
        return c;
    return str_cmp_null(a->message, b->message);
}

/* Adds, or brings up to date, the one diagnostic that says how many were
 * dropped; it is the only entry allowed past ROSTER_DIAGS_MAX. */
static int note_dropped(struct roster_diags *d)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%zu more diagnostics were dropped: at most %d are reported",
             d->dropped, ROSTER_DIAGS_MAX);
    for (size_t i = 0; d->noted && i < d->len; i++) {
        struct roster_diag *g = &d->items[i];
        if (g->file || !g->code || strcmp(g->code, ROSTER_DIAGS_TRUNCATED) != 0)
            continue;
        char *m = roster_strndup(msg, strlen(msg));
        if (!m)
            return ROSTER_ENOMEM;
        roster_free(g->message);
        g->message = m;
        g->severity = d->dropped_worst;
        return 0;
    }
    int r = diags_push(d, d->dropped_worst, ROSTER_DIAGS_TRUNCATED, NULL, 0, 0, NULL, msg);
    d->noted = r == 0;
    return r;
}

int roster_diags_append(struct roster_diags *d, const struct roster_diags *src, const char *profile)
{
    for (size_t i = 0; src && i < src->len; i++) {
        const struct roster_diag *g = &src->items[i];
        if (over_cap(d, g->severity))
            continue;
        int r = diags_push(d, g->severity, g->code, g->file, g->line, g->col,
                           g->profile ? g->profile : profile, g->message);
        if (r < 0)
            return r;
    }
    if (src && src->dropped) { /* what src dropped counts as dropped here too */
        if (!d->dropped || src->dropped_worst < d->dropped_worst)
            d->dropped_worst = src->dropped_worst;
        d->dropped += src->dropped;
    }
    return 0;
}

int roster_diags_sort(struct roster_diags *d)
{
    if (!d)
        return 0;
    int r = d->dropped ? note_dropped(d) : 0;
    if (d->len > 1)
        qsort(d->items, d->len, sizeof(d->items[0]), diag_cmp);
    return r;
}

int roster_diags_set_profile(struct roster_diags *d, const char *file, const char *profile)
{
    for (size_t i = 0; i < d->len; i++) {
        struct roster_diag *g = &d->items[i];
        if (g->profile || !g->file || strcmp(g->file, file) != 0)
            continue;
        g->profile = roster_strndup(profile, strlen(profile));
        if (!g->profile)
            return ROSTER_ENOMEM;
    }
    return 0;
}

const char *roster_severity_name(enum roster_severity sev)
{
    switch (sev) {
    case ROSTER_SEV_ERROR:
        return "error";
    case ROSTER_SEV_WARNING:
        return "warning";
    default:
        return "info";
    }
}

int roster_severity_parse(const char *s, enum roster_severity *out)
{
    static const char *names[] = {"error", "warning", "info"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum roster_severity)i;
            return 0;
        }
    }
    return ROSTER_EINVAL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *roster_diag_to_json(const struct roster_diag *g)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "severity", json_string(roster_severity_name(g->severity)));
    bad |= json_object_set_new(o, "code", str_or_null(g->code));
    bad |= json_object_set_new(o, "file", str_or_null(g->file));
    bad |= json_object_set_new(o, "line", g->line ? json_integer(g->line) : json_null());
    bad |= json_object_set_new(o, "column", g->col ? json_integer(g->col) : json_null());
    bad |= json_object_set_new(o, "message", str_or_null(g->message));
    bad |= json_object_set_new(o, "profile", str_or_null(g->profile));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int roster_diag_format_text(const struct roster_diag *g, struct roster_buf *b)
{
    return roster_buf_printf(b, "%s:%u:%u: %s: %s [%s]\n", g->file ? g->file : "-", g->line, g->col,
                             roster_severity_name(g->severity), g->message ? g->message : "",
                             g->code ? g->code : "");
}

/* GitHub annotation values escape %, CR and LF; properties also , and :. */
static int put_escaped(struct roster_buf *b, const char *s, int property)
{
    int r = 0;
    for (; s && *s && r == 0; s++) {
        switch (*s) {
        case '%':
            r = roster_buf_puts(b, "%25");
            break;
        case '\r':
            r = roster_buf_puts(b, "%0D");
            break;
        case '\n':
            r = roster_buf_puts(b, "%0A");
            break;
        case ',':
            r = property ? roster_buf_puts(b, "%2C") : roster_buf_putc(b, ',');
            break;
        case ':':
            r = property ? roster_buf_puts(b, "%3A") : roster_buf_putc(b, ':');
            break;
        default:
            r = roster_buf_putc(b, *s);
        }
    }
    return r;
}

int roster_diag_format_github(const struct roster_diag *g, struct roster_buf *b)
{
    const char *kind = g->severity == ROSTER_SEV_ERROR     ? "error"
                       : g->severity == ROSTER_SEV_WARNING ? "warning"
                                                           : "notice";
    int r = roster_buf_printf(b, "::%s ", kind);
    if (!r && g->file) {
        r = roster_buf_puts(b, "file=");
        r = r ? r : put_escaped(b, g->file, 1);
        if (!r && g->line)
            r = roster_buf_printf(b, ",line=%u", g->line);
        if (!r && g->col)
            r = roster_buf_printf(b, ",col=%u", g->col);
        r = r ? r : roster_buf_putc(b, ',');
    }
    r = r ? r : roster_buf_puts(b, "title=");
    r = r ? r : put_escaped(b, g->code, 1);
    r = r ? r : roster_buf_puts(b, "::");
    r = r ? r : put_escaped(b, g->message, 0);
    r = r ? r : roster_buf_putc(b, '\n');
    return r;
}
