/* GET /v1/events: Server-Sent Events. Each client is a response whose
 * content reader copies frames from the ring; with nothing to send it
 * suspends its connection (no busy loop, no thread held) until a publish
 * or a heartbeat resumes it. Slow clients only ever hold their own socket. */
#include "http_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "http_admin.h"
#include "roster_base.h"

struct sse_client {
    struct roster_events *ev;
    struct MHD_Connection *conn;
    uint64_t next; /* id of the next event to send */
    size_t offset; /* bytes of that event's frame already sent */
    int suspended;
    int heartbeat; /* send a comment line at the next read */
    int gone; /* the peer hung up while suspended */
    int fd; /* the connection's socket, to notice hang-ups */
    char hello[384];
    size_t hello_len, hello_off;
    struct sse_client *prev, *next_client;
};

/* A suspended connection is not polled by MHD, so a client that hangs up
 * would keep its socket until the next heartbeat write failed. The serve
 * loop calls this every tick: hung-up clients are resumed and end. */
static void reap_locked(struct roster_events *ev)
{
    struct pollfd fds[ROSTER_EVENTS_MAX_CLIENTS];
    struct sse_client *who[ROSTER_EVENTS_MAX_CLIENTS];
    nfds_t n = 0;
    for (struct sse_client *c = ev->clients; c && n < ROSTER_EVENTS_MAX_CLIENTS;
         c = c->next_client) {
        if (!c->suspended || c->fd < 0)
            continue;
        fds[n] = (struct pollfd){.fd = c->fd, .events = POLLRDHUP};
        who[n++] = c;
    }
    if (!n || poll(fds, n, 0) <= 0)
        return;
    for (nfds_t i = 0; i < n; i++) {
        if (!(fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
            continue;
        who[i]->gone = 1;
        who[i]->suspended = 0;
        MHD_resume_connection(who[i]->conn);
    }
}

/* Resumes suspended clients (all of them when heartbeat is set, so they
 * can send a comment line). Must hold the lock. */
static void wake_locked(struct roster_events *ev, int heartbeat)
{
    for (struct sse_client *c = ev->clients; c; c = c->next_client) {
        if (heartbeat)
            c->heartbeat = 1;
        if (c->suspended) {
            c->suspended = 0;
            MHD_resume_connection(c->conn);
        }
    }
}

/* A `gap` event (no id line, so the client's last event id stays as it
 * was): EventSource clients see it as an event and refetch what they
 * cache. `last` matched the id pattern, so it is safe in a JSON string. */
static size_t gap_frame(char *buf, size_t cap, const struct roster_events *ev, const char *reason,
                        const char *last, uint64_t oldest)
{
    char oldest_id[48] = "null";
    if (ev->count)
        snprintf(oldest_id, sizeof(oldest_id), "\"%s-%llu\"", ev->boot, (unsigned long long)oldest);
    int n = snprintf(buf, cap,
                     "event: gap\ndata: {\"requested\":\"%s\",\"oldest\":%s,\"reason\":\"%s\"}"
                     "\n\n",
                     last, oldest_id, reason);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

ssize_t roster_sse_copy(char *buf, size_t max, const char *src, size_t len, size_t *off)
{
    size_t n = len - *off < max ? len - *off : max;
    memcpy(buf, src + *off, n);
    *off += n;
    return (ssize_t)n;
}

void roster_sse_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sse_client *c = cls;
    struct roster_events *ev = c->ev;
    ssize_t r = 0;
    pthread_mutex_lock(&ev->lock);
    if (c->hello_off < c->hello_len) {
        r = roster_sse_copy(buf, max, c->hello, c->hello_len, &c->hello_off);
        goto out;
    }
    if (c->gone) {
        r = MHD_CONTENT_READER_END_WITH_ERROR;
        goto out;
    }
    if (ev->closing) {
        r = MHD_CONTENT_READER_END_OF_STREAM;
        goto out;
    }
    uint64_t oldest = ev->next_id - ev->count;
    if (c->next < oldest) {
        /* a slow reader fell behind the ring: say so with a gap event */
        char last[48];
        snprintf(last, sizeof(last), "%s-%llu", ev->boot, (unsigned long long)(c->next - 1));
        c->hello_len = gap_frame(c->hello, sizeof(c->hello), ev, "evicted", last, oldest);
        c->hello_off = 0;
        c->next = oldest;
        c->offset = 0;
        r = roster_sse_copy(buf, max, c->hello, c->hello_len, &c->hello_off);
        goto out;
    }
    if (c->next < ev->next_id) {
        const struct roster_event *e = &ev->ring[c->next % ev->cap];
        r = roster_sse_copy(buf, max, e->frame, e->len, &c->offset);
        if (c->offset == e->len) {
            c->next++;
            c->offset = 0;
        }
        goto out;
    }
    if (c->heartbeat) {
        static const char ping[] = ": ping\n\n";
        c->heartbeat = 0;
        size_t off = 0;
        r = roster_sse_copy(buf, max, ping, sizeof(ping) - 1, &off);
        goto out;
    }
    c->suspended = 1;
    MHD_suspend_connection(c->conn);
out:
    pthread_mutex_unlock(&ev->lock);
    return r;
}

static void reader_free(void *cls)
{
    struct sse_client *c = cls;
    struct roster_events *ev = c->ev;
    pthread_mutex_lock(&ev->lock);
    if (c->prev)
        c->prev->next_client = c->next_client;
    else
        ev->clients = c->next_client;
    if (c->next_client)
        c->next_client->prev = c->prev;
    ev->nclients--;
    pthread_mutex_unlock(&ev->lock);
    roster_free(c);
}

/* "<12 hex>-<decimal>": *here tells whether the boot part is ours. */
static int parse_last_id(const char *s, const char *boot, uint64_t *n, int *here)
{
    size_t len = strlen(s);
    if (len < ROSTER_EVENTS_BOOT_LEN + 2 || len > ROSTER_EVENTS_BOOT_LEN + 21 ||
        s[ROSTER_EVENTS_BOOT_LEN] != '-')
        return -1;
    for (size_t i = 0; i < ROSTER_EVENTS_BOOT_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    uint64_t v = 0;
    for (const char *p = s + ROSTER_EVENTS_BOOT_LEN + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *n = v;
    *here = memcmp(s, boot, ROSTER_EVENTS_BOOT_LEN) == 0;
    return 0;
}

/* The first bytes of a stream: the retry hint and, when Last-Event-ID
 * cannot be replayed exactly, a gap event. */
static size_t hello_frame(char *buf, size_t cap, const struct roster_events *ev, const char *gap,
                          const char *last, uint64_t oldest)
{
    static const char retry[] = "retry: 2000\n\n";
    size_t n = sizeof(retry) - 1;
    memcpy(buf, retry, n);
    if (gap && last)
        n += gap_frame(buf + n, cap - n, ev, gap, last, oldest);
    return n;
}

/* Queues a stream's response (HEAD gets the same headers, no body). */
static enum MHD_Result queue_stream(struct req *rq, struct MHD_Connection *conn,
                                    struct MHD_Response *resp)
{
    roster_sse_headers(resp);
    roster_common_headers(rq, conn, resp);
    rq->status = MHD_HTTP_OK;
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

/* HEAD: the headers a GET would get, no stream. */
static enum MHD_Result head_response(struct req *rq, struct MHD_Connection *conn)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    return resp ? queue_stream(rq, conn, resp) : MHD_NO;
}

void roster_http_events_bind(struct roster_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->wake_locked = wake_locked;
    ev->reap_locked = reap_locked;
    pthread_mutex_unlock(&ev->lock);
}

enum MHD_Result roster_events_route(struct req *rq, struct MHD_Connection *conn)
{
    struct roster_events *ev = rq->srv->cfg.events;
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (roster_accept_quality(accept, "text/event-stream") == 0)
        return roster_send_problem(rq, conn, MHD_HTTP_NOT_ACCEPTABLE, "not_acceptable",
                                   "Not acceptable", "this resource is text/event-stream", NULL);
    const char *last = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    uint64_t last_n = 0;
    int last_here = 0;
    if (last && *last) {
        if (parse_last_id(last, ev->boot, &last_n, &last_here) < 0)
            return roster_send_problem(rq, conn, MHD_HTTP_BAD_REQUEST, "invalid_last_event_id",
                                       "Invalid Last-Event-ID",
                                       "Last-Event-ID must be an event id this service sent "
                                       "(^[0-9a-f]{12}-[0-9]{1,20}$)",
                                       NULL);
    }
    if (atomic_load(&rq->srv->draining))
        return roster_send_problem(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready",
                                   "Not available", "the event stream is not available now", NULL);
    if (rq->method == ROSTER_M_HEAD)
        return head_response(rq, conn);
    struct sse_client *c = roster_calloc(1, sizeof(*c));
    if (!c)
        return roster_send_problem(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    c->ev = ev;
    c->conn = conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    pthread_mutex_lock(&ev->lock);
    if (ev->nclients >= ev->max_clients) {
        pthread_mutex_unlock(&ev->lock);
        roster_free(c);
        rq->close = 1; /* do not let refused clients hold connections either */
        return roster_send_problem(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_clients",
                                   "Too many event clients", "try again later", NULL);
    }
    uint64_t oldest = ev->next_id - ev->count;
    c->next = ev->next_id;
    const char *gap = NULL;
    if (last && *last) {
        if (!last_here)
            gap = "other_boot";
        else if (last_n >= ev->next_id)
            gap = "unknown_id"; /* never sent: a client bug or a forged id */
        else if (last_n + 1 < oldest)
            gap = "evicted";
        else
            c->next = last_n + 1;
        if (gap && strcmp(gap, "evicted") == 0)
            c->next = oldest;
    }
    c->hello_len = hello_frame(c->hello, sizeof(c->hello), ev, gap, last, oldest);
    c->next_client = ev->clients;
    if (ev->clients)
        ev->clients->prev = c;
    ev->clients = c;
    ev->nclients++;
    pthread_mutex_unlock(&ev->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, c, reader_free);
    if (!resp) {
        reader_free(c);
        return MHD_NO;
    }
    return queue_stream(rq, conn, resp);
}
