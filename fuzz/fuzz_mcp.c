/* The MCP JSON-RPC request path (http/mcp.c, http/mcp_methods.c) against
 * a small snapshot built at the first call from the fixed profiles below
 * (and kept, with a reload of it, for the life of the process). The input is messages, one per line
 * ("\n"-separated; empty lines are skipped, as the stdio transport skips them), answered in order
 * by one new session:
 *
 *   {"jsonrpc":"2.0","id":1,"method":"initialize","params":{...}}
 *   {"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{...}}
 *
 * Every response must be a JSON-RPC response (an object with jsonrpc
 * "2.0", an id, and exactly one of result and error) and every
 * notification a JSON-RPC notification; anything else aborts. After the
 * messages, the session sees a reload to the same snapshot (no
 * notification), one to the reloaded snapshot (its subscriptions and list
 * changes) and a log message, then is freed. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_mcp.h"
#include "roster_snapshot.h"
#include "roster_template.h"

/* Small, so that lists page (resources: one profile per page). */
#define PAGE_SIZE 2

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the API is a crash, so the fuzzer keeps it. */
static void expect(int ok)
{
    if (!ok)
        abort();
}

/* The profiles: variables of every kind (a required one, enums, a
 * pattern, a max_length), an override of an inherited enum, none at all,
 * descriptions and titles from each fallback (the role statement, cut on
 * a UTF-8 boundary; the id; a name too long for a title), non-ASCII text,
 * a prompt with too many placeholders to be a template (the template
 * counts segments, text and placeholders, up to twice the maximum; the
 * index warns from one placeholder over it), and one that is
 * not served (its parent does not exist). A file's text is text, then
 * repeat `times` times, then tail. gens: in the first snapshot (1), the
 * second (2) or both (3); the second, a reload of the first, drops
 * zz-utf8, changes worker and adds new-one. */
struct file {
    const char *name;
    unsigned gens;
    const char *text;
    const char *repeat;
    size_t times;
    const char *tail;
};
static const struct file FILES[] = {
    {"tpl-parent.md", 3,
     "---\n"
     "id: tpl-parent\n"
     "name: Template Parent\n"
     "category: template\n"
     "description: Declares variables of every kind\n"
     "version: \"1.0\"\n"
     "role: templater\n"
     "variables:\n"
     "  task:\n"
     "    description: What to do\n"
     "    required: true\n"
     "  language:\n"
     "    description: Main language\n"
     "    default: Go\n"
     "    enum: [Go, Python, C, Grace]\n"
     "  repo_url:\n"
     "    description: Repository\n"
     "    pattern: \"^https://\"\n"
     "  ticket:\n"
     "    description: Ticket reference\n"
     "    max_length: 8\n"
     "---\n\n"
     "# Template Parent\n\n"
     "You are dispatched to do this: {{ task }}. Work in {{language}}.\n\n"
     "## Context\n\n"
     "- Repository: {{ repo_url }}\n"
     "- Ticket: {{ticket}}\n"
     "- Literal braces stay: {{{{ not a placeholder }}\n\n"
     "```raw\n{{ task }} is written as is here\n```\n",
     NULL, 0, NULL},
    {"sub/tpl-child.md", 3,
     "---\n"
     "id: tpl-child\n"
     "name: Template Child\n"
     "description: Overrides an inherited declaration and adds one\n"
     "extends: tpl-parent\n"
     "variables:\n"
     "  language:\n"
     "    default: Python\n"
     "    enum: [Python, Rust]\n"
     "  audience:\n"
     "    default: the team\n"
     "---\n\n"
     "## Audience\n\n"
     "Written for {{ audience }}; examples in {{ language }}.\n",
     NULL, 0, NULL},
    {"tpl-plain.md", 3,
     "---\n"
     "id: tpl-plain\n"
     "name: Template Plain\n"
     "description: Declares no variables\n"
     "---\n\n"
     "# Template Plain\n\n"
     "A prompt without placeholders.\n",
     NULL, 0, NULL},
    {"worker.md", 1,
     "---\n"
     "id: worker\n"
     "---\n\n"
     "# Worker\n\n"
     "Builds things carefully and explains every step in plain words. Second "
     "sentence.\n\n"
     "## Anti-Patterns\n\n"
     "- \xe2\x9d\x8c Guessing\n",
     NULL, 0, NULL},
    {"zz-utf8.md", 1,
     "---\n"
     "id: zz-utf8\n"
     "name: \"Gr\xc3\xbc\xc3\x9f \xe2\x9c\x85\"\n"
     "variables:\n"
     "  mood:\n"
     "    enum: [\"fr\xc3\xb6hlich\", calm]\n"
     "    default: calm\n"
     "---\n\n"
     "# Gr\xc3\xbc\xc3\x9f\n\n"
     "Feel {{ mood }}.\n",
     NULL, 0, NULL},
    {"orphan.md", 3,
     "---\n"
     "id: orphan\n"
     "extends: no-such-parent\n"
     "---\n\n"
     "# Orphan\n\n"
     "Never served.\n",
     NULL, 0, NULL},
    {"worker.md", 2, "---\nid: worker\n---\n\n# Worker\n\nBuilds things, changed by a reload.\n",
     NULL, 0, NULL},
    {"new-one.md", 2, "---\nid: new-one\nname: New One\n---\n\n# New\n\nAdded by a reload.\n", NULL,
     0, NULL},
    {"long-role.md", 3, "---\nid: long-role\n---\n\n# Long Role\n\n", "abcdefghi ", 29,
     "abcdefghi\xc3\xa9\xc3\xa9 and no sentence end\n"},
    {"bare.md", 3, "---\nid: bare\n---\n\nNo heading, so no role statement.\n", NULL, 0, NULL},
    {"long-name.md", 3, "---\nid: long-name\nname: ", "Longname ", 46,
     "end\n---\n\n# Long Name\n\nA title too long for its prompt's title.\n"},
    {"placeholders.md", 3,
     "---\nid: placeholders\nvariables:\n  x:\n    default: y\n---\n\n# Many\n\n", "{{x}} ",
     ROSTER_TEMPLATE_MAX_PLACEHOLDERS + 200, "\n"},
};

/* Profiles served by each snapshot: every file of it but orphan. */
#define SERVED_1 9
#define SERVED_2 9

static int write_file(const char *path, const struct file *f)
{
    FILE *out = fopen(path, "wb");
    if (!out)
        return -1;
    int bad = fputs(f->text, out) < 0;
    for (size_t i = 0; !bad && f->repeat && i < f->times; i++)
        bad = fputs(f->repeat, out) < 0;
    if (!bad && f->tail)
        bad = fputs(f->tail, out) < 0;
    return fclose(out) != 0 || bad ? -1 : 0;
}

/* Writes the files of generation gen under dir (its sub/ made first). */
static int write_tree(const char *dir, unsigned gen)
{
    char path[512];
    int n = snprintf(path, sizeof(path), "%s/sub", dir);
    if (n < 0 || (size_t)n >= sizeof(path) || mkdir(path, 0700) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
        if (!(FILES[i].gens & gen))
            continue;
        n = snprintf(path, sizeof(path), "%s/%s", dir, FILES[i].name);
        if (n < 0 || (size_t)n >= sizeof(path) || write_file(path, &FILES[i]) < 0)
            return -1;
    }
    return 0;
}

/* Removes what write_tree wrote (as far as it got). */
static void remove_tree(const char *dir)
{
    char path[512];
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
        int n = snprintf(path, sizeof(path), "%s/%s", dir, FILES[i].name);
        if (n >= 0 && (size_t)n < sizeof(path))
            unlink(path);
    }
    int n = snprintf(path, sizeof(path), "%s/sub", dir);
    if (n >= 0 && (size_t)n < sizeof(path))
        rmdir(path);
    rmdir(dir);
}

/* The snapshot of generation gen (a reload of previous), kept for the
 * life of the process. Only the build reads the files (rendering reads
 * the parsed index), so the directory goes right after it. The harness
 * is useless without its profiles: anything unexpected aborts. */
static struct roster_snapshot *build(unsigned gen, const struct roster_snapshot *previous,
                                     size_t served)
{
    const char *tmp = getenv("TMPDIR");
    char dir[400];
    int n = snprintf(dir, sizeof(dir), "%s/roster-fuzz-mcp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    expect(n > 0 && (size_t)n < sizeof(dir) && mkdtemp(dir) != NULL);
    int bad = write_tree(dir, gen);
    struct roster_snapshot *snap = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot_opts o = {
        .dir = dir, .generation = gen, .previous = previous, .index_threads = 1};
    if (!bad)
        bad = roster_snapshot_build(&snap, &o, &err);
    remove_tree(dir);
    if (bad || snap->served != served) {
        fprintf(stderr, "fuzz_mcp: the snapshot of the fixed profiles (%u) is not as expected\n",
                gen);
        abort();
    }
    return snap;
}

static int is_notification(const json_t *m)
{
    const char *v = json_string_value(json_object_get(m, "jsonrpc"));
    return json_is_object(m) && v && strcmp(v, "2.0") == 0 &&
           json_is_string(json_object_get(m, "method")) && json_object_get(m, "id") == NULL;
}

/* The notify hook: what a transport does with a notification. */
static void on_notify(void *ctx, const json_t *msg)
{
    size_t *count = ctx;
    (*count)++;
    expect(is_notification(msg));
    char *s = json_dumps(msg, JSON_COMPACT);
    expect(s != NULL);
    free(s);
}

/* A JSON-RPC 2.0 response: jsonrpc "2.0", an id (a string, an integer or
 * null), exactly one of result and error, and an error with an integer
 * code and a string message. */
static void check_response(const json_t *r)
{
    expect(json_is_object(r));
    const char *v = json_string_value(json_object_get(r, "jsonrpc"));
    expect(v && strcmp(v, "2.0") == 0);
    const json_t *id = json_object_get(r, "id");
    expect(json_is_string(id) || json_is_integer(id) || json_is_null(id));
    const json_t *result = json_object_get(r, "result"), *error = json_object_get(r, "error");
    expect((result != NULL) != (error != NULL));
    if (result)
        expect(json_is_object(result));
    if (error) {
        expect(json_is_integer(json_object_get(error, "code")));
        expect(json_is_string(json_object_get(error, "message")));
    }
    char *s = json_dumps(r, JSON_COMPACT);
    expect(s != NULL);
    free(s);
}

/* No answer is for a notification (no id) or a client's response (an id,
 * no method, a result or an error) only: every request gets one. */
static void check_silence(const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    expect(json_is_object(m));
    const json_t *id = json_object_get(m, "id");
    expect(!id || (!json_object_get(m, "method") &&
                   (json_object_get(m, "result") || json_object_get(m, "error"))));
    json_decref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct roster_snapshot *snap, *reloaded;
    if (!snap) {
        snap = build(1, NULL, SERVED_1);
        reloaded = build(2, snap, SERVED_2);
    }
    size_t notes = 0;
    struct roster_mcp_session *s = NULL;
    struct roster_mcp_opts o = {
        .server_version = "0.0-fuzz", .page_size = PAGE_SIZE, .notify = on_notify, .ctx = &notes};
    if (roster_mcp_session_new(&s, &o) < 0)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            json_t *r = roster_mcp_handle_text(s, snap, p, len);
            if (r)
                check_response(r);
            else
                check_silence(p, len);
            json_decref(r);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    size_t before_changes = notes;
    roster_mcp_snapshot_changed(s, snap, snap); /* nothing changed: no notification */
    expect(notes == before_changes);
    roster_mcp_snapshot_changed(s, snap, reloaded);
    json_t *d = json_pack("{s:s}", "event", "fuzz");
    if (d)
        roster_mcp_log(s, ROSTER_MCP_ERROR, d);
    json_decref(d);
    roster_mcp_session_free(s);
    return 0;
}
