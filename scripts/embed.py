#!/usr/bin/env python3
"""Writes a C file defining a byte array with the contents of a file.

usage: embed.py INPUT OUTPUT SYMBOL
"""
import sys


def main() -> int:
    src, dst, sym = sys.argv[1:4]
    data = open(src, "rb").read()
    with open(dst, "w", encoding="ascii") as out:
        out.write("/* generated from %s by scripts/embed.py */\n" % src.split("/")[-1])
        out.write("#include <stddef.h>\n")
        out.write("const char %s[] = {\n" % sym)
        for i in range(0, len(data), 16):
            out.write("  " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
        out.write("  0x00\n};\n")
        out.write("const size_t %s_len = %d;\n" % (sym, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
