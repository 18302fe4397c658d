/* The C ABI from C: errors and bad arguments, ingest from 4 threads, flush, shutdown with a
 * report, free (also on a running handle).
 * Usage: basic CONFIG.yaml REQUEST.bin SPANS_PER_REQUEST */
#include <pthread.h>

#include "common.h"

#define THREADS 4
#define PER_THREAD 100

static otelcol_collector *c;
static unsigned char *req;
static size_t req_len;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        otelcol_result r = ingest_retrying(c, req, req_len);
        CHECK(r == OTELCOL_OK, "ingest: %s", otelcol_result_str(r));
    }
    return NULL;
}

int main(int argc, char **argv) {
    CHECK(argc == 4, "usage: basic CONFIG REQUEST SPANS");
    size_t yaml_len;
    char *yaml = (char *)read_file(argv[1], &yaml_len);
    req = read_file(argv[2], &req_len);
    unsigned long spans = strtoul(argv[3], NULL, 10);

    /* A bad configuration: an error code, a message naming the problem, *out cleared. */
    const char *bad = "receivers: {nope: {}}\n";
    otelcol_collector *x = (otelcol_collector *)&yaml_len;
    CHECK(otelcol_collector_new(bad, strlen(bad), &x) == OTELCOL_ERR_CONFIG, "bad config accepted");
    CHECK(x == NULL, "out not cleared");
    CHECK(strstr(otelcol_last_error(), "nope") != NULL, "message: %s", otelcol_last_error());
    CHECK(strcmp(otelcol_result_str(OTELCOL_ERR_CONFIG), "invalid configuration") == 0, "result_str");
    /* A value that is no result (a C enum may hold any int) is read as an integer. */
    CHECK(strcmp(otelcol_result_str((otelcol_result)999), "unknown result") == 0, "result_str of 999");

    /* NULL and zero-length arguments. */
    CHECK(otelcol_collector_new(NULL, 5, &x) == OTELCOL_ERR_INVALID_ARGUMENT, "NULL yaml");
    CHECK(otelcol_collector_new(bad, 0, &x) == OTELCOL_ERR_INVALID_ARGUMENT, "empty yaml");
    CHECK(otelcol_collector_new(bad, strlen(bad), NULL) == OTELCOL_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(otelcol_collector_start(NULL) == OTELCOL_ERR_INVALID_ARGUMENT, "start NULL");
    CHECK(otelcol_collector_ingest(NULL, OTELCOL_SIGNAL_TRACES, req, req_len) == OTELCOL_ERR_INVALID_ARGUMENT,
          "ingest NULL");
    CHECK(otelcol_collector_flush(NULL, 10) == OTELCOL_ERR_INVALID_ARGUMENT, "flush NULL");
    CHECK(otelcol_collector_shutdown(NULL, 10, NULL) == OTELCOL_ERR_INVALID_ARGUMENT, "shutdown NULL");
    otelcol_collector_free(NULL);

    CHECK(otelcol_collector_new(yaml, yaml_len, &c) == OTELCOL_OK, "new");
    CHECK(strcmp(otelcol_last_error(), "") == 0, "success clears the last error");
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, req, req_len) == OTELCOL_ERR_NOT_RUNNING,
          "ingest before start");
    CHECK(otelcol_collector_start(c) == OTELCOL_OK, "start");
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, NULL, 0) == OTELCOL_ERR_INVALID_ARGUMENT,
          "NULL data");
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, req, 0) == OTELCOL_OK,
          "zero length is an empty request");
    CHECK(otelcol_collector_ingest(c, (otelcol_signal)9, req, req_len) == OTELCOL_ERR_INVALID_ARGUMENT,
          "unknown signal");
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_LOGS, req, req_len) == OTELCOL_ERR_INVALID_ARGUMENT,
          "a signal no pipeline takes");
    CHECK(strstr(otelcol_last_error(), "logs") != NULL, "message: %s", otelcol_last_error());
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, (const uint8_t *)"\x0a\xff", 2) ==
              OTELCOL_ERR_INVALID_DATA,
          "malformed protobuf");

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0, "thread");
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    CHECK(otelcol_collector_flush(c, 10000) == OTELCOL_OK, "flush");

    otelcol_report rep = {0, 0};
    CHECK(otelcol_collector_shutdown(c, 10000, &rep) == OTELCOL_OK, "shutdown");
    CHECK(rep.delivered_items == THREADS * PER_THREAD * spans, "delivered %llu",
          (unsigned long long)rep.delivered_items);
    CHECK(rep.dropped_items == 0, "dropped %llu", (unsigned long long)rep.dropped_items);
    otelcol_report again = {0, 0};
    CHECK(otelcol_collector_shutdown(c, 10, &again) == OTELCOL_OK, "second shutdown");
    CHECK(again.delivered_items == rep.delivered_items, "second report");
    CHECK(otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, req, req_len) == OTELCOL_ERR_NOT_RUNNING,
          "ingest after shutdown");
    CHECK(otelcol_collector_flush(c, 10) == OTELCOL_ERR_NOT_RUNNING, "flush after shutdown");
    otelcol_collector_free(c);

    /* free on a running handle shuts it down first. */
    CHECK(otelcol_collector_new(yaml, yaml_len, &c) == OTELCOL_OK, "new");
    CHECK(otelcol_collector_start(c) == OTELCOL_OK, "start");
    CHECK(ingest_retrying(c, req, req_len) == OTELCOL_OK, "ingest");
    otelcol_collector_free(c);

    free(yaml);
    free(req);
    printf("ok %s\n", otelcol_version());
    return 0;
}
