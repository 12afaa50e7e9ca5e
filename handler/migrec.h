/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The persistent record of one migration, so that a crash of tcmu-runner
 * (kill -9 included) loses nothing and the migration picks up where it
 * was. In the state directory (state.h):
 *
 *   <state>/migrations/<source path, escaped>       the record
 *   <state>/migrations/<destination path, escaped>  a symlink to it
 *
 * so that the LUN finds it whichever of the two stores its dev_config
 * names when it opens. The record is a file of 4096 bytes of header, then
 * one byte per region of the LUN (the write-intent bitmap):
 *   - the header is two 2048-byte slots, written in turn; each holds
 *     "key=value" lines (text, for people too) and ends with a sequence
 *     number and a checksum line; a reader takes the valid slot with the
 *     higher sequence, so a write torn by a crash leaves the other;
 *   - a region's byte is 1 while mirrored writes to it may be in flight
 *     (set and made durable before the first such write goes out, cleared
 *     once the destination holds them durably): after a crash those
 *     regions are copied again from the source.
 * Every change is durable (fdatasync) when the call returns. docs/migration.md.
 */
#ifndef SVM_MIGREC_H
#define SVM_MIGREC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

enum svm_migrec_phase {
	SVM_MIGREC_COPYING = 1,	 /* the source is authoritative; the pass may resume */
	SVM_MIGREC_SWITCHED = 2, /* the destination is authoritative; the commit may be pending */
};

struct svm_migrec_info {
	enum svm_migrec_phase phase;
	char src[PATH_MAX], dst[PATH_MAX];
	char mover[16];	 /* datamover of the pass, "auto"... */
	uint32_t rate_mibs;
	bool keep_source;
	uint64_t size;	 /* bytes the LUN holds */
	uint64_t cursor; /* the pass has copied [0, cursor) (but the dirty regions) */
	uint64_t region; /* bytes per bitmap region */
	uint32_t nregions;
	uint64_t started; /* seconds since the epoch */
};

struct svm_migrec;

/*
 * Create the record for info (src, dst, size, region... filled in by the
 * caller), all regions clean. Fails with -EEXIST if either store already
 * has one. Returns 0 and *out, or -errno with *reason. Blocks (fsync).
 */
int svm_migrec_create(const struct svm_migrec_info *info, struct svm_migrec **out,
		      char **reason);
/*
 * Open the record of store path (source or destination): 0 with *out,
 * *info and *bitmap (info->nregions bytes, malloc'd, the caller frees), or
 * -ENOENT if there is none, or -errno with *reason (a record that cannot be
 * read is an error, never "none"). Blocks.
 */
int svm_migrec_open(const char *path, struct svm_migrec **out, struct svm_migrec_info *info,
		    uint8_t **bitmap, char **reason);
/* Write the header with info's phase and cursor (the rest is fixed at create). 0 or -errno. */
int svm_migrec_update(struct svm_migrec *r, enum svm_migrec_phase phase, uint64_t cursor);
/* Set region's byte to dirty (1) or clean (0). 0 or -errno. */
int svm_migrec_mark(struct svm_migrec *r, uint32_t region, bool dirty);
/* Remove the record (both names) and close it. 0 or -errno (closed either way). */
int svm_migrec_remove(struct svm_migrec *r);
/* Close, keeping the record. */
void svm_migrec_close(struct svm_migrec *r);

#endif
