classdef Query < dj.Expression
    % dj.Query  A query expression made by an operator (join, proj, aggr, union, top, dj.U, or
    % a restriction of a dj.Query). Immutable: operators return new dj.Query objects. Fetch
    % it like a table (fetch, fetch1, keys, count, contains: see dj.Expression); it runs on
    % the connection of its tables, which it keeps alive.
    %
    %   q = Subject * Session & 'duration > 10';
    %   s = fetch(q, 'subject_id', 'duration', 'order_by', 'duration DESC');
    %   q2 = q & struct('subject_id', {1, 2});      % still a dj.Query
    %   disp(sql(q2))                               % the SELECT it runs

    methods
        function obj = Query(varargin)
            % dj.Query(id) wraps a query handle id returned by dj_mex (advanced use).
            obj = obj@dj.Expression(varargin{:});
        end

        function q = restrict(obj, cond, varargin)
            % restrict(cond): COND is an SQL condition (char), a key struct (array) or a cell of
            % key structs (OR), or a dj.Table / dj.Query (semijoin on the shared attributes).
            % restrict(query, 'semantic_check', false) matches namesakes whatever their origin.
            q = obj.restrictOp('query_restrict', cond, varargin);
        end

        function q = exclude(obj, cond, varargin)
            % exclude(cond): the rows that do NOT match COND (a query: antijoin).
            q = obj.restrictOp('query_exclude', cond, varargin);
        end

        function q = query(obj)
            q = obj;
        end
    end

    methods (Access = private)
        function q = restrictOp(obj, cmd, cond, args)
            o = dj.Expression.options(struct('semantic_check', true), args, 'restrict');
            q = dj.Query(dj_mex(cmd, obj.id, dj.Expression.keyArg(cond), logical(o.semantic_check)));
        end
    end
end
