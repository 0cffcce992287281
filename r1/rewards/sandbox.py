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

from r1.rewards.sandbox_box import (_box_hidden_ancestor, _box_isolate, _box_kill_leftovers, _box_main,
                                    _box_program, _box_run_tests, _box_wait)

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
