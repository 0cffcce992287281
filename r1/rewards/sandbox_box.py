"""The sandbox's supervisor and harness: the code that runs INSIDE the sandbox, not in the trainer.

`r1.rewards.sandbox` ships these functions' source to a fresh `python -I -S` process, so each one
imports what it needs itself and may use nothing else from this module or from r1.
"""

# ruff: noqa: PLC0415  (imports inside functions are the point: the source runs standalone)


def _box_main():
    """Supervisor: read the job from stdin, isolate, fork the program, wait, clean up, report."""
    import marshal
    import os
    import sys
    cfg = marshal.loads(sys.stdin.buffer.read())
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    def report(msg):
        os.write(cfg["result_fd"], (cfg["token"] + " " + msg + "\n").encode())

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
    import ctypes
    import os
    import sys
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
    import ctypes
    import os
    import resource
    import sys
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
    import builtins
    import os
    import sys
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
    import os
    import select
    import signal
    import time
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
    import os
    import signal
    import time
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
