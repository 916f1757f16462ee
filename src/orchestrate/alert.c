/*
 * alert.c: a pipeline's alerts: a line on stderr and a JSON POST to a
 * webhook ({"text": ...}, the shape Slack's incoming webhooks take), sent
 * with libcurl.
 */
#include "core/compat.h"

#include <curl/curl.h>
#include <jansson.h>

#include "orchestrate/executor.h"

static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
    (void)ptr;
    (void)data;
    return size * n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int weir_alert_send(const char *webhook, const char *text, int to_stderr, weir_error *err)
{
    CURL *c = NULL;
    struct curl_slist *hdr = NULL;
    json_t *body = NULL;
    char *payload = NULL;
    long status = 0;
    CURLcode cc;
    int rc = 0;

    if (to_stderr)
        fprintf(stderr, "weir: alert: %s\n", text);
    if (!webhook || !*webhook)
        return 0;
    pthread_once(&curl_once, curl_init_once);
    body = json_pack("{s:s}", "text", text);
    payload = json_dumps(body, JSON_COMPACT);
    if (!(c = curl_easy_init()) || !payload) {
        rc = weir_error_set(err, WEIR_ERROR, "cannot set up the webhook request");
        goto cleanup;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, webhook);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if ((cc = curl_easy_perform(c)) != CURLE_OK) {
        rc = weir_error_set(err, WEIR_ERROR, "webhook '%s': %s", webhook, curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        rc = weir_error_set(err, WEIR_ERROR, "webhook '%s' answered HTTP %ld", webhook, status);
cleanup:
    curl_slist_free_all(hdr);
    if (c)
        curl_easy_cleanup(c);
    free(payload);
    json_decref(body);
    return rc;
}
