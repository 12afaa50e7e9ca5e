/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "iov.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t svm_iov_length(const struct iovec *iov, size_t cnt)
{
	size_t len = 0;

	for (size_t i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

size_t svm_iov_from_buf(const struct iovec *iov, size_t cnt, const void *buf, size_t len)
{
	size_t done = 0;

	for (size_t i = 0; i < cnt && done < len; i++) {
		size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, (const char *)buf + done, n);
		done += n;
	}
	return done;
}

void svm_iov_zero_from(const struct iovec *iov, size_t cnt, size_t skip)
{
	for (size_t i = 0; i < cnt; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		memset((char *)iov[i].iov_base + skip, 0, l - skip);
		skip = 0;
	}
}

size_t svm_iov_to_buf(const struct iovec *iov, size_t cnt, size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (size_t i = 0; i < cnt && done < len; i++) {
		size_t l = iov[i].iov_len, n;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		n = l - skip < len - done ? l - skip : len - done;
		memcpy((char *)buf + done, (const char *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

/* Make w->iov a private, clipped copy of the source (first use only). */
static int window_own(struct svm_iov_window *w)
{
	size_t need = 0, left = w->len;

	if (w->owned)
		return 0;
	while (need < w->src_cnt && left) {
		left -= w->src[need].iov_len < left ? w->src[need].iov_len : left;
		need++;
	}
	if (need > sizeof(w->local) / sizeof(w->local[0])) {
		w->heap = malloc(need * sizeof(*w->heap));
		if (!w->heap)
			return -ENOMEM;
	}
	w->iov = w->heap ? w->heap : w->local;
	memcpy(w->iov, w->src, need * sizeof(*w->iov));
	w->cnt = need;
	w->owned = 1;
	/* clip the last entry to len */
	if (need && svm_iov_length(w->iov, need) > w->len)
		w->iov[need - 1].iov_len -= svm_iov_length(w->iov, need) - w->len;
	return 0;
}

int svm_iov_window_init(struct svm_iov_window *w, const struct iovec *iov, size_t cnt,
			size_t len)
{
	size_t covered = 0, n = 0;

	w->src = iov;
	w->src_cnt = cnt;
	w->len = len;
	w->heap = NULL;
	w->owned = 0;
	while (n < cnt && covered < len)
		covered += iov[n++].iov_len;
	if (covered < len)
		return -EINVAL;
	if (covered == len) {
		/* Borrow: the first n entries are exactly len bytes. */
		w->iov = (struct iovec *)iov;
		w->cnt = n;
		return 0;
	}
	w->iov = NULL;
	return window_own(w);
}

int svm_iov_window_advance(struct svm_iov_window *w, size_t n)
{
	int ret = window_own(w);

	if (ret)
		return ret;
	while (w->cnt && n >= w->iov[0].iov_len) {
		n -= w->iov[0].iov_len;
		w->iov++;
		w->cnt--;
	}
	if (w->cnt) {
		w->iov[0].iov_base = (char *)w->iov[0].iov_base + n;
		w->iov[0].iov_len -= n;
	}
	return 0;
}

void svm_iov_window_free(struct svm_iov_window *w)
{
	free(w->heap);
	w->heap = NULL;
}
