/* Silencing diagnostics (roster_ignore.h): the registry of codes, a
 * file's `lint: {ignore: [...]}` and the filters that apply it. */
#include "roster_ignore.h"

#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_text.h"

/* Every diagnostic code, by kind, sorted. A code that is a warning
 * somewhere is ignorable: its error instances stay all the same. A code
 * added anywhere must be added here (test_check_cli.py checks). */
static const char *const ERROR_CODES[] = {
    "diagnostics.truncated",
    "extends.ambiguous",
    "extends.cycle",
    "extends.invalid",
    "extends.missing",
    "extends.parent_invalid",
    "extends.too_deep",
    "file.invalid_utf8",
    "file.nul_byte",
    "file.too_large",
    "frontmatter.alias",
    "frontmatter.anchor",
    "frontmatter.duplicate_key",
    "frontmatter.key",
    "frontmatter.multiple_documents",
    "frontmatter.non_scalar_key",
    "frontmatter.not_mapping",
    "frontmatter.oom",
    "frontmatter.syntax",
    "frontmatter.tag",
    "frontmatter.too_deep",
    "frontmatter.too_large",
    "frontmatter.too_many_nodes",
    "frontmatter.unclosed",
    "id.duplicate",
    "id.invalid",
    "index.too_many_files",
    "markdown.oom",
    "markdown.parse",
    "markdown.too_deep",
    "markdown.too_large",
    "markdown.too_many_sections",
    "template.invalid_declaration",
    NULL,
};

static const char *const IGNORABLE_CODES[] = {
    "file.not_regular",
    "file.path_too_long",
    "file.symlink_broken",
    "file.symlink_loop",
    "file.symlink_outside",
    "file.too_deep",
    "file.unreadable",
    "frontmatter.number_as_string",
    "id.missing",
    "inherit.invalid",
    "inherit.unknown_section",
    "lint.invalid",
    "markdown.fence_info_closer",
    "markdown.fence_repair_limit",
    "markdown.heading_no_space",
    "markdown.unclosed_fence",
    "prompt.multiple_roles",
    "section.unreadable",
    "section.wrong_level",
    "template.invalid_default",
    "template.too_many_placeholders",
    "template.undeclared",
    "template.unused",
    "tools.duplicate_rank",
    NULL,
};

static int listed(const char *const *list, const char *code, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, code, len) == 0)
            return 1;
    return 0;
}

enum roster_code_kind roster_ignore_code_kind(const char *code, size_t len)
{
    if (listed(IGNORABLE_CODES, code, len))
        return ROSTER_CODE_IGNORABLE;
    return listed(ERROR_CODES, code, len) ? ROSTER_CODE_ERROR : ROSTER_CODE_UNKNOWN;
}

static void suggest(struct roster_nearest *nr)
{
    for (const char *const *c = IGNORABLE_CODES; *c; c++)
        roster_text_nearest_offer(nr, *c);
}

int roster_ignore_why(const char *who, const char *code, size_t len, char *msg, size_t cap)
{
    enum roster_code_kind kind = roster_ignore_code_kind(code, len);
    int cl = (int)(len > 80 ? 80 : len);
    if (kind == ROSTER_CODE_IGNORABLE)
        return 0;
    if (kind == ROSTER_CODE_ERROR) {
        snprintf(msg, cap, "%s: \"%.*s\" is an error, and errors cannot be ignored", who, cl, code);
        return 1;
    }
    struct roster_nearest nr;
    struct roster_buf b;
    roster_text_nearest_init(&nr, code, len, 3);
    suggest(&nr);
    roster_buf_init(&b, 400);
    int ok = roster_text_nearest_format(&nr, &b) == 0 && b.len;
    snprintf(msg, cap, "%s: \"%.*s\" is no diagnostic code%s%s%s", who, cl, code,
             ok ? " (did you mean " : "", ok ? b.data : "", ok ? "?)" : "");
    roster_buf_release(&b);
    return 1;
}

/* ---- lint: {ignore: [...]} --------------------------------------------- */

static int invalid(struct roster_diags *diags, const char *file, unsigned line, const char *msg)
{
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "lint.invalid", file, line, 1, NULL, "%s",
                            msg);
}

/* What is wrong with one entry of lint.ignore, in msg; 0 when nothing. */
static int entry_problem(const json_t *v, size_t i, char *msg, size_t cap)
{
    if (!json_is_string(v)) {
        snprintf(msg, cap, "lint.ignore entry %zu is not a diagnostic code (a string)", i + 1);
        return 1;
    }
    return roster_ignore_why("lint.ignore entry", json_string_value(v), json_string_length(v), msg,
                             cap);
}

static int check_list(const json_t *ignore, const char *file, unsigned line,
                      struct roster_diags *diags)
{
    char msg[600];
    if (!json_is_array(ignore))
        return invalid(diags, file, line,
                       "lint.ignore must be a list of diagnostic codes, e.g. "
                       "lint: {ignore: [markdown.fence_info_closer]}");
    size_t i;
    const json_t *v;
    json_array_foreach(ignore, i, v)
    {
        if (!entry_problem(v, i, msg, sizeof(msg)))
            continue;
        int r = invalid(diags, file, line, msg);
        if (r < 0)
            return r;
    }
    return 0;
}

int roster_ignore_check(const json_t *meta, const char *file, unsigned line,
                        struct roster_diags *diags)
{
    const json_t *lint = json_object_get(meta, "lint");
    if (!lint || json_is_null(lint))
        return 0;
    if (!json_is_object(lint))
        return invalid(diags, file, line,
                       "lint must be a mapping, e.g. lint: {ignore: [markdown.fence_info_closer]}");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)lint, key, v)
    {
        if (strcmp(key, "ignore") == 0)
            continue;
        char msg[200];
        snprintf(msg, sizeof(msg), "unknown key \"%.80s\" in lint: the only key is ignore", key);
        int r = invalid(diags, file, line, msg);
        if (r < 0)
            return r;
    }
    const json_t *ignore = json_object_get(lint, "ignore");
    return ignore ? check_list(ignore, file, line, diags) : 0;
}

int roster_ignore_silences(const json_t *meta, const struct roster_diag *g)
{
    const json_t *ignore = json_object_get(json_object_get(meta, "lint"), "ignore");
    if (!json_is_array(ignore) || g->severity == ROSTER_SEV_ERROR || !g->code)
        return 0;
    size_t i;
    const json_t *v;
    json_array_foreach(ignore, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), g->code) == 0)
            return 1;
    }
    return 0;
}

static int copy_diag(struct roster_diags *dst, const struct roster_diag *g)
{
    return roster_diags_add(dst, g->severity, g->code, g->file, g->line, g->col, g->profile, "%s",
                            g->message ? g->message : "");
}

int roster_ignore_append(struct roster_diags *dst, const struct roster_diags *src,
                         const json_t *meta)
{
    const json_t *ignore = json_object_get(json_object_get(meta, "lint"), "ignore");
    if (!json_array_size(ignore) || roster_diags_dropped(src))
        return roster_diags_append(dst, src, NULL);
    for (size_t i = 0; i < roster_diags_count(src); i++) {
        const struct roster_diag *g = roster_diags_get(src, i);
        if (roster_ignore_silences(meta, g))
            continue;
        int r = copy_diag(dst, g);
        if (r < 0)
            return r;
    }
    return 0;
}

static int silenced(const struct roster_diag *g, roster_ignore_meta_fn meta_of, void *ctx)
{
    if (g->severity == ROSTER_SEV_ERROR || !g->file)
        return 0;
    const json_t *meta = meta_of(ctx, g->file);
    return meta && roster_ignore_silences(meta, g);
}

int roster_ignore_filter(struct roster_diags **list, size_t from, roster_ignore_meta_fn meta_of,
                         void *ctx)
{
    struct roster_diags *old = *list;
    size_t n = roster_diags_count(old), first = n;
    for (size_t i = from; i < n && first == n; i++)
        if (silenced(roster_diags_get(old, i), meta_of, ctx))
            first = i;
    if (first == n || roster_diags_dropped(old))
        return 0;
    struct roster_diags *kept = roster_diags_new();
    if (!kept)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct roster_diag *g = roster_diags_get(old, i);
        if (i >= first && silenced(g, meta_of, ctx))
            continue;
        int r = copy_diag(kept, g);
        if (r < 0) {
            roster_diags_free(kept);
            return r;
        }
    }
    roster_diags_free(old);
    *list = kept;
    return 0;
}
