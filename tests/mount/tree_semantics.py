"""File semantics of a real tokenfs mount (issue 3), checked errno by errno.

The root lists self, objects, create, link, registry and the pids; self
resolves to "<pid>/<tid>" of the calling thread; query/ JSON parses and
query/all has every class; missing pids and names give ENOENT; read-only
files refuse writers with EACCES; O_TRUNC is accepted; every write() is
one command; a command over 64 KiB gives EFBIG; the tree cannot be
changed with mkdir/unlink/rename (EPERM); after a refused write the same
descriptor reads back the reason.

Usage (as root): tree_semantics.py TOKENFS_BINARY [HELPER]
"""

import errno
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mountlib  # noqa: E402

# The 24 ABI classes, by canonical name, with their class numbers (the
# Peios KACS v0.20 ABI's; docs/formats.md, sections "One class:
# query/<class>" and "Query classes and ABI payloads").
QUERY_CLASSES = {
    "user": 1, "groups": 2, "privileges": 3, "type": 4, "integrity": 5,
    "owner": 6, "primarygroup": 7, "interactivity-scope": 8,
    "restrictedsids": 9, "source": 10, "statistics": 11, "origin": 12,
    "elevationtype": 13, "devicegroups": 14, "appcontainersid": 15,
    "capabilities": 16, "mandatorypolicy": 17, "logontype": 18,
    "logonsid": 19, "defaultdacl": 20, "impersonationlevel": 21,
    "userclaims": 22, "deviceclaims": 23, "projectedsupplementarygids": 24,
}


def read(path):
    with open(path) as handle:
        return handle.read()


def privilege_state(mount, pid, name):
    """The state column of privilege `name` in /tokens/<pid>/privs."""
    for line in read(mount.file(pid, "privs")).splitlines():
        fields = line.split("  ")
        if fields[0] == name:
            return fields[1]
    return None


def write_once(path, data, flags=os.O_WRONLY):
    fd = os.open(path, flags)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def unused_pid():
    """A pid no process has now (so /tokens/<it> must not exist)."""
    for candidate in (999999, 999998, 888887, 777776):
        if not os.path.exists(f"/proc/{candidate}"):
            return candidate
    raise RuntimeError("every candidate pid exists")


def check_root(mount, checks):
    names = set(os.listdir(mount.path))
    for name in ("self", "objects", "create", "link", "registry", "refusal"):
        checks.ok(name in names, f"ls of the root lists {name}")
    checks.ok(str(os.getpid()) in names, "ls of the root lists this pid")
    pids = [name for name in names if name.isdigit()]
    checks.ok(len(pids) > 1, "ls of the root lists process directories",
              f"{len(pids)} numeric entries")
    others = names - set(pids) - {"self", "objects", "create", "link",
                                  "registry", "peer", "refusal"}
    checks.equal("the root holds nothing else", set(), others)


def check_self(mount, checks):
    checks.equal("self resolves to <pid>/<tid> of the main thread",
                 f"{os.getpid()}/{threading.get_native_id()}",
                 os.readlink(mount.file("self")))
    seen = {}

    def in_thread():
        seen["tid"] = threading.get_native_id()
        seen["link"] = os.readlink(mount.file("self"))
        seen["user"] = read(mount.file("self", "user"))

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    checks.equal("self in a second thread resolves to <pid>/<its tid>",
                 f"{os.getpid()}/{seen['tid']}", seen["link"])
    checks.ok(seen["tid"] != os.getpid(), "the second thread has its own tid")
    checks.equal("self/user read from the second thread is this process's",
                 read(mount.file(os.getpid(), "user")), seen["user"])


def check_query(mount, checks):
    query = mount.file(os.getpid(), "query")
    listed = set(os.listdir(query))
    checks.equal("query/ lists the 24 classes and all",
                 set(QUERY_CLASSES) | {"all"}, listed)
    bad = []
    for name, class_id in QUERY_CLASSES.items():
        try:
            document = json.loads(read(os.path.join(query, name)))
        except (OSError, ValueError) as error:
            bad.append(f"{name}: {error}")
            continue
        if document.get("class") != name or document.get("class_id") != \
                class_id or "decoded" not in document:
            bad.append(f"{name}: class {document.get('class')!r} id "
                       f"{document.get('class_id')!r}")
    checks.equal("every query/<class> is JSON naming its class and number",
                 [], bad)
    try:
        text = read(os.path.join(query, "all"))
        everything = json.loads(text)
    except (OSError, ValueError) as error:
        checks.ok(False, "query/all parses as JSON", str(error))
        return
    # The daemon's READs carry at most 16 KiB (its default max_read).
    checks.ok(len(text.encode()) > 16384,
              "query/all of root spans more than one READ request",
              f"{len(text.encode())} bytes")
    checks.equal("query/all has every class",
                 set(QUERY_CLASSES), set(everything.get("classes", {})))
    checks.ok("tokenfs" in everything, "query/all has the tokenfs section")
    user = json.loads(read(os.path.join(query, "user")))
    checks.equal("query/user of root decodes Local System", "S-1-5-18",
                 user["decoded"].get("sid"))


def check_missing(mount, checks):
    missing = unused_pid()
    checks.errno(f"reading /tokens/{missing}/privs gives ENOENT",
                 errno.ENOENT, lambda: read(mount.file(missing, "privs")))
    checks.errno(f"stat of /tokens/{missing} gives ENOENT", errno.ENOENT,
                 lambda: os.stat(mount.file(missing)))
    checks.errno("an unknown file name gives ENOENT", errno.ENOENT,
                 lambda: read(mount.file("self", "nosuchfile")))
    checks.errno("an unknown query class gives ENOENT", errno.ENOENT,
                 lambda: read(mount.file("self", "query", "nosuchclass")))
    checks.errno("an unknown root name gives ENOENT", errno.ENOENT,
                 lambda: os.stat(mount.file("nosuchname")))


def check_read_only(mount, checks):
    for name in ("user", "stats", "all", "query/all"):
        checks.errno(f"opening {name} for writing gives EACCES",
                     errno.EACCES,
                     lambda name=name: os.open(mount.file("self", name),
                                               os.O_WRONLY))
    checks.errno("opening registry for writing gives EACCES", errno.EACCES,
                 lambda: os.open(mount.file("registry"), os.O_WRONLY))


def check_writes(mount, checks):
    pid = os.getpid()
    privs = mount.file(pid, "privs")
    checks.equal("root starts with SeShutdown enabled", "enabled,default",
                 privilege_state(mount, pid, "SeShutdown"))
    write_once(privs, b"SeShutdown=disabled\n",
               os.O_WRONLY | os.O_TRUNC)
    checks.equal("a write through O_TRUNC is applied", "disabled,default",
                 privilege_state(mount, pid, "SeShutdown"))

    fd = os.open(privs, os.O_WRONLY)
    try:
        os.write(fd, b"SeShutdown=enabled")
        first = privilege_state(mount, pid, "SeShutdown")
        os.write(fd, b"SeShutdown=disabled")
        second = privilege_state(mount, pid, "SeShutdown")
        checks.errno("a bad second write on the same fd gives EINVAL",
                     errno.EINVAL, lambda: os.write(fd, b"SeShutdown=maybe"))
    finally:
        os.close(fd)
    checks.equal("the first write on an fd is applied at once",
                 "enabled,default", first)
    checks.equal("a second write on the same fd is a second command",
                 "disabled,default", second)
    checks.equal("the refused third write left the second one in place",
                 "disabled,default",
                 privilege_state(mount, pid, "SeShutdown"))

    # Exactly 64 KiB is accepted; one byte more is EFBIG (core/commands.h
    # kMaxCommandSize), and nothing is applied.
    command = b"SeShutdown=enabled"
    padded = command + b" " * (64 * 1024 - len(command))
    checks.ok(len(padded) == 65536, "the padded command is 64 KiB")
    try:
        write_once(privs, padded)
        checks.ok(True, "a 64 KiB command is accepted")
    except OSError as error:
        checks.ok(False, "a 64 KiB command is accepted", str(error))
    checks.equal("the 64 KiB command was applied", "enabled,default",
                 privilege_state(mount, pid, "SeShutdown"))
    too_big = b"SeShutdown=disabled" + b" " * (64 * 1024 + 1 - 19)
    checks.ok(len(too_big) == 65537, "the oversized command is 64 KiB + 1")

    def write_too_big():
        write_once(privs, too_big)

    checks.errno("a write over 64 KiB gives EFBIG", errno.EFBIG,
                 write_too_big)
    checks.equal("EFBIG reads as 'File too large'", "File too large",
                 os.strerror(errno.EFBIG))
    checks.equal("the oversized command changed nothing", "enabled,default",
                 privilege_state(mount, pid, "SeShutdown"))

    # O_RDWR: after a write, the same descriptor reads the outcome.
    fd = os.open(privs, os.O_RDWR)
    try:
        os.write(fd, b"SeShutdown=disabled")
        checks.equal("after a good write the fd reads ok", "ok\n",
                     os.pread(fd, 4096, 0).decode())
        checks.errno("a refused write gives EINVAL", errno.EINVAL,
                     lambda: os.write(fd, b"SeShutdown=disabled SeBogus=on"))
        reason = os.pread(fd, 4096, 0).decode()
    finally:
        os.close(fd)
    checks.ok(reason.startswith("error: Invalid argument: ")
              and "SeBogus" in reason and reason.endswith("\n")
              and reason.count("\n") == 1,
              "after a refused write the fd reads one error line naming "
              "the bad item", repr(reason))

    # Python's buffered text writes reach tokenfs at close.
    def python_bad_write():
        with open(privs, "w") as handle:
            handle.write("SeShutdown=sideways\n")

    checks.errno("python3 sees a refused write as OSError EINVAL",
                 errno.EINVAL, python_bad_write)


def check_fixed_tree(mount, checks):
    me = mount.file(os.getpid())
    checks.errno("mkdir in a token directory gives EPERM", errno.EPERM,
                 lambda: os.mkdir(os.path.join(me, "new")))
    checks.errno("mkdir at the root gives EPERM", errno.EPERM,
                 lambda: os.mkdir(mount.file("new")))
    checks.errno("unlink of a token file gives EPERM", errno.EPERM,
                 lambda: os.unlink(os.path.join(me, "privs")))
    checks.errno("rename of a token file gives EPERM", errno.EPERM,
                 lambda: os.rename(os.path.join(me, "privs"),
                                   os.path.join(me, "privs2")))
    checks.errno("rmdir of a process directory gives EPERM", errno.EPERM,
                 lambda: os.rmdir(me))
    checks.errno("symlink in the tree gives EPERM", errno.EPERM,
                 lambda: os.symlink("privs", os.path.join(me, "link2")))
    checks.errno("creating a file gives EPERM", errno.EPERM,
                 lambda: os.open(os.path.join(me, "newfile"),
                                 os.O_WRONLY | os.O_CREAT, 0o644))


def main():
    mountlib.require_root()
    checks = mountlib.Checks()
    with mountlib.Mount(sys.argv[1]) as mount:
        check_root(mount, checks)
        check_self(mount, checks)
        check_query(mount, checks)
        check_missing(mount, checks)
        check_read_only(mount, checks)
        check_writes(mount, checks)
        check_fixed_tree(mount, checks)
        checks.finish(mount)


if __name__ == "__main__":
    main()
