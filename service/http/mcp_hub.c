/* MCP sessions of the Streamable HTTP transport. Locks: a session's
 * `lock` serializes the MCP core's calls on it (the core is not
 * thread-safe); the hub's `lock` guards the table, reference counts, rings
 * and streams. Order: a session's lock, then the hub's (the core's notify
 * hook queues under the session lock); never the other way round. Streams
 * work as /v1/events' do: the content reader copies frames from the ring
 * and suspends its connection when there is nothing to send. */
#include "mcp_hub.h"

#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "roster_base.h"

struct mcp_stream {
    struct roster_mcp_hub *hub;
    struct mcp_sess *sess;
    struct MHD_Connection *conn;
    uint64_t next; /* id of the next message to send */
    size_t offset; /* bytes of that message's frame already sent */
    size_t hello_off;
    int suspended, heartbeat, gone, replaced;
    int fd; /* the connection's socket, to notice hang-ups while suspended */
};

struct mcp_frame {
    char *bytes; /* "id: N\ndata: {...}\n\n" */
    size_t len;
};

struct mcp_sess {
    struct roster_mcp_hub *hub;
    char id[ROSTER_MCP_SESSION_ID_LEN + 1];
    struct roster_mcp_session *mcp;
    pthread_mutex_t lock;
    /* under the hub's lock */
    int refs;
    int listed; /* in the table (not ended) */
    int pending; /* requests in flight */
    double last_used;
    struct mcp_stream *stream;
    struct mcp_frame ring[ROSTER_MCP_RING]; /* message k at ring[k % RING] */
    uint64_t next_id; /* the next message's id (the first is 1) */
    uint64_t unsent; /* the first id no stream has taken yet */
};

struct roster_mcp_hub {
    struct roster_mcp_hub_config cfg;
    pthread_mutex_t lock;
    struct mcp_sess **tab;
    size_t n;
    size_t streams;
    int closing;
    double next_heartbeat;
};

static const char HELLO[] = "retry: 2000\n\n";

int roster_mcp_hub_new(struct roster_mcp_hub **out, const struct roster_mcp_hub_config *cfg)
{
    struct roster_mcp_hub *h = roster_calloc(1, sizeof(*h));
    if (!h)
        return ROSTER_ENOMEM;
    h->cfg = *cfg;
    h->tab = roster_calloc(cfg->max_sessions ? cfg->max_sessions : 1, sizeof(*h->tab));
    if (!h->tab) {
        roster_free(h);
        return ROSTER_ENOMEM;
    }
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return 0;
}

static void sess_free(struct mcp_sess *s)
{
    for (size_t i = 0; i < ROSTER_MCP_RING; i++)
        roster_free(s->ring[i].bytes);
    roster_mcp_session_free(s->mcp);
    pthread_mutex_destroy(&s->lock);
    roster_free(s);
}

void roster_mcp_hub_free(struct roster_mcp_hub *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        sess_free(h->tab[i]); /* nothing holds them once the daemon stopped */
    pthread_mutex_destroy(&h->lock);
    roster_free(h->tab);
    roster_free(h);
}

/* Resumes a suspended stream so that its reader runs. Hub lock held. */
static void wake_locked(struct mcp_stream *st)
{
    if (st && st->suspended) {
        st->suspended = 0;
        MHD_resume_connection(st->conn);
    }
}

void roster_mcp_hub_close(struct roster_mcp_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->closing = 1;
    for (size_t i = 0; i < h->n; i++)
        wake_locked(h->tab[i]->stream);
    pthread_mutex_unlock(&h->lock);
}

size_t roster_mcp_hub_count(struct roster_mcp_hub *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* Takes s out of the table (hub lock held); its stream ends. The caller
 * frees it when this returns 1 (nobody holds it). */
static int unlist_locked(struct roster_mcp_hub *h, size_t i)
{
    struct mcp_sess *s = h->tab[i];
    h->tab[i] = h->tab[--h->n];
    s->listed = 0;
    wake_locked(s->stream);
    return s->refs == 0;
}

/* The notify hook of a session's MCP core: the message becomes the next
 * frame of its ring, and a suspended stream wakes. Session lock held. */
static void queue_message(void *ctx, const json_t *msg)
{
    struct mcp_sess *s = ctx;
    char *text = json_dumps(msg, JSON_COMPACT);
    size_t tlen = text ? strlen(text) : 0;
    char *frame = text && tlen < ROSTER_MCP_FRAME_MAX ? roster_malloc(tlen + 48) : NULL;
    struct roster_mcp_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    if (frame) {
        uint64_t id = ++s->next_id;
        int n = snprintf(frame, tlen + 48, "id: %llu\ndata: %s\n\n", (unsigned long long)id, text);
        struct mcp_frame *slot = &s->ring[id % ROSTER_MCP_RING];
        roster_free(slot->bytes);
        slot->bytes = frame;
        slot->len = (size_t)n;
        wake_locked(s->stream);
    }
    pthread_mutex_unlock(&h->lock);
    roster_free(text);
}

static int new_id(char *out)
{
    unsigned char r[ROSTER_MCP_SESSION_ID_LEN / 2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(r); i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[ROSTER_MCP_SESSION_ID_LEN] = '\0';
    return 0;
}

/* Makes room for one more session (hub lock held): the least recently
 * used one without a stream and without a request in flight goes (its
 * client gets 404 and initializes again, as the protocol says). 0, or -1
 * when every session is busy. *freed: the evicted session when nobody
 * holds it. */
static int make_room_locked(struct roster_mcp_hub *h, struct mcp_sess **freed)
{
    size_t victim = h->n;
    for (size_t i = 0; i < h->n; i++) {
        const struct mcp_sess *s = h->tab[i];
        if (s->stream || s->pending || s->refs)
            continue;
        if (victim == h->n || s->last_used < h->tab[victim]->last_used)
            victim = i;
    }
    if (victim == h->n)
        return -1;
    struct mcp_sess *s = h->tab[victim];
    *freed = unlist_locked(h, victim) ? s : NULL;
    return 0;
}

int roster_mcp_hub_create(struct roster_mcp_hub *h, struct mcp_sess **out)
{
    struct mcp_sess *s = roster_calloc(1, sizeof(*s));
    if (!s)
        return ROSTER_ENOMEM;
    s->hub = h;
    pthread_mutex_init(&s->lock, NULL);
    struct roster_mcp_opts mo = {
        .server_version = h->cfg.server_version, .notify = queue_message, .ctx = s};
    if (new_id(s->id) < 0 || roster_mcp_session_new(&s->mcp, &mo) < 0) {
        sess_free(s);
        return ROSTER_ENOMEM;
    }
    struct mcp_sess *evicted = NULL;
    int rc = 0;
    pthread_mutex_lock(&h->lock);
    if (h->n == h->cfg.max_sessions && make_room_locked(h, &evicted) < 0) {
        rc = ROSTER_EBUSY;
    } else {
        s->refs = 1;
        s->listed = 1;
        s->last_used = roster_now_mono();
        h->tab[h->n++] = s;
    }
    pthread_mutex_unlock(&h->lock);
    if (evicted)
        sess_free(evicted);
    if (rc < 0) {
        sess_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Compares every byte whatever matches: timing says nothing of an id. */
static int same_id(const char *a, const char *b)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < ROSTER_MCP_SESSION_ID_LEN; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

struct mcp_sess *roster_mcp_hub_find(struct roster_mcp_hub *h, const char *id)
{
    struct mcp_sess *found = NULL;
    if (strlen(id) != ROSTER_MCP_SESSION_ID_LEN)
        return NULL;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n && !found; i++)
        if (same_id(h->tab[i]->id, id)) {
            found = h->tab[i];
            found->refs++;
            found->last_used = roster_now_mono();
        }
    pthread_mutex_unlock(&h->lock);
    return found;
}

void roster_mcp_hub_release(struct roster_mcp_hub *h, struct mcp_sess *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&h->lock);
    int last = --s->refs == 0 && !s->listed;
    s->last_used = roster_now_mono();
    pthread_mutex_unlock(&h->lock);
    if (last)
        sess_free(s);
}

int roster_mcp_hub_end(struct roster_mcp_hub *h, const char *id)
{
    struct mcp_sess *gone = NULL;
    int rc = -1;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->tab[i]->id, id) == 0) {
            struct mcp_sess *s = h->tab[i];
            gone = unlist_locked(h, i) ? s : NULL;
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    if (gone)
        sess_free(gone);
    return rc;
}

const char *roster_mcp_sess_id(const struct mcp_sess *s)
{
    return s->id;
}

uint64_t roster_mcp_sess_last_message(struct mcp_sess *s)
{
    pthread_mutex_lock(&s->hub->lock);
    uint64_t n = s->next_id;
    pthread_mutex_unlock(&s->hub->lock);
    return n;
}

void roster_mcp_sess_version(struct mcp_sess *s, char *out, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    snprintf(out, cap, "%s", roster_mcp_session_version(s->mcp));
    pthread_mutex_unlock(&s->lock);
}

/* Counts a request in (0) or refuses it (1: the session has
 * ROSTER_MCP_MAX_PENDING in flight). */
static int enter(struct roster_mcp_hub *h, struct mcp_sess *s)
{
    pthread_mutex_lock(&h->lock);
    int busy = s->pending >= ROSTER_MCP_MAX_PENDING;
    if (!busy)
        s->pending++;
    pthread_mutex_unlock(&h->lock);
    return busy;
}

static void leave(struct roster_mcp_hub *h, struct mcp_sess *s)
{
    pthread_mutex_lock(&h->lock);
    s->pending--;
    s->last_used = roster_now_mono();
    pthread_mutex_unlock(&h->lock);
}

json_t *roster_mcp_hub_handle(struct roster_mcp_hub *h, struct mcp_sess *s,
                              const struct roster_snapshot *snap, const json_t *msg, int *busy)
{
    if ((*busy = enter(h, s)))
        return NULL;
    pthread_mutex_lock(&s->lock);
    json_t *r = roster_mcp_handle(s->mcp, snap, msg);
    pthread_mutex_unlock(&s->lock);
    leave(h, s);
    return r;
}

int roster_mcp_hub_answer(struct roster_mcp_hub *h, struct mcp_sess *s,
                          const struct roster_snapshot *snap, const json_t *msg,
                          struct roster_buf *out, int *busy)
{
    if ((*busy = enter(h, s)))
        return 0;
    pthread_mutex_lock(&s->lock);
    int r = roster_mcp_answer(s->mcp, snap, msg, out);
    pthread_mutex_unlock(&s->lock);
    leave(h, s);
    return r;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct mcp_stream *st = cls;
    struct mcp_sess *s = st->sess;
    struct roster_mcp_hub *h = st->hub;
    ssize_t r;
    pthread_mutex_lock(&h->lock);
    uint64_t oldest = s->next_id > ROSTER_MCP_RING ? s->next_id - ROSTER_MCP_RING + 1 : 1;
    if (st->hello_off < sizeof(HELLO) - 1) {
        r = roster_sse_copy(buf, max, HELLO, sizeof(HELLO) - 1, &st->hello_off);
    } else if (st->gone) {
        /* the client hung up: a normal end (an error would be logged) */
        r = MHD_CONTENT_READER_END_OF_STREAM;
    } else if (st->replaced || !s->listed || h->closing) {
        r = MHD_CONTENT_READER_END_OF_STREAM;
    } else if (st->next <= s->next_id) {
        if (st->next < oldest) { /* fell behind the ring: those are lost */
            st->next = oldest;
            st->offset = 0;
        }
        const struct mcp_frame *f = &s->ring[st->next % ROSTER_MCP_RING];
        r = roster_sse_copy(buf, max, f->bytes, f->len, &st->offset);
        if (st->offset == f->len) {
            st->next++;
            st->offset = 0;
            if (s->unsent < st->next)
                s->unsent = st->next;
        }
    } else if (st->heartbeat) {
        static const char ping[] = ": ping\n\n";
        size_t off = 0;
        st->heartbeat = 0;
        r = roster_sse_copy(buf, max, ping, sizeof(ping) - 1, &off);
    } else {
        r = 0;
        st->suspended = 1;
        MHD_suspend_connection(st->conn);
    }
    pthread_mutex_unlock(&h->lock);
    return r;
}

static void stream_free(void *cls)
{
    struct mcp_stream *st = cls;
    struct roster_mcp_hub *h = st->hub;
    pthread_mutex_lock(&h->lock);
    if (st->sess->stream == st)
        st->sess->stream = NULL;
    h->streams--;
    pthread_mutex_unlock(&h->lock);
    roster_mcp_hub_release(h, st->sess);
    roster_free(st);
}

int roster_mcp_hub_stream(struct roster_mcp_hub *h, struct mcp_sess *s, struct req *rq,
                          struct MHD_Connection *conn, uint64_t last, int have_last)
{
    pthread_mutex_lock(&h->lock);
    int full = h->streams >= h->cfg.max_streams && !s->stream;
    pthread_mutex_unlock(&h->lock);
    if (full)
        return ROSTER_EBUSY;
    struct mcp_stream *st = roster_calloc(1, sizeof(*st));
    if (!st)
        return ROSTER_ENOMEM;
    st->hub = h;
    st->sess = s;
    st->conn = conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    pthread_mutex_lock(&h->lock);
    s->refs++; /* the stream's own hold, released by stream_free */
    h->streams++;
    if (s->stream) { /* one stream per session: the newer one wins */
        s->stream->replaced = 1;
        wake_locked(s->stream);
    }
    s->stream = st;
    /* an id this session never sent (a client bug or a forged one) resumes
     * like no id at all */
    st->next = have_last && last <= s->next_id ? last + 1 : s->unsent ? s->unsent : 1;
    pthread_mutex_unlock(&h->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return ROSTER_ENOMEM;
    }
    roster_sse_headers(resp);
    MHD_add_response_header(resp, "Mcp-Session-Id", s->id);
    roster_common_headers(rq, conn, resp);
    rq->status = MHD_HTTP_OK;
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r == MHD_YES;
}

/* What a reload tells each session: the snapshots changed, or a log line. */
struct broadcast {
    const struct roster_snapshot *old, *new;
    enum roster_mcp_level level;
    const json_t *data;
};

/* Runs b on every listed session, each under its own lock (never the
 * hub's: the core's notify hook takes that). */
static void broadcast(struct roster_mcp_hub *h, const struct broadcast *b)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    struct mcp_sess **all = n ? roster_malloc(n * sizeof(*all)) : NULL;
    for (size_t i = 0; all && i < n; i++) {
        all[i] = h->tab[i];
        all[i]->refs++;
    }
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; all && i < n; i++) {
        pthread_mutex_lock(&all[i]->lock);
        if (b->data)
            roster_mcp_log(all[i]->mcp, b->level, b->data);
        else
            roster_mcp_snapshot_changed(all[i]->mcp, b->old, b->new);
        pthread_mutex_unlock(&all[i]->lock);
        roster_mcp_hub_release(h, all[i]);
    }
    roster_free(all);
}

void roster_mcp_hub_changed(struct roster_mcp_hub *h, const struct roster_snapshot *old,
                            const struct roster_snapshot *new)
{
    if (h && old && new)
        broadcast(h, &(struct broadcast){.old = old, .new = new});
}

void roster_mcp_hub_log(struct roster_mcp_hub *h, enum roster_mcp_level level, const json_t *data)
{
    if (h && data)
        broadcast(h, &(struct broadcast){.level = level, .data = data});
}

/* Suspended streams whose client hung up end now (a suspended connection
 * is not polled by libmicrohttpd). Hub lock held. */
static void reap_streams_locked(struct roster_mcp_hub *h)
{
    struct pollfd fds[64];
    struct mcp_stream *who[64];
    size_t i = 0;
    while (i < h->n) {
        nfds_t n = 0;
        for (; i < h->n && n < 64; i++) {
            struct mcp_stream *st = h->tab[i]->stream;
            if (st && st->suspended && st->fd >= 0) {
                fds[n] = (struct pollfd){.fd = st->fd, .events = POLLRDHUP};
                who[n++] = st;
            }
        }
        if (!n || poll(fds, n, 0) <= 0)
            continue;
        for (nfds_t k = 0; k < n; k++)
            if (fds[k].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
                who[k]->gone = 1;
                wake_locked(who[k]);
            }
    }
}

void roster_mcp_hub_tick(struct roster_mcp_hub *h, double now)
{
    if (!h)
        return;
    struct mcp_sess *gone[64];
    size_t ngone = 0;
    pthread_mutex_lock(&h->lock);
    reap_streams_locked(h);
    for (size_t i = 0; i < h->n && ngone < 64;) {
        struct mcp_sess *s = h->tab[i];
        if (!s->stream && !s->pending && !s->refs && now - s->last_used > h->cfg.idle_timeout) {
            if (unlist_locked(h, i))
                gone[ngone++] = s;
            continue; /* the last entry moved into i */
        }
        i++;
    }
    if (now >= h->next_heartbeat) {
        h->next_heartbeat = now + ROSTER_MCP_HEARTBEAT_S;
        for (size_t i = 0; i < h->n; i++)
            if (h->tab[i]->stream) {
                h->tab[i]->stream->heartbeat = 1;
                wake_locked(h->tab[i]->stream);
            }
    }
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < ngone; i++)
        sess_free(gone[i]);
}
