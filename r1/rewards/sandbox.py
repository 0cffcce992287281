"""Run untrusted, model-written Python against assert tests in a throwaway sandbox (stdlib only).

    trainer thread --Popen--> supervisor (`python -I -S`, trusted) --fork--> program

The supervisor unshares network, mount, pid, ipc and uts namespaces (plus a user namespace when not
root), makes every mount read-only with private tmpfs on /tmp, /var/tmp, /dev/shm and the working
directory, forks the program as pid 1 of the new pid namespace (when it ends, all it started ends)
and enforces the wall-clock limit. The program drops to an unprivileged uid, sets no_new_privs and
rlimits, then runs the imports, the code and each test. Test outcomes go through a pipe, each line
tagged with a random token, only from the original process; see docs/sandbox.md for the threat
model and what remains where namespaces are refused.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import logging
import marshal
import os
import pwd
import queue
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping, Sequence

logger = logging.getLogger(__name__)

Status = Literal["ok", "failed", "timeout", "error"]
UID_BASE, UID_COUNT = 64200, 64  # uids for programs when the trainer is root, one per running job
_REPORT_CAP = 1 << 20  # bytes of harness reports kept (a program spamming that pipe hurts only itself)
_GRACE_S = 5.0  # wall time the trainer adds to the supervisor's own limit before killing it
# Imported before the uid drop when that uid could not read the stdlib and no mount namespace can
# show it (Python under /root and namespaces refused): what test programs commonly import.
_PRELOAD = ("math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string",
            "operator", "copy", "random", "statistics", "datetime", "decimal", "fractions", "typing",
            "json", "cmath", "array", "time", "unicodedata", "textwrap", "dataclasses")


@dataclass
class RunResult:
    """What happened to one program.

    status: 'ok' (every test passed), 'failed' (it ran; a test failed, or it crashed or exited
    early), 'timeout' (wall-clock or CPU limit), 'error' (the sandbox could not run it).
    isolation: 'ns' (namespaces, as root), 'userns' (user namespace, not root), 'none'.
    """

    status: Status
    passed: int
    total: int
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    isolation: str = ""

    @property
    def fraction(self) -> float:
        """passed / total (0 when there are no tests)."""
        return self.passed / self.total if self.total else 0.0


# Harness: these functions run inside the sandbox, shipped as source (no module globals used).
# Once the program's code has started, the test loop touches nothing but its own locals.

def _box_main():
    """Supervisor: read the job from stdin, isolate, fork the program, wait, clean up, report."""
    import marshal, os, sys
    cfg = marshal.loads(sys.stdin.buffer.read())
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    report = lambda msg: os.write(cfg["result_fd"], (cfg["token"] + " " + msg + "\n").encode())
    try:
        mode = _box_isolate(cfg)
    except OSError as err:  # fail closed: half-built namespaces are no sandbox
        report("mode setup-error")
        os.write(2, f"sandbox setup failed: {err}\n".encode())
        os._exit(71)
    report("mode " + mode)
    if mode == "none":  # orphans of the program get reparented to us, not init: we kill them
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    pid = os.fork()
    if pid == 0:
        try:
            _box_program(cfg, mode)
        finally:
            os._exit(70)
    verdict = _box_wait(pid, cfg["timeout_s"])
    if mode == "none":  # no pid namespace took the stragglers down with the program
        _box_kill_leftovers(pid, cfg["uid"])
    report("exit " + verdict)


def _box_isolate(cfg):
    """Unshare namespaces, build a read-only view with private tmpfs; return the mode reached."""
    import ctypes, os, sys
    if not cfg["namespaces"]:
        return "none"
    libc = cfg["libc"] = ctypes.CDLL(None, use_errno=True)
    uid, gid, root = os.getuid(), os.getgid(), os.geteuid() == 0
    flags = 0x20000 | 0x04000000 | 0x08000000 | 0x20000000 | 0x40000000  # mount uts ipc pid net
    if libc.unshare(flags if root else flags | 0x10000000) != 0:  # + user ns when not root
        return "none"
    if not root:  # root of the new user namespace, mapped to our own uid
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)

    def mount(src, target, fstype, flags, data=None):
        if libc.mount(src, target, fstype, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target!r}")

    mount(None, b"/", None, 0x4000 | 0x40000)  # MS_REC | MS_PRIVATE: nothing propagates out
    keep = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048,
            "relatime": 1 << 21, "strictatime": 1 << 24}  # flags a remount must repeat
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split() for line in f]
    for fields in mounts:
        target = fields[4].encode().decode("unicode_escape").encode("latin-1")
        flags = 32 | 4096 | 1  # MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(","):
            flags |= keep.get(opt, 0)
        try:
            mount(None, target, None, flags)
        except OSError:
            if target == b"/":
                raise
    size = f"size={cfg['disk_mb']}m,nr_inodes=4096".encode()
    for path in (b"/tmp", b"/var/tmp", b"/dev/shm"):
        if os.path.isdir(path):
            mount(b"tmpfs", path, b"tmpfs", 2 | 4, b"mode=1777," + size)
    python = os.path.realpath(sys.base_prefix)
    hidden = _box_hidden_ancestor(python) if root else None
    if hidden:  # e.g. Python under /root: show it, read-only, and nothing else of that directory
        src = os.open(python, os.O_PATH | os.O_DIRECTORY)
        mount(b"tmpfs", hidden.encode(), b"tmpfs", 2 | 4, b"mode=0755,size=1m")
        os.makedirs(python, 0o755, exist_ok=True)
        mount(f"/proc/self/fd/{src}".encode(), python.encode(), None, 4096 | 0x4000)  # bind, rec
        mount(None, python.encode(), None, 32 | 4096 | 1 | 2 | 4)
    os.makedirs(cfg["workdir"], exist_ok=True)
    owner = cfg["uid"] if root else 0
    mount(b"tmpfs", cfg["workdir"].encode(), b"tmpfs", 2 | 4,
          f"mode=0700,uid={owner},gid={owner},".encode() + size)
    return "ns" if root else "userns"


def _box_hidden_ancestor(path):
    """The top-most directory above `path` that other users cannot enter (None if all can)."""
    import os
    parts = os.path.realpath(path).split("/")[1:]
    for i in range(1, len(parts) + 1):
        if not os.stat("/" + "/".join(parts[:i])).st_mode & 0o001:
            return "/" + "/".join(parts[:i])
    return None


def _box_program(cfg, mode):
    """The program's process: drop privileges, set limits, then run imports, code and tests."""
    import ctypes, os, resource, sys
    os.setsid()
    libc = cfg.pop("libc", None) or ctypes.CDLL(None, use_errno=True)
    if mode != "none":  # pid 1 of the new pid namespace: a /proc showing only this sandbox
        libc.mount(b"proc", b"/proc", b"proc", 2 | 4 | 8, None)
    os.chdir(cfg["workdir"])
    if mode == "userns":  # a nested user + mount namespace locks the read-only mounts for good
        if libc.unshare(0x10000000 | 0x20000) != 0:
            os.write(2, b"sandbox setup failed: nested user namespace\n")
            os._exit(71)
    elif os.geteuid() == 0:
        if mode == "none" and _box_hidden_ancestor(sys.base_prefix):
            for name in cfg["preload"]:  # the uid below could not read the stdlib: load it now
                try:
                    __import__(name)
                except ImportError:
                    pass
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: setuid binaries cannot raise privileges
    libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = SIGKILL: die with the supervisor
    cpu, mem = int(cfg["timeout_s"]) + 1, cfg["memory_mb"] << 20
    for limit, value in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, (mem, mem)),
                         (resource.RLIMIT_NPROC, (cfg["max_procs"],) * 2),
                         (resource.RLIMIT_FSIZE, (cfg["max_file_mb"] << 20,) * 2),
                         (resource.RLIMIT_CORE, (0, 0))):
        resource.setrlimit(limit, value)
    _box_run_tests(cfg)


def _box_run_tests(cfg):
    """Run imports + code, then each test via exec; report each outcome on the result pipe.

    All the loop needs is captured in locals before the program's code runs, so the program
    cannot patch it; only the original process (not a fork of it) may report.
    """
    import builtins, os, sys
    token, fd = cfg["token"].encode(), cfg["result_fd"]
    write, getpid, exit_, exec_, exc_info, str_ = os.write, os.getpid, os._exit, exec, sys.exc_info, str
    settrace, setprofile, streams = sys.settrace, sys.setprofile, (sys.stdout, sys.stderr)

    def note(where):  # why a step failed, on stderr: for people reading logs, not for scoring
        try:
            kind, value = exc_info()[:2]
            write(2, ("%s: %s: %s\n" % (where, kind.__name__, str_(value)[:500])).encode("utf-8", "replace"))
        except:  # noqa: E722 - the program's own __str__ may raise anything
            pass

    def build(src, where):
        try:
            return compile(src, where, "exec", dont_inherit=True, optimize=0)
        except BaseException:  # noqa: B036 - a syntax error fails that step, not the harness
            note(where)

    steps = [build("\n".join(cfg["imports"]) + "\n", "imports"), build(cfg["code"], "program")]
    tests = [(build(test, "test %d" % i), "test %d" % i, b"%s %d fail\n" % (token, i),
              b"%s %d pass\n" % (token, i)) for i, test in enumerate(cfg["tests"])]
    ready, done, me, ran = token + b" ready\n", token + b" done\n", getpid(), None not in steps
    g = {"__name__": "__main__", "__builtins__": builtins}
    cfg.clear()
    del token, cfg
    write(fd, ready)
    try:
        for step in steps if ran else ():
            exec_(step, g)
    except:  # noqa: E722 - SystemExit included: the program may not end the run
        ran = False
        note("program")
    for code, where, fail_line, pass_line in tests:
        settrace(None)
        setprofile(None)
        passed = False
        if ran and code is not None:
            try:
                exec_(code, g)
                passed = True
            except:  # noqa: E722 - every exception, whatever its class, fails the test
                note(where)
        if getpid() == me:
            write(fd, pass_line if passed else fail_line)
    if getpid() == me:
        write(fd, done)
    for stream in streams:
        try:
            stream.flush()
        except:  # noqa: E722
            pass
    exit_(0)


def _box_wait(pid, timeout_s):
    """Wait for the program up to `timeout_s` of wall time, killing it past that; the verdict."""
    import os, select, signal, time
    deadline = time.monotonic() + timeout_s
    try:
        pidfd = [os.pidfd_open(pid)]
    except (AttributeError, OSError):  # kernel < 5.3: poll
        pidfd = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)  # pid 1 of its namespace: its whole tree goes with it
            os.waitpid(pid, 0)
            return "timeout"
        select.select(pidfd, [], [], left) if pidfd else time.sleep(min(left, 0.005))
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "timeout" if sig == signal.SIGXCPU else f"signal-{sig}"
    return f"code-{os.WEXITSTATUS(status)}"


def _box_kill_leftovers(pid, uid):
    """Without a pid namespace: kill the program's group, as root every process of its uid, and
    (we are their subreaper) any orphan left; reap them all."""
    import os, signal, time
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if uid is not None and os.geteuid() == 0:
        killer = os.fork()
        if killer == 0:  # kill(-1) as that uid hits all its processes at once, setsid or not
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(killer, 0)  # before the loop below, which kills any child it finds
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/self/task/{os.getpid()}/children") as f:
                orphans = [int(p) for p in f.read().split()]
        except OSError:
            orphans = []
        for orphan in orphans:
            try:
                os.kill(orphan, signal.SIGKILL)
            except OSError:
                pass
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.002)
        except ChildProcessError:
            return


_HARNESS_FUNCS = (_box_main, _box_isolate, _box_hidden_ancestor, _box_program, _box_run_tests,
                  _box_wait, _box_kill_leftovers)
_harness: list[str] = []

# Trainer side.

_uids: queue.Queue[int] | None = None
_uid_lock = threading.Lock()
_state = {"namespaces": True}  # set to False once namespaces are seen failing in setup
_warned: set[str] = set()


def _harness_source() -> str:
    if not _harness:
        _harness.append("\n\n".join(inspect.getsource(f) for f in _HARNESS_FUNCS) + "\n_box_main()\n")
    return _harness[0]


def _acquire_uid() -> int | None:
    """A uid for one run when root (None otherwise): its own, so RLIMIT_NPROC and the final
    kill-by-uid never touch another run. Skips uids an account uses or this namespace lacks."""
    global _uids
    if os.geteuid() != 0:
        return None
    with _uid_lock:
        if _uids is None:
            _uids = queue.Queue()
            for uid in [u for u in range(UID_BASE, UID_BASE + UID_COUNT) if _free_uid(u)] or [65534]:
                _uids.put(uid)  # (nobody alone, where no pool uid is mapped: one run at a time)
    return _uids.get()


def _free_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return False
    except KeyError:
        pass
    try:
        with open("/proc/self/uid_map") as f:
            ranges = [tuple(map(int, line.split())) for line in f]
    except OSError:
        return True
    return any(first <= uid < first + count for first, _, count in ranges)


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message)


def run_tests(code: str, tests: Sequence[str], imports: Sequence[str] = (), timeout_s: float = 5.0,
              memory_mb: int = 512, *, max_procs: int = 16, max_file_mb: int = 16,
              disk_mb: int = 64, output_limit: int = 64 * 1024, namespaces: bool = True) -> RunResult:
    """Run `imports`, then `code`, then each test (an `assert ...` line) in a fresh sandbox.

    Never raises and never hangs past `timeout_s` (+ a few seconds of grace): every failure is a
    RunResult. `output_limit` bytes of stdout and of stderr are kept; the rest is read and dropped.
    `namespaces=False` skips the namespaces (rlimits and the uid drop stay), for tests.
    """
    tests = [str(t) for t in tests]
    start = time.monotonic()
    limits = {"memory_mb": int(memory_mb), "max_procs": int(max_procs), "disk_mb": int(disk_mb),
              "max_file_mb": int(max_file_mb), "namespaces": bool(namespaces and _state["namespaces"])}
    try:
        result = _run(str(code), tests, [str(i) for i in imports or ()], float(timeout_s), output_limit,
                      limits)
        if result.isolation == "setup-error" and limits["namespaces"]:
            _state["namespaces"] = False  # namespaces half-work here: run without them from now on
            _warn_once("setup", f"sandbox: namespace setup fails here ({result.stderr.strip()})")
            return run_tests(code, tests, imports, timeout_s, memory_mb, max_procs=max_procs,
                             max_file_mb=max_file_mb, disk_mb=disk_mb, output_limit=output_limit)
    except Exception as err:  # noqa: BLE001 - a program must never crash the trainer
        logger.debug("sandbox error", exc_info=True)
        result = RunResult("error", 0, len(tests), "", f"sandbox error: {type(err).__name__}: {err}")
    if result.status == "error":
        _warn_once("error", f"sandbox could not run a program: {result.stderr.strip()[-500:]}")
    result.seconds = time.monotonic() - start
    return result


def _run(code: str, tests: list[str], imports: list[str], timeout_s: float, output_limit: int,
         limits: dict[str, Any]) -> RunResult:
    uid = _acquire_uid()
    workdir = tempfile.mkdtemp(prefix="r1-sandbox-")
    read_fd, write_fd = os.pipe()
    proc, finished = None, False
    try:
        if uid is not None:
            os.chown(workdir, uid, uid)
        token = secrets.token_hex(16)
        cfg = {"code": code, "tests": tests, "imports": imports, "timeout_s": timeout_s,
               "token": token, "result_fd": write_fd, "workdir": workdir, "uid": uid,
               "preload": _PRELOAD, **limits}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
               "LANG": "C.UTF-8"}  # the whole environment: nothing of os.environ passes through
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _harness_source()],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=(write_fd,), cwd=workdir, env=env, start_new_session=True)
        os.close(write_fd)
        write_fd = -1
        try:
            proc.stdin.write(marshal.dumps(cfg))
            proc.stdin.close()
        except OSError:  # the supervisor died at once; its stderr says why
            pass
        out, err, reports, finished = _collect(proc, read_fd, time.monotonic() + timeout_s + _GRACE_S,
                                               output_limit)
        return _verdict(reports.decode("ascii", "replace"), token, len(tests), finished,
                        out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), limits)
    finally:
        try:
            _stop(proc, uid, finished)
        finally:  # even if stopping failed: no fd, directory or uid may leak
            for fd in (read_fd, write_fd):
                if fd >= 0:
                    os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            if uid is not None:
                _uids.put(uid)


def _collect(proc: subprocess.Popen, report_fd: int, deadline: float,
             limit: int) -> tuple[bytes, bytes, bytes, bool]:
    """Read stdout, stderr and reports until the supervisor exits or the deadline passes.

    Returns (stdout, stderr, reports, finished). Past its cap a stream is still read, and dropped,
    so the program never blocks on a full pipe.
    """
    out, err = proc.stdout.fileno(), proc.stderr.fileno()
    bufs = {out: bytearray(), err: bytearray(), report_fd: bytearray()}
    caps = {out: limit, err: limit, report_fd: _REPORT_CAP}
    dropped = dict.fromkeys(bufs, 0)
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # kernel < 5.3: poll the supervisor instead
        pidfd = -1
    finished = False
    with selectors.DefaultSelector() as sel:
        for fd in bufs:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        if pidfd >= 0:
            sel.register(pidfd, selectors.EVENT_READ)
        while not finished and len(sel.get_map()) > (pidfd >= 0) and time.monotonic() < deadline:
            left = max(0.0, deadline - time.monotonic())
            for key, _ in sel.select(left if pidfd >= 0 else min(left, 0.01)):
                if key.fd == pidfd:
                    finished = True
                elif not _read_chunk(key.fd, bufs[key.fd], caps[key.fd], dropped):
                    sel.unregister(key.fd)
            finished = finished or (pidfd < 0 and proc.poll() is not None)
        for fd in bufs:  # the supervisor is gone: take what is in the pipes, without waiting
            while fd in sel.get_map() and _read_chunk(fd, bufs[fd], caps[fd], dropped, drain=True):
                pass
    if pidfd >= 0:
        os.close(pidfd)
    if not finished:  # every pipe closed: the supervisor is exiting; give it the time left
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
            finished = True
        except subprocess.TimeoutExpired:
            pass
    for fd in (out, err):
        if dropped[fd]:
            bufs[fd] += b"\n[... %d bytes dropped]" % dropped[fd]
    return bytes(bufs[out]), bytes(bufs[err]), bytes(bufs[report_fd]), finished


def _read_chunk(fd: int, buf: bytearray, cap: int, dropped: dict[int, int], drain: bool = False) -> bool:
    """Read one chunk into `buf` (kept up to `cap`); False at end of file or, draining, when empty."""
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        return not drain
    room = max(0, cap - len(buf))
    buf += chunk[:room]
    dropped[fd] += max(0, len(chunk) - room)
    return bool(chunk)


def _verdict(reports: str, token: str, total: int, finished: bool, stdout: str, stderr: str,
             limits: dict[str, Any]) -> RunResult:
    """Score the harness reports: only lines with the token count, and each test only once."""
    results: dict[int, list[bool]] = {}
    flags: list[str] = []
    for line in reports.splitlines():
        head, _, rest = line.partition(" ")
        if head != token:
            continue
        words = rest.split()
        if len(words) == 2 and words[0].isdigit() and words[1] in ("pass", "fail"):
            results.setdefault(int(words[0]), []).append(words[1] == "pass")
        else:
            flags.append(rest)
    mode = next((flag[5:] for flag in flags if flag.startswith("mode ")), "")
    if mode == "none" and limits["namespaces"]:
        _warn_once("none", "sandbox: namespaces unavailable; programs run WITHOUT network isolation "
                   "or a read-only filesystem view (rlimits and the uid drop still apply)")
    passed = sum(1 for i, seen in results.items() if 0 <= i < total and seen == [True])
    if not finished or "exit timeout" in flags:
        status: Status = "timeout"
    elif "ready" not in flags:
        status = "error"
    elif passed == total and flags.count("done") == 1:
        status = "ok"
    else:
        status = "failed"
    return RunResult(status, passed, total, stdout, stderr, 0.0, mode)


def _stop(proc: subprocess.Popen | None, uid: int | None, finished: bool) -> None:
    """Leave nothing of the run: the supervisor's group and, as root, the processes of its uid."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()
    if uid is not None and not finished:  # the supervisor was killed before its own cleanup
        try:
            subprocess.run([shutil.which("kill") or "/bin/kill", "-9", "-1"], user=uid, group=uid,
                           extra_groups=[], env={}, timeout=10, check=False, capture_output=True)
        except (OSError, subprocess.SubprocessError) as err:
            _warn_once("kill", f"sandbox: could not kill the processes of uid {uid}: {err}")


def run_many(jobs: Iterable[Mapping[str, Any]], workers: int | None = None) -> list[RunResult]:
    """Run many programs in parallel, one sandbox each, `workers` at a time; results in order.

    Each job holds `run_tests` keyword arguments: {"code": ..., "tests": [...], "imports": [...]}.
    """
    jobs = list(jobs)
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    if workers == 1:
        return [_run_job(job) for job in jobs]
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="sandbox") as pool:
        return list(pool.map(_run_job, jobs))


def _run_job(job: Mapping[str, Any]) -> RunResult:
    try:
        return run_tests(**job)
    except Exception as err:  # noqa: BLE001 - e.g. an unknown keyword: a result, not a crash
        return RunResult("error", 0, len(job.get("tests") or ()), "", f"bad job: {err}")
