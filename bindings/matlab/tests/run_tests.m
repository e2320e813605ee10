function run_tests(varargin)
% run_tests  Run the MATLAB binding's tests (GNU Octave or MATLAB); dj_mex must be built.
%
%   octave-cli --no-history --norc --quiet --eval "cd bindings/matlab/tests; run_tests"
%   run_tests('npy')            % only tests whose name contains 'npy'
%
% The backend under test comes from DJ_TEST_BACKEND / DJ_TEST_CONFIG (see test_backend,
% test_config; DuckDB by default). Every test runs in a fresh temporary folder (its DuckDB file
% and file store) with its own schema-name prefix "djc<pid>_m<k>_" (sname): on the servers its
% schemas are dropped after the test, and a schema that cannot be dropped fails the test. A test
% must leave no live dj_mex handle behind (checked after each test). Prints one line per test
% and finally "N passed, M failed"; exits with status 1 if any test failed.
here = fileparts(mfilename('fullpath'));
if exist('OCTAVE_VERSION', 'builtin')
    % Octave warns that +dj/reset.m "shadows a built-in function" (the graphics reset); it
    % does not: package functions are only reached as dj.reset.
    warning('off', 'Octave:shadowed-function');
    confirm_recursive_rmdir(false);
end
addpath(fileparts(here));   % bindings/matlab: the +dj package and dj_mex
addpath(here);
filter = '';
if nargin > 0
    filter = varargin{1};
end
root = tempname();
mkdir(root);
old = pwd();
cd(root);   % so dj.Connection.connect('') finds no datajoint.json above the current folder
suites = {@suite_basic, @suite_types, @suite_npy, @suite_blob, @suite_objects, @suite_errors, @suite_lifetime, ...
          @suite_algebra, @suite_populate};
if dj.isOctave()
    pid = getpid();
else
    pid = feature('getpid');
end
fprintf('backend: %s\n', test_backend());
passed = 0;
failed = 0;
index = 0;
for s = 1:numel(suites)
    tests = suites{s}();
    for k = 1:size(tests, 1)
        name = tests{k, 1};
        if ~isempty(filter) && isempty(strfind(name, filter))
            continue
        end
        index = index + 1;
        ctx = struct('name', name, 'dir', fullfile(root, name), 'prefix', sprintf('djc%d_m%d_', pid, index));
        mkdir(ctx.dir);
        try
            feval(tests{k, 2}, ctx);
            n = dj_mex('handle_count');
            if n ~= 0
                dj_mex('reset');
                error('Test:Leak', 'the test left %d live handles', n);
            end
            drop_test_schemas(ctx.prefix);
            passed = passed + 1;
            fprintf('ok   %s\n', name);
        catch err
            failed = failed + 1;
            where = '';
            if ~isempty(err.stack)
                where = sprintf(' [%s:%d]', err.stack(1).name, err.stack(1).line);
            end
            fprintf('FAIL %s: %s (%s)%s\n', name, err.message, err.identifier, where);
            dj_mex('reset');
            try
                drop_test_schemas(ctx.prefix);
            catch err2
                fprintf('     and its schemas could not be dropped: %s\n', err2.message);
                dj_mex('reset');
            end
        end
    end
end
cd(old);
try
    rmdir(root, 's');
catch
end
fprintf('%d passed, %d failed\n', passed, failed);
if failed > 0
    exit(1);
end
end

function drop_test_schemas(prefix)
% Drop every schema whose name starts with PREFIX (servers only: DuckDB files are private).
if strcmp(test_backend(), 'duckdb')
    return
end
c = dj.Connection.connect('', test_config());
names = c.schemas();
for k = 1:numel(names)
    if strncmp(names{k}, prefix, numel(prefix))
        c.schema(names{k}, false).drop();
    end
end
left = c.schemas();
if any(strncmp(left, prefix, numel(prefix)))
    error('Test:Leak', 'schemas with the prefix %s remain after dropping them', prefix);
end
end
