"""A throw-away Samba Active Directory domain controller on loopback, for
the directory tests and bench/directory_bench.py (stdlib only).

SambaDC provisions a domain into a fresh temporary directory
(`samba-tool domain provision`, RFC 2307 on, DNS and every service a test
does not need off, listening on `lo` only), serves it with `samba -i` (which
runs its own winbindd), waits until winbind answers, and on exit stops the
whole process group and removes the directory, also when the test fails.

winbindd listens where libwbclient looks, Samba's compiled-in socket
directory (/run/samba/winbindd on Debian): libwbclient reads no environment
variable for it outside Samba's own test wrappers, so the daemon under test
reaches this DC exactly as it reaches the winbindd of a joined host. Only
one winbindd can own that socket: when one already answers there (a joined
host), the tests skip instead of disturbing it.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

REALM = "TOKENFS.TEST"
DOMAIN = "TOKENFS"
ADMIN_PASSWORD = "Tokenfs-Admin-1"
USER_PASSWORD = "Tokenfs-User-1"
WINBIND_PIPE = "/run/samba/winbindd/pipe"


def missing_tools():
    """The Samba programs these tests need that are not installed."""
    return [tool for tool in ("samba", "samba-tool", "wbinfo")
            if shutil.which(tool) is None]


def winbind_answers():
    """True iff some winbindd answers at the compiled-in socket."""
    return subprocess.run(["wbinfo", "-p"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def wbinfo(*args):
    """wbinfo's output lines; raises on failure."""
    done = subprocess.run(["wbinfo", *args], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"wbinfo {' '.join(args)} failed: "
                           f"{done.stdout}{done.stderr}")
    return done.stdout.splitlines()


class SambaDC:
    """The DC for a `with` block."""

    def __init__(self, prefix="tkdc."):
        self.prefix = prefix
        self.work = None
        self.conf = None
        self.process = None
        self.created_pipe = False

    # ---- lifecycle ----

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        self.work = tempfile.mkdtemp(prefix=self.prefix)
        target = os.path.join(self.work, "dc")
        run_dir = os.path.join(target, "run")
        # An empty base configuration: nothing of the host's smb.conf leaks
        # into the test domain.
        empty = os.path.join(self.work, "empty.conf")
        open(empty, "w").close()
        options = {
            "interfaces": "lo",
            "bind interfaces only": "yes",
            # Only what winbind needs: no DNS server (and so no forwarder
            # to the host's resolver), no NetBIOS broadcasts, no DNS
            # updates, no replication.
            "server services": "s3fs, rpc, ldap, cldap, kdc, winbindd",
            "log file": os.path.join(target, "log.%m"),
            "pid directory": run_dir,
            "ncalrpc dir": os.path.join(run_dir, "ncalrpc"),
            "panic action": "",
        }
        command = ["samba-tool", "domain", "provision",
                   f"--configfile={empty}", f"--targetdir={target}",
                   f"--realm={REALM}", f"--domain={DOMAIN}",
                   "--server-role=dc", "--dns-backend=SAMBA_INTERNAL",
                   "--use-rfc2307", "--host-ip=127.0.0.1",
                   f"--adminpass={ADMIN_PASSWORD}"]
        command += [f"--option={key}={value}" for key, value in
                    options.items()]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError("samba-tool domain provision failed:\n" +
                               done.stdout[-3000:] + done.stderr[-3000:])
        self.conf = os.path.join(target, "etc", "smb.conf")
        self.created_pipe = not winbind_answers()
        os.makedirs(run_dir, exist_ok=True)
        self.log_path = os.path.join(self.work, "samba.out")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["samba", "-i", "-s", self.conf], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("samba exited:\n" + self.log())
            if winbind_answers():
                try:
                    if wbinfo("--own-domain") == [DOMAIN]:
                        return
                except RuntimeError:
                    pass
            time.sleep(0.2)
        raise RuntimeError("winbind did not answer within 60 s:\n" +
                           self.log())

    def stop(self):
        """Stops samba and its winbindd (the whole process group)."""
        if self.process and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process:
            # Children that outlived the parent, in its group or not.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 15
            while (pids := self._pids()) and time.monotonic() < deadline:
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGCONT)
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.1)
        if self.created_pipe:
            # The socket winbindd left: the host is back to having none.
            try:
                os.unlink(WINBIND_PIPE)
            except FileNotFoundError:
                pass
            self.created_pipe = False

    def __exit__(self, *exc):
        self.stop()
        if self.work:
            # A dying samba child may still write a file as the tree goes.
            for _ in range(20):
                shutil.rmtree(self.work, ignore_errors=True)
                if not os.path.exists(self.work):
                    break
                time.sleep(0.1)
        return False

    def signal(self, number):
        """Sends `number` to every process of samba's group and to its
        winbindd."""
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass
        for pid in self.winbindd_pids():
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                pass

    def winbindd_pids(self):
        """The winbindd processes of this DC (winbindd starts a session of
        its own, so they are found by the configuration they run with)."""
        return self._pids(only="winbindd")

    def _pids(self, only=None):
        """Processes of this DC (named `only` when given): those running
        with its smb.conf, and everything in their sessions (smbd and
        winbindd start sessions of their own, and their children rename
        themselves)."""
        if not self.conf:
            return []
        table = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/comm") as comm:
                    name = comm.read().strip()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    arguments = cmdline.read().decode(errors="replace")
            except (OSError, IndexError):
                continue
            table[int(entry)] = (int(fields[3]), name, self.conf in arguments)
        sessions = {session for session, _, ours in table.values() if ours}
        if self.process:
            sessions.add(self.process.pid)
        # Never the test's own session (a samba-tool it runs uses smb.conf).
        sessions.discard(os.getsid(0))
        return [pid for pid, (session, name, _) in table.items()
                if session in sessions and pid != os.getpid() and
                (only is None or name == only)]

    def log(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()[-5000:]
        except (OSError, AttributeError):
            return ""

    # ---- the directory ----

    def tool(self, *args):
        done = subprocess.run(["samba-tool", *args,
                               f"--configfile={self.conf}"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"samba-tool {' '.join(args)} failed:\n"
                               f"{done.stdout}{done.stderr}")
        return done.stdout

    def add_user(self, name):
        self.tool("user", "create", name, USER_PASSWORD)

    def add_group(self, name, scope="Global"):
        self.tool("group", "add", name, f"--group-scope={scope}")

    def add_members(self, group, *members):
        self.tool("group", "addmembers", group, ",".join(members))

    @staticmethod
    def sid(name):
        """The SID of a domain account name, through winbind."""
        return wbinfo("-n", f"{DOMAIN}\\{name}")[0].split()[0]

    @staticmethod
    def domain_sid():
        for line in wbinfo("-D", DOMAIN):
            key, _, value = line.partition(":")
            if key.strip() == "SID":
                return value.strip()
        raise RuntimeError("wbinfo -D printed no SID")

    @staticmethod
    def user_sids(sid):
        """What `wbinfo --user-sids` prints: the user's SID first, then its
        token groups."""
        return wbinfo("--user-sids", sid)

    @staticmethod
    def uid(sid):
        return int(wbinfo("-S", sid)[0])

    @staticmethod
    def gid(sid):
        return int(wbinfo("-Y", sid)[0])

    def credentials(self, name):
        """(uid, gids) a login of domain user `name` gets: the uid winbind
        maps the user to, the primary gid (Domain Users), and the gids of
        every token group winbind maps to a gid, as initgroups would give
        through libnss-winbind."""
        sid = self.sid(name)
        uid = self.uid(sid)
        gids = []
        for group in self.user_sids(sid)[1:]:
            try:
                gid = self.gid(group)
            except RuntimeError:
                continue
            if gid not in gids:
                gids.append(gid)
        return uid, gids
