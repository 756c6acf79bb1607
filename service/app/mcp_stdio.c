/* `rosterd mcp`: the MCP stdio transport. Newline-delimited JSON-RPC on
 * stdin, one response or notification per line on stdout (nothing else is
 * ever written there), JSON log lines on stderr. The snapshot is built and
 * reloaded by the same reloader as `rosterd serve`; each swap tells the
 * session what changed (roster_mcp_snapshot_changed). Exit 0 on EOF. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_cli.h"
#include "roster_log.h"
#include "roster_mcp.h"
#include "roster_reload.h"
#include "roster_snapshot.h"
#include "roster_version.h"

#define READ_CHUNK (64 * 1024)

struct stdio_ctx {
    struct roster_mcp_session *session;
    struct roster_snapshot *snap; /* served now (our reference) */
    int out_failed; /* stdout is gone: stop */
    char *line; /* the message being read, up to ROSTER_MCP_MAX_MESSAGE bytes */
    size_t len;
    int overflow; /* the current line is longer than the cap: skipped to its end */
};

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* One message as one line: compact JSON escapes every newline in strings. */
static void send_msg(struct stdio_ctx *c, const json_t *msg)
{
    if (c->out_failed)
        return;
    char *s = json_dumps(msg, JSON_COMPACT);
    if (!s) {
        roster_log(ROSTER_LOG_ERROR, "mcp_send_failed", "reason", 's', "out of memory",
                   ROSTER_LOG_END);
        return;
    }
    char nl[] = "\n";
    struct iovec iov[2] = {{.iov_base = s, .iov_len = strlen(s)}, {.iov_base = nl, .iov_len = 1}};
    if (write_all(STDOUT_FILENO, iov, 2) < 0) {
        c->out_failed = 1;
        roster_log(ROSTER_LOG_ERROR, "mcp_send_failed", "reason", 's', strerror(errno),
                   ROSTER_LOG_END);
    }
    roster_free(s);
}

static void notify(void *ctx, const json_t *msg)
{
    send_msg(ctx, msg);
}

static void publish(void *ctx, struct roster_snapshot *snap)
{
    struct stdio_ctx *c = ctx;
    struct roster_snapshot *old = c->snap;
    c->snap = roster_snapshot_ref(snap);
    if (old)
        roster_mcp_snapshot_changed(c->session, old, snap);
    roster_snapshot_unref(old);
}

static void report(void *ctx, const struct roster_reload_report *r)
{
    struct stdio_ctx *c = ctx;
    if (r->outcome == ROSTER_RELOAD_FAILED) {
        roster_log(ROSTER_LOG_ERROR, "reload_failed", "reason", 's', r->reason, "error", 's',
                   r->error ? r->error : "", ROSTER_LOG_END);
    } else if (r->outcome == ROSTER_RELOAD_SWAPPED) {
        roster_log(ROSTER_LOG_INFO, "reload", "reason", 's', r->reason, "generation", 'u',
                   (unsigned long long)r->generation, "added", 'u',
                   (unsigned long long)r->diff.added, "changed", 'u',
                   (unsigned long long)r->diff.changed, "removed", 'u',
                   (unsigned long long)r->diff.removed, ROSTER_LOG_END);
    }
    json_t *d = roster_reload_report_json(r);
    if (d)
        roster_mcp_log(c->session,
                       r->outcome == ROSTER_RELOAD_FAILED ? ROSTER_MCP_ERROR : ROSTER_MCP_INFO, d);
    json_decref(d);
}

static void handle_line(struct stdio_ctx *c)
{
    size_t n = c->len;
    c->len = 0;
    if (c->overflow) {
        c->overflow = 0;
        /* only the length is looked at: the text is long gone */
        json_t *r = roster_mcp_handle_text(c->session, c->snap, "", ROSTER_MCP_MAX_MESSAGE + 1);
        roster_log(ROSTER_LOG_WARN, "mcp_line_too_long", "max", 'u',
                   (unsigned long long)ROSTER_MCP_MAX_MESSAGE, ROSTER_LOG_END);
        if (r)
            send_msg(c, r);
        json_decref(r);
        return;
    }
    while (n > 0 && (c->line[n - 1] == '\r' || c->line[n - 1] == ' ' || c->line[n - 1] == '\t'))
        n--;
    if (n == 0)
        return;
    json_t *r = roster_mcp_handle_text(c->session, c->snap, c->line, n);
    if (r)
        send_msg(c, r);
    json_decref(r);
}

/* Splits what was read into lines; each complete one is answered. */
static void take(struct stdio_ctx *c, const char *p, size_t n)
{
    while (n > 0 && !c->out_failed) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        if (!c->overflow && seg > ROSTER_MCP_MAX_MESSAGE - c->len) {
            c->overflow = 1;
            c->len = 0;
        }
        if (!c->overflow) {
            memcpy(c->line + c->len, p, seg);
            c->len += seg;
        }
        if (!nl)
            return;
        handle_line(c);
        p = nl + 1;
        n -= seg + 1;
    }
}

static int parse_page_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < 1 || v > ROSTER_MCP_PAGE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Waits for the first snapshot (the reloader builds it on a thread). */
static int wait_first(struct stdio_ctx *c, struct roster_reloader *rl)
{
    while (!c->snap) {
        if (roster_reloader_failed(rl))
            return -1;
        struct pollfd p = {.fd = roster_reloader_fd(rl), .events = POLLIN};
        int t = roster_reloader_timeout_ms(rl, 50);
        if (p.fd >= 0)
            poll(&p, 1, t);
        else
            usleep((useconds_t)t * 1000u);
        roster_reloader_poll(rl);
    }
    return 0;
}

/* Reads stdin until EOF, answering each line; reloads between reads. */
static int serve_stdin(struct stdio_ctx *c, struct roster_reloader *rl)
{
    char *chunk = roster_malloc(READ_CHUNK);
    if (!chunk)
        return 1;
    int rc = 0;
    while (!c->out_failed) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                {.fd = roster_reloader_fd(rl), .events = POLLIN}};
        int k = poll(fds, fds[1].fd >= 0 ? 2 : 1, roster_reloader_timeout_ms(rl, 1000));
        if (k < 0 && errno != EINTR) {
            rc = 1;
            break;
        }
        if (k > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(STDIN_FILENO, chunk, READ_CHUNK);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                if (c->len > 0 || c->overflow)
                    handle_line(c); /* a last message without its newline */
                rc = n < 0;
                break;
            }
            take(c, chunk, (size_t)n);
        }
        roster_reloader_poll(rl);
    }
    roster_free(chunk);
    return c->out_failed ? 1 : rc;
}

int roster_cli_mcp(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *page_s = NULL;
    int strict = 0, no_watch = 0;
    size_t page_size = ROSTER_MCP_PAGE_SIZE;
    const struct roster_cli_opt opts[] = {{.name = "--profiles", .value = &dir},
                                          {.name = "--strict-markdown", .flag = &strict},
                                          {.name = "--page-size", .value = &page_s},
                                          {.name = "--no-watch", .flag = &no_watch},
                                          {.name = NULL}};
    if (roster_cli_parse("mcp", argc, argv, opts, NULL))
        return 2;
    if (page_s && parse_page_size(page_s, &page_size) < 0)
        return roster_cli_usage("mcp", "--page-size must be a whole number from 1 to 1000");
    roster_log_setup(1, ROSTER_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);

    struct stdio_ctx c = {0};
    struct roster_reloader *rl = NULL;
    int rc = 1;
    char why[512];
    struct roster_mcp_opts mo = {
        .server_version = ROSTER_VERSION, .page_size = page_size, .notify = notify, .ctx = &c};
    struct roster_reload_opts ro = {
        .dir = dir, .strict_markdown = strict, .watch = !no_watch, .debounce_ms = 100};
    struct roster_reload_hooks hooks = {.ctx = &c, .publish = publish, .report = report};
    c.line = roster_malloc(ROSTER_MCP_MAX_MESSAGE);
    if (!c.line || roster_mcp_session_new(&c.session, &mo) < 0) {
        fprintf(stderr, "rosterd mcp: out of memory\n");
        goto out_line;
    }
    if (roster_reloader_new(&rl, &ro, &hooks, why, sizeof(why)) < 0) {
        roster_log(ROSTER_LOG_ERROR, "start_failed", "reason", 's', why, ROSTER_LOG_END);
        goto out_session;
    }
    roster_reloader_attach(rl);
    if (roster_reloader_start(rl) < 0 || wait_first(&c, rl) < 0)
        goto out_reloader; /* the reloader's report logged why */
    roster_log(ROSTER_LOG_INFO, "mcp_start", "profiles_dir", 's', dir, "profiles", 'u',
               (unsigned long long)c.snap->n, "served", 'u', (unsigned long long)c.snap->served,
               "watch", 'b', !no_watch, ROSTER_LOG_END);
    rc = serve_stdin(&c, rl);
    roster_log(ROSTER_LOG_INFO, "mcp_stop", "reason", 's', rc ? "output closed" : "end of input",
               ROSTER_LOG_END);
out_reloader:
    roster_reloader_detach(rl);
    roster_reloader_free(rl);
out_session:
    roster_snapshot_unref(c.snap);
    roster_mcp_session_free(c.session);
out_line:
    roster_free(c.line);
    return rc;
}
