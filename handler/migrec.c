/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "migrec.h"
#include "cfg.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT_LEN   2048
#define HEADER_LEN (2 * SLOT_LEN)
#define SUBDIR	   "migrations"
#define MAGIC	   "tcmu-svm migration record 1"

struct svm_migrec {
	int fd;
	pthread_mutex_t lock; /* header writes */
	struct svm_migrec_info info;
	uint64_t seq;
	char *path, *link; /* the record's two names */
};

static const char *phase_name(enum svm_migrec_phase p)
{
	return p == SVM_MIGREC_SWITCHED ? "switched" : "copying";
}

/* FNV-1a 64: a checksum for the slot text, not a defence against malice. */
static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

static int write_header(struct svm_migrec *r)
{
	const struct svm_migrec_info *i = &r->info;
	char slot[SLOT_LEN] = {0};
	int n;

	r->seq++;
	n = snprintf(slot, sizeof(slot),
		     "%s\nphase=%s\nsource=%s\ndestination=%s\nmover=%s\nrate_mibs=%" PRIu32
		     "\nkeep_source=%d\nsize=%" PRIu64 "\ncursor=%" PRIu64 "\nregion=%" PRIu64
		     "\nregions=%" PRIu32 "\nstarted=%" PRIu64 "\nseq=%" PRIu64 "\n",
		     MAGIC, phase_name(i->phase), i->src, i->dst, i->mover, i->rate_mibs,
		     i->keep_source, i->size, i->cursor, i->region, i->nregions, i->started,
		     r->seq);
	if (n < 0 || (size_t)n + 32 >= sizeof(slot))
		return -ENAMETOOLONG;
	snprintf(slot + n, sizeof(slot) - n, "sum=%016" PRIx64 "\n", fnv(slot, n));
	if (pwrite(r->fd, slot, sizeof(slot), (r->seq % 2) * SLOT_LEN) != SLOT_LEN)
		return errno ? -errno : -EIO;
	return fdatasync(r->fd) ? -errno : 0;
}

static const char *value(const char *text, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == '=')
			return p + k + 1;
	return NULL;
}

static bool copy_value(const char *text, const char *key, char *out, size_t len)
{
	const char *v = value(text, key);
	size_t n = v ? strcspn(v, "\n") : 0;

	if (!v || n >= len)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static bool num_value(const char *text, const char *key, uint64_t *out)
{
	const char *v = value(text, key);
	char *end;

	if (!v)
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return !errno && end != v && *end == '\n';
}

/* Parse one slot: true with *info and *seq if it is whole. */
static bool parse_slot(const char *slot, struct svm_migrec_info *info, uint64_t *seq)
{
	char text[SLOT_LEN + 1], phase[16], *sum;
	uint64_t v, want;

	memcpy(text, slot, SLOT_LEN);
	text[SLOT_LEN] = '\0';
	sum = strstr(text, "sum=");
	if (strncmp(text, MAGIC "\n", sizeof(MAGIC)) || !sum ||
	    sscanf(sum, "sum=%" SCNx64, &want) != 1 || fnv(text, sum - text) != want)
		return false;
	*sum = '\0';
	memset(info, 0, sizeof(*info));
	if (!copy_value(text, "phase", phase, sizeof(phase)) ||
	    !copy_value(text, "source", info->src, sizeof(info->src)) ||
	    !copy_value(text, "destination", info->dst, sizeof(info->dst)) ||
	    !copy_value(text, "mover", info->mover, sizeof(info->mover)))
		return false;
	info->phase = !strcmp(phase, "switched") ? SVM_MIGREC_SWITCHED : SVM_MIGREC_COPYING;
	if (!num_value(text, "rate_mibs", &v))
		return false;
	info->rate_mibs = (uint32_t)v;
	if (!num_value(text, "keep_source", &v))
		return false;
	info->keep_source = v;
	if (!num_value(text, "size", &info->size) || !num_value(text, "cursor", &info->cursor) ||
	    !num_value(text, "region", &info->region) || !num_value(text, "regions", &v) ||
	    !num_value(text, "started", &info->started) || !num_value(text, "seq", seq))
		return false;
	info->nregions = (uint32_t)v;
	return info->region && info->nregions && info->cursor <= info->size;
}

static void free_rec(struct svm_migrec *r)
{
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r->link);
	free(r);
}

static struct svm_migrec *new_rec(const char *src, const char *dst)
{
	struct svm_migrec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	r->path = svm_state_path(SUBDIR, src);
	r->link = svm_state_path(SUBDIR, dst);
	if (!r->path || !r->link) {
		free_rec(r);
		return NULL;
	}
	return r;
}

int svm_migrec_create(const struct svm_migrec_info *info, struct svm_migrec **out,
		      char **reason)
{
	struct svm_migrec *r;
	uint8_t *zero;
	int ret;

	ret = svm_state_mkdir(SUBDIR);
	if (ret)
		return svm_reason(reason, ret, "cannot create the state directory: %s",
				  strerror(-ret));
	r = new_rec(info->src, info->dst);
	if (!r)
		return svm_reason(reason, -ENOMEM, "out of memory");
	r->info = *info;
	r->fd = open(r->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		ret = svm_reason(reason, -errno, "cannot create migration record %s: %s", r->path,
				 strerror(errno));
		goto free_rec;
	}
	zero = calloc(1, info->nregions);
	ret = zero && pwrite(r->fd, zero, info->nregions, HEADER_LEN) == (ssize_t)info->nregions
		      ? 0
		      : -EIO;
	free(zero);
	if (!ret)
		ret = write_header(r);
	if (!ret && symlink(r->path, r->link))
		ret = -errno;
	if (ret) {
		svm_reason(reason, ret, "cannot write migration record %s: %s", r->path,
			   strerror(-ret));
		goto unlink_rec;
	}
	*out = r;
	return 0;

unlink_rec:
	unlink(r->path);
free_rec:
	free_rec(r);
	return ret;
}

int svm_migrec_open(const char *path, struct svm_migrec **out, struct svm_migrec_info *info,
		    uint8_t **bitmap, char **reason)
{
	char slots[HEADER_LEN], *name = svm_state_path(SUBDIR, path);
	struct svm_migrec_info a, b;
	uint64_t sa = 0, sb = 0;
	bool va, vb;
	struct svm_migrec *r;
	int fd, ret;

	if (!name)
		return svm_reason(reason, -ENOMEM, "out of memory");
	fd = open(name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? -ENOENT
				      : svm_reason(reason, -errno, "cannot open migration record %s: %s",
						   name, strerror(errno));
		free(name);
		return ret;
	}
	if (pread(fd, slots, sizeof(slots), 0) != sizeof(slots)) {
		close(fd);
		ret = svm_reason(reason, -EIO, "migration record %s is cut short", name);
		free(name);
		return ret;
	}
	va = parse_slot(slots, &a, &sa);
	vb = parse_slot(slots + SLOT_LEN, &b, &sb);
	if (!va && !vb) {
		close(fd);
		ret = svm_reason(reason, -EIO, "migration record %s is unreadable", name);
		free(name);
		return ret;
	}
	free(name);
	*info = va && (!vb || sa > sb) ? a : b;
	r = new_rec(info->src, info->dst);
	*bitmap = malloc(info->nregions);
	if (!r || !*bitmap) {
		close(fd);
		free(*bitmap);
		*bitmap = NULL;
		if (r)
			free_rec(r);
		return svm_reason(reason, -ENOMEM, "out of memory");
	}
	r->fd = fd;
	r->info = *info;
	r->seq = va && (!vb || sa > sb) ? sa : sb;
	if (pread(fd, *bitmap, info->nregions, HEADER_LEN) != (ssize_t)info->nregions) {
		free(*bitmap);
		*bitmap = NULL;
		ret = svm_reason(reason, -EIO, "migration record %s has no whole bitmap", r->path);
		free_rec(r);
		return ret;
	}
	*out = r;
	return 0;
}

int svm_migrec_update(struct svm_migrec *r, enum svm_migrec_phase phase, uint64_t cursor)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	r->info.phase = phase;
	r->info.cursor = cursor;
	ret = write_header(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int svm_migrec_mark(struct svm_migrec *r, uint32_t region, bool dirty)
{
	uint8_t b = dirty;

	if (region >= r->info.nregions)
		return -EINVAL;
	if (pwrite(r->fd, &b, 1, HEADER_LEN + region) != 1)
		return errno ? -errno : -EIO;
	return fdatasync(r->fd) ? -errno : 0;
}

int svm_migrec_remove(struct svm_migrec *r)
{
	int ret = 0;

	if (unlink(r->link) && errno != ENOENT)
		ret = -errno;
	if (unlink(r->path) && errno != ENOENT && !ret)
		ret = -errno;
	free_rec(r);
	return ret;
}

void svm_migrec_close(struct svm_migrec *r)
{
	if (r)
		free_rec(r);
}
