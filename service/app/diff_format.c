/* The text, Markdown and GitHub forms of a `rosterd diff` result
 * (diff.h). They read only the result document, so every form says the
 * same as the JSON one. */
#include "diff.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"

/* Field values are shown as compact JSON, cut at this many bytes. */
#define VALUE_SHOWN 160

static const char *const CHANGE_KINDS[] = {"added", "removed", "moved", "changed"};

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static int summary_line(const json_t *res, struct roster_buf *b)
{
    const json_t *s = json_object_get(res, "summary");
    return roster_buf_printf(
        b, "%lld changed, %lld added, %lld removed, %lld errors, %lld unchanged", num(s, "changed"),
        num(s, "added"), num(s, "removed"), num(s, "errors"), num(s, "unchanged"));
}

/* v as compact JSON, at most VALUE_SHOWN bytes (cut at a character, with
 * "..."), into buf. */
static void shown(const json_t *v, char *buf, size_t cap)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = s ? strlen(s) : 0, keep = n;
    if (keep > VALUE_SHOWN) {
        keep = VALUE_SHOWN;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
    }
    snprintf(buf, cap, "%.*s%s", (int)keep, s ? s : "null", keep < n ? "..." : "");
    roster_free(s);
}

/* The names of a profile's changed views, or fields, ", "-separated. */
static int put_keys(struct roster_buf *b, const json_t *obj, const char *none)
{
    const char *key;
    const json_t *v;
    int r = 0, first = 1;
    json_object_foreach((json_t *)obj, key, v)
    {
        r = r ? r : roster_buf_printf(b, "%s%s", first ? "" : ", ", key);
        first = 0;
    }
    return r || !first ? r : roster_buf_puts(b, none);
}

static int put_lines(struct roster_buf *b, const json_t *p)
{
    const json_t *l = json_object_get(p, "prompt_lines");
    return roster_buf_printf(b, "+%lld -%lld", num(l, "added"), num(l, "removed"));
}

/* Where an item change happened: "(from base, at 3)". */
static int put_where(struct roster_buf *b, const char *kind, const json_t *it)
{
    int r = roster_buf_printf(b, "(from %s", str(it, "from"));
    if (strcmp(kind, "moved") == 0)
        r = r ? r
              : roster_buf_printf(b, ", %lld -> %lld", num(it, "old_position"),
                                  num(it, "new_position"));
    else if (strcmp(kind, "changed") == 0 && strcmp(str(it, "old_from"), str(it, "from")) != 0)
        r = r ? r : roster_buf_printf(b, ", was from %s", str(it, "old_from"));
    else if (strcmp(kind, "changed") != 0)
        r = r ? r
              : roster_buf_printf(b, ", %s %lld", strcmp(kind, "removed") ? "at" : "was at",
                                  num(it, "position"));
    r = r ? r : roster_buf_putc(b, ')');
    if (r == 0 && strcmp(kind, "changed") == 0) {
        r = roster_buf_puts(b, ": ");
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(it, "fields"), i, f)
        {
            r = r ? r : roster_buf_printf(b, "%s%s", i ? ", " : "", json_string_value(f));
        }
    }
    return r;
}

/* ---- text ----------------------------------------------------------------- */

static int text_items(struct roster_buf *b, const json_t *views)
{
    const char *view;
    const json_t *ch;
    int r = 0;
    json_object_foreach((json_t *)views, view, ch)
    {
        r = r ? r : roster_buf_printf(b, "  %s:\n", view);
        for (size_t k = 0; r == 0 && k < 4; k++) {
            size_t i;
            const json_t *it;
            json_array_foreach(json_object_get(ch, CHANGE_KINDS[k]), i, it)
            {
                const char *list = str(it, "list");
                r = r ? r
                      : roster_buf_printf(b, "    %-8s %s%s%s%s ", CHANGE_KINDS[k],
                                          *list ? "[" : "", list, *list ? "] " : "",
                                          str(it, "key"));
                r = r ? r : put_where(b, CHANGE_KINDS[k], it);
                r = r ? r : roster_buf_putc(b, '\n');
            }
        }
    }
    return r;
}

static int text_fields(struct roster_buf *b, const json_t *fields)
{
    const char *name;
    const json_t *f;
    int r = json_object_size(fields) ? roster_buf_puts(b, "  fields:\n") : 0;
    json_object_foreach((json_t *)fields, name, f)
    {
        char a[VALUE_SHOWN + 16], c[VALUE_SHOWN + 16];
        shown(json_object_get(f, "old"), a, sizeof(a));
        shown(json_object_get(f, "new"), c, sizeof(c));
        r = r ? r : roster_buf_printf(b, "    %s: %s -> %s\n", name, a, c);
    }
    return r;
}

static int text_errors(struct roster_buf *b, const json_t *errors)
{
    size_t i;
    const json_t *g;
    int r = 0;
    json_array_foreach(errors, i, g)
    {
        r = r ? r
              : roster_buf_printf(b, "  %s: %s:%lld:%lld: error: %s [%s]\n", str(g, "side"),
                                  json_is_string(json_object_get(g, "file")) ? str(g, "file") : "-",
                                  num(g, "line"), num(g, "column"), str(g, "message"),
                                  str(g, "code"));
    }
    return r;
}

static int text_profile(struct roster_buf *b, const json_t *p)
{
    const char *status = str(p, "status");
    const json_t *edited = json_object_get(p, "edited");
    int r = roster_buf_printf(b, "%s: %s (%s)\n", str(p, "id"), status, str(p, "file"));
    if (r == 0 && json_array_size(edited) && strcmp(status, "changed") == 0) {
        r = roster_buf_puts(b, "  edited: ");
        size_t i;
        const json_t *e;
        json_array_foreach(edited, i, e)
        {
            r = r ? r : roster_buf_printf(b, "%s%s", i ? ", " : "", json_string_value(e));
        }
        r = r ? r : roster_buf_putc(b, '\n');
    }
    r = r ? r : text_errors(b, json_object_get(p, "errors"));
    r = r ? r : text_items(b, json_object_get(p, "views"));
    r = r ? r : text_fields(b, json_object_get(p, "fields"));
    if (r == 0 && strcmp(status, "error") != 0) {
        r = roster_buf_puts(b, "  prompt: ");
        r = r ? r : put_lines(b, p);
        r = r ? r : roster_buf_puts(b, " lines");
        if (r == 0 && json_is_true(json_object_get(p, "prompt_replaced")))
            r = roster_buf_puts(b, " (whole prompt replaced: over the diff's size limits)");
        r = r ? r : roster_buf_putc(b, '\n');
    }
    const char *diff = json_string_value(json_object_get(p, "prompt_diff"));
    r = r || !diff ? r : roster_buf_puts(b, diff);
    return r ? r : roster_buf_putc(b, '\n');
}

int roster_diff_format_text(const json_t *res, struct roster_buf *out)
{
    size_t i;
    const json_t *p;
    int r = 0;
    json_array_foreach(json_object_get(res, "profiles"), i, p)
    {
        if (r == 0 && strcmp(str(p, "status"), "unchanged") != 0)
            r = text_profile(out, p);
    }
    r = r ? r : summary_line(res, out);
    return r ? r : roster_buf_putc(out, '\n');
}

/* ---- markdown ------------------------------------------------------------- */

/* s as a code span: a backtick run longer than any inside, padded when s
 * starts or ends with one; line breaks become spaces, and in a table
 * '|' is escaped. */
static int md_code(struct roster_buf *b, const char *s, int table)
{
    size_t run = 0, longest = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    int pad = n == 0 || s[0] == '`' || s[n - 1] == '`';
    int r = 0;
    for (size_t k = 0; r == 0 && k <= longest; k++)
        r = roster_buf_putc(b, '`');
    r = r || !pad ? r : roster_buf_putc(b, ' ');
    for (size_t i = 0; r == 0 && i < n; i++) {
        char c = s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
        r = table && c == '|' ? roster_buf_puts(b, "\\|") : roster_buf_putc(b, c);
    }
    r = r || !pad ? r : roster_buf_putc(b, ' ');
    for (size_t k = 0; r == 0 && k <= longest; k++)
        r = roster_buf_putc(b, '`');
    return r;
}

static int html_text(struct roster_buf *b, const char *s)
{
    int r = 0;
    for (; r == 0 && *s; s++)
        r = *s == '<'   ? roster_buf_puts(b, "&lt;")
            : *s == '>' ? roster_buf_puts(b, "&gt;")
            : *s == '&' ? roster_buf_puts(b, "&amp;")
                        : roster_buf_putc(b, *s);
    return r;
}

static int md_row(struct roster_buf *b, const json_t *p)
{
    int r = roster_buf_puts(b, "| ");
    r = r ? r : md_code(b, str(p, "id"), 1);
    r = r ? r : roster_buf_printf(b, " | %s | ", str(p, "status"));
    r = r ? r : put_keys(b, json_object_get(p, "views"), "-");
    r = r ? r : roster_buf_puts(b, " | ");
    r = r ? r : put_keys(b, json_object_get(p, "fields"), "-");
    r = r ? r : roster_buf_puts(b, " | ");
    r = r ? r : (strcmp(str(p, "status"), "error") ? put_lines(b, p) : roster_buf_putc(b, '-'));
    return r ? r : roster_buf_puts(b, " |\n");
}

static int md_items(struct roster_buf *b, const json_t *views)
{
    const char *view;
    const json_t *ch;
    int r = 0;
    json_object_foreach((json_t *)views, view, ch)
    {
        r = r ? r : roster_buf_printf(b, "**%s**\n\n", view);
        for (size_t k = 0; r == 0 && k < 4; k++) {
            size_t i;
            const json_t *it;
            json_array_foreach(json_object_get(ch, CHANGE_KINDS[k]), i, it)
            {
                r = r ? r : roster_buf_printf(b, "- %s ", CHANGE_KINDS[k]);
                if (r == 0 && *str(it, "list"))
                    r = roster_buf_printf(b, "(%s) ", str(it, "list"));
                r = r ? r : md_code(b, str(it, "key"), 0);
                r = r ? r : roster_buf_putc(b, ' ');
                r = r ? r : put_where(b, CHANGE_KINDS[k], it);
                r = r ? r : roster_buf_putc(b, '\n');
            }
        }
        r = r ? r : roster_buf_putc(b, '\n');
    }
    return r;
}

static int md_fields(struct roster_buf *b, const json_t *fields)
{
    const char *name;
    const json_t *f;
    int r = json_object_size(fields) ? roster_buf_puts(b, "**fields**\n\n") : 0;
    json_object_foreach((json_t *)fields, name, f)
    {
        char a[VALUE_SHOWN + 16], c[VALUE_SHOWN + 16];
        shown(json_object_get(f, "old"), a, sizeof(a));
        shown(json_object_get(f, "new"), c, sizeof(c));
        r = r ? r : roster_buf_puts(b, "- ");
        r = r ? r : md_code(b, name, 0);
        r = r ? r : roster_buf_puts(b, ": ");
        r = r ? r : md_code(b, a, 0);
        r = r ? r : roster_buf_puts(b, " -> ");
        r = r ? r : md_code(b, c, 0);
        r = r ? r : roster_buf_putc(b, '\n');
    }
    return r || !json_object_size(fields) ? r : roster_buf_putc(b, '\n');
}

/* The prompt diff in a fence longer than any backtick run inside it, or
 * a note when the output would pass the budget. */
static int md_diff(struct roster_buf *b, const char *diff, size_t start)
{
    size_t n = strlen(diff), run = 0, longest = 0;
    if (b->len - start + n > ROSTER_DIFF_MARKDOWN_BUDGET)
        return roster_buf_puts(b, "_The prompt diff is left out: the summary would pass GitHub's "
                                  "size limit. Run `rosterd diff` to see it._\n\n");
    for (size_t i = 0; i < n; i++) {
        run = diff[i] == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    size_t fence = longest < 3 ? 3 : longest + 1;
    int r = 0;
    for (size_t k = 0; r == 0 && k < fence; k++)
        r = roster_buf_putc(b, '`');
    r = r ? r : roster_buf_puts(b, "diff\n");
    r = r ? r : roster_buf_puts(b, diff);
    for (size_t k = 0; r == 0 && k < fence; k++)
        r = roster_buf_putc(b, '`');
    return r ? r : roster_buf_puts(b, "\n\n");
}

static int md_details(struct roster_buf *b, const json_t *p, size_t start)
{
    const char *status = str(p, "status");
    int r = roster_buf_puts(b, "<details><summary>");
    r = r ? r : html_text(b, str(p, "id"));
    r = r ? r : roster_buf_printf(b, "</summary>\n\n**%s** ", status);
    r = r ? r : md_code(b, str(p, "file"), 0);
    const json_t *edited = json_object_get(p, "edited");
    if (r == 0 && json_array_size(edited) && strcmp(status, "changed") == 0) {
        r = roster_buf_puts(b, ", edited:");
        size_t i;
        const json_t *e;
        json_array_foreach(edited, i, e)
        {
            r = r ? r : roster_buf_puts(b, i ? ", " : " ");
            r = r ? r : md_code(b, json_string_value(e), 0);
        }
    }
    r = r ? r : roster_buf_puts(b, "\n\n");
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(p, "errors"), i, g)
    {
        char line[64];
        snprintf(line, sizeof(line), ":%lld:%lld", num(g, "line"), num(g, "column"));
        r = r ? r : roster_buf_printf(b, "- %s: ", str(g, "side"));
        r = r ? r : md_code(b, str(g, "file"), 0);
        r = r ? r : roster_buf_printf(b, "%s error: ", line);
        r = r ? r : md_code(b, str(g, "message"), 0);
        r = r ? r : roster_buf_printf(b, " [%s]\n", str(g, "code"));
    }
    r = r || !json_array_size(json_object_get(p, "errors")) ? r : roster_buf_putc(b, '\n');
    r = r ? r : md_items(b, json_object_get(p, "views"));
    r = r ? r : md_fields(b, json_object_get(p, "fields"));
    const char *diff = json_string_value(json_object_get(p, "prompt_diff"));
    if (r == 0 && diff && json_is_true(json_object_get(p, "prompt_replaced")))
        r = roster_buf_puts(b, "_The whole prompt is shown replaced: it is over the diff's size "
                               "limits._\n\n");
    r = r || !diff ? r : md_diff(b, diff, start);
    return r ? r : roster_buf_puts(b, "</details>\n\n");
}

int roster_diff_format_markdown(const json_t *res, struct roster_buf *out)
{
    size_t start = out->len, i;
    const json_t *p, *profiles = json_object_get(res, "profiles");
    const json_t *s = json_object_get(res, "summary");
    int any = num(s, "added") + num(s, "removed") + num(s, "changed") + num(s, "errors") > 0;
    int r = roster_buf_puts(out, "## rosterd diff\n\n");
    r = r ? r : summary_line(res, out);
    r = r ? r : roster_buf_puts(out, "\n\n");
    if (r == 0 && any)
        r = roster_buf_puts(out, "| profile | status | views changed | fields changed | "
                                 "prompt lines |\n| --- | --- | --- | --- | --- |\n");
    json_array_foreach(profiles, i, p)
    {
        if (r == 0 && strcmp(str(p, "status"), "unchanged") != 0)
            r = md_row(out, p);
    }
    r = r || !any ? r : roster_buf_putc(out, '\n');
    json_array_foreach(profiles, i, p)
    {
        if (r == 0 && strcmp(str(p, "status"), "unchanged") != 0)
            r = md_details(out, p, start);
    }
    return r;
}

/* ---- GitHub workflow commands ----------------------------------------------- */

static int gh_message(struct roster_buf *m, const json_t *p)
{
    const char *status = str(p, "status");
    const json_t *views = json_object_get(p, "views"), *fields = json_object_get(p, "fields");
    int r = 0;
    if (json_object_size(views)) {
        r = roster_buf_puts(m, "views: ");
        r = r ? r : put_keys(m, views, "");
        r = r ? r : roster_buf_puts(m, "; ");
    }
    if (r == 0 && json_object_size(fields)) {
        r = roster_buf_puts(m, "fields: ");
        r = r ? r : put_keys(m, fields, "");
        r = r ? r : roster_buf_puts(m, "; ");
    }
    r = r ? r : roster_buf_puts(m, "prompt lines: ");
    r = r ? r : put_lines(m, p);
    const json_t *edited = json_object_get(p, "edited");
    if (r == 0 && strcmp(status, "changed") == 0 && json_array_size(edited)) {
        size_t i;
        const json_t *e;
        r = roster_buf_puts(m, "; edited:");
        json_array_foreach(edited, i, e)
        {
            r = r ? r : roster_buf_printf(m, "%s%s", i ? ", " : " ", json_string_value(e));
        }
    }
    return r;
}

static int gh_command(struct roster_buf *out, enum roster_severity sev, const char *title,
                      const char *file, long long line, const char *message)
{
    struct roster_diag g = {
        .severity = sev,
        .code = (char *)title,
        .file = file && *file ? (char *)file : NULL,
        .line = line > 0 && line < 0x7fffffff ? (unsigned)line : 0,
        .message = (char *)message,
    };
    return roster_diag_format_github(&g, out);
}

/* One ::warning per error diagnostic of a profile, at its file and line. */
static int gh_errors(struct roster_buf *out, const json_t *p, const char *title)
{
    size_t i;
    const json_t *g;
    int r = 0;
    json_array_foreach(json_object_get(p, "errors"), i, g)
    {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s side: %s [%s]", str(g, "side"), str(g, "message"),
                 str(g, "code"));
        r = r ? r
              : gh_command(out, ROSTER_SEV_WARNING, title,
                           json_is_string(json_object_get(g, "file")) ? str(g, "file")
                                                                      : str(p, "file"),
                           num(g, "line"), msg);
    }
    return r;
}

int roster_diff_format_github(const json_t *res, struct roster_buf *out)
{
    size_t i;
    const json_t *p;
    int r = 0;
    json_array_foreach(json_object_get(res, "profiles"), i, p)
    {
        const char *status = str(p, "status");
        if (r || strcmp(status, "unchanged") == 0)
            continue;
        char title[300];
        snprintf(title, sizeof(title), "rosterd diff: %s %s", str(p, "id"),
                 strcmp(status, "error") == 0 ? "has errors" : status);
        if (strcmp(status, "error") == 0) {
            r = gh_errors(out, p, title);
            continue;
        }
        struct roster_buf m;
        roster_buf_init(&m, (size_t)1 << 20);
        r = gh_message(&m, p);
        r = r ? r
              : gh_command(out, strcmp(status, "removed") ? ROSTER_SEV_INFO : ROSTER_SEV_WARNING,
                           title, str(p, "file"), 0, m.data ? m.data : "");
        roster_buf_release(&m);
    }
    return r;
}
