function check_true(cond, label)
% check_true(cond, label)
if ~(islogical(cond) || isnumeric(cond)) || isempty(cond) || ~all(cond(:))
    error('Test:Mismatch', '%s: not true', label);
end
end
