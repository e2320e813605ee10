classdef Stats < dj.Computed
    % A computed table with a part table, for suite_populate: make writes the master row and
    % two part rows, then raises an error for the subject failSubject (after its inserts, which
    % must be rolled back).
    properties (Constant)
        definition = sprintf('# per-session score\n-> Session\n---\nscore : float64')
    end
    properties
        Unit = []          % the part table Stats.Unit
        failSubject = 0    % make fails for this subject_id
        seen = {}          % the keys make was called with
    end
    methods
        function self = Stats(schema)
            self = self@dj.Computed(schema);
            self.Unit = self.declarePart('Unit', sprintf('-> master\nunit : int16\n---\nrate : float64'));
        end

        function make(self, key)
            self.seen{end + 1} = key;
            w = fetch1(self.schema.table('Subject') & key, 'weight');
            self.insert(struct('subject_id', key.subject_id, 'session', key.session, ...
                               'score', w * double(key.session)));
            insert(self.Unit, struct('subject_id', key.subject_id, 'session', key.session, ...
                                     'unit', {1, 2}, 'rate', {1.5, 2.5}));
            if key.subject_id == self.failSubject
                error('PopTest:Refused', 'subject %d refused', key.subject_id);
            end
        end
    end
end
