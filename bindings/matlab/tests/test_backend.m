function b = test_backend()
% test_backend()  The backend under test: 'duckdb' (default), 'postgresql' or 'mysql', from the
% environment variable DJ_TEST_BACKEND (scripts/test runs the suites once per backend).
b = getenv('DJ_TEST_BACKEND');
if isempty(b)
    b = 'duckdb';
end
end
