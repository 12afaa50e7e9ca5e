/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	struct svm_lun *lun;
	char *group; /* NULL: none */
	unsigned refs;
	bool leaving;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
static struct entry *entries;

/* Under lock. */
static struct entry *find(const struct svm_lun *lun)
{
	struct entry *e;

	for (e = entries; e && e->lun != lun; e = e->next)
		;
	return e;
}

static char *dup_group(const char *group, bool *nomem)
{
	char *g = group && *group ? strdup(group) : NULL;

	*nomem = group && *group && !g;
	return g;
}

int svm_registry_add(struct svm_lun *lun, const char *group)
{
	struct entry *e = calloc(1, sizeof(*e));
	bool nomem;

	if (!e)
		return -ENOMEM;
	e->lun = lun;
	e->group = dup_group(group, &nomem);
	if (nomem) {
		free(e);
		return -ENOMEM;
	}
	pthread_mutex_lock(&lock);
	e->next = entries;
	entries = e;
	pthread_mutex_unlock(&lock);
	return 0;
}

int svm_registry_set_group(struct svm_lun *lun, const char *group)
{
	struct entry *e;
	bool nomem;
	char *g = dup_group(group, &nomem), *old = NULL;

	if (nomem)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	e = find(lun);
	if (e) {
		old = e->group;
		e->group = g;
		g = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(old);
	free(g);
	return 0;
}

void svm_registry_remove(struct svm_lun *lun)
{
	struct entry **pp, *e;

	pthread_mutex_lock(&lock);
	e = find(lun);
	if (!e) {
		pthread_mutex_unlock(&lock);
		return;
	}
	e->leaving = true; /* no new lookups find it */
	while (e->refs)
		pthread_cond_wait(&released, &lock);
	for (pp = &entries; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	pthread_mutex_unlock(&lock);
	free(e->group);
	free(e);
}

enum svm_registry_match svm_registry_get(const uint8_t *naa, size_t len, struct svm_lun *from,
					 struct svm_lun **out)
{
	enum svm_registry_match m = SVM_REGISTRY_NOT_FOUND;
	const struct entry *src;
	uint8_t id[SVM_NAA_LEN];
	struct entry *e;

	*out = NULL;
	if (len != SVM_NAA_LEN)
		return m;
	pthread_mutex_lock(&lock);
	src = find(from);
	for (e = entries; e; e = e->next) {
		if (e->leaving || svm_lun_naa(e->lun, id) || memcmp(id, naa, len))
			continue;
		if (e->lun != from &&
		    (!src || !src->group || !e->group || strcmp(src->group, e->group))) {
			m = SVM_REGISTRY_NO_GROUP;
			continue; /* another LUN may report the same designator */
		}
		e->refs++;
		*out = e->lun;
		m = SVM_REGISTRY_FOUND;
		break;
	}
	pthread_mutex_unlock(&lock);
	return m;
}

void svm_registry_put(struct svm_lun *lun)
{
	struct entry *e;

	pthread_mutex_lock(&lock);
	e = find(lun);
	if (e && e->refs && !--e->refs)
		pthread_cond_broadcast(&released);
	pthread_mutex_unlock(&lock);
}
