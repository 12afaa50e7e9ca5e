/* SPDX-License-Identifier: Apache-2.0 */
/* iovec helpers. Pure memory work: no I/O, never blocks. */
#ifndef SVM_IOV_H
#define SVM_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

size_t svm_iov_length(const struct iovec *iov, size_t cnt);
/* Copy up to len bytes of buf into the iovec; returns bytes copied. */
size_t svm_iov_from_buf(const struct iovec *iov, size_t cnt, const void *buf, size_t len);
/* Zero the iovec from byte skip to its end. */
void svm_iov_zero_from(const struct iovec *iov, size_t cnt, size_t skip);
/* Copy up to len bytes from the iovec, starting skip bytes in, into buf; returns bytes copied. */
size_t svm_iov_to_buf(const struct iovec *iov, size_t cnt, size_t skip, void *buf, size_t len);

/*
 * A view of the first len bytes of an iovec that can be advanced past a
 * short transfer. It borrows the caller's array while it can and copies it
 * (on the stack for small arrays) only when it must clip or advance. It may
 * hold any number of entries: a caller passing it to preadv/pwritev2 hands
 * over at most IOV_MAX of them per call.
 */
struct svm_iov_window {
	struct iovec *iov;
	int cnt;
	const struct iovec *src;
	size_t src_cnt;
	size_t len;
	int owned;
	struct iovec *heap;
	struct iovec local[16];
};

/* Returns 0, or -EINVAL if the iovec holds fewer than len bytes, -ENOMEM. */
int svm_iov_window_init(struct svm_iov_window *w, const struct iovec *iov, size_t cnt,
			size_t len);
/* Skip n bytes already transferred. Returns 0 or -ENOMEM. */
int svm_iov_window_advance(struct svm_iov_window *w, size_t n);
void svm_iov_window_free(struct svm_iov_window *w);

#endif
