/* Front matter splitting and YAML-to-JSON conversion with libyaml's event
 * API. Values are built as events arrive so every limit is checked before
 * libyaml can do unbounded work (deep flow nesting is quadratic in 0.2.5). */
#include "roster_frontmatter.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "roster_base.h"

/* ---- splitting -------------------------------------------------------- */

/* Length of the line at p (without LF) within [p, end). */
static size_t line_len(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

/* A delimiter line: the marker then only spaces or tabs. */
static int is_delim(const char *p, size_t n, const char *marker)
{
    if (n < 3 || memcmp(p, marker, 3) != 0)
        return 0;
    for (size_t i = 3; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

int roster_frontmatter_split(const char *text, size_t len, struct roster_fm_split *out,
                             struct roster_error *err)
{
    const char *end = text + len;
    struct roster_fm_split s = {.body_line = 1};
    size_t first = line_len(text, end);
    if (!is_delim(text, first, "---")) {
        *out = s;
        return 0;
    }
    const char *p = text + first + (first < len);
    unsigned line = 2;
    while (p < end) {
        size_t n = line_len(p, end);
        if (is_delim(p, n, "---") || is_delim(p, n, "...")) {
            s.present = 1;
            s.fm_off = first + 1;
            s.fm_len = (size_t)(p - text) - s.fm_off;
            s.fm_line = 2;
            s.body_off = (size_t)(p - text) + n + (p + n < end);
            s.body_line = line + 1;
            if (s.fm_len > ROSTER_FM_MAX_BYTES) {
                roster_error_set(err, ROSTER_E2BIG, NULL, 1, 1,
                                 "front matter is %zu bytes, over the limit of %d", s.fm_len,
                                 ROSTER_FM_MAX_BYTES);
                err->diag = "frontmatter.too_large";
                return ROSTER_E2BIG;
            }
            *out = s;
            return 0;
        }
        if ((size_t)(p - text) > ROSTER_FM_MAX_BYTES + first + 1) {
            roster_error_set(err, ROSTER_E2BIG, NULL, 1, 1,
                             "front matter is over the limit of %d bytes", ROSTER_FM_MAX_BYTES);
            err->diag = "frontmatter.too_large";
            return ROSTER_E2BIG;
        }
        p += n + (p + n < end);
        line++;
    }
    roster_error_set(err, ROSTER_EINVAL, NULL, 1, 1,
                     "front matter opened by '---' on line 1 is never closed "
                     "(expected a line '---' or '...')");
    err->diag = "frontmatter.unclosed";
    return ROSTER_EINVAL;
}

/* ---- typing ----------------------------------------------------------- */

static int all_digits(const char *s, size_t n, int (*ok)(int))
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_dec(int c)
{
    return c >= '0' && c <= '9';
}
static int is_oct(int c)
{
    return c >= '0' && c <= '7';
}
static int is_hex(int c)
{
    return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_core_float(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && is_dec(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_dec(s[i]))
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = 0;
        while (i < n && is_dec(s[i]))
            i++, e++;
        if (!e)
            return 0;
    }
    return i == n;
}

static int slice_in(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return 1;
    return 0;
}

/* Integer of a core-schema int slice, or -1 when it does not fit. */
static int parse_int(const char *s, size_t n, int base, long long *out)
{
    char tmp[72];
    if (n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, base);
    if (errno || !end || *end)
        return -1;
    *out = v;
    return 0;
}

/* A plain scalar typed with the YAML 1.2 core schema. Values JSON cannot
 * hold (.inf, .nan, integers beyond 64 bits) stay strings. */
static json_t *type_plain(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    long long iv;
    if (slice_in(s, n, nulls))
        return json_null();
    if (slice_in(s, n, trues))
        return json_true();
    if (slice_in(s, n, falses))
        return json_false();
    size_t sign = n && (s[0] == '-' || s[0] == '+');
    if (all_digits(s + sign, n - sign, is_dec))
        return parse_int(s, n, 10, &iv) == 0 ? json_integer(iv) : json_stringn(s, n);
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, n - 2, is_oct) &&
        parse_int(s + 2, n - 2, 8, &iv) == 0)
        return json_integer(iv);
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s + 2, n - 2, is_hex) &&
        parse_int(s + 2, n - 2, 16, &iv) == 0)
        return json_integer(iv);
    if (is_core_float(s, n) && n < 64) {
        char tmp[64];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        double d = strtod(tmp, NULL);
        if (isfinite(d))
            return json_real(d);
    }
    return json_stringn(s, n);
}

/* ---- the event loop ----------------------------------------------------- */

struct frame {
    json_t *node;
    int is_map;
    char *key; /* pending key of a mapping, NULL when a key is expected */
    size_t key_len;
};

struct fm_state {
    struct frame stack[ROSTER_FM_MAX_DEPTH + 1];
    int depth;
    json_t *root;
    unsigned first_line;
    size_t nodes;
    int docs;
    struct roster_error *err;
};

static int fail_at(struct fm_state *st, const yaml_mark_t *m, int code, const char *diag,
                   const char *msg)
{
    roster_error_set(st->err, code, NULL, st->first_line + (unsigned)m->line,
                     (unsigned)m->column + 1, "%s", msg);
    if (st->err)
        st->err->diag = diag;
    return code;
}

static int tag_ok(const yaml_char_t *tag)
{
    const char *t = (const char *)tag;
    return !t || strcmp(t, "!") == 0 || strcmp(t, YAML_STR_TAG) == 0;
}

/* Puts a finished value into the current container (or makes it the root).
 * Takes the reference of v. */
static int attach(struct fm_state *st, json_t *v, const yaml_mark_t *m)
{
    if (!v)
        return fail_at(st, m, ROSTER_ENOMEM, "frontmatter.oom", "out of memory");
    if (st->depth == 0) {
        st->root = v;
        return 0;
    }
    struct frame *f = &st->stack[st->depth - 1];
    int r;
    if (f->is_map) {
        r = json_object_setn_new(f->node, f->key, f->key_len, v);
        roster_free(f->key);
        f->key = NULL;
    } else {
        r = json_array_append_new(f->node, v);
    }
    if (r)
        return fail_at(st, m, ROSTER_ENOMEM, "frontmatter.oom", "out of memory");
    return 0;
}

static int on_scalar(struct fm_state *st, const yaml_event_t *ev)
{
    const char *val = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const yaml_mark_t *m = &ev->start_mark;
    if (ev->data.scalar.anchor)
        return fail_at(st, m, ROSTER_EINVAL, "frontmatter.anchor",
                       "anchors (&name) are not allowed in front matter");
    if (!tag_ok(ev->data.scalar.tag))
        return fail_at(st, m, ROSTER_EINVAL, "frontmatter.tag",
                       "tags other than plain strings are not allowed in front matter");
    struct frame *f = st->depth ? &st->stack[st->depth - 1] : NULL;
    if (f && f->is_map && !f->key) {
        if (memchr(val, '\0', n))
            return fail_at(st, m, ROSTER_EINVAL, "frontmatter.key",
                           "a key must not contain a NUL character");
        if (json_object_getn(f->node, val, n)) {
            char msg[200];
            snprintf(msg, sizeof(msg), "duplicate key '%.*s'", n > 120 ? 120 : (int)n, val);
            return fail_at(st, m, ROSTER_EINVAL, "frontmatter.duplicate_key", msg);
        }
        f->key = roster_strndup(val, n);
        if (!f->key)
            return fail_at(st, m, ROSTER_ENOMEM, "frontmatter.oom", "out of memory");
        f->key_len = n;
        return 0;
    }
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
    return attach(st, plain ? type_plain(val, n) : json_stringn(val, n), m);
}

static int on_start(struct fm_state *st, const yaml_event_t *ev, int is_map)
{
    const yaml_mark_t *m = &ev->start_mark;
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    if (anchor)
        return fail_at(st, m, ROSTER_EINVAL, "frontmatter.anchor",
                       "anchors (&name) are not allowed in front matter");
    if (tag)
        return fail_at(st, m, ROSTER_EINVAL, "frontmatter.tag",
                       "tags are not allowed on mappings or sequences in front matter");
    if (st->depth && st->stack[st->depth - 1].is_map && !st->stack[st->depth - 1].key)
        return fail_at(st, m, ROSTER_EINVAL, "frontmatter.non_scalar_key",
                       "mapping keys must be scalars");
    if (st->depth >= ROSTER_FM_MAX_DEPTH) {
        char msg[120];
        snprintf(msg, sizeof(msg), "front matter nesting is deeper than %d levels",
                 ROSTER_FM_MAX_DEPTH);
        return fail_at(st, m, ROSTER_E2BIG, "frontmatter.too_deep", msg);
    }
    json_t *node = is_map ? json_object() : json_array();
    if (!node)
        return fail_at(st, m, ROSTER_ENOMEM, "frontmatter.oom", "out of memory");
    st->stack[st->depth++] = (struct frame){.node = node, .is_map = is_map};
    return 0;
}

static int on_end(struct fm_state *st, const yaml_event_t *ev)
{
    struct frame f = st->stack[--st->depth];
    roster_free(f.key);
    return attach(st, f.node, &ev->start_mark);
}

static int on_event(struct fm_state *st, const yaml_event_t *ev)
{
    if (++st->nodes > ROSTER_FM_MAX_NODES)
        return fail_at(st, &ev->start_mark, ROSTER_E2BIG, "frontmatter.too_many_nodes",
                       "front matter has too many nodes");
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++st->docs > 1)
            return fail_at(st, &ev->start_mark, ROSTER_EINVAL, "frontmatter.multiple_documents",
                           "front matter must be a single YAML document");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail_at(st, &ev->start_mark, ROSTER_EINVAL, "frontmatter.alias",
                       "aliases (*name) are not allowed in front matter");
    case YAML_SCALAR_EVENT:
        return on_scalar(st, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(st, ev, 0);
    case YAML_MAPPING_START_EVENT:
        return on_start(st, ev, 1);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(st, ev);
    default:
        return 0;
    }
}

static void state_cleanup(struct fm_state *st)
{
    while (st->depth > 0) {
        struct frame *f = &st->stack[--st->depth];
        roster_free(f->key);
        json_decref(f->node);
    }
    json_decref(st->root);
    st->root = NULL;
}

int roster_frontmatter_parse(json_t **out, const char *yaml, size_t len, unsigned first_line,
                             struct roster_error *err)
{
    struct fm_state st = {.first_line = first_line, .err = err};
    yaml_parser_t parser;
    int r = 0;
    if (len > ROSTER_FM_MAX_BYTES) {
        roster_error_set(err, ROSTER_E2BIG, NULL, first_line, 1,
                         "front matter is over the limit of %d bytes", ROSTER_FM_MAX_BYTES);
        if (err)
            err->diag = "frontmatter.too_large";
        return ROSTER_E2BIG;
    }
    if (!yaml_parser_initialize(&parser))
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            r = roster_error_set(
                err, ROSTER_EINVAL, NULL, first_line + (unsigned)parser.problem_mark.line,
                (unsigned)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
                parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                parser.context ? parser.context : "");
            if (err)
                err->diag = "frontmatter.syntax";
            goto out_parser;
        }
        int done = ev.type == YAML_STREAM_END_EVENT;
        r = on_event(&st, &ev);
        yaml_event_delete(&ev);
        if (r < 0 || done)
            break;
    }
    if (r < 0)
        goto out_parser;
    if (!st.root) {
        st.root = json_object();
        if (!st.root) {
            r = roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
            goto out_parser;
        }
    }
    if (!json_is_object(st.root)) {
        r = roster_error_set(err, ROSTER_EINVAL, NULL, first_line, 1,
                             "front matter must be a mapping of keys to values");
        if (err)
            err->diag = "frontmatter.not_mapping";
        goto out_parser;
    }
    *out = st.root;
    st.root = NULL;
out_parser:
    state_cleanup(&st);
    yaml_parser_delete(&parser);
    return r;
}
