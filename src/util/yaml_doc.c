/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * yaml_doc.c - load a YAML document with libyaml and report its errors as
 * "file:line: problem".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minidns/util.h"
#include "minidns/yaml_doc.h"

int
md_yaml_load(struct md_yaml *y, const char *path, const char *text, size_t len,
    char *err, size_t errlen)
{
	yaml_parser_t parser;
	FILE *fp = NULL;
	int rc = 0;

	memset(y, 0, sizeof(*y));
	y->file = path;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	if (text != NULL) {
		yaml_parser_set_input_string(
		    &parser, (const unsigned char *)text, len);
	} else {
		fp = fopen(path, "r");
		if (fp == NULL) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
			goto cleanup;
		}
		yaml_parser_set_input_file(&parser, fp);
	}
	if (!yaml_parser_load(&parser, &y->doc)) {
		snprintf(err, errlen, "%s:%zu: %s%s%s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "YAML syntax error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		rc = MD_EPARSE;
		goto cleanup;
	}
	y->loaded = true;
cleanup:
	yaml_parser_delete(&parser);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

void
md_yaml_free(struct md_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *
md_yaml_root(struct md_yaml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *
md_yaml_node(struct md_yaml *y, int index)
{
	return yaml_document_get_node(&y->doc, index);
}

const char *
md_yaml_scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

unsigned
md_yaml_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}
