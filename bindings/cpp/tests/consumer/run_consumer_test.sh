#!/bin/sh
# Install the DataJoint package from a CMake build tree into a temporary prefix, then build and run
# a consumer with find_package(DataJoint) and with pkg-config.
#
# usage: run_consumer_test.sh <build-dir> <consumer-source-dir> [cmake] [c++] [cc] [pkg-config]
set -eu

build_dir=$1
src_dir=$2
cmake=${3:-cmake}
cxx=${4:-c++}
cc=${5:-cc}
pkg_config=${6:-pkg-config}
[ -n "$pkg_config" ] && [ "$pkg_config" != "DJ_PKG_CONFIG-NOTFOUND" ] || pkg_config=pkg-config

work=$(mktemp -d "${TMPDIR:-/tmp}/dj_consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
prefix=$work/prefix

echo "== install into $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
# The library directory is lib/ (or lib64/ where GNUInstallDirs says so).
lib=lib
[ -e "$prefix/lib64/cmake/DataJoint/DataJointConfig.cmake" ] && lib=lib64
for f in include/datajoint.h include/datajoint.hpp $lib/libdatajoint.so \
         $lib/cmake/DataJoint/DataJointConfig.cmake $lib/cmake/DataJoint/DataJointConfigVersion.cmake \
         $lib/pkgconfig/datajoint.pc; do
    [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done

echo "== find_package(DataJoint)"
"$cmake" -S "$src_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" \
    || { cat "$work/configure.log"; exit 1; }
"$cmake" --build "$work/build" -j 2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/consumer_cpp"
"$work/build/consumer_c"
if [ -x "$work/build/consumer_c_static" ]; then
    "$work/build/consumer_c_static"
    if command -v ldd >/dev/null 2>&1 && ldd "$work/build/consumer_c_static" | grep -q libdatajoint; then
        echo "consumer_c_static depends on libdatajoint.so"; exit 1
    fi
fi

echo "== pkg-config"
export PKG_CONFIG_PATH="$prefix/$lib/pkgconfig"
"$pkg_config" --exists --print-errors datajoint
echo "datajoint $("$pkg_config" --modversion datajoint): $("$pkg_config" --cflags --libs datajoint)"
libdir=$("$pkg_config" --variable=libdir datajoint)
# shellcheck disable=SC2046
"$cxx" -std=c++17 -o "$work/pc_consumer_cpp" "$src_dir/consumer.cpp" \
    $("$pkg_config" --cflags --libs datajoint) -Wl,-rpath,"$libdir"
"$work/pc_consumer_cpp"
# shellcheck disable=SC2046
"$cc" -std=c99 -o "$work/pc_consumer_c" "$src_dir/consumer.c" \
    $("$pkg_config" --cflags --libs datajoint) -Wl,-rpath,"$libdir"
"$work/pc_consumer_c"
# Fully static C program: the .pc file's static_link variable links the whole archive.
if [ -e "$libdir/libdatajoint.a" ]; then
    # shellcheck disable=SC2046
    "$cc" -std=c99 -o "$work/pc_consumer_c_static" "$src_dir/consumer.c" \
        $("$pkg_config" --cflags datajoint) $("$pkg_config" --variable=static_link datajoint)
    "$work/pc_consumer_c_static"
fi

echo "install_consumer: ok"
