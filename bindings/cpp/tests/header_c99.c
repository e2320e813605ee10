/* datajoint.h must compile as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror) and link. */
#include "datajoint.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

int main(void) {
    dj_conn *conn = NULL;
    dj_schema *schema = NULL;
    dj_table *table = NULL;
    dj_row *row = NULL;
    dj_result *result = NULL;
    dj_insert_opts iopts;
    dj_fetch_opts fopts;
    dj_column_view view;
    uint64_t count = 0;
    int32_t days = 0;
    char buf[32];
    size_t needed = 0;

    EXPECT((dj_abi_version() >> 16) == DJ_ABI_VERSION_MAJOR);
    EXPECT(dj_version_string() != NULL && strlen(dj_version_string()) > 0);
    EXPECT(strcmp(dj_status_name(DJ_E_DUPLICATE), "Duplicate") == 0);

    EXPECT(dj_date_from_ymd(2024, 2, 29, &days) == DJ_OK);
    EXPECT(dj_date_format(days, buf, sizeof buf, &needed) == DJ_OK);
    EXPECT(strcmp(buf, "2024-02-29") == 0 && needed == 10);

    EXPECT(dj_connect_duckdb(":memory:", &conn) == DJ_OK);
    EXPECT(dj_schema_open(conn, "c99", 1, &schema) == DJ_OK);
    EXPECT(dj_table_declare(schema, "Item", DJ_TIER_MANUAL,
                            "item_id : int32\n---\nlabel : varchar(16)\n", &table) == DJ_OK);
    EXPECT(dj_row_new(&row) == DJ_OK);
    EXPECT(dj_row_set_int(row, "item_id", 7) == DJ_OK);
    EXPECT(dj_row_set_string(row, "label", "seven") == DJ_OK);
    EXPECT(dj_insert_opts_init(&iopts) == DJ_OK);
    EXPECT(dj_table_insert1(table, row, &iopts, &count) == DJ_OK && count == 1);
    EXPECT(dj_table_insert1(table, row, NULL, NULL) == DJ_E_DUPLICATE);
    EXPECT(dj_last_error_code() == DJ_E_DUPLICATE);
    EXPECT(strlen(dj_last_error_message()) > 0);

    EXPECT(dj_fetch_opts_init(&fopts) == DJ_OK);
    EXPECT(dj_table_fetch1(table, &fopts, &result) == DJ_OK);
    EXPECT(dj_result_nrows(result) == 1 && dj_result_ncols(result) == 2);
    memset(&view, 0, sizeof view);
    if (dj_result_column(result, 1, &view) == DJ_OK) {
        EXPECT(view.kind == DJ_KIND_STRING && view.length == 1);
        EXPECT(view.offsets[1] - view.offsets[0] == 5 &&
               memcmp((const char *)view.data + view.offsets[0], "seven", 5) == 0);
    } else {
        EXPECT(!"dj_result_column failed");
    }
    if (failures > 0) fprintf(stderr, "last error: %s\n", dj_last_error_message());

    dj_result_free(result);
    dj_row_free(row);
    dj_table_free(table);
    dj_schema_free(schema);
    EXPECT(dj_conn_close(conn) == DJ_OK);
    dj_conn_free(conn);

    /* NULL is accepted by every free function. */
    dj_conn_free(NULL);
    dj_strlist_free(NULL);

    if (failures == 0) printf("header_c99: ok (libdatajoint %s)\n", dj_version_string());
    return failures == 0 ? 0 : 1;
}
