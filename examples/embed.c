/* Embedding the collector in a C program: one request of OTLP bytes in, delivered by the
 * pipeline of the YAML below. Build (after `cargo build -p collector-ffi`):
 *   cc -I collector-ffi/include examples/embed.c -L target/debug -lcollector_ffi \
 *      -Wl,-rpath,$PWD/target/debug -o embed && ./embed */
#include <stdio.h>
#include <string.h>

#include "otelcol.h"

static const char *CONFIG =
    "receivers: {embedded: {}}\n"
    "exporters: {debug: {verbosity: basic}}\n"
    "service:\n"
    "  pipelines:\n"
    "    traces: {receivers: [embedded], exporters: [debug]}\n";

/* ExportTraceServiceRequest { resource_spans { scope_spans { spans { trace_id, span_id,
 * name: "hello" } } } }, encoded by hand to keep the example self-contained; a real
 * program passes what its OTLP encoder produced. */
static const uint8_t REQUEST[] = {
    0x0a, 0x27, 0x12, 0x25, 0x12, 0x23,                                            /* nesting */
    0x0a, 0x10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                    /* trace_id */
    0x12, 0x08, 2, 2, 2, 2, 2, 2, 2, 2,                                            /* span_id */
    0x2a, 0x05, 'h', 'e', 'l', 'l', 'o',                                           /* name */
};

int main(void) {
    otelcol_collector *c = NULL;
    if (otelcol_collector_new(CONFIG, strlen(CONFIG), &c) != OTELCOL_OK ||
        otelcol_collector_start(c) != OTELCOL_OK) {
        fprintf(stderr, "collector: %s\n", otelcol_last_error());
        return 1;
    }
    otelcol_result r = otelcol_collector_ingest(c, OTELCOL_SIGNAL_TRACES, REQUEST, sizeof REQUEST);
    if (r != OTELCOL_OK) {
        /* OTELCOL_ERR_RETRYABLE means: over budget now, try again later. */
        fprintf(stderr, "ingest: %s: %s\n", otelcol_result_str(r), otelcol_last_error());
    }
    otelcol_report report = {0, 0};
    otelcol_collector_shutdown(c, 5000, &report);
    printf("delivered %llu, dropped %llu\n", (unsigned long long)report.delivered_items,
           (unsigned long long)report.dropped_items);
    otelcol_collector_free(c);
    return report.delivered_items == 1 ? 0 : 1;
}
