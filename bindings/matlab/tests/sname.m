function n = sname(ctx, base)
% sname(ctx, base)  The schema name a test uses for BASE: the test's unique prefix
% ("djc<pid>_m<k>_", see run_tests) + BASE. On the servers schemas are shared by everybody, so
% every test names its schemas this way; run_tests drops the prefix's schemas after each test.
n = [ctx.prefix base];
end
