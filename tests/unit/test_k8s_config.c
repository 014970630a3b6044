/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_k8s_config.c - tests of src/k8s/k8s_config.c: md_k8s_conf
 * defaults, and md_k8s_resolve_endpoint() from kubeconfig files (file
 * references relative to the kubeconfig, inline base64 data, tokens,
 * current-context, errors naming the file; insecure-skip-tls-verify
 * refused), from the in-cluster environment (MINIDNS_K8S_SA_DIR points
 * at test files), and from an explicit server URL (http:// refused
 * unless insecure_http).  The data is in tests/unit/data/k8s_config/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/k8s/k8s-internal.h"
#include "unit.h"

#define DIR MD_TEST_DATA "/k8s_config"

static void
test_conf_defaults(void **state)
{
	struct md_k8s_conf c;

	(void)state;
	md_k8s_conf_init(&c);
	assert_int_equal(c.ttl, 5);
	assert_true(c.reverse);
	assert_int_equal(c.pods, MD_K8S_PODS_DISABLED);
	assert_null(c.server);
	assert_int_equal(c.nzones, 0);
	assert_int_equal(c.nnamespaces, 0);
	assert_false(c.insecure_http);
	c.server = strdup("https://a");
	c.token = strdup("t");
	md_k8s_conf_deinit(&c);
	assert_null(c.server);
	assert_null(c.token);
	md_k8s_conf_deinit(&c); /* twice is fine */
}

/* Resolve with only a kubeconfig set; returns the result code. */
static int
resolve_kc(
    const char *file, struct md_k8s_endpoint_conf *e, char *err, size_t errlen)
{
	struct md_k8s_conf c;
	int rc;

	md_k8s_conf_init(&c);
	c.kubeconfig = strdup(file);
	rc = md_k8s_resolve_endpoint(&c, e, err, errlen);
	md_k8s_conf_deinit(&c);
	return rc;
}

static void
test_kubeconfig_files(void **state)
{
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    resolve_kc(DIR "/kubeconfig.yaml", &e, err, sizeof(err)), 0);
	/* current-context dev: IPv6 in brackets, port, trailing slash */
	assert_string_equal(e.host, "fd00::10");
	assert_int_equal(e.port, 6443);
	assert_true(e.tls);
	assert_string_equal(e.ca_file, DIR "/certs/ca.crt");
	assert_null(e.ca_pem);
	assert_string_equal(e.token, "dev-token-123");
	assert_string_equal(e.token_file, "");
	assert_string_equal(e.cert_file, DIR "/certs/client.crt");
	assert_string_equal(e.key_file, DIR "/certs/client.key");
	md_k8s_endpoint_conf_deinit(&e);
}

static void
test_kubeconfig_switch(void **state)
{
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	/* The same file with current-context: prod. */
	assert_int_equal(
	    resolve_kc(DIR "/kubeconfig-prod.yaml", &e, err, sizeof(err)), 0);
	assert_string_equal(e.host, "prod.example.test");
	assert_int_equal(e.port, 443);
	assert_string_equal(e.ca_file, "/etc/prod-ca.crt"); /* absolute */
	assert_null(e.token);
	assert_string_equal(e.token_file, DIR "/prod.token");
	assert_string_equal(e.cert_file, "");
	md_k8s_endpoint_conf_deinit(&e);
}

static void
test_kubeconfig_inline(void **state)
{
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    resolve_kc(DIR "/inline.yaml", &e, err, sizeof(err)), 0);
	assert_string_equal(e.host, "api.example.test");
	assert_int_equal(e.port, 8443);
	assert_string_equal(e.ca_pem, "CA-PEM-1");     /* one '=' */
	assert_string_equal(e.cert_pem, "CERT-PEM-1"); /* two '=' */
	assert_string_equal(e.key_pem, "KEY-PEM-123"); /* none */
	assert_string_equal(e.ca_file, "");
	md_k8s_endpoint_conf_deinit(&e);
}

static void
test_kubeconfig_errors(void **state)
{
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	assert_int_not_equal(
	    resolve_kc(DIR "/missing-context.yaml", &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, DIR "/missing-context.yaml"));
	assert_non_null(strstr(err, "current-context"));
	assert_non_null(strstr(err, "\"gone\""));

	err[0] = '\0';
	assert_int_not_equal(
	    resolve_kc(DIR "/insecure.yaml", &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, DIR "/insecure.yaml"));
	assert_non_null(strstr(err, "insecure-skip-tls-verify"));

	err[0] = '\0';
	assert_int_not_equal(
	    resolve_kc(DIR "/no-such-file.yaml", &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no-such-file.yaml"));
}

static void
test_in_cluster(void **state)
{
	struct md_k8s_conf c;
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	md_k8s_conf_init(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	setenv("MINIDNS_K8S_SA_DIR", DIR "/sa", 1);
	assert_int_equal(md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_string_equal(e.host, "fd00::1");
	assert_int_equal(e.port, 6443);
	assert_true(e.tls);
	assert_string_equal(e.token_file, DIR "/sa/token");
	assert_string_equal(e.ca_file, DIR "/sa/ca.crt");
	md_k8s_endpoint_conf_deinit(&e);

	/* A missing service account folder names the file. */
	setenv("MINIDNS_K8S_SA_DIR", DIR "/nonexistent", 1);
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, DIR "/nonexistent/ca.crt"));

	setenv("MINIDNS_K8S_SA_DIR", DIR "/sa", 1);
	setenv("KUBERNETES_SERVICE_PORT", "99999", 1);
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("MINIDNS_K8S_SA_DIR");
	md_k8s_conf_deinit(&c);
}

static void
test_explicit_server(void **state)
{
	struct md_k8s_conf c;
	struct md_k8s_endpoint_conf e;
	char err[512] = "";

	(void)state;
	md_k8s_conf_init(&c);
	c.server = strdup("http://127.0.0.1:8080");
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "insecure_http"));

	c.insecure_http = true;
	assert_int_equal(md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_false(e.tls);
	assert_string_equal(e.host, "127.0.0.1");
	assert_int_equal(e.port, 8080);
	md_k8s_endpoint_conf_deinit(&e);

	free(c.server);
	c.server = strdup("https://[::1]:6443");
	c.token = strdup("tok");
	c.token_file = strdup("/run/token");
	c.ca_file = strdup("/etc/ca.pem");
	c.client_cert = strdup("/etc/c.pem");
	c.client_key = strdup("/etc/k.pem");
	assert_int_equal(md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_true(e.tls);
	assert_string_equal(e.host, "::1");
	assert_int_equal(e.port, 6443);
	assert_string_equal(e.token, "tok");
	assert_string_equal(e.token_file, "/run/token");
	assert_string_equal(e.ca_file, "/etc/ca.pem");
	assert_string_equal(e.cert_file, "/etc/c.pem");
	assert_string_equal(e.key_file, "/etc/k.pem");
	md_k8s_endpoint_conf_deinit(&e);

	/* A certificate without its key. */
	free(c.client_key);
	c.client_key = NULL;
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);

	free(c.server);
	c.server = strdup("ftp://x");
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	free(c.server);
	c.server = strdup("https://host:0");
	assert_int_not_equal(
	    md_k8s_resolve_endpoint(&c, &e, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "port"));
	md_k8s_conf_deinit(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_defaults),
	    cmocka_unit_test(test_kubeconfig_files),
	    cmocka_unit_test(test_kubeconfig_switch),
	    cmocka_unit_test(test_kubeconfig_inline),
	    cmocka_unit_test(test_kubeconfig_errors),
	    cmocka_unit_test(test_in_cluster),
	    cmocka_unit_test(test_explicit_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
