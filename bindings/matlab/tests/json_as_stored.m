function s = json_as_stored(written)
% json_as_stored(written)  The text the backend under test returns for a json attribute written as
% WRITTEN: PostgreSQL stores jsonb and answers in its format (one space after every ':' and ','
% outside strings; the objects used in the tests have their keys in jsonb's order already);
% DuckDB and MariaDB return the text as written.
if ~strcmp(test_backend(), 'postgresql') || ~ischar(written)
    s = written;
    return
end
s = '';
in_string = false;
escaped = false;
for c = written
    if in_string
        s(end + 1) = c; %#ok<AGROW>
        if escaped
            escaped = false;
        elseif c == '\'
            escaped = true;
        elseif c == '"'
            in_string = false;
        end
    elseif c == '"'
        in_string = true;
        s(end + 1) = c; %#ok<AGROW>
    elseif c == ':' || c == ','
        s = [s c ' ']; %#ok<AGROW>
    elseif ~any(c == sprintf(' \t\r\n'))
        s(end + 1) = c; %#ok<AGROW>
    end
end
end
