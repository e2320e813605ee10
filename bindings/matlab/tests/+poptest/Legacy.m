classdef Legacy < dj.Imported
    % An imported table with the legacy makeTuples(self, key) and the definition given to the
    % superclass constructor, for suite_populate.
    methods
        function self = Legacy(schema)
            self = self@dj.Imported(schema, sprintf('-> Subject\n---\nn_sessions : int32'));
        end

        function makeTuples(self, key)
            n = count(self.schema.table('Session') & key);
            key.n_sessions = n;
            self.insert(key);
        end
    end
end
