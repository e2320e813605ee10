/* Consumer of an installed libdatajoint (C ABI). */
#include <datajoint.h>

#include <stdio.h>

int main(void) {
    dj_conn *conn = NULL;
    dj_schema *schema = NULL;
    dj_table *table = NULL;
    uint64_t n = 1;
    int ok = dj_connect_duckdb(NULL, &conn) == DJ_OK && dj_schema_open(conn, "consumer", 1, &schema) == DJ_OK &&
             dj_table_declare(schema, "Note", DJ_TIER_MANUAL, "note_id : int32", &table) == DJ_OK &&
             dj_table_count(table, &n) == DJ_OK && n == 0;
    if (!ok) fprintf(stderr, "consumer_c: %s\n", dj_last_error_message());
    dj_table_free(table);
    dj_schema_free(schema);
    dj_conn_free(conn);
    printf("consumer_c: %s (ABI 0x%08x)\n", ok ? "ok" : "FAILED", (unsigned)dj_abi_version());
    return ok ? 0 : 1;
}
