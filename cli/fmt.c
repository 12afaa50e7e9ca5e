/* SPDX-License-Identifier: Apache-2.0 */
/* Byte counts, durations and the progress line (see fmt.h). */
#include "fmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *cli_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)n;
	unsigned u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%u B", (unsigned)n);
		return buf;
	}
	v /= 1024;
	while (v >= 1023.95 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *cli_fmt_duration(double s, char *buf, size_t len)
{
	unsigned long long t;

	if (s < 0 || !isfinite(s)) {
		snprintf(buf, len, "--:--");
		return buf;
	}
	t = (unsigned long long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%llu:%02llu", t / 60, t % 60);
	return buf;
}

void cli_fmt_rate_init(struct cli_fmt_rate *r)
{
	memset(r, 0, sizeof(*r));
}

void cli_fmt_rate_add(struct cli_fmt_rate *r, double t, uint64_t copied, uint64_t done)
{
	unsigned i = (r->head + r->n) % CLI_FMT_RATE_SAMPLES;

	if (r->n == CLI_FMT_RATE_SAMPLES) {
		i = r->head;
		r->head = (r->head + 1) % CLI_FMT_RATE_SAMPLES;
	} else {
		r->n++;
	}
	r->s[i].t = t;
	r->s[i].copied = copied;
	r->s[i].done = done;
}

/* The newest sample and the oldest one within CLI_FMT_RATE_WINDOW of it; false if too few. */
static bool window(const struct cli_fmt_rate *r, unsigned *first, unsigned *last)
{
	unsigned k;

	if (r->n < 2)
		return false;
	*last = (r->head + r->n - 1) % CLI_FMT_RATE_SAMPLES;
	*first = *last;
	for (unsigned j = 1; j < r->n; j++) {
		k = (*last + CLI_FMT_RATE_SAMPLES - j) % CLI_FMT_RATE_SAMPLES;
		if (r->s[*last].t - r->s[k].t > CLI_FMT_RATE_WINDOW)
			break;
		*first = k;
	}
	/* counters went backwards (a restart that resumed from a checkpoint): no estimate */
	return r->s[*last].t - r->s[*first].t >= 0.2 && r->s[*last].copied >= r->s[*first].copied &&
	       r->s[*last].done >= r->s[*first].done;
}

double cli_fmt_rate_bps(const struct cli_fmt_rate *r)
{
	unsigned a, b;

	if (!window(r, &a, &b))
		return -1;
	return (double)(r->s[b].copied - r->s[a].copied) / (r->s[b].t - r->s[a].t);
}

double cli_fmt_rate_eta(const struct cli_fmt_rate *r, uint64_t total)
{
	unsigned a, b;
	double pace;

	if (r->n && r->s[(r->head + r->n - 1) % CLI_FMT_RATE_SAMPLES].done >= total)
		return 0;
	if (!window(r, &a, &b))
		return -1;
	pace = (double)(r->s[b].done - r->s[a].done) / (r->s[b].t - r->s[a].t);
	if (pace <= 0)
		return -1;
	return (double)(total - r->s[b].done) / pace;
}

void cli_fmt_progress(GString *out, int width, const char *lun, const char *phase, uint64_t done,
		      uint64_t total, double bps, double eta)
{
	double frac = total ? (double)(done > total ? total : done) / (double)total : 0;
	char rate[32], when[32];
	GString *tail = g_string_new(NULL);
	int bar, fill;

	if (bps >= 0)
		snprintf(rate, sizeof(rate), "%.1f MiB/s", bps / (1 << 20));
	else
		snprintf(rate, sizeof(rate), "-- MiB/s");
	g_string_printf(tail, " %5.1f%%  %s  ETA %s", floor(frac * 1000) / 10, rate,
			cli_fmt_duration(eta, when, sizeof(when)));
	g_string_printf(out, "%s %s", lun, phase);
	/* " [" + bar + "]" between the head and the tail, 10 to 40 columns of it */
	bar = width - (int)out->len - (int)tail->len - 3;
	if (bar > 40)
		bar = 40;
	if (bar >= 10) {
		fill = (int)(frac * bar);
		g_string_append(out, " [");
		for (int i = 0; i < bar; i++)
			g_string_append_c(out, i < fill ? '#' : '.');
		g_string_append_c(out, ']');
	}
	g_string_append(out, tail->str);
	if (width > 0 && out->len > (size_t)width)
		g_string_truncate(out, width);
	g_string_free(tail, TRUE);
}
