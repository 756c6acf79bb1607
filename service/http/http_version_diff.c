/* GET /v1/profiles/{id}/versions/{digest}/diff/{other}: what changed from
 * one version of a profile to another (docs/versions.md, "Diff"), the same
 * comparison as `rosterd diff` (engine/compare.c) on the two versions'
 * pinned bytes: the current version from the snapshot, any other from the
 * history store, verified. Both sides are immutable, so the answer is too. */
#include "http_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_compare.h"
#include "roster_history.h"
#include "roster_render.h"

#define IMMUTABLE "public, max-age=31536000, immutable"

/* One side: the profile object and the prompt's bytes. */
struct side {
    char hex[65];
    json_t *profile;
    char *prompt;
    size_t prompt_len;
};

static void side_release(struct side *s)
{
    json_decref(s->profile);
    roster_free(s->prompt);
}

/* The two parts of version s->hex of id, from the snapshot when it is the
 * current one, else from the store. 0; ROSTER_ENOENT / ROSTER_EIO with
 * detail; ROSTER_ENOMEM. */
static int load(struct req *rq, const char *id, size_t id_len, struct side *s, char *detail,
                size_t cap)
{
    const struct roster_sprofile *sp = roster_snapshot_find(rq->snap, id, id_len);
    char *bytes[2] = {NULL, NULL};
    size_t lens[2] = {0, 0};
    int r = ROSTER_ENOENT;
    if (sp && sp->ok && strcmp(sp->good_key, s->hex) == 0) {
        static const int which[2] = {ROSTER_VIEW_PROFILE, ROSTER_VIEW_PROMPT};
        r = 0;
        for (int k = 0; k < 2 && r == 0; k++) {
            const struct roster_rep *rep = NULL;
            r = roster_snapshot_version_rep(rq->snap, sp, which[k], &rep);
            bytes[k] = r == 0 ? roster_strndup(rep->body, rep->len) : NULL;
            lens[k] = r == 0 ? rep->len : 0;
            r = r == 0 && !bytes[k] ? ROSTER_ENOMEM : r;
        }
    }
    if (r == ROSTER_ENOENT) {
        struct roster_history_version v;
        r = roster_version_load(rq, id, s->hex, &v, detail, cap);
        if (r == 0) {
            bytes[0] = roster_history_version_take(&v, ROSTER_HISTORY_PROFILE, &lens[0]);
            bytes[1] = roster_history_version_take(&v, ROSTER_HISTORY_PROMPT, &lens[1]);
            r = bytes[0] && bytes[1] ? 0 : ROSTER_ENOMEM;
            roster_history_version_release(&v);
        }
    }
    if (r == 0) {
        json_error_t je;
        s->profile = json_loadb(bytes[0], lens[0], 0, &je);
        r = s->profile ? 0 : ROSTER_ENOMEM; /* our own JSON: only memory can fail it */
        s->prompt = bytes[1];
        s->prompt_len = lens[1];
        bytes[1] = NULL;
    }
    roster_free(bytes[0]);
    roster_free(bytes[1]);
    return r;
}

int roster_route_version_diff(struct req *rq, struct MHD_Connection *c,
                              const struct roster_target *t)
{
    struct side a = {0}, b = {0};
    char detail[600], la[80], lb[80];
    enum MHD_Result out;
    if (!roster_http_accept_quality(c, "application/json"))
        return roster_http_not_acceptable(rq, c, "application/json");
    if (roster_history_digest_parse(t->digest, t->digest_len, a.hex) < 0 ||
        roster_history_digest_parse(t->other, t->other_len, b.hex) < 0)
        return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "invalid_digest", "Invalid digest",
                                   "a digest is sha256: and 64 hexadecimal digits (or the 64 "
                                   "digits alone)",
                                   NULL);
    struct roster_history *h = rq->srv->cfg.history;
    if (!roster_snapshot_find(rq->snap, t->id, t->id_len) &&
        (!h || !roster_history_has_profile(h, t->id)))
        return roster_http_not_found(rq, c, t->id);
    int r = load(rq, t->id, t->id_len, &a, detail, sizeof(detail));
    if (r == 0)
        r = load(rq, t->id, t->id_len, &b, detail, sizeof(detail));
    json_t *diff = NULL;
    if (r == 0) {
        struct roster_error err;
        roster_error_clear(&err);
        snprintf(la, sizeof(la), "sha256:%.12s/prompt.md", a.hex);
        snprintf(lb, sizeof(lb), "sha256:%.12s/prompt.md", b.hex);
        struct roster_compare_side sa = {a.profile, a.prompt, a.prompt_len, la};
        struct roster_compare_side sb = {b.profile, b.prompt, b.prompt_len, lb};
        r = roster_compare_profiles(&sa, &sb, &diff, &err);
    }
    if (r == ROSTER_ENOENT || r == ROSTER_EIO) {
        out = roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "version_not_found",
                                  "Version not found", detail, NULL);
    } else if (r < 0) {
        out = roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                  "Out of memory", "the server is out of memory", NULL);
    } else {
        char da[80], db[80];
        snprintf(da, sizeof(da), "sha256:%s", a.hex);
        snprintf(db, sizeof(db), "sha256:%s", b.hex);
        json_t *o = json_pack("{s:s, s:s, s:s}", "id", t->id, "from", da, "to", db);
        size_t len = 0;
        char *body = o && !json_object_update(o, diff) ? roster_render_dump(o, &len) : NULL;
        json_decref(o);
        rq->cache_control = IMMUTABLE;
        rq->digest = b.hex; /* the version the changes lead to */
        out = roster_send_dynamic(rq, c, MHD_HTTP_OK, "application/json", body, len, 1, NULL);
    }
    json_decref(diff);
    side_release(&a);
    side_release(&b);
    return out;
}
