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

    properties (SetAccess = private)
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
            % Options: 'skip_duplicates', 'ignore_extra_fields', 'replace' (logical).
            % One call is one transaction. Returns the number of rows written.
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
            opts = struct('skip_duplicates', false, 'ignore_extra_fields', false, 'replace', false);
            fmt = 'rows';
            if mod(numel(varargin), 2) ~= 0
                error('DataJoint:InvalidArgument', 'insert options are name-value pairs');
            end
            for i = 1:2:numel(varargin)
                key = lower(varargin{i});
                val = varargin{i + 1};
                switch key
                    case {'skip_duplicates', 'ignore_extra_fields', 'replace'}
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
    end
end
