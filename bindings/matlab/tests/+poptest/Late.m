classdef Late < dj.Computed
    % A computed table whose keySource is overridden (only sessions 2), for suite_populate;
    % each make stores an <npy@> array.
    properties (Constant)
        definition = sprintf('-> Session\n---\ntrace : <npy@>')
    end
    methods
        function self = Late(schema)
            self = self@dj.Computed(schema);
        end

        function q = keySource(self)
            q = self.schema.table('Session') & 'session = 2';
        end

        function make(self, key)
            key.trace = double(key.subject_id) * ones(2, 3);
            self.insert(key);
        end
    end
end
