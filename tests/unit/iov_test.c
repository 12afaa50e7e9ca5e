/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/iov.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

void iov_test(void)
{
	char a[4] = "abcd", b[3] = "efg", c[5] = "hijkl", out[16] = {0};
	struct iovec v[3] = {{a, 4}, {b, 3}, {c, 5}};
	struct svm_iov_window w;

	CHECK_EQ(svm_iov_length(v, 3), 12);
	CHECK_EQ(svm_iov_to_buf(v, 3, 2, out, 6), 6);
	CHECK(!memcmp(out, "cdefgh", 6));

	/* exact cover borrows the caller's array */
	CHECK_EQ(svm_iov_window_init(&w, v, 3, 7), 0);
	CHECK(w.iov == v && w.cnt == 2);
	/* advancing copies, and never touches the caller's array */
	CHECK_EQ(svm_iov_window_advance(&w, 5), 0);
	CHECK(w.cnt == 1 && w.iov[0].iov_base == b + 1 && w.iov[0].iov_len == 2);
	CHECK(v[1].iov_base == b && v[1].iov_len == 3);
	svm_iov_window_free(&w);

	/* clipping in the middle of an entry */
	CHECK_EQ(svm_iov_window_init(&w, v, 3, 9), 0);
	CHECK(w.iov != v && w.cnt == 3 && w.iov[2].iov_len == 2);
	CHECK_EQ(svm_iov_length(w.iov, w.cnt), 9);
	svm_iov_window_free(&w);

	/* too little data is refused */
	CHECK_EQ(svm_iov_window_init(&w, v, 3, 13), -EINVAL);

	/* more entries than one syscall takes (IOV_MAX): the caller windows them */
	size_t n = 2 * IOV_MAX + 1;
	struct iovec *many = calloc(n, sizeof(*many));
	char *bytes = malloc(n);

	CHECK(many && bytes);
	if (many && bytes) {
		for (size_t i = 0; i < n; i++)
			many[i] = (struct iovec){bytes + i, 1};
		CHECK_EQ(svm_iov_window_init(&w, many, n, n), 0);
		CHECK(w.iov == many && (size_t)w.cnt == n);
		CHECK_EQ(svm_iov_window_advance(&w, IOV_MAX), 0);
		CHECK(w.iov[0].iov_base == bytes + IOV_MAX && (size_t)w.cnt == n - IOV_MAX);
		svm_iov_window_free(&w);
		CHECK_EQ(svm_iov_window_init(&w, many, n, n - 1), 0);
		CHECK(w.iov == many && (size_t)w.cnt == n - 1);
		svm_iov_window_free(&w);
	}
	free(many);
	free(bytes);

	memset(out, 'x', sizeof(out));
	CHECK_EQ(svm_iov_from_buf(v, 3, "0123456789", 10), 10);
	CHECK(!memcmp(a, "0123", 4) && !memcmp(b, "456", 3) && !memcmp(c, "789kl", 5));
}
