/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "svmlog.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_LEN   1024 /* one line: prefix, message and '\n' */
#define PREFIX_LEN 96	/* "2016-05-19T12:59:29.720Z cpu17:808643)SVM: 5188: " and then some */
#define BLOCK_MAX  4	/* lines written together (the stats block) */

/* A line or a block of lines that share one prefix and go out in one write(2). */
struct block {
	char prefix[PREFIX_LEN];
	size_t plen;
	size_t len;
	char buf[BLOCK_MAX * LINE_LEN];
};

/*
 * Paths whose failure has been reported and that have not had a line through
 * since, by a 32-bit FNV-1a of the path string. A collision only keeps one
 * report quiet. When the table is full, failures of further paths go
 * unreported (sixteen broken SVM log files at once is a broken host).
 */
#define REPORTED_MAX 16
static pthread_mutex_t reported_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t reported[REPORTED_MAX];
static unsigned reported_n; /* written under reported_lock, read lock-free as a hint */

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 0x811c9dc5u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x01000193u;
	}
	return h;
}

static const char *file_of(const char *path)
{
	return path && *path ? path : SVM_SVMLOG_DEFAULT;
}

static const char *dev_of(const struct svm_svmlog_dev *dev)
{
	return dev ? dev->name : "-";
}

/* True if the failure of path is to be reported now (first since it last worked). */
static bool failure_is_new(const char *path)
{
	uint32_t h = fnv1a32(path);
	bool report = false;
	unsigned i;

	pthread_mutex_lock(&reported_lock);
	for (i = 0; i < reported_n && reported[i] != h; i++)
		;
	if (i == reported_n && reported_n < REPORTED_MAX) {
		reported[reported_n] = h;
		__atomic_store_n(&reported_n, reported_n + 1, __ATOMIC_RELEASE);
		report = true;
	}
	pthread_mutex_unlock(&reported_lock);
	return report;
}

/* True if path had a failure reported (which is now forgotten). */
static bool failure_is_over(const char *path)
{
	uint32_t h;
	bool found = false;
	unsigned i;

	if (!__atomic_load_n(&reported_n, __ATOMIC_ACQUIRE))
		return false;
	h = fnv1a32(path);
	pthread_mutex_lock(&reported_lock);
	for (i = 0; i < reported_n; i++) {
		if (reported[i] == h) {
			reported[i] = reported[reported_n - 1];
			__atomic_store_n(&reported_n, reported_n - 1, __ATOMIC_RELEASE);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&reported_lock);
	return found;
}

/* Append the block to the file with one write(2). 0 or -errno. Blocks on one small local write. */
static int emit(const char *path, const struct block *b)
{
	const char *file = file_of(path);
	int fd, ret = 0;
	ssize_t n;

	/* O_NONBLOCK: a FIFO without a reader fails with ENXIO instead of waiting. */
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0) {
		ret = -errno;
	} else {
		do
			n = write(fd, b->buf, b->len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			ret = -errno;
		else if ((size_t)n != b->len)
			ret = -ENOSPC; /* a short write to a file: out of space or quota */
		if (close(fd) && !ret && errno != EINTR)
			ret = -errno;
	}
	if (ret && failure_is_new(file))
		svm_log(SVM_LOG_WARN,
			"cannot write the SVM log %s: %s; its lines are dropped and this is not "
			"reported again until one gets through",
			file, strerror(-ret));
	else if (!ret && failure_is_over(file))
		svm_log(SVM_LOG_INFO, "the SVM log %s is written again", file);
	return ret;
}

static void block_init(struct block *b, unsigned line)
{
	struct timespec ts;
	struct tm tm;
	int cpu = sched_getcpu(), n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(b->prefix, sizeof(b->prefix),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ cpu%d:%d)SVM: %u: ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)(ts.tv_nsec / 1000000), cpu < 0 ? 0 : cpu, (int)gettid(), line);
	b->plen = n < 0 ? 0 : (size_t)n >= sizeof(b->prefix) ? sizeof(b->prefix) - 1 : (size_t)n;
	b->len = 0;
}

/* Append one line: the prefix, the message (cut to fit, control characters as blanks), '\n'. */
__attribute__((format(printf, 2, 0))) static void block_vadd(struct block *b, const char *fmt,
							     va_list ap)
{
	char *line = b->buf + b->len, *msg;
	size_t room = sizeof(b->buf) - b->len, max, mlen;
	int n;

	if (room > LINE_LEN)
		room = LINE_LEN;
	if (room < b->plen + 2)
		return;
	memcpy(line, b->prefix, b->plen);
	msg = line + b->plen;
	max = room - b->plen - 1; /* the message, its NUL, and later the '\n' in its place */
	n = vsnprintf(msg, max, fmt, ap);
	mlen = n < 0 ? 0 : (size_t)n >= max ? max - 1 : (size_t)n;
	for (size_t i = 0; i < mlen; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = ' ';
	msg[mlen] = '\n';
	b->len += b->plen + mlen + 1;
}

__attribute__((format(printf, 2, 3))) static void block_add(struct block *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	block_vadd(b, fmt, ap);
	va_end(ap);
}

/* path as realpath would give it if its last component existed; malloc'd, or NULL. */
static char *canonical_missing(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir, *rdir, *out = NULL;

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return NULL;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return NULL;
	rdir = realpath(dir, NULL);
	if (rdir && asprintf(&out, "%s/%s", strcmp(rdir, "/") ? rdir : "", base) < 0)
		out = NULL;
	free(rdir);
	free(dir);
	return out;
}

uint32_t svm_svmlog_store_id(const char *path)
{
	char *canon;
	uint32_t h;

	if (!path)
		path = "";
	canon = realpath(path, NULL);
	if (!canon)
		canon = canonical_missing(path);
	h = fnv1a32(canon ? canon : path);
	free(canon);
	return (h >> 28) ^ (h & 0x0fffffffu); /* xor-folded to 28 bits */
}

char *svm_svmlog_dev_name(char *buf, size_t len, uint32_t primary, uint32_t secondary)
{
	snprintf(buf, len, "%x-%x-svmmirror", primary & 0x0fffffffu, secondary & 0x0fffffffu);
	return buf;
}

void svm_svmlog_dev_init(struct svm_svmlog_dev *dev, const char *src, const char *dst)
{
	uint32_t p = svm_svmlog_store_id(src), s = svm_svmlog_store_id(dst);

	snprintf(dev->primary, sizeof(dev->primary), "%x", p);
	snprintf(dev->secondary, sizeof(dev->secondary), "%x", s);
	svm_svmlog_dev_name(dev->name, sizeof(dev->name), p, s);
}

int svm_svmlog_printf(const char *path, unsigned line, const char *fmt, ...)
{
	struct block b;
	va_list ap;

	block_init(&b, line);
	va_start(ap, fmt);
	block_vadd(&b, fmt, ap);
	va_end(ap);
	return emit(path, &b);
}

int svm_svmlog_makedev_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *reason)
{
	if (reason)
		return svm_svmlog_printf(path, line,
					 "SVM_MakeDev.%u: Creating device %s: Failure: %s", line,
					 dev_of(dev), reason);
	return svm_svmlog_printf(path, line, "SVM_MakeDev.%u: Creating device %s: Success", line,
				 dev_of(dev));
}

int svm_svmlog_created_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *src, const char *dst)
{
	const char *p = dev ? dev->primary : "-", *s = dev ? dev->secondary : "-";
	struct block b;

	block_init(&b, line);
	block_add(&b, "Created device %s, primary %s, secondary %s", dev_of(dev), p, s);
	block_add(&b, "Device %s: primary %s is %s, secondary %s is %s", dev_of(dev), p,
		  src ? src : "-", s, dst ? dst : "-");
	return emit(path, &b);
}

int svm_svmlog_copy_start_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			     const char *mover, uint64_t size, uint64_t to_copy)
{
	return svm_svmlog_printf(
	    path, line,
	    "Copy started for device %s: mover %s, size %llu bytes, %llu bytes "
	    "to copy",
	    dev_of(dev), mover ? mover : "-", (unsigned long long)size,
	    (unsigned long long)to_copy);
}

int svm_svmlog_switchover_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			     uint64_t pause_ns)
{
	return svm_svmlog_printf(path, line,
				 "Switched over device %s to secondary %s: I/O paused "
				 "%llu.%03llu ms",
				 dev_of(dev), dev ? dev->secondary : "-",
				 (unsigned long long)(pause_ns / 1000000),
				 (unsigned long long)(pause_ns / 1000 % 1000));
}

int svm_svmlog_source_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			 const char *src, bool deleted)
{
	return svm_svmlog_printf(path, line, "Source %s of device %s %s: %s",
				 dev ? dev->primary : "-", dev_of(dev),
				 deleted ? "deleted" : "kept", src ? src : "-");
}

int svm_svmlog_failure_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *phase, const char *reason, int err)
{
	char ebuf[128];
	const char *e = err ? strerror_r(err < 0 ? -err : err, ebuf, sizeof(ebuf)) : NULL;

	return svm_svmlog_printf(path, line, "Migration failed on device %s during %s: %s%s%s",
				 dev_of(dev), phase ? phase : "migration",
				 reason ? reason : (e ? e : "unknown reason"),
				 reason && e ? ": " : "", reason && e ? e : "");
}

int svm_svmlog_stats_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			const struct svm_svmlog_stats *st)
{
	static const struct svm_svmlog_stats none;
	struct block b;

	if (!st)
		st = &none;
	block_init(&b, line);
	block_add(&b, "SVM Mirrored mode IO stats for device: %s", dev_of(dev));
	block_add(
	    &b,
	    "Reads: %llu, Writes: %llu, Mirrored writes: %llu, Writes that waited for copy: %llu",
	    (unsigned long long)st->reads, (unsigned long long)st->writes,
	    (unsigned long long)st->mirrored_writes, (unsigned long long)st->waited_writes);
	block_add(&b, "Bytes copied: %llu, Bytes skipped: %llu, Mover: %s, Duration: %llu.%03llu s",
		  (unsigned long long)st->bytes_copied, (unsigned long long)st->bytes_skipped,
		  st->mover ? st->mover : "-", (unsigned long long)(st->duration_ns / 1000000000),
		  (unsigned long long)(st->duration_ns / 1000000 % 1000));
	block_add(&b, "Longest switchover pause: %llu.%03llu ms",
		  (unsigned long long)(st->max_pause_ns / 1000000),
		  (unsigned long long)(st->max_pause_ns / 1000 % 1000));
	return emit(path, &b);
}

int svm_svmlog_destroyed_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev)
{
	return svm_svmlog_printf(path, line, "Destroyed device %s", dev_of(dev));
}
