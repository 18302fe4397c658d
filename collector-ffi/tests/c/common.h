/* Helpers shared by the C tests: failing checks, reading files. */
#ifndef OTELCOL_TEST_COMMON_H
#define OTELCOL_TEST_COMMON_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelcol.h"

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, " (last error: %s)\n", otelcol_last_error());             \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* The whole file at `path`, NUL-terminated; its length in *len. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Ingests one request, trying again while the collector says RETRYABLE. */
static otelcol_result ingest_retrying(otelcol_collector *c, const unsigned char *req, size_t len) {
    otelcol_result r;
    while ((r = otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, req, len)) == OTELCOL_ERR_RETRYABLE) {
        sched_yield();
    }
    return r;
}

#endif
