/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for the tcmu-free modules. The plugin points the sink at
 * tcmu-runner's log; tests point it at a buffer. Never blocks for long.
 */
#ifndef SVM_LOG_H
#define SVM_LOG_H

enum svm_log_level { SVM_LOG_ERR, SVM_LOG_WARN, SVM_LOG_INFO, SVM_LOG_DBG };

typedef void (*svm_log_sink)(enum svm_log_level level, const char *msg);

/* Set the sink (NULL: stderr). Not thread-safe: call before any I/O. */
void svm_log_set_sink(svm_log_sink sink);
void svm_log(enum svm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
