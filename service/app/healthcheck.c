/* `rosterd healthcheck`: GET /health over loopback with a short timeout;
 * exit 0 on 200. Used by the container HEALTHCHECK, which has no curl. */
#include "roster_cli.h"

#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Parses "http://HOST:PORT/PATH" (or HOST:PORT) into parts. */
static int parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap, char *path,
                     size_t pathcap)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    const char *slash = strchr(p, '/');
    size_t hp = slash ? (size_t)(slash - p) : strlen(p);
    snprintf(path, pathcap, "%s", slash ? slash : "/health");
    const char *colon = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', hp);
        if (!close)
            return -1;
        snprintf(host, hcap, "%.*s", (int)(close - p - 1), p + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(p, ':', hp);
        snprintf(host, hcap, "%.*s", (int)(colon ? (size_t)(colon - p) : hp), p);
    }
    snprintf(port, pcap, "%.*s", colon ? (int)(p + hp - colon - 1) : 2, colon ? colon + 1 : "80");
    if (strcmp(host, "0.0.0.0") == 0)
        snprintf(host, hcap, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, hcap, "::1");
    return host[0] ? 0 : -1;
}

int roster_cli_healthcheck(int argc, char **argv)
{
    char url[600];
    const char *listen = getenv("ROSTER_LISTEN"), *given = NULL;
    const struct roster_cli_opt opts[] = {{.name = "--url", .value = &given}, {.name = NULL}};
    if (roster_cli_parse("healthcheck", argc, argv, opts, NULL))
        return 2;
    if (given)
        snprintf(url, sizeof(url), "%s", given);
    else
        snprintf(url, sizeof(url), "http://%s/health",
                 listen && *listen ? listen : "127.0.0.1:8080");
    char host[256], port[16], path[300];
    if (parse_url(url, host, sizeof(host), port, sizeof(port), path, sizeof(path)) < 0) {
        fprintf(stderr, "rosterd healthcheck: bad URL %s\n", url);
        return 2;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        fprintf(stderr, "rosterd healthcheck: cannot resolve %s\n", host);
        return 1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 2};
    int ok = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
        char req[512], resp[64] = {0};
        int n = snprintf(req, sizeof(req),
                         "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                         "User-Agent: rosterd-healthcheck\r\n\r\n",
                         path, host);
        if (write(fd, req, (size_t)n) == n && read(fd, resp, sizeof(resp) - 1) >= 12)
            ok = strncmp(resp, "HTTP/1.1 200", 12) == 0 || strncmp(resp, "HTTP/1.0 200", 12) == 0;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    if (!ok)
        fprintf(stderr, "rosterd healthcheck: %s is not healthy\n", url);
    return ok ? 0 : 1;
}
