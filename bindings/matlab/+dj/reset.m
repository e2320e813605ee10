function n = reset()
% dj.reset  Free every libdatajoint handle held by dj_mex (connections, schemas, tables, array
% references) and unlock the MEX file, without `clear functions`. Objects that still hold ids
% become stale: using them raises DataJoint:InvalidHandle; clearing them is harmless.
% Returns the number of handles freed.
n = dj_mex('reset');
end
