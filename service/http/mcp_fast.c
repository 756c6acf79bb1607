/* prompts/get and resources/read written as bytes. Their answers are one
 * long string each (a prompt, a representation), which a jansson tree
 * would copy, check and escape again on every request: here the prompt
 * comes from the template's pre-escaped segments (as POST .../prompt's
 * JSON answer does) and a representation from its JSON string made once
 * (roster_rep_json_text). The bytes are what json_dumps(JSON_COMPACT)
 * writes for the object the method would return (tests/unit/test_mcp.c
 * compares both); anything that would be an error is left to that path. */
#include <jansson.h>
#include <string.h>

#include "mcp_internal.h"
#include "roster_base.h"
#include "roster_snapshot.h"
#include "roster_template.h"

/* `"key":` and the compact JSON of v. */
static int put_value(struct roster_buf *b, const char *key, const json_t *v)
{
    char *d = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    int r = d ? roster_buf_printf(b, "\"%s\":%s", key, d) : ROSTER_ENOMEM;
    roster_free(d);
    return r;
}

static int prompt_get(const struct roster_snapshot *snap, const json_t *params,
                      struct roster_buf *b)
{
    const struct roster_sprofile *sp =
        mcp_served(snap, json_string_value(json_object_get(params, "name")));
    const json_t *args = json_object_get(params, "arguments");
    const struct roster_template *t = NULL;
    if (!sp || (args && !json_is_null(args) && !json_is_object(args)) ||
        roster_snapshot_template(snap, sp, &t) < 0)
        return 1;
    json_t *empty = json_is_object(args) ? NULL : json_object();
    json_t *resolved = NULL, *problems = NULL;
    int r = roster_template_bind(t, empty ? empty : args, &resolved, &problems);
    json_decref(empty);
    json_decref(problems);
    if (r < 0)
        return r == ROSTER_ENOMEM ? r : 1;
    json_t *desc = mcp_description_of(snap, sp);
    r = desc ? roster_buf_putc(b, '{') : ROSTER_ENOMEM;
    r = r ? r : put_value(b, "description", desc);
    r = r ? r
          : roster_buf_puts(b, ",\"messages\":[{\"role\":\"user\",\"content\":{\"type\":"
                               "\"text\",\"text\":");
    r = r ? r : roster_template_render_json(t, resolved, b, NULL);
    r = r ? r : roster_buf_puts(b, "}}]}");
    json_decref(desc);
    json_decref(resolved);
    return r;
}

static int resource_read(const struct roster_snapshot *snap, const json_t *params,
                         struct roster_buf *b)
{
    const json_t *uri = json_object_get(params, "uri");
    const struct roster_sprofile *sp;
    const struct roster_rep *rep = NULL;
    const struct roster_gz *text = NULL;
    int which;
    if (!json_is_string(uri) || mcp_parse_uri(snap, json_string_value(uri), &sp, &which) < 0)
        return 1;
    int r = roster_snapshot_rep(snap, sp, which, &rep);
    r = r ? r : roster_rep_json_text(rep, &text);
    if (r < 0)
        return 1; /* the object path says what failed */
    r = roster_buf_puts(b, "{\"contents\":[{");
    r = r ? r : put_value(b, "uri", uri);
    r = r ? r : roster_buf_printf(b, ",\"mimeType\":\"%s\",\"text\":", mcp_mime_of(which));
    r = r ? r : roster_buf_append(b, text->data, text->len);
    r = r ? r : roster_buf_puts(b, "}]}");
    return r;
}

int mcp_fast_answer(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                    const json_t *msg, struct roster_buf *b)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *v = json_string_value(json_object_get(msg, "jsonrpc"));
    const json_t *id = json_object_get(msg, "id");
    const json_t *params = json_object_get(msg, "params");
    if (!s->initialized || !snap || !method || !v || strcmp(v, "2.0") != 0 ||
        !(json_is_string(id) || json_is_integer(id)) || !json_is_object(params))
        return 1;
    int prompt = strcmp(method, "prompts/get") == 0;
    if (!prompt && strcmp(method, "resources/read") != 0)
        return 1;
    size_t mark = b->len;
    int r = roster_buf_puts(b, "{\"jsonrpc\":\"2.0\",");
    r = r ? r : put_value(b, "id", id);
    r = r ? r : roster_buf_puts(b, ",\"result\":");
    if (r == 0)
        r = prompt ? prompt_get(snap, params, b) : resource_read(snap, params, b);
    r = r ? r : roster_buf_putc(b, '}');
    if (r != 0)
        b->len = mark; /* nothing half-written: the object path answers */
    return r;
}
