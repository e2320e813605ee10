# Attribute values: wrappers for decimal, json and microsecond datetimes; date, datetime and
# UUID conversions to and from the C representations.
#
# C representation (datajoint.h)        Julia
#   date: int32_t days since 1970-01-01    Dates.Date
#   datetime: int64_t µs since the epoch    Dates.DateTime (millisecond precision!) or DateTimeMicros
#   uuid: 16 bytes, RFC 4122 order          UUIDs.UUID
#   decimal: text                           DataJoint.Decimal (insert) / String (fetch)
#   json: text                              DataJoint.JSONText (insert) / String (fetch)

"""
    Decimal(text)

An exact decimal for a `decimal(p,s)` attribute, as text (e.g. `Decimal("-12.50")`). Fetched
decimals come back as `String`s (`"-12.50"`). A plain `String` or a number also works for
a decimal attribute on the row path.
"""
struct Decimal
    text::String
end
Decimal(x::Real) = Decimal(string(x))
Base.string(d::Decimal) = d.text
Base.show(io::IO, d::Decimal) = print(io, "DataJoint.Decimal(", repr(d.text), ")")

"""
    JSONText(text)

A JSON document, as text, for a `json` attribute (validated by the library on insert).
Fetched JSON comes back as a `String`.
"""
struct JSONText
    text::String
end
Base.string(j::JSONText) = j.text
Base.show(io::IO, j::JSONText) = print(io, "DataJoint.JSONText(", repr(j.text), ")")

"""
    DateTimeMicros(micros::Int64)
    DateTimeMicros(dt::DateTime)
    DateTimeMicros(text::AbstractString)

A datetime with microsecond precision: microseconds since 1970-01-01T00:00:00 (UTC by DataJoint
convention), the library's own representation.

Julia's `Dates.DateTime` has millisecond precision. `fetch` returns `datetime` attributes as
`DateTime` values truncated (floored) to the millisecond unless called with
`exact_datetimes = true`, which returns `DateTimeMicros` values instead. Insert either type;
`DateTime` values are exact in microseconds (whole milliseconds).
`DateTime(x::DateTimeMicros)` floors to the millisecond; `string(x)` prints
`"YYYY-MM-DD HH:MM:SS[.ffffff]"`.
"""
struct DateTimeMicros
    micros::Int64
end

const _UNIX_EPOCH_DAYS = Dates.value(Date(1970, 1, 1))          # Rata Die day of 1970-01-01
const _UNIX_EPOCH_MS = Dates.value(DateTime(1970, 1, 1))        # ms of 1970-01-01T00:00:00

function DateTimeMicros(dt::DateTime)
    ms = Dates.value(dt) - _UNIX_EPOCH_MS
    us, overflow = Base.mul_with_overflow(ms, Int64(1000))
    overflow && throw(_type_error("datetime $dt is out of the representable range"))
    return DateTimeMicros(us)
end

function DateTimeMicros(text::AbstractString)
    us = Ref{Int64}(0)
    @dj_check Lib.dj_datetime_parse(_cstr(text, "datetime"), us)
    return DateTimeMicros(us[])
end

Dates.DateTime(x::DateTimeMicros) = DateTime(Dates.UTM(fld(x.micros, 1000) + _UNIX_EPOCH_MS))
Base.isless(a::DateTimeMicros, b::DateTimeMicros) = isless(a.micros, b.micros)
Base.string(x::DateTimeMicros) = format_datetime(x.micros)
Base.show(io::IO, x::DateTimeMicros) = print(io, "DataJoint.DateTimeMicros(", repr(format_datetime(x.micros)), ")")

# days since 1970-01-01 of a Date (DJ_E_TYPE if it does not fit int32_t)
function _date_days(d::Date)
    days = Dates.value(d) - _UNIX_EPOCH_DAYS
    typemin(Int32) <= days <= typemax(Int32) || throw(_type_error("date $d is out of the representable range"))
    return Int32(days)
end

_date_from_days(days::Integer) = Date(Dates.UTD(Int64(days) + _UNIX_EPOCH_DAYS))
_datetime_from_micros(us::Integer) = DateTime(Dates.UTM(fld(Int64(us), 1000) + _UNIX_EPOCH_MS))

_micros(dt::DateTime) = DateTimeMicros(dt).micros
_micros(dt::DateTimeMicros) = dt.micros

"""
    date_from_ymd(year, month, day) -> Date

The date of a calendar day, validated by the library (`DJ_E_INVALID_ARG` for an impossible date).
"""
function date_from_ymd(year::Integer, month::Integer, day::Integer)
    days = Ref{Int32}(0)
    @dj_check Lib.dj_date_from_ymd(Int32(year), UInt32(month), UInt32(day), days)
    return _date_from_days(days[])
end

"""
    format_datetime(micros::Integer) -> String

`"YYYY-MM-DD HH:MM:SS[.ffffff]"` of microseconds since the epoch (the library's formatting).
"""
function format_datetime(micros::Integer)
    buf = Vector{UInt8}(undef, 64)
    needed = Ref{Csize_t}(0)
    @dj_check Lib.dj_datetime_format(Int64(micros), buf, length(buf), needed)
    return String(buf[1:Int(needed[])])
end

"""
    format_date(d::Date) -> String

`"YYYY-MM-DD"` through the library's formatting.
"""
function format_date(d::Date)
    buf = Vector{UInt8}(undef, 32)
    needed = Ref{Csize_t}(0)
    @dj_check Lib.dj_date_format(_date_days(d), buf, length(buf), needed)
    return String(buf[1:Int(needed[])])
end

# 16 bytes of a UUID in RFC 4122 (big-endian) order.
function _uuid_bytes(u::UUID)
    v = u.value
    out = Vector{UInt8}(undef, 16)
    for k in 1:16
        out[k] = (v >> (8 * (16 - k))) % UInt8
    end
    return out
end

function _uuid_from_bytes(p::Ptr{UInt8})
    v = zero(UInt128)
    for k in 1:16
        v = (v << 8) | UInt128(unsafe_load(p, k))
    end
    return UUID(v)
end

# ------------------------------------------------------------------------------ a tiny JSON writer
# (for the `overrides` of `connect`, so that no JSON package is needed)

function _json(io::IO, x::AbstractString)
    print(io, '"')
    for c in x
        if c == '"'
            print(io, "\\\"")
        elseif c == '\\'
            print(io, "\\\\")
        elseif c < ' '
            print(io, "\\u", string(UInt32(c), base=16, pad=4))
        else
            print(io, c)
        end
    end
    print(io, '"')
end
_json(io::IO, x::Symbol) = _json(io, String(x))
_json(io::IO, x::Bool) = print(io, x ? "true" : "false")
_json(io::IO, x::Integer) = print(io, x)
function _json(io::IO, x::AbstractFloat)
    isfinite(x) || throw(_invalid_arg("JSON has no $x"))
    print(io, x)
end
_json(io::IO, ::Nothing) = print(io, "null")
function _json(io::IO, x::Union{AbstractDict,NamedTuple})
    print(io, '{')
    first = true
    for (k, v) in pairs(x)
        first || print(io, ',')
        first = false
        _json(io, string(k))
        print(io, ':')
        _json(io, v)
    end
    print(io, '}')
end
function _json(io::IO, x::Union{AbstractVector,Tuple})
    print(io, '[')
    for (i, v) in enumerate(x)
        i > 1 && print(io, ',')
        _json(io, v)
    end
    print(io, ']')
end
_json(io::IO, x) = throw(_invalid_arg("cannot write a $(typeof(x)) as JSON"))

"JSON text of `x` (a Dict, NamedTuple, vector, string, number, Bool or nothing)."
json_string(x) = sprint(_json, x)
