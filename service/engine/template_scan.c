/* Finding placeholders, checking values, and the template diagnostics. */
#include "template_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_json.h"
#include "roster_resolve.h"
#include "roster_template.h"
#include "roster_text.h"

struct fence {
    char ch; /* 0: not in a fenced block */
    size_t len;
    int raw;
};

/* A fence line: up to 3 spaces, 3 or more ` or ~; its run and char. */
static size_t fence_run(const char *s, size_t n, char *ch)
{
    size_t i = 0, k;
    while (i < n && i < 3 && s[i] == ' ')
        i++;
    if (i >= n || (s[i] != '`' && s[i] != '~'))
        return 0;
    *ch = s[i];
    for (k = i; k < n && s[k] == *ch; k++)
        ;
    return k - i >= 3 ? k - i : 0;
}

/* 1 when the info string after the run has the word "raw". */
static int info_has_raw(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        int start = i == 0 || strchr(" \t,{.", s[i - 1]);
        int end = i + 3 == n || strchr(" \t,}", s[i + 3]);
        if (start && end && memcmp(s + i, "raw", 3) == 0)
            return 1;
    }
    return 0;
}

/* Updates the fence state for one line; 1 when the line is a fence line. */
static int fence_line(struct fence *f, const char *s, size_t n)
{
    char ch = 0;
    size_t run = fence_run(s, n, &ch);
    if (!run)
        return 0;
    if (!f->ch) {
        const char *info = memchr(s, ch, n);
        size_t skip = (size_t)(info - s) + run;
        *f = (struct fence){.ch = ch, .len = run, .raw = info_has_raw(s + skip, n - skip)};
        return 1;
    }
    if (ch == f->ch && run >= f->len) {
        *f = (struct fence){0};
        return 1;
    }
    return 0;
}

static int is_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* A placeholder at s[i] ("{{" seen): its length, 0 when it is none. */
static size_t placeholder_at(const char *s, size_t n, size_t i, struct roster_placeholder *ph)
{
    size_t j = i + 2;
    while (j < n && (s[j] == ' ' || s[j] == '\t'))
        j++;
    size_t name = j;
    while (j < n && is_name_char(s[j], j == name))
        j++;
    size_t name_len = j - name;
    while (j < n && (s[j] == ' ' || s[j] == '\t'))
        j++;
    if (!name_len || j + 1 >= n || s[j] != '}' || s[j + 1] != '}')
        return 0;
    ph->name = s + name;
    ph->name_len = name_len;
    return j + 2 - i;
}

static int scan_line(const char *s, size_t start, size_t end, unsigned line,
                     roster_placeholder_fn fn, void *ctx)
{
    for (size_t i = start; i + 1 < end; i++) {
        if (s[i] != '{' || s[i + 1] != '{')
            continue;
        struct roster_placeholder ph = {.off = i, .line = line};
        if (i + 3 < end && s[i + 2] == '{' && s[i + 3] == '{') {
            ph.escape = 1;
            ph.len = 4;
        } else {
            ph.len = placeholder_at(s, end, i, &ph);
        }
        if (!ph.len)
            continue;
        int r = fn(&ph, ctx);
        if (r < 0)
            return r;
        i += ph.len - 1;
    }
    return 0;
}

int roster_template_scan(const char *s, size_t n, roster_placeholder_fn fn, void *ctx)
{
    struct fence f = {0};
    unsigned line = 1;
    for (size_t at = 0; at < n; line++) {
        const char *nl = memchr(s + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - s) : n;
        if (!fence_line(&f, s + at, end - at) && !f.raw) {
            int r = scan_line(s, at, end, line, fn, ctx);
            if (r < 0)
                return r;
        }
        at = end + 1;
    }
    return 0;
}

int roster_template_problem(json_t *bad, const char *name, const char *reason, const char *detail)
{
    return roster_json_push(
               bad, json_pack("{s:s, s:s, s:s}", "name", name, "reason", reason, "detail", detail))
               ? ROSTER_ENOMEM
               : 0;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int in_enum(const json_t *en, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(en, i, e)
    {
        if (strcmp(json_string_value(e), s) == 0)
            return 1;
    }
    return 0;
}

int roster_template_check_value(const json_t *decl, const regex_t *re, size_t max_length,
                                const char *name, const json_t *value, json_t *bad)
{
    char detail[200];
    const json_t *en = json_object_get(decl, "enum");
    if (!json_is_string(value) || strlen(json_string_value(value)) != json_string_length(value))
        return roster_template_problem(bad, name, "not_string",
                                       "the value must be a string (without NUL characters)");
    const char *s = json_string_value(value);
    size_t chars = utf8_chars(s, json_string_length(value));
    if (chars > max_length) {
        snprintf(detail, sizeof(detail), "the value has %zu characters, more than max_length %zu",
                 chars, max_length);
        return roster_template_problem(bad, name, "too_long", detail);
    }
    if (en && !in_enum(en, s)) {
        char *list = json_dumps(en, JSON_COMPACT);
        snprintf(detail, sizeof(detail), "the value must be one of %.150s", list ? list : "[]");
        roster_free(list);
        return roster_template_problem(bad, name, "not_in_enum", detail);
    }
    if (re && regexec(re, s, 0, NULL, 0) != 0) {
        snprintf(detail, sizeof(detail), "the value does not match the pattern %.150s",
                 json_string_value(json_object_get(decl, "pattern")));
        return roster_template_problem(bad, name, "pattern_mismatch", detail);
    }
    return 0;
}

void roster_template_summary(const json_t *problems, char *out, size_t cap)
{
    size_t n = json_array_size(problems);
    int w = snprintf(out, cap, "%zu variable%s not accepted", n, n == 1 ? " is" : "s are");
    size_t at = w > 0 && (size_t)w < cap ? (size_t)w : 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *pr = json_array_get(problems, i);
        const char *name = json_string_value(json_object_get(pr, "name"));
        const char *reason = json_string_value(json_object_get(pr, "reason"));
        size_t nl = name ? strlen(name) : 0;
        /* at most 40 bytes of a name, never a cut UTF-8 sequence */
        int quoted = (int)roster_utf8_check(name ? name : "", nl < 40 ? nl : 40);
        char item[96];
        int k = snprintf(item, sizeof(item), "%s%.*s (%s)", i ? ", " : ": ", quoted,
                         name ? name : "", reason ? reason : "?");
        if (k < 0 || (size_t)k >= sizeof(item) || at + (size_t)k + 8 >= cap) {
            if (at + 8 < cap)
                memcpy(out + at, ", ...", 6);
            return;
        }
        memcpy(out + at, item, (size_t)k + 1);
        at += (size_t)k;
    }
}

/* ---- diagnostics ------------------------------------------------------------ */

struct usage {
    const json_t *decls; /* merged declarations */
    const struct roster_doc *doc;
    unsigned first_line; /* file line of the scanned text's first line */
    struct roster_diags *diags;
    const char *names[ROSTER_TEMPLATE_MAX_VARS]; /* used, for template.unused */
    size_t nused;
    size_t cuts; /* escapes and declared placeholders: what rendering cuts at */
};

static int note_use(const struct roster_placeholder *ph, void *ctx)
{
    struct usage *u = ctx;
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)(ph->name_len > 64 ? 64 : ph->name_len),
             ph->name ? ph->name : "");
    u->cuts += ph->escape || json_object_get(u->decls, name);
    if (ph->escape)
        return 0;
    for (size_t k = 0; k < u->nused; k++)
        if (strlen(u->names[k]) == ph->name_len && !memcmp(u->names[k], ph->name, ph->name_len))
            return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)u->decls, k, v)
    {
        if (strlen(k) == ph->name_len && !memcmp(k, ph->name, ph->name_len) &&
            u->nused < ROSTER_TEMPLATE_MAX_VARS)
            u->names[u->nused++] = k;
    }
    return 0;
}

static int note_undeclared(const struct roster_placeholder *ph, void *ctx)
{
    struct usage *u = ctx;
    char name[80];
    if (ph->escape)
        return 0;
    snprintf(name, sizeof(name), "%.*s", (int)(ph->name_len > 64 ? 64 : ph->name_len), ph->name);
    if (json_object_get(u->decls, name))
        return 0;
    return roster_diags_add(u->diags, ROSTER_SEV_WARNING, "template.undeclared", u->doc->relpath,
                            u->first_line + ph->line - 1, 1, u->doc->id,
                            "{{ %s }} is not declared: add it under variables (e.g. variables: "
                            "{%s: {description: \"...\"}}), or write {{{{ for a literal {{",
                            name, name);
}

static unsigned line_of(const char *s, size_t off)
{
    unsigned l = 1;
    for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + off - p))) != NULL; p++)
        l++;
    return l;
}

/* The declarations only: composing the prompt again for every profile at
 * index time would double the work of a build; the placeholders were
 * counted while scanning (u->cuts). */
static int check_defaults(const struct roster_profile *p, const struct usage *u,
                          struct roster_diags *diags)
{
    struct roster_template *t = NULL;
    char why[300];
    int r = roster_template_declared(&t, p, why, sizeof(why));
    int hold = r == 0 ? roster_template_defaults_hold(t, why, sizeof(why)) : 1;
    if (r == 0 && u->cuts > ROSTER_TEMPLATE_MAX_PLACEHOLDERS)
        r = roster_diags_add(diags, ROSTER_SEV_WARNING, "template.too_many_placeholders",
                             p->doc->relpath, p->doc->variables_line, 1, p->doc->id,
                             "the composed prompt has more than %d placeholders: it cannot be "
                             "rendered with variables (POST .../prompt answers 500 "
                             "template_unavailable)",
                             ROSTER_TEMPLATE_MAX_PLACEHOLDERS);
    else if (hold < 0)
        r = hold;
    else if (!hold)
        r = roster_diags_add(diags, ROSTER_SEV_WARNING, "template.invalid_default", p->doc->relpath,
                             p->doc->variables_line, 1, p->doc->id,
                             "%s; a request without that variable gets a 422", why);
    roster_template_free(t);
    return r == ROSTER_EINVAL ? 0 : r;
}

int roster_template_check(const struct roster_profile *p, struct roster_diags *diags)
{
    const struct roster_doc *d = p->doc;
    struct usage u = {.decls = json_object_get(p->meta, "variables"), .doc = d, .diags = diags};
    if (!d->text || (!u.decls && !memmem(d->text, d->text_len, "{{", 2)))
        return 0;
    u.first_line = line_of(d->text, d->md.body_start);
    int r = roster_template_scan(d->text + d->md.body_start, d->md.body_end - d->md.body_start,
                                 note_undeclared, &u);
    for (size_t k = 0; r == 0 && k < p->nspans; k++)
        r = roster_template_scan(p->spans[k].text, p->spans[k].len, note_use, &u);
    if (r == 0 && u.decls)
        r = check_defaults(p, &u, diags);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(d->meta, "variables"), name, v)
    {
        int used = 0;
        for (size_t k = 0; k < u.nused; k++)
            used |= strcmp(u.names[k], name) == 0;
        if (r == 0 && !used)
            r = roster_diags_add(diags, ROSTER_SEV_INFO, "template.unused", d->relpath,
                                 d->variables_line ? d->variables_line : 1, 1, d->id,
                                 "variable %.64s is declared but no {{ %.64s }} in the composed "
                                 "prompt uses it",
                                 name, name);
    }
    return r;
}
