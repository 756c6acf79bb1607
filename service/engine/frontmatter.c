/* Front matter splitting and YAML-to-JSON conversion with libyaml's event
 * API. Values are built as events arrive so every limit is checked before
 * libyaml can do unbounded work (deep flow nesting is quadratic in 0.2.5). */
#include "roster_frontmatter.h"

#include "frontmatter_internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "roster_base.h"
#include "roster_diag.h"

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

/* ---- the event loop ----------------------------------------------------- */

struct frame {
    json_t *node;
    int is_map;
    char *key; /* pending key of a mapping, NULL when a key is expected */
    size_t key_len;
    int flow; /* [ ] or { }: where it opened, for "never closed" */
    yaml_mark_t open;
};

/* Top-level keys whose value is text: a plain number there keeps the
 * characters as written ("1.10", not 1.1) and is a warning. */
static const char *const TEXT_KEYS[] = {"name", "category", "description", "version", "role", NULL};
#define TEXT_KEY_MAX 16
#define NUMBER_TEXT_MAX 72 /* parse_int's and type_plain's limits */

/* A number kept as text: reported once the whole block parsed. */
struct number_note {
    char key[TEXT_KEY_MAX];
    char text[NUMBER_TEXT_MAX];
    unsigned line, col;
};

struct fm_state {
    struct frame stack[ROSTER_FM_MAX_DEPTH + 1];
    int depth;
    json_t *root;
    unsigned first_line;
    size_t nodes;
    int docs;
    struct roster_error *err;
    const char *yaml; /* the slice, for hints on syntax errors */
    size_t len;
    /* duplicate keys are refused, so each text key is noted at most once */
    struct number_note notes[sizeof(TEXT_KEYS) / sizeof(TEXT_KEYS[0]) - 1];
    size_t nnotes;
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

static void note_number(struct fm_state *st, const struct frame *f, const char *val, size_t n,
                        const yaml_mark_t *m)
{
    if (st->nnotes >= sizeof(st->notes) / sizeof(st->notes[0]) || f->key_len >= TEXT_KEY_MAX ||
        n >= NUMBER_TEXT_MAX)
        return;
    struct number_note *nn = &st->notes[st->nnotes++];
    memcpy(nn->key, f->key, f->key_len);
    nn->key[f->key_len] = '\0';
    memcpy(nn->text, val, n);
    nn->text[n] = '\0';
    nn->line = st->first_line + (unsigned)m->line;
    nn->col = (unsigned)m->column + 1;
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
    json_t *v = plain ? roster_fm_type_plain(val, n) : json_stringn(val, n);
    if (json_is_number(v) && st->depth == 1 && f->is_map &&
        roster_fm_slice_in(f->key, f->key_len, TEXT_KEYS)) {
        json_decref(v);
        v = json_stringn(val, n);
        note_number(st, f, val, n, m);
    }
    return attach(st, v, m);
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
    int flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                      : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    st->stack[st->depth++] =
        (struct frame){.node = node, .is_map = is_map, .flow = flow, .open = *m};
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

/* ---- hints for syntax errors ---------------------------------------------- */

/* The bytes of 0-based line `line` of the slice; 0 when there is none. */
static int slice_line(const struct fm_state *st, size_t line, const char **s, size_t *n)
{
    const char *p = st->yaml, *end = st->yaml + st->len;
    for (size_t l = 0; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *s = p;
    *n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    return 1;
}

/* Byte offset of a mark (libyaml counts columns in characters). */
static int mark_offset(const struct fm_state *st, const yaml_mark_t *m, size_t *off)
{
    const char *s;
    size_t n, i = 0;
    if (!slice_line(st, m->line, &s, &n))
        return 0;
    for (size_t c = 0; c < m->column && i < n; c++)
        for (i++; i < n && ((unsigned char)s[i] & 0xC0) == 0x80; i++)
            ;
    *off = (size_t)(s - st->yaml) + i;
    return i < n;
}

/* Skips a quoted scalar starting at yaml[i]; the offset after it. */
static size_t skip_quoted(const char *y, size_t i, size_t len)
{
    char q = y[i++];
    while (i < len) {
        if (q == '"' && y[i] == '\\')
            i += 2;
        else if (y[i] == q && q == '\'' && i + 1 < len && y[i + 1] == '\'')
            i += 2;
        else if (y[i] == q)
            return i + 1;
        else
            i++;
    }
    return len;
}

/* 1 when the flow collection opening at yaml[off] ('[' or '{') has its
 * matching closer: brackets inside quoted scalars and comments do not
 * count, a wrong closer or the end of the block leaves it open. */
static int flow_closes(const char *y, size_t off, size_t len)
{
    char want[2 * ROSTER_FM_MAX_DEPTH];
    size_t depth = 0;
    char prev = '[';
    for (size_t i = off; i < len;) {
        char c = y[i];
        if (c == '[' || c == '{') {
            if (depth == sizeof(want))
                return 1; /* too deep to tell: no hint */
            want[depth++] = c == '[' ? ']' : '}';
        } else if (c == ']' || c == '}') {
            if (!depth || want[--depth] != c)
                return 0;
            if (!depth)
                return 1;
        } else if ((c == '"' || c == '\'') && strchr("[{,:?", prev)) {
            i = skip_quoted(y, i, len);
            prev = 'x';
            continue;
        } else if (c == '#' && i > 0 && (y[i - 1] == ' ' || y[i - 1] == '\t' || y[i - 1] == '\n')) {
            const char *nl = memchr(y + i, '\n', len - i);
            i = nl ? (size_t)(nl - y) : len;
            continue;
        }
        if (c != ' ' && c != '\t' && c != '\n')
            prev = c;
        i++;
    }
    return 0;
}

/* The innermost open flow collection that is never closed, else the one
 * libyaml names as its context; NULL when none is. */
static const yaml_mark_t *unclosed_flow(const struct fm_state *st, const yaml_parser_t *p,
                                        size_t *off)
{
    for (int d = st->depth; d-- > 0;) {
        const struct frame *f = &st->stack[d];
        if (f->flow && mark_offset(st, &f->open, off) && !flow_closes(st->yaml, *off, st->len))
            return &f->open;
    }
    if (p->context && strstr(p->context, "while parsing a flow ") &&
        mark_offset(st, &p->context_mark, off) &&
        (st->yaml[*off] == '[' || st->yaml[*off] == '{') && !flow_closes(st->yaml, *off, st->len))
        return &p->context_mark;
    return NULL;
}

/* The column (0-based, bytes) of a tab in the indentation of a line. */
static int tab_indent(const struct fm_state *st, size_t line, size_t *col)
{
    const char *s;
    size_t n;
    if (!slice_line(st, line, &s, &n))
        return 0;
    for (size_t i = 0; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '-'); i++) {
        if (s[i] == '\t') {
            *col = i;
            return 1;
        }
    }
    return 0;
}

/* `key: "value"` for a line `key: value: more` whose second ": " is where
 * libyaml stopped; an empty hint when the line is not that simple. */
static void colon_hint(const struct fm_state *st, const yaml_mark_t *m, char *hint, size_t cap)
{
    const char *s;
    size_t n, at;
    if (!slice_line(st, m->line, &s, &n) || !mark_offset(st, m, &at))
        return;
    at -= (size_t)(s - st->yaml);
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < at && !sep; i++)
        if (s[i] == ':' && s[i + 1] == ' ')
            sep = s + i;
    if (!sep)
        return; /* the first ':' of the line: not a value with a colon */
    const char *k = s, *v = sep + 2, *end = s + n;
    while (k < sep && (*k == ' ' || *k == '-'))
        k++;
    while (v < end && *v == ' ')
        v++;
    for (const char *c = v; c + 1 < end; c++)
        if (c[0] == ' ' && c[1] == '#')
            end = c; /* a comment is not part of the value */
    while (end > v && end[-1] == ' ')
        end--;
    size_t kn = (size_t)(sep - k), vn = (size_t)(end - v);
    if (!kn || kn > 40 || !vn || vn > 100 || strchr("\"'[{|>&*!%@`", *v) || memchr(v, '"', vn) ||
        memchr(v, '\\', vn)) {
        snprintf(hint, cap, "a value that contains ': ' must be quoted");
        return;
    }
    snprintf(hint, cap, "a value that contains ': ' must be quoted: %.*s: \"%.*s\"", (int)kn, k,
             (int)vn, v);
}

/* libyaml's complaint, moved to the line that has the mistake when that
 * is another one, with a one-line hint for the common mistakes. */
static int syntax_error(struct fm_state *st, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    const char *ctx = p->context ? p->context : "";
    unsigned line = st->first_line + (unsigned)p->problem_mark.line;
    unsigned col = (unsigned)p->problem_mark.column + 1;
    char hint[200] = "";
    size_t off, tab;
    const yaml_mark_t *open = unclosed_flow(st, p, &off);
    int r;
    if (open) {
        char c = st->yaml[off];
        r = roster_error_set(st->err, ROSTER_EINVAL, NULL, st->first_line + (unsigned)open->line,
                             (unsigned)open->column + 1,
                             "YAML syntax error: the '%c' here is never closed (the parser gave up "
                             "on line %u: %s); hint: close the %s with '%c', or quote the value "
                             "if the '%c' is text",
                             c, line, problem, c == '[' ? "list" : "mapping", c == '[' ? ']' : '}',
                             c);
        goto out;
    }
    if (tab_indent(st, p->problem_mark.line, &tab)) {
        col = (unsigned)tab + 1;
        snprintf(hint, sizeof(hint), "this line is indented with a tab: YAML indents with spaces");
    } else if (strcmp(problem, "mapping values are not allowed in this context") == 0) {
        colon_hint(st, &p->problem_mark, hint, sizeof(hint));
    }
    r = roster_error_set(st->err, ROSTER_EINVAL, NULL, line, col, "YAML syntax error: %s%s%s%s%s",
                         problem, *ctx ? " " : "", ctx, *hint ? "; hint: " : "", hint);
out:
    if (st->err)
        st->err->diag = "frontmatter.syntax";
    return r;
}

/* The numbers kept as text, as warnings (after a successful parse). */
static int report_numbers(const struct fm_state *st, const struct roster_fm_opts *opts)
{
    for (size_t i = 0; opts && i < st->nnotes; i++) {
        const struct number_note *nn = &st->notes[i];
        int r = roster_diags_add(opts->diags, ROSTER_SEV_WARNING, "frontmatter.number_as_string",
                                 opts->file, nn->line, nn->col, NULL,
                                 "%s: %s is a number in YAML; it is kept as the text \"%s\": "
                                 "quote it (%s: \"%s\")",
                                 nn->key, nn->text, nn->text, nn->key, nn->text);
        if (r < 0)
            return r;
    }
    return 0;
}

int roster_frontmatter_parse(json_t **out, const char *yaml, size_t len, unsigned first_line,
                             struct roster_error *err)
{
    return roster_frontmatter_parse_opts(out, yaml, len, first_line, NULL, err);
}

int roster_frontmatter_parse_opts(json_t **out, const char *yaml, size_t len, unsigned first_line,
                                  const struct roster_fm_opts *opts, struct roster_error *err)
{
    struct fm_state st = {.first_line = first_line, .err = err, .yaml = yaml, .len = len};
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
            r = syntax_error(&st, &parser);
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
    r = report_numbers(&st, opts);
    if (r < 0)
        goto out_parser;
    *out = st.root;
    st.root = NULL;
out_parser:
    state_cleanup(&st);
    yaml_parser_delete(&parser);
    return r;
}
