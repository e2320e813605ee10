#!/usr/bin/env python3
"""Static drift check of the DataJoint.jl package against include/datajoint.h.

No Julia runtime exists on the machines this project builds on, so the Julia package is
checked at the parser level (tree-sitter-julia) instead of being executed:

  (a) every .jl file under the package parses with no ERROR or MISSING node;
  (b) every `ccall((:name, libdatajoint), Ret, (Args...), args...)` names a function of the
      header, has the header's number of arguments, passes as many values as it declares
      types, and every Julia type is compatible with the C type (table C_SCALARS below);
      in src/LibDataJoint.jl the wrapper is also named after the function, takes the C
      parameter names in order and passes them through unchanged; a `ccall(fptr, Ret,
      (Args...), args...)` through a C function pointer held in a variable (a callback the
      library hands out, such as an Arrow struct's `release`) is allowed outside
      src/LibDataJoint.jl, with a literal type tuple and as many values as types;
  (c) every function of the header is wrapped exactly once in src/LibDataJoint.jl;
  (d) every `typedef struct X { ... } X;` (and every plain `struct X { ... };`, such as the
      Arrow C Data Interface structs) of the header has a Julia `struct X` in
      src/LibDataJoint.jl with the same field names, in the same order, of compatible
      types; every opaque handle typedef has a Julia type of the same name;
  (e) every integer `#define DJ_*` of the header is a `const` of the same value in
      src/LibDataJoint.jl, and LibDataJoint.jl defines no DJ_* constant the header lacks;
  (f) every `@cfunction(f, Ret, (Args...))` (a trampoline the library calls back) has the
      signature of a callback typedef of the header (`typedef R (*name)(params)`: the same
      number of arguments, every Julia type compatible with the C type, pointers as Ptr{...}),
      names a top-level function (no `$closure`: pass state through the callback's
      user_data) that some file defines with that many arguments; and every callback typedef
      of the header has at least one such @cfunction.

Usage: check_julia.py [--root bindings/julia] [--header include/datajoint.h] [-q]
Requires: tree-sitter==0.26.1, tree-sitter-julia==0.23.1 (PyPI wheels).
Prints one line per problem, a summary, and a last line `N passed, M failed` (checks).
Exit status 1 on any failed check or when the inputs cannot be read.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

try:
    import tree_sitter_julia as tsj
    from tree_sitter import Language, Parser
except ImportError as e:  # pragma: no cover - environment problem, reported plainly
    print(f"check_julia.py: {e}; install tree-sitter==0.26.1 tree-sitter-julia==0.23.1", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)

LIBRARY_CONST = "libdatajoint"
LOWLEVEL_FILE = os.path.join("src", "LibDataJoint.jl")

# ------------------------------------------------------------------------------------------
# The type mapping (C scalar type -> accepted Julia spellings). Pointers are handled
# structurally: `T*` maps to Ptr{J} (anywhere) or Ref{J} (ccall arguments only) where J is
# accepted for T; `const char*` also maps to Cstring; opaque handles may be Cvoid; a function
# pointer maps to Ptr{Cvoid}.

C_SCALARS: Dict[str, Tuple[str, ...]] = {
    "int8_t": ("Int8",),
    "uint8_t": ("UInt8",),
    "int16_t": ("Int16",),
    "uint16_t": ("UInt16",),
    "int32_t": ("Int32", "Cint"),
    "uint32_t": ("UInt32", "Cuint"),
    "int64_t": ("Int64",),
    "uint64_t": ("UInt64",),
    "size_t": ("Csize_t", "UInt"),
    "float": ("Float32", "Cfloat"),
    "double": ("Float64", "Cdouble"),
    "void": ("Cvoid", "Nothing"),
}
# What a pointer to these may point to on the Julia side.
C_POINTEE: Dict[str, Tuple[str, ...]] = {
    "char": ("UInt8", "Cchar", "Int8"),
    "void": ("Cvoid", "Nothing", "UInt8"),
}


# ------------------------------------------------------------------------------------------
# C header parsing


@dataclass
class CType:
    base: str  # e.g. "char", "dj_conn", "int32_t"; "<fnptr>" for function pointers
    depth: int = 0  # number of '*'
    base_const: bool = False  # `const` applies to the pointee base type
    text: str = ""

    def deref(self) -> "CType":
        return CType(self.base, self.depth - 1, self.base_const, self.text)

    def __str__(self) -> str:
        return self.text or (("const " if self.base_const else "") + self.base + " " + "*" * self.depth)


@dataclass
class CParam:
    name: str
    ctype: CType


@dataclass
class CFunction:
    name: str
    ret: CType
    params: List[CParam]
    line: int


@dataclass
class CStruct:
    name: str
    fields: List[CParam]
    line: int


@dataclass
class Header:
    functions: Dict[str, CFunction] = field(default_factory=dict)
    structs: Dict[str, CStruct] = field(default_factory=dict)
    opaque: Dict[str, int] = field(default_factory=dict)
    aliases: Dict[str, CType] = field(default_factory=dict)
    callbacks: Dict[str, CFunction] = field(default_factory=dict)  # `typedef R (*name)(params)`
    constants: Dict[str, int] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)


def strip_comments(src: str) -> str:
    """Replace // and /* */ comments by spaces (newlines kept); string literals are kept."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "/" and i + 1 < n and src[i + 1] == "/":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and i + 1 < n and src[i + 1] == "*":
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in src[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_int(text: str) -> Optional[int]:
    t = text.strip()
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    m = re.fullmatch(r"([-+]?)\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*", t)
    if not m:
        return None
    v = int(m.group(2), 0)
    return -v if m.group(1) == "-" else v


def preprocess(src: str, hdr: Header) -> List[Tuple[int, str]]:
    """Drop preprocessor lines and inactive regions (#ifdef __cplusplus); collect #defines.
    Returns (line number, text) of the C code lines that remain."""
    src = strip_comments(src.replace("\\\n", " \n"))
    active_stack: List[bool] = []
    body: List[Tuple[int, str]] = []
    for lineno, line in enumerate(src.split("\n"), start=1):
        s = line.strip()
        active = all(active_stack)
        if s.startswith("#"):
            d = s[1:].strip()
            word = d.split(None, 1)[0] if d else ""
            rest = d[len(word) :].strip()
            if word == "ifdef":
                active_stack.append(rest != "__cplusplus")
            elif word == "ifndef":
                active_stack.append(True)  # include guards: not defined yet
            elif word in ("if", "elif"):
                if word == "elif" and active_stack:
                    active_stack.pop()
                active_stack.append("__cplusplus" not in rest)
            elif word == "else":
                if active_stack:
                    active_stack[-1] = not active_stack[-1]
            elif word == "endif":
                if active_stack:
                    active_stack.pop()
                else:
                    hdr.problems.append(f"header:{lineno}: #endif without #if")
            elif word == "define" and active:
                m = re.match(r"(\w+)(?:\s+(.*))?$", rest)
                if m and m.group(2) is not None:
                    v = parse_int(m.group(2))
                    if v is not None:
                        hdr.constants[m.group(1)] = v
            continue
        if active:
            body.append((lineno, line))
    if active_stack:
        hdr.problems.append("header: unterminated #if block")
    return body


def split_top(text: str, sep: str) -> List[str]:
    """Split on `sep` outside (), {} and []."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def norm_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


FNPTR_RE = re.compile(r"^(.*?)\(\s*\*\s*(\w*)\s*\)\s*\((.*)\)$", re.S)


def parse_ctype(text: str) -> CType:
    t = norm_ws(text)
    if FNPTR_RE.match(t):
        return CType("<fnptr>", 0, False, t)
    tokens = re.findall(r"\*|\w+", t)
    depth = 0
    base_words: List[str] = []
    base_const = False
    for tok in tokens:
        if tok == "*":
            depth += 1
        elif tok == "const":
            if depth == 0:
                base_const = True
        elif tok in ("struct", "volatile", "restrict", "enum", "union"):
            continue
        elif depth == 0:
            base_words.append(tok)
        # identifiers after a '*' other than const (a name) are not part of the type
    return CType(" ".join(base_words), depth, base_const, t)


def parse_decl_with_name(text: str) -> Tuple[Optional[str], CType]:
    """`const char *name` -> ("name", const char *); function pointers too."""
    t = norm_ws(text)
    m = FNPTR_RE.match(t)
    if m:
        return (m.group(2) or None), CType("<fnptr>", 0, False, t)
    m = re.match(r"^(.*?)(\b[A-Za-z_]\w*)$", t)
    if m and m.group(1).strip() and m.group(2) not in ("const",):
        before = m.group(1).strip()
        # `unsigned int` style types without a name are not used by this header.
        return m.group(2), parse_ctype(before)
    return None, parse_ctype(t)


def parse_params(ptxt: str) -> List[CParam]:
    """The parameters of a prototype's `(...)` text (`void` or nothing: none)."""
    params: List[CParam] = []
    ptxt = norm_ws(ptxt)
    if ptxt and ptxt != "void":
        for i, ptext in enumerate(split_top(ptxt, ",")):
            pname, ptype = parse_decl_with_name(ptext)
            params.append(CParam(pname or f"arg{i + 1}", ptype))
    return params


def parse_fnptr(name: str, text: str, line: int) -> Optional[CFunction]:
    """A function-pointer type `R (*name)(params)` as a CFunction (None if it does not parse)."""
    m = FNPTR_RE.match(norm_ws(text))
    if not m:
        return None
    return CFunction(name, parse_ctype(m.group(1)), parse_params(m.group(3)), line)


def parse_fields(body: str, sname: str, line: int, hdr: Header) -> List[CParam]:
    """The fields of a struct body `type name; ...` (function pointer fields included)."""
    fields = []
    for ftxt in split_top(body, ";"):
        if not ftxt.strip():
            continue
        fname, ftype = parse_decl_with_name(ftxt)
        if fname is None:
            hdr.problems.append(f"header:{line}: cannot parse field {norm_ws(ftxt)!r} of {sname}")
            continue
        fields.append(CParam(fname, ftype))
    return fields


def parse_header(path: str) -> Header:
    hdr = Header()
    with open(path, encoding="utf-8") as f:
        src = f.read()
    body = preprocess(src, hdr)
    # Join the remaining code, remembering where each declaration starts.
    text = ""
    line_of_offset: List[int] = []
    for lineno, line in body:
        text += line + "\n"
        line_of_offset.extend([lineno] * (len(line) + 1))
    # `extern "C" {` ... `}` only appear under __cplusplus (already dropped), but be robust.
    text = re.sub(r'extern\s+"C"\s*\{', lambda m: " " * len(m.group(0)), text)

    pos = 0
    for raw in split_top(text, ";"):
        start = pos + (len(raw) - len(raw.lstrip()))
        pos += len(raw) + 1
        decl = norm_ws(raw)
        if not decl:
            continue
        line = line_of_offset[min(start, len(line_of_offset) - 1)] if line_of_offset else 0
        if decl == "}":
            continue
        m = re.fullmatch(r"typedef struct (\w+) \{(.*)\} (\w+)", decl, re.S)
        if m:
            if m.group(1) != m.group(3):
                hdr.problems.append(f"header:{line}: typedef struct {m.group(1)} {{...}} {m.group(3)}: names differ")
            hdr.structs[m.group(3)] = CStruct(m.group(3), parse_fields(m.group(2), m.group(1), line, hdr), line)
            continue
        # A plain `struct X { ... };` (the Arrow C Data Interface structs): mirrored like a typedef'd one.
        m = re.fullmatch(r"struct (\w+) \{(.*)\}", decl, re.S)
        if m:
            if m.group(1) in hdr.structs:
                hdr.problems.append(f"header:{line}: struct {m.group(1)} defined twice")
            hdr.structs[m.group(1)] = CStruct(m.group(1), parse_fields(m.group(2), m.group(1), line, hdr), line)
            continue
        m = re.fullmatch(r"typedef struct (\w+) (\w+)", decl)
        if m:
            hdr.opaque[m.group(2)] = line
            continue
        if decl.startswith("typedef "):
            name, ctype = parse_decl_with_name(decl[len("typedef ") :])
            if name:
                hdr.aliases[name] = ctype
                if ctype.base == "<fnptr>":
                    cb = parse_fnptr(name, ctype.text, line)
                    if cb is None:
                        hdr.problems.append(f"header:{line}: cannot parse the callback typedef {decl!r}")
                    else:
                        hdr.callbacks[name] = cb
            else:
                hdr.problems.append(f"header:{line}: cannot parse typedef {decl!r}")
            continue
        # A function prototype: the first '(' at depth 0 follows the name.
        p = decl.find("(")
        if p < 0 or not decl.endswith(")"):
            hdr.problems.append(f"header:{line}: unrecognised declaration {decl[:60]!r}")
            continue
        head, params_txt = decl[:p].rstrip(), decl[p + 1 : -1]
        mm = re.match(r"^(.*?)(\b[A-Za-z_]\w*)$", head)
        if not mm:
            hdr.problems.append(f"header:{line}: cannot find the function name in {decl[:60]!r}")
            continue
        fname, ret = mm.group(2), parse_ctype(mm.group(1))
        params = parse_params(params_txt)
        if fname in hdr.functions:
            hdr.problems.append(f"header:{line}: {fname} declared twice")
        hdr.functions[fname] = CFunction(fname, ret, params, line)
    # `typedef struct X X;` of a struct the header defines (`struct ArrowSchema { ... };`
    # followed by `typedef struct ArrowSchema ArrowSchema;`) names that struct: not opaque.
    for name in [n for n in hdr.opaque if n in hdr.structs]:
        del hdr.opaque[name]
    return hdr


# ------------------------------------------------------------------------------------------
# Julia side

PARSER = Parser(Language(tsj.language()))


@dataclass
class JType:
    """A Julia type expression: name plus parameters (Ptr{Ptr{UInt8}} -> Ptr[Ptr[UInt8]])."""

    name: str
    params: List["JType"] = field(default_factory=list)
    text: str = ""

    def __str__(self) -> str:
        return self.text or (self.name + ("{" + ",".join(map(str, self.params)) + "}" if self.params else ""))


def node_text(n) -> str:
    return n.text.decode("utf-8", errors="replace")


def pos(n) -> Tuple[int, int]:
    return n.start_point[0] + 1, n.start_point[1] + 1


def jtype_of(n) -> JType:
    t = n.type
    if t == "identifier":
        return JType(node_text(n), [], node_text(n))
    if t == "field_expression":  # Base.Cstring, LibDataJoint.dj_conn: the last name counts
        ids = [c for c in n.named_children if c.type == "identifier"]
        return JType(node_text(ids[-1]) if ids else node_text(n), [], node_text(n))
    if t == "parametrized_type_expression":
        head = n.named_children[0]
        curly = next((c for c in n.named_children if c.type == "curly_expression"), None)
        params = [jtype_of(c) for c in curly.named_children] if curly is not None else []
        return JType(jtype_of(head).name, params, node_text(n))
    if t == "integer_literal":
        return JType("#" + node_text(n), [], node_text(n))
    return JType("?" + t, [], node_text(n))


def call_args(call) -> List:
    al = next((c for c in call.children if c.type == "argument_list"), None)
    if al is None:
        return []
    return [c for c in al.named_children if c.type not in ("comment", "line_comment", "block_comment")]


def tuple_items(n) -> Optional[List]:
    """Items of a literal tuple `(A, B)`, `(A,)` or `()`; None if `n` is not a tuple."""
    if n.type == "tuple_expression":
        return [c for c in n.named_children if c.type not in ("comment", "line_comment", "block_comment")]
    return None


@dataclass
class CCall:
    file: str
    line: int
    col: int
    symbol: Optional[str]
    library: Optional[str]
    ret: Optional[JType]
    argtypes: Optional[List[JType]]
    args: List[str]
    enclosing: Optional[Tuple[str, List[str]]]  # wrapper function name and parameter names
    problems: List[str] = field(default_factory=list)
    indirect: bool = False  # `ccall(fptr, ...)`: a call through a C function pointer variable


@dataclass
class JCFunction:
    """`@cfunction(f, Ret, (Args...))`."""

    file: str
    line: int
    col: int
    func: Optional[str]  # None for a `$closure` or another expression
    func_text: str
    ret: Optional[JType]
    argtypes: Optional[List[JType]]
    problems: List[str] = field(default_factory=list)


@dataclass
class JStruct:
    file: str
    line: int
    name: str
    mutable: bool
    fields: List[Tuple[str, Optional[JType], int]]  # name, type (None if untyped), line


@dataclass
class JConst:
    file: str
    line: int
    name: str
    value: Optional[int]
    text: str


@dataclass
class JFile:
    path: str
    rel: str
    syntax: List[str] = field(default_factory=list)
    macro_ccalls: List[str] = field(default_factory=list)
    ccalls: List[CCall] = field(default_factory=list)
    cfunctions: List[JCFunction] = field(default_factory=list)
    functions: Dict[str, List[int]] = field(default_factory=dict)  # name -> arities of its definitions
    structs: List[JStruct] = field(default_factory=list)
    consts: List[JConst] = field(default_factory=list)


def signature_of(fn_node) -> Optional[Tuple[str, List[str]]]:
    """Name and plain parameter names of `function f(a, b) ... end` or `f(a, b) = ...`."""
    call = None
    if fn_node.type == "function_definition":
        sig = next((c for c in fn_node.named_children if c.type == "signature"), None)
        if sig is not None:
            call = next((c for c in sig.named_children if c.type == "call_expression"), None)
            if call is None:  # `function f(x) where T`
                w = next((c for c in sig.named_children if c.type == "where_expression"), None)
                if w is not None:
                    call = next((c for c in w.named_children if c.type == "call_expression"), None)
    elif fn_node.type == "assignment":
        lhs = fn_node.named_children[0] if fn_node.named_children else None
        if lhs is not None and lhs.type == "call_expression":
            call = lhs
    if call is None or not call.named_children:
        return None
    head = call.named_children[0]
    if head.type != "identifier":
        return None
    names = []
    for a in call_args(call):
        if a.type == "identifier":
            names.append(node_text(a))
        elif a.type == "typed_expression" and a.named_children and a.named_children[0].type == "identifier":
            names.append(node_text(a.named_children[0]))
        else:
            names.append("?" + node_text(a))
    return node_text(head), names


def eval_const(n) -> Optional[int]:
    t = n.type
    if t == "integer_literal":
        txt = node_text(n).replace("_", "")
        try:
            return int(txt, 0)
        except ValueError:
            return None
    if t == "unary_expression" and len(n.children) == 2 and node_text(n.children[0]) in ("-", "+"):
        v = eval_const(n.children[1])
        return None if v is None else (-v if node_text(n.children[0]) == "-" else v)
    if t == "parenthesized_expression" and len(n.named_children) == 1:
        return eval_const(n.named_children[0])
    if t == "call_expression" and n.named_children and n.named_children[0].type == "identifier":
        if node_text(n.named_children[0]) in ("Int32", "Cint", "UInt32", "Cuint", "Int64", "UInt64", "Int"):
            a = call_args(n)
            if len(a) == 1:
                return eval_const(a[0])
    return None


def analyse_file(path: str, rel: str) -> JFile:
    jf = JFile(path, rel)
    with open(path, "rb") as f:
        src = f.read()
    tree = PARSER.parse(src)

    def has_err_child(n) -> bool:
        return any(c.type == "ERROR" or c.is_missing or has_err_child(c) for c in n.children)

    def walk(n, enclosing_fn):
        if n.is_missing:
            l, c = pos(n)
            jf.syntax.append(f"{rel}:{l}:{c}: syntax error: missing {n.type!r}")
        elif n.type == "ERROR" and not has_err_child(n):
            l, c = pos(n)
            snippet = node_text(n).split("\n")[0][:50]
            jf.syntax.append(f"{rel}:{l}:{c}: syntax error near {snippet!r}")

        if n.type in ("function_definition", "assignment"):
            sig = signature_of(n)
            if sig is not None:
                enclosing_fn = sig
                jf.functions.setdefault(sig[0], []).append(len(sig[1]))

        if n.type == "macrocall_expression":
            mid = next((c for c in n.children if c.type == "macro_identifier"), None)
            if mid is not None and node_text(mid) in ("@ccall", "Base.@ccall"):
                l, c = pos(n)
                jf.macro_ccalls.append(f"{rel}:{l}:{c}: @ccall is not checked: use ccall((:name, {LIBRARY_CONST}), Ret, (Args...), args...)")
            if mid is not None and node_text(mid) in ("@cfunction", "Base.@cfunction"):
                jf.cfunctions.append(parse_cfunction(n, rel))

        if n.type == "call_expression" and n.named_children and node_text(n.named_children[0]) == "ccall" \
                and n.named_children[0].type == "identifier":
            jf.ccalls.append(parse_ccall(n, rel, enclosing_fn))

        if n.type == "struct_definition":
            jf.structs.append(parse_struct(n, rel))

        if n.type == "const_statement":
            a = next((c for c in n.named_children if c.type == "assignment"), None)
            if a is not None and len(a.named_children) >= 2 and a.named_children[0].type == "identifier":
                name = node_text(a.named_children[0])
                rhs = a.named_children[-1]
                l, _ = pos(n)
                jf.consts.append(JConst(rel, l, name, eval_const(rhs), node_text(rhs)))

        for c in n.children:
            walk(c, enclosing_fn)

    walk(tree.root_node, None)
    return jf


def parse_cfunction(n, rel: str) -> JCFunction:
    l, c = pos(n)
    al = next((x for x in n.children if x.type == "argument_list"), None)
    args = [] if al is None else [x for x in al.named_children if x.type not in ("comment", "line_comment", "block_comment")]
    cf = JCFunction(rel, l, c, None, node_text(args[0]) if args else "", None, None)
    if len(args) != 3:
        cf.problems.append("@cfunction needs (function, return type, (argument types...))")
        return cf
    if args[0].type == "identifier":
        cf.func = node_text(args[0])
    elif args[0].type == "interpolation_expression":
        cf.problems.append(f"@cfunction({node_text(args[0])}, ...) is a closure, which not every platform supports: "
                           "name a top-level function and pass state through the callback's user_data")
    else:
        cf.problems.append(f"@cfunction target {node_text(args[0])!r} is not a function name")
    cf.ret = jtype_of(args[1])
    types = tuple_items(args[2])
    if types is None:
        cf.problems.append(f"@cfunction argument types {node_text(args[2])!r} are not a literal tuple (write (T,) for one)")
    else:
        cf.argtypes = [jtype_of(t) for t in types]
    return cf


def parse_ccall(n, rel: str, enclosing) -> CCall:
    l, c = pos(n)
    args = call_args(n)
    cc = CCall(rel, l, c, None, None, None, None, [], enclosing)
    if len(args) < 3:
        cc.problems.append("ccall needs (:name, lib), a return type and an argument type tuple")
        return cc
    target = tuple_items(args[0])
    if args[0].type == "identifier":
        # A C callback the library handed out (e.g. the `release` of an Arrow C Data Interface
        # struct): no symbol to check against the header, only the form of the call.
        cc.indirect = True
    elif target is None or len(target) != 2 or target[0].type != "quote_expression":
        cc.problems.append(f"ccall target {node_text(args[0])!r} is not (:name, {LIBRARY_CONST})")
    else:
        q = [x for x in target[0].named_children if x.type == "identifier"]
        cc.symbol = node_text(q[0]) if q else node_text(target[0]).lstrip(":")
        cc.library = node_text(target[1])
    cc.ret = jtype_of(args[1])
    types = tuple_items(args[2])
    if types is None:
        cc.problems.append(f"ccall argument types {node_text(args[2])!r} are not a literal tuple (write (T,) for one)")
    else:
        cc.argtypes = [jtype_of(t) for t in types]
    cc.args = [node_text(a) for a in args[3:]]
    return cc


def parse_struct(n, rel: str) -> JStruct:
    l, _ = pos(n)
    mutable = any(c.type == "mutable" for c in n.children)
    head = next((c for c in n.named_children if c.type == "type_head"), None)
    name = "?"
    if head is not None:
        ident = head
        while ident is not None and ident.type != "identifier":
            ident = ident.named_children[0] if ident.named_children else None
        name = node_text(ident) if ident is not None else node_text(head)
    fields: List[Tuple[str, Optional[JType], int]] = []
    for ch in n.named_children:
        if ch is head:
            continue
        if ch.type == "typed_expression" and ch.named_children and ch.named_children[0].type == "identifier":
            fields.append((node_text(ch.named_children[0]), jtype_of(ch.named_children[-1]), pos(ch)[0]))
        elif ch.type == "identifier":
            fields.append((node_text(ch), None, pos(ch)[0]))
    return JStruct(rel, l, name, mutable, fields)


# ------------------------------------------------------------------------------------------
# Compatibility


class Checker:
    def __init__(self, hdr: Header):
        self.hdr = hdr

    def resolve(self, c: CType) -> CType:
        seen = 0
        while c.depth == 0 and c.base in self.hdr.aliases and seen < 16:
            a = self.hdr.aliases[c.base]
            c = CType(a.base, a.depth, a.base_const or c.base_const, c.text or a.text)
            seen += 1
        return c

    def compatible(self, c: CType, j: JType, ctx: str) -> Optional[str]:
        """None if the Julia type `j` may stand for the C type `c` in `ctx`
        ('arg', 'ret', 'field', 'inner'); otherwise the reason."""
        c = self.resolve(c)
        if c.base == "<fnptr>":
            if j.name == "Ptr" and len(j.params) == 1 and j.params[0].name in ("Cvoid", "Nothing"):
                return None
            return f"a C function pointer needs Ptr{{Cvoid}}, not {j}"
        if c.depth == 0:
            if c.base in C_SCALARS:
                if j.name in C_SCALARS[c.base] and not j.params:
                    return None
                return f"C {c.base} needs {'/'.join(C_SCALARS[c.base])}, not {j}"
            if c.base in self.hdr.structs:
                if j.name == c.base and not j.params:
                    return None
                return f"C struct {c.base} by value needs the Julia struct {c.base}, not {j}"
            return f"no Julia mapping for C type {c}"
        # A pointer.
        if j.name == "Cstring" and not j.params:
            if c.depth == 1 and c.base == "char" and c.base_const:
                return None
            return f"Cstring stands only for const char*, not {c}"
        if j.name == "Ref" and ctx != "arg":
            return f"Ref{{...}} is only valid for ccall arguments, not in a {ctx} ({c}); use Ptr{{...}}"
        if j.name not in ("Ptr", "Ref") or len(j.params) != 1:
            return f"C pointer {c} needs Ptr{{...}} or Ref{{...}}, not {j}"
        return self.pointee_compatible(c.deref(), j.params[0], c)

    def callback_arg_compatible(self, c: CType, j: JType) -> Optional[str]:
        """An argument of a @cfunction: as a ccall argument, but `Ref{T}` (Julia loads the
        pointee and passes it by value) only for a pointer to a header struct T."""
        r = self.resolve(c)
        if j.name == "Ref":
            if r.depth == 1 and r.base in self.hdr.structs and len(j.params) == 1:
                p = j.params[0]
                return None if p.name == r.base and not p.params else f"{c} needs Ptr{{{r.base}}} or Ref{{{r.base}}}, not {j}"
            return f"Ref{{...}} in a @cfunction passes the pointee by value, valid only for a pointer to a header struct, not {c}; use Ptr{{...}}"
        return self.compatible(c, j, "callback argument")

    def pointee_compatible(self, c: CType, j: JType, outer: CType) -> Optional[str]:
        if c.depth > 0:
            r = self.compatible(c, j, "inner")
            return None if r is None else f"in {outer}: {r}"
        if c.base == "<fnptr>":
            return None if j.name in ("Cvoid", "Nothing") else f"pointer to a function pointer needs Ptr{{Ptr{{Cvoid}}}}"
        if c.base in C_POINTEE:
            if j.name in C_POINTEE[c.base] and not j.params:
                return None
            return f"{outer} needs Ptr{{{'/'.join(C_POINTEE[c.base])}}}, not Ptr{{{j}}}"
        if c.base in self.hdr.opaque:
            if j.name in (c.base, "Cvoid", "Nothing") and not j.params:
                return None
            return f"{outer} (opaque handle) needs Ptr{{{c.base}}} or Ptr{{Cvoid}}, not {j}"
        if c.base in self.hdr.structs:
            if j.name == c.base and not j.params:
                return None
            return f"{outer} needs Ptr/Ref{{{c.base}}}, not {j}"
        r = self.compatible(c, j, "inner")
        return None if r is None else f"in {outer}: {r}"


# ------------------------------------------------------------------------------------------
# Driver


@dataclass
class Result:
    passed: int = 0
    failed: int = 0
    problems: List[str] = field(default_factory=list)

    def check(self, problems: List[str]) -> None:
        if problems:
            self.failed += 1
            self.problems.extend(problems)
        else:
            self.passed += 1


def find_jl_files(root: str) -> List[str]:
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            if f.endswith(".jl"):
                out.append(os.path.join(d, f))
    return out


def run(root: str, header_path: str, quiet: bool) -> int:
    res = Result()
    try:
        hdr = parse_header(header_path)
    except OSError as e:
        print(f"cannot read header: {e}")
        print("0 passed, 1 failed")
        return 1
    res.check(hdr.problems)
    if not hdr.functions:
        res.check([f"{header_path}: no function prototypes found"])
    chk = Checker(hdr)

    files = find_jl_files(root)
    if not files:
        res.check([f"{root}: no .jl files"])
    jfiles = [analyse_file(p, os.path.relpath(p, root)) for p in files]
    low = next((jf for jf in jfiles if os.path.normpath(jf.rel) == os.path.normpath(LOWLEVEL_FILE)), None)
    if low is None:
        res.check([f"{LOWLEVEL_FILE}: missing"])

    # (a) syntax, and the ccall form.
    for jf in jfiles:
        res.check(jf.syntax)
        res.check(jf.macro_ccalls)

    # (b) every ccall.
    n_ccalls = 0
    n_indirect = 0
    for jf in jfiles:
        is_low = jf is low
        for cc in jf.ccalls:
            n_ccalls += 1
            where = f"{cc.file}:{cc.line}:{cc.col}"
            probs = [f"{where}: {p}" for p in cc.problems]
            if cc.indirect:
                n_indirect += 1
                if is_low:
                    probs.append(f"{where}: {LOWLEVEL_FILE} wraps library functions only; call function pointers elsewhere")
                if cc.argtypes is not None and len(cc.args) != len(cc.argtypes):
                    probs.append(f"{where}: ccall through a function pointer declares {len(cc.argtypes)} argument type(s) but passes {len(cc.args)} value(s)")
                if cc.ret is not None and cc.ret.name.startswith("?"):
                    probs.append(f"{where}: ccall through a function pointer: return type {cc.ret} is not a type")
                res.check(probs)
                continue
            fn = hdr.functions.get(cc.symbol) if cc.symbol else None
            if cc.symbol is not None and fn is None:
                probs.append(f"{where}: ccall to {cc.symbol!r}, which include/datajoint.h does not declare")
            if cc.library is not None and cc.library != LIBRARY_CONST:
                probs.append(f"{where}: ccall to {cc.symbol!r} goes to library {cc.library!r}, not {LIBRARY_CONST}")
            if fn is not None and cc.argtypes is not None:
                if len(cc.argtypes) != len(fn.params):
                    probs.append(f"{where}: {fn.name} takes {len(fn.params)} argument(s) in the header, the ccall declares {len(cc.argtypes)}")
                if len(cc.args) != len(cc.argtypes):
                    probs.append(f"{where}: {fn.name}: the ccall declares {len(cc.argtypes)} argument type(s) but passes {len(cc.args)} value(s)")
                r = chk.compatible(fn.ret, cc.ret, "ret") if cc.ret is not None else "no return type"
                if r:
                    probs.append(f"{where}: {fn.name} returns {fn.ret}: {r}")
                for k, (p, jt) in enumerate(zip(fn.params, cc.argtypes), start=1):
                    r = chk.compatible(p.ctype, jt, "arg")
                    if r:
                        probs.append(f"{where}: {fn.name} argument {k} ({p.name}: {p.ctype}): {r}")
                if is_low:
                    want = [p.name for p in fn.params]
                    if cc.enclosing is None:
                        probs.append(f"{where}: the ccall to {fn.name} is not the body of a wrapper function")
                    else:
                        wname, wparams = cc.enclosing
                        if wname != fn.name:
                            probs.append(f"{where}: the ccall to {fn.name} is inside {wname!r}; the wrapper must be named {fn.name}")
                        if wparams != want:
                            probs.append(f"{where}: wrapper {wname}({', '.join(wparams)}) must take the C parameters ({', '.join(want)})")
                        if cc.args != want:
                            probs.append(f"{where}: {fn.name} passes ({', '.join(cc.args)}), expected the parameters in order ({', '.join(want)})")
            res.check(probs)

    # (c) every header function wrapped exactly once in LibDataJoint.jl.
    if low is not None:
        counts: Dict[str, List[CCall]] = {}
        for cc in low.ccalls:
            if cc.symbol:
                counts.setdefault(cc.symbol, []).append(cc)
        for name, fn in sorted(hdr.functions.items()):
            sites = counts.get(name, [])
            if len(sites) == 1:
                res.check([])
            elif not sites:
                res.check([f"{LOWLEVEL_FILE}: {name} (include/datajoint.h:{fn.line}) has no ccall wrapper"])
            else:
                res.check([f"{LOWLEVEL_FILE}: {name} is wrapped {len(sites)} times (lines {', '.join(str(s.line) for s in sites)})"])

    # (d) structs and opaque handles.
    n_structs = 0
    if low is not None:
        jstructs: Dict[str, List[JStruct]] = {}
        for s in low.structs:
            jstructs.setdefault(s.name, []).append(s)
        for name, cs in sorted(hdr.structs.items()):
            n_structs += 1
            found = jstructs.get(name, [])
            probs: List[str] = []
            if not found:
                probs.append(f"{LOWLEVEL_FILE}: no Julia struct mirrors {name} (include/datajoint.h:{cs.line})")
            elif len(found) > 1:
                probs.append(f"{LOWLEVEL_FILE}: {name} is defined {len(found)} times")
            else:
                js = found[0]
                where = f"{js.file}:{js.line}"
                if js.mutable:
                    probs.append(f"{where}: {name} must be an immutable struct (C layout, passed by Ref)")
                cnames = [f.name for f in cs.fields]
                jnames = [f[0] for f in js.fields]
                if cnames != jnames:
                    missing = [x for x in cnames if x not in jnames]
                    extra = [x for x in jnames if x not in cnames]
                    detail = []
                    if missing:
                        detail.append("missing " + ", ".join(missing))
                    if extra:
                        detail.append("extra " + ", ".join(extra))
                    if not missing and not extra:
                        detail.append("order differs")
                    probs.append(f"{where}: struct {name} fields ({', '.join(jnames)}) differ from the header ({', '.join(cnames)}): {'; '.join(detail)}")
                jf_by_name = {f[0]: f for f in js.fields}
                for cf in cs.fields:
                    jfld = jf_by_name.get(cf.name)
                    if jfld is None:
                        continue
                    if jfld[1] is None:
                        probs.append(f"{js.file}:{jfld[2]}: {name}.{cf.name} has no type annotation")
                        continue
                    r = chk.compatible(cf.ctype, jfld[1], "field")
                    if r:
                        probs.append(f"{js.file}:{jfld[2]}: {name}.{cf.name} ({cf.ctype}): {r}")
            res.check(probs)
        for name, line in sorted(hdr.opaque.items()):
            found = jstructs.get(name, [])
            if len(found) == 1:
                res.check([] if not found[0].fields else [f"{found[0].file}:{found[0].line}: opaque handle {name} must have no fields"])
            else:
                res.check([f"{LOWLEVEL_FILE}: opaque handle {name} (include/datajoint.h:{line}) must be declared once as `mutable struct {name} end` (found {len(found)})"])

    # (e) constants.
    if low is not None:
        jconsts: Dict[str, List[JConst]] = {}
        for jc in low.consts:
            jconsts.setdefault(jc.name, []).append(jc)
        for name, value in sorted(hdr.constants.items()):
            if not name.startswith("DJ_"):
                continue
            found = jconsts.get(name, [])
            if len(found) != 1:
                res.check([f"{LOWLEVEL_FILE}: constant {name} = {value} is defined {len(found)} times (expected once)"])
            elif found[0].value != value:
                res.check([f"{found[0].file}:{found[0].line}: {name} = {found[0].text} but the header says {value}"])
            else:
                res.check([])
        stray = [jc for name, lst in sorted(jconsts.items()) for jc in lst
                 if name.startswith("DJ_") and name not in hdr.constants]
        res.check([f"{jc.file}:{jc.line}: constant {jc.name} is not in include/datajoint.h" for jc in stray])

    # (f) @cfunction trampolines against the header's callback typedefs.
    n_cfunctions = 0
    defined: Dict[str, List[int]] = {}
    for jf in jfiles:
        for name, arities in jf.functions.items():
            defined.setdefault(name, []).extend(arities)
    used: Dict[str, int] = {}
    for jf in jfiles:
        for cf in jf.cfunctions:
            n_cfunctions += 1
            where = f"{cf.file}:{cf.line}:{cf.col}"
            probs = [f"{where}: {p}" for p in cf.problems]
            if cf.argtypes is not None and cf.ret is not None:
                sig = f"@cfunction({cf.func_text}, {cf.ret}, ({', '.join(map(str, cf.argtypes))}))"
                candidates = [cb for cb in hdr.callbacks.values() if len(cb.params) == len(cf.argtypes)]
                reasons: List[str] = []
                match = None
                for cb in candidates:
                    why = []
                    r = chk.compatible(cb.ret, cf.ret, "callback return")
                    if r:
                        why.append(f"returns {cb.ret}: {r}")
                    for k, (p, jt) in enumerate(zip(cb.params, cf.argtypes), start=1):
                        r = chk.callback_arg_compatible(p.ctype, jt)
                        if r:
                            why.append(f"argument {k} ({p.name}: {p.ctype}): {r}")
                    if why:
                        reasons.append(f"{cb.name}: " + "; ".join(why))
                    elif match is None:
                        match = cb
                if match is not None:
                    used[match.name] = used.get(match.name, 0) + 1
                elif not candidates:
                    probs.append(f"{where}: {sig} matches no callback typedef of include/datajoint.h "
                                 f"(none takes {len(cf.argtypes)} argument(s))")
                else:
                    probs.append(f"{where}: {sig} matches no callback typedef of include/datajoint.h: " + " | ".join(reasons))
            if cf.func is not None and cf.argtypes is not None:
                arities = defined.get(cf.func, [])
                if not arities:
                    probs.append(f"{where}: @cfunction names {cf.func!r}, which no file of the package defines")
                elif len(cf.argtypes) not in arities:
                    probs.append(f"{where}: @cfunction passes {len(cf.argtypes)} argument(s) to {cf.func!r}, "
                                 f"defined with {', '.join(map(str, sorted(set(arities))))}")
            res.check(probs)
    for name, cb in sorted(hdr.callbacks.items()):
        if used.get(name):
            res.check([])
        else:
            res.check([f"callback typedef {name} (include/datajoint.h:{cb.line}) has no @cfunction trampoline of its signature"])

    for p in res.problems:
        print(p)
    print(f"julia static check: {n_ccalls} ccalls ({n_indirect} through function pointers), {n_structs} structs, "
          f"{n_cfunctions} @cfunctions, {len(jfiles)} files — {len(res.problems)} problems")
    if not quiet:
        print(f"  header: {len(hdr.functions)} functions, {len(hdr.structs)} structs, {len(hdr.opaque)} opaque handles, "
              f"{len(hdr.callbacks)} callback typedefs, {sum(1 for k in hdr.constants if k.startswith('DJ_'))} constants")
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


def main(argv: List[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.path.normpath(os.path.join(here, ".."))
    default_header = os.path.normpath(os.path.join(here, "..", "..", "..", "include", "datajoint.h"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=default_root, help="the Julia package folder (default: %(default)s)")
    ap.add_argument("--header", default=default_header, help="the C header (default: %(default)s)")
    ap.add_argument("-q", "--quiet", action="store_true", help="omit the header summary line")
    a = ap.parse_args(argv)
    return run(a.root, a.header, a.quiet)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
