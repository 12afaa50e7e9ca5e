/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SVM log (handler/svmlog.c): the vmkernel-style line format, store ids and
 * device names, concurrent writers, rotation, unwritable files.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/log.h"
#include "../../handler/svmlog.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

/* One line: time, cpu, thread id, call site, message (groups 1-7, 8, 9, 10, 11). */
#define LINE_RE                                                                                    \
	"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\\.([0-9]{3})Z "        \
	"cpu([0-9]+):([0-9]+)\\)SVM: ([0-9]+): (.*)$"

static regex_t line_re;

struct parsed {
	time_t when; /* seconds, UTC */
	int ms, cpu, tid;
	unsigned site;
	char msg[1024];
};

static char dir[128];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* The whole file, NUL-terminated; malloc'd, NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	buf = malloc(1 << 22);
	if (buf)
		n = fread(buf, 1, (1 << 22) - 1, f);
	fclose(f);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Parse one line (no '\n'); false if it does not match the format. */
static bool parse(const char *line, struct parsed *p)
{
	regmatch_t m[12];
	struct tm tm = {0};
	int v[10];

	if (regexec(&line_re, line, 12, m, 0))
		return false;
	for (int i = 0; i < 10; i++)
		v[i] = atoi(line + m[i + 1].rm_so);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	p->when = timegm(&tm);
	p->ms = v[6];
	p->cpu = v[7];
	p->tid = v[8];
	p->site = (unsigned)strtoul(line + m[10].rm_so, NULL, 10);
	snprintf(p->msg, sizeof(p->msg), "%.*s", (int)(m[11].rm_eo - m[11].rm_so),
		 line + m[11].rm_so);
	return true;
}

/* Split buf into lines in place; returns how many (at most max), the last '\n' required. */
static int split(char *buf, char **lines, int max)
{
	int n = 0;
	char *nl;

	while (n < max && (nl = strchr(buf, '\n'))) {
		*nl = '\0';
		lines[n++] = buf;
		buf = nl + 1;
	}
	CHECK(*buf == '\0'); /* nothing after the last newline: every line ended */
	return n;
}

static int warns, infos;
static char last_warn[512];

static void count_sink(enum svm_log_level level, const char *msg)
{
	if (level == SVM_LOG_WARN) {
		warns++;
		snprintf(last_warn, sizeof(last_warn), "%s", msg);
	} else if (level == SVM_LOG_INFO) {
		infos++;
	}
}

/* The seed's device: 10a80a6-819390-svmmirror. */
static void seed_dev(struct svm_svmlog_dev *dev)
{
	snprintf(dev->primary, sizeof(dev->primary), "10a80a6");
	snprintf(dev->secondary, sizeof(dev->secondary), "819390");
	svm_svmlog_dev_name(dev->name, sizeof(dev->name), 0x10a80a6, 0x819390);
}

static void format_test(void)
{
	static const char *const want[] = {
	    "hello 42",
	    "SVM_MakeDev.%u: Creating device 10a80a6-819390-svmmirror: Success",
	    "SVM_MakeDev.%u: Creating device 10a80a6-819390-svmmirror: Failure: no space",
	    "Created device 10a80a6-819390-svmmirror, primary 10a80a6, secondary 819390",
	    "Device 10a80a6-819390-svmmirror: primary 10a80a6 is /s/a.img, secondary 819390 is "
	    "/d/b.img",
	    "Copy started for device 10a80a6-819390-svmmirror: mover kernel, size 1073741824 "
	    "bytes, 536870912 bytes to copy",
	    "Switched over device 10a80a6-819390-svmmirror to secondary 819390: I/O paused "
	    "3.210 ms",
	    "Source 10a80a6 of device 10a80a6-819390-svmmirror deleted: /s/a.img",
	    "Source 10a80a6 of device 10a80a6-819390-svmmirror kept: /s/a.img",
	    "Migration failed on device 10a80a6-819390-svmmirror during copy: reading the "
	    "source at byte 4096: Input/output error",
	    "Migration failed on device 10a80a6-819390-svmmirror during switchover: No space "
	    "left on device",
	    "SVM Mirrored mode IO stats for device: 10a80a6-819390-svmmirror",
	    "Reads: 1234, Writes: 567, Mirrored writes: 300, Writes that waited for copy: 12",
	    "Bytes copied: 536870912, Bytes skipped: 536870912, Mover: kernel, Duration: "
	    "12.345 s",
	    "Longest switchover pause: 3.210 ms",
	    "Destroyed device 10a80a6-819390-svmmirror",
	    "a newline and a tab are blanks",
	};
	struct svm_svmlog_stats st = {.reads = 1234,
				      .writes = 567,
				      .mirrored_writes = 300,
				      .waited_writes = 12,
				      .bytes_copied = 512u << 20,
				      .bytes_skipped = 512u << 20,
				      .mover = "kernel",
				      .duration_ns = 12345678901ull,
				      .max_pause_ns = 3210987};
	struct svm_svmlog_dev dev;
	char path[300], expect[300], *buf, *lines[32], big[3000];
	unsigned site_hello, site_ok, site_fail, site_stats;
	int n, ncpu = get_nprocs_conf();
	time_t now = time(NULL);
	struct parsed p;

	path_of(path, sizeof(path), "format.log");
	seed_dev(&dev);
	site_hello = __LINE__ + 1;
	CHECK_EQ(svm_svmlog(path, "hello %d", 42), 0);
	site_ok = __LINE__ + 1;
	CHECK_EQ(svm_svmlog_makedev(path, &dev, NULL), 0);
	site_fail = __LINE__ + 1;
	CHECK_EQ(svm_svmlog_makedev(path, &dev, "no space"), 0);
	CHECK_EQ(svm_svmlog_created(path, &dev, "/s/a.img", "/d/b.img"), 0);
	CHECK_EQ(svm_svmlog_copy_start(path, &dev, "kernel", 1ull << 30, 512u << 20), 0);
	CHECK_EQ(svm_svmlog_switchover(path, &dev, 3210987), 0);
	CHECK_EQ(svm_svmlog_source(path, &dev, "/s/a.img", true), 0);
	CHECK_EQ(svm_svmlog_source(path, &dev, "/s/a.img", false), 0);
	CHECK_EQ(svm_svmlog_failure(path, &dev, "copy", "reading the source at byte 4096", -EIO),
		 0);
	CHECK_EQ(svm_svmlog_failure(path, &dev, "switchover", NULL, -ENOSPC), 0);
	site_stats = __LINE__ + 1;
	CHECK_EQ(svm_svmlog_stats(path, &dev, &st), 0);
	CHECK_EQ(svm_svmlog_destroyed(path, &dev), 0);
	CHECK_EQ(svm_svmlog(path, "a newline\nand a tab\tare blanks"), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(svm_svmlog(path, "%s", big), 0);

	buf = slurp(path, NULL);
	CHECK(buf != NULL);
	if (!buf)
		return;
	n = split(buf, lines, 32);
	CHECK_EQ(n, (int)(sizeof(want) / sizeof(want[0])) + 1);
	for (int i = 0; i < n; i++) {
		bool ok = parse(lines[i], &p);

		CHECK(ok);
		if (!ok) {
			fprintf(stderr, "  line %d: '%s'\n", i, lines[i]);
			continue;
		}
		CHECK_EQ(p.tid, gettid());
		CHECK(p.cpu >= 0 && p.cpu < (ncpu > 0 ? ncpu : 4096));
		CHECK(p.ms >= 0 && p.ms <= 999);
		CHECK(p.when >= now - 5 && p.when <= now + 5);
		if (i == 0)
			CHECK_EQ(p.site, site_hello);
		if (i == 1)
			CHECK_EQ(p.site, site_ok);
		if (i == 2)
			CHECK_EQ(p.site, site_fail);
		if (i >= 11 && i <= 14)
			CHECK_EQ(p.site, site_stats);
		if (i < (int)(sizeof(want) / sizeof(want[0]))) {
			snprintf(expect, sizeof(expect), want[i], p.site);
			CHECK(!strcmp(p.msg, expect));
			if (strcmp(p.msg, expect))
				fprintf(stderr, "  got  '%s'\n  want '%s'\n", p.msg, expect);
		} else {
			/* the long message: cut, still one whole line under 1024 bytes */
			CHECK(strlen(lines[i]) < 1024);
			CHECK(strlen(p.msg) > 900 && strspn(p.msg, "x") == strlen(p.msg));
		}
	}
	/* The seed's own line, as the prefix is laid out. */
	CHECK(parse("2016-05-19T12:59:29.720Z cpu17:808643)SVM: 5188: Created device "
		    "10a80a6-819390-svmmirror, primary 10a80a6, secondary 819390",
		    &p));
	CHECK_EQ(p.site, 5188);
	CHECK_EQ(p.cpu, 17);
	CHECK_EQ(p.tid, 808643);
	CHECK_EQ(p.when, 1463662769);
	CHECK_EQ(p.ms, 720);
	free(buf);
}

static void id_test(void)
{
	char a[300], a_dot[320], a_up[320], link[300], via_link[320], sub[300], buf[64];
	struct svm_svmlog_dev dev;
	uint32_t ids[200], id;
	FILE *f;

	/* Pinned: an id must never change between versions (FNV-1a, xor-folded to 28 bits). */
	CHECK_EQ(svm_svmlog_store_id("/"), 0xa0c975c);
	CHECK_EQ(svm_svmlog_store_id("/dev/null"), 0x236eddb);
	CHECK_EQ(svm_svmlog_store_id("/dev/../dev/./null"), 0x236eddb);

	path_of(sub, sizeof(sub), "ids");
	CHECK_EQ(mkdir(sub, 0700), 0);
	path_of(a, sizeof(a), "ids/a.img");
	snprintf(a_dot, sizeof(a_dot), "%s/./a.img", sub);
	snprintf(a_up, sizeof(a_up), "%s/../ids/a.img", sub);
	path_of(link, sizeof(link), "ids-link");
	CHECK_EQ(symlink(sub, link), 0);
	snprintf(via_link, sizeof(via_link), "%s/a.img", link);

	/* The store does not exist yet (a destination): still one id per place. */
	id = svm_svmlog_store_id(a);
	CHECK_EQ(svm_svmlog_store_id(a), id);
	CHECK_EQ(svm_svmlog_store_id(a_dot), id);
	CHECK_EQ(svm_svmlog_store_id(a_up), id);
	CHECK_EQ(svm_svmlog_store_id(via_link), id);
	/* ... and the same once it does. */
	f = fopen(a, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK_EQ(svm_svmlog_store_id(a), id);
	CHECK_EQ(svm_svmlog_store_id(via_link), id);
	CHECK(id <= 0x0fffffff);

	/* Distinct stores, distinct ids. */
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "ids/s%d.img", i);
		path_of(sub, sizeof(sub), buf);
		ids[i] = svm_svmlog_store_id(sub);
		CHECK(ids[i] <= 0x0fffffff);
	}
	for (int i = 0; i < 200; i++)
		for (int j = i + 1; j < 200; j++)
			if (ids[i] == ids[j])
				CHECK(ids[i] != ids[j]);

	/* Ids print as lowercase hex, 1 to 7 digits; the device name is built from them. */
	svm_svmlog_dev_init(&dev, a, "/dev/null");
	snprintf(buf, sizeof(buf), "%x", id);
	CHECK(!strcmp(dev.primary, buf));
	CHECK(!strcmp(dev.secondary, "236eddb"));
	CHECK(strlen(dev.primary) >= 1 && strlen(dev.primary) <= 7);
	CHECK(strspn(dev.primary, "0123456789abcdef") == strlen(dev.primary));
	snprintf(buf, sizeof(buf), "%s-236eddb-svmmirror", dev.primary);
	CHECK(!strcmp(dev.name, buf));
}

static void devname_test(void)
{
	char buf[SVM_SVMLOG_DEV_LEN];

	CHECK(!strcmp(svm_svmlog_dev_name(buf, sizeof(buf), 0x10a80a6, 0x819390),
		      "10a80a6-819390-svmmirror"));
	CHECK(!strcmp(svm_svmlog_dev_name(buf, sizeof(buf), 0, 0xfffffff), "0-fffffff-svmmirror"));
	/* the widest fits, with room to spare */
	CHECK(strlen(svm_svmlog_dev_name(buf, sizeof(buf), 0xfffffff, 0xfffffff)) == 25);
}

#define WRITERS	    8
#define PER_WRITER  400
#define STAT_BLOCKS 50

struct writer {
	pthread_t thread;
	int n;
	const char *path;
	int failed;
};

/* "w<n> k<k> <pad>|": a pad of one letter per writer, of a length that varies with k. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char pad[800];

	for (int k = 0; k < PER_WRITER; k++) {
		int len = (k * 37 + w->n * 11) % 700;

		memset(pad, 'a' + w->n, (size_t)len);
		pad[len] = '\0';
		if (svm_svmlog(w->path, "w%d k%d %s|", w->n, k, pad))
			w->failed++;
	}
	return NULL;
}

static void *stats_main(void *arg)
{
	struct writer *w = arg;
	struct svm_svmlog_stats st = {.reads = 1, .writes = 2, .mover = "bounce"};
	struct svm_svmlog_dev dev;

	seed_dev(&dev);
	for (int k = 0; k < STAT_BLOCKS; k++)
		if (svm_svmlog_stats(w->path, &dev, &st))
			w->failed++;
	return NULL;
}

static void concurrent_test(void)
{
	static char *lines[WRITERS * PER_WRITER + STAT_BLOCKS * 4 + 8];
	static bool seen[WRITERS][PER_WRITER];
	struct writer w[WRITERS + 1];
	char path[300], *buf;
	int n, bad = 0, blocks = 0, mixed_blocks = 0, writer_lines = 0;
	static struct parsed p, q;

	path_of(path, sizeof(path), "concurrent.log");
	for (int i = 0; i <= WRITERS; i++) {
		w[i] = (struct writer){.n = i, .path = path};
		CHECK_EQ(pthread_create(&w[i].thread, NULL, i < WRITERS ? writer_main : stats_main,
					&w[i]),
			 0);
	}
	for (int i = 0; i <= WRITERS; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK_EQ(w[i].failed, 0);
	}
	buf = slurp(path, NULL);
	CHECK(buf != NULL);
	if (!buf)
		return;
	n = split(buf, lines, (int)(sizeof(lines) / sizeof(lines[0])));
	CHECK_EQ(n, WRITERS * PER_WRITER + STAT_BLOCKS * 4);
	for (int i = 0; i < n; i++) {
		int wn, k, off = 0;
		size_t padlen;

		if (!parse(lines[i], &p)) {
			bad++;
			continue;
		}
		if (!strncmp(p.msg, "SVM Mirrored mode IO stats", 26)) {
			/* the block's four lines follow each other, from one thread */
			blocks++;
			if (i + 3 >= n || !parse(lines[i + 3], &q) || q.tid != p.tid ||
			    strncmp(q.msg, "Longest switchover pause", 24))
				mixed_blocks++;
			i += 3;
			continue;
		}
		if (sscanf(p.msg, "w%d k%d %n", &wn, &k, &off) != 2 || wn < 0 || wn >= WRITERS ||
		    k < 0 || k >= PER_WRITER || seen[wn][k]) {
			bad++;
			continue;
		}
		seen[wn][k] = true;
		writer_lines++;
		padlen = strspn(p.msg + off, (char[]){(char)('a' + wn), '\0'});
		if (padlen != (size_t)((k * 37 + wn * 11) % 700) ||
		    strcmp(p.msg + off + padlen, "|"))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(writer_lines, WRITERS * PER_WRITER);
	CHECK_EQ(blocks, STAT_BLOCKS);
	CHECK_EQ(mixed_blocks, 0);
	free(buf);
}

static int count_lines(const char *path)
{
	char *buf = slurp(path, NULL);
	int n = 0;

	if (!buf)
		return -1;
	for (char *c = buf; *c; c++)
		n += *c == '\n';
	free(buf);
	return n;
}

static void rotate_test(void)
{
	char path[300], rotated[320], *buf;
	size_t len;

	path_of(path, sizeof(path), "rotate.log");
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(svm_svmlog(path, "before %d", i), 0);
	/* logrotate's default: rename, then (create) a new file or leave it to the next line */
	CHECK_EQ(rename(path, rotated), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(svm_svmlog(path, "after %d", i), 0);
	CHECK_EQ(count_lines(rotated), 5);
	CHECK_EQ(count_lines(path), 3);
	buf = slurp(path, NULL);
	CHECK(buf && strstr(buf, "after 0") && !strstr(buf, "before"));
	free(buf);

	/* copytruncate: the next line starts at offset 0, no hole in front of it */
	CHECK_EQ(truncate(path, 0), 0);
	CHECK_EQ(svm_svmlog(path, "after truncate"), 0);
	buf = slurp(path, &len);
	CHECK(buf && len > 0 && buf[0] == '2' && strlen(buf) == len && count_lines(path) == 1);
	free(buf);
}

static void unwritable_test(void)
{
	char nodir[300], bad[320], fifo[300], isdir[300];
	struct timespec t0, t1;

	path_of(nodir, sizeof(nodir), "nodir");
	snprintf(bad, sizeof(bad), "%s/x.log", nodir);
	path_of(isdir, sizeof(isdir), "ids");
	path_of(fifo, sizeof(fifo), "fifo.log");
	warns = infos = 0;
	svm_log_set_sink(count_sink);

	/* Reported once, not fatal: the caller goes on. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(svm_svmlog(bad, "dropped %d", i), -ENOENT);
	CHECK_EQ(warns, 1);
	CHECK(strstr(last_warn, bad) != NULL);
	CHECK_EQ(svm_svmlog_destroyed(bad, NULL), -ENOENT);
	CHECK_EQ(warns, 1);

	/* Another file, its own report. */
	CHECK_EQ(svm_svmlog(isdir, "a directory"), -EISDIR);
	CHECK_EQ(svm_svmlog(isdir, "a directory"), -EISDIR);
	CHECK_EQ(warns, 2);

	/* Once it works again, that is said, and a later failure is reported again. */
	CHECK_EQ(mkdir(nodir, 0700), 0);
	CHECK_EQ(svm_svmlog(bad, "through"), 0);
	CHECK_EQ(infos, 1);
	CHECK_EQ(svm_svmlog(bad, "through"), 0);
	CHECK_EQ(infos, 1);
	CHECK_EQ(count_lines(bad), 2);
	CHECK_EQ(unlink(bad), 0);
	CHECK_EQ(rmdir(nodir), 0);
	CHECK_EQ(svm_svmlog(bad, "dropped"), -ENOENT);
	CHECK_EQ(warns, 3);

	/* A FIFO nobody reads: refused at once, never waited on. */
	CHECK_EQ(mkfifo(fifo, 0600), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(svm_svmlog(fifo, "nobody reads this"), -ENXIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK_EQ(warns, 4);

	test_log_restore();
}

void svmlog_test(void)
{
	char sub[300];

	CHECK_EQ(regcomp(&line_re, LINE_RE, REG_EXTENDED), 0);
	snprintf(dir, sizeof(dir), "%s/svmlog", test_dir);
	snprintf(sub, sizeof(sub), "%s", dir);
	CHECK_EQ(mkdir(sub, 0700), 0);
	format_test();
	id_test();
	devname_test();
	concurrent_test();
	rotate_test();
	unwritable_test();
	regfree(&line_re);
}
