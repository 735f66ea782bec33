#!/usr/bin/env python3
"""Adversarial suite: real Linux users attack a tokenfs daemon.

Every attempt has a category, a short description, the verdict it should
get ("denied" or "allowed") and a judge: an errno, the content returned, or
a follow-up read (as root) showing whether the state changed. What counts is
what the attacker gains: a write that "succeeds" but changes nothing is
still denied, a write that fails with an error but changed the token is not.
Each attempt prints one line,

    ok | UNAUTHORIZED | WRONGLY REFUSED  [category]  description  (detail)

and the run ends with a summary: `attempts N`, `unauthorized successes N`,
`wrongly refused N`, `setup errors N`, then counts per category and per
finding. The exit status is 1 when any of the three is non-zero, 77 when the
suite cannot run here (not root, no /dev/fuse, no setpriv/unshare/useradd).

Regression attempts for the reported findings carry "finding N" in their
description (see tests/attack/README.md for the list).

Setup: users tkatk_a, tkatk_b (ordinary) and tkatk_adm (in the sudo group)
and a group tkatk_g are created with useradd/groupadd and removed again on
every exit path. User code runs in "agents": /usr/bin/python3 processes
started as the user with setpriv (or inside `unshare -U -r`), which execute
snippets the driver sends them over a pipe, so one process can keep sockets,
descriptors and impersonation state between steps. The pid-reuse attempts
run in a second phase inside `unshare --pid --fork --mount-proc`, with a
daemon of their own, where pids can be steered through ns_last_pid.

Usage (as root):
    attack.py TOKENFS_BINARY TOKEN_CLI_BINARY REUSE_HELPER [CATEGORY...]
REUSE_HELPER is tests/attack/reuse_helper.cc built (CMake target
tokenfs_attack_reuse); CATEGORY names limit the run to those categories
(pid-reuse and peer also run the pid-namespace phase).
"""

import contextlib
import errno
import grp
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tokenfs_daemon  # noqa: E402
from tokenfs_daemon import Mount  # noqa: E402

# A Python the test users can run (root's may live under /root).
USER_PY = next((path for path in ("/usr/bin/python3", "/bin/python3")
                if os.access(path, os.X_OK)), sys.executable)

USER_A = "tkatk_a"
USER_B = "tkatk_b"
USER_ADM = "tkatk_adm"
GROUP_G = "tkatk_g"
ALL_USERS = (USER_A, USER_B, USER_ADM)
QUOTA = 40                   # token objects per user for the daemon
RSS_LIMIT_KIB = 64 * 1024    # finding 9: the daemon stays under 64 MiB
MEMORY_SECONDS = 10          # finding 9: how long one user hammers
REUSE_CYCLES = 20            # finding 8: steer-a-pid cycles
FLOOD_SECONDS = 20.0         # finding 7: the longest user A floods the log

# Every file of a token directory (man tokenfs.5).
TOKEN_FILES = ("user", "owner", "group", "groups", "privs", "caps", "claims",
               "integrity", "logon", "source", "origin", "stats", "type",
               "level", "elevation", "session", "restricted", "default-dacl",
               "security", "all")
QUERY_SAMPLE = ("all", "user", "groups", "privileges", "statistics",
                "integrity", "defaultdacl", "logonsid")
# The privilege catalog (core/privilege.cc), short names.
CATALOG = ("SeCreateToken", "SeAssignPrimaryToken", "SeLockMemory",
           "SeIncreaseQuota", "SeMachineAccount", "SeTcb", "SeSecurity",
           "SeTakeOwnership", "SeLoadDriver", "SeSystemProfile",
           "SeSystemtime", "SeProfileSingleProcess", "SeIncreaseBasePriority",
           "SeCreatePagefile", "SeCreatePermanent", "SeBackup", "SeRestore",
           "SeShutdown", "SeDebug", "SeAudit", "SeSystemEnvironment",
           "SeChangeNotify", "SeRemoteShutdown", "SeUndock", "SeSyncAgent",
           "SeEnableDelegation", "SeManageVolume", "SeImpersonate",
           "SeCreateGlobal", "SeTrustedCredManAccess", "SeRelabel",
           "SeIncreaseWorkingSet", "SeTimeZone", "SeCreateSymbolicLink",
           "SeCreateJob", "SeBindPrivilegedPort")
PRIV_BIT = {"SeCreateToken": 2, "SeAssignPrimaryToken": 3, "SeTcb": 7,
            "SeDebug": 20, "SeChangeNotify": 23}
# Privileges a user namespace must never hand out (finding 1).
USERNS_PRIVS = ("SeTcb", "SeDebug", "SeAssignPrimaryToken", "SeImpersonate",
                "SeBackup", "SeRestore", "SeTakeOwnership", "SeLoadDriver",
                "SeSecurity", "SeRelabel", "SeSystemtime", "SeIncreaseQuota",
                "SeCreateToken", "SeLockMemory", "SeManageVolume")

# Code shared by the driver (root) and the agents (users).
HELPERS = r'''
import contextlib, errno, json, os, select, signal, socket, struct, subprocess, sys
import threading, time


def ename(error):
    if isinstance(error, OSError) and error.errno:
        return errno.errorcode.get(error.errno, str(error.errno))
    return type(error).__name__


def rd(path):
    """["ok", text] or [ERRNO, message]."""
    try:
        with open(path, "rb") as file:
            return ["ok", file.read().decode("utf-8", "replace")]
    except OSError as error:
        return [ename(error), str(error)]


def wr(path, data, flags=os.O_WRONLY):
    """One open, one write(2): ["ok", ""] or [ERRNO, message]."""
    if isinstance(data, str):
        data = data.encode()
    try:
        fd = os.open(path, flags)
    except OSError as error:
        return [ename(error), "open: " + str(error)]
    try:
        os.write(fd, data)
        return ["ok", ""]
    except OSError as error:
        return [ename(error), str(error)]
    finally:
        os.close(fd)


def wfd(fd, data):
    if isinstance(data, str):
        data = data.encode()
    try:
        os.write(fd, data)
        return ["ok", ""]
    except OSError as error:
        return [ename(error), str(error)]


def txn(path, data):
    """A transaction: open O_RDWR, write once, read the answer back."""
    if isinstance(data, str):
        data = data.encode()
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as error:
        return [ename(error), "open: " + str(error)]
    try:
        try:
            os.write(fd, data)
            status = "ok"
        except OSError as error:
            status = ename(error)
        try:
            back = os.read(fd, 65536).decode("utf-8", "replace")
        except OSError as error:
            back = "read back: " + str(error)
        return [status, back]
    finally:
        os.close(fd)


def rl(path):
    try:
        return ["ok", os.readlink(path)]
    except OSError as error:
        return [ename(error), str(error)]


def ls(path):
    try:
        return ["ok", sorted(os.listdir(path))]
    except OSError as error:
        return [ename(error), str(error)]


def field(text, key):
    for line in (text or "").splitlines():
        name, _, value = line.partition("  ")
        if name == key:
            return value
    return None


def new_id(text):
    value = field(text, "id")
    return int(value) if value and value.isdigit() else None


def run(command, timeout=30, **kwargs):
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    return [done.returncode, done.stdout, done.stderr]


def tid():
    return threading.get_native_id()


def proc_ids(pid):
    """(uids, gids) of a process from /proc/PID/status, or None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            lines = dict(line.split(":", 1) for line in status
                         if ":" in line)
        return (lines["Uid"].split(), lines["Gid"].split())
    except (OSError, KeyError):
        return None


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
'''

# An agent: runs snippets sent as JSON lines on stdin in one namespace and
# answers each with one JSON line ({"ok": true, "R": value}) on a private
# copy of its stdout; its fd 1 goes to stderr so children cannot corrupt
# the protocol.
AGENT_MAIN = r'''
M = sys.argv[1]
os.environ["TOKENFS_ROOT"] = M
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
for _line in sys.stdin:
    _request = json.loads(_line)
    globals().update(_request.get("vars", {}))
    R = None
    try:
        exec(_request["code"], globals())
        _answer = {"ok": True, "R": R}
    except BaseException as _error:
        _answer = {"ok": False, "error": f"{type(_error).__name__}: {_error}"}
    try:
        _text = json.dumps(_answer)
    except (TypeError, ValueError):
        _text = json.dumps({"ok": True, "R": repr(R)})
    _out.write(_text + "\n")
    _out.flush()
'''

exec(HELPERS)  # the same helpers for the root side


class SetupError(Exception):
    pass


def tail(text, limit=160):
    if (isinstance(text, (list, tuple)) and len(text) == 2 and
            isinstance(text[0], str) and isinstance(text[1], str)):
        text = f"{text[0]}: {text[1]}" if text[1] else text[0]
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------
# Bookkeeping


class Suite:
    """Counts attempts and turns each into one line."""

    def __init__(self, emit_json=False):
        self.results = []
        self.errors = []
        self.emit_json = emit_json

    def expect(self, category, description, expected, gained, detail=""):
        """`gained` is True when the attacker (or the legitimate caller) got
        what the attempt asked for."""
        outcome = "allowed" if gained else "denied"
        self.record(category, description, expected, outcome, detail)
        return gained

    def deny(self, category, description, gained, detail=""):
        return self.expect(category, description, "denied", gained, detail)

    def allow(self, category, description, gained, detail=""):
        return self.expect(category, description, "allowed", gained, detail)

    def record(self, category, description, expected, outcome, detail=""):
        if self.emit_json:
            print("ATTEMPT " + json.dumps({
                "category": category, "description": description,
                "expected": expected, "outcome": outcome,
                "detail": tail(detail)}), flush=True)
            return
        if expected == outcome:
            status = "ok"
        elif expected == "denied":
            status = "UNAUTHORIZED"
        else:
            status = "WRONGLY REFUSED"
        self.results.append((category, description, expected, outcome,
                             status))
        print(f"{status:<15} [{category}] {description} (expected "
              f"{expected}, got {outcome}: {tail(detail)})", flush=True)

    @contextlib.contextmanager
    def group(self, name):
        """A block of attempts; an exception in it is a setup error."""
        try:
            yield
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"{name}: {error}")
            if self.emit_json:
                print("ERROR " + json.dumps(f"{name}: {error}"), flush=True)
            else:
                print(f"SETUP ERROR     [{name}] {error}", flush=True)
            traceback.print_exc(file=sys.stdout)

    def summary(self, elapsed):
        unauthorized = [r for r in self.results if r[4] == "UNAUTHORIZED"]
        refused = [r for r in self.results if r[4] == "WRONGLY REFUSED"]
        print()
        print("=" * 72)
        print(f"attempts {len(self.results)}")
        print(f"unauthorized successes {len(unauthorized)}")
        print(f"wrongly refused {len(refused)}")
        print(f"setup errors {len(self.errors)}")
        print(f"runtime {elapsed:.1f} s")
        print()
        print(f"{'category':<22} {'attempts':>8} {'denied':>7} {'allowed':>8}"
              f" {'unauth':>7} {'refused':>8}")
        categories = {}
        for category, _, expected, _, status in self.results:
            row = categories.setdefault(category, [0, 0, 0, 0, 0])
            row[0] += 1
            row[1 if expected == "denied" else 2] += 1
            row[3] += status == "UNAUTHORIZED"
            row[4] += status == "WRONGLY REFUSED"
        for category in sorted(categories):
            row = categories[category]
            print(f"{category:<22} {row[0]:>8} {row[1]:>7} {row[2]:>8}"
                  f" {row[3]:>7} {row[4]:>8}")
        findings = {}
        for category, description, _, _, status in self.results:
            for number in re.findall(r"finding ([0-9]+)", description):
                row = findings.setdefault(int(number), [0, 0])
                row[0] += 1
                row[1] += status != "ok"
        if findings:
            print()
            print("findings: regression attempts (failing)")
            for number in sorted(findings):
                total, failing = findings[number]
                print(f"  finding {number}: {total} ({failing} failing)")
        if unauthorized or refused or self.errors:
            print()
            for _, description, _, _, status in unauthorized + refused:
                print(f"  {status}: {description}")
            for error in self.errors:
                print(f"  SETUP ERROR: {error}")
        return 1 if unauthorized or refused or self.errors else 0


# ---------------------------------------------------------------------------
# Users, agents and helper processes


def user_ids(name):
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def as_user(name, gid=None, caps=(), init_groups=True):
    """Command prefix running a program as `name` (setpriv execs it)."""
    uid, primary_gid = user_ids(name)
    prefix = ["setpriv", f"--reuid={uid}",
              f"--regid={primary_gid if gid is None else gid}"]
    prefix.append("--init-groups" if init_groups else "--clear-groups")
    if caps:
        joined = ",".join("+" + cap for cap in caps)
        prefix += [f"--inh-caps={joined}", f"--ambient-caps={joined}"]
    return prefix + ["--"]


class Agent:
    """A Python process as some identity, executing snippets."""

    def __init__(self, env, name, prefix, python=USER_PY):
        self.name = name
        self.log = open(os.path.join(env.work, f"agent-{name}.log"), "ab")
        self.process = subprocess.Popen(
            prefix + [python, env.agent_path, env.m], cwd=env.work,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True, bufsize=1)
        env.track(self.process)
        self.pid = self.call("R = os.getpid()", timeout=20)

    def call(self, code, timeout=30, **variables):
        request = json.dumps({"code": textwrap.dedent(code),
                              "vars": variables})
        try:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
        except OSError as error:
            raise SetupError(f"agent {self.name} is gone: {error}")
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise SetupError(f"agent {self.name} did not answer in "
                             f"{timeout} s")
        line = self.process.stdout.readline()
        if not line:
            raise SetupError(f"agent {self.name} died")
        answer = json.loads(line)
        if not answer["ok"]:
            raise SetupError(f"agent {self.name}: {answer['error']}")
        return answer["R"]

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def wait_exec(pid, name, timeout=5.0):
    """Waits until process `pid` runs program `name` (its credentials are
    final then: setpriv changes them before it executes the program)."""
    def running():
        try:
            with open(f"/proc/{pid}/comm") as comm:
                return comm.read().strip() == name[:15]
        except OSError:
            return True  # gone: nothing to wait for
    return wait_for(running, timeout)


def sid_bytes(text):
    parts = text.split("-")
    authority = int(parts[2])
    subs = [int(part) for part in parts[3:]]
    return (bytes([1, len(subs)]) + authority.to_bytes(6, "big") +
            b"".join(sub.to_bytes(4, "little") for sub in subs))


def spec_bytes(user_sid, session, version=2, privileges=0, groups=(),
               integrity=0x2000, projected=(65534, 65534)):
    """A binary token spec v2 (core/token_spec.h): the 192-byte header, the
    user SID, then the groups (attributes mandatory|default|enabled)."""
    user = sid_bytes(user_sid)
    group_blob = b"".join(
        len(sid_bytes(g)).to_bytes(4, "little") + sid_bytes(g) +
        (0x7).to_bytes(4, "little") for g in groups)
    header = bytearray(192)
    struct.pack_into("<IBBH", header, 0, version, 1, 0, 0)
    struct.pack_into("<II", header, 8, integrity, 1)
    struct.pack_into("<QQ", header, 16, privileges, privileges)
    struct.pack_into("<II", header, 36, *projected)
    struct.pack_into("<Q", header, 56, session)
    header[72:80] = b"tkatk\0\0\0"
    struct.pack_into("<I", header, 88, 192)
    if groups:
        struct.pack_into("<II", header, 92, 192 + len(user), len(groups))
    return bytes(header) + user + group_blob


def bits(*names):
    return sum(1 << PRIV_BIT[name] for name in names)


def privs_of(text):
    """{name: state} from a privs file."""
    states = {}
    for line in (text or "").splitlines():
        name, _, state = line.partition("  ")
        if name:
            states[name] = state
    return states


def enabled(text, name):
    return privs_of(text).get(name, "").startswith("enabled")


def start_ticks(pid):
    """Field 22 of /proc/PID/stat: start time in clock ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    return int(text[text.rindex(")") + 2:].split()[19])


def daemon_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Env:
    """Everything one daemon's attempts share: the mount, the users, the
    agents, the helper processes, the work directory."""

    def __init__(self, mount, token_cli, work):
        self.mount = mount
        self.m = mount.path
        self.work = work
        self.socks = os.path.join(work, "socks")
        os.mkdir(self.socks)
        os.chmod(self.socks, 0o1777)
        self.agent_path = os.path.join(work, "agent.py")
        with open(self.agent_path, "w") as file:
            file.write(HELPERS + AGENT_MAIN)
        os.chmod(self.agent_path, 0o644)
        self.token = None
        if token_cli:
            # The users must be able to run it whatever the build tree's
            # permissions are.
            self.token = os.path.join(work, "token")
            shutil.copy(token_cli, self.token)
            os.chmod(self.token, 0o755)
        self.processes = []
        self.extra_pids = []
        self.agents = {}
        self.extra_agents = []
        self.uid = {name: user_ids(name)[0] for name in ALL_USERS}
        self.gid = {name: user_ids(name)[1] for name in ALL_USERS}
        self.sid = {name: f"S-1-22-1-{uid}" for name, uid in self.uid.items()}

    def track(self, process):
        self.processes.append(process)
        return process

    def close(self):
        for agent in self.extra_agents + list(self.agents.values()):
            with contextlib.suppress(Exception):
                agent.close()
        for pid in self.extra_pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.kill()
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.wait(timeout=5)

    def agent(self, name):
        """The long-lived agent of user `name` ("root" for root)."""
        if name not in self.agents:
            self.agents[name] = self.new_agent(name, keep=False)
        return self.agents[name]

    def new_agent(self, name, keep=True, userns=False, caps=(), gid=None,
                  prefix=None):
        if prefix is None:
            if name == "root":
                prefix = []
            else:
                prefix = as_user(name, gid=gid, caps=caps,
                                 init_groups=gid is None)
            if userns:
                prefix += ["unshare", "-U", "-r"]
        agent = Agent(self, name, prefix,
                      python=sys.executable if name == "root" and not prefix
                      else USER_PY)
        if keep:
            self.extra_agents.append(agent)
        return agent

    def drop(self, agent):
        agent.close()
        if agent in self.extra_agents:
            self.extra_agents.remove(agent)

    def spawn(self, command, name, stdin=subprocess.DEVNULL):
        """Starts `command` (a prefix and a program), waits until it runs
        `name`; returns the Popen."""
        process = self.track(subprocess.Popen(
            command, cwd=self.work, stdin=stdin, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        if not wait_exec(process.pid, name):
            raise SetupError(f"{name} did not start")
        # Let the daemon see the exec (events) before anyone asks.
        rd(f"{self.m}/{process.pid}/type")
        return process

    def sleeper(self, name="root", **kwargs):
        prefix = [] if name == "root" else as_user(name, **kwargs)
        return self.spawn(prefix + ["sleep", "600"], "sleep").pid

    def p(self, *parts):
        return "/".join([self.m] + [str(part) for part in parts])

    def state(self, *parts):
        """What root reads at a path (the judge of writes)."""
        return rd(self.p(*parts))[1]

    def objects(self):
        return int(self.mount.registry()["objects"])

    def chkpwd(self):
        """User A's own unix_chkpwd (setgid shadow), blocked reading a
        password from a pipe: its pid."""
        if getattr(self, "_chkpwd", None) is None:
            if not os.path.exists("/usr/sbin/unix_chkpwd"):
                raise SetupError("/usr/sbin/unix_chkpwd is missing")
            process = self.spawn(as_user(USER_A) + [
                "/usr/sbin/unix_chkpwd", USER_A, "nullok"], "unix_chkpwd",
                stdin=subprocess.PIPE)
            self._chkpwd = process.pid
            shadow = grp.getgrnam("shadow").gr_gid
            if f"S-1-22-2-{shadow}" not in self.state(self._chkpwd,
                                                      "groups"):
                raise SetupError("unix_chkpwd's token lacks the shadow group")
        return self._chkpwd

    def setuid_sleep(self, mode=0o4755, group=0):
        """A copy of sleep(1) owned by root with the set-user-ID (or, with
        mode 0o2755 and a group, the set-group-ID) bit."""
        name = "suid-sleep" if mode & 0o4000 else "sgid-sleep"
        path = os.path.join(self.work, name)
        if not os.path.exists(path):
            shutil.copy(shutil.which("sleep"), path)
            os.chown(path, 0, group)
            os.chmod(path, mode)
        return path

    def root_server(self):
        """A root process listening on a Unix socket every user may connect
        to, accepting connections in the background: (agent, path)."""
        if getattr(self, "_server", None) is None:
            agent = self.new_agent("root")
            path = os.path.join(self.socks, "root.sock")
            agent.call("""
                SERVER = socket.socket(socket.AF_UNIX)
                SERVER.bind(P)
                os.chmod(P, 0o777)
                SERVER.listen(64)
                CONNECTIONS = []
                def _accept():
                    while True:
                        CONNECTIONS.append(SERVER.accept()[0])
                threading.Thread(target=_accept, daemon=True).start()""",
                       P=path)
            self._server = (agent, path)
        return self._server


def own_restricted(agent, base="self", command="drop-privs=SeShutdown"):
    """A restricted copy of the agent's token (its user may use it)."""
    result = agent.call("R = txn(f'{M}/' + B + '/restrict', C)", B=base,
                        C=command)
    if result[0] != "ok":
        raise SetupError(f"restrict {base} as {agent.name}: {result}")
    return new_id(result[1])


def auth_id(env, *parts):
    return int(field(env.state(*parts, "stats"), "authentication_id"), 16)


# ---------------------------------------------------------------------------
# cross-user: user A against user B's (and root's) tokens


def cross_user(s, env):
    cat = "cross-user"
    a, b = env.agent(USER_A), env.agent(USER_B)
    bs = env.sleeper(USER_B)
    as_ = env.sleeper(USER_A)
    paths = ([(f"B's {name}", env.p(bs, name)) for name in TOKEN_FILES] +
             [(f"B's query/{name}", env.p(bs, "query", name))
              for name in QUERY_SAMPLE] +
             [("B's thread privs", env.p(bs, bs, "privs")),
              ("B's thread query/all", env.p(bs, bs, "query", "all")),
              ("root's (the driver's) privs", env.p(os.getpid(), "privs")),
              ("pid 1's user", env.p(1, "user")),
              ("pid 1's query/all", env.p(1, "query", "all"))])
    results = a.call("R = [rd(p) for p in P]", P=[p for _, p in paths])
    for (what, _), result in zip(paths, results):
        s.deny(cat, f"A reads {what}", result[0] == "ok", result)

    # Writes: judged by root's view of B's whole token afterwards.
    probes = (("privs", "SeChangeNotify=disabled"), ("groups", "reset"),
              ("owner", "0"), ("group", "0"), ("integrity", "low"),
              ("session", "7"), ("default-dacl", "D:(A;;GA;;;WD)"),
              ("security", "D:(A;;GA;;;WD)"),
              ("security", f"O:{env.sid[USER_A]}"))
    before = env.state(bs, "all")
    for name, command in probes:
        result = a.call("R = wr(P, C)", P=env.p(bs, name), C=command)
        after = env.state(bs, "all")
        s.deny(cat, f"A writes B's {name} ({command})",
               result[0] == "ok" or after != before, result)
        before = after

    mine = own_restricted(a)
    transactions = (("duplicate", "type=primary"),
                    ("restrict", "drop-privs=SeShutdown"),
                    ("access", "desired=QUERY"),
                    ("duplicate", "type=impersonation level=identification"))
    for name, command in transactions:
        result = a.call("R = txn(P, C)", P=env.p(bs, name), C=command)
        s.deny(cat, f"A runs B's {name} ({command})", result[0] == "ok",
               result)
    result = a.call("R = txn(P, C)", P=env.p(bs, bs, "impersonate"),
                    C=f"id:{mine}")
    shown = env.state(bs, bs, "impersonate")
    s.deny(cat, "A makes B's thread impersonate A's token",
           result[0] == "ok" or "id:" in shown, f"{result} / {shown}")
    result = a.call("R = txn(P, 'revert')", P=env.p(bs, bs, "impersonate"))
    s.deny(cat, "A reverts B's thread", result[0] == "ok", result)
    token_before = field(env.state(bs, "stats"), "token_id")
    result = a.call("R = txn(P, C)", P=env.p(bs, "install"), C=f"id:{mine}")
    s.deny(cat, "A installs her token as B's primary",
           field(env.state(bs, "stats"), "token_id") != token_before, result)

    # Finding 5: another user's <pid>/<tid>/impersonate, read-only.
    result = a.call("R = rd(P)", P=env.p(bs, bs, "impersonate"))
    s.deny(cat, "finding 5: A reads B's idle thread's impersonate file",
           result[0] == "ok", result)
    b_copy = own_restricted(b)
    b.call("R = txn(f'{M}/self/impersonate', C)", C=f"id:{b_copy}")
    result = a.call("R = rd(P)", P=env.p(b.pid, b.pid, "impersonate"))
    s.deny(cat, "finding 5: A reads the impersonate file of B's "
           "impersonating thread (token id and level)", result[0] == "ok",
           result)
    root_view = rd(env.p(b.pid, b.pid, "impersonate"))
    s.allow(cat, "root reads B's thread's impersonate file",
            root_view[0] == "ok" and "id:" in root_view[1], root_view)
    b.call("R = txn(f'{M}/self/impersonate', 'revert')")

    adm = env.agent(USER_ADM)
    adm_sleeper = env.sleeper(USER_ADM)
    for what, path in (("A's sleeper's privs", env.p(as_, "privs")),
                       ("A's agent's query/all", env.p(a.pid, "query",
                                                       "all")),
                       ("pid 1's privs", env.p(1, "privs"))):
        result = adm.call("R = rd(P)", P=path)
        s.deny(cat, f"the sudo user reads {what}", result[0] == "ok", result)
    result = b.call("R = rd(P)", P=env.p(a.pid, "privs"))
    s.deny(cat, "B reads A's agent's privs", result[0] == "ok", result)
    result = a.call("R = rl(P)", P=env.p(adm_sleeper, "linked"))
    s.deny(cat, "A reads the sudo user's linked token", result[0] == "ok",
           result)

    # Allowed: root reads anything; users read their own.
    for what, path in (("B's privs", env.p(bs, "privs")),
                       ("B's query/all", env.p(bs, "query", "all")),
                       ("B's security", env.p(bs, "security")),
                       ("B's thread's impersonate", env.p(bs, bs,
                                                          "impersonate")),
                       ("pid 1's privs", env.p(1, "privs"))):
        result = rd(path)
        s.allow(cat, f"root reads {what}", result[0] == "ok", result)
    for what, path in (("her sleeper's privs", env.p(as_, "privs")),
                       ("her sleeper's query/all",
                        env.p(as_, "query", "all")),
                       ("her sleeper's thread impersonate",
                        env.p(as_, as_, "impersonate")),
                       ("her own all via self", env.p("self", "all"))):
        result = a.call("R = rd(P)", P=path)
        s.allow(cat, f"A reads {what}", result[0] == "ok", result)
    result = adm.call("R = rl(f'{M}/self/linked')")
    s.allow(cat, "the sudo user reads her own linked token",
            result[0] == "ok", result)
    if result[0] == "ok":
        copy = adm.call("R = rd(f'{M}/self/linked/elevation')")
        s.allow(cat, "the sudo user reads her linked copy's elevation",
                copy[0] == "ok" and "Full" in copy[1], copy)
    result = b.call("R = rd(f'{M}/self/user')")
    s.allow(cat, "B reads her own user",
            result[0] == "ok" and env.sid[USER_B] in result[1], result)


# ---------------------------------------------------------------------------
# paths: lookups that try to reach another token


def paths(s, env):
    cat = "paths"
    a, b = env.agent(USER_A), env.agent(USER_B)
    bs = env.sleeper(USER_B)
    b_thread = b.call("""
        _event = threading.Event()
        _thread = threading.Thread(target=_event.wait, daemon=True)
        _thread.start()
        time.sleep(0.05)
        R = _thread.native_id""")
    me = a.pid
    big = 2 ** 32
    tries = (
        ("self/../../B/privs", f"{env.m}/self/../../{bs}/privs"),
        ("//B//privs", f"{env.m}//{bs}//privs"),
        ("B/./privs", f"{env.m}/{bs}/./privs"),
        ("B/query/../privs", f"{env.m}/{bs}/query/../privs"),
        ("0B/privs (leading zero)", f"{env.m}/0{bs}/privs"),
        ("+B/privs", f"{env.m}/+{bs}/privs"),
        ("B+2^32/privs (wraps to B)", f"{env.m}/{bs + big}/privs"),
        ("B+2^31/privs", f"{env.m}/{bs + 2 ** 31}/privs"),
        ("1+2^32/user (wraps to 1)", f"{env.m}/{1 + big}/user"),
        ("huge pid", f"{env.m}/99999999999999999999/privs"),
        ("0/privs", f"{env.m}/0/privs"),
        ("-1/privs", f"{env.m}/-1/privs"),
        ("' B'/privs", f"{env.m}/ {bs}/privs"),
        ("0x<B>/privs", f"{env.m}/{hex(bs)}/privs"),
        ("own pid / B's pid as tid", f"{env.m}/{me}/{bs}/privs"),
        ("own pid / B's second thread", f"{env.m}/{me}/{b_thread}/privs"),
        ("B's sleeper / B's agent's thread",
         f"{env.m}/{bs}/{b_thread}/privs"),
        ("B's thread directory", f"{env.m}/{bs}/{bs}/user"),
        ("own pid / B's thread + 2^26", f"{env.m}/{me}/{bs + 2 ** 26}/user"),
        ("objects/0/user", f"{env.m}/objects/0/user"),
        ("objects/-1/user", f"{env.m}/objects/-1/user"),
        ("objects/2^64-1/user", f"{env.m}/objects/18446744073709551615/user"),
        ("objects/2^64/user", f"{env.m}/objects/18446744073709551616/user"),
        ("objects/abc/user", f"{env.m}/objects/abc/user"),
    )
    results = a.call("R = [rd(p) for p in P]", P=[p for _, p in tries])
    for (what, _), result in zip(tries, results):
        # Reading one's own token through a trick path is fine; anything
        # else that answers is a leak.
        leaked = result[0] == "ok" and env.sid[USER_A] not in result[1]
        s.deny(cat, f"A reads {what}", leaked, result)

    link = os.path.join(env.socks, "to-b-privs")
    result = a.call("""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(L)
        os.symlink(P, L)
        R = rd(L)""", L=link, P=env.p(bs, "privs"))
    s.deny(cat, "A reads B's privs through her own symlink",
           result[0] == "ok", result)
    result = a.call("""
        _cwd = os.getcwd()
        try:
            os.chdir(D)
            R = [rd("privs"), rd("query/all"), wr("privs", "SeChangeNotify=disabled")]
        except OSError as error:
            R = [[ename(error), str(error)]] * 3
        finally:
            os.chdir(_cwd)""", D=env.p(bs))
    for what, one in zip(("reads privs", "reads query/all",
                          "adjusts privs"), result):
        s.deny(cat, f"A chdirs into B's token directory and {what} "
               "relative to it", one[0] == "ok", one)
    result = a.call("""
        try:
            _dir = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
            try:
                _fd = os.open("privs", os.O_RDONLY, dir_fd=_dir)
                R = ["ok", os.read(_fd, 4096).decode()]
                os.close(_fd)
            finally:
                os.close(_dir)
        except OSError as error:
            R = [ename(error), str(error)]""", D=env.p(bs))
    s.deny(cat, "A openat()s privs under a directory fd of B's token",
           result[0] == "ok", result)
    for what, path in (("peer/-1", f"{env.m}/peer/-1"),
                       ("peer/0 (stdin, a pipe)", f"{env.m}/peer/0"),
                       ("peer/99999", f"{env.m}/peer/99999"),
                       ("peer/2^40", f"{env.m}/peer/{2 ** 40}")):
        result = a.call("R = rl(P)", P=path)
        s.deny(cat, f"A resolves {what}", result[0] == "ok", result)

    # Changing the tree itself.
    changes = (
        ("mkdir in the root", "os.mkdir(f'{M}/evil')"),
        ("mkdir in objects/", "os.mkdir(f'{M}/objects/99')"),
        ("create a file in her token directory",
         "os.close(os.open(f'{M}/self/evil', os.O_CREAT | os.O_WRONLY, 0o644))"),
        ("unlink her privs", "os.unlink(f'{M}/self/privs')"),
        ("rename her privs", "os.rename(f'{M}/self/privs', f'{M}/self/p2')"),
        ("symlink in her token directory",
         "os.symlink('/etc/passwd', f'{M}/self/evil')"),
        ("hard link of her privs",
         "os.link(f'{M}/self/privs', f'{M}/self/evil')"),
        ("chmod 0666 her privs", "os.chmod(f'{M}/self/privs', 0o666)"),
        ("chown her privs", f"os.chown(f'{{M}}/self/privs', {env.uid[USER_A]}, "
         f"{env.gid[USER_A]})"),
        ("set the times of her privs",
         "os.utime(f'{M}/self/privs', (1, 1))"),
        ("rmdir her token directory", "os.rmdir(f'{M}/{os.getpid()}')"),
        ("rmdir B's token directory", f"os.rmdir(f'{{M}}/{bs}')"),
        ("rmdir the query directory", "os.rmdir(f'{M}/self/query')"),
        ("setxattr on her privs",
         "os.setxattr(f'{M}/self/privs', 'user.x', b'1')"),
    )
    for what, code in changes:
        result = a.call(f"""
            try:
                {code}
                R = ["ok", ""]
            except OSError as error:
                R = [ename(error), str(error)]""")
        s.deny(cat, f"A tries to {what}", result[0] == "ok", result)

    for what, path in (("self/privs", f"{env.m}/self/privs"),
                       ("//self///privs", f"{env.m}//self///privs"),
                       ("self/query/../privs", f"{env.m}/self/query/../privs"),
                       ("<own pid>/<own tid>/privs",
                        f"{env.m}/{me}/{me}/privs")):
        result = a.call("R = rd(P)", P=path)
        s.allow(cat, f"A reads {what}",
                result[0] == "ok" and "SeChangeNotify" in result[1], result)
    result = a.call("R = rl(f'{M}/self')")
    s.allow(cat, "A reads the self link", result == ["ok", f"{me}/{me}"],
            result)
    result = a.call("R = ls(M)")
    s.allow(cat, "A lists the root directory",
            result[0] == "ok" and "self" in result[1], result[0])


# ---------------------------------------------------------------------------
# privileges


def privileges(s, env):
    cat = "privileges"
    a = env.agent(USER_A)
    target = env.sleeper(USER_A)
    path = env.p(target, "privs")
    present = privs_of(env.state(target, "privs"))
    if "SeChangeNotify" not in present:
        raise SetupError(f"unexpected user privileges: {present}")
    absent = [name for name in CATALOG if name not in present]
    results = a.call("""
        R = []
        for _name in N:
            R.append([wr(P, _name + "=enabled"), rd(P)[1]])""",
                     N=absent, P=path)
    for name, (result, after) in zip(absent, results):
        s.deny(cat, f"A enables absent {name}", enabled(after, name),
               result)
    forms = (("bit number 20 (SeDebug)", "20=enabled", "SeDebug"),
             ("full name SeDebugPrivilege", "SeDebugPrivilege=enabled",
              "SeDebug"),
             ("lower case setcb", "setcb=enabled", "SeTcb"),
             ("bit number 7 (SeTcb)", "7=enabled", "SeTcb"),
             ("SeTcb with a present one (all or nothing)",
              "SeShutdown=enabled SeTcb=enabled", "SeShutdown"),
             ("bit 40 outside the catalog", "40=enabled", "<privilege-bit-40>"),
             ("bit 1 below the catalog", "1=enabled", "<privilege-bit-1>"),
             ("bit 64", "64=enabled", "<privilege-bit-64>"),
             ("SeCreateToken by bit 2", "2=enabled", "SeCreateToken"))
    for what, command, name in forms:
        result = a.call("R = [wr(P, C), rd(P)[1]]", P=path, C=command)
        s.deny(cat, f"A enables {what}", enabled(result[1], name), result[0])

    for name in present:
        result = a.call("R = [wr(P, C), rd(P)[1]]", P=path,
                        C=f"{name}=enabled")
        s.allow(cat, f"A enables her own {name}",
                result[0][0] == "ok" and enabled(result[1], name), result[0])
    result = a.call("R = [wr(P, 'SeChangeNotify=disabled'), rd(P)[1]]",
                    P=path)
    s.allow(cat, "A disables SeChangeNotify",
            result[0][0] == "ok" and
            privs_of(result[1]).get("SeChangeNotify", "").startswith(
                "disabled"), result[0])
    result = a.call("R = [wr(P, 'reset'), rd(P)[1]]", P=path)
    s.allow(cat, "A resets her privileges",
            result[0][0] == "ok" and enabled(result[1], "SeChangeNotify") and
            not enabled(result[1], "SeShutdown"), result[0])
    result = a.call("R = [wr(P, 'SeUndock=removed'), rd(P)[1]]", P=path)
    s.allow(cat, "A removes SeUndock",
            result[0][0] == "ok" and "SeUndock" not in result[1], result[0])
    result = a.call("R = [wr(P, 'SeUndock=enabled'), rd(P)[1]]", P=path)
    s.deny(cat, "A re-enables the removed SeUndock",
           enabled(result[1], "SeUndock"), result[0])
    result = a.call("R = [wr(P, 'reset'), rd(P)[1]]", P=path)
    s.deny(cat, "A brings back the removed SeUndock with reset",
           "SeUndock" in result[1], result[0])

    # The sudo user's Limited token lacks what its Full partner holds.
    adm = env.agent(USER_ADM)
    adm_target = env.sleeper(USER_ADM)
    adm_path = env.p(adm_target, "privs")
    adm_present = privs_of(env.state(adm_target, "privs"))
    for name in ("SeDebug", "SeBackup", "SeRestore", "SeTakeOwnership",
                 "SeLoadDriver", "SeImpersonate", "SeSecurity"):
        if name in adm_present:
            continue
        result = adm.call("R = [wr(P, C), rd(P)[1]]", P=adm_path,
                          C=f"{name}=enabled")
        s.deny(cat, f"the sudo user enables {name} on her Limited token",
               enabled(result[1], name), result[0])

    result = wr(path, "SeDebug=enabled")
    s.deny(cat, "root enables the absent SeDebug on A's token",
           enabled(env.state(target, "privs"), "SeDebug"), result)
    result = wr(path, "SeShutdown=enabled")
    s.allow(cat, "root enables SeShutdown on A's token",
            result[0] == "ok" and
            enabled(env.state(target, "privs"), "SeShutdown"), result)


# ---------------------------------------------------------------------------
# groups (and the owner/primary group they feed)


def groups(s, env):
    cat = "groups"
    a = env.agent(USER_A)
    target = env.sleeper(USER_A)
    path = env.p(target, "groups")
    lines = env.state(target, "groups").splitlines()
    for line in lines:
        index, sid = line.split("  ")[:2]
        result = a.call("R = [wr(P, C), rd(P)[1]]", P=path,
                        C=f"{index}=disabled")
        row = result[1].splitlines()[int(index)] if result[1] else ""
        s.deny(cat, f"A disables mandatory group {index} ({sid})",
               len(row.split("  ")) > 2 and
               "disabled" in row.split("  ")[2].split(","), result[0])
    for what, command in (("index 99", "99=disabled"),
                          ("index 2^32", f"{2 ** 32}=disabled"),
                          ("index -1", "-1=disabled"),
                          ("a group named twice", "1=enabled 1=disabled")):
        before = env.state(target, "stats")
        result = a.call("R = wr(P, C)", P=path, C=command)
        s.deny(cat, f"A adjusts {what}",
               result[0] == "ok" or env.state(target, "stats") != before,
               result)
    result = a.call("R = [wr(P, 'reset'), rd(P)[1]]", P=path)
    s.allow(cat, "A resets her groups", result[0][0] == "ok", result[0])

    # A deny-only group of her own restricted copy.
    copy = own_restricted(a, base=str(target), command="deny=1")
    copy_path = env.p("objects", copy, "groups")
    result = a.call("R = [wr(P, '1=enabled'), rd(P)[1]]", P=copy_path)
    row = result[1].splitlines()[1] if result[1] else ""
    s.deny(cat, "A enables a deny-only group of her restricted copy",
           "deny-only" not in row or ",enabled" in row, result[0])
    result = a.call("R = wr(P, '1=disabled')", P=copy_path)
    s.allow(cat, "A disables a deny-only group (a no-op)",
            result[0] == "ok", result)

    adm = env.agent(USER_ADM)
    adm_target = env.sleeper(USER_ADM)
    adm_groups = env.state(adm_target, "groups").splitlines()
    admins = next((line.split("  ")[0] for line in adm_groups
                   if line.split("  ")[1] == "S-1-5-32-544"), None)
    if admins is None:
        raise SetupError("the sudo user's token has no Administrators group")
    result = adm.call("R = [wr(P, C), rd(P)[1]]",
                      P=env.p(adm_target, "groups"), C=f"{admins}=enabled")
    row = result[1].splitlines()[int(admins)] if result[1] else ""
    s.deny(cat, "the sudo user enables the deny-only Administrators group",
           "deny-only" not in row or ",enabled" in row, result[0])
    result = adm.call("R = [wr(P, C), rd(P)[1]]",
                      P=env.p(adm_target, "owner"), C=admins)
    s.deny(cat, "the sudo user makes Administrators her default owner",
           "S-1-5-32-544" in result[1], result[0])

    owner = env.p(target, "owner")
    everyone = next(line.split("  ")[0] for line in lines
                    if line.split("  ")[1] == "S-1-1-0")
    for what, command, sid in (
            ("Everyone (no owner attribute)", str(int(everyone) + 1),
             "S-1-1-0"),
            ("S-1-5-18 (not hers)", "S-1-5-18", "S-1-5-18"),
            ("Administrators (not hers)", "S-1-5-32-544", "S-1-5-32-544"),
            ("index 99", "99", None)):
        before = env.state(target, "owner")
        result = a.call("R = [wr(P, C), rd(P)[1]]", P=owner, C=command)
        s.deny(cat, f"A makes {what} her default owner",
               result[1] != before and (sid is None or sid in result[1]),
               result[0])
    result = a.call("R = [wr(P, '0'), rd(P)[1]]", P=owner)
    s.allow(cat, "A makes herself her default owner",
            result[0][0] == "ok" and env.sid[USER_A] in result[1], result[0])
    result = a.call("R = [wr(P, C), rd(P)[1]]", P=env.p(target, "group"),
                    C=str(int(everyone) + 1))
    s.allow(cat, "A makes Everyone her primary group",
            result[0][0] == "ok" and "S-1-1-0" in result[1], result[0])


# ---------------------------------------------------------------------------
# integrity


def integrity(s, env):
    cat = "integrity"
    a = env.agent(USER_A)
    target = env.sleeper(USER_A)
    path = env.p(target, "integrity")
    for level in ("medium-plus", "medium plus", "high", "system",
                  "protected", "12288", "0x4000", "S-1-16-20480", "8193",
                  "4294967295", "S-1-16-12288"):
        result = a.call("R = [wr(P, C), rd(P)[1]]", P=path, C=level)
        s.deny(cat, f"A raises her integrity to {level}",
               not result[1].startswith("Medium  S-1-16-8192"), result)
    lowered = env.sleeper(USER_A)
    low_path = env.p(lowered, "integrity")
    result = a.call("R = [wr(P, 'low'), rd(P)[1]]", P=low_path)
    s.allow(cat, "A lowers her token to Low",
            result[0][0] == "ok" and result[1].startswith("Low"), result[0])
    result = a.call("R = [wr(P, 'medium'), rd(P)[1]]", P=low_path)
    s.deny(cat, "A raises her lowered token back to Medium",
           result[1].startswith("Medium"), result[0])
    result = a.call("R = [wr(P, 'untrusted'), rd(P)[1]]", P=low_path)
    s.allow(cat, "A lowers it further to Untrusted",
            result[0][0] == "ok" and result[1].startswith("Untrusted"),
            result[0])
    result = wr(low_path, "high")
    s.allow(cat, "root (SeTcb) raises A's Untrusted token to High",
            result[0] == "ok" and env.state(lowered, "integrity")
            .startswith("High"), result)

    # A Low process of A against a Medium one of A.
    low = env.new_agent(USER_A)
    result = low.call("R = wr(f'{M}/self/integrity', 'low')")
    if result[0] != "ok":
        raise SetupError(f"cannot lower an agent: {result}")
    before = env.state(target, "all")
    result = low.call("R = wr(P, 'SeChangeNotify=disabled')",
                      P=env.p(target, "privs"))
    s.deny(cat, "a Low process of A adjusts A's Medium token",
           result[0] == "ok" or env.state(target, "all") != before, result)
    result = low.call("R = wr(P, 'low')", P=path)
    s.deny(cat, "a Low process of A lowers A's Medium token",
           env.state(target, "integrity").startswith("Low"), result)
    result = low.call("R = rd(P)", P=env.p(target, "privs"))
    s.allow(cat, "a Low process of A reads A's Medium token (no read-up "
            "rule)", result[0] == "ok", result)
    result = low.call("R = [wr(f'{M}/self/privs', 'SeChangeNotify=disabled'),"
                      " rd(f'{M}/self/privs')[1]]")
    s.allow(cat, "a Low process adjusts its own Low token",
            result[0][0] == "ok", result[0])
    env.drop(low)
    result = a.call("R = wr(P, '5')", P=env.p(target, "session"))
    s.deny(cat, "A sets her session id (needs SeTcb)",
           field(env.state(target, "session"), "session_id") == "5", result)
    result = wr(env.p(target, "session"), "5")
    s.allow(cat, "root (SeTcb) sets A's session id",
            result[0] == "ok" and
            field(env.state(target, "session"), "session_id") == "5", result)


# ---------------------------------------------------------------------------
# sd: the token objects' own security descriptors


def security_descriptors(s, env):
    cat = "sd"
    a, b = env.agent(USER_A), env.agent(USER_B)
    sid_a = env.sid[USER_A]
    target = env.sleeper(USER_A)
    path = env.p(target, "security")
    for what, command in (
            ("a DACL granting Everyone all", "D:(A;;GA;;;WD)"),
            ("a DACL granting herself all", f"D:(A;;GA;;;{sid_a})"),
            ("herself as owner", f"O:{sid_a}"),
            ("a primary group", f"G:{sid_a}"),
            ("an audit ACE", "S:(AU;SA;GA;;;WD)"),
            ("a Low label", "S:(ML;;NW;;;LW)"),
            ("a System label", "S:(ML;;NW;;;SI)"),
            ("a NULL DACL", "D:NO_ACCESS_CONTROL")):
        before = env.state(target, "security")
        result = a.call("R = wr(P, C)", P=path, C=command)
        s.deny(cat, f"A writes {what} on her minted token's SD",
               env.state(target, "security") != before, result)
    result = a.call("R = rd(P)", P=path)
    s.allow(cat, "A reads her minted token's SD", result[0] == "ok", result)
    before = env.state(target, "security")
    result = b.call("R = wr(P, C)", P=path, C="D:(A;;GA;;;WD)")
    s.deny(cat, "B rewrites the DACL of A's token",
           env.state(target, "security") != before, result)

    # A token object root handed to A with GENERIC_ALL.
    granted = new_id(txn(env.p(target, "duplicate"), "type=primary")[1])
    if granted is None:
        raise SetupError("root could not duplicate A's token")
    result = wr(env.p("objects", granted, "security"),
                f"D:(A;;GA;;;{sid_a})(A;;GA;;;SY)")
    if result[0] != "ok":
        raise SetupError(f"root could not open the object to A: {result}")
    obj = env.p("objects", granted, "security")
    allowed_writes = (
        ("a DACL adding Everyone QUERY",
         f"D:(A;;GA;;;{sid_a})(A;;GA;;;SY)(A;;0x8;;;WD)", ";WD)"),
        ("herself as owner", f"O:{sid_a}", f"O:{sid_a}"),
        ("a Low label (below her integrity)", "S:(ML;;NW;;;LW)", "LW"))
    denied_writes = (
        ("SYSTEM as owner", "O:SY", "O:SY"),
        ("Administrators as owner", "O:BA", "O:BA"),
        ("a High label (above her integrity)", "S:(ML;;NW;;;HI)", ";HI)"),
        ("a System label", "S:(ML;;NW;;;SI)", ";SI)"),
        ("an audit ACE (needs SeSecurity)", "S:(AU;SA;GA;;;WD)", "AU;"))
    for what, command, mark in denied_writes:
        before = env.state("objects", granted, "security")
        result = a.call("R = wr(P, C)", P=obj, C=command)
        after = env.state("objects", granted, "security")
        s.deny(cat, f"A writes {what} on a token she holds GENERIC_ALL on",
               after != before and mark in after, result)
    for what, command, mark in allowed_writes:
        result = a.call("R = wr(P, C)", P=obj, C=command)
        s.allow(cat, f"A writes {what} on a token she holds GENERIC_ALL on",
                result[0] == "ok" and
                mark in env.state("objects", granted, "security"), result)
    result = b.call("R = rd(P)", P=env.p("objects", granted, "user"))
    s.allow(cat, "B reads an object whose DACL grants Everyone QUERY",
            result[0] == "ok", result)
    before = env.state("objects", granted, "security")
    result = b.call("R = wr(P, C)", P=obj, C="D:(A;;GA;;;WD)")
    s.deny(cat, "B rewrites the DACL of the object A holds",
           env.state("objects", granted, "security") != before, result)
    result = b.call("R = wr(P, 'SeChangeNotify=disabled')",
                    P=env.p("objects", granted, "privs"))
    s.deny(cat, "B adjusts an object whose DACL grants Everyone QUERY",
           result[0] == "ok", result)
    other = new_id(txn(env.p(target, "duplicate"), "type=primary")[1])
    result = wr(env.p("objects", other, "security"), "O:BA")
    s.allow(cat, "root (SeRestore) makes Administrators the owner of an "
            "object", result[0] == "ok" and
            "O:BA" in env.state("objects", other, "security"), result)
    for gone in (granted, other):
        with contextlib.suppress(OSError):
            os.rmdir(env.p("objects", gone))


# ---------------------------------------------------------------------------
# objects: /tokens/objects/<id>


def objects(s, env):
    cat = "objects"
    a, b = env.agent(USER_A), env.agent(USER_B)
    target = env.sleeper(USER_A)
    dup = a.call("R = new_id(txn(P, 'type=primary')[1])",
                 P=env.p(target, "duplicate"))
    narrow = own_restricted(a, base=str(target))
    if not dup or not narrow:
        raise SetupError(f"A could not derive tokens: {dup} {narrow}")
    for what, command, file in (
            ("restricts her own token", "drop-privs=SeShutdown deny=1",
             "restrict"),
            ("restricts her own token to a write-restricted one",
             "write-restricted restrict=WD", "restrict"),
            ("duplicates her own token", "type=primary", "duplicate"),
            ("duplicates her own token at Identification level",
             "type=impersonation level=identification", "duplicate")):
        result = a.call("R = txn(P, C)", P=env.p(target, file), C=command)
        s.allow(cat, f"A {what}",
                result[0] == "ok" and new_id(result[1]) is not None, result)
    obj = env.p("objects", dup)
    nobj = env.p("objects", narrow)
    for what, path in (("user", f"{obj}/user"), ("privs", f"{obj}/privs"),
                       ("query/all", f"{obj}/query/all"),
                       ("security", f"{obj}/security"),
                       ("persist", f"{obj}/persist"),
                       ("the restricted copy's groups", f"{nobj}/groups")):
        result = b.call("R = rd(P)", P=path)
        s.deny(cat, f"B reads A's object's {what}", result[0] == "ok",
               result)
    before = env.state("objects", dup, "all")
    result = b.call("R = wr(P, 'SeChangeNotify=disabled')",
                    P=f"{obj}/privs")
    s.deny(cat, "B adjusts A's object's privs",
           env.state("objects", dup, "all") != before, result)
    for what, path, command in (
            ("duplicates A's object", f"{obj}/duplicate", "type=primary"),
            ("restricts A's restricted copy", f"{nobj}/restrict",
             "drop-privs=SeUndock"),
            ("duplicates A's restricted copy", f"{nobj}/duplicate", ""),
            ("runs an access check with A's object", f"{obj}/access",
             "desired=QUERY")):
        result = b.call("R = txn(P, C)", P=path, C=command)
        s.deny(cat, f"B {what}", result[0] == "ok", result)
    result = b.call("R = [txn(f'{M}/self/impersonate', C), "
                    "rd(f'{M}/self/impersonate')[1]]", C=f"id:{narrow}")
    b.call("txn(f'{M}/self/impersonate', 'revert')")
    s.deny(cat, "B impersonates A's restricted copy",
           result[0][0] == "ok", result[0])
    for command in ("revoke", "yes", f"holder=pid:{b.pid}"):
        before = env.state("objects", dup, "persist")
        result = b.call("R = txn(P, C)", P=f"{obj}/persist", C=command)
        s.deny(cat, f"B writes '{command}' to A's object's persist",
               result[0] == "ok" or not os.path.isdir(obj) or
               env.state("objects", dup, "persist") != before, result)
    result = b.call("""
        try:
            os.rmdir(P)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]""", P=obj)
    s.deny(cat, "B removes A's object (rmdir)", not os.path.isdir(obj),
           result)
    result = b.call("R = ls(f'{M}/objects')")
    s.deny(cat, "B sees A's objects listed",
           result[0] == "ok" and (str(dup) in result[1] or
                                  str(narrow) in result[1]), result)

    # What A may and may not do with her own derived tokens.
    result = a.call("R = [rd(P + '/user'), wr(P + '/privs', "
                    "'SeChangeNotify=disabled')]", P=obj)
    s.allow(cat, "A reads her own duplicate", result[0][0] == "ok",
            result[0])
    s.allow(cat, "A adjusts her own duplicate", result[1][0] == "ok",
            result[1])
    result = a.call("R = txn(P, 'type=primary')", P=f"{obj}/duplicate")
    s.deny(cat, "A duplicates her own duplicate (Peios default SD)",
           result[0] == "ok", result)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "rd(f'{M}/self/impersonate')[1]]", C=f"id:{dup}")
    a.call("txn(f'{M}/self/impersonate', 'revert')")
    s.deny(cat, "A impersonates her own duplicate (Peios default SD)",
           result[0][0] == "ok", result[0])
    result = a.call("R = txn(P, C)", P=env.p(target, "duplicate"),
                    C="access=IMPERSONATE")
    s.deny(cat, "A duplicates asking for IMPERSONATE on the copy",
           result[0] == "ok", result)
    result = a.call("R = wr(P, C)", P=f"{nobj}/security",
                    C=f"D:(A;;GA;;;{env.sid[USER_A]})")
    s.deny(cat, "A rewrites the DACL of her restricted copy",
           "GA" in env.state("objects", narrow, "security"), result)
    result = a.call("R = txn(P, 'drop-privs=SeUndock')",
                    P=f"{nobj}/restrict")
    s.allow(cat, "A restricts her restricted copy further",
            result[0] == "ok", result)
    result = a.call("R = txn(P, 'type=primary')", P=f"{nobj}/duplicate")
    s.allow(cat, "A duplicates her restricted copy", result[0] == "ok",
            result)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "txn(f'{M}/self/impersonate', 'revert')]",
                    C=f"id:{narrow}")
    s.allow(cat, "A impersonates her restricted copy",
            result[0][0] == "ok" and
            field(result[0][1], "level") == "Impersonation", result[0])
    s.allow(cat, "A reverts", result[1][0] == "ok", result[1])
    for what, pid in (("B's process", env.sleeper(USER_B)),
                      ("pid 1", 1), ("root's process", env.sleeper())):
        before = env.objects()
        result = a.call("R = txn(P, C)", P=env.p(target, "duplicate"),
                        C=f"holder=pid:{pid}")
        s.deny(cat, f"A hands a new duplicate's lifetime to {what}",
               result[0] == "ok", result)
        result = a.call("R = txn(P, C)", P=f"{obj}/persist",
                        C=f"holder=pid:{pid}")
        s.deny(cat, f"A hands her object's lifetime to {what}",
               result[0] == "ok", result)
    result = a.call("R = txn(P, C)", P=env.p(target, "duplicate"),
                    C=f"holder=pid:{target}")
    s.allow(cat, "A hands a new duplicate's lifetime to her own process",
            result[0] == "ok", result)
    result = a.call("R = [txn(P, 'yes'), txn(P, 'no')]", P=f"{obj}/persist")
    s.allow(cat, "A makes her object persistent and back",
            result[0][0] == "ok" and result[1][0] == "ok", result)
    result = rd(f"{obj}/privs")
    s.allow(cat, "root reads A's object", result[0] == "ok", result)
    extra = a.call("R = new_id(txn(P, 'type=primary')[1])",
                   P=env.p(target, "duplicate"))
    result = a.call("""
        try:
            os.rmdir(P)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]""", P=env.p("objects", extra))
    s.allow(cat, "A revokes her own object (rmdir)",
            result[0] == "ok" and not os.path.isdir(env.p("objects", extra)),
            result)
    try:
        os.rmdir(obj)
        result = ["ok", ""]
    except OSError as error:
        result = [ename(error), str(error)]
    s.allow(cat, "root (SYSTEM) revokes A's object", result[0] == "ok",
            result)


# ---------------------------------------------------------------------------
# capabilities: Linux capabilities behind the inspection right and the
# privileges, and the mytoken capabilities of the tree's gate


def capabilities(s, env):
    cat = "capabilities"
    tracer = env.new_agent(USER_A, caps=("sys_ptrace",))
    result = tracer.call("R = rd(f'{M}/self/privs')")
    s.allow(cat, "A with a real CAP_SYS_PTRACE holds SeDebug",
            result[0] == "ok" and "SeDebug" in result[1], result)
    hidden = env.new_agent(USER_A)
    hidden.call("import ctypes; R = ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)")
    result = tracer.call("R = rd(P)", P=env.p(hidden.pid, "privs"))
    s.allow(cat, "A with CAP_SYS_PTRACE reads her own non-dumpable "
            "process", result[0] == "ok", result)
    chkpwd = env.chkpwd()
    result = tracer.call("R = rd(P)", P=env.p(chkpwd, "groups"))
    s.allow(cat, "A with CAP_SYS_PTRACE reads her own setgid-shadow "
            "unix_chkpwd", result[0] == "ok", result)
    bs = env.sleeper(USER_B)
    result = tracer.call("R = rd(P)", P=env.p(bs, "privs"))
    s.deny(cat, "A with CAP_SYS_PTRACE reads B's token (B's SD still "
           "decides)", result[0] == "ok", result)
    env.drop(hidden)
    env.drop(tracer)

    blind = env.new_agent("root", prefix=["setpriv",
                                          "--bounding-set=-sys_ptrace",
                                          "--inh-caps=-sys_ptrace", "--"])
    caps = blind.call("R = open('/proc/self/status').read()")
    eff = int(re.search(r"CapEff:\s*([0-9a-f]+)", caps).group(1), 16)
    if eff & (1 << 19):
        raise SetupError("could not drop CAP_SYS_PTRACE from root")
    result = blind.call("R = rd(P)", P=env.p(env.sleeper(USER_A), "user"))
    s.deny(cat, "root without CAP_SYS_PTRACE reads A's token",
           result[0] == "ok", result)
    # ptrace_may_access also demands that the target's permitted
    # capabilities be a subset of the caller's effective ones (commoncap):
    # a full root process is out of reach without CAP_SYS_PTRACE, one with
    # the same reduced set is not.
    result = blind.call("R = rd(P)", P=env.p(env.sleeper(), "privs"))
    s.deny(cat, "root without CAP_SYS_PTRACE reads a full root process's "
           "token (its capabilities exceed the caller's)",
           result[0] == "ok", result)
    twin = env.new_agent("root", prefix=["setpriv",
                                         "--bounding-set=-sys_ptrace",
                                         "--inh-caps=-sys_ptrace", "--"])
    result = blind.call("R = rd(P)", P=env.p(twin.pid, "privs"))
    s.allow(cat, "root without CAP_SYS_PTRACE reads a root process with the "
            "same capabilities", result[0] == "ok", result)
    twin.call("import ctypes; R = ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)")
    result = blind.call("R = rd(P)", P=env.p(twin.pid, "privs"))
    s.deny(cat, "root without CAP_SYS_PTRACE reads that process once it is "
           "not dumpable", result[0] == "ok", result)
    env.drop(twin)
    env.drop(blind)

    # mytoken capabilities (the tree's capability gate).
    gated = env.new_agent(USER_A)
    sleeper = env.sleeper(USER_A)
    info = own_restricted(gated, command="caps=tokeninfo")
    spare = own_restricted(gated)
    capless = own_restricted(gated, command="caps=")
    result = gated.call("R = txn(f'{M}/self/impersonate', C)", C=f"id:{info}")
    if result[0] != "ok":
        raise SetupError(f"impersonating a tokeninfo-only copy: {result}")
    steps = (
        ("duplicates her sleeper (needs create_mytoken)", "denied",
         "R = txn(P + '/duplicate', 'type=primary')", env.p(sleeper)),
        ("restricts her own token (needs create_mytoken)", "denied",
         "R = txn(f'{M}/self/restrict', 'drop-privs=SeUndock')", ""),
        ("reads another token of her user (needs "
         "manage_mytokens:list)", "denied", "R = rd(P + '/privs')",
         env.p(sleeper)),
        ("revokes her own object (needs manage_mytokens:revoke)", "denied",
         "R = txn(P + '/persist', 'revoke')", env.p("objects", spare)),
        ("impersonates another token (needs AT)", "denied",
         "R = txn(f'{M}/self/impersonate', 'id:' + str(X))", ""),
        ("reads her own token (tokeninfo:introspect)", "allowed",
         "R = rd(f'{M}/self/user')", ""),
        ("reverts", "allowed", "R = txn(f'{M}/self/impersonate', 'revert')",
         ""))
    for what, expected, code, path in steps:
        result = gated.call(code, P=path, X=spare)
        s.expect(cat, f"impersonating a tokeninfo-only copy, A {what}",
                 expected, result[0] == "ok", result)
    result = gated.call("R = txn(P, 'caps=create_mytoken')",
                        P=env.p("objects", info, "restrict"))
    s.deny(cat, "A restricts a tokeninfo-only copy asking for "
           "create_mytoken", result[0] == "ok", result)
    result = gated.call("R = txn(P, 'caps=tokeninfo,AT')",
                        P=env.p("objects", info, "restrict"))
    s.deny(cat, "A restricts a tokeninfo-only copy asking for AT too",
           result[0] == "ok", result)
    result = gated.call("R = txn(f'{M}/self/impersonate', C)",
                        C=f"id:{capless}")
    if result[0] != "ok":
        raise SetupError(f"impersonating a capless copy: {result}")
    result = gated.call("R = rd(f'{M}/self/privs')")
    s.deny(cat, "impersonating a capless copy, A reads her own token "
           "(needs tokeninfo:introspect)", result[0] == "ok", result)
    result = gated.call("R = txn(f'{M}/self/impersonate', 'revert')")
    s.allow(cat, "impersonating a capless copy, A reverts",
            result[0] == "ok", result)
    env.drop(gated)


# ---------------------------------------------------------------------------
# specs: /tokens/create


def bad_specs(user_sid, session):
    good = spec_bytes(user_sid, session)

    def patch(offset, fmt, *values, base=None):
        data = bytearray(base if base is not None else good)
        struct.pack_into(fmt, data, offset, *values)
        return bytes(data)
    user_len = len(sid_bytes(user_sid))
    yield "version 3", spec_bytes(user_sid, session, version=3)
    yield "version 0", spec_bytes(user_sid, session, version=0)
    yield "100 bytes (truncated header)", good[:100]
    yield "191 bytes", good[:191]
    yield "header only (no user SID)", patch(88, "<I", 0)[:192]
    yield "token type 3", patch(4, "<B", 3)
    yield "primary token with level 4", patch(5, "<B", 4)
    yield "reserved bytes set", patch(6, "<B", 1)
    yield "enabled privilege not present", patch(16, "<QQ", 0, 1 << 7)
    yield "privilege bit 40 outside the catalog", patch(16, "<QQ", 1 << 40,
                                                        1 << 40)
    yield "projected uid 0 for a non-SYSTEM user", patch(36, "<I", 0)
    yield "user SID offset past the end", patch(88, "<I", 5000)
    yield "user SID offset inside the header", patch(88, "<I", 100)
    yield "2^32-1 groups", patch(92, "<II", 192 + user_len, 0xFFFFFFFF)
    yield "a logon SID among the groups", spec_bytes(
        user_sid, session, groups=("S-1-5-5-0-999",))
    yield "unknown logon session", spec_bytes(user_sid, 0x7777777)
    yield "unprintable source name", bytes(good[:72]) + b"\x01\x02\x03" + \
        bytes(5) + bytes(good[80:])
    yield "SID revision 2", bytes(good[:192]) + b"\x02" + bytes(good[193:])
    yield "70000 bytes", good + bytes(70000 - len(good))
    yield "integrity RID 2^32-1 with a bad policy", patch(8, "<II",
                                                          0xFFFFFFFF, 0xFF)


def specs(s, env):
    cat = "specs"
    a = env.agent(USER_A)
    sid_a = env.sid[USER_A]
    session_a = auth_id(env, a.pid)
    spec = spec_bytes(sid_a, session_a)
    for what, data in (
            ("a plain spec of herself", spec),
            ("a spec holding SeTcb", spec_bytes(sid_a, session_a,
                                                privileges=bits("SeTcb"))),
            ("a SYSTEM spec", spec_bytes("S-1-5-18", 0x3e7, projected=(0, 0))),
            ("a High-integrity spec", spec_bytes(sid_a, session_a,
                                                 integrity=0x3000))):
        before = env.objects()
        result = a.call("R = txn(f'{M}/create', bytes.fromhex(H))",
                        H=data.hex())
        s.deny(cat, f"A creates {what}",
               result[0] == "ok" or env.objects() > before, result)
    spec_file = os.path.join(env.work, "spec.bin")
    with open(spec_file, "wb") as file:
        file.write(spec_bytes(sid_a, session_a, privileges=bits("SeTcb")))
    os.chmod(spec_file, 0o644)
    result = a.call("R = run([T, 'create', F])", T=env.token, F=spec_file)
    s.deny(cat, "A runs token create", result[0] == 0, result)
    result = a.call("R = run([T, 'install', F])", T=env.token, F=spec_file)
    s.deny(cat, "A runs token install", result[0] == 0, result)

    session_root = auth_id(env, os.getpid())
    for what, data in bad_specs(sid_a, session_root):
        before = env.objects()
        result = txn(env.p("create"), data)
        s.deny(cat, f"root creates from a malformed spec: {what}",
               result[0] == "ok" or env.objects() > before, result)
    result = txn(env.p("create"), spec_bytes(
        sid_a, session_root, privileges=bits("SeTcb", "SeDebug")))
    s.allow(cat, "root creates a token from a valid spec",
            result[0] == "ok" and new_id(result[1]), result)
    if new_id(result[1]):
        os.rmdir(env.p("objects", new_id(result[1])))
    alive = rd(env.p("registry"))
    s.allow(cat, "the daemon still answers after the malformed specs",
            alive[0] == "ok", alive)


# ---------------------------------------------------------------------------
# fd passing: descriptors opened by one identity and used by another


def fd_listen(env, agent, name):
    path = os.path.join(env.socks, f"fd-{name}.sock")
    agent.call("""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(P)
        FDL = socket.socket(socket.AF_UNIX)
        FDL.bind(P)
        os.chmod(P, 0o777)
        FDL.listen(8)""", P=path)
    return path


def send_fd(path, fd):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        socket.send_fds(sock, [b"f"], [fd])
        time.sleep(0.01)


RECEIVE = """
_conn, _ = FDL.accept()
_, _fds, _, _ = socket.recv_fds(_conn, 1, 4)
_conn.close()
FD = _fds[0]
"""


def fd_passing(s, env):
    cat = "fd-passing"
    a, b = env.agent(USER_A), env.agent(USER_B)
    a_path = fd_listen(env, a, "a")
    b_path = fd_listen(env, b, "b")
    target_a = env.sleeper(USER_A)
    target_b = env.sleeper(USER_B)

    # A opens her own privs and hands the descriptor to B.
    a.call("_fd = os.open(P, os.O_WRONLY)\n"
           "with socket.socket(socket.AF_UNIX) as _s:\n"
           "    _s.connect(Q)\n"
           "    socket.send_fds(_s, [b'f'], [_fd])\n"
           "os.close(_fd)", P=env.p(target_a, "privs"), Q=b_path)
    before = env.state(target_a, "all")
    result = b.call(RECEIVE + "R = wfd(FD, 'SeChangeNotify=disabled')\n"
                    "os.close(FD)")
    s.deny(cat, "B writes through a descriptor A opened on her privs",
           env.state(target_a, "all") != before, result)

    def root_hands(path, flags, command, what, judge, agent=a,
                   listen=a_path, expected="denied"):
        fd = os.open(path, flags)
        try:
            send_fd(listen, fd)
        finally:
            os.close(fd)
        if isinstance(command, str):
            command = command.encode()
        result = agent.call(RECEIVE + "R = wfd(FD, bytes.fromhex(H))\n"
                            "try:\n"
                            "    R.append(os.read(FD, 4096).decode())\n"
                            "except OSError as error:\n"
                            "    R.append(ename(error))\n"
                            "os.close(FD)", H=command.hex())
        s.expect(cat, what, expected, judge(result), result)

    before = env.state(target_b, "all")
    root_hands(env.p(target_b, "privs"), os.O_WRONLY,
               "SeChangeNotify=disabled",
               "A writes B's privs through a descriptor root opened",
               lambda r: env.state(target_b, "all") != before)
    before = env.state(target_a, "all")
    root_hands(env.p(target_a, "privs"), os.O_WRONLY,
               "SeChangeNotify=disabled",
               "A writes her own privs through a descriptor root opened",
               lambda r: env.state(target_a, "all") != before)
    before = env.state(target_a, "integrity")
    root_hands(env.p(target_a, "integrity"), os.O_WRONLY, "system",
               "A raises her integrity through a descriptor root opened",
               lambda r: env.state(target_a, "integrity") != before)
    session = auth_id(env, target_a)
    count = env.objects()
    root_hands(env.p("create"), os.O_RDWR,
               spec_bytes(env.sid[USER_A], session,
                          privileges=bits("SeTcb")),
               "A creates a token through root's /tokens/create descriptor",
               lambda r: r[0] == "ok" or env.objects() > count)
    x, y = own_restricted(a), own_restricted(a)
    root_hands(env.p("link"), os.O_RDWR,
               f"elevated=id:{x} filtered=id:{y} session={session}",
               "A links two of her tokens through root's /tokens/link "
               "descriptor", lambda r: r[0] == "ok")
    before = field(env.state(target_a, "stats"), "token_id")
    root_hands(env.p(target_a, "install"), os.O_RDWR, f"id:{x}",
               "A installs a token through root's install descriptor",
               lambda r: field(env.state(target_a, "stats"), "token_id")
               != before)
    root = env.sleeper()
    root_hands(env.p(a.pid, a.pid, "impersonate"), os.O_RDWR,
               f"pid:{root}", "A impersonates root through root's descriptor "
               "on her thread's impersonate",
               lambda r: "id:" in env.state(a.pid, a.pid, "impersonate"))
    count = env.objects()
    root_hands(env.p(target_b, "duplicate"), os.O_RDWR, "type=primary",
               "A duplicates B's token through root's descriptor",
               lambda r: r[0] == "ok" or env.objects() > count)
    root_hands(env.p(target_b, "access"), os.O_RDWR, "desired=QUERY",
               "A runs an access check on B's token through root's "
               "descriptor", lambda r: r[0] == "ok")

    # A Medium opener that lowers itself is another identity.
    low = env.new_agent(USER_A)
    before = env.state(target_a, "all")
    result = low.call("""
        _fd = os.open(P, os.O_WRONLY)
        _low = wr(f'{M}/self/integrity', 'low')
        R = [_low, wfd(_fd, 'SeChangeNotify=disabled')]
        os.close(_fd)""", P=env.p(target_a, "privs"))
    s.deny(cat, "A opens a Medium token at Medium, lowers herself to Low, "
           "then writes", env.state(target_a, "all") != before, result)
    env.drop(low)

    # Reading a descriptor root opened and passed on (content fixed at open).
    fd = os.open(env.p(target_b, "user"), os.O_RDONLY)
    try:
        send_fd(a_path, fd)
    finally:
        os.close(fd)
    result = a.call(RECEIVE + "R = os.read(FD, 4096).decode()\nos.close(FD)")
    s.allow(cat, "A reads a read-only descriptor root opened on B's user "
            "and passed to her", env.sid[USER_B] in result, result)


# ---------------------------------------------------------------------------
# peer sockets: /tokens/peer/<fd>

CONNECT = """
PEER = socket.socket(socket.AF_UNIX)
PEER.connect(P)
PFD = PEER.fileno()
R = rl(f'{M}/peer/{PFD}')
"""


def peer(s, env):
    cat = "peer"
    server, path = env.root_server()
    rpid = server.pid
    a = env.new_agent(USER_A)
    result = a.call(CONNECT, P=path)
    s.allow(cat, "A resolves peer/FD of her connection to a root service",
            result == ["ok", f"../{rpid}"], result)
    for what, file in (("privs", "privs"), ("query/all", "query/all"),
                       ("user", "user")):
        result = a.call("R = rd(P)", P=env.p(rpid, file))
        s.allow(cat, f"A reads her root peer's {what} (peer grant)",
                result[0] == "ok", result)
    before = env.state(rpid, "all")
    result = a.call("R = wr(P, 'SeDebug=disabled')", P=env.p(rpid, "privs"))
    s.deny(cat, "A adjusts her root peer's privs",
           env.state(rpid, "all") != before, result)
    for what, file, command in (
            ("duplicates", "duplicate", "type=primary"),
            ("restricts", "restrict", "drop-privs=SeDebug"),
            ("runs an access check with", "access", "desired=QUERY")):
        result = a.call("R = txn(P, C)", P=env.p(rpid, file), C=command)
        s.expect(cat, f"A {what} her root peer's token",
                 "allowed" if file == "access" else "denied",
                 result[0] == "ok", result)
    result = a.call("R = wr(P, C)", P=env.p(rpid, "security"),
                    C=f"D:(A;;GA;;;{env.sid[USER_A]})")
    s.deny(cat, "A rewrites her root peer's token DACL",
           env.sid[USER_A] in env.state(rpid, "security"), result)
    for level in ("impersonation", "delegation"):
        result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                        "txn(f'{M}/self/impersonate', 'revert')]",
                        C=f"pid:{rpid} level={level}")
        got = field(result[0][1], "level")
        s.deny(cat, f"A impersonates her root peer at {level} level",
               got in ("Impersonation", "Delegation"), result[0])
    result = a.call("R = run([sys.executable, '-c', C])",
                    C=f"import sys; sys.stdout.write(open('{env.m}/{rpid}/"
                    "privs').read())")
    s.deny(cat, "a child A starts after resolving the peer reads it "
           "(the grant is per process)", result[0] == 0, result)
    result = env.agent(USER_A).call("R = rd(P)", P=env.p(rpid, "privs"))
    s.deny(cat, "another process of A reads the root peer", result[0] == "ok",
           result)
    result = a.call("""
        _file = os.open('/dev/null', os.O_RDONLY)
        _listener = socket.socket(socket.AF_UNIX)
        _listener.bind('\\0tkatk-peer-' + str(os.getpid()))
        _listener.listen(1)
        _udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        R = [rl(f'{M}/peer/{_file}'), rl(f'{M}/peer/{_listener.fileno()}'),
             rl(f'{M}/peer/{_udp.fileno()}')]
        os.close(_file)
        _listener.close()
        _udp.close()""")
    for what, one in zip(("a regular file", "a listening socket",
                          "a UDP socket"), result):
        # A listening socket's SO_PEERCRED names its own creator: herself.
        s.deny(cat, f"A resolves peer/FD of {what} to another process",
               one[0] == "ok" and one[1] != f"../{a.pid}", one)

    # B connects to A: A may look at B, not change it.
    listen = os.path.join(env.socks, "a-listen.sock")
    a.call("""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(P)
        LISTENER = socket.socket(socket.AF_UNIX)
        LISTENER.bind(P)
        os.chmod(P, 0o777)
        LISTENER.listen(4)""", P=listen)
    b = env.new_agent(USER_B)
    b.call("CLIENT = socket.socket(socket.AF_UNIX); CLIENT.connect(P)",
           P=listen)
    result = a.call("CONN = LISTENER.accept()[0]\n"
                    "R = rl(f'{M}/peer/{CONN.fileno()}')")
    s.allow(cat, "A resolves the peer of B's connection to her",
            result == ["ok", f"../{b.pid}"], result)
    result = a.call("R = rd(P)", P=env.p(b.pid, "groups"))
    s.allow(cat, "A reads her peer B's token", result[0] == "ok", result)
    result = b.call("R = rl(f'{M}/peer/{CLIENT.fileno()}')")
    s.allow(cat, "B resolves her peer A", result == ["ok", f"../{a.pid}"],
            result)
    before = env.state(b.pid, "all")
    result = a.call("R = wr(P, 'SeChangeNotify=disabled')",
                    P=env.p(b.pid, "privs"))
    s.deny(cat, "A adjusts her peer B's token",
           env.state(b.pid, "all") != before, result)
    result = a.call("R = txn(P, 'type=primary')", P=env.p(b.pid, "duplicate"))
    s.deny(cat, "A duplicates her peer B's token", result[0] == "ok", result)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "txn(f'{M}/self/impersonate', 'revert')]",
                    C=f"pid:{b.pid}")
    s.deny(cat, "A impersonates her peer B at Impersonation level",
           field(result[0][1], "level") in ("Impersonation", "Delegation"),
           result[0])
    env.drop(b)
    env.drop(a)

    # Finding 3: a peer whose credentials changed since it connected.
    suid = env.setuid_sleep()
    a = env.new_agent(USER_A)
    child = a.call("""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(P)
        LISTENER = socket.socket(socket.AF_UNIX)
        LISTENER.bind(P)
        LISTENER.listen(4)
        _child = os.fork()
        if _child == 0:
            try:
                _sock = socket.socket(socket.AF_UNIX)
                _sock.connect(P)
                os.set_inheritable(_sock.fileno(), True)
                os.execv(X, [X, '600'])
            finally:
                os._exit(127)
        CONN = LISTENER.accept()[0]
        wait_for(lambda: (proc_ids(_child) or [[0, '-1']])[0][1] == '0')
        R = _child""", P=os.path.join(env.socks, "suid-peer.sock"), X=suid)
    env.extra_pids.append(child)
    ids = proc_ids(child)
    if not ids or ids[0][1] != "0":
        raise SetupError(f"the setuid-root peer did not become root: {ids}")
    rd(env.p(child, "type"))
    result = a.call("R = rl(f'{M}/peer/{CONN.fileno()}')")
    s.deny(cat, "finding 3: A resolves the peer of her child that exec'd "
           "a setuid-root program after connecting", result[0] == "ok",
           result)
    result = a.call("R = rd(P)", P=env.p(child, "privs"))
    s.deny(cat, "finding 3: A reads that setuid-root peer's token",
           result[0] == "ok", result)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "rd(f'{M}/self/user')]", C=f"pid:{child}")
    s.deny(cat, "finding 3: A impersonates that setuid-root peer",
           result[0][0] == "ok", result)
    a.call("txn(f'{M}/self/impersonate', 'revert')")
    env.drop(a)


# ---------------------------------------------------------------------------
# impersonation levels: Anonymous and Identification grant nothing


def impersonation_levels(s, env):
    cat = "impersonation-levels"
    server, path = env.root_server()
    rpid = server.pid
    for level in ("identification", "anonymous"):
        a = env.new_agent(USER_A)
        install_target = env.sleeper(USER_A)
        adjust_target = env.sleeper(USER_A)
        first, second = own_restricted(a), own_restricted(a)
        session = auth_id(env, a.pid)
        spec = spec_bytes(env.sid[USER_A], session,
                          privileges=bits("SeCreateToken", "SeTcb"))
        result = a.call(CONNECT, P=path)
        if result[0] != "ok":
            raise SetupError(f"resolving the root peer: {result}")
        result = a.call("R = txn(f'{M}/self/impersonate', C)",
                        C=f"pid:{rpid} level={level}")
        got = field(result[1], "level")
        s.allow(cat, f"A impersonates her root peer at {level} level",
                result[0] == "ok" and got == level.capitalize(), result)
        tag = f"finding 2: at {level} level of SYSTEM, A"
        count = env.objects()
        result = a.call("R = txn(f'{M}/create', bytes.fromhex(H))",
                        H=spec.hex())
        s.deny(cat, f"{tag} creates a token holding SeCreateToken and "
               "SeTcb", result[0] == "ok" or env.objects() > count, result)
        before = field(env.state(install_target, "stats"), "token_id")
        result = a.call("R = txn(P, C)", P=env.p(install_target, "install"),
                        C=f"id:{first}")
        s.deny(cat, f"{tag} installs her token into her own process "
               "(SeAssignPrimaryToken)",
               field(env.state(install_target, "stats"), "token_id")
               != before, result)
        result = a.call("R = txn(f'{M}/link', C)",
                        C=f"elevated=id:{first} filtered=id:{second} "
                        f"session={session}")
        s.deny(cat, f"{tag} links an elevation pair (SeTcb)",
               result[0] == "ok" or "Full" in env.state(
                   "objects", first, "elevation"), result)
        result = a.call("R = wr(P, 'system')",
                        P=env.p(adjust_target, "integrity"))
        s.deny(cat, f"{tag} raises her integrity to System (SeTcb)",
               env.state(adjust_target, "integrity").startswith("System"),
               result)
        result = a.call("R = wr(P, '9')", P=env.p(adjust_target, "session"))
        s.deny(cat, f"{tag} sets her session id (SeTcb)",
               field(env.state(adjust_target, "session"),
                     "session_id") == "9", result)
        result = a.call("R = wr(P, 'SeTcb=enabled')",
                        P=env.p(adjust_target, "privs"))
        s.deny(cat, f"{tag} enables SeTcb on her token",
               enabled(env.state(adjust_target, "privs"), "SeTcb"), result)
        for what, code in (
                ("reads pid 1's token", "R = rd(f'{M}/1/privs')"),
                ("reads a root process's token",
                 f"R = rd(f'{{M}}/{env.sleeper()}/privs')"),
                ("duplicates her root peer's token",
                 f"R = txn(f'{{M}}/{rpid}/duplicate', 'type=primary')"),
                ("rewrites her root peer's DACL",
                 f"R = wr(f'{{M}}/{rpid}/security', 'D:(A;;GA;;;WD)')"),
                ("reads B's token",
                 f"R = rd(f'{{M}}/{env.sleeper(USER_B)}/privs')")):
            result = a.call(code)
            s.deny(cat, f"{tag} {what}", result[0] == "ok", result)
        result = a.call("R = rd(P)", P=env.p(a.pid, "privs"))
        s.allow(cat, f"at {level} level, A reads her own primary token "
                "(opened as self)", result[0] == "ok", result)
        result = a.call("R = txn(P, 'type=primary')",
                        P=env.p(adjust_target, "duplicate"))
        s.allow(cat, f"at {level} level, A duplicates her own process's "
                "token (opened as self)", result[0] == "ok", result)
        result = a.call("R = txn(f'{M}/self/impersonate', 'revert')")
        s.allow(cat, f"at {level} level, A reverts", result[0] == "ok",
                result)
        env.drop(a)

    # Root impersonating a user: that user's rights, at Impersonation.
    root = env.new_agent("root")
    target = env.sleeper(USER_A)
    bs = env.sleeper(USER_B)
    result = root.call("R = txn(f'{M}/self/impersonate', C)",
                       C=f"pid:{target}")
    if result[0] != "ok" or field(result[1], "level") != "Impersonation":
        raise SetupError(f"root impersonating A: {result}")
    count = env.objects()
    result = root.call("R = txn(f'{M}/create', bytes.fromhex(H))",
                       H=spec_bytes(env.sid[USER_A], auth_id(env, target))
                       .hex())
    s.deny(cat, "root impersonating A at Impersonation level creates a "
           "token (A lacks SeCreateToken)",
           result[0] == "ok" or env.objects() > count, result)
    result = root.call("R = rd(P)", P=env.p(bs, "privs"))
    s.deny(cat, "root impersonating A at Impersonation level reads B's "
           "token", result[0] == "ok", result)
    result = root.call("R = [txn(f'{M}/self/impersonate', 'revert'), "
                       "txn(f'{M}/self/impersonate', C)]",
                       C=f"pid:{target} level=identification")
    result = root.call("R = rd(P)", P=env.p(bs, "privs"))
    s.allow(cat, "root impersonating A at Identification level reads B's "
            "token (opened as self)", result[0] == "ok", result)
    root.call("txn(f'{M}/self/impersonate', 'revert')")
    env.drop(root)

    # The sudo user and the Identification copy of her Full token.
    adm = env.new_agent(USER_ADM)
    adm_target = env.sleeper(USER_ADM)
    link = adm.call("R = rl(f'{M}/self/linked')")
    if link[0] != "ok":
        raise SetupError(f"no linked token for the sudo user: {link}")
    copy = int(link[1].rsplit("/", 1)[1])
    result = adm.call("R = rd(P)", P=env.p("objects", copy, "level"))
    s.deny(cat, "the sudo user's linked copy is above Identification",
           "Identification" not in result[1], result)
    for what, command in (("a primary token", "type=primary"),
                          ("an Impersonation-level token",
                           "type=impersonation level=impersonation"),
                          ("a Delegation-level token",
                           "type=impersonation level=delegation")):
        result = adm.call("R = txn(P, C)",
                          P=env.p("objects", copy, "duplicate"), C=command)
        s.deny(cat, f"the sudo user duplicates her Full copy into {what}",
               result[0] == "ok", result)
    result = adm.call("R = txn(P, C)", P=env.p(adm_target, "install"),
                      C=f"id:{copy}")
    s.deny(cat, "the sudo user installs her Full copy",
           result[0] == "ok", result)
    result = adm.call("R = txn(f'{M}/self/impersonate', C)", C=f"id:{copy}")
    s.deny(cat, "the sudo user impersonates her Full copy above "
           "Identification level", result[0] == "ok" and
           field(result[1], "level") in ("Impersonation", "Delegation"),
           result)
    for what, code in (
            ("enables SeDebug on her Limited token",
             f"R = [wr(f'{{M}}/{adm_target}/privs', 'SeDebug=enabled'), "
             f"rd(f'{{M}}/{adm_target}/privs')[1]]"),
            ("enables the deny-only Administrators group",
             f"R = [wr(f'{{M}}/{adm_target}/groups', 'reset'), "
             f"rd(f'{{M}}/{adm_target}/groups')[1]]")):
        result = adm.call(code)
        text = result[1]
        gained = (enabled(text, "SeDebug") if "privs" in code else
                  any("S-1-5-32-544" in line and "deny-only" not in line
                      for line in text.splitlines()))
        s.deny(cat, f"having tried to impersonate her Full copy, the sudo "
               f"user {what}",
               gained, result[0])
    result = adm.call("R = rd(P)", P=env.p(env.sleeper(USER_A), "privs"))
    s.deny(cat, "having tried to impersonate her Full copy, the sudo user "
           "reads A's token",
           result[0] == "ok", result)
    adm.call("txn(f'{M}/self/impersonate', 'revert')")
    env.drop(adm)

    # New threads that impersonate at once, before their clone is reported:
    # the report must not wipe the impersonation (the thread would act with
    # its process's unrestricted token).
    a = env.new_agent(USER_A)
    mine = own_restricted(a, command="drop-privs=SeShutdown "
                          f"restrict={env.sid[USER_A]},S-1-1-0")
    result = a.call(THREADS_IMPERSONATE, X=str(mine), N=20)
    lost = [line for line in result if "restricted  yes" not in line]
    s.deny(cat, "a new thread that impersonates A's restricted copy at once "
           "loses it when its clone is reported (20 threads)", bool(lost),
           lost[0] if lost else "kept 20 of 20")
    env.drop(a)


# N threads, each impersonating token X as soon as it runs; once all did,
# and the daemon had time to read their clone events, each reads its own
# `restricted` file. R: one answer per thread.
THREADS_IMPERSONATE = '''
import threading
_go = threading.Event()
_answers = []
def _impersonate_then_read():
    # From a thread, self names that thread's own token directory.
    first = txn(f"{M}/self/impersonate", f"id:{X}")
    _go.wait()
    answer = rd(f"{M}/self/restricted")
    _answers.append(answer[1] if first[0] == "ok" else str(first))
_threads = [threading.Thread(target=_impersonate_then_read)
            for _ in range(N)]
for _thread in _threads:
    _thread.start()
time.sleep(0.5)
_go.set()
for _thread in _threads:
    _thread.join()
R = _answers
'''


# ---------------------------------------------------------------------------
# token impersonate -- command


def impersonate_command(s, env):
    cat = "impersonate-cmd"
    token = env.token
    a = env.new_agent(USER_A)
    sid_a = env.sid[USER_A]
    rs, bs, as_ = env.sleeper(), env.sleeper(USER_B), env.sleeper(USER_A)
    mine = own_restricted(a)
    dup = a.call("R = new_id(txn(f'{M}/self/duplicate', 'type=primary')[1])")
    system = new_id(txn(env.p(rs, "duplicate"), "type=primary persist")[1])
    wr(env.p("objects", system, "security"),
       f"D:(A;;GA;;;{sid_a})(A;;GA;;;SY)")
    b = env.agent(USER_B)
    b_copy = own_restricted(b)
    show = "cat \"$TOKENFS_ROOT/self/user\"; id -u"
    denied = (
        ("a root process's token", ["--pid", str(rs)]),
        ("B's token", ["--pid", str(bs)]),
        ("her own duplicate (no IMPERSONATE)", ["--id", str(dup)]),
        ("a SYSTEM token root opened to her", ["--id", str(system)]),
        ("B's restricted copy", ["--id", str(b_copy)]))
    for what, target in denied:
        result = a.call("R = run([T, 'impersonate', *X, '--', 'sh', '-c', C])",
                        T=token, X=target, C=show)
        s.deny(cat, f"A runs a command under {what}",
               result[0] == 0 and sid_a not in result[1], result)
    result = a.call(CONNECT + "R = run([T, 'impersonate', '--peer', "
                    "str(PFD), '--', 'sh', '-c', C], pass_fds=[PFD])",
                    P=env.root_server()[1], T=token, C=show)
    s.deny(cat, "A runs a command under her root peer's token",
           result[0] == 0 and "S-1-5-18" in result[1], result)
    result = a.call("R = run([T, 'impersonate', '--id', X, '--', 'sh', "
                    "'-c', C])", T=token, X=str(mine), C=show)
    s.allow(cat, "A runs a command under her own restricted copy",
            result[0] == 0 and sid_a in result[1] and
            result[1].split()[-1] == str(env.uid[USER_A]), result)
    result = a.call("R = run([T, 'impersonate', '--id', X, '--level', "
                    "'identification', '--', 'true'])", T=token, X=str(mine))
    s.allow(cat, "A runs a command under her restricted copy at "
            "Identification level (narrower than herself)", result[0] == 0,
            result)
    result = a.call("R = run([T, 'impersonate', '--id', X, '--', T, "
                    "'adjust', 'privs', 'SeDebug=enabled'])", T=token,
                    X=str(mine))
    s.deny(cat, "A's command under her restricted copy enables SeDebug",
           result[0] == 0, result)
    result = run([token, "impersonate", "--pid", str(as_), "--", "sh", "-c",
                  show], env=dict(os.environ, TOKENFS_ROOT=env.m))
    s.allow(cat, "root runs a command under A's token",
            result[0] == 0 and sid_a in result[1] and
            result[1].split()[-1] == str(env.uid[USER_A]), result)
    adm = env.new_agent(USER_ADM)
    link = adm.call("R = rl(f'{M}/self/linked')")
    copy = link[1].rsplit("/", 1)[-1]
    result = adm.call("R = run([T, 'impersonate', '--id', X, '--', 'true'])",
                      T=token, X=copy)
    s.deny(cat, "the sudo user runs a command under her Full copy",
           result[0] == 0, result)
    with contextlib.suppress(OSError):
        os.rmdir(env.p("objects", system))
    env.drop(adm)
    env.drop(a)


# ---------------------------------------------------------------------------
# setuid and exec


EXEC_UNDER = """
_pid = os.fork()
if _pid == 0:
    try:
        _out = os.open(O, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(_out, 1)
        exec(PRE)
        os.execv('/bin/cat', ['cat', f'{M}/self/user'])
    finally:
        os._exit(127)
os.waitpid(_pid, 0)
R = open(O).read()
"""


def setuid_exec(s, env):
    cat = "setuid-exec"
    a = env.agent(USER_A)
    suid = env.setuid_sleep()
    process = env.spawn(as_user(USER_A) + [suid, "600"], "suid-sleep")
    pid = process.pid
    if env.state(pid, "user").split()[0] != "S-1-5-18":
        raise SetupError("the setuid-root sleeper is not SYSTEM")
    mine = own_restricted(a)
    result = a.call("R = rd(P)", P=env.p(pid, "privs"))
    s.deny(cat, "A reads the token of her setuid-root process",
           result[0] == "ok", result)
    result = a.call("R = rd(P)", P=env.p(pid, pid, "impersonate"))
    s.deny(cat, "finding 5: A reads her setuid-root process's "
           "impersonate file", result[0] == "ok", result)
    before = env.state(pid, "all")
    result = a.call("R = wr(P, 'SeDebug=disabled')", P=env.p(pid, "privs"))
    s.deny(cat, "A adjusts her setuid-root process's token",
           env.state(pid, "all") != before, result)
    result = a.call("R = txn(P, 'type=primary')", P=env.p(pid, "duplicate"))
    s.deny(cat, "A duplicates her setuid-root process's token",
           result[0] == "ok", result)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "txn(f'{M}/self/impersonate', 'revert')]",
                    C=f"pid:{pid}")
    s.deny(cat, "A impersonates her setuid-root process",
           result[0][0] == "ok", result[0])
    result = a.call("R = txn(P, C)", P=env.p(pid, pid, "impersonate"),
                    C=f"id:{mine}")
    s.deny(cat, "A makes her setuid-root process impersonate her token",
           "id:" in env.state(pid, pid, "impersonate"), result)
    result = a.call("R = txn(P, C)", P=env.p(pid, "install"), C=f"id:{mine}")
    s.deny(cat, "A installs her token into her setuid-root process",
           env.state(pid, "user").split()[0] != "S-1-5-18", result)

    # Impersonation across exec.
    server, path = env.root_server()
    child = env.new_agent(USER_A)
    child.call(CONNECT, P=path)
    out = os.path.join(env.socks, f"exec-{child.pid}.out")
    result = child.call(EXEC_UNDER, O=out, PRE=(
        "rl(f'{M}/peer/{PFD}'); "
        f"txn(f'{{M}}/self/impersonate', 'pid:{server.pid} "
        "level=identification')"))
    s.deny(cat, "a SYSTEM Identification impersonation survives exec",
           "S-1-5-18" in result, result)
    result = child.call(EXEC_UNDER, O=out, PRE=(
        "rl(f'{M}/peer/{PFD}'); "
        f"txn(f'{{M}}/self/impersonate', 'pid:{server.pid} exec')"))
    s.deny(cat, "A adopts her root peer's token at exec",
           "S-1-5-18" in result, result)
    result = child.call(EXEC_UNDER, O=out, PRE=(
        f"txn(f'{{M}}/self/impersonate', 'id:{mine} exec')"))
    s.allow(cat, "A adopts her own restricted copy at exec",
            env.sid[USER_A] in result, result)
    env.drop(child)

    # A root process that dropped to A without exec (not dumpable).
    dropped = env.track(subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, time
            os.setgroups([{env.gid[USER_A]}])
            os.setresgid({env.gid[USER_A]}, {env.gid[USER_A]}, {env.gid[USER_A]})
            os.setresuid({env.uid[USER_A]}, {env.uid[USER_A]}, {env.uid[USER_A]})
            print('dropped', flush=True)
            time.sleep(600)""")], stdout=subprocess.PIPE, text=True,
        cwd=env.work))
    dropped.stdout.readline()
    time.sleep(0.1)
    user = env.state(dropped.pid, "user")
    result = a.call("R = rd(P)", P=env.p(dropped.pid, "privs"))
    s.deny(cat, f"finding 4: A reads a root process that dropped to her "
           f"uid without exec (not dumpable; token {user.split()[0]})",
           result[0] == "ok", result)


# ---------------------------------------------------------------------------
# narrowing: changes of credentials any process may make (no_new_privs, a
# new user namespace, dropped capabilities) never buy a fresh token


def narrowing(s, env):
    cat = "narrowing"
    token = env.token
    a = env.new_agent(USER_A)
    mine = own_restricted(a, command="drop-privs=SeShutdown "
                          f"restrict={env.sid[USER_A]},S-1-1-0")
    files = ('"$TOKENFS_ROOT/self/restricted" "$TOKENFS_ROOT/self/privs" '
             '"$TOKENFS_ROOT/self/integrity"')
    for wrapper in ("setpriv --no-new-privs", "unshare -U -r",
                    "unshare -U -r setpriv --no-new-privs"):
        result = a.call("R = run([T, 'impersonate', '--id', X, '--', 'sh', "
                        "'-c', C])", T=token, X=str(mine),
                        C=f"exec {wrapper} cat {files}")
        kept = (result[0] == 0 and "restricted  yes" in result[1] and
                "SeShutdown" not in result[1])
        s.deny(cat, f"finding 10: A's command under her restricted copy "
               f"sheds it by exec {wrapper}", not kept, result)
    # An exec from a thread other than the main one: the kernel reports the
    # old leader's exit before the exec (a race the attacker may retry).
    thread_exec = ("import os, sys, threading; threading.Thread(target="
                   "lambda: os.execv('/bin/cat', ['cat'] + sys.argv[1:]))"
                   ".start(); threading.Event().wait()")
    paths = [f"{env.m}/self/restricted", f"{env.m}/self/privs"]
    escaped = []
    for _ in range(10):
        result = a.call("R = run([T, 'impersonate', '--id', X, '--', P, "
                        "'-c', C, *F])", T=token, X=str(mine), P=USER_PY,
                        C=thread_exec, F=paths)
        if not (result[0] == 0 and "restricted  yes" in result[1] and
                "SeShutdown" not in result[1]):
            escaped.append(result)
    s.deny(cat, "A's command under her restricted copy sheds it by exec "
           "from a thread (10 tries)", bool(escaped),
           escaped[0] if escaped else "kept 10 of 10")
    # A set-user-ID root helper that hands her back a shell: sg (newgrp) to
    # her own group needs no password.
    group_a = grp.getgrgid(user_ids(USER_A)[1]).gr_name
    result = a.call("R = run([T, 'impersonate', '--id', X, '--', 'sh', "
                    "'-c', C])", T=token, X=str(mine),
                    C=f"exec sg {group_a} -c 'cat {files}'")
    kept = (result[0] == 0 and "restricted  yes" in result[1] and
            "SeShutdown" not in result[1])
    s.deny(cat, "finding 10: A's command under her restricted copy sheds it "
           "through sg to her own group (a set-user-ID root helper that "
           "hands back a shell)", not kept, result)
    # The same helper as the command itself: the adoption is taken at the
    # set-user-ID exec, and must come back when sg drops to her ids.
    result = a.call("R = run([T, 'impersonate', '--id', X, '--', 'sg', G, "
                    "'-c', C])", T=token, X=str(mine), G=group_a,
                    C=f"cat {files}")
    kept = (result[0] == 0 and "restricted  yes" in result[1] and
            "SeShutdown" not in result[1])
    s.deny(cat, "A's restricted copy adopted at the exec of sg itself is "
           "shed when sg hands back her shell", not kept, result)
    # Her own set-group-ID program, for a group she is a member of: the
    # exec changes her gid to one she held already.
    uid, primary = user_ids(USER_A)
    group_g = grp.getgrnam(GROUP_G).gr_gid
    member = env.new_agent(USER_A, prefix=[
        "setpriv", f"--reuid={uid}", f"--regid={primary}",
        f"--groups={primary},{group_g}", "--"])
    sgid_env = os.path.join(env.work, "sgid-env")
    shutil.copy(shutil.which("env"), sgid_env)
    os.chown(sgid_env, 0, group_g)
    os.chmod(sgid_env, 0o2755)
    copy = own_restricted(member, command="drop-privs=SeShutdown "
                          f"restrict={env.sid[USER_A]},S-1-1-0")
    result = member.call("R = run([T, 'impersonate', '--id', X, '--', 'sh', "
                         "'-c', C])", T=token, X=str(copy),
                         C=f"exec {sgid_env} cat {files}")
    kept = (result[0] == 0 and "restricted  yes" in result[1] and
            "SeShutdown" not in result[1])
    s.deny(cat, "finding 10: A's command under her restricted copy sheds it "
           "by exec of a set-group-ID program of one of her own groups",
           not kept, result)
    env.drop(member)
    result = a.call("R = run(['sh', '-c', C])", C=(
        'echo low > "$TOKENFS_ROOT/self/integrity" && '
        'echo SeShutdown=removed > "$TOKENFS_ROOT/self/privs" && '
        f"exec setpriv --no-new-privs cat {files}"))
    kept = (result[0] == 0 and result[1].count("Low  S-1-16-4096") == 1 and
            "SeShutdown" not in result[1] and "new-process-min" in result[1])
    s.deny(cat, "finding 10: A raises her lowered integrity and regains a "
           "removed privilege by exec setpriv --no-new-privs", not kept,
           result)
    result = a.call("R = run(['sh', '-c', C])",
                    C=f"exec setpriv --no-new-privs cat {files}")
    s.allow(cat, "A's own process keeps her token across exec setpriv "
            "--no-new-privs", result[0] == 0 and "restricted  no" in
            result[1] and "SeChangeNotify" in result[1], result)
    # Root, whose exec gives back every capability not in a dropped bounding
    # set: a removed privilege stays removed, the dropped one goes.
    result = run(["sh", "-c",
                  'echo SeBackup=removed > "$TOKENFS_ROOT/self/privs" && '
                  "exec setpriv --bounding-set -sys_ptrace cat "
                  '"$TOKENFS_ROOT/self/privs"'],
                 env=dict(os.environ, TOKENFS_ROOT=env.m))
    kept = (result[0] == 0 and "SeBackup" not in result[1] and
            "SeDebug" not in result[1] and "SeTcb" in result[1])
    s.deny(cat, "finding 10: root regains a removed privilege by dropping "
           "a capability from its bounding set and exec", not kept, result)
    env.drop(a)


# ---------------------------------------------------------------------------
# setgid and non-dumpable processes of the same user


def setgid(s, env):
    cat = "setgid"
    a = env.agent(USER_A)
    chk = env.chkpwd()
    shadow = grp.getgrnam("shadow").gr_gid
    for what, path in (("user", env.p(chk, "user")),
                       ("groups", env.p(chk, "groups")),
                       ("privs", env.p(chk, "privs")),
                       ("query/all", env.p(chk, "query", "all")),
                       ("thread's privs", env.p(chk, chk, "privs"))):
        result = a.call("R = rd(P)", P=path)
        s.deny(cat, f"finding 4: A reads her setgid-shadow unix_chkpwd's "
               f"{what}", result[0] == "ok", result)
    result = a.call("R = txn(P, 'type=primary')", P=env.p(chk, "duplicate"))
    s.deny(cat, "finding 4: A duplicates her unix_chkpwd's token",
           result[0] == "ok", result)
    result = a.call("R = txn(P, 'drop-privs=SeShutdown')",
                    P=env.p(chk, "restrict"))
    s.deny(cat, "finding 4: A restricts her unix_chkpwd's token",
           result[0] == "ok", result)
    copy = new_id(result[1]) if result[0] == "ok" else None
    before = env.state(chk, "all")
    result = a.call("R = wr(P, 'SeChangeNotify=disabled')",
                    P=env.p(chk, "privs"))
    s.deny(cat, "finding 4: A adjusts her unix_chkpwd's token",
           env.state(chk, "all") != before, result)
    child = env.new_agent(USER_A)
    out = os.path.join(env.socks, f"adopt-{child.pid}.out")
    reference = f"id:{copy}" if copy else f"pid:{chk}"
    result = child.call(EXEC_UNDER.replace("self/user", "self/groups"),
                        O=out, PRE=(f"txn(f'{{M}}/self/impersonate', "
                                    f"'{reference} exec')"))
    s.deny(cat, "finding 4: A's exec adopts a primary token holding the "
           "shadow group", f"S-1-22-2-{shadow} " in result, result)
    env.drop(child)
    result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                    "txn(f'{M}/self/impersonate', 'revert')]",
                    C=f"pid:{chk}")
    s.deny(cat, "A impersonates her unix_chkpwd", result[0][0] == "ok",
           result[0])
    result = rd(env.p(chk, "groups"))
    s.allow(cat, "root reads unix_chkpwd's token", result[0] == "ok", result)

    sgid = env.setuid_sleep(mode=0o2755, group=grp.getgrnam(GROUP_G).gr_gid)
    process = env.spawn(as_user(USER_A) + [sgid, "600"], "sgid-sleep")
    for what, code in (("reads", "R = rd(P + '/groups')"),
                       ("duplicates",
                        "R = txn(P + '/duplicate', 'type=primary')")):
        result = a.call(code, P=env.p(process.pid))
        s.deny(cat, f"finding 4: A {what} the token of her own "
               "setgid-tkatk_g program", result[0] == "ok", result)
    other_gid = env.sleeper(USER_A, gid=grp.getgrnam(GROUP_G).gr_gid,
                            init_groups=False)
    result = a.call("R = rd(P)", P=env.p(other_gid, "privs"))
    s.deny(cat, "finding 4: A reads her process running with another gid",
           result[0] == "ok", result)

    hidden = env.new_agent(USER_A)
    hidden.call("import ctypes; R = ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)")
    result = a.call("R = rd(P)", P=env.p(hidden.pid, "privs"))
    s.deny(cat, "finding 4: A reads her non-dumpable process's token",
           result[0] == "ok", result)
    before = env.state(hidden.pid, "all")
    result = a.call("R = wr(P, 'SeChangeNotify=disabled')",
                    P=env.p(hidden.pid, "privs"))
    s.deny(cat, "finding 4: A adjusts her non-dumpable process's token",
           env.state(hidden.pid, "all") != before, result)
    result = a.call("R = txn(P, 'type=primary')",
                    P=env.p(hidden.pid, "duplicate"))
    s.deny(cat, "finding 4: A duplicates her non-dumpable process's token",
           result[0] == "ok", result)
    path = env.p(hidden.pid, hidden.pid, "impersonate")
    result = a.call("R = txn(P, 'revert')", P=path)
    s.deny(cat, "finding 4: A reverts her non-dumpable process's thread",
           result[0] == "ok", result)
    result = a.call("R = rd(P)", P=path)
    s.deny(cat, "finding 4: A reads her non-dumpable process's thread's "
           "impersonate file", result[0] == "ok", result)
    result = hidden.call("R = rd(f'{M}/self/privs')")
    s.allow(cat, "a non-dumpable process reads its own token via self",
            result[0] == "ok", result)
    result = hidden.call("R = rd(f'{M}/{os.getpid()}/privs')")
    s.allow(cat, "a non-dumpable process reads its own token by pid",
            result[0] == "ok", result)
    result = hidden.call("R = wr(f'{M}/self/privs', "
                         "'SeChangeNotify=disabled')")
    s.allow(cat, "a non-dumpable process adjusts its own token",
            result[0] == "ok", result)
    result = rd(env.p(hidden.pid, "privs"))
    s.allow(cat, "root reads a non-dumpable process's token",
            result[0] == "ok", result)
    result = a.call("R = rd(P)", P=env.p(env.sleeper(USER_A), "privs"))
    s.allow(cat, "A reads her own dumpable process", result[0] == "ok",
            result)
    env.drop(hidden)


# ---------------------------------------------------------------------------
# user namespaces (finding 1)

# Take ownership (SeTakeOwnership), then grant oneself everything: the chain
# a user-namespace "root" could follow to any token once her capabilities
# counted as privileges.
SEIZE = """
def seize(base):
    sid = rd(f'{M}/self/user')[1].split()[0]
    wr(f'{M}/self/integrity', 'system')
    return [wr(base + '/security', 'O:' + sid),
            wr(base + '/security', f'D:(A;;GA;;;{sid})(A;;GA;;;SY)')]
"""


def user_namespaces(s, env):
    cat = "userns"
    tag = "finding 1: in a user namespace, A"
    a = env.agent(USER_A)
    ns = env.new_agent(USER_A, userns=True)
    inside = ns.call("R = [os.getuid(), open('/proc/self/status').read()]")
    if inside[0] != 0:
        raise SetupError(f"unshare -U -r did not give a namespace root: "
                         f"{inside[0]}")
    ns.call(SEIZE)
    outside = set(privs_of(a.call("R = rd(f'{M}/self/privs')[1]")))
    result = ns.call("R = rd(f'{M}/self/privs')")
    extra = sorted(set(privs_of(result[1])) - outside)
    s.deny(cat, f"{tag} holds privileges she lacks outside it",
           bool(extra), " ".join(extra) or result)
    result = ns.call("R = rd(f'{M}/self/user')")
    s.deny(cat, f"{tag} is minted as SYSTEM", "S-1-5-18" in result[1],
           result)
    s.allow(cat, "in a user namespace, A reads her own token (her kernel "
            "uid)", result[0] == "ok" and env.sid[USER_A] in result[1],
            result)
    for name in USERNS_PRIVS:
        result = ns.call("R = [wr(f'{M}/self/privs', N + '=enabled'), "
                         "rd(f'{M}/self/privs')[1]]", N=name)
        s.deny(cat, f"{tag} enables {name}", enabled(result[1], name),
               result[0])
    result = ns.call("R = [wr(f'{M}/self/integrity', 'system'), "
                     "rd(f'{M}/self/integrity')[1]]")
    s.deny(cat, f"{tag} raises her integrity to System",
           result[1].startswith("System"), result[0])

    root_sleeper = env.sleeper()
    result = ns.call("R = [seize(f'{M}/1'), rd(f'{M}/1/privs')]")
    s.deny(cat, f"{tag} takes pid 1's token and reads it",
           result[1][0] == "ok", result)
    result = ns.call("R = [seize(P), rd(P + '/privs')]",
                     P=env.p(root_sleeper))
    s.deny(cat, f"{tag} takes a root process's token and reads it",
           result[1][0] == "ok", result)
    bs = env.sleeper(USER_B)
    before = env.state(bs, "all")
    result = ns.call("R = [seize(P), wr(P + '/privs', "
                     "'SeChangeNotify=disabled')]", P=env.p(bs))
    s.deny(cat, f"{tag} takes B's token and adjusts it",
           env.state(bs, "all") != before, result)
    bs2 = env.sleeper(USER_B)
    result = ns.call("R = [seize(f'{M}/{os.getpid()}'), txn(P, "
                     "f'pid:{os.getpid()}')]", P=env.p(bs2, bs2,
                                                        "impersonate"))
    s.deny(cat, f"{tag} makes B's thread impersonate her token",
           "id:" in env.state(bs2, bs2, "impersonate"), result)
    victim = env.sleeper()
    copy = own_restricted(ns)
    result = ns.call("R = txn(P, C)", P=env.p(victim, "install"),
                     C=f"id:{copy}")
    s.deny(cat, f"{tag} installs her token as a root process's primary",
           env.state(victim, "user").split()[0] != "S-1-5-18", result)
    other = own_restricted(ns)
    session = auth_id(env, ns.pid)
    result = ns.call("R = txn(f'{M}/link', C)",
                     C=f"elevated=id:{copy} filtered=id:{other} "
                     f"session={session}")
    s.deny(cat, f"{tag} links an elevation pair (SeTcb)",
           result[0] == "ok", result)
    mine = env.sleeper(USER_A)
    result = ns.call("R = wr(P, '3')", P=env.p(mine, "session"))
    s.deny(cat, f"{tag} sets a session id (SeTcb)",
           field(env.state(mine, "session"), "session_id") == "3", result)
    count = env.objects()
    result = ns.call("R = txn(f'{M}/create', bytes.fromhex(H))",
                     H=spec_bytes(env.sid[USER_A], session,
                                  privileges=bits("SeTcb")).hex())
    s.deny(cat, f"{tag} creates a token",
           result[0] == "ok" or env.objects() > count, result)
    result = ns.call("R = rd(P)", P=env.p(env.chkpwd(), "groups"))
    s.deny(cat, f"{tag} reads her setgid unix_chkpwd (namespace "
           "capabilities are not CAP_SYS_PTRACE; finding 4)",
           result[0] == "ok", result)
    result = ns.call("R = rd(P)", P=env.p(env.sleeper(USER_B), "privs"))
    s.deny(cat, f"{tag} reads B's token", result[0] == "ok", result)
    result = ns.call("R = wr(f'{M}/self/privs', 'SeChangeNotify=disabled')")
    s.allow(cat, "in a user namespace, A adjusts her own token",
            result[0] == "ok", result)
    env.drop(ns)

    # Without -r the namespace process has no capabilities at all.
    plain = env.new_agent(USER_A, prefix=as_user(USER_A) + ["unshare", "-U"])
    result = plain.call("R = rd(f'{M}/self/privs')")
    extra = sorted(set(privs_of(result[1])) - outside)
    s.deny(cat, f"{tag} (unmapped) holds privileges she lacks outside it",
           bool(extra), " ".join(extra) or result)
    env.drop(plain)


# ---------------------------------------------------------------------------
# bad input: malformed commands, sizes, truncation


HUGE = b"x" * 65537


def bad_input(s, env):
    cat = "bad-input"
    a = env.agent(USER_A)
    target = env.sleeper(USER_A)
    common = (("a NUL byte", None), ("an unterminated quote", None),
              ("65537 bytes", HUGE), ("invalid UTF-8", b"\xff\xfe\x80 \xc3"))
    specific = {
        "privs": ("SeShutdown=enabled", ("SeShutdown=maybe",
                                         "SeShutdown=enabled SeShutdown=disabled",
                                         "=enabled", "SeShutdown=enabled reset")),
        "groups": ("1=disabled", ("abc=enabled", "1=enabled 1=enabled",
                                  "reset 1=enabled")),
        "owner": ("0", ("S-1-5-18", "0 1", "S-1-bogus")),
        "group": ("0", ("999", "S-1-5-99999-1")),
        "integrity": ("low", ("superhigh", "low high", "S-1-16-abc")),
        "session": ("7", ("99999999999", "4294967296", "-1", "7 8")),
        "default-dacl": ("D:(A;;GA;;;WD)", ("D:(A;;GA;;;NOPE)", "D:(X;;;;)",
                                            "O:SYD:(A;;GA;;;WD)")),
        "security": ("D:(A;;GA;;;WD)", ("D:(X;;;;)", "garbage",
                                        "D:(A;;GA;;;S-1-5-)")),
    }
    for name, (valid, shapes) in specific.items():
        path = env.p(target, name)
        commands = []
        for what, data in common:
            if data is None:
                data = (valid.encode() + b"\0" if what == "a NUL byte"
                        else b'"' + valid.encode())
            commands.append((what, data))
        commands += [(repr(shape), shape.encode()) for shape in shapes]
        for what, data in commands:
            before = env.state(target, "all")
            if name == "session":
                # Only SeTcb holders may open it for writing: root.
                result = wr(path, data)
                who = "root writes"
            else:
                result = a.call("R = wr(P, bytes.fromhex(H))", P=path,
                                H=data.hex())
                who = "A writes"
            whose = "her" if name != "session" else "A's"
            s.deny(cat, f"{who} {what} to {whose} {name}",
                   result[0] == "ok" or env.state(target, "all") != before,
                   result)

    copy = own_restricted(a, base=str(target))
    transactions = {
        ("duplicate", env.p(target, "duplicate")): (
            "type=sideways", "level=9", "access=BOGUS", "holder=pid:abc",
            "type=primary type=primary", "persist=yes"),
        ("restrict", env.p(target, "restrict")): (
            "deny=99", "restrict=S-1-bad", "drop-privs=SeFoo",
            "caps=no_such_capability", "drop-privs=0xZZ", "deny=1,1,x"),
        ("access", env.p(target, "access")): (
            'sd="D:(bogus"', "desired=NOPE", "mapping=weird",
            "intent=telepathy", "self=S-1-x"),
        ("impersonate", env.p(a.pid, a.pid, "impersonate")): (
            "pid:abc", "id:0", "pid:-1", "revert extra", "pid:1 level=super",
            f"{env.m}/../../etc/passwd", "pid:99999999999"),
        ("persist", env.p("objects", copy, "persist")): (
            "maybe", "holder=pid:abc", "yes no", "holder=pid:-5"),
    }
    for (name, path), shapes in transactions.items():
        shapes = list(shapes) + ["\0", '"unterminated', HUGE]
        for shape in shapes:
            data = shape if isinstance(shape, bytes) else shape.encode()
            what = "65537 bytes" if data is HUGE else repr(shape)
            count = env.objects()
            imp = env.state(a.pid, a.pid, "impersonate")
            result = a.call("R = txn(P, bytes.fromhex(H))", P=path,
                            H=data.hex())
            changed = (env.objects() != count or
                       env.state(a.pid, a.pid, "impersonate") != imp)
            s.deny(cat, f"A writes {what} to {name}",
                   result[0] == "ok" or changed, result)
            if result[0] == "ok" and name == "impersonate":
                a.call("txn(f'{M}/self/impersonate', 'revert')")

    # Root, who holds every privilege, with malformed references.
    victim = env.sleeper()
    for shape in ("id:abc", "pid:", "/etc/passwd", "id:0", f"pid:{victim}x",
                  "id:1 id:2", "\0", HUGE):
        data = shape if isinstance(shape, bytes) else shape.encode()
        before = env.state(victim, "stats")
        result = txn(env.p(victim, "install"), data)
        s.deny(cat, f"root writes {'65537 bytes' if data is HUGE else repr(shape)} "
               "to install", result[0] == "ok" or
               env.state(victim, "stats") != before, result)
    for shape in ("elevated=id:0 filtered=id:0 session=0", "garbage",
                  "elevated=pid:1", "elevated=pid:1 filtered=pid:1 session=x",
                  "\0", HUGE):
        data = shape if isinstance(shape, bytes) else shape.encode()
        result = txn(env.p("link"), data)
        s.deny(cat, f"root writes {'65537 bytes' if data is HUGE else repr(shape)} "
               "to link", result[0] == "ok", result)

    # Finding 6: truncation to anything but 0.
    privs = env.p(target, "privs")
    for size in (7, 1, 4096, 2 ** 40):
        result = a.call("""
            try:
                os.truncate(P, Z)
                R = ["ok", ""]
            except OSError as error:
                R = [ename(error), str(error)]""", P=privs, Z=size)
        s.deny(cat, f"finding 6: A truncates her privs to {size} bytes",
               result[0] == "ok", result)
    result = a.call("""
        _fd = os.open(P, os.O_WRONLY)
        try:
            os.ftruncate(_fd, 7)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]
        os.close(_fd)""", P=privs)
    s.deny(cat, "finding 6: A ftruncates an open privs to 7 bytes",
           result[0] == "ok", result)
    result = a.call("""
        try:
            os.truncate(P, 7)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]""", P=env.p(a.pid, a.pid,
                                                        "impersonate"))
    s.deny(cat, "finding 6: A truncates her thread's impersonate to 7 bytes",
           result[0] == "ok", result)
    result = a.call("""
        try:
            os.truncate(P, 0)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]""", P=privs)
    s.allow(cat, "A truncates her privs to 0 bytes (the shell's >)",
            result[0] == "ok", result)
    result = a.call("R = [wr(P, 'SeShutdown=enabled', os.O_WRONLY | "
                    "os.O_TRUNC), rd(P)[1]]", P=privs)
    s.allow(cat, "A writes her privs through O_TRUNC",
            result[0][0] == "ok" and enabled(result[1], "SeShutdown"),
            result[0])
    for what, path, flags in (("registry", env.p("registry"), "O_WRONLY"),
                              ("user", env.p(target, "user"), "O_WRONLY"),
                              ("query/all", env.p(target, "query", "all"),
                               "O_RDWR")):
        result = a.call(f"R = wr(P, 'x', os.{flags})", P=path)
        s.deny(cat, f"A opens the read-only {what} for writing",
               result[0] == "ok", result)
    result = a.call("""
        try:
            os.truncate(P, 7)
            R = ["ok", ""]
        except OSError as error:
            R = [ename(error), str(error)]""", P=env.p("registry"))
    s.deny(cat, "A truncates the registry", result[0] == "ok", result)


# ---------------------------------------------------------------------------
# log: forging and silencing (finding 7)


def control_characters(text):
    return sorted({f"0x{ord(c):02x}" for c in text
                   if (ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f})


def log_forging(s, env):
    cat = "log"
    a = env.agent(USER_A)
    nonce = f"{os.getpid()}-{int(time.time())}"
    forged = f"tokenfs: info: denied: forged-{nonce}"
    attempts = (
        ("privs", f'"x\n{forged}-privs"=enabled', f"{forged}-privs"),
        ("groups", f'"1\n{forged}-groups"=enabled', f"{forged}-groups"),
        ("integrity", f'"x\n{forged}-integrity"', f"{forged}-integrity"),
        ("duplicate", f'"type=x\n{forged}-dup"', f"{forged}-dup"),
        ("access", f'sd="D:\n{forged}-access"', f"{forged}-access"))
    for name, command, line in attempts:
        path = (env.p("self", name) if name in ("privs", "groups",
                                                "integrity")
                else env.p(a.pid, name))
        a.call("R = wr(P, C) if N not in ('duplicate', 'access') "
               "else txn(P, C)", P=path, C=command, N=name)
        lines = env.mount.log().splitlines()
        s.deny(cat, f"finding 7: A forges a log line through her {name}",
               any(entry.startswith(line) for entry in lines),
               [entry for entry in lines if line in entry][:1])
    before = len(env.mount.log())
    for name, command in (("privs", "\x1b[31mSeFoo\x1b[0m=enabled"),
                          ("privs", "SeFoo\x07\x08\x7f=enabled"),
                          ("groups", "\x1b]0;owned\x07=enabled"),
                          ("integrity", "\x1b[2Jlow\x0b")):
        a.call("R = wr(P, C)", P=env.p("self", name), C=command)
        added = env.mount.log()[before:]
        s.deny(cat, f"finding 7: A writes control characters "
               f"{control_characters(command)} to her {name} and they reach "
               "the log", bool(control_characters(added)),
               control_characters(added))
        before = len(env.mount.log())


def log_flood(s, env):
    """User A floods malformed writes; user B's denials must all still be
    logged (finding 7: the limit is per user). The flood runs until B is
    done (at most FLOOD_SECONDS)."""
    cat = "log"
    a_sleeper = env.sleeper(USER_A)
    b = env.agent(USER_B)
    stop = os.path.join(env.work, "flood.stop")
    flood = env.track(subprocess.Popen(
        as_user(USER_A) + [USER_PY, "-c", textwrap.dedent(f"""
            import os, time
            fd = os.open('{env.m}/self/privs', os.O_WRONLY)
            end = time.monotonic() + {FLOOD_SECONDS}
            count = 0
            while time.monotonic() < end:
                try:
                    os.write(fd, b'SeFlood=enabled')
                except OSError:
                    pass
                count += 1
                if count == 1000:
                    print('flooding', flush=True)
                if count % 256 == 0 and os.path.exists('{stop}'):
                    break
            print(count, flush=True)""")],
        stdout=subprocess.PIPE, text=True, cwd=env.work))
    if flood.stdout.readline().strip() != "flooding":
        raise SetupError("the flood did not start")
    start = len(env.mount.log())
    files = ("privs", "groups", "user", "owner", "group", "integrity",
             "logon", "stats", "caps", "claims")
    results = []
    for name in files:
        results.append(b.call("R = rd(P)", P=env.p(a_sleeper, name)))
        time.sleep(0.1)
    flooding = flood.poll() is None
    with open(stop, "w"):
        pass
    writes = flood.communicate(timeout=FLOOD_SECONDS + 20)[0].strip()
    logged = env.mount.log()[start:].splitlines()
    uid_b = env.uid[USER_B]
    seen = [name for name in files
            if any("denied" in line and f"uid {uid_b}" in line and
                   f"/{a_sleeper}/{name}" in line for line in logged)]
    missing = [name for name in files if name not in seen]
    if any(result[0] == "ok" for result in results):
        raise SetupError(f"B's reads were not denied: {results}")
    if not flooding:
        raise SetupError(f"the flood ended before B was done ({writes} "
                         "writes)")
    s.deny(cat, "finding 7: A's flood of malformed writes hides B's "
           "denials from the log",
           bool(missing), f"A wrote {writes} times; B's denials missing "
           f"from the log: {missing}")


# ---------------------------------------------------------------------------
# resources


def resources(s, env):
    cat = "resources"
    q = env.new_agent(USER_A)
    made = q.call("""
        R = []
        for _ in range(Q + 5):
            _result = txn(f'{M}/self/duplicate', 'type=primary')
            R.append(_result[0])
            if _result[0] != 'ok':
                break""", Q=QUOTA)
    held = made.count("ok")
    s.deny(cat, f"A holds more than the quota of {QUOTA} token objects",
           held > QUOTA or "EDQUOT" not in made, f"{held} made, then {made[-1]}")
    for what, code in (("duplicate", "R = txn(f'{M}/self/duplicate', '\\n')"),
                       ("restrict", "R = txn(f'{M}/self/restrict', "
                                    "'drop-privs=SeShutdown')"),
                       ("linked-free duplicate as impersonation",
                        "R = txn(f'{M}/self/duplicate', "
                        "'type=impersonation')")):
        count = env.objects()
        result = q.call(code)
        s.deny(cat, f"A at her quota makes one more object ({what})",
               new_id(result[1]) is not None or env.objects() > count,
               result)
    result = env.agent(USER_B).call(
        "R = txn(f'{M}/self/duplicate', 'type=primary')")
    s.allow(cat, "B makes an object while A is at her quota",
            result[0] == "ok", result)
    if result[0] == "ok":
        os.rmdir(env.p("objects", new_id(result[1])))
    env.drop(q)

    adm = env.new_agent(USER_ADM)
    before = env.objects()
    result = adm.call("R = [rl(f'{M}/self/linked')[0] for _ in range(200)]")
    grown = env.objects() - before
    s.deny(cat, "the sudo user grows the object table by reading linked "
           "200 times", grown > 2, f"{grown} new objects; {set(result)}")
    env.drop(adm)


def watch_rss(daemon, hammer, start, seconds):
    """Samples the daemon's RSS while `hammer` runs (at most `seconds`, and
    no longer once past RSS_LIMIT_KIB); returns the peak and what the hammer
    printed."""
    peak = start
    deadline = time.monotonic() + seconds
    while hammer.poll() is None and time.monotonic() < deadline:
        peak = max(peak, daemon_rss_kib(daemon))
        if peak > RSS_LIMIT_KIB:
            break
        time.sleep(0.2)
    if hammer.poll() is None:
        hammer.kill()
    output = hammer.communicate()[0].strip() or "(stopped)"
    return max(peak, daemon_rss_kib(daemon)), output


def memory(s, env):
    """Finding 9: one user toggling her privileges and reading query/all
    must not grow the daemon past RSS_LIMIT_KIB."""
    cat = "resources"
    daemon = env.mount.process.pid
    start = daemon_rss_kib(daemon)
    hammer = env.track(subprocess.Popen(
        as_user(USER_A) + [USER_PY, "-c", textwrap.dedent(f"""
            import os, time
            me = os.getpid()
            fd = os.open(f'{env.m}/{{me}}/privs', os.O_WRONLY)
            end = time.monotonic() + {MEMORY_SECONDS}
            count = 0
            while time.monotonic() < end:
                os.write(fd, b'SeShutdown=enabled' if count % 2 else
                         b'SeShutdown=disabled')
                with open(f'{env.m}/{{me}}/query/all', 'rb') as file:
                    file.read()
                count += 1
            print(count, flush=True)""")],
        stdout=subprocess.PIPE, text=True, cwd=env.work))
    peak, rounds = watch_rss(daemon, hammer, start, MEMORY_SECONDS + 10)
    s.deny(cat, f"finding 9: A grows the daemon past {RSS_LIMIT_KIB // 1024} "
           f"MiB RSS in {MEMORY_SECONDS} s of adjust + query/all",
           peak > RSS_LIMIT_KIB,
           f"RSS {start} KiB -> peak {peak} KiB after {rounds} rounds")


def open_files(s, env):
    """One user holding open files of ever-new versions of a large token
    (3,000 restricting SIDs: query/all is about a megabyte) must not grow
    the daemon past RSS_LIMIT_KIB: open content is limited per uid."""
    cat = "resources"
    daemon = env.mount.process.pid
    start = daemon_rss_kib(daemon)
    sids = ",".join(f"S-1-22-1-{60000 + i}" for i in range(3000))
    hammer = env.track(subprocess.Popen(
        as_user(USER_A) + [USER_PY, "-c", textwrap.dedent(f"""
            import os, re, time
            fd = os.open('{env.m}/self/restrict', os.O_RDWR)
            os.write(fd, b'restrict={sids}')
            os.lseek(fd, 0, 0)
            made = os.read(fd, 4096).decode()
            os.close(fd)
            number = re.search(r'^id +([0-9]+)', made, re.M).group(1)
            base = '{env.m}/objects/' + number
            held, error = [], 0
            for round in range(400):
                w = os.open(base + '/privs', os.O_WRONLY)
                os.write(w, b'SeChangeNotify=disabled' if round % 2 else
                         b'SeChangeNotify=enabled')
                os.close(w)
                try:
                    held.append(os.open(base + '/query/all', os.O_RDONLY))
                except OSError as failure:
                    error = failure.errno
                    break
            print(len(held), error, flush=True)
            time.sleep(3)""")],
        stdout=subprocess.PIPE, text=True, cwd=env.work))
    peak, outcome = watch_rss(daemon, hammer, start, 120)
    s.deny(cat, f"A grows the daemon past {RSS_LIMIT_KIB // 1024} MiB RSS by "
           "holding open files of new versions of a 1 MB token",
           peak > RSS_LIMIT_KIB,
           f"RSS {start} KiB -> peak {peak} KiB; open files, errno: {outcome}")


# ---------------------------------------------------------------------------
# pid reuse (second phase, inside a pid namespace)


def idle_child():
    while True:
        time.sleep(1000)


def steer(pid, tries=200):
    """Forks a child on `pid` (this namespace's next pid is ns_last_pid + 1;
    the daemon's threads may take one first, so retry). Returns the child's
    pid or None."""
    for _ in range(tries):
        with open("/proc/sys/kernel/ns_last_pid", "w") as last:
            last.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            idle_child()
        if child == pid:
            return child
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    return None


def kill_child(pid):
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def pid_reuse_cycles(s, m, helper):
    """Finding 8: process A gets an adjusted token and dies; B is steered
    onto A's pid at once, within A's start tick (what the daemon tells
    processes apart by). B's token must be fresh, and a descriptor opened on
    A must not write to B. The cycle runs in reuse_helper (C++, so that one
    cycle fits in one 10 ms tick) until REUSE_CYCLES reuses fell in the dead
    process's start tick."""
    cat = "pid-reuse"
    done = subprocess.run([helper, m, str(REUSE_CYCLES * 20),
                           str(REUSE_CYCLES), "45"], capture_output=True,
                          text=True, timeout=90)
    if done.returncode != 0:
        raise SetupError(f"reuse_helper: {done.stderr.strip()}")
    rows = [dict(item.split("=") for item in line.split()[1:])
            for line in done.stdout.splitlines() if line.startswith("cycle ")]
    cycles = done.stdout.strip().splitlines()[-1]
    same = [row for row in rows if row["same_tick"] == "1"]
    if not same:
        raise SetupError(f"no pid reuse within the dead process's start tick "
                         f"({len(rows)} reuses, {cycles}): the attack "
                         "condition could not be created")
    old = sum(row["old_token"] == "1" for row in rows)
    stale = sum(row["stale_write"] == "1" for row in rows)
    unreadable = sum(row["readable"] == "0" for row in rows)
    detail = (f"{len(rows)} reuses ({cycles}), {len(same)} within the dead "
              "process's start tick")
    s.deny(cat, "finding 8: a reused pid gets the dead process's adjusted "
           "token", old > 0, f"{old} of {detail}")
    s.deny(cat, "finding 8: a descriptor opened on the dead process writes "
           "to the process that reused its pid", stale > 0,
           f"{stale} of {detail}")
    s.allow(cat, "root reads the token of every process on a reused pid",
            unreadable == 0, f"{unreadable} unreadable of {len(rows)}")


def stale_peer(s, env):
    """Finding 3: the peer grant must not land on whatever process takes
    the dead peer's pid."""
    cat = "peer"
    a = env.new_agent(USER_A)
    path = os.path.join(env.socks, "stale.sock")
    peer_pid = a.call("""
        LISTENER = socket.socket(socket.AF_UNIX)
        LISTENER.bind(P)
        LISTENER.listen(4)
        _child = os.fork()
        if _child == 0:
            try:
                socket.socket(socket.AF_UNIX).connect(P)
                time.sleep(600)
            finally:
                os._exit(0)
        CONN = LISTENER.accept()[0]
        os.kill(_child, signal.SIGKILL)
        os.waitpid(_child, 0)
        R = _child""", P=path)
    victim = steer(peer_pid)
    if victim is None:
        raise SetupError(f"could not start a root process on pid {peer_pid}")
    try:
        result = a.call("R = rl(f'{M}/peer/{CONN.fileno()}')")
        s.deny(cat, "finding 3: A resolves peer/FD after her peer died and "
               "a root process took its pid", result[0] == "ok", result)
        result = a.call("R = rd(P)", P=f"{env.m}/{victim}/privs")
        s.deny(cat, "finding 3: A reads the root process on her dead "
               "peer's pid", result[0] == "ok", result)
        result = a.call("R = [txn(f'{M}/self/impersonate', C), "
                        "rd(f'{M}/self/user')]", C=f"pid:{victim}")
        s.deny(cat, "finding 3: A impersonates the root process on her "
               "dead peer's pid", result[0][0] == "ok", result)
        a.call("txn(f'{M}/self/impersonate', 'revert')")
        result = a.call("R = rd(f'{M}/self/user')")
        s.allow(cat, "A (in the pid namespace) reads her own token",
                result[0] == "ok" and env.sid[USER_A] in result[1], result)
    finally:
        kill_child(victim)
        env.drop(a)


def pidns_phase(tokenfs, helper):
    """Runs as pid 1 of a fresh pid namespace (with its own /proc); prints
    one ATTEMPT line per attempt for the parent to count."""
    s = Suite(emit_json=True)
    # As pid 1 of the namespace this process gets SIGTERM (unshare
    # --kill-child) only with a handler: clean up then.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="tkatk-pidns.")
    os.chmod(work, 0o755)
    try:
        with Mount(tokenfs, "--quota", str(QUOTA),
                   prefix="tkatk-pidns.") as mount:
            env = Env(mount, None, work)
            try:
                with s.group("pid-reuse setup"):
                    events = mount.registry().get("events")
                    if events != "validating":
                        raise SetupError(f"events {events} in a pid "
                                         "namespace (expected validating)")
                with s.group("pid-reuse"):
                    pid_reuse_cycles(s, env.m, helper)
                with s.group("peer (stale pid)"):
                    stale_peer(s, env)
            finally:
                env.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


class ConnectorChatter:
    """A host process that subscribes to the proc connector and leaves it
    again every 20 ms while the pid namespace phase runs. The kernel
    multicasts each acknowledgement to every socket bound to the group, so
    a daemon in a pid namespace (whose own subscription the kernel ignores)
    sees acknowledgements and host events all the time, as it does whenever
    another tokenfs runs on the host. It must still not take them as its
    own: its pids are not the host's."""

    NETLINK_CONNECTOR = 11
    CN_IDX_PROC = 1
    CN_VAL_PROC = 1
    LISTEN, IGNORE = 1, 2

    def __init__(self):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def message(self, operation, sequence):
        cn_msg = struct.pack("=IIIIHH", self.CN_IDX_PROC, self.CN_VAL_PROC,
                             sequence, 0, 4, 0) + struct.pack("=I", operation)
        return struct.pack("=IHHII", 16 + len(cn_msg), 3, 0, sequence,
                           os.getpid()) + cn_msg  # NLMSG_DONE

    def run(self):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM,
                             self.NETLINK_CONNECTOR)
        try:
            sock.bind((0, self.CN_IDX_PROC))
            sequence = 0
            while not self.stop.wait(0.02):
                for operation in (self.LISTEN, self.IGNORE):
                    sequence += 1
                    sock.send(self.message(operation, sequence))
        except OSError as error:
            print(f"  (pid namespace) connector chatter stopped: {error}")
        finally:
            sock.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def run_pidns_phase(s, tokenfs, helper):
    command = ["unshare", "--pid", "--fork", "--kill-child=SIGTERM",
               "--mount-proc", sys.executable,
               os.path.abspath(__file__), "--pidns-phase", tokenfs, helper]
    with ConnectorChatter():
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=150)
    for line in done.stdout.splitlines():
        if line.startswith("ATTEMPT "):
            row = json.loads(line[len("ATTEMPT "):])
            s.record(row["category"], row["description"], row["expected"],
                     row["outcome"], row["detail"])
        elif line.startswith("ERROR "):
            s.errors.append("pid namespace: " + json.loads(line[6:]))
            print(f"SETUP ERROR     [pid namespace] {json.loads(line[6:])}")
        else:
            print(f"  (pid namespace) {line}")
    if done.returncode != 0:
        s.errors.append(f"pid namespace phase exited {done.returncode}")
        print(done.stderr[-3000:])


# ---------------------------------------------------------------------------
# Setup and the run


class Accounts:
    """The suite's Linux users and group, removed again on every path."""

    def __init__(self):
        self.created_users = []
        self.created_groups = []

    @staticmethod
    def remove(name):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            subprocess.run(["userdel", "--force", name],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        with contextlib.suppress(KeyError):
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def create(self):
        for name in ALL_USERS + (GROUP_G,):
            self.remove(name)
        try:
            grp.getgrnam("sudo")
        except KeyError:
            subprocess.run(["groupadd", "sudo"], check=True)
            self.created_groups.append("sudo")
        subprocess.run(["groupadd", GROUP_G], check=True)
        self.created_groups.append(GROUP_G)
        for name in ALL_USERS:
            command = ["useradd", "--no-create-home", "--user-group",
                       "--shell", "/bin/sh"]
            if name == USER_ADM:
                command += ["--groups", "sudo"]
            subprocess.run(command + [name], check=True,
                           stdout=subprocess.DEVNULL)
            self.created_users.append(name)

    def close(self):
        for name in self.created_users:
            self.remove(name)
        for name in self.created_groups:
            with contextlib.suppress(KeyError):
                grp.getgrnam(name)
                subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.created_users = []
        self.created_groups = []


CATEGORIES = (
    ("cross-user", cross_user),
    ("paths", paths),
    ("privileges", privileges),
    ("groups", groups),
    ("integrity", integrity),
    ("sd", security_descriptors),
    ("objects", objects),
    ("capabilities", capabilities),
    ("specs", specs),
    ("fd-passing", fd_passing),
    ("peer", peer),
    ("impersonation-levels", impersonation_levels),
    ("impersonate-cmd", impersonate_command),
    ("setuid-exec", setuid_exec),
    ("setgid", setgid),
    ("narrowing", narrowing),
    ("userns", user_namespaces),
    ("bad-input", bad_input),
    ("log", log_forging),
    ("resources", resources),
    ("log (flood)", log_flood),
    ("resources (memory)", memory),
    ("resources (open files)", open_files),
)


def require_tools():
    tokenfs_daemon.require_root("the attack suite mounts tokenfs and "
                                "creates users: it needs root")
    for tool in ("setpriv", "unshare", "useradd", "userdel", "groupadd"):
        if shutil.which(tool) is None:
            tokenfs_daemon.skip(f"{tool} is missing")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--pidns-phase":
        return pidns_phase(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 4:
        print("usage: attack.py TOKENFS_BINARY TOKEN_CLI_BINARY "
              "REUSE_HELPER_BINARY [CATEGORY...]")
        return 2
    tokenfs, token, helper = sys.argv[1:4]
    only = set(sys.argv[4:])
    require_tools()
    # Turn SIGTERM (ctest's timeout) into an exception so cleanup runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    s = Suite()
    accounts = Accounts()
    work = tempfile.mkdtemp(prefix="tkatk.")
    os.chmod(work, 0o755)
    try:
        accounts.create()
        with Mount(tokenfs, "--quota", str(QUOTA), prefix="tkatk.") as mount:
            env = Env(mount, token, work)
            try:
                for name, function in CATEGORIES:
                    if only and name.split()[0] not in only:
                        continue
                    began = time.monotonic()
                    with s.group(name):
                        function(s, env)
                    print(f"-- {name}: {time.monotonic() - began:.1f} s",
                          flush=True)
            finally:
                env.close()
            if s.errors:
                print("daemon log (tail):")
                print(mount.log()[-4000:])
        if not only or "pid-reuse" in only or "peer" in only:
            began = time.monotonic()
            with s.group("pid namespace"):
                run_pidns_phase(s, tokenfs, helper)
            print(f"-- pid namespace phase: {time.monotonic() - began:.1f} s",
                  flush=True)
    finally:
        accounts.close()
        shutil.rmtree(work, ignore_errors=True)
    return s.summary(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
