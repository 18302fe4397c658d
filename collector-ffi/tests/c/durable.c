/* The persistent queue from C: what `otelcol_collector_ingest` acknowledged survives the
 * process being killed right after.
 * Usage: durable CONFIG.yaml REQUEST.bin kill N   ingests N requests, checks they are on
 *                                                 disk, then SIGKILLs itself
 *        durable CONFIG.yaml REQUEST.bin drain    starts, flushes what is on disk, checks
 *                                                 nothing is left, shuts down */
#include <signal.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv) {
    CHECK(argc >= 4, "usage: durable CONFIG REQUEST kill N | drain");
    size_t yaml_len, req_len;
    char *yaml = (char *)read_file(argv[1], &yaml_len);
    unsigned char *req = read_file(argv[2], &req_len);
    otelcol_collector *c = NULL;
    CHECK(otelcol_collector_new(yaml, yaml_len, &c) == OTELCOL_OK, "new");
    CHECK(otelcol_collector_items_on_disk(c, NULL) == OTELCOL_ERR_INVALID_ARGUMENT, "NULL out");
    uint64_t on_disk = 99;
    CHECK(otelcol_collector_items_on_disk(c, &on_disk) == OTELCOL_OK && on_disk == 0, "before start");
    CHECK(otelcol_collector_start(c) == OTELCOL_OK, "start");
    if (strcmp(argv[3], "kill") == 0) {
        CHECK(argc == 5, "kill N");
        unsigned long n = strtoul(argv[4], NULL, 10);
        for (unsigned long i = 0; i < n; i++) {
            otelcol_result r = ingest_retrying(c, req, req_len);
            CHECK(r == OTELCOL_OK, "ingest: %s", otelcol_result_str(r));
        }
        CHECK(otelcol_collector_items_on_disk(c, &on_disk) == OTELCOL_OK, "items_on_disk");
        printf("ingested %lu requests, %llu items on disk\n", n, (unsigned long long)on_disk);
        fflush(stdout);
        /* No shutdown, no flush: killed the instant after the last acknowledgement. */
        kill(getpid(), SIGKILL);
        return 1;
    }
    CHECK(otelcol_collector_flush(c, 20000) == OTELCOL_OK, "flush");
    CHECK(otelcol_collector_items_on_disk(c, &on_disk) == OTELCOL_OK && on_disk == 0,
          "left on disk after flush: %llu", (unsigned long long)on_disk);
    otelcol_report rep = {0, 0};
    CHECK(otelcol_collector_shutdown(c, 5000, &rep) == OTELCOL_OK, "shutdown");
    CHECK(otelcol_collector_items_on_disk(c, &on_disk) == OTELCOL_OK && on_disk == 0, "after shutdown");
    printf("ok delivered %llu\n", (unsigned long long)rep.delivered_items);
    otelcol_collector_free(c);
    free(yaml);
    free(req);
    return 0;
}
