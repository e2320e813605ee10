classdef U
    % dj.U  The universal set of some attributes (no database handle; a value).
    %
    %   q = dj.U('species') & Subject;                     % the distinct species (key: species)
    %   q = aggr(dj.U('species'), Subject, 'n=count(*)');  % one row per species, with a count
    %   q = aggr(dj.U(), Session, 'n=count(*)');           % one row: the number of sessions
    %
    % Both give a dj.Query.

    properties (SetAccess = private)
        attributes = cell(1, 0)   % attribute names (cellstr row)
    end

    methods
        function obj = U(varargin)
            % dj.U('a', 'b', ...) or dj.U({'a', 'b'}).
            obj.attributes = dj.Expression.items(varargin, 'dj.U');
        end

        function q = and(u, x)
            % dj.U(attrs) & x: the distinct values of ATTRS in X, with ATTRS as the primary key.
            if ~isa(u, 'dj.U')
                error('DataJoint:InvalidArgument', 'dj.U can only be the left operand of &');
            end
            dj.Expression.need(x, 'the right operand of dj.U &');
            q = dj.Query(dj_mex('query_universal', u.attributes, x.id));
        end

        function q = aggr(u, group, varargin)
            % aggr(dj.U(attrs), group, 'n=count(*)', ...): one row per distinct value of ATTRS
            % in GROUP (no attributes: one row) with the computations over its rows.
            dj.Expression.need(group, 'the group of aggr');
            q = dj.Query(dj_mex('query_universal_aggr', u.attributes, group.id, dj.Expression.items(varargin, 'aggr')));
        end
    end
end
