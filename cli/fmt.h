/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svmctl's human-readable numbers and its --wait progress line: byte
 * counts, durations, a throughput and ETA estimate from successive STATUS
 * polls. Pure: no I/O, never blocks.
 */
#ifndef CLI_FMT_H
#define CLI_FMT_H

#include <glib.h>
#include <stdint.h>

/* n bytes as "512 B", "1.5 KiB", "10.0 GiB"... into buf (len >= 16); returns buf. */
const char *cli_fmt_bytes(uint64_t n, char *buf, size_t len);

/* s seconds as "0:42", "12:05" or "3:02:09"; "--:--" when s < 0 (unknown). Returns buf. */
const char *cli_fmt_duration(double s, char *buf, size_t len);

#define CLI_FMT_RATE_SAMPLES 32
#define CLI_FMT_RATE_WINDOW  10.0 /* seconds of samples the estimate looks at */

/* Successive (time, bytes copied, bytes done) polls of one migration. */
struct cli_fmt_rate {
	unsigned n, head;
	struct {
		double t;	 /* seconds, monotonic */
		uint64_t copied; /* bytes_copied */
		uint64_t done;	 /* bytes_copied + bytes_skipped */
	} s[CLI_FMT_RATE_SAMPLES];
};

void cli_fmt_rate_init(struct cli_fmt_rate *r);

/* Record a poll at time t (seconds, never decreasing). */
void cli_fmt_rate_add(struct cli_fmt_rate *r, double t, uint64_t copied, uint64_t done);

/*
 * Copy throughput over the last CLI_FMT_RATE_WINDOW seconds of samples, in
 * bytes per second; -1 until two samples at least 0.2 s apart exist.
 */
double cli_fmt_rate_bps(const struct cli_fmt_rate *r);

/*
 * Seconds until done reaches total at the pace of the last
 * CLI_FMT_RATE_WINDOW seconds (copied and skipped bytes both count); 0 when
 * it has; -1 when unknown (too few samples, or no progress).
 */
double cli_fmt_rate_eta(const struct cli_fmt_rate *r, uint64_t total);

/*
 * The --wait progress line, at most width columns, no newline:
 *   "lun0 copying [#######.......]  45.2%  123.4 MiB/s  ETA 1:23"
 * done of total bytes; bps < 0 and eta < 0 show as unknown. The bar
 * shrinks, then goes, on narrow terminals. Replaces out's contents.
 */
void cli_fmt_progress(GString *out, int width, const char *lun, const char *phase, uint64_t done,
		      uint64_t total, double bps, double eta);

#endif
