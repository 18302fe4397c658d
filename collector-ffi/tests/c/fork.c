/* fork() safety: each round, the parent starts a collector and ingests, a thread keeps
 * ingesting while 3 children are forked; each child ingests through the same handle
 * (which starts a fresh collector in the child), flushes and checks its own report; the
 * parent checks its report. Prints the total number of spans every process sent.
 * Usage: fork CONFIG.yaml REQUEST.bin SPANS_PER_REQUEST ROUNDS */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define CHILDREN 3
#define PARENT_BEFORE 5
#define PARENT_AFTER 5
#define CHILD_REQUESTS 7

static otelcol_collector *c;
static unsigned char *req;
static size_t req_len;
static atomic_int stop;
static atomic_ulong background_sent;

static void *background(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        otelcol_result r = ingest_retrying(c, req, req_len);
        CHECK(r == OTELCOL_OK, "background ingest: %s", otelcol_result_str(r));
        atomic_fetch_add(&background_sent, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    CHECK(argc == 5, "usage: fork CONFIG REQUEST SPANS ROUNDS");
    /* A hang fails the test instead of blocking it forever. */
    alarm(240);
    size_t yaml_len;
    char *yaml = (char *)read_file(argv[1], &yaml_len);
    req = read_file(argv[2], &req_len);
    unsigned long spans = strtoul(argv[3], NULL, 10);
    int rounds = atoi(argv[4]);
    unsigned long long total = 0;

    for (int round = 0; round < rounds; round++) {
        CHECK(otelcol_collector_new(yaml, yaml_len, &c) == OTELCOL_OK, "new");
        CHECK(otelcol_collector_start(c) == OTELCOL_OK, "start");
        for (int i = 0; i < PARENT_BEFORE; i++) CHECK(ingest_retrying(c, req, req_len) == OTELCOL_OK, "ingest");
        atomic_store(&stop, 0);
        atomic_store(&background_sent, 0);
        pthread_t bg;
        CHECK(pthread_create(&bg, NULL, background, NULL) == 0, "thread");

        pid_t kids[CHILDREN];
        for (int k = 0; k < CHILDREN; k++) {
            pid_t pid = fork();
            CHECK(pid >= 0, "fork");
            if (pid == 0) {
                /* The child: only this thread exists; the handle is the parent's. */
                for (int i = 0; i < CHILD_REQUESTS; i++) {
                    if (ingest_retrying(c, req, req_len) != OTELCOL_OK) {
                        fprintf(stderr, "child ingest: %s\n", otelcol_last_error());
                        _exit(2);
                    }
                }
                if (otelcol_collector_flush(c, 20000) != OTELCOL_OK) {
                    fprintf(stderr, "child flush: %s\n", otelcol_last_error());
                    _exit(3);
                }
                otelcol_report rep = {0, 0};
                if (otelcol_collector_shutdown(c, 20000, &rep) != OTELCOL_OK ||
                    rep.delivered_items != CHILD_REQUESTS * spans || rep.dropped_items != 0) {
                    fprintf(stderr, "child report: delivered %llu dropped %llu (%s)\n",
                            (unsigned long long)rep.delivered_items, (unsigned long long)rep.dropped_items,
                            otelcol_last_error());
                    _exit(4);
                }
                otelcol_collector_free(c);
                _exit(0);
            }
            kids[k] = pid;
        }
        for (int i = 0; i < PARENT_AFTER; i++) CHECK(ingest_retrying(c, req, req_len) == OTELCOL_OK, "ingest");
        atomic_store(&stop, 1);
        pthread_join(bg, NULL);
        for (int k = 0; k < CHILDREN; k++) {
            int status = 0;
            CHECK(waitpid(kids[k], &status, 0) == kids[k], "waitpid");
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d child %d: status %d", round, k,
                  status);
        }
        unsigned long long parent = (PARENT_BEFORE + PARENT_AFTER + atomic_load(&background_sent)) * spans;
        CHECK(otelcol_collector_flush(c, 20000) == OTELCOL_OK, "flush");
        otelcol_report rep = {0, 0};
        CHECK(otelcol_collector_shutdown(c, 20000, &rep) == OTELCOL_OK, "shutdown");
        CHECK(rep.delivered_items == parent && rep.dropped_items == 0, "round %d parent: delivered %llu of %llu",
              round, (unsigned long long)rep.delivered_items, parent);
        otelcol_collector_free(c);
        total += parent + (unsigned long long)CHILDREN * CHILD_REQUESTS * spans;
    }
    free(yaml);
    free(req);
    printf("sent %llu\n", total);
    return 0;
}
