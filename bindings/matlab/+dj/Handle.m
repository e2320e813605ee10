classdef Handle < handle
    % dj.Handle  Base of the dj classes: owns one id of the dj_mex handle registry and frees it
    % when the object is deleted (or the last variable referring to it is cleared).

    properties (SetAccess = protected)
        id = uint64(0)   % handle id in the dj_mex registry
    end

    methods
        function obj = Handle(id)
            if nargin > 0
                obj.id = id;
            end
        end

        function delete(obj)
            % Free the handle. Never fails: a stale id (e.g. after dj.reset) is ignored, ids are
            % never reused, so a second delete is harmless. (The id is not zeroed here: Octave
            % runs delete at exit outside the class context, where setting a property fails.)
            if obj.id ~= 0
                try
                    dj_mex('free', obj.id);
                catch
                end
            end
        end
    end
end
