"""Durable state across daemon restarts (acceptance test of the state store,
man/tokenfs.8 STATE).

Every part starts its own daemon with `--state DIR` on a fresh mount point,
drives it with real Linux users this script creates, restarts it on the same
mount point and state directory (without unmounting by hand: the daemon
clears its own stale mount), and compares the tokens it serves afterwards
with what was acknowledged before:

  1 wider      the "wider than" predicate on token snapshots, unit-checked
               on hand-made pairs, then on real tokens.
  2 kill9      kill -9 in the middle of a burst of narrowing adjustments by
               several processes of several users: every acknowledged write
               is there, none half-applied, nothing wider than acknowledged.
  3 sigterm    the same with SIGTERM.
  4 installed  installed tokens, an impersonating thread, a
               `token impersonate -- cmd` child, an adoption pending at
               exec and an elevation link come back the same.
  5 objects    token objects (persistent, and held by a live process) keep
               their ids and content; ids issued after a restart are new.
  6 fork_down  a process forked (and its child) while the daemon is down is
               not wider than its restricted, lowered parent, nor is a
               grandchild whose parent ended (re-parented to pid 1), found
               through its process group.
  7 boot_id    a store of another boot: tokens minted afresh, objects gone,
               ids still not reused.
  8 dead       reaped processes leave the tree within 1 s; a write through a
               descriptor opened on one fails with ESRCH.
  9 discard    a corrupt, foreign or newer store stops the daemon with one
               line and mounts nothing; a second daemon on the same store is
               refused; --discard-state starts afresh, ids still new.
 10 narrow_down processes with restricted, Low tokens that set no_new_privs
               or enter a user namespace while the daemon is down keep
               their tokens (narrowed), not fresh wider ones.
 11 lost_log   a store whose write-ahead log was removed, that was
               truncated, or whose state.db is a link to another daemon's is
               refused with one line; --discard-state still issues new ids;
               a token no record could hold (an oversized SACL) is refused
               when written, so it never makes the store unloadable.

"Not reused" is checked two ways: no id seen before a restart comes back,
and every token or modified id issued after it is above every id seen
before (a daemon that lost its id limit starts again at its first id, and
would reissue ids this script never happened to read).

Token state is read from query/all (one JSON document built from one
snapshot of the token, man/tokenfs.5 QUERY FILES) and reduced to the fields
that decide what a token may do (normalize()).

Usage (as root):
  durability.py TOKENFS FD_HANDOFF TOKEN_CLI [PART ...]
TOKEN_CLI may be "-" (the parts using it then fail). PART is a name or
number from the list above (default: all). With
TOKENFS_DURABILITY_NO_STATE=1 the daemon is started without --state (and a
stale mount is cleared by hand before a restart): a smoke run against a
daemon that has no store, where parts 1 and 8 are meaningful, parts 2-7
show what a daemon without a store loses, and part 9 is skipped.
Every part prints ok/FAIL lines and the summary one PASS/FAIL/SKIP line per
part with the first failure's reason. A part stuck more than PART_SECONDS
has its daemons killed (which ends any FUSE wait); daemons, processes,
mounts (umount -l), users and the temp directory are always cleaned up.
Exit status: 0 all selected parts passed, 1 one failed, 77 skipped.
"""

import ctypes
import errno
import grp
import json
import os
import pwd
import random
import re
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tokenfs_daemon import mounted, require_root  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mountlib import field, txn  # noqa: E402

NO_STATE = os.environ.get("TOKENFS_DURABILITY_NO_STATE") == "1"
# Python for the processes run as test users: root's python3 may live where
# they cannot read it (pyenv under /root).
USER_PY = ("/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK)
           else shutil.which("python3"))
USERS = {"tkdur_a": (), "tkdur_b": (), "tkdur_c": (), "tkdur_adm": ("sudo",)}
EVERYONE = "S-1-1-0"
# Errors a write gets when the daemon is gone: its connection was aborted
# (kill -9) or the tree was unmounted (SIGTERM; the mount point is then an
# empty directory).
DAEMON_GONE = {errno.ENOTCONN, errno.ECONNABORTED, errno.ENOENT}


# --- Token snapshots and the "wider than" predicate -------------------------

def read_doc(token_dir):
    """The query/all document of a token directory (one snapshot)."""
    with open(os.path.join(token_dir, "query", "all")) as handle:
        return json.load(handle)


def normalize(doc):
    """The fields of a query/all document that decide what the token may
    do, as plain values: sets where order does not matter."""
    classes = doc["classes"]

    def decoded(name):
        entry = classes[name]
        if "decoded" not in entry:
            raise ValueError(f"class {name} has no decoded value: "
                             f"{entry.get('error')}")
        return entry["decoded"]

    extra = doc["tokenfs"]
    restricted = decoded("restrictedsids")
    statistics = decoded("statistics")
    return {
        "user": decoded("user")["sid"],
        "user_deny_only": bool(extra["user_deny_only"]),
        "groups": {g["sid"]: frozenset(g["attributes"])
                   for g in decoded("groups")["groups"]},
        "privs": {p["name"]: bool(p["enabled"])
                  for p in decoded("privileges")["privileges"]},
        "integrity": int(decoded("integrity")["rid"]),
        "policy": frozenset(decoded("mandatorypolicy")["flags"]),
        "restricted": bool(restricted["restricted"]),
        "write_restricted": bool(extra["write_restricted"]),
        "restricted_sids": frozenset(s["sid"] for s in
                                     restricted["restricted_sids"]),
        "caps": frozenset(c["sid"] for c in
                          decoded("capabilities")["capabilities"]),
        "type": int(decoded("type")["value"]),
        "level": int(decoded("impersonationlevel")["value"]),
        "elevation": decoded("elevationtype")["name"],
        "logon_type": decoded("logontype")["value"],
        "auth_id": int(statistics["authentication_id"], 16),
        "token_id": int(statistics["token_id"], 16),
        "modified_id": int(statistics["modified_id"], 16),
        "parent_token_id": int(extra["parent_token_id"], 16),
        "dacl": decoded("defaultdacl")["sddl"],
        "owner": decoded("owner")["sid"],
        "primary_group": decoded("primarygroup")["sid"],
    }


def _allows(attributes):
    return "enabled" in attributes and "deny-only" not in attributes


def _type_rank(norm):
    """A primary token can be used as anything; an impersonation token as
    far as its level (Anonymous 0 .. Delegation 3) lets it."""
    return 4 if norm["type"] == 1 else norm["level"]


def wider(new, old):
    """The reasons `new` may do something `old` may not ([] when none):
    a privilege present or enabled that was not, a group enabled that was
    not or no longer deny-only, fewer restricting SIDs, integrity raised,
    mandatory policy dropped, capabilities added, type or impersonation
    level raised, elevated to Full, another user or logon session."""
    reasons = []
    if new["user"] != old["user"]:
        reasons.append(f"user {old['user']} -> {new['user']}")
    if old["user_deny_only"] and not new["user_deny_only"]:
        reasons.append("the user SID is no longer deny-only")
    if new["auth_id"] != old["auth_id"]:
        reasons.append(f"logon session {old['auth_id']:#x} -> "
                       f"{new['auth_id']:#x}")
    for name, enabled in new["privs"].items():
        if name not in old["privs"]:
            reasons.append(f"privilege {name} present")
        elif enabled and not old["privs"][name]:
            reasons.append(f"privilege {name} enabled")
    for sid, attributes in new["groups"].items():
        before = old["groups"].get(sid)
        if _allows(attributes) and not (before and _allows(before)):
            reasons.append(f"group {sid} enabled")
        if "owner" in attributes and not (before and "owner" in before):
            reasons.append(f"group {sid} may own")
    for sid, attributes in old["groups"].items():
        after = new["groups"].get(sid)
        if "deny-only" in attributes and not (after and "deny-only" in after):
            reasons.append(f"group {sid} no longer deny-only")
    if old["restricted"]:
        if not new["restricted"]:
            reasons.append("no longer restricted")
        else:
            added = new["restricted_sids"] - old["restricted_sids"]
            if added:
                reasons.append("restricting SIDs added: " +
                               ",".join(sorted(added)))
            if new["write_restricted"] and not old["write_restricted"]:
                reasons.append("restricting SIDs now apply to writes only")
    if new["integrity"] > old["integrity"]:
        reasons.append(f"integrity {old['integrity']} -> {new['integrity']}")
    dropped = old["policy"] - new["policy"]
    if dropped:
        reasons.append("mandatory policy dropped: " +
                       ",".join(sorted(dropped)))
    added = new["caps"] - old["caps"]
    if added:
        reasons.append(f"{len(added)} capabilities added")
    if _type_rank(new) > _type_rank(old):
        reasons.append(f"type/level {old['type']}/{old['level']} -> "
                       f"{new['type']}/{new['level']}")
    if new["elevation"] == "Full" and old["elevation"] != "Full":
        reasons.append(f"elevation {old['elevation']} -> Full")
    return reasons


def doc_diff(a, b, path="", limit=6):
    """Paths where two JSON values differ (at most `limit`; the raw
    bytes_hex payloads last, since the decoded values say more)."""
    out = []

    def walk(x, y, where):
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                if key not in x or key not in y:
                    out.append(f"{where}/{key}: only in "
                               f"{'first' if key in x else 'second'}")
                else:
                    walk(x[key], y[key], f"{where}/{key}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for index, (p, q) in enumerate(zip(x, y)):
                walk(p, q, f"{where}[{index}]")
        elif x != y:
            out.append(f"{where}: {short(x)} -> {short(y)}")

    walk(a, b, path)
    out.sort(key=lambda line: "/bytes_hex" in line.split(":")[0])
    return out[:limit]


def short(value, size=120):
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= size else text[:size] + "..."


def norm_diff(a, b, keys):
    """`key: before -> after` for every key whose value differs."""
    def show(value):
        if isinstance(value, (set, frozenset)):
            value = sorted(value)
        elif isinstance(value, dict):
            value = {k: sorted(v) if isinstance(v, frozenset) else v
                     for k, v in value.items()}
        return short(str(value), 300)
    return [f"{k}: {show(a[k])} -> {show(b[k])}" for k in keys
            if a[k] != b[k]]


def ids_of(norm):
    return {norm["token_id"], norm["modified_id"]}


# --- Small helpers (field and txn come from mountlib) ------------------------


def new_id(code_result, what):
    code, result = code_result
    if code != 0:
        raise RuntimeError(f"{what} failed: "
                           f"{errno.errorcode.get(code, code)}: "
                           f"{result.strip()}")
    return int(field(result, "id"))


def group_index(doc, sid):
    for entry in doc["classes"]["groups"]["decoded"]["groups"]:
        if entry["sid"] == sid:
            return entry["index"]
    raise RuntimeError(f"group {sid} not in the token")


def uid_of(user):
    return pwd.getpwnam(user).pw_uid


def start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def host_process_count():
    """How many processes /proc lists now."""
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return None


def mount_count(path):
    with open("/proc/self/mountinfo") as handle:
        return sum(1 for line in handle if line.split()[4] == path)


def registry_answers(mnt):
    try:
        with open(os.path.join(mnt, "registry")) as handle:
            return handle.read().startswith("processes")
    except OSError:
        return False


class Lines:
    """Line reader over a pipe with timeouts (no threads)."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""
        self.eof = False
        os.set_blocking(fd, False)

    def _fill(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self.eof = True
        self.buffer += data
        return bool(data)

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                return None
            self._fill(left)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode(errors="replace")

    def available(self):
        """Every complete line that can be read now."""
        while self._fill(0):
            pass
        lines = []
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            lines.append(line.decode(errors="replace"))
        return lines


# --- Processes: tracked, and agents run as test users ------------------------

class Tracker:
    """Everything the test starts, so cleanup ends it by its id."""

    def __init__(self):
        self.popens = []
        self.pids = {}  # pid -> start time when recorded

    def popen(self, *args, **kwargs):
        process = subprocess.Popen(*args, **kwargs)
        self.popens.append(process)
        return process

    def pid(self, pid):
        self.pids[pid] = start_time(pid)

    def cleanup(self):
        """Ends everything started so far (by pid), and forgets it."""
        for pid, started in self.pids.items():
            # Only the process recorded, not a stranger on a reused pid.
            if started is not None and start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                try:  # one re-parented to this test as its subreaper
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
        for process in self.popens:
            if process.poll() is None:
                try:
                    process.kill()
                except OSError:
                    pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for pipe in (process.stdin, process.stdout):
                if pipe:
                    try:
                        pipe.close()
                    except OSError:
                        pass
        self.popens = []
        self.pids = {}


def as_user(user):
    if user is None:
        return [sys.executable]
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
            "--", USER_PY]


# A command server: one JSON command a line on stdin, one JSON answer a line
# on stdout. Runs as a test user (or root) so that its own process and
# threads are what the daemon records.
AGENT = r'''
import json, os, sys, threading, time
M = sys.argv[1]
def reply(obj):
    os.write(1, (json.dumps(obj) + "\n").encode())
def txn(path, text):
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as error:
        return {"errno": error.errno, "text": str(error)}
    try:
        try:
            os.write(fd, text.encode())
        except OSError as error:
            try:
                reason = os.read(fd, 65536).decode(errors="replace")
            except OSError:
                reason = str(error)
            return {"errno": error.errno, "text": reason}
        return {"errno": 0,
                "text": os.read(fd, 65536).decode(errors="replace")}
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
hold = threading.Event()
def impersonating_thread(ref, answer):
    tid = threading.get_native_id()
    result = txn(f"{M}/{os.getpid()}/{tid}/impersonate", ref)
    result["tid"] = tid
    answer.append(result)
    hold.wait()
reply({"pid": os.getpid()})
for line in sys.stdin:
    command = json.loads(line)
    op = command["op"]
    if op == "txn":
        reply(txn(command["path"], command["text"]))
    elif op == "thread":
        answer = []
        thread = threading.Thread(target=impersonating_thread,
                                  args=(command["ref"], answer), daemon=True)
        thread.start()
        while not answer:
            time.sleep(0.01)
        reply(answer[0])
    elif op == "fork":
        # A child (and its child) that touch nothing and sleep: forked while
        # the daemon may be down. With "orphan", the child ends at once and
        # leaves the grandchild to pid 1.
        orphan = command.get("orphan", False)
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.close(r)
                grandchild = os.fork()
                if grandchild == 0:
                    time.sleep(120)
                    os._exit(0)
                os.write(w, f"{grandchild}\n".encode())
                if not orphan:
                    time.sleep(120)
            finally:
                os._exit(0)
        os.close(w)
        grandchild = int(os.read(r, 64).decode().strip())
        os.close(r)
        if orphan:
            os.waitpid(child, 0)
            for _ in range(500):  # re-parented by the time waitpid returns
                with open(f"/proc/{grandchild}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[1] != str(child):
                        break
                time.sleep(0.01)
        reply({"child": child, "grandchild": grandchild})
    elif op == "narrow":
        # What any process may do without privilege: set no_new_privs
        # (prctl PR_SET_NO_NEW_PRIVS) or enter a new user namespace, where
        # it holds every capability (unshare CLONE_NEWUSER).
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if command["how"] == "nnp":
            status = libc.prctl(38, 1, 0, 0, 0)
        else:
            status = libc.unshare(0x10000000)
        reply({"errno": ctypes.get_errno() if status else 0})
    elif op == "exec":
        reply({"exec": True})
        os.execv(command["argv"][0], command["argv"])
'''


class Agent:
    def __init__(self, ctx, user, mnt, job=False):
        self.user = user
        # job: the agent leads a process group of its own, as a shell's job
        # does.
        self.process = ctx.tracker.popen(
            as_user(user) + ["-u", "-c", AGENT, mnt],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=ctx.agent_log, **({"process_group": 0} if job else {}))
        self.lines = Lines(self.process.stdout.fileno())
        hello = self.lines.readline(10)
        if hello is None:
            raise RuntimeError(f"agent as {user} did not start")
        self.pid = json.loads(hello)["pid"]

    def call(self, op, timeout=10, **arguments):
        self.process.stdin.write((json.dumps(dict(op=op, **arguments)) +
                                  "\n").encode())
        self.process.stdin.flush()
        line = self.lines.readline(timeout)
        if line is None:
            raise RuntimeError(f"agent {self.user} (pid {self.pid}) gave no "
                               f"answer to {op}")
        return json.loads(line)

    def txn(self, path, text):
        answer = self.call("txn", path=path, text=text)
        return answer["errno"], answer["text"]


# --- Daemons -----------------------------------------------------------------

class Daemon:
    """One daemon's mount point and state directory; it may be started and
    stopped several times on them."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.dir = os.path.join(ctx.work, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.mnt = os.path.join(self.dir, "tokens")
        os.mkdir(self.mnt)
        self.state = os.path.join(self.dir, "state")
        self.process = None
        self.logs = []
        ctx.daemons.append(self)

    def command(self, extra, state=True):
        command = [self.ctx.tokenfs, "-f", self.mnt]
        if state and not NO_STATE:
            command += ["--state", self.state]
        return command + list(extra)

    def _spawn(self, extra, state):
        log = os.path.join(self.dir, f"daemon.{len(self.logs)}.log")
        self.logs.append(log)
        with open(log, "wb") as handle:
            return subprocess.Popen(self.command(extra, state),
                                    stdin=subprocess.DEVNULL, stdout=handle,
                                    stderr=handle)

    def start(self, *extra, state=True):
        """"" when the tree answers, else the reason (the log's end)."""
        if NO_STATE and mounted(self.mnt) and not registry_answers(self.mnt):
            # Smoke mode: a daemon without the store refuses a stale mount.
            subprocess.run(["umount", "-l", self.mnt], check=False)
        self.process = self._spawn(extra, state)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if registry_answers(self.mnt):
                return ""
            if self.process.poll() is not None:
                return (f"exited with status {self.process.returncode}: " +
                        self.last_log().strip()[-600:])
            time.sleep(0.02)
        return "the tree did not answer within 10 s: " + self.last_log()[-600:]

    def run_to_exit(self, *extra, state=True, timeout=10):
        """Starts a daemon that should refuse: (status or None if it kept
        running, its output)."""
        process = self._spawn(extra, state)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            status = None
        return status, self.last_log()

    def stop(self, sig):
        """Sends `sig`; returns the exit status (negative: killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "hung"

    def last_log(self):
        try:
            with open(self.logs[-1], errors="replace") as handle:
                return handle.read()
        except (OSError, IndexError):
            return ""

    def all_logs(self):
        out = []
        for path in self.logs:
            try:
                with open(path, errors="replace") as handle:
                    out.append(f"--- {os.path.basename(path)}\n" +
                               handle.read())
            except OSError:
                pass
        return "\n".join(out)

    def cleanup(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for _ in range(5):
            if not mounted(self.mnt):
                break
            subprocess.run(["umount", "-l", self.mnt], check=False,
                           stderr=subprocess.DEVNULL)

    def path(self, *parts):
        return os.path.join(self.mnt, *[str(p) for p in parts])


# --- Parts and checks --------------------------------------------------------

class Part:
    def __init__(self, number, name):
        self.number = number
        self.name = name
        self.failures = []
        self.checks = 0
        self.skipped = None
        self.daemons = []

    def ok(self, condition, what, detail=""):
        self.checks += 1
        if condition:
            print(f"  ok - {what}")
        else:
            self.failures.append(what + (f": {detail}" if detail else ""))
            print(f"  FAIL - {what}" + (f": {detail}" if detail else ""))
        return condition

    def equal(self, what, expected, actual):
        return self.ok(expected == actual, what,
                       f"expected {expected!r}, got {actual!r}")

    def start(self, daemon, *extra, what="the daemon starts", state=True):
        reason = daemon.start(*extra, state=state)
        if what == "the daemon starts" and state and not NO_STATE:
            what += " with --state"
        return self.ok(reason == "", what, reason)

    def restart(self, daemon, sig, *extra, what="the daemon restarts"):
        """Stops `daemon` with `sig` and starts it again on the same mount
        point and state directory, without unmounting by hand."""
        status = daemon.stop(sig)
        if sig == signal.SIGTERM:
            self.equal("the daemon exits 0 on SIGTERM", 0, status)
        return self.restart_only(daemon, *extra, what=what)

    def restart_only(self, daemon, *extra, what="the daemon restarts"):
        stale = mounted(daemon.mnt)
        if not self.start(daemon, *extra,
                          what=what + (" over its stale mount" if stale
                                       else "")):
            return False
        self.equal("... and the mount point holds one mount, not a stack",
                   1, mount_count(daemon.mnt))
        return True


class Context:
    def __init__(self, tokenfs, token):
        self.tokenfs = tokenfs
        self.token = token
        self.work = tempfile.mkdtemp(prefix="tkdur.")
        os.chmod(self.work, 0o755)
        self.tracker = Tracker()
        self.daemons = []
        self.finished_daemons = []
        self.agent_log = open(os.path.join(self.work, "agents.err"), "wb")

    def daemon(self, name):
        return Daemon(self, name)

    def agent(self, user, daemon, job=False):
        return Agent(self, user, daemon.mnt, job)

    def cli(self, daemon, *args, **kwargs):
        if not self.token:
            raise RuntimeError("no token CLI given (third argument)")
        return subprocess.run([self.token, *[str(a) for a in args]],
                              capture_output=True, text=True, timeout=20,
                              env=dict(os.environ, TOKENFS_ROOT=daemon.mnt),
                              **kwargs)


def seen_ids(docs):
    """Every LUID a set of snapshots shows."""
    ids = set()
    for doc in docs:
        norm = normalize(doc)
        ids |= {norm["token_id"], norm["modified_id"], norm["auth_id"]}
        if norm["parent_token_id"]:
            ids.add(norm["parent_token_id"])
    return ids


def id_ceiling(docs, object_ids=()):
    """The largest token or modified id a set of snapshots shows."""
    values = [v for doc in docs for v in ids_of(normalize(doc))]
    return max(values + list(object_ids) + [0])


def check_fresh_ids(part, what, fresh, seen, ceiling):
    """`fresh`: {label: id} issued after a restart."""
    reused = {label: value for label, value in fresh.items() if value in seen}
    part.ok(not reused, f"{what}: no id issued before the restart is issued "
            "again", ", ".join(f"{k}={v:#x}" for k, v in reused.items()))
    below = {label: value for label, value in fresh.items()
             if value <= ceiling}
    part.ok(not below, f"{what}: every new token/modified id is above every "
            f"id seen before the restart ({ceiling:#x}; a store that kept "
            "no id limit starts again at its first id)",
            ", ".join(f"{k}={v:#x}" for k, v in below.items()))


# --- Part 1: the predicate ---------------------------------------------------

def base_norm():
    return {
        "user": "S-1-22-1-1000", "user_deny_only": False,
        "groups": {"S-1-22-2-1000": frozenset({"mandatory", "enabled"}),
                   "S-1-1-0": frozenset({"enabled"}),
                   "S-1-5-32-545": frozenset({"disabled"}),
                   "S-1-5-32-544": frozenset({"disabled", "deny-only"})},
        "privs": {"SeShutdown": False, "SeChangeNotify": True},
        "integrity": 8192, "policy": frozenset({"no-write-up"}),
        "restricted": True, "write_restricted": False,
        "restricted_sids": frozenset({"S-1-1-0", "S-1-5-12"}),
        "caps": frozenset({"S-1-15-3-1", "S-1-15-3-2"}),
        "type": 2, "level": 2, "elevation": "Limited", "logon_type": 2,
        "auth_id": 0x10042, "token_id": 0x10050, "modified_id": 0x10051,
        "parent_token_id": 0, "dacl": "D:(A;;GA;;;SY)",
        "owner": "S-1-22-1-1000", "primary_group": "S-1-22-2-1000",
    }


def variant(**changes):
    norm = base_norm()
    for key, value in changes.items():
        if callable(value):
            value = value(norm[key])
        norm[key] = value
    return norm


def with_group(sid, attributes):
    return lambda groups: {**groups, sid: frozenset(attributes)}


def without_group(sid):
    return lambda groups: {k: v for k, v in groups.items() if k != sid}


PREDICATE_CASES = [
    # (name, new, wider than base?)
    ("identical", base_norm(), False),
    ("ids differ only", variant(token_id=1, modified_id=2), False),
    ("privilege enabled", variant(privs={"SeShutdown": True,
                                         "SeChangeNotify": True}), True),
    ("privilege added", variant(privs={"SeShutdown": False,
                                       "SeChangeNotify": True,
                                       "SeDebug": False}), True),
    ("privilege disabled", variant(privs={"SeShutdown": False,
                                          "SeChangeNotify": False}), False),
    ("privilege removed", variant(privs={"SeChangeNotify": True}), False),
    ("group enabled", variant(groups=with_group("S-1-5-32-545",
                                                {"enabled"})), True),
    ("group added enabled", variant(groups=with_group("S-1-5-11",
                                                      {"enabled"})), True),
    ("deny-only dropped", variant(groups=with_group("S-1-5-32-544",
                                                    {"enabled"})), True),
    ("deny-only group removed", variant(groups=without_group(
        "S-1-5-32-544")), True),
    ("group made deny-only", variant(groups=with_group(
        "S-1-1-0", {"disabled", "deny-only"})), False),
    ("group disabled", variant(groups=with_group("S-1-1-0",
                                                 {"disabled"})), False),
    ("group gains owner", variant(groups=with_group(
        "S-1-1-0", {"enabled", "owner"})), True),
    ("restricting SIDs dropped", variant(restricted=False,
                                         restricted_sids=frozenset()), True),
    ("restricting SID added", variant(restricted_sids=lambda s: s | {
        "S-1-5-11"}), True),
    ("restricting SID changed", variant(restricted_sids=frozenset({
        "S-1-1-0", "S-1-5-11"})), True),
    ("restricting SIDs narrowed", variant(restricted_sids=frozenset({
        "S-1-1-0"})), False),
    ("restriction to writes only", variant(write_restricted=True), True),
    ("user SID deny-only", variant(user_deny_only=True), False),
    ("integrity raised", variant(integrity=8193), True),
    ("integrity lowered", variant(integrity=4096), False),
    ("no-write-up dropped", variant(policy=frozenset()), True),
    ("capability added", variant(caps=lambda c: c | {"S-1-15-3-3"}), True),
    ("capability removed", variant(caps=frozenset({"S-1-15-3-1"})), False),
    ("level raised", variant(level=3), True),
    ("level lowered", variant(level=1), False),
    ("became primary", variant(type=1, level=0), True),
    ("user changed", variant(user="S-1-22-1-1001"), True),
    ("logon session changed", variant(auth_id=0x10043), True),
    ("elevated to Full", variant(elevation="Full"), True),
    ("narrower here, wider there", variant(
        privs={"SeChangeNotify": False}, integrity=16384), True),
]


def part_wider(ctx, part):
    for name, new, expected in PREDICATE_CASES:
        reasons = wider(new, base_norm())
        part.ok(bool(reasons) == expected,
                f"predicate: {name} is {'' if expected else 'not '}wider",
                "; ".join(reasons) or "no reason found")
    # Unrestricted -> restricted is narrower; the reverse wider.
    free = variant(restricted=False, restricted_sids=frozenset())
    part.ok(not wider(base_norm(), free) and wider(free, base_norm()),
            "predicate: restricting narrows, unrestricting widens")

    # On real tokens: the snapshot reader and the predicate agree with what
    # the daemon did.
    daemon = ctx.daemon("wider")
    if not part.start(daemon):
        return
    agent = ctx.agent("tkdur_a", daemon)
    path = daemon.path(agent.pid)
    before = read_doc(path)
    norm = normalize(before)
    part.ok(norm["user"] == f"S-1-22-1-{uid_of('tkdur_a')}" and
            EVERYONE in norm["groups"] and norm["privs"].get("SeChangeNotify")
            and norm["caps"] and norm["integrity"] == 8192 and
            norm["type"] == 1,
            "query/all of a user's minted token reads as expected",
            str({k: norm[k] for k in ("user", "privs", "integrity", "type")}))
    part.ok(not wider(norm, norm), "a real token is not wider than itself")
    code, text = agent.txn(path + "/privs", "SeChangeNotify=disabled")
    part.equal("the user disables SeChangeNotify", 0, code)
    after = normalize(read_doc(path))
    part.ok(not wider(after, norm), "the disabled token is not wider")
    part.ok(any("SeChangeNotify" in r for r in wider(norm, after)),
            "the original is wider than it (SeChangeNotify enabled)",
            str(wider(norm, after)))
    code, text = agent.txn(path + "/integrity", "low")
    lowered = normalize(read_doc(path))
    part.ok(code == 0 and not wider(lowered, after) and wider(after, lowered),
            "lowering integrity narrows", f"{code} {text}")
    restricted = new_id(txn(path + "/restrict",
                            f"deny={group_index(before, EVERYONE)} "
                            "restrict=WD drop-privs=SeShutdown "
                            "caps=tokeninfo"),
                        "restrict")
    narrow = normalize(read_doc(daemon.path("objects", restricted)))
    part.ok(narrow["restricted"] and not wider(narrow, lowered),
            "a restricted copy is not wider than its source",
            "; ".join(wider(narrow, lowered)))
    reasons = wider(lowered, narrow)
    part.ok(any("restricted" in r for r in reasons) and
            any("deny-only" in r for r in reasons) and
            any("SeShutdown" in r for r in reasons) and
            any("capabilities" in r for r in reasons),
            "its source is wider than it: restriction, deny-only, privilege "
            "and capabilities", "; ".join(reasons))


# --- Parts 2 and 3: a burst of adjustments, then a kill ----------------------

WORKER = r'''
import os, sys
M = sys.argv[1]
me = os.getpid()
os.write(1, f"pid {me}\n".encode())
import json
plan = json.loads(sys.stdin.readline())
os.write(1, b"ready\n")
sys.stdin.readline()
def gone(index, error, stage):
    os.write(1, f"dead {index} {error.errno} {stage}\n".encode())
for index, (name, text) in enumerate(plan):
    try:
        fd = os.open(f"{M}/{me}/{name}", os.O_WRONLY)
    except OSError as error:
        gone(index, error, "open")
        break
    try:
        os.write(fd, text.encode())
    except OSError as error:
        try:
            os.close(fd)
        except OSError:
            pass
        gone(index, error, "write")
        break
    # write(2) returned: acknowledged.
    os.write(1, f"ack {index}\n".encode())
    try:
        os.close(fd)
    except OSError as error:
        gone(index + 1, error, "close")
        break
else:
    os.write(1, b"done\n")
sys.stdin.readline()
'''

MARKER = re.compile(r"S-1-5-21-(\d+)-777-(\d+)")


def make_plan(base, index, length=6000):
    """Narrowing steps for one worker, each (file, command, effect): pairs
    of privileges disabled, then removed, in one write each (so a half
    applied write shows); integrity lowered one RID at a time; a default
    DACL that names the step (not a widening, but it pins the position)."""
    names = list(base["privs"])
    enabled = [p for p in names if base["privs"][p]]
    privilege_steps = (
        [dict.fromkeys(enabled[i:i + 2], "disabled")
         for i in range(0, len(enabled), 2)] +
        [dict.fromkeys(names[i:i + 2], "removed")
         for i in range(0, len(names), 2)])
    rid = base["integrity"]
    plan = []
    # Spread out (every 4th step for root's 35 privileges, every 40th for a
    # user's 5) so that a kill early in the burst may well catch a
    # multi-item write in flight.
    period = 4 if len(privilege_steps) > 10 else 40
    for step in range(length):
        if step % period == 0 and privilege_steps:
            effect = privilege_steps.pop(0)
            plan.append(("privs", " ".join(f"{p}={s}" for p, s in
                                            effect.items()),
                         ("privs", effect)))
        elif step % 2 == 1 and rid > 0:
            rid -= 1
            plan.append(("integrity", str(rid), ("integrity", rid)))
        else:
            plan.append(("default-dacl", "D:(A;;GA;;;SY)(A;;GR;;;"
                         f"S-1-5-21-{index}-777-{step})", ("dacl", step)))
    return plan


def model_states(base, plan, upto):
    """The modelled (privs, integrity, dacl step) after 0..upto steps."""
    privs = dict(base["privs"])
    integrity = base["integrity"]
    marker = None
    states = [(dict(privs), integrity, marker)]
    for _, _, (kind, value) in plan[:upto]:
        if kind == "privs":
            for name, state in value.items():
                if state == "removed":
                    privs.pop(name, None)
                elif name in privs:
                    privs[name] = False
        elif kind == "integrity":
            integrity = value
        else:
            marker = value
        states.append((dict(privs), integrity, marker))
    return states


def observed_state(norm, index):
    markers = [int(step) for worker, step in MARKER.findall(norm["dacl"] or "")
               if int(worker) == index]
    return (norm["privs"], norm["integrity"], markers[-1] if markers else None)


FIXED = ("user", "user_deny_only", "groups", "restricted", "write_restricted",
         "restricted_sids", "caps", "type", "level", "elevation", "auth_id",
         "policy", "owner", "primary_group", "logon_type", "token_id")


class Worker:
    def __init__(self, ctx, daemon, user, index):
        self.user = user
        self.index = index
        self.label = f"worker {index} ({user or 'root'})"
        self.process = ctx.tracker.popen(
            as_user(user) + ["-u", "-c", WORKER, daemon.mnt],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=ctx.agent_log)
        self.lines = Lines(self.process.stdout.fileno())
        hello = self.lines.readline(10)
        if not hello or not hello.startswith("pid "):
            raise RuntimeError(f"{self.label} did not start")
        self.pid = int(hello.split()[1])
        self.label += f" pid {self.pid}"
        self.baseline_doc = read_doc(daemon.path(self.pid))
        self.baseline = normalize(self.baseline_doc)
        self.plan = make_plan(self.baseline, index)
        self.send(json.dumps([[f, t] for f, t, _ in self.plan]))
        if self.lines.readline(10) != "ready":
            raise RuntimeError(f"{self.label} did not take its plan")
        self.acked = []
        self.dead = None
        self.done = False

    def send(self, line):
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def collect(self):
        for line in self.lines.available():
            word, *rest = line.split()
            if word == "ack":
                self.acked.append(int(rest[0]))
            elif word == "dead":
                self.dead = (int(rest[0]), int(rest[1]), rest[2])
            elif word == "done":
                self.done = True

    def finished(self):
        return self.dead is not None or self.done


def describe_stop(dead):
    if dead is None:
        return "never"
    index, number, stage = dead
    return f"{stage} of write {index}: {errno.errorcode.get(number, number)}"


def part_burst(ctx, part, sig):
    signame = signal.Signals(sig).name
    daemon = ctx.daemon(f"burst_{signame.lower()}")
    if not part.start(daemon):
        return
    users = ["tkdur_a", "tkdur_a", "tkdur_b", "tkdur_c", "tkdur_adm", None,
             None]
    workers = [Worker(ctx, daemon, user, index)
               for index, user in enumerate(users)]
    for worker in workers:
        worker.send("go")
    # Until every worker has had 10 writes acknowledged, then a little more.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for worker in workers:
            worker.collect()
        if all(len(w.acked) >= 10 or w.finished() for w in workers):
            break
        time.sleep(0.005)
    time.sleep(random.uniform(0.0, 0.05))
    # Aim: stop the daemon just as a worker starts a multi-item privileges
    # write (the next step after its last acknowledged one), so that a half
    # applied write has a chance to show; give up aiming after 0.5 s.
    aim = time.monotonic() + 0.5
    while time.monotonic() < aim:
        for worker in workers:
            worker.collect()
        if any(len(w.acked) < len(w.plan) and
               w.plan[len(w.acked)][0] == "privs" and not w.finished()
               for w in workers):
            break
        time.sleep(0.0005)
    status = daemon.stop(sig)
    if sig == signal.SIGTERM:
        part.equal("the daemon exits 0 on SIGTERM", 0, status)

    def all_finished():
        for worker in workers:
            worker.collect()
        return all(w.finished() for w in workers)

    part.ok(wait_until(all_finished, 10),
            "every worker noticed the daemon was gone",
            ", ".join(w.label for w in workers if not w.finished()))
    for worker in workers:
        worker.collect()
        in_order = worker.acked == list(range(len(worker.acked)))
        part.ok(in_order and worker.dead is not None and
                worker.dead[0] == len(worker.acked) and
                worker.dead[1] in DAEMON_GONE,
                f"{worker.label}: {len(worker.acked)} writes acknowledged in "
                "order, then the daemon went away mid-burst",
                f"acks in order: {in_order}, finished: {worker.done}, "
                f"stopped at: {describe_stop(worker.dead)}")
    print(f"  (acknowledged before {signame}, worker:count:write in "
          "flight: " + ", ".join(
              f"{w.index}:{len(w.acked)}:" +
              (w.plan[len(w.acked)][0] if len(w.acked) < len(w.plan)
               else "-") for w in workers) + ")")
    if not part.restart_only(daemon):
        return
    in_flight_present = 0
    for worker in workers:
        acked = len(worker.acked)
        states = model_states(worker.baseline, worker.plan, acked + 1)
        try:
            restored_doc = read_doc(daemon.path(worker.pid))
        except OSError as error:
            part.ok(False, f"{worker.label}: its token is there after the "
                    "restart", str(error))
            continue
        restored = normalize(restored_doc)
        observed = observed_state(restored, worker.index)
        position = [n for n in (acked, acked + 1)
                    if n < len(states) and states[n] == observed]
        in_flight_present += position == [acked + 1]
        last = states[acked]
        expected = dict(worker.baseline, privs=last[0], integrity=last[1])
        if not position:
            # Name the first difference from the last acknowledged state.
            detail = []
            if observed[0] != last[0]:
                detail.append(f"privileges {sorted(observed[0].items())} != "
                              f"{sorted(last[0].items())}")
            if observed[1] != last[1]:
                detail.append(f"integrity {observed[1]} != {last[1]}")
            if observed[2] != last[2]:
                detail.append(f"default DACL at step {observed[2]} != "
                              f"{last[2]}")
            in_flight = (worker.plan[acked][:2] if acked < len(worker.plan)
                         else None)
            if (in_flight and in_flight[0] == "privs" and
                    observed[0] not in (last[0], states[acked + 1][0])):
                detail.append("the privileges match neither the state "
                              "before nor after the write in flight: "
                              "half-applied")
            part.ok(False, f"{worker.label}: the token is exactly as after "
                    f"its {acked} acknowledged writes, or after the one in "
                    "flight too", "; ".join(detail) +
                    f" (in flight: {in_flight})")
        else:
            part.ok(True, f"{worker.label}: the token is exactly as after "
                    f"its {acked} acknowledged writes" +
                    (", plus the one in flight" if position[0] > acked
                     else ""))
        part.ok(not wider(restored, expected),
                f"{worker.label}: not wider than its last acknowledged state",
                "; ".join(wider(restored, expected)))
        changed = norm_diff(worker.baseline, restored, FIXED)
        part.ok(not changed, f"{worker.label}: user, groups, restrictions, "
                "capabilities, session and token id unchanged",
                "; ".join(changed))
    print(f"  ({in_flight_present} of {len(workers)} tokens also hold the "
          "write in flight)")
    for worker in workers:
        worker.send("exit")
    daemon.stop(signal.SIGTERM)


def part_kill9(ctx, part):
    part_burst(ctx, part, signal.SIGKILL)


def part_sigterm(ctx, part):
    part_burst(ctx, part, signal.SIGTERM)


# --- Part 4: installed tokens, impersonation, adoption, elevation ------------

SPEC = {
    "version": 2,
    "type": "primary",
    "user": "S-1-22-1-4000321",
    "groups": [
        {"sid": "S-1-22-2-4000321",
         "attributes": ["mandatory", "default", "enabled"]},
        "S-1-1-0",
        {"sid": "S-1-5-32-544", "attributes": ["deny-only"]},
        {"sid": "S-1-5-32-545", "attributes": ["default", "enabled"]},
        {"sid": "S-1-5-32-551", "attributes": []},
    ],
    "owner_index": 0,
    "primary_group_index": 1,
    "privileges": {"present": ["SeChangeNotify", "SeShutdown", "SeTimeZone"],
                   "enabled": ["SeChangeNotify"]},
    "integrity": "medium",
    "mandatory_policy": ["no-write-up"],
    "default_dacl": "D:(A;;GA;;;S-1-22-1-4000321)(A;;GA;;;SY)",
    "session_id": "0x0",
    "source": {"name": "tkdur", "id": "0x42"},
    "origin": "0x7",
    "interactive_session_id": 3,
    "projected_uid": 4000321,
    "projected_gid": 4000321,
    "projected_supplementary_gids": [4000322],
    "user_claims": [{"name": "team", "type": "string",
                     "flags": ["case-sensitive"], "values": ["Ops", "R&D"]}],
    "device_claims": [{"name": "tier", "type": "int64", "values": [3, -1]}],
    "capabilities": ["tokeninfo", "settings:email"],
}


def spec_file(ctx, name, **changes):
    path = os.path.join(ctx.work, name)
    with open(path, "w") as handle:
        json.dump(dict(SPEC, **changes), handle)
    return path


def spec_bytes(user_sid, session):
    """A binary token spec v2 (as tests/mount/derived.py builds it)."""
    def sid(text):
        parts = text.split("-")
        subs = [int(p) for p in parts[3:]]
        return (bytes([1, len(subs)]) + int(parts[2]).to_bytes(6, "big") +
                b"".join(s.to_bytes(4, "little") for s in subs))
    user = sid(user_sid)
    header = bytearray(192)
    struct.pack_into("<IBBH", header, 0, 2, 1, 0, 0)
    struct.pack_into("<II", header, 8, 0x1000, 1)
    struct.pack_into("<II", header, 36, 65534, 65534)
    struct.pack_into("<Q", header, 56, session)
    header[72:80] = b"tkdur\0\0\0"
    struct.pack_into("<I", header, 88, 192)
    return bytes(header) + user


def compare_doc(part, what, before, after_path):
    try:
        after = read_doc(after_path)
    except OSError as error:
        return part.ok(False, what, f"{after_path}: {error}")
    return part.ok(before == after, what, "; ".join(doc_diff(before, after)))


def part_installed(ctx, part):
    daemon = ctx.daemon("installed")
    if not part.start(daemon):
        return
    m = daemon.path()
    before = {}  # what -> (token dir, query/all before)

    # An object installed through the install file.
    a1 = ctx.agent("tkdur_a", daemon)
    doc = read_doc(daemon.path(a1.pid))
    x = new_id(txn(daemon.path(a1.pid, "restrict"),
                   f"deny={group_index(doc, EVERYONE)} "
                   f"restrict=WD,S-1-22-1-{uid_of('tkdur_a')} "
                   "drop-privs=SeShutdown"), "restrict")
    code, text = txn(daemon.path(a1.pid, "install"), f"id:{x}")
    part.equal("root installs a restricted copy through the install file",
               0, code)
    before["the process with an installed restricted token"] = daemon.path(
        a1.pid)

    # A token created and installed by the CLI.
    a2 = ctx.agent("tkdur_b", daemon)
    result = ctx.cli(daemon, "--pid", a2.pid, "install",
                     spec_file(ctx, "install.json"))
    part.ok(result.returncode == 0, "token install SPEC --pid installs a "
            "created token", result.stderr.strip())
    part.ok(read_doc(daemon.path(a2.pid))["classes"]["user"]["decoded"]
            ["sid"] == SPEC["user"], "... which the process now holds")
    before["the process with a token installed by token install"] = \
        daemon.path(a2.pid)

    # A thread impersonating a restricted copy of its process's token.
    a3 = ctx.agent("tkdur_c", daemon)
    doc = read_doc(daemon.path(a3.pid))
    r = new_id(a3.txn(daemon.path(a3.pid, "restrict"),
                      f"deny={group_index(doc, EVERYONE)} "
                      f"restrict=WD,S-1-22-1-{uid_of('tkdur_c')} "
                      "drop-privs=SeTimeZone"), "restrict by the user")
    answer = a3.call("thread", ref=f"id:{r}")
    tid = answer["tid"]
    part.equal("a thread of tkdur_c impersonates its restricted copy", 0,
               answer["errno"])
    thread_dir = daemon.path(a3.pid, tid)
    part.ok(normalize(read_doc(thread_dir))["restricted"],
            "... and its effective token is restricted")
    with open(os.path.join(thread_dir, "impersonate")) as handle:
        impersonate_before = handle.read()
    before["the impersonating thread"] = thread_dir
    before["the impersonating thread's process"] = daemon.path(a3.pid)
    before["the restricted object it impersonates"] = daemon.path(
        "objects", r)

    # A command run under a token by `token impersonate -- cmd`.
    a4 = ctx.agent("tkdur_b", daemon)
    r2 = new_id(txn(daemon.path(a4.pid, "restrict"),
                    "drop-privs=SeChangeNotify persist"), "restrict")
    runner = ctx.tracker.popen(
        [ctx.token or "token", "impersonate", "--id", str(r2), "--",
         "/bin/sh", "-c", "echo $$; exec sleep 120"],
        stdout=subprocess.PIPE, stderr=ctx.agent_log,
        env=dict(os.environ, TOKENFS_ROOT=m))
    line = Lines(runner.stdout.fileno()).readline(10)
    child = int(line) if line and line.strip().isdigit() else None
    if part.ok(child is not None and
               wait_until(lambda: comm(child) == "sleep", 5),
               "token impersonate --id R -- sh -c '...; exec sleep' runs"):
        ctx.tracker.pid(child)
        norm = normalize(read_doc(daemon.path(child)))
        part.ok(norm["user"] == f"S-1-22-1-{uid_of('tkdur_b')}" and
                "SeChangeNotify" not in norm["privs"],
                "... with the restricted token as its primary",
                str(norm["privs"]))
        before["the child of token impersonate --"] = daemon.path(child)

    # An adoption pending at exec (impersonate ... exec), taken after the
    # restart.
    a5 = ctx.agent("tkdur_c", daemon)
    doc = read_doc(daemon.path(a5.pid))
    r3 = new_id(a5.txn(daemon.path(a5.pid, "restrict"),
                       f"deny={group_index(doc, EVERYONE)} "
                       f"restrict=WD,S-1-22-1-{uid_of('tkdur_c')} "
                       "drop-privs=SeShutdown,SeUndock"), "restrict")
    code, text = a5.txn(daemon.path(a5.pid, a5.pid, "impersonate"),
                        f"id:{r3} exec")
    part.ok(code == 0 and field(text, "at_exec"),
            "tkdur_c asks to adopt its restricted copy at its next exec",
            f"{code}: {text.strip()}")
    adopted = read_doc(daemon.path("objects", r3))

    # An elevation pair of an administrator's minted token.
    a6 = ctx.agent("tkdur_adm", daemon)
    elevation_link = os.readlink(daemon.path(a6.pid, "linked"))
    part.equal("tkdur_adm's token is Limited", "Limited", normalize(
        read_doc(daemon.path(a6.pid)))["elevation"])
    partner = os.path.normpath(os.path.join(daemon.path(a6.pid),
                                            elevation_link))
    before["the Limited token of an administrator"] = daemon.path(a6.pid)
    before["its linked Full token"] = partner

    docs = {what: read_doc(path) for what, path in before.items()}
    if not part.restart(daemon, signal.SIGKILL):
        return
    for what, path in before.items():
        compare_doc(part, f"{what}: same token id and content after kill -9",
                    docs[what], path)
    try:
        with open(os.path.join(thread_dir, "impersonate")) as handle:
            impersonate_after = handle.read()
    except OSError as error:
        impersonate_after = str(error)
    part.equal("the thread's impersonate file reads the same",
               impersonate_before, impersonate_after)
    try:
        link_after = os.readlink(daemon.path(a6.pid, "linked"))
    except OSError as error:
        link_after = str(error)
    part.equal("the administrator's token still links the same Full token",
               elevation_link, link_after)

    a5.call("exec", argv=["/bin/sleep", "120"])
    if part.ok(wait_until(lambda: comm(a5.pid) == "sleep", 5),
               "the process with the pending adoption execs"):
        try:
            now = normalize(read_doc(daemon.path(a5.pid)))
            want = normalize(adopted)
            differs = norm_diff(want, now, ("user", "groups", "privs",
                                            "restricted", "restricted_sids",
                                            "integrity", "caps"))
            part.ok(not differs, "... and its primary token is the adopted "
                    "restricted copy (the adoption survived the restart)",
                    "; ".join(differs))
            part.ok(not wider(now, want), "... not wider than it",
                    "; ".join(wider(now, want)))
        except OSError as error:
            part.ok(False, "... and its token can be read", str(error))
    daemon.stop(signal.SIGTERM)


# --- Part 5: token objects ---------------------------------------------------

def object_state(daemon, number):
    base = daemon.path("objects", number)
    with open(os.path.join(base, "persist")) as handle:
        persist = handle.read()
    try:
        linked = os.readlink(os.path.join(base, "linked"))
    except OSError:
        linked = None
    return read_doc(base), persist, linked


def part_objects(ctx, part):
    daemon = ctx.daemon("objects")
    if not part.start(daemon):
        return
    objects = {}  # label -> id
    b1 = ctx.agent("tkdur_a", daemon)
    b1_dir = daemon.path(b1.pid)
    doc = read_doc(b1_dir)
    uid_a = uid_of("tkdur_a")
    objects["tkdur_a's persistent duplicate"] = new_id(
        b1.txn(b1_dir + "/duplicate", "type=primary persist"), "duplicate")
    objects["tkdur_a's persistent restricted copy"] = new_id(
        b1.txn(b1_dir + "/restrict",
               f"deny={group_index(doc, EVERYONE)} restrict=WD,S-1-22-1-"
               f"{uid_a} drop-privs=SeShutdown caps=tokeninfo persist"),
        "restrict")
    ident = new_id(b1.txn(b1_dir + "/duplicate",
                          "type=impersonation level=identification"),
                   "duplicate")
    code, text = b1.txn(daemon.path("objects", ident, "persist"), "yes")
    part.equal("tkdur_a marks an Identification duplicate persistent", 0,
               code)
    objects["tkdur_a's Identification duplicate marked persistent"] = ident
    objects["tkdur_a's non-persistent duplicate (holder alive)"] = new_id(
        b1.txn(b1_dir + "/duplicate", "type=primary"), "duplicate")

    b2 = ctx.agent("tkdur_b", daemon)
    b2_dir = daemon.path(b2.pid)
    dies = new_id(b2.txn(b2_dir + "/duplicate", "type=primary"), "duplicate")
    objects["tkdur_b's persistent duplicate (creator dies while down)"] = \
        new_id(b2.txn(b2_dir + "/duplicate", "type=primary persist"),
               "duplicate")

    result = ctx.cli(daemon, "create", "--persist",
                     spec_file(ctx, "create.json"))
    if part.ok(result.returncode == 0, "token create --persist SPEC",
               result.stderr.strip()):
        created = int(result.stdout.split()[0])
        code, text = txn(daemon.path("objects", created, "security"),
                         f"D:(A;;GA;;;SY)(A;;GR;;;S-1-22-1-{uid_a})")
        part.equal("root rewrites its DACL", 0, code)
        objects["a token created from a JSON spec, DACL rewritten"] = created
    me = daemon.path(os.getpid())
    session = normalize(read_doc(me))["auth_id"]
    raw = new_id(txn(daemon.path("create"),
                     spec_bytes("S-1-22-1-4000654", session)), "create")
    code, _ = txn(daemon.path("objects", raw, "persist"), "yes")
    part.equal("root marks a token created from a binary spec persistent", 0,
               code)
    objects["a token created from a binary spec, marked persistent"] = raw
    full = new_id(txn(me + "/duplicate", "type=primary persist"), "duplicate")
    limited = new_id(txn(me + "/duplicate", "type=primary persist"),
                     "duplicate")
    code, text = txn(daemon.path("link"), f"elevated=id:{full} "
                     f"filtered=id:{limited} session={session}")
    part.equal("root links two persistent duplicates as an elevation pair",
               0, code)
    objects["the Full half of a linked pair"] = full
    objects["the Limited half of a linked pair"] = limited
    revoked = new_id(txn(me + "/duplicate", "type=primary persist"),
                     "duplicate")
    os.rmdir(daemon.path("objects", revoked))

    states = {label: object_state(daemon, number)
              for label, number in objects.items()}
    docs = [s[0] for s in states.values()] + [
        read_doc(p) for p in (b1_dir, b2_dir, me)]
    seen = seen_ids(docs) | set(objects.values()) | {dies, revoked}
    ceiling = id_ceiling(docs, list(objects.values()) + [dies, revoked])

    daemon.stop(signal.SIGKILL)
    b2.process.kill()
    b2.process.wait()
    if not part.restart_only(daemon, what="the daemon restarts after kill -9"):
        return
    for label, number in objects.items():
        try:
            after = object_state(daemon, number)
        except OSError as error:
            part.ok(False, f"{label}: objects/{number} exists after the "
                    "restart", str(error))
            continue
        doc_before, persist, linked = states[label]
        part.ok(after == states[label],
                f"{label}: objects/{number} has the same content, persist "
                "and link", "; ".join(doc_diff(doc_before, after[0]) +
                                      ([f"persist {persist!r} -> {after[1]!r}"]
                                       if persist != after[1] else []) +
                                      ([f"linked {linked} -> {after[2]}"]
                                       if linked != after[2] else [])))
    part.ok(not os.path.exists(daemon.path("objects", dies)),
            "a non-persistent object whose holder died while the daemon was "
            "down is gone")
    part.ok(not os.path.exists(daemon.path("objects", revoked)),
            "an object revoked before the restart stays revoked")

    # New ids after the restart.
    fresh = {}
    b3 = ctx.agent("tkdur_c", daemon)
    norm = normalize(read_doc(daemon.path(b3.pid)))
    fresh["a new process's token id"] = norm["token_id"]
    for label, ref in (("root's new duplicate", me),
                       ("tkdur_a's new duplicate", b1_dir)):
        runner = b1 if ref == b1_dir else None
        result = (runner.txn(ref + "/duplicate", "type=primary") if runner
                  else txn(ref + "/duplicate", "type=primary"))
        fresh[label] = new_id(result, label)
    fresh["a new created token"] = new_id(
        txn(daemon.path("create"), spec_bytes("S-1-22-1-4000655", session)),
        "create")
    code, text = b1.txn(b1_dir + "/privs", "SeTimeZone=removed")
    if part.equal("tkdur_a adjusts its restored token", 0, code):
        fresh["tkdur_a's modified id after an adjustment"] = normalize(
            read_doc(b1_dir))["modified_id"]
    check_fresh_ids(part, "after kill -9", fresh, seen, ceiling)
    try:
        with open(f"/proc/{b3.pid}/sessionid") as handle:
            sessionless = int(handle.read()) == 0xFFFFFFFF
    except (OSError, ValueError):
        sessionless = False
    if sessionless:
        # Minted outside any audit session: a logon session of its own.
        part.ok(norm["auth_id"] not in seen,
                "a new process's fresh logon session id is not one seen "
                "before", f"{norm['auth_id']:#x}")

    # Once more, with a clean stop.
    seen |= set(fresh.values())
    ceiling = max([ceiling] + list(fresh.values()))
    if not part.restart(daemon, signal.SIGTERM,
                        what="the daemon restarts after SIGTERM"):
        return
    number = new_id(txn(me + "/duplicate", "type=primary"), "duplicate")
    check_fresh_ids(part, "after SIGTERM", {"root's next duplicate": number},
                    seen, ceiling)
    label = "tkdur_a's persistent duplicate"
    part.ok(os.path.isdir(daemon.path("objects", objects[label])),
            f"{label} survives a second restart")
    daemon.stop(signal.SIGTERM)


# --- Part 6: a fork while the daemon is down ---------------------------------

def stat_fields(pid):
    """state, ppid, pgrp, session of /proc/PID/stat, the numbers as ints."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return [fields[0]] + [int(field) for field in fields[1:4]]


def lineage(pid):
    """pid, parent, group and session up to pid 1, for a failure message."""
    steps = []
    try:
        while pid > 0 and len(steps) < 12:
            _, ppid, group, session = stat_fields(pid)
            with open(f"/proc/{pid}/comm") as handle:
                comm = handle.read().strip()
            steps.append(f"{pid} {comm} pgrp {group} sid {session}")
            pid = ppid
    except (OSError, ValueError, IndexError):
        steps.append(f"{pid} gone")
    return " <- ".join(steps)


def part_fork_down(ctx, part):
    daemon = ctx.daemon("fork_down")
    if not part.start(daemon):
        return
    parent = ctx.agent("tkdur_b", daemon, job=True)
    pdir = daemon.path(parent.pid)
    doc = read_doc(pdir)
    x = new_id(txn(pdir + "/restrict",
                   f"deny={group_index(doc, EVERYONE)} "
                   f"restrict=WD,S-1-22-1-{uid_of('tkdur_b')} "
                   "drop-privs=SeShutdown,SeTimeZone"), "restrict")
    steps = [("install", f"id:{x}"), ("integrity", "low"),
             ("privs", "SeChangeNotify=disabled")]
    results = [txn(f"{pdir}/{name}", text) for name, text in steps]
    part.ok(all(code == 0 for code, _ in results),
            "root installs a restricted copy into tkdur_b's process, lowers "
            "it to Low and disables SeChangeNotify",
            str([r for r in results if r[0]]))
    before = read_doc(pdir)
    parent_norm = normalize(before)

    status = daemon.stop(signal.SIGKILL)
    answer = parent.call("fork")
    child, grandchild = answer["child"], answer["grandchild"]
    ctx.tracker.pid(child)
    ctx.tracker.pid(grandchild)
    part.ok(status == -signal.SIGKILL and child and grandchild,
            "while the daemon is down the process forks a child, which forks "
            "a grandchild")
    orphan = parent.call("fork", orphan=True)["grandchild"]
    ctx.tracker.pid(orphan)
    part.ok(stat_fields(orphan)[1] != parent.pid,
            "... and forks twice more, the middle process ending: the "
            "grandchild's parent is now pid 1 (or a subreaper)",
            lineage(orphan))
    # Once more with this test as the subreaper: the orphan's new parent
    # shares its session (as pid 1 does where it never called setsid and
    # everything runs in session 0), so only its process group shows where
    # it came from.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        reaped = parent.call("fork", orphan=True)["grandchild"]
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    ctx.tracker.pid(reaped)
    part.ok(stat_fields(reaped)[1] == os.getpid(),
            "... and twice more with this test as the subreaper, in the "
            "grandchild's own session", lineage(reaped))
    if not part.restart_only(daemon):
        return
    compare_doc(part, "the parent's token is restored unchanged", before,
                pdir)
    for name, pid in (("child", child), ("grandchild", grandchild),
                      ("orphaned grandchild", orphan),
                      ("grandchild orphaned to a subreaper", reaped)):
        try:
            norm = normalize(read_doc(daemon.path(pid)))
        except OSError as error:
            part.ok(False, f"the {name}'s token can be read", str(error))
            continue
        part.ok(not wider(norm, parent_norm),
                f"the {name} forked while down is not wider than the parent",
                "; ".join(wider(norm, parent_norm)) + " (" + lineage(pid) +
                ")")
        part.ok(norm["restricted"] and norm["integrity"] <= 0x1000 and
                not norm["privs"].get("SeChangeNotify"),
                "... it is restricted, Low, SeChangeNotify disabled",
                f"restricted {norm['restricted']}, integrity "
                f"{norm['integrity']}, privs {norm['privs']}")
        part.ok(norm["token_id"] != parent_norm["token_id"],
                "... with a token of its own (a copy, as at fork)")
    daemon.stop(signal.SIGTERM)


# --- Part 10: credentials narrowed while down -----------------------------

def part_narrow_down(ctx, part):
    daemon = ctx.daemon("narrow_down")
    if not part.start(daemon):
        return
    agents = {how: ctx.agent(user, daemon)
              for how, user in (("nnp", "tkdur_a"), ("userns", "tkdur_b"))}
    before = {}
    for how, agent in agents.items():
        pdir = daemon.path(agent.pid)
        doc = read_doc(pdir)
        user = "tkdur_a" if how == "nnp" else "tkdur_b"
        x = new_id(txn(pdir + "/restrict",
                       f"deny={group_index(doc, EVERYONE)} "
                       f"restrict=WD,S-1-22-1-{uid_of(user)} "
                       "drop-privs=SeShutdown"), "restrict")
        results = [txn(f"{pdir}/{name}", text) for name, text in
                   (("install", f"id:{x}"), ("integrity", "low"),
                    ("privs", "SeChangeNotify=disabled"))]
        part.ok(all(code == 0 for code, _ in results),
                f"root installs a restricted, Low copy into {user}'s process",
                str([r for r in results if r[0]]))
        before[how] = normalize(read_doc(pdir))

    status = daemon.stop(signal.SIGKILL)
    part.ok(status == -signal.SIGKILL, "the daemon is killed")
    for how, agent in agents.items():
        answer = agent.call("narrow", how=how)
        part.equal(f"while it is down, a process narrows its credentials "
                   f"({how})", 0, answer["errno"])
    if not part.restart_only(daemon):
        return
    for how, agent in agents.items():
        try:
            norm = normalize(read_doc(daemon.path(agent.pid)))
        except OSError as error:
            part.ok(False, f"the {how} process's token can be read",
                    str(error))
            continue
        part.ok(not wider(norm, before[how]),
                f"the {how} process's token is not wider than before",
                "; ".join(wider(norm, before[how])))
        part.ok(norm["restricted"] and norm["integrity"] <= 0x1000 and
                "SeShutdown" not in norm["privs"] and
                not norm["privs"].get("SeChangeNotify"),
                "... it is still restricted, Low, without SeShutdown, with "
                "SeChangeNotify disabled",
                f"restricted {norm['restricted']}, integrity "
                f"{norm['integrity']}, privs {norm['privs']}")
    policy = normalize(read_doc(daemon.path(agents["nnp"].pid)))["policy"]
    part.ok(any("new" in flag.lower() for flag in policy),
            "... and no_new_privs added NEW_PROCESS_MIN", str(sorted(policy)))
    log = daemon.last_log()
    part.ok("2 tokens narrowed" in log, "the start-up log reports the two "
            "narrowed tokens", short(log, 400))
    daemon.stop(signal.SIGTERM)


# --- Part 7: a store from another boot ---------------------------------------

def stored_boot_id(database):
    """meta.boot_id of a store (read only; None when there is none)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT value FROM meta WHERE key = 'boot_id'").fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    return row[0].decode() if isinstance(row[0], bytes) else row[0]


def without_logon(norm):
    """The token with its logon SID group left out: a token minted afresh
    for a process in no audit session gets a new logon session."""
    return dict(norm, groups={sid: attributes for sid, attributes in
                              norm["groups"].items()
                              if "logon-id" not in attributes})


def part_boot_id(ctx, part):
    if NO_STATE:
        part.skipped = "needs the store (state.db)"
        return
    daemon = ctx.daemon("boot_id")
    if not part.start(daemon):
        return
    q = ctx.agent("tkdur_c", daemon)
    qdir = daemon.path(q.pid)
    fresh_doc = read_doc(qdir)
    results = [txn(qdir + "/privs",
                   "SeChangeNotify=disabled SeShutdown=removed"),
               txn(qdir + "/integrity", "low")]
    part.ok(all(c == 0 for c, _ in results),
            "root adjusts tkdur_c's token (SeChangeNotify disabled, "
            "SeShutdown removed, Low)", str(results))
    adjusted = read_doc(qdir)
    kept = new_id(txn(daemon.path(os.getpid(), "duplicate"),
                      "type=primary persist"), "duplicate")
    docs = [fresh_doc, adjusted, read_doc(daemon.path("objects", kept)),
            read_doc(daemon.path(os.getpid()))]
    seen = seen_ids(docs) | {kept}
    ceiling = id_ceiling(docs, [kept])
    part.equal("the daemon exits 0 on SIGTERM", 0,
               daemon.stop(signal.SIGTERM))
    database = os.path.join(daemon.state, "state.db")
    with open("/proc/sys/kernel/random/boot_id") as handle:
        boot_id = handle.read().strip()
    if not part.ok(os.path.isfile(database), f"{database} exists"):
        return
    try:
        part.equal("state.db's meta table records this boot's id", boot_id,
                   stored_boot_id(database))
        connection = sqlite3.connect(database)
        changed = connection.execute(
            "UPDATE meta SET value = ? WHERE key = 'boot_id'",
            ("00000000-0000-4000-8000-00000000cafe",)).rowcount
        connection.commit()
        connection.close()
    except sqlite3.Error as error:
        changed = str(error)
    if not part.equal("the boot id in state.db is changed to another boot's",
                      1, changed):
        return
    if not part.restart_only(daemon,
                             what="the daemon starts on a store of another "
                                  "boot"):
        return
    now = normalize(read_doc(qdir))
    minted = normalize(fresh_doc)
    differs = norm_diff(without_logon(minted), without_logon(now),
                        ("user", "groups", "privs", "integrity", "restricted",
                         "caps", "policy"))
    part.ok(not differs, "tkdur_c's token is freshly minted: the adjustments "
            "of the other boot are gone", "; ".join(differs))
    part.ok(not os.path.exists(daemon.path("objects", kept)),
            "a persistent object of the other boot is not restored")
    number = new_id(txn(daemon.path(os.getpid(), "duplicate"),
                        "type=primary"), "duplicate")
    check_fresh_ids(part, "after a store of another boot",
                    {"tkdur_c's new token id": now["token_id"],
                     "root's new duplicate": number}, seen, ceiling)
    daemon.stop(signal.SIGTERM)
    try:
        value = stored_boot_id(database)
    except sqlite3.Error as error:
        value = str(error)
    part.equal("the store records this boot again", boot_id, value)


# --- Part 8: dead processes --------------------------------------------------

# SYS_exit (one thread), where known.
SYS_EXIT = {"x86_64": 60, "aarch64": 93, "riscv64": 93, "i686": 1,
            "ppc64le": 1, "s390x": 1}.get(os.uname().machine)


def daemon_registry(daemon):
    with open(daemon.path("registry")) as handle:
        return dict(line.split("  ", 1) for line in handle.read().splitlines())


def part_dead(ctx, part):
    daemon = ctx.daemon("dead")
    if not part.start(daemon):
        return
    m = daemon.mnt
    # With process events live the registry follows every process whose
    # parent forks after the daemon started, so other tests running beside
    # this one move its count too: the check below compares the registry's
    # count less the host's, once that difference holds still. Children a
    # process forked before the daemon started are never followed, so the
    # difference settles only once they have ended: wait 1.5 s, then for
    # two samples 0.5 s apart that agree.
    def offset():
        registry = int(daemon_registry(daemon).get("processes", 0))
        return registry - host_process_count()

    time.sleep(1.5)
    samples = [offset()]

    def steady():
        time.sleep(0.5)
        samples.append(offset())
        return abs(samples[-1] - samples[-2]) < 10

    wait_until(steady, 5)
    offset_before = samples[-1]
    # Three kinds of children, 100 in all: 40 look up their own token and
    # exit at once; 30 look it up from their main thread, which then ends
    # before the process does (the kernel reports the leader's exit first);
    # 30 have their privs file opened by the parent, then exit.
    exit_at_once, leader_first, held = 40, 30, 30
    lookups = exit_at_once + leader_first
    if SYS_EXIT is None:
        print(f"  note: no exit syscall number for {os.uname().machine}; "
              "the children ending their main thread first are skipped")
        exit_at_once, leader_first = lookups, 0
    children = []  # (pid, go write end or None)
    reports_r, reports_w = os.pipe()
    for index in range(lookups + held):
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(go_w)
                if index >= lookups:
                    os.read(go_r, 1)
                    os._exit(0)
                if index >= exit_at_once:
                    ended = threading.Event()

                    def last_thread():
                        ended.wait()
                        time.sleep(0.02)
                        os._exit(0)

                    threading.Thread(target=last_thread).start()
                ok = b"0"
                try:
                    path = (f"{m}/self/stats" if index % 2 else
                            f"{m}/{os.getpid()}/stats")
                    with open(path) as handle:
                        if handle.read().startswith("token_id"):
                            ok = b"1"
                finally:
                    os.write(reports_w, ok)
                if index >= exit_at_once:
                    ended.set()
                    # The main thread alone (SYS_exit, not exit_group).
                    ctypes.CDLL(None).syscall(SYS_EXIT, 0)
            finally:
                os._exit(0)
        os.close(go_r)
        children.append((pid, go_w))
    os.close(reports_w)
    reports = b""
    deadline = time.monotonic() + 10
    while len(reports) < lookups and time.monotonic() < deadline:
        ready, _, _ = select.select([reports_r], [], [], 0.5)
        if ready:
            chunk = os.read(reports_r, 256)
            if not chunk:
                break
            reports += chunk
    os.close(reports_r)
    part.equal(f"{lookups} children looked up their own token just before "
               f"they ended ({leader_first} ending their main thread first)",
               b"1" * lookups, reports)
    fds = []
    open_errors = []
    for pid, _ in children[lookups:]:
        try:
            fds.append((pid, os.open(f"{m}/{pid}/privs", os.O_WRONLY)))
        except OSError as error:
            open_errors.append(f"{pid}: {error}")
    part.ok(not open_errors, f"root opened the privs file of {held} more "
            "children", "; ".join(open_errors[:3]))
    for _, go_w in children:
        os.close(go_w)
    for pid, _ in children:
        os.waitpid(pid, 0)
    reaped = time.monotonic()
    pids = [pid for pid, _ in children]

    def dead(pid):
        return not os.path.exists(f"/proc/{pid}")  # else the pid was reused

    def listed():
        names = set(os.listdir(m))
        return [pid for pid in pids if str(pid) in names and dead(pid)]

    def resolving():
        found = []
        for pid in pids:
            try:
                os.stat(f"{m}/{pid}")
            except OSError:
                continue
            if dead(pid):
                found.append(pid)
        return found

    def kinds(group):
        counts = {}
        for pid in group:
            index = pids.index(pid)
            kind = ("exited at once" if index < exit_at_once else
                    "main thread ended first" if index < lookups else
                    "descriptor held by the parent")
            counts[kind] = counts.get(kind, 0) + 1
        return ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"

    # The listing (readdir, never cached by the kernel) is polled. Lookups
    # are tried once, 1 s after the reaping: by then every dentry the kernel
    # cached from a lookup before the reaping has expired (the daemon's
    # entry timeout is 1 s), so each stat asks the daemon. Polling stat
    # earlier would itself re-cache an entry the daemon still had.
    limit = 1.05  # 1 s and the polling period
    unlisted_at = None
    while unlisted_at is None and time.monotonic() - reaped <= limit:
        if not listed():
            unlisted_at = time.monotonic() - reaped
        else:
            time.sleep(0.05)
    time.sleep(max(0.0, reaped + limit - time.monotonic()))
    found = resolving()
    still_listed = listed()
    part.ok(unlisted_at is not None,
            f"all {len(pids)} reaped children leave the root listing within "
            "1 s", f"after {limit} s still listed: {kinds(still_listed)} "
            f"(e.g. pids {still_listed[:4]})" if unlisted_at is None else
            f"gone after {unlisted_at:.2f} s")
    if found:
        # How long they last (the later stats may re-cache: diagnosis only).
        wait_until(lambda: not resolving(), 2)
        after = resolving()
        late = (f"; {len(after)} still resolve 3 s after" if after else
                "; all fail by 3 s")
    part.ok(not found, f"1 s after the reaping, lookups of all {len(pids)} "
            "fail", f"lookups still succeed: {kinds(found)} (e.g. pids "
            f"{found[:4]}){late}" if found else "")
    outcomes = {}
    for pid, fd in fds:
        try:
            os.write(fd, b"SeShutdown=disabled")
            outcome = "succeeded"
        except OSError as error:
            outcome = errno.errorcode.get(error.errno, str(error.errno))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        try:
            os.close(fd)
        except OSError:
            pass
    part.equal(f"writes through the {len(fds)} descriptors opened on dead "
               "children fail with ESRCH", {"ESRCH": len(fds)}, outcomes)
    # Other processes come and go meanwhile (exits reach the daemon a little
    # after /proc shows them): allow some noise and give the count 2 s to
    # settle.
    counts = {}

    def registry_settled():
        counts["offset"] = offset()
        return counts["offset"] - offset_before < 15

    settled = wait_until(registry_settled, 2)
    part.ok(settled, "the registry drops the dead children's entries",
            f"registry processes less host processes: {offset_before} "
            f"before, {counts['offset']} after {len(pids)} children were "
            f"reaped (start-up samples {samples}); daemon: " +
            ", ".join(f"{k} {v}" for k, v in daemon_registry(daemon).items()
                      if k in ("events", "event_overflows", "sweeps")))
    daemon.stop(signal.SIGTERM)


# --- Part 9: refused stores and --discard-state ------------------------------

def one_line_refusal(part, what, daemon, status, output):
    lines = output.strip().splitlines()
    part.ok(status is not None and status != 0 and len(lines) == 1 and
            lines[0].startswith("tokenfs: ") and "state.db" in lines[0] and
            not mounted(daemon.mnt),
            f"{what}: the daemon exits non-zero with one line naming "
            "state.db and mounts nothing",
            f"status {status}, mounted {mounted(daemon.mnt)}, output "
            f"{output.strip()[:400]!r}")
    if status not in (None, 0) and status != 1:
        print(f"  note: exit status {status} (tokenfs(8) says 1)")


def part_discard(ctx, part):
    if NO_STATE:
        part.skipped = "needs --state and --discard-state"
        return
    # A file that is not SQLite at all.
    garbage = ctx.daemon("corrupt")
    os.makedirs(garbage.state, mode=0o700)
    database = os.path.join(garbage.state, "state.db")
    with open(database, "wb") as handle:
        handle.write(b"this is not a tokenfs store\n" * 300)
    status, output = garbage.run_to_exit()
    one_line_refusal(part, "a corrupt state.db", garbage, status, output)
    if part.start(garbage, "--discard-state",
                  what="with --discard-state it starts on the corrupt store"):
        part.ok(registry_answers(garbage.mnt), "... and serves the tree")
        garbage.stop(signal.SIGTERM)
        part.start(garbage, what="after that it starts again without "
                   "--discard-state (the store was rebuilt)")
        garbage.stop(signal.SIGTERM)

    # An SQLite database that is not a tokenfs store.
    foreign = ctx.daemon("foreign")
    os.makedirs(foreign.state, mode=0o700)
    connection = sqlite3.connect(os.path.join(foreign.state, "state.db"))
    connection.execute("CREATE TABLE unrelated (x TEXT)")
    connection.execute("INSERT INTO unrelated VALUES ('hello')")
    connection.commit()
    connection.close()
    status, output = foreign.run_to_exit()
    one_line_refusal(part, "an SQLite file that is not a tokenfs store",
                     foreign, status, output)

    # A valid store: refused by a second daemon, versioned, discarded.
    daemon = ctx.daemon("discard")
    if not part.start(daemon):
        return
    second = ctx.daemon("second")
    status, output = second.run_to_exit("--state", daemon.state, state=False)
    lines = output.strip().splitlines()
    part.ok(status not in (None, 0) and len(lines) == 1 and
            not mounted(second.mnt),
            "a second daemon on the same state directory is refused with "
            "one line", f"status {status}, output {output.strip()[:300]!r}")
    part.ok(registry_answers(daemon.mnt), "... and the first still serves")
    agent = ctx.agent("tkdur_a", daemon)
    adir = daemon.path(agent.pid)
    code, _ = txn(adir + "/privs", "SeChangeNotify=disabled")
    part.equal("root disables SeChangeNotify on tkdur_a's token", 0, code)
    kept = new_id(txn(daemon.path(os.getpid(), "duplicate"),
                      "type=primary persist"), "duplicate")
    docs = [read_doc(adir), read_doc(daemon.path("objects", kept))]
    seen = seen_ids(docs) | {kept}
    ceiling = id_ceiling(docs, [kept])
    part.equal("the daemon exits 0 on SIGTERM", 0,
               daemon.stop(signal.SIGTERM))

    # A store written by a newer version, when the schema version can be
    # found (meta key version or schema_version, else PRAGMA user_version).
    newer = ctx.daemon("newer")
    shutil.copytree(daemon.state, newer.state)
    try:
        connection = sqlite3.connect(os.path.join(newer.state, "state.db"))
        keys = [row[0] for row in connection.execute("SELECT key FROM meta")]
        versions = [k for k in keys if re.fullmatch(
            r"(schema_?|format_?|store_?)?version", str(k).lower())]
        user_version = connection.execute("PRAGMA user_version").fetchone()[0]
        if versions:
            connection.execute("UPDATE meta SET value = ? WHERE key = ?",
                               (999999, versions[0]))
            how = f"meta {versions[0]} = 999999"
        elif user_version:
            connection.execute(f"PRAGMA user_version = {user_version + 1000}")
            how = f"user_version {user_version + 1000}"
        else:
            how = None
        connection.commit()
        connection.close()
    except sqlite3.Error as error:
        how = None
        part.ok(False, "the store is an SQLite database with a meta table",
                str(error))
    if how:
        status, output = newer.run_to_exit()
        one_line_refusal(part, f"a store from a newer version ({how})", newer,
                         status, output)
    else:
        print("  note: no schema version found in meta or user_version; "
              "the newer-store check was skipped")

    if not part.start(daemon, "--discard-state",
                      what="with --discard-state it starts on a valid store"):
        return
    norm = normalize(read_doc(adir))
    part.ok(norm["privs"].get("SeChangeNotify") is True,
            "tkdur_a's adjustment is forgotten (freshly minted)",
            str(norm["privs"]))
    part.ok(not os.path.exists(daemon.path("objects", kept)),
            "the persistent object is forgotten")
    number = new_id(txn(daemon.path(os.getpid(), "duplicate"),
                        "type=primary"), "duplicate")
    check_fresh_ids(part, "after --discard-state",
                    {"tkdur_a's new token id": norm["token_id"],
                     "root's new duplicate": number}, seen, ceiling)
    daemon.stop(signal.SIGTERM)


# --- Part 11: a store whose files were lost or swapped ----------------------

def part_lost_log(ctx, part):
    if NO_STATE:
        part.skipped = "needs the store (state.db)"
        return
    daemon = ctx.daemon("lost_log")
    if not part.start(daemon):
        return
    agent = ctx.agent("tkdur_a", daemon)
    adir = daemon.path(agent.pid)
    results = [txn(adir + "/privs", "SeChangeNotify=disabled SeShutdown=removed"),
               txn(adir + "/integrity", "low")]
    part.ok(all(code == 0 for code, _ in results),
            "root narrows tkdur_a's token (privileges, Low)", str(results))
    # A SACL the integrity label would push past an ACL's 65535 bytes
    # (3276 audit ACEs of 20 bytes and the header: 65528 bytes) could not be
    # recorded exactly, and the store would not load again: refused.
    code, text = txn(adir + "/security", "S:" + "(AU;SA;GA;;;WD)" * 3276)
    part.ok(code == errno.EINVAL and "65535" in text,
            "a SACL with no room left for the integrity label is refused "
            "(EINVAL)", f"{code}: {text.strip()[:200]}")
    kept = new_id(txn(daemon.path(os.getpid(), "duplicate"),
                      "type=primary persist"), "duplicate")
    docs = [read_doc(adir), read_doc(daemon.path("objects", kept))]
    seen = seen_ids(docs) | {kept}
    ceiling = id_ceiling(docs, [kept])
    part.ok(daemon.stop(signal.SIGKILL) == -signal.SIGKILL,
            "the daemon is killed (its last commits are in the write-ahead "
            "log)")
    part.ok(os.path.getsize(os.path.join(daemon.state, "state.db-wal")) > 0,
            "... which holds frames")

    def copy(name, damage):
        other = ctx.daemon(name)
        shutil.copytree(daemon.state, other.state)
        damage(other.state)
        return other

    def remove_log(state):
        os.unlink(os.path.join(state, "state.db-wal"))

    def truncate_database(state):
        os.truncate(os.path.join(state, "state.db"), 0)
        os.unlink(os.path.join(state, "state.db-wal"))

    def link_database(state):
        os.unlink(os.path.join(state, "state.db"))
        os.symlink(os.path.join(daemon.state, "state.db"),
                   os.path.join(state, "state.db"))

    cases = (("wal_gone", "a store whose write-ahead log was removed",
              remove_log),
             ("truncated", "a store truncated to nothing", truncate_database),
             ("symlinked", "a state.db that is a symbolic link to another "
              "daemon's", link_database))
    damaged = {}
    for name, what, damage in cases:
        other = copy(name, damage)
        damaged[name] = other
        status, output = other.run_to_exit()
        one_line_refusal(part, what, other, status, output)

    # The intact store restores everything.
    if part.restart_only(daemon, what="the undamaged store still restores"):
        norm = normalize(read_doc(adir))
        part.ok(norm["integrity"] <= 0x1000 and
                "SeShutdown" not in norm["privs"],
                "... tkdur_a's narrowed token", str(norm["privs"]))
        daemon.stop(signal.SIGTERM)

    # --discard-state on the store that lost its log: empty, ids still new.
    other = damaged["wal_gone"]
    if part.start(other, "--discard-state",
                  what="--discard-state starts on the store that lost its "
                  "log"):
        number = new_id(txn(other.path(os.getpid(), "duplicate"),
                            "type=primary"), "duplicate")
        check_fresh_ids(part, "after the log was lost",
                        {"root's new duplicate": number}, seen, ceiling)
        other.stop(signal.SIGTERM)


# --- Main --------------------------------------------------------------------

PARTS = [("wider", part_wider), ("kill9", part_kill9),
         ("sigterm", part_sigterm), ("installed", part_installed),
         ("objects", part_objects), ("fork_down", part_fork_down),
         ("boot_id", part_boot_id), ("dead", part_dead),
         ("discard", part_discard), ("narrow_down", part_narrow_down),
         ("lost_log", part_lost_log)]


def add_users():
    for name, groups in USERS.items():
        subprocess.run(["userdel", name], capture_output=True)
        command = ["useradd", "-M", "-s", "/bin/bash"]
        if groups:
            command += ["-G", ",".join(groups)]
        subprocess.run(command + [name], check=True, capture_output=True)


def remove_users():
    for name in USERS:
        subprocess.run(["userdel", name], capture_output=True)


def select_parts(names):
    if not names:
        return list(enumerate(PARTS, 1))
    chosen = []
    for name in names:
        for number, (part_name, function) in enumerate(PARTS, 1):
            if name in (part_name, str(number)):
                chosen.append((number, (part_name, function)))
                break
        else:
            print(f"unknown part {name!r}; parts: " +
                  " ".join(f"{n}:{p}" for n, (p, _) in
                           enumerate(PARTS, 1)))
            sys.exit(2)
    return chosen


# A part that hangs (a daemon that stops answering leaves its callers in an
# uninterruptible FUSE wait) has its daemons killed after PART_SECONDS, which
# fails the waits; parts are not started after TOTAL_SECONDS, so the whole
# run stays inside the ctest timeout and always cleans up.
PART_SECONDS = 45
TOTAL_SECONDS = 120


def run_part(ctx, number, name, function):
    part = Part(number, name)
    print(f"# part {number} {name}")
    started = time.monotonic()

    def overdue():
        part.timed_out = True
        for daemon in list(ctx.daemons):
            if daemon.process and daemon.process.poll() is None:
                daemon.process.kill()

    part.timed_out = False
    watchdog = threading.Timer(PART_SECONDS, overdue)
    watchdog.daemon = True
    watchdog.start()
    try:
        function(ctx, part)
    except Exception as error:  # noqa: BLE001 - report it, run the next part
        part.failures.append(f"exception: {error!r}")
        print(f"  FAIL - exception: {error!r}")
        traceback.print_exc(file=sys.stdout)
    finally:
        watchdog.cancel()
        ctx.tracker.cleanup()
        for daemon in ctx.daemons:
            daemon.cleanup()
        part.seconds = time.monotonic() - started
    if part.timed_out:
        part.failures.insert(0, f"the part ran longer than {PART_SECONDS} s "
                             "(a daemon stopped answering?); its daemons were "
                             "killed")
    if part.failures and not part.skipped:
        for daemon in ctx.daemons:
            print(f"  daemon log ({os.path.basename(daemon.dir)}, last 3000 "
                  "bytes):")
            print(textwrap_indent(daemon.all_logs()[-3000:]))
    ctx.finished_daemons += ctx.daemons
    ctx.daemons = []
    return part


def summary(results, interrupted):
    print("# summary")
    failed = 0
    for part in results:
        if part.skipped:
            print(f"SKIP {part.number} {part.name}: {part.skipped}")
        elif part.failures:
            failed += 1
            print(f"FAIL {part.number} {part.name} ({len(part.failures)} of "
                  f"{part.checks} checks, {part.seconds:.1f} s): "
                  f"{part.failures[0]}")
        else:
            print(f"PASS {part.number} {part.name} ({part.checks} checks, "
                  f"{part.seconds:.1f} s)")
    if interrupted:
        print(f"FAIL: {interrupted}")
    return 1 if failed or interrupted else 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tokenfs = sys.argv[1]
    token = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    chosen = select_parts(sys.argv[4:])
    require_root("the durability test needs root (allow_other, useradd)")
    if shutil.which("setpriv") is None:
        print("SKIP: setpriv is missing")
        return 77

    def interrupted_by(number, _frame):
        raise SystemExit(f"interrupted by signal {number}")

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, interrupted_by)
    if NO_STATE:
        print("smoke mode (TOKENFS_DURABILITY_NO_STATE=1): no --state")
    ctx = Context(tokenfs, token)
    had_sudo = True
    results = []
    interrupted = None
    began = time.monotonic()
    try:
        try:
            grp.getgrnam("sudo")
        except KeyError:
            had_sudo = False
            subprocess.run(["groupadd", "sudo"], check=True)
        add_users()
        for number, (name, function) in chosen:
            if time.monotonic() - began > TOTAL_SECONDS:
                interrupted = (f"out of time after {TOTAL_SECONDS} s: parts "
                               f"from {number} {name} on were not run")
                break
            results.append(run_part(ctx, number, name, function))
    except SystemExit as exit_request:
        interrupted = str(exit_request)
    finally:
        ctx.tracker.cleanup()
        for daemon in ctx.daemons:
            daemon.cleanup()
        remove_users()
        if not had_sudo:
            subprocess.run(["groupdel", "sudo"], capture_output=True)
        ctx.agent_log.close()
        if not any(mounted(d.mnt) for d in ctx.daemons + ctx.finished_daemons):
            shutil.rmtree(ctx.work, ignore_errors=True)
    return summary(results, interrupted)


def textwrap_indent(text):
    return "\n".join("    " + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
