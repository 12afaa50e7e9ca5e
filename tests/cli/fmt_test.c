/* SPDX-License-Identifier: Apache-2.0 */
/* cli/fmt.c: byte counts, durations, the rate and ETA estimate, the progress line. */
#include "test.h"
#include "../../cli/fmt.h"

static void bytes(void)
{
	char b[32];

	CHECK_STR(cli_fmt_bytes(0, b, sizeof(b)), "0 B");
	CHECK_STR(cli_fmt_bytes(1023, b, sizeof(b)), "1023 B");
	CHECK_STR(cli_fmt_bytes(1024, b, sizeof(b)), "1.0 KiB");
	CHECK_STR(cli_fmt_bytes(1536, b, sizeof(b)), "1.5 KiB");
	CHECK_STR(cli_fmt_bytes(1048575, b, sizeof(b)), "1.0 MiB"); /* not "1024.0 KiB" */
	CHECK_STR(cli_fmt_bytes(1 << 30, b, sizeof(b)), "1.0 GiB");
	CHECK_STR(cli_fmt_bytes(10ULL << 40, b, sizeof(b)), "10.0 TiB");
	CHECK_STR(cli_fmt_bytes(UINT64_MAX, b, sizeof(b)), "16.0 EiB");
}

static void durations(void)
{
	char b[32];

	CHECK_STR(cli_fmt_duration(-1, b, sizeof(b)), "--:--");
	CHECK_STR(cli_fmt_duration(0, b, sizeof(b)), "0:00");
	CHECK_STR(cli_fmt_duration(42.4, b, sizeof(b)), "0:42");
	CHECK_STR(cli_fmt_duration(59.6, b, sizeof(b)), "1:00");
	CHECK_STR(cli_fmt_duration(725, b, sizeof(b)), "12:05");
	CHECK_STR(cli_fmt_duration(3 * 3600 + 2 * 60 + 9, b, sizeof(b)), "3:02:09");
	CHECK_STR(cli_fmt_duration(1.0 / 0.0, b, sizeof(b)), "--:--");
}

static void rates(void)
{
	struct cli_fmt_rate r;
	const uint64_t mib = 1 << 20;

	cli_fmt_rate_init(&r);
	CHECK(cli_fmt_rate_bps(&r) < 0);
	CHECK(cli_fmt_rate_eta(&r, 100 * mib) < 0);
	cli_fmt_rate_add(&r, 0, 0, 0);
	CHECK(cli_fmt_rate_bps(&r) < 0); /* one sample: unknown */
	cli_fmt_rate_add(&r, 0.1, mib, mib);
	CHECK(cli_fmt_rate_bps(&r) < 0);	     /* too close together */
	cli_fmt_rate_add(&r, 1, 10 * mib, 20 * mib); /* 10 MiB copied, 10 skipped in 1 s */
	CHECK_EQ((long long)cli_fmt_rate_bps(&r), 10 * mib);
	/* 80 MiB left at 20 MiB/s of progress (copied + skipped) */
	CHECK_EQ((long long)(cli_fmt_rate_eta(&r, 100 * mib) + 0.5), 4);
	/* the window: only the last CLI_FMT_RATE_WINDOW seconds count */
	cli_fmt_rate_init(&r);
	cli_fmt_rate_add(&r, 0, 0, 0);
	cli_fmt_rate_add(&r, 1, 100 * mib, 100 * mib); /* a fast start... */
	for (int t = 2; t <= 30; t++)		       /* ...then 1 MiB/s */
		cli_fmt_rate_add(&r, t, (uint64_t)(98 + t) * mib, (uint64_t)(98 + t) * mib);
	CHECK_EQ((long long)(cli_fmt_rate_bps(&r) + 0.5), mib);
	/* no progress: no ETA; done: ETA 0 */
	cli_fmt_rate_init(&r);
	cli_fmt_rate_add(&r, 0, 5, 5);
	cli_fmt_rate_add(&r, 1, 5, 5);
	CHECK(cli_fmt_rate_eta(&r, 100) < 0);
	CHECK_EQ(cli_fmt_rate_bps(&r), 0);
	cli_fmt_rate_add(&r, 2, 5, 100);
	CHECK_EQ(cli_fmt_rate_eta(&r, 100), 0);
	/* counters that go backwards (resumed from a checkpoint): no estimate */
	cli_fmt_rate_init(&r);
	cli_fmt_rate_add(&r, 0, 50, 50);
	cli_fmt_rate_add(&r, 1, 10, 10);
	CHECK(cli_fmt_rate_bps(&r) < 0);
	CHECK(cli_fmt_rate_eta(&r, 100) < 0);
	/* more samples than the ring holds */
	cli_fmt_rate_init(&r);
	for (int t = 0; t < 3 * CLI_FMT_RATE_SAMPLES; t++)
		cli_fmt_rate_add(&r, t * 0.25, (uint64_t)t * mib, (uint64_t)t * mib);
	CHECK_EQ((long long)(cli_fmt_rate_bps(&r) + 0.5), 4 * mib);
}

static void progress(void)
{
	GString *out = g_string_new(NULL);

	cli_fmt_progress(out, 100, "lun0", "copying", 50, 100, 123.4 * (1 << 20), 83);
	CHECK_STR(out->str, "lun0 copying [####################....................]  50.0%  "
			    "123.4 MiB/s  ETA 1:23");
	CHECK(out->len <= 100);
	/* unknown rate and ETA; never 100% before done */
	cli_fmt_progress(out, 80, "lun0", "copying", 9999, 10000, -1, -1);
	CHECK_HAS(out->str, " 99.9%  -- MiB/s  ETA --:--");
	/* narrow: a shorter bar, then none, then cut */
	cli_fmt_progress(out, 60, "lun0", "copying", 0, 100, 0, -1);
	CHECK(out->len <= 60);
	CHECK_HAS(out->str, "[.");
	cli_fmt_progress(out, 40, "lun0", "copying", 0, 100, 0, -1);
	CHECK(!strchr(out->str, '['));
	CHECK_HAS(out->str, "0.0%");
	cli_fmt_progress(out, 20, "lun0", "copying", 0, 100, 0, -1);
	CHECK_EQ(out->len, 20);
	/* a total of 0 (an empty LUN) and more done than total */
	cli_fmt_progress(out, 80, "l", "switching", 5, 0, -1, 0);
	CHECK_HAS(out->str, "0.0%");
	cli_fmt_progress(out, 80, "l", "switching", 200, 100, -1, 0);
	CHECK_HAS(out->str, "100.0%");
	CHECK_HAS(out->str, "ETA 0:00");
	g_string_free(out, TRUE);
}

void fmt_test(void)
{
	bytes();
	durations();
	rates();
	progress();
}
