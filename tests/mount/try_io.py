"""One read or write on a tree file, reporting the outcome on stdout.

Usage: try_io.py read PATH         prints "ok" then the content
       try_io.py write PATH DATA   one os.write() of DATA; prints "ok"
Failures print the errno name (EACCES, EPERM, ...) and exit 0, so shell
tests run as another user can compare the exact errno.
"""

import errno
import os
import sys


def main():
    action, path = sys.argv[1], sys.argv[2]
    try:
        if action == "read":
            with open(path) as handle:
                content = handle.read()
            print("ok")
            print(content, end="")
        else:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, sys.argv[3].encode())
            finally:
                os.close(fd)
            print("ok")
    except OSError as error:
        print(errno.errorcode.get(error.errno, str(error.errno)))


if __name__ == "__main__":
    main()
