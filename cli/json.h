/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader (and compact writer) for the handler's one-line
 * answers (docs/control.md): objects, arrays, strings, numbers, true,
 * false, null. Strict RFC 8259: no trailing commas, no leading zeros, no
 * comments, valid UTF-8 only, no "\u0000", no duplicate keys in an object,
 * at most CLI_JSON_MAX_DEPTH nested arrays and objects. Members keep the
 * order they were written in, and numbers keep their text, so writing a
 * tree back gives the handler's values unchanged. Nothing here blocks or
 * does I/O; allocation failure aborts (GLib's g_malloc).
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_JSON_MAX_DEPTH 64

enum cli_json_type {
	CLI_JSON_NULL,
	CLI_JSON_BOOL,
	CLI_JSON_NUMBER,
	CLI_JSON_STRING,
	CLI_JSON_ARRAY,
	CLI_JSON_OBJECT,
};

struct cli_json {
	enum cli_json_type type;
	char *key;		/* the member's name when the parent is an object, else NULL */
	char *str;		/* STRING: the decoded text (UTF-8); NUMBER: its text as written */
	bool boolean;		/* BOOL */
	double number;		/* NUMBER */
	struct cli_json *child; /* ARRAY, OBJECT: the first element or member, or NULL */
	struct cli_json *next;	/* the parent's next element or member, or NULL */
};

/*
 * Parse len bytes of text holding exactly one JSON value (white space
 * around it, the answer's closing newline among it, is fine). Returns the
 * tree (free with cli_json_free), or NULL with *err set to a g_malloc'd
 * sentence that names the byte offset of the problem.
 */
struct cli_json *cli_json_parse(const char *text, size_t len, char **err);

/* Free a tree from cli_json_parse; NULL is fine. */
void cli_json_free(struct cli_json *v);

/* The member key of object obj, or NULL (no such member, or obj is not an object). */
const struct cli_json *cli_json_get(const struct cli_json *obj, const char *key);

/* The string member key of obj, or NULL when absent, null or not a string. */
const char *cli_json_get_str(const struct cli_json *obj, const char *key);

/*
 * Member key of obj as an unsigned 64-bit integer: true with *out set when
 * it is a number written as a whole non-negative decimal that fits; false
 * (and *out untouched) otherwise.
 */
bool cli_json_get_u64(const struct cli_json *obj, const char *key, uint64_t *out);

/* Member key of obj as a boolean: true with *out set when it is true or false. */
bool cli_json_get_bool(const struct cli_json *obj, const char *key, bool *out);

/* Number of elements or members of an array or object; 0 for anything else. */
size_t cli_json_count(const struct cli_json *v);

/* Append v to out as compact JSON on one line (no newline), members in their order. */
void cli_json_write(GString *out, const struct cli_json *v);

/* Append s to out as a JSON string literal, quotes included. */
void cli_json_write_string(GString *out, const char *s);

#endif
