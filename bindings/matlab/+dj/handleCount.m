function n = handleCount()
% dj.handleCount  Number of live libdatajoint handles in the dj_mex registry (0 when nothing leaks).
n = dj_mex('handle_count');
end
