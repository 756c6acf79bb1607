/* Prompt templates: declarations, placeholders, binding and rendering. */
#include "roster_template.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_json.h"
#include "roster_resolve.h"
#include "roster_text.h"
#include "template_internal.h"

struct var {
    const char *name; /* a key of the template's `variables` */
    json_t *decl; /* the merged declaration (inside `variables`) */
    char *from; /* id of the most derived profile declaring it (a copy) */
    size_t max_length;
    int has_re;
    regex_t re;
};

struct segment {
    size_t off, len; /* literal text of the prompt */
    int var; /* index in vars, or -1 for literal text */
    size_t esc_off, esc_len; /* the text escaped for a JSON string, in esc */
};

struct roster_template {
    /* the merged declarations, a reference: the template may outlive the
     * resolution it was made from (a stale profile keeps its last good one) */
    json_t *variables;
    struct var vars[ROSTER_TEMPLATE_MAX_VARS];
    size_t nvars;
    char *prompt; /* the composed prompt the segments point into */
    size_t prompt_len;
    struct segment *segs;
    size_t nsegs;
    struct roster_buf esc; /* every segment's text, JSON-escaped, once */
};

/* ---- declarations --------------------------------------------------------- */

int roster_template_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static const char *const FIELDS[] = {"description", "required",   "default", "enum",
                                     "pattern",     "max_length", NULL};

static int field_known(const char *k)
{
    for (const char *const *f = FIELDS; *f; f++)
        if (strcmp(k, *f) == 0)
            return 1;
    return 0;
}

/* What is wrong with one field of a declaration, in why; 0 when nothing. */
static int field_problem(const char *k, json_t *v, char *why, size_t cap)
{
    if (!field_known(k)) {
        snprintf(why, cap,
                 "unknown field \"%.40s\" (fields: description, required, default, enum, "
                 "pattern, max_length)",
                 k);
        return 1;
    }
    int ok = 1;
    if (strcmp(k, "required") == 0)
        ok = json_is_boolean(v);
    else if (strcmp(k, "max_length") == 0)
        ok = json_is_integer(v) && json_integer_value(v) >= 1 &&
             json_integer_value(v) <= 1024 * 1024;
    else if (strcmp(k, "enum") == 0) {
        size_t i;
        json_t *e;
        ok = json_is_array(v) && json_array_size(v) > 0 && json_array_size(v) <= 256;
        json_array_foreach(v, i, e) ok = ok && json_is_string(e);
    } else
        ok = json_is_string(v);
    if (ok && strcmp(k, "pattern") == 0) {
        regex_t re;
        if (json_string_length(v) > ROSTER_TEMPLATE_MAX_PATTERN ||
            regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB) != 0) {
            snprintf(why, cap, "pattern \"%.60s\" is not a POSIX extended regular expression",
                     json_string_value(v));
            return 1;
        }
        regfree(&re);
    }
    if (!ok)
        snprintf(why, cap, "%s must be %s", k,
                 strcmp(k, "required") == 0     ? "true or false"
                 : strcmp(k, "max_length") == 0 ? "a whole number from 1 to 1048576"
                 : strcmp(k, "enum") == 0       ? "a list of 1 to 256 strings"
                                                : "a string (quote it)");
    return !ok;
}

static int decl_problem(const char *name, json_t *decl, char *why, size_t cap)
{
    if (!roster_template_name_valid(name, strlen(name))) {
        snprintf(why, cap, "\"%.64s\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*, at most 64)",
                 name);
        return 1;
    }
    if (!json_is_object(decl)) {
        snprintf(why, cap, "the declaration must be a mapping, e.g. {description: \"...\"}");
        return 1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(decl, k, v)
    {
        if (field_problem(k, v, why, cap))
            return 1;
    }
    return 0;
}

int roster_template_check_declarations(const json_t *meta, const char *file, unsigned line,
                                       struct roster_diags *diags)
{
    json_t *vars = json_object_get(meta, "variables");
    char why[300];
    int count = 0;
    if (!vars || json_is_null(vars))
        return 0;
    if (!json_is_object(vars) || json_object_size(vars) > ROSTER_TEMPLATE_MAX_VARS) {
        int r = roster_diags_add(diags, ROSTER_SEV_ERROR, "template.invalid_declaration", file,
                                 line, 1, NULL,
                                 "variables must be a mapping of at most %d names to "
                                 "declarations, e.g. variables: {task: {required: true}}",
                                 ROSTER_TEMPLATE_MAX_VARS);
        return r < 0 ? r : 1;
    }
    const char *name;
    json_t *decl;
    json_object_foreach((json_t *)vars, name, decl)
    {
        if (!decl_problem(name, decl, why, sizeof(why)))
            continue;
        int r = roster_diags_add(diags, ROSTER_SEV_ERROR, "template.invalid_declaration", file,
                                 line, 1, NULL, "variables.%.64s: %s", name, why);
        if (r < 0)
            return r;
        count++;
    }
    return count;
}

/* ---- the template ---------------------------------------------------------- */

static json_t *or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static const char *str_of(const json_t *decl, const char *k)
{
    return json_string_value(json_object_get(decl, k));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct var *)a)->name, ((const struct var *)b)->name);
}

/* The most derived profile of the chain that declares name itself. */
static const char *declared_by(const struct roster_profile *p, const char *name)
{
    for (size_t c = p->nchain; c-- > 0;)
        if (json_object_get(json_object_get(p->chain[c]->meta, "variables"), name))
            return p->chain[c]->id;
    return p->doc->id;
}

/* A merged declaration should hold as a whole: its default satisfies it
 * (a child that narrows an inherited enum may break it). */
static int default_problem(const struct var *v, char *why, size_t cap)
{
    const char *def = str_of(v->decl, "default");
    if (!def)
        return 0;
    json_t *problems = json_array();
    int r = problems ? roster_template_check_value(v->decl, v->has_re ? &v->re : NULL,
                                                   v->max_length, v->name,
                                                   json_object_get(v->decl, "default"), problems)
                     : ROSTER_ENOMEM;
    if (r == 0 && json_array_size(problems) > 0) {
        snprintf(why, cap, "variables.%s: the default \"%.60s\" does not satisfy the declaration",
                 v->name, def);
        r = 1;
    }
    json_decref(problems);
    return r;
}

static int load_vars(struct roster_template *t, const struct roster_profile *p, char *why,
                     size_t cap)
{
    json_t *vars = t->variables = json_incref(json_object_get(p->meta, "variables"));
    const char *name;
    json_t *decl;
    json_object_foreach(vars, name, decl)
    {
        if (t->nvars == ROSTER_TEMPLATE_MAX_VARS || decl_problem(name, decl, why, cap))
            return ROSTER_EINVAL;
        struct var *v = &t->vars[t->nvars];
        json_t *ml = json_object_get(decl, "max_length");
        const char *from = declared_by(p, name);
        *v = (struct var){.name = name, .decl = decl, .from = roster_strndup(from, strlen(from))};
        t->nvars++; /* roster_template_free releases what it holds from here */
        if (!v->from)
            return ROSTER_ENOMEM;
        v->max_length = ml ? (size_t)json_integer_value(ml) : ROSTER_TEMPLATE_MAX_LENGTH;
        const char *pat = str_of(decl, "pattern");
        if (pat && regcomp(&v->re, pat, REG_EXTENDED | REG_NOSUB) != 0)
            return ROSTER_EINVAL;
        v->has_re = pat != NULL;
    }
    qsort(t->vars, t->nvars, sizeof(t->vars[0]), by_name);
    return 0;
}

static int var_index(const struct roster_template *t, const char *name, size_t n)
{
    for (size_t k = 0; k < t->nvars; k++)
        if (strlen(t->vars[k].name) == n && memcmp(t->vars[k].name, name, n) == 0)
            return (int)k;
    return -1;
}

struct cutter {
    struct roster_template *t;
    size_t at; /* end of the last segment */
    size_t cap;
    int failed;
};

static int push_seg(struct cutter *c, size_t off, size_t len, int var)
{
    struct roster_template *t = c->t;
    if (len == 0 && var < 0)
        return 0;
    if (t->nsegs >= 2 * ROSTER_TEMPLATE_MAX_PLACEHOLDERS + 2)
        return ROSTER_E2BIG;
    struct segment *s = roster_grow(t->segs, &c->cap, t->nsegs, sizeof(*s), 16);
    if (!s)
        return ROSTER_ENOMEM;
    t->segs = s;
    t->segs[t->nsegs++] = (struct segment){.off = off, .len = len, .var = var};
    return 0;
}

/* A placeholder of a declared variable becomes a variable segment; an
 * escape `{{{{` a literal `{{`; anything else stays as written. */
static int cut(const struct roster_placeholder *ph, void *ctx)
{
    struct cutter *c = ctx;
    int var = ph->escape ? -1 : var_index(c->t, ph->name, ph->name_len);
    if (!ph->escape && var < 0)
        return 0;
    int r = push_seg(c, c->at, ph->off - c->at, -1);
    if (r == 0)
        r = ph->escape ? push_seg(c, ph->off, 2, -1) : push_seg(c, ph->off, ph->len, var);
    c->at = ph->off + ph->len;
    return r;
}

/* s[0..n) as the inside of a JSON string (no quotes) appended to b. */
static int json_escape(struct roster_buf *b, const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    size_t dl = d ? strlen(d) : 0;
    int r = dl >= 2 ? roster_buf_append(b, d + 1, dl - 2) : ROSTER_ENOMEM;
    json_decref(j);
    roster_free(d);
    return r;
}

/* Escapes every literal segment once: a JSON answer then escapes only the
 * values (the text is valid UTF-8, and segments end at ASCII braces). */
static int escape_segments(struct roster_template *t)
{
    roster_buf_init(&t->esc, 8 * t->prompt_len + 64);
    for (size_t k = 0; k < t->nsegs; k++) {
        struct segment *s = &t->segs[k];
        s->esc_off = t->esc.len;
        int r = json_escape(&t->esc, t->prompt + s->off, s->len);
        if (r < 0)
            return r;
        s->esc_len = t->esc.len - s->esc_off;
    }
    return 0;
}

int roster_template_declared(struct roster_template **out, const struct roster_profile *p,
                             char *why, size_t why_cap)
{
    struct roster_template *t = roster_calloc(1, sizeof(*t));
    snprintf(why, why_cap, "out of memory");
    if (!t)
        return ROSTER_ENOMEM;
    int r = load_vars(t, p, why, why_cap);
    if (r < 0) {
        roster_template_free(t);
        return r;
    }
    *out = t;
    return 0;
}

int roster_template_new(struct roster_template **out, const struct roster_profile *p, char *why,
                        size_t why_cap)
{
    struct roster_template *t = NULL;
    int r = roster_template_declared(&t, p, why, why_cap);
    if (r < 0)
        return r;
    if (r == 0) {
        t->prompt = roster_profile_prompt(p);
        t->prompt_len = p->prompt_len;
        r = t->prompt ? 0 : ROSTER_ENOMEM;
    }
    struct cutter c = {.t = t};
    if (r == 0)
        r = roster_template_scan(t->prompt, t->prompt_len, cut, &c);
    if (r == 0)
        r = push_seg(&c, c.at, t->prompt_len - c.at, -1);
    if (r == 0)
        r = escape_segments(t);
    if (r == ROSTER_E2BIG)
        snprintf(why, why_cap, "the composed prompt has more than %d placeholders",
                 ROSTER_TEMPLATE_MAX_PLACEHOLDERS);
    if (r < 0) {
        roster_template_free(t);
        return r;
    }
    *out = t;
    return 0;
}

void roster_template_free(struct roster_template *t)
{
    if (!t)
        return;
    for (size_t k = 0; k < t->nvars; k++) {
        if (t->vars[k].has_re)
            regfree(&t->vars[k].re);
        roster_free(t->vars[k].from);
    }
    json_decref(t->variables);
    roster_free(t->prompt);
    roster_free(t->segs);
    roster_buf_release(&t->esc);
    roster_free(t);
}

int roster_template_defaults_hold(const struct roster_template *t, char *why, size_t cap)
{
    for (size_t k = 0; k < t->nvars; k++) {
        int r = default_problem(&t->vars[k], why, cap);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    return 1;
}

json_t *roster_template_declarations(const struct roster_template *t)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < t->nvars; k++) {
        const struct var *v = &t->vars[k];
        json_t *d = v->decl, *en = json_object_get(d, "enum");
        json_t *req = json_object_get(d, "required");
        json_t *o =
            json_pack("{s:s, s:o, s:b, s:o, s:o, s:o, s:I, s:s}", "name", v->name, "description",
                      or_null(str_of(d, "description")), "required", json_is_true(req), "default",
                      or_null(str_of(d, "default")), "enum", en ? json_deep_copy(en) : json_null(),
                      "pattern", or_null(str_of(d, "pattern")), "max_length",
                      (json_int_t)v->max_length, "from", v->from);
        if (roster_json_push(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int roster_template_bind(const struct roster_template *t, const json_t *values, json_t **resolved,
                         json_t **problems)
{
    json_t *res = json_object(), *bad = json_array();
    int r = res && bad ? 0 : ROSTER_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)values, k, v)
    {
        if (r == 0 && var_index(t, k, strlen(k)) < 0)
            r = roster_template_problem(bad, k, "unknown", "no such variable is declared");
    }
    for (size_t i = 0; r == 0 && i < t->nvars; i++) {
        const struct var *d = &t->vars[i];
        json_t *given = json_object_get(values, d->name);
        const char *def = str_of(d->decl, "default");
        if (!given && !def && json_is_true(json_object_get(d->decl, "required")))
            r = roster_template_problem(bad, d->name, "missing", "the variable is required");
        else if (given || def)
            r = roster_template_check_value(
                d->decl, d->has_re ? &d->re : NULL, d->max_length, d->name,
                given ? given : json_object_get(d->decl, "default"), bad);
        if (r == 0 && (given || def))
            r = roster_json_set(res, d->name, given ? json_incref(given) : json_string(def))
                    ? ROSTER_ENOMEM
                    : 0;
    }
    if (r == 0 && json_array_size(bad)) {
        json_decref(res);
        *problems = bad;
        return ROSTER_EINVAL;
    }
    json_decref(bad);
    if (r < 0) {
        json_decref(res);
        return r;
    }
    *resolved = res;
    return 0;
}

int roster_template_render_json(const struct roster_template *t, const json_t *resolved,
                                struct roster_buf *b, char sha[65])
{
    struct roster_sha256 h;
    roster_sha256_begin(&h);
    /* the escaped text and some room for values: one allocation */
    int r = roster_buf_reserve(b, t->esc.len + 4096);
    if (r == 0)
        r = roster_buf_putc(b, '"');
    for (size_t k = 0; r == 0 && k < t->nsegs; k++) {
        const struct segment *s = &t->segs[k];
        json_t *v = s->var >= 0 ? json_object_get(resolved, t->vars[s->var].name) : NULL;
        if (v) {
            if (sha)
                roster_sha256_add(&h, json_string_value(v), json_string_length(v));
            r = json_escape(b, json_string_value(v), json_string_length(v));
        } else {
            if (sha)
                roster_sha256_add(&h, t->prompt + s->off, s->len);
            r = roster_buf_append(b, t->esc.data + s->esc_off, s->esc_len);
        }
    }
    if (r == 0)
        r = roster_buf_putc(b, '"');
    if (sha)
        roster_sha256_end(&h, sha);
    return r;
}

char *roster_template_render(const struct roster_template *t, const json_t *resolved, size_t *len)
{
    size_t n = 0;
    for (size_t k = 0; k < t->nsegs; k++) {
        const struct segment *s = &t->segs[k];
        json_t *v = s->var >= 0 ? json_object_get(resolved, t->vars[s->var].name) : NULL;
        n += v ? json_string_length(v) : s->len;
    }
    char *out = roster_malloc(n + 1);
    if (!out)
        return NULL;
    size_t at = 0;
    for (size_t k = 0; k < t->nsegs; k++) {
        const struct segment *s = &t->segs[k];
        json_t *v = s->var >= 0 ? json_object_get(resolved, t->vars[s->var].name) : NULL;
        const char *src = v ? json_string_value(v) : t->prompt + s->off;
        size_t l = v ? json_string_length(v) : s->len;
        memcpy(out + at, src, l);
        at += l;
    }
    out[at] = '\0';
    *len = at;
    return out;
}
