function j = merge_json(a, b)
% merge_json(a, b)  The members of two JSON objects (text) in one object; keys must not repeat.
x = body(a);
y = body(b);
if isempty(x)
    j = ['{' y '}'];
elseif isempty(y)
    j = ['{' x '}'];
else
    j = ['{' x ', ' y '}'];
end
end

function s = body(o)
l = find(o == '{', 1, 'first');
r = find(o == '}', 1, 'last');
if isempty(l) || isempty(r) || r <= l
    s = '';
else
    s = strtrim(o(l + 1:r - 1));
end
end
