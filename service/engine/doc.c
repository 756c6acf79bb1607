/* Parsing one profile file: encoding checks, front matter, id, Markdown. */
#include "roster_doc.h"

#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_extract.h"
#include "roster_frontmatter.h"
#include "roster_ignore.h"
#include "roster_lint.h"
#include "roster_template.h"
#include "roster_text.h"

#define DOC_ARENA_MAX (64u * 1024 * 1024)

int roster_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > ROSTER_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (i > 0)
            ok = ok || c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Stem of a relative path: the file name without ".md". */
static char *path_stem(const char *relpath)
{
    const char *slash = strrchr(relpath, '/');
    const char *name = slash ? slash + 1 : relpath;
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".md") == 0)
        n -= 3;
    return roster_strndup(name, n);
}

/* Id from the stem: lower-cased, spaces turned into '-'. */
static char *stem_id(const char *stem)
{
    size_t n = strlen(stem);
    char *id = roster_strndup(stem, n);
    for (size_t i = 0; id && i < n; i++) {
        if (id[i] >= 'A' && id[i] <= 'Z')
            id[i] = (char)(id[i] - 'A' + 'a');
        else if (id[i] == ' ')
            id[i] = '-';
    }
    return id;
}

static int doc_alloc(struct roster_doc **out, const char *relpath)
{
    struct roster_doc *d = roster_calloc(1, sizeof(*d));
    if (!d)
        return ROSTER_ENOMEM;
    atomic_init(&d->refs, 1);
    d->arena = roster_arena_new(DOC_ARENA_MAX);
    d->relpath = roster_strndup(relpath, strlen(relpath));
    d->stem = d->relpath ? path_stem(relpath) : NULL;
    d->meta = json_object();
    if (!d->arena || !d->relpath || !d->stem || !d->meta) {
        roster_doc_free(d);
        return ROSTER_ENOMEM;
    }
    *out = d;
    return 0;
}

int roster_doc_new_failed(struct roster_doc **out, const char *relpath)
{
    struct roster_doc *d = NULL;
    int r = doc_alloc(&d, relpath);
    if (r < 0)
        return r;
    d->failed = 1;
    d->id = stem_id(d->stem);
    if (!d->id) {
        roster_doc_free(d);
        return ROSTER_ENOMEM;
    }
    *out = d;
    return 0;
}

struct roster_doc *roster_doc_ref(struct roster_doc *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

struct roster_doc *roster_doc_free(struct roster_doc *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) > 1)
        return NULL;
    if (d->text != d->raw)
        roster_free(d->text);
    char *strings[] = {d->relpath, d->stem, d->id, d->raw};
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
        roster_free(strings[k]);
    roster_diags_free(d->diags);
    roster_arena_free(d->arena);
    json_decref(d->meta);
    roster_free(d);
    return NULL;
}

/* Line and column (1-based, column in bytes) of an offset in raw bytes. */
static void raw_position(const char *s, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            l++;
            ls = i + 1;
        }
    }
    *line = l;
    *col = (unsigned)(off - ls) + 1;
}

/* Encoding checks on the bytes as written. Returns 1 when they pass. */
static int check_bytes(struct roster_doc *d, struct roster_diags *diags, int *r)
{
    unsigned line, col;
    const char *nul = memchr(d->raw, '\0', d->raw_len);
    if (nul) {
        raw_position(d->raw, (size_t)(nul - d->raw), &line, &col);
        *r = roster_diags_add(diags, ROSTER_SEV_ERROR, "file.nul_byte", d->relpath, line, col, NULL,
                              "the file contains a NUL byte: profiles are UTF-8 text");
        return 0;
    }
    size_t bad = roster_utf8_check(d->raw, d->raw_len);
    if (bad < d->raw_len) {
        raw_position(d->raw, bad, &line, &col);
        *r = roster_diags_add(diags, ROSTER_SEV_ERROR, "file.invalid_utf8", d->relpath, line, col,
                              NULL, "invalid UTF-8 (byte 0x%02x): profiles must be UTF-8",
                              (unsigned char)d->raw[bad]);
        return 0;
    }
    return 1;
}

/* Line of a top-level key ("key:" at the start of a line) in the front
 * matter, for diagnostics about its value; 1 when not found. */
static unsigned key_line(const struct roster_doc *d, const struct roster_fm_split *sp,
                         const char *key)
{
    size_t klen = strlen(key);
    unsigned line = sp->fm_line;
    const char *p = d->text + sp->fm_off, *end = p + sp->fm_len;
    while (p < end) {
        if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0 &&
            (p[klen] == ':' || p[klen] == ' '))
            return line;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        p = nl + 1;
        line++;
    }
    return 1;
}

static int report(struct roster_diags *diags, const struct roster_doc *d,
                  const struct roster_error *e, const char *fallback)
{
    return roster_diags_add(diags, ROSTER_SEV_ERROR, e->diag ? e->diag : fallback, d->relpath,
                            e->line, e->col, NULL, "%s", e->msg);
}

/* The profile id: front matter `id` when present, else the file stem. */
static int set_id(struct roster_doc *d, const struct roster_fm_split *sp,
                  struct roster_diags *diags)
{
    unsigned kl = key_line(d, sp, "id");
    json_t *id = json_object_get(d->meta, "id");
    if (id && json_is_string(id)) {
        const char *s = json_string_value(id);
        size_t n = json_string_length(id);
        if (!roster_id_valid(s, n)) {
            d->failed = 1;
            d->id = stem_id(d->stem);
            if (!d->id)
                return ROSTER_ENOMEM;
            return roster_diags_add(diags, ROSTER_SEV_ERROR, "id.invalid", d->relpath, kl, 1, NULL,
                                    "id \"%.*s\" does not match " ROSTER_ID_PATTERN,
                                    n > 140 ? 140 : (int)n, s);
        }
        d->id = roster_strndup(s, n);
        return d->id ? 0 : ROSTER_ENOMEM;
    }
    d->id = stem_id(d->stem);
    if (!d->id)
        return ROSTER_ENOMEM;
    if (id) {
        d->failed = 1;
        return roster_diags_add(diags, ROSTER_SEV_ERROR, "id.invalid", d->relpath, kl, 1, NULL,
                                "id must be a string");
    }
    if (!roster_id_valid(d->id, strlen(d->id))) {
        d->failed = 1;
        return roster_diags_add(diags, ROSTER_SEV_ERROR, "id.invalid", d->relpath, 0, 0, NULL,
                                "no id in front matter, and the file name \"%s\" does not give "
                                "a valid id (" ROSTER_ID_PATTERN ")",
                                d->stem);
    }
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "id.missing", d->relpath, 1, 1, NULL,
                            "no id in front matter; using \"%s\" from the file name", d->id);
}

static int check_extends(struct roster_doc *d, const struct roster_fm_split *sp,
                         struct roster_diags *diags)
{
    d->extends_line = key_line(d, sp, "extends");
    d->inherit_line = key_line(d, sp, "inherit");
    d->variables_line = key_line(d, sp, "variables");
    json_t *ext = json_object_get(d->meta, "extends");
    if (!ext || json_is_null(ext) || json_is_string(ext))
        return 0;
    if (json_is_array(ext)) {
        size_t i;
        json_t *v;
        json_array_foreach(ext, i, v)
        {
            if (!json_is_string(v))
                goto bad;
        }
        return 0;
    }
bad:
    d->failed = 1;
    return roster_diags_add(diags, ROSTER_SEV_ERROR, "extends.invalid", d->relpath, d->extends_line,
                            1, NULL, "extends must be a profile id or a list of profile ids");
}

/* What search finds in a section besides its title (kept after the blocks
 * are gone). */
static int section_terms(struct roster_doc *d, struct roster_section *s)
{
    struct roster_buf b;
    roster_buf_init(&b, ROSTER_DOC_MAX_BYTES);
    int r = roster_extract_terms(s, &b);
    if (r == 0 && b.len) {
        s->terms = roster_arena_strndup(d->arena, b.data, b.len);
        r = s->terms ? 0 : ROSTER_ENOMEM;
    }
    roster_buf_release(&b);
    return r;
}

static int doc_parse(struct roster_doc **out, const char *relpath, char *raw, size_t raw_len,
                     const struct roster_doc_opts *opts, struct roster_diags *diags)
{
    struct roster_doc *d = NULL;
    int r = doc_alloc(&d, relpath);
    if (r < 0) {
        roster_free(raw);
        return r;
    }
    d->raw = raw;
    d->raw_len = raw_len;
    roster_sha256_hex(raw, raw_len, d->sha256);
    struct roster_error e;
    roster_error_clear(&e);
    if (raw_len > ROSTER_DOC_MAX_BYTES) {
        d->failed = 1;
        r = roster_diags_add(diags, ROSTER_SEV_ERROR, "file.too_large", relpath, 0, 0, NULL,
                             "the file is %zu bytes, over the limit of %d", raw_len,
                             ROSTER_DOC_MAX_BYTES);
        goto out_id;
    }
    if (!check_bytes(d, diags, &r)) {
        d->failed = 1;
        goto out_id;
    }
    if ((raw_len < 3 || memcmp(raw, "\xEF\xBB\xBF", 3) != 0) && !memchr(raw, '\r', raw_len)) {
        d->text = raw; /* already normalized: share the bytes */
        d->text_len = raw_len;
    } else {
        r = roster_text_normalize(raw, raw_len, &d->text, &d->text_len);
        if (r < 0)
            goto out_fail;
    }
    struct roster_fm_split split;
    if (roster_frontmatter_split(d->text, d->text_len, &split, &e) < 0) {
        d->failed = 1;
        r = report(diags, d, &e, "frontmatter.syntax");
        goto out_id;
    }
    if (split.present) {
        json_t *meta = NULL;
        struct roster_fm_opts fo = {.file = relpath, .diags = diags};
        if (roster_frontmatter_parse_opts(&meta, d->text + split.fm_off, split.fm_len,
                                          split.fm_line, &fo, &e) < 0) {
            d->failed = 1;
            r = e.code == ROSTER_ENOMEM ? ROSTER_ENOMEM
                                        : report(diags, d, &e, "frontmatter.syntax");
            if (r < 0)
                goto out_fail;
            goto out_id;
        }
        json_decref(d->meta);
        d->meta = meta;
    }
    r = set_id(d, &split, diags);
    if (r == 0)
        r = check_extends(d, &split, diags);
    if (r == 0)
        r = roster_ignore_check(d->meta, relpath, key_line(d, &split, "lint"), diags);
    if (r == 0) {
        r = roster_template_check_declarations(d->meta, relpath, d->variables_line, diags);
        d->failed |= r > 0; /* an invalid declaration is an error */
        r = r > 0 ? 0 : r;
    }
    if (r < 0)
        goto out_fail;
    d->strict = opts && opts->strict_markdown;
    d->has_blocks = opts && opts->keep_blocks;
    struct roster_md_opts mo = {.strict = d->strict, .file = relpath};
    if (!d->has_blocks) {
        mo.blocks_arena = roster_arena_new(DOC_ARENA_MAX);
        if (!mo.blocks_arena) {
            r = ROSTER_ENOMEM;
            goto out_fail;
        }
    }
    int mr = roster_markdown_parse(&d->md, d->arena, d->text, d->text_len, split.body_off, &mo,
                                   diags, &e);
    for (size_t i = 0; mr == 0 && i < d->md.nsections && r == 0; i++)
        r = section_terms(d, &d->md.sections[i]);
    if (mr == 0 && r == 0)
        r = roster_lint_doc(d, diags);
    if (mo.blocks_arena) {
        roster_arena_free(mo.blocks_arena);
        d->md.preamble = NULL;
        for (size_t i = 0; mr == 0 && i < d->md.nsections; i++)
            d->md.sections[i].blocks = NULL;
    }
    if (r < 0)
        goto out_fail;
    if (mr < 0) {
        /* out of memory is the build's failure, never the profile's: the
         * return value says so even where the error struct was not filled */
        if (mr == ROSTER_ENOMEM || e.code == ROSTER_ENOMEM) {
            r = ROSTER_ENOMEM;
            goto out_fail;
        }
        d->failed = 1;
        r = report(diags, d, &e, "markdown.parse");
        if (r < 0)
            goto out_fail;
    }
    *out = d;
    return 0;
out_id:
    if (r == 0 && !d->id) {
        d->id = stem_id(d->stem);
        if (!d->id)
            r = ROSTER_ENOMEM;
    }
    if (r == 0) {
        *out = d;
        return 0;
    }
out_fail:
    roster_doc_free(d);
    return r < 0 ? r : ROSTER_ENOMEM;
}

/* The file's diagnostics go to a list of its own first: what its own
 * `lint: {ignore: [...]}` silences is left out of diags. */
int roster_doc_parse(struct roster_doc **out, const char *relpath, char *raw, size_t raw_len,
                     const struct roster_doc_opts *opts, struct roster_diags *diags)
{
    struct roster_diags *own = diags ? roster_diags_new() : NULL;
    struct roster_doc *d = NULL;
    if (diags && !own) {
        roster_free(raw);
        return ROSTER_ENOMEM;
    }
    int r = doc_parse(&d, relpath, raw, raw_len, opts, own);
    if (r == 0 && own)
        r = roster_ignore_append(diags, own, d->meta);
    roster_diags_free(own);
    if (r < 0) {
        roster_doc_free(d);
        return r;
    }
    *out = d;
    return 0;
}

int roster_doc_blocks(const struct roster_doc *d, struct roster_arena **arena, struct roster_md *md)
{
    struct roster_error e;
    roster_error_clear(&e);
    *arena = roster_arena_new(DOC_ARENA_MAX);
    if (!*arena)
        return ROSTER_ENOMEM;
    struct roster_md_opts mo = {.strict = d->strict, .file = d->relpath};
    memset(md, 0, sizeof(*md));
    if (!d->text || d->failed)
        return 0; /* nothing was parsed: no sections either */
    int r =
        roster_markdown_parse(md, *arena, d->text, d->text_len, d->md.body_start, &mo, NULL, &e);
    /* the same text parsed the same way: only memory can make it differ */
    if (r == 0 && md->nsections != d->md.nsections)
        r = ROSTER_EIO;
    return r;
}
