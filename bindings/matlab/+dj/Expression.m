classdef Expression < dj.Handle
    % dj.Expression  What dj.Table and dj.Query have in common: a query expression. Its
    % operators return new objects and leave their operands unchanged; the query runs when
    % fetch, fetch1, keys, count or contains is called.
    %
    %   q = Subject * Session;                          % join on the shared attributes
    %   q = Session & struct('subject_id', 1);          % restriction: SQL, key(s), or a query
    %   q = Subject - Session;                          % exclusion (antijoin)
    %   q = proj(Trial, 'dur=t1-t0');                   % keep / rename / compute attributes
    %   q = aggr(Subject, Session, 'n=count(*)');       % one row per subject
    %   q = (Subject & 'w < 30').proj() + (Subject & 'w > 100').proj();   % union
    %   q = top(Session, 2, 'duration DESC');           % the first rows in an order
    %   s = fetch(q, 'order_by', 'KEY');                 % as dj.Table fetch
    %
    % Restricting a dj.Table gives a dj.Table (so del(Session & key) works); everything else
    % gives a dj.Query. See dj.U for the universal set and bindings/matlab/README.md.

    methods
        function obj = Expression(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        % ------------------------------------------------------------ restriction
        function r = and(a, cond)
            % a & cond is restrict(a, cond).
            dj.Expression.need(a, 'the left operand of &');
            r = a.restrict(cond);
        end

        function r = minus(a, cond)
            % a - cond is exclude(a, cond).
            dj.Expression.need(a, 'the left operand of -');
            r = a.exclude(cond);
        end

        % ------------------------------------------------------------ operators
        function q = mtimes(a, b)
            % a * b: the natural join on the shared attributes (semantic matching: namesakes
            % must come from the same attribute, else DataJoint:InvalidArgument).
            q = join(a, b);
        end

        function q = join(a, b, varargin)
            % join(a, b, 'left', true, 'semantic_check', false): a * b with options; 'left'
            % keeps every row of A (A must determine B; B's attributes are [] where no row matches).
            dj.Expression.need(a, 'the left operand of a join');
            dj.Expression.need(b, 'the right operand of a join');
            o = dj.Expression.options(struct('left', false, 'semantic_check', true), varargin, 'join');
            q = dj.Query(dj_mex('query_join', a.id, b.id, logical(o.semantic_check), logical(o.left)));
        end

        function q = plus(a, b)
            % a + b: the union of two expressions with the same primary key.
            dj.Expression.need(a, 'the left operand of +');
            dj.Expression.need(b, 'the right operand of +');
            q = dj.Query(dj_mex('query_union', a.id, b.id));
        end

        function q = proj(a, varargin)
            % proj(a, item, ...): the primary key (always kept) and the items: 'x' keeps a
            % secondary attribute, '...' all of them, '-x' drops one, 'new=old' renames,
            % 'new=(old)' copies, 'new=<SQL expression>' computes. Items may also be cellstrs.
            q = dj.Query(dj_mex('query_proj', a.id, dj.Expression.items(varargin, 'proj')));
        end

        function q = aggr(a, group, varargin)
            % aggr(a, group, 'n=count(*)', 'm=max(t)', ...): one row per row of A with
            % computations over its matching rows of GROUP (and items as in proj). A row of A
            % without a match is kept, unless the trailing pair 'exclude_nonmatching', true is
            % given (count(*) counts 1 for such a row, as in DataJoint Python; count(attr) 0).
            dj.Expression.need(group, 'the group of aggr');
            args = varargin;
            ex = false;
            if numel(args) >= 2 && ischar(args{end - 1}) && strcmpi(args{end - 1}, 'exclude_nonmatching') ...
                    && (islogical(args{end}) || isnumeric(args{end}))
                ex = logical(args{end});
                args = args(1:end - 2);
            end
            q = dj.Query(dj_mex('query_aggr', a.id, group.id, dj.Expression.items(args, 'aggr'), ex));
        end

        function q = top(a, limit, order_by, offset)
            % top(a, limit, order_by, offset): the first LIMIT rows (default 1, as dj.Top in
            % DataJoint Python; [] or Inf for all) in ORDER_BY order (default 'KEY', e.g.
            % 'duration DESC, KEY') after skipping OFFSET (default 0). Always a dj.Query.
            if nargin < 2
                limit = 1;
            end
            if nargin < 3
                order_by = '';
            end
            if nargin < 4
                offset = 0;
            end
            q = dj.Query(dj_mex('query_top', a.id, limit, dj.Expression.text(order_by), offset));
        end

        % ------------------------------------------------------------ description
        function h = heading(obj)
            % N×1 struct array: name, type (declared, e.g. 'decimal(10,2)'; 'computed' for a
            % computed attribute), kind, comment, default ([] if none), in_key, nullable, is_npy.
            h = dj_mex('query_heading', obj.id);
        end

        function k = primaryKey(obj)
            h = obj.heading();
            k = {h([h.in_key]).name};
        end

        function s = sql(obj)
            % The SELECT statement a fetch runs (values as placeholders), for debugging.
            s = dj_mex('query_sql', obj.id);
        end

        function q = query(obj)
            % The expression as a dj.Query (a dj.Query returns itself).
            q = dj.Query(dj_mex('query_of', obj.id));
        end

        % ------------------------------------------------------------ fetch
        function [data, valid] = fetch(obj, varargin)
            % fetch(attr1, attr2, ..., 'order_by', 'id DESC', 'limit', 10, 'offset', 0,
            %       'format', 'struct'|'columns', 'temporal', 'datenum'|'text'|'raw')
            % Attribute names select columns ('KEY' = the primary key); none means all.
            % 'struct' (default): N×1 struct array, NULL = [].
            % 'columns': 1×1 struct of N×1 columns; VALID is a struct of logical N×1 vectors
            % (true = not NULL). Floats and datenums hold NaN for NULL, integers 0, bool false,
            % cells [].
            opts = dj.Expression.fetchArgs(varargin{:});
            [data, npy, valid, objs] = dj_mex('query_fetch', obj.id, opts);
            data = dj.Expression.wrapRefs(data, npy, opts, objs);
        end

        function varargout = fetch1(obj, varargin)
            % s = fetch1(): the one matching row as a 1×1 struct (DataJoint:NotFound if none,
            % DataJoint:NotUnique if several). [a, b] = fetch1('a', 'b'): the values themselves.
            opts = dj.Expression.fetchArgs(varargin{:});
            [data, npy, ~, objs] = dj_mex('query_fetch1', obj.id, opts);
            data = dj.Expression.wrapRefs(data, npy, opts, objs);
            if isfield(opts, 'attributes') && ~any(strcmp(opts.attributes, 'KEY'))
                n = max(1, nargout);
                varargout = cell(1, n);
                for k = 1:n
                    varargout{k} = data.(opts.attributes{k});
                end
            else
                varargout = {data};
            end
        end

        function [data, valid] = keys(obj, varargin)
            % The primary keys of the matching rows (options as fetch).
            opts = dj.Expression.fetchArgs(varargin{:});
            [data, npy, valid, objs] = dj_mex('query_keys', obj.id, opts);
            data = dj.Expression.wrapRefs(data, npy, opts, objs);
        end

        function n = count(obj)
            % Number of matching rows.
            n = dj_mex('query_count', obj.id);
        end

        function tf = contains(obj, key)
            % contains(q, key): is a row matching the 1×1 key struct in the expression?
            tf = dj_mex('query_contains', obj.id, key);
        end
    end

    methods (Static, Hidden)
        function c = keyArg(c)
            % A restriction as dj_mex takes it: SQL char, key struct (array), cell of keys, or
            % the handle id of a table or query.
            if isa(c, 'dj.Expression')
                c = c.id;
                return
            end
            if isa(c, 'table')   % MATLAB only
                c = table2struct(c);
            end
            c = dj.Expression.text(c);
            if iscell(c) && all(cellfun(@isstruct, c(:)'))
                return
            end
            if ~(ischar(c) || isstruct(c))
                error('DataJoint:InvalidArgument', ['a restriction is an SQL condition (char), a struct ' ...
                      '(array) of keys, a cell of key structs, or a dj.Table / dj.Query']);
            end
        end

        function s = text(s)
            % MATLAB string scalars -> char (Octave has no string class).
            if exist('isstring', 'builtin') && isstring(s)   % MATLAB only
                s = char(s);
            end
        end

        function need(x, what)
            if ~isa(x, 'dj.Expression')
                error('DataJoint:InvalidArgument', '%s must be a dj.Table or dj.Query, not a %s', what, class(x));
            end
        end

        function c = items(args, what)
            % Items of proj/aggr (char or cellstr arguments) as one cellstr row.
            c = cell(1, 0);
            for k = 1:numel(args)
                a = dj.Expression.text(args{k});
                if exist('isstring', 'builtin') && isstring(a)   % MATLAB string array
                    a = cellstr(a);
                end
                if ischar(a)
                    c{end + 1} = a; %#ok<AGROW>
                elseif iscellstr(a)
                    c = [c, reshape(a, 1, [])]; %#ok<AGROW>
                else
                    error('DataJoint:InvalidArgument', '%s items are char (or cellstr), e.g. ''n=count(*)''', what);
                end
            end
        end

        function o = options(o, args, what)
            if mod(numel(args), 2) ~= 0
                error('DataJoint:InvalidArgument', '%s options are name-value pairs', what);
            end
            for i = 1:2:numel(args)
                key = lower(args{i});
                if ~isfield(o, key)
                    error('DataJoint:InvalidArgument', 'unknown %s option ''%s''', what, key);
                end
                o.(key) = args{i + 1};
            end
        end

        function opts = fetchArgs(varargin)
            opts = struct();
            attrs = {};
            names = {'order_by', 'limit', 'offset', 'format', 'temporal', 'attributes'};
            i = 1;
            while i <= numel(varargin)
                a = dj.Expression.text(varargin{i});
                if ischar(a) && any(strcmpi(a, names)) && i < numel(varargin)
                    key = lower(a);
                    val = dj.Expression.text(varargin{i + 1});
                    if strcmp(key, 'attributes')
                        attrs = [attrs, reshape(cellstr(val), 1, [])]; %#ok<AGROW>
                    else
                        opts.(key) = val;
                    end
                    i = i + 2;
                elseif ischar(a)
                    attrs{end + 1} = a; %#ok<AGROW>
                    i = i + 1;
                elseif iscellstr(a)
                    attrs = [attrs, reshape(a, 1, [])]; %#ok<AGROW>
                    i = i + 1;
                else
                    error('DataJoint:InvalidArgument', 'fetch arguments are attribute names and name-value options');
                end
            end
            if ~isempty(attrs)
                opts.attributes = attrs;
            end
        end

        function data = wrapRefs(data, npy, opts, objs)
            % Replace NpyRef / ObjectRef ids by dj.NpyRef / dj.ObjectRef objects (they free
            % their handles when cleared).
            if nargin < 4
                objs = {};
            end
            columns = isfield(opts, 'format') && strcmp(opts.format, 'columns');
            fields = [reshape(npy, 1, []), reshape(objs, 1, [])];
            for k = 1:numel(fields)
                f = fields{k};
                if k <= numel(npy)
                    make = @dj.NpyRef;
                else
                    make = @dj.ObjectRef;
                end
                if columns
                    ids = data.(f);
                    c = cell(numel(ids), 1);
                    for i = 1:numel(ids)
                        if ids(i) ~= 0
                            c{i} = make(ids(i));
                        end
                    end
                    data.(f) = c;
                else
                    for i = 1:numel(data)
                        v = data(i).(f);
                        if ~isempty(v)
                            data(i).(f) = make(v);
                        end
                    end
                end
            end
        end
    end
end
