function c = test_config()
% test_config()  The dj_connect overrides of the backend under test (DJ_TEST_CONFIG, a JSON object
% such as {"database.backend": "postgresql", "database.host": "127.0.0.1", ...}); '{}' if unset
% (DuckDB: every test then uses a DuckDB file in its own folder, see test_conn).
c = getenv('DJ_TEST_CONFIG');
if isempty(strtrim(c))
    c = '{}';
end
end
