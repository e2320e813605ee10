classdef Table < dj.Expression
    % dj.Table  A table, or a restricted view of one (restrictions stack with AND). A table is
    % a query expression too: the operators and fetch methods of dj.Expression apply (a join,
    % proj, aggr, union or top gives a dj.Query; a restriction stays a dj.Table).
    %
    %   t.insert(struct('id', {1, 2}, 'name', {'a', 'b'}))          % struct array: one row per element
    %   t.insert(struct('id', int32([3;4]), 'name', {{'c'; 'd'}}), 'format', 'columns')  % columnar
    %   t.insert1(struct('id', 5, 'name', 'e'), 'skip_duplicates', true)
    %   s = t.restrict('id > 1').fetch();                        % N×1 struct array
    %   [c, valid] = t.fetch('format', 'columns');               % struct of columns (+ validity)
    %   [name, id] = t.restrict(struct('id', 2)).fetch1('name', 'id');
    %   n = t.restrict(struct('id', {1, 2})).del();              % a struct array is an OR of keys
    %   [n, report] = del(Session & key, 'dry_run', true);      % what a cascading delete would remove
    %   update1(t, struct('id', 2, 'name', 'bb', 'x', []));     % [] resets x to its default
    %
    % Value conversion (see bindings/matlab/README.md): integers come back as int8..int64
    % (native bigint unsigned as uint64), float32 as single, float64 as double, bool as logical, text/decimal/json/uuid as char,
    % bytes as a uint8 row, date and datetime as datenum doubles (option 'temporal': 'text'
    % gives exact ISO text, 'raw' int32 days / int64 microseconds since 1970-01-01), NULL as []
    % (struct form) or NaN / false / 0 with a validity output (columns form), <npy@>
    % values as dj.NpyRef objects and <object@> / <filepath@> values as dj.ObjectRef objects.
    % An <object@> value to insert is a file or folder path (char), uint8 bytes, or
    % {extension, uint8 bytes} (struct rows); a <filepath@> value is a path in the store.

    properties (SetAccess = protected)
        schema = []      % the dj.Schema it was declared/opened through (for declarePart)
    end

    methods
        function obj = Table(varargin)
            obj = obj@dj.Expression(varargin{1:min(nargin, 1)});
            if nargin > 1
                obj.schema = varargin{2};
            end
        end

        % ------------------------------------------------------------ description
        function n = name(obj)
            % SQL name, e.g. 'session', '#lookup', '_imported', '__computed', 'master__part'.
            n = dj_mex('table_name', obj.id);
        end

        function c = comment(obj)
            c = dj_mex('table_comment', obj.id);
        end

        function t = declarePart(obj, partClass, definition)
            % A part table of this table (needs the schema it came from).
            if isempty(obj.schema)
                error('DataJoint:InvalidArgument', 'this table was not made through a dj.Schema');
            end
            t = obj.schema.declarePart(obj, partClass, definition);
        end

        function drop(obj)
            dj_mex('table_drop', obj.id);
        end

        % ------------------------------------------------------------ restrictions
        function t = restrict(obj, cond)
            % restrict(cond): COND is an SQL condition (char, used verbatim), a key struct
            % (equality on the names it shares with the table), a struct array or a cell array
            % of key structs (OR; an empty one matches nothing), or a dj.Table / dj.Query (the
            % rows matching one of its rows on the shared attributes: a semijoin). The result is
            % a dj.Table, so it can be deleted from.
            t = dj.Table(dj_mex('table_restrict', obj.id, dj.Expression.keyArg(cond)), obj.schema);
        end

        function t = exclude(obj, cond)
            % exclude(cond): the rows that do NOT match COND (as restrict; a query: antijoin).
            t = dj.Table(dj_mex('table_exclude', obj.id, dj.Expression.keyArg(cond)), obj.schema);
        end

        % ------------------------------------------------------------ insert
        function n = insert(obj, data, varargin)
            % insert(rows, ...) with ROWS a struct array (one element per row); [] is NULL
            % (except in <blob> attributes, which store any MATLAB value, [] included).
            % insert(cols, 'format', 'columns', ...) with COLS a 1×1 struct of columns:
            % numeric/logical vectors (NaN = NULL for floats), cell arrays of char (text,
            % decimal, json, uuid, date/datetime text), cells of uint8 (bytes), of arrays
            % (<npy@>) or of any values (<blob>, one per row); [] in a cell is NULL (not in
            % <blob> columns). A MATLAB table is inserted as columns.
            % Options: 'skip_duplicates', 'ignore_extra_fields', 'replace', 'allow_direct_insert'
            % (logical). Rows of a Computed or Imported table are inserted by its make during
            % populate; elsewhere such an insert is DataJoint:NotAllowed unless
            % 'allow_direct_insert' is true. One call is one transaction (inside make: part of
            % make's transaction). Returns the number of rows written.
            [opts, fmt] = dj.Table.insertArgs(varargin{:});
            if isa(data, 'table')          % MATLAB only (Octave has no table class)
                data = table2struct(data, 'ToScalar', true);
                fmt = 'columns';
            end
            if ~isstruct(data)
                error('DataJoint:InvalidArgument', 'insert takes a struct array of rows or a struct of columns');
            end
            data = obj.prepare(data, strcmp(fmt, 'columns'));
            if strcmp(fmt, 'columns')
                n = dj_mex('table_insert_columns', obj.id, data, opts);
            else
                n = dj_mex('table_insert_rows', obj.id, data, opts);
            end
        end

        function n = insert1(obj, row, varargin)
            % insert1(row, ...): insert one row (a 1×1 struct).
            if ~isstruct(row) || numel(row) ~= 1
                error('DataJoint:InvalidArgument', 'insert1 takes a 1x1 struct');
            end
            n = obj.insert(row, varargin{:});
        end

        % ------------------------------------------------------------ delete, update
        function [n, report] = del(obj, varargin)
            % n = del(): delete the matching rows and, down the foreign keys, every row that
            % depends on them (one transaction); returns the rows deleted from this table.
            % Named del because delete is the MATLAB destructor. Their <npy@> and <object@>
            % files go too.
            % [n, report] = del('part_integrity', P, 'dry_run', D): P is 'enforce' (default:
            % part rows only go with their master's rows, else DataJoint:Integrity and nothing
            % is deleted), 'ignore' (part rows may go alone) or 'cascade' (deleting part rows
            % deletes their masters, and all their parts). With D true nothing is deleted and
            % the counts are what would be. REPORT is an N×1 struct array (schema, table, rows),
            % this table first.
            if isempty(varargin) && nargout < 2
                n = dj_mex('table_delete', obj.id);
                return
            end
            o = dj.Expression.options(struct('part_integrity', 'enforce', 'dry_run', false), varargin, 'del');
            o.part_integrity = dj.Expression.text(o.part_integrity);
            o.dry_run = logical(o.dry_run);
            [n, report] = dj_mex('table_delete', obj.id, o);
        end

        function update1(obj, row)
            % update1(row): change attributes of one existing row. ROW is a 1×1 struct with the
            % full primary key and the attributes to change; [] resets an attribute to its
            % default (NULL if it has none; in <blob> attributes too). Values are converted as
            % on insert. DataJoint:NotFound if no row has the key.
            if ~isstruct(row) || numel(row) ~= 1
                error('DataJoint:InvalidArgument', 'update1 takes a 1x1 struct');
            end
            dj_mex('table_update1', obj.id, obj.prepare(row, false));
        end

        % ------------------------------------------------------------ staged insert
        function varargout = stagedInsert1(obj, fn)
            % stagedInsert1(@(st) ...): begin a staged insert of one row, call the function
            % with its dj.StagedInsert, and commit when it returns (unless it committed or
            % aborted itself); if it raises an error, abort (remove everything written) and
            % rethrow. st = stagedInsert1(): the dj.StagedInsert itself — commit it yourself;
            % clearing it uncommitted aborts it. See dj.StagedInsert.
            st = dj.StagedInsert(dj_mex('staged_begin', obj.id), obj);
            if nargin < 2
                varargout = {st};
                return
            end
            if ~isa(fn, 'function_handle')
                error('DataJoint:InvalidArgument', 'stagedInsert1 takes a function handle (or nothing)');
            end
            try
                fn(st);
            catch err
                try
                    st.abort();
                catch
                end
                rethrow(err);
            end
            if ~st.isFinished()
                st.commit();
            end
            varargout = cell(1, nargout);
            if nargout > 0
                varargout{1} = st;
            end
        end

        % ------------------------------------------------------------ populate
        function [n, errors, skipped] = populate(obj, varargin)
            % [n, errors] = populate(t, @(t, key) ..., restriction, ..., 'name', value, ...)
            % Call the make function for every key of the key source (by default the join of
            % the tables the primary key references) that is not in this Computed/Imported
            % table yet, each in its own transaction: the rows it inserts into the table (its
            % first argument, a dj.Table valid during the call) and into its part tables commit
            % together when it returns; if it raises an error they are rolled back (stored
            % objects too). KEY is a 1x1 struct. A dj.Computed / dj.Imported subclass needs no
            % function: populate(self, ...) calls its make(self, key) (or makeTuples).
            % Restrictions (ANDed) limit the keys: SQL (char), a key struct (array: OR), a cell
            % of key structs (OR), or a dj.Table / dj.Query; 'restrictions', {r1, r2, ...}
            % gives them as a list. Options: 'reserve_jobs' (reserve each key in the jobs table
            % first, so that many workers - ours or DataJoint Python's - can populate at
            % once), 'suppress_errors' (record a failing make and go on), 'max_calls' (Inf),
            % 'order' ('original', 'reverse', 'random'), 'priority' (jobs: new jobs get it, and
            % only jobs this urgent or more are made), 'refresh' (jobs: refresh the jobs table
            % first; default: the jobs.auto_refresh setting, true), 'display_progress'
            % (logical), 'progress' (fn(struct(done, total, succeeded, failed)) after each key).
            % N is the number of keys made; ERRORS an Mx1 struct array (key, message) of the
            % failed ones (with suppress_errors; else the first failure raises
            % DataJoint:MakeFailed, whose message names the key); SKIPPED counts the keys
            % another worker had reserved or made.
            args = varargin;
            fn = [];
            if ~isempty(args) && isa(args{1}, 'function_handle')
                fn = args{1};
                args = args(2:end);
            end
            defaults = struct('reserve_jobs', false, 'suppress_errors', false, 'max_calls', Inf, ...
                              'order', 'original', 'priority', [], 'refresh', [], 'display_progress', false, ...
                              'progress', []);
            [restr, o] = dj.Table.populateArgs(args, defaults, 'populate');
            if isempty(fn)
                fn = obj.defaultMake();
            end
            target = obj.autoTarget();
            schema = obj.schema;
            make = @(tid, key) dj.Table.runMake(fn, dj.Table(tid, schema), key);
            opts = struct('restrictions', {restr}, 'reserve_jobs', logical(o.reserve_jobs), ...
                          'suppress_errors', logical(o.suppress_errors), 'max_calls', o.max_calls, ...
                          'order', dj.Expression.text(o.order), 'priority', o.priority, 'refresh', []);
            if ~isempty(o.refresh)
                opts.refresh = logical(o.refresh);
            end
            if ~isempty(o.progress)
                if ~isa(o.progress, 'function_handle')
                    error('DataJoint:InvalidArgument', 'progress must be a function handle');
                end
                user = o.progress;
                opts.progress = @(p) dj.Table.runProgress(user, p);
            elseif logical(o.display_progress)
                label = obj.name();
                opts.progress = @(p) dj.Table.runProgress(@(q) dj.Table.showProgress(label, q), p);
            end
            [n, errors, skipped] = dj_mex('table_populate', target.id, make, opts);
        end

        function [remaining, total] = progress(obj, varargin)
            % [remaining, total] = progress(t, restriction, ...): keys of the key source
            % (restricted as for populate) not in the table yet, and all of them. Without
            % outputs it prints them.
            [restr, ~] = dj.Table.populateArgs(varargin, struct(), 'progress');
            target = obj.autoTarget();
            [remaining, total] = dj_mex('table_progress', target.id, struct('restrictions', {restr}));
            if nargout == 0
                fprintf('%s: %d of %d made, %d remaining\n', obj.name(), total - remaining, total, remaining);
                clear remaining total
            end
        end

        function q = keySource(obj)
            % The keys populate makes (a dj.Query): the join of the tables the primary key
            % references (projected to their keys, renamed as the foreign keys rename). A
            % dj.Computed / dj.Imported subclass may override this method.
            q = dj.Query(dj_mex('table_key_source', obj.id));
        end

        function t = withKeySource(obj, q)
            % This table (a dj.Table) with another key source Q (a dj.Query or dj.Table whose
            % primary key the table has): its populate, progress and refreshJobs use Q.
            dj.Expression.need(q, 'the key source');
            t = dj.Table(dj_mex('table_with_key_source', obj.id, q.id), obj.schema);
        end

        function t = jobs(obj)
            % The jobs table ~~<name> of this Computed/Imported table (a dj.Table; declared on
            % first use exactly as DataJoint Python declares it): one row per pending, reserved,
            % failed (status 'error', error_message, error_stack) or ignored key (made keys'
            % jobs are deleted unless jobs.keep_completed). Restrict, fetch or delete from it
            % (deleting error jobs lets populate make their keys again).
            t = dj.Table(dj_mex('table_jobs', obj.id), obj.schema);
        end

        function r = refreshJobs(obj, varargin)
            % r = refreshJobs(t, 'delay', 0, 'priority', 5, 'stale_timeout', 3600,
            % 'orphan_timeout', 0, 'restrictions', {sql, ...}): add the keys of the key source
            % that are neither made nor in the jobs table as pending jobs (due after DELAY
            % seconds), remove jobs whose key left the key source (others than 'ignore' after
            % STALE_TIMEOUT seconds), and make reservations older than ORPHAN_TIMEOUT seconds (a
            % dead worker's) pending again. R: struct(added, removed, orphaned, re_pended).
            o = dj.Expression.options(struct('delay', [], 'priority', [], 'stale_timeout', [], ...
                                             'orphan_timeout', [], 'restrictions', {{}}), varargin, 'refreshJobs');
            if ~iscell(o.restrictions)
                o.restrictions = {o.restrictions};
            end
            o.restrictions = cellfun(@dj.Expression.text, o.restrictions, 'UniformOutput', false);
            target = obj.autoTarget();
            r = dj_mex('jobs_refresh', target.id, o);
        end

        function c = jobProgress(obj)
            % Jobs per status: struct(pending, reserved, success, error, ignore, total).
            c = dj_mex('jobs_progress', obj.id);
        end

        function ignoreJob(obj, key)
            % ignoreJob(t, key): mark the key's job 'ignore' (KEY a key struct, a struct array
            % or a cell of them; the job is added if missing): no worker makes it.
            dj_mex('jobs_ignore', obj.id, key);
        end
    end

    methods (Hidden)
        function t = autoTarget(obj)
            % The table whose handle populate, progress and refreshJobs use (dj.AutoPopulate:
            % this table with its keySource).
            t = obj;
        end

        function fn = defaultMake(obj) %#ok<STOUT,MANU>
            % The make function of populate when none is given (dj.AutoPopulate: its make).
            error('DataJoint:InvalidArgument', ['populate(t, @(t, key) ...) needs a make function ' ...
                  '(or a dj.Computed / dj.Imported subclass that defines make)']);
        end
    end

    methods (Access = private)
        function data = prepare(obj, data, columns)
            % MATLAB string arrays -> char/cellstr; dj.NpyRef values (from another fetch) -> arrays.
            fields = fieldnames(data);
            h = [];
            for f = 1:numel(fields)
                name = fields{f};
                if numel(data) >= 1 && exist('isstring', 'builtin') && isstring(data(1).(name))   % MATLAB only
                    for i = 1:numel(data)
                        v = data(i).(name);
                        if isscalar(v), data(i).(name) = char(v); else, data(i).(name) = cellstr(v); end
                    end
                end
            end
            for f = 1:numel(fields)
                name = fields{f};
                if isempty(h)
                    h = obj.heading();
                end
                k = find(strcmp({h.name}, name), 1);
                if isempty(k) || ~h(k).is_npy
                    continue
                end
                for i = 1:numel(data)
                    v = data(i).(name);
                    if isa(v, 'dj.NpyRef')
                        data(i).(name) = v.load();
                    elseif columns && iscell(v)
                        for j = 1:numel(v)
                            if isa(v{j}, 'dj.NpyRef')
                                v{j} = v{j}.load();
                            end
                        end
                        data(i).(name) = v;
                    end
                end
            end
        end
    end

    methods (Static, Hidden)
        function [opts, fmt] = insertArgs(varargin)
            opts = struct('skip_duplicates', false, 'ignore_extra_fields', false, 'replace', false, ...
                          'allow_direct_insert', false);
            fmt = 'rows';
            if mod(numel(varargin), 2) ~= 0
                error('DataJoint:InvalidArgument', 'insert options are name-value pairs');
            end
            for i = 1:2:numel(varargin)
                key = lower(varargin{i});
                val = varargin{i + 1};
                switch key
                    case {'skip_duplicates', 'ignore_extra_fields', 'replace', 'allow_direct_insert'}
                        opts.(key) = logical(val);
                    case 'format'
                        if ~any(strcmp(val, {'rows', 'struct', 'columns'}))
                            error('DataJoint:InvalidArgument', 'format must be ''rows'' or ''columns''');
                        end
                        fmt = val;
                    otherwise
                        error('DataJoint:InvalidArgument', 'unknown insert option ''%s''', key);
                end
            end
        end

        function [restr, o] = populateArgs(args, o, what)
            % Restrictions (positional: each one restriction; 'restrictions', {...}: a list)
            % and the name-value options named by the fields of O.
            restr = {};
            i = 1;
            while i <= numel(args)
                a = dj.Expression.text(args{i});
                key = '';
                if ischar(a) && i < numel(args)
                    key = lower(a);
                end
                if any(strcmp(key, {'restrictions', 'restriction'}))
                    r = args{i + 1};
                    if ~iscell(r)
                        r = {r};
                    end
                    restr = [restr, cellfun(@dj.Expression.keyArg, reshape(r, 1, []), 'UniformOutput', false)]; %#ok<AGROW>
                    i = i + 2;
                elseif ~isempty(key) && isfield(o, key)
                    o.(key) = args{i + 1};
                    i = i + 2;
                elseif ischar(a) || isstruct(a) || iscell(a) || isa(a, 'dj.Expression') || isa(a, 'table')
                    restr{end + 1} = dj.Expression.keyArg(a); %#ok<AGROW>
                    i = i + 1;
                else
                    error('DataJoint:InvalidArgument', ['%s arguments are restrictions (SQL, key structs, ' ...
                          'tables, queries) and name-value options'], what);
                end
            end
        end

        function err = runMake(fn, t, key)
            % Called by dj_mex for each key: runs the make function and returns [] or the error
            % it raised (an error must not unwind through the library).
            err = [];
            try
                fn(t, key);
            catch e
                % the stack of the make function, without the frames that called it
                st = e.stack;
                k = find(~cellfun(@isempty, regexp({st.name}, '(^|[.>])runMake$', 'once')), 1);
                if ~isempty(k)
                    st = st(1:k - 1);
                end
                err = struct('identifier', e.identifier, 'message', e.message, 'stack', {st});
            end
        end

        function runProgress(fn, p)
            % Called by dj_mex after each key: an error in the progress function is a warning.
            try
                fn(p);
            catch e
                warning('DataJoint:Callback', 'the populate progress function failed: %s', e.message);
            end
        end

        function showProgress(label, p)
            fprintf('%s: %d/%d (%d made, %d failed)\n', label, p.done, p.total, p.succeeded, p.failed);
        end
    end
end
