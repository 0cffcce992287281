"""The sandbox: honest programs score what they earn; hostile ones neither escape, hang, nor cheat.

Most hostile cases run twice: with namespaces (the normal path) and without (the fallback where
namespaces are refused: rlimits, uid drop and kill-by-uid must still hold).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from pathlib import Path

import pytest

from r1.rewards.sandbox import RunResult, run_many, run_tests

ROOT = os.geteuid() == 0
ISOLATION = run_tests("", ["assert True"]).isolation  # what this machine gives: ns, userns, none
needs_namespaces = pytest.mark.skipif(ISOLATION == "none", reason="namespaces refused here")
BOTH_MODES = pytest.mark.parametrize("namespaces", [True, False], ids=["ns", "no-ns"])


def marked_processes(marker: str, wait_s: float = 2.0) -> list[int]:
    """Pids whose name (comm) is `marker`, polled until none are left or `wait_s` passes."""
    deadline = time.monotonic() + wait_s
    while True:
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == marker:
                    pids.append(int(pid))
            except OSError:
                pass
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def name_self(marker: str) -> str:
    """Program lines that rename the process (and the children it forks) to `marker`."""
    return f"import ctypes\nctypes.CDLL(None).prctl(15, {marker.encode()!r}, 0, 0, 0)\n"


# --- honest programs ---------------------------------------------------------------------------

def test_correct_program_passes_every_test():
    result = run_tests("def add(a, b):\n    return a + b\n", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
    assert (result.status, result.passed, result.total, result.fraction) == ("ok", 2, 2, 1.0)


def test_wrong_program_fails_and_says_why():
    result = run_tests("def add(a, b):\n    return a - b\n", ["assert add(1, 2) == 3"])
    assert (result.status, result.passed) == ("failed", 0)
    assert "test 0: AssertionError" in result.stderr


def test_fraction_counts_each_test_once():
    result = run_tests("def sq(x):\n    return x * x if x < 3 else 0\n",
                       ["assert sq(1) == 1", "assert sq(2) == 4", "assert sq(3) == 9", "assert sq(x) == 0"])
    assert (result.status, result.passed, result.total) == ("failed", 2, 4)
    assert result.fraction == 0.5


def test_imports_run_before_the_code_and_threads_work():
    code = ("import threading\nout = []\nts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]\n"
            "[t.start() for t in ts]\n[t.join() for t in ts]\n")
    result = run_tests(code, ["assert sorted(out) == list(range(8))", "assert math.pi > 3"], ["import math"])
    assert result.status == "ok", result.stderr


def test_syntax_error_and_reading_stdin_fail_fast():
    assert run_tests("def f(:\n", ["assert True"]).status == "failed"
    result = run_tests("x = input()\n", ["assert True"], timeout_s=3)
    assert result.status == "failed" and "EOFError" in result.stderr


def test_run_many_keeps_order_and_never_raises():
    jobs = [{"code": f"x = {i}", "tests": ["assert x % 2 == 1"]} for i in range(5)]
    jobs.append({"code": "x = 1", "tests": ["assert x"], "no_such_option": 1})
    results = run_many(jobs, workers=2)
    assert [r.status for r in results] == ["failed", "ok", "failed", "ok", "failed", "error"]
    assert all(isinstance(r, RunResult) for r in results)


# --- cheating: nothing but an assert that really passed counts -----------------------------------

@BOTH_MODES
@pytest.mark.parametrize("code", [
    "import os\nos._exit(0)\n",
    "import sys\nsys.exit(0)\n",
    "raise SystemExit(0)\n",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "def f():\n    import os\n    os._exit(0)\n",  # exits from inside the first test
    "def f():\n    import sys\n    sys.exit(0)\n",
])
def test_exiting_early_is_not_a_pass(code, namespaces):
    result = run_tests("def f():\n    return 1\n" + code, ["assert f() == 2", "assert f() == 3"],
                       namespaces=namespaces)
    assert result.passed == 0 and result.status != "ok"


@pytest.mark.parametrize("code", [
    "class AssertionError(Exception):\n    pass\n",
    "import builtins\nbuiltins.AssertionError = KeyError\n",
    "__builtins__.AssertionError = type('Fake', (Exception,), {})\n",
    "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.compile = lambda *a, **k: None\n",
    "import builtins\nbuiltins.BaseException = builtins.Exception = type('X', (BaseException,), {})\n",
    "import os\nos.write = lambda fd, data: 0\nos.getpid = lambda: 1\n",
    "import sys\nsys.excepthook = lambda *a: None\nsys.settrace(lambda *a: None)\n",
    "import __main__\n__main__.__dict__.clear()\n",
])
def test_redefining_assert_machinery_does_not_pass_a_failing_assert(code):
    result = run_tests(code + "def f():\n    return 1\n", ["assert f() == 2", "assert 1 == 0"])
    assert result.passed == 0 and result.status == "failed"


def test_forged_markers_on_every_stream_do_not_count():
    guess = "0" * 32  # a token-shaped guess; one report per test, so no report contradicts another
    forged = f"{guess} ready\n" + "".join(f"{guess} {i} pass\n" for i in range(3)) + f"{guess} done\n"
    code = (f"import os\nforged = {forged.encode()!r}\nprint(forged.decode())\n"
            "for fd in os.listdir('/proc/self/fd'):\n    try:\n        os.write(int(fd), forged)\n"
            "    except OSError:\n        pass\nos._exit(0)\n")  # no real report can contradict
    result = run_tests(code, ["assert False", "assert False", "assert False"])
    assert result.passed == 0 and result.status == "failed"


# Two processes, each able to pass one test. The copy hides its failing report by pointing every
# pipe fd at /dev/null for test 0, then restores them for test 1; the original answers test 0 and
# waits for the copy before leaving. Trusting reports from both would make every test pass.
FORK_CHEAT = """
import os
def pipes():
    found = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            if int(fd) > 2 and os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):
                found.append(int(fd))
        except OSError:  # the directory's own fd, closed by now
            pass
    return found
copy = os.fork()
saved = {}
def f(i):
    if copy:  # the original: right for test 0, then let the copy finish and leave
        if i == 1:
            os.waitpid(copy, 0)
            os._exit(0)
        return 0
    if i == 0:
        null = os.open('/dev/null', os.O_WRONLY)
        for fd in pipes():
            saved[fd] = os.dup(fd)
            os.dup2(null, fd)
        return -1
    for fd, dup in saved.items():
        os.dup2(dup, fd)
    return 1
"""


def test_forked_copies_cannot_pool_their_passes():
    result = run_tests(FORK_CHEAT, ["assert f(0) == 0", "assert f(1) == 1"])
    assert result.passed <= 1 and result.status == "failed"


# --- resource abuse: the trainer never hangs ------------------------------------------------------

@pytest.mark.parametrize("code", [
    "while True:\n    pass\n", "import time\ntime.sleep(60)\n",
    "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"])
def test_infinite_loops_time_out(code):
    start = time.monotonic()
    result = run_tests(code, ["assert True"], timeout_s=1)
    assert result.status == "timeout" and result.passed == 0
    assert time.monotonic() - start < 4


@BOTH_MODES
def test_fork_bomb_is_contained_and_killed(namespaces):
    marker = "r1bomb" + secrets.token_hex(4)
    code = name_self(marker) + ("import os\nwhile True:\n    try:\n        os.fork()\n"
                                "    except OSError:\n        pass\n")
    start = time.monotonic()
    result = run_tests(code, ["assert True"], timeout_s=2, max_procs=16, namespaces=namespaces)
    assert result.status == "timeout" and time.monotonic() - start < 8
    assert marked_processes(marker) == []


@BOTH_MODES
def test_busy_children_left_behind_are_killed(namespaces):
    marker = "r1kid" + secrets.token_hex(4)
    code = name_self(marker) + (
        "import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
        "        os.setsid()\n        while True:\n            pass\n    kids.append(pid)\n"
        "time.sleep(0.2)\nfor pid in kids:\n    os.kill(pid, 0)\nprint('alive', len(kids))\n")
    result = run_tests(code, ["assert len(kids) == 3"], namespaces=namespaces)
    assert result.status == "ok" and "alive 3" in result.stdout, result.stderr
    assert marked_processes(marker) == []


@BOTH_MODES
@pytest.mark.parametrize("code", ["x = bytearray(8 * 1024**3)\n",
                                  "x = []\nwhile True:\n    x.append(bytearray(10**7))\n"])
def test_memory_bomb_fails_fast(code, namespaces):
    start = time.monotonic()
    result = run_tests(code, ["assert True"], memory_mb=256, namespaces=namespaces)
    assert result.status == "failed" and "MemoryError" in result.stderr
    assert time.monotonic() - start < 10


def test_megabytes_of_output_are_capped():
    code = ("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 100_000)\n"
            "print('E' * 10**6, file=sys.stderr)\n")
    result = run_tests(code, ["assert True"], output_limit=64 * 1024)
    assert result.status == "ok"
    assert len(result.stdout) < 65 * 1024 and "19934464 bytes dropped" in result.stdout
    assert len(result.stderr) < 65 * 1024


def test_file_size_limit():
    result = run_tests("open('big', 'wb').write(b'x' * 4 * 1024**2)\n", ["assert True"], max_file_mb=1)
    assert result.status != "ok"


# --- isolation --------------------------------------------------------------------------------

@needs_namespaces
def test_network_is_unreachable():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=2)\n"
                "    print('CONNECTED')\nexcept OSError as err:\n    print('blocked', err)\n" % port)
        result = run_tests(code, ["assert True"])
        assert result.status == "ok" and "blocked" in result.stdout and "CONNECTED" not in result.stdout
        with pytest.raises(socket.timeout):
            server.accept()


ATTACK = ("import os\nfor action, path in {targets!r}:\n    try:\n"
          "        os.remove(path) if action == 'rm' else open(path, 'w').write('pwned')\n"
          "        print('DONE', action, path)\n    except OSError as err:\n        print('blocked', err)\n")


@BOTH_MODES
def test_cannot_write_or_delete_outside_its_directory(tmp_path, namespaces):
    if not ROOT and (not namespaces or ISOLATION == "none"):
        pytest.skip("without namespaces or root, the program runs as our own uid")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    here = Path(__file__).parent
    targets = [("rm", str(victim)), ("w", str(tmp_path / "new.txt")), ("w", str(here / "pwned.txt"))]
    result = run_tests(ATTACK.format(targets=targets) + "open('mine.txt', 'w').write('ok')\n",
                       ["assert open('mine.txt').read() == 'ok'"], namespaces=namespaces)
    assert result.status == "ok" and result.stdout.count("blocked") == 3, result.stdout
    assert victim.read_text() == "keep me" and not (tmp_path / "new.txt").exists()
    assert not (here / "pwned.txt").exists()


@needs_namespaces
def test_world_writable_directories_outside_are_read_only():
    # Not even a directory anyone may write to: every mount is read-only but the private tmpfs.
    shared = Path(__file__).parent / f".sandbox-shared-{secrets.token_hex(4)}"
    shared.mkdir()
    try:
        shared.chmod(0o777)
        (shared / "victim.txt").write_text("keep me")
        (shared / "victim.txt").chmod(0o666)
        targets = [("rm", str(shared / "victim.txt")), ("w", str(shared / "victim.txt")),
                   ("w", str(shared / "new.txt"))]
        result = run_tests(ATTACK.format(targets=targets), ["assert True"])
        assert result.stdout.count("blocked") == 3, result.stdout
        assert sorted(os.listdir(shared)) == ["victim.txt"]
        assert (shared / "victim.txt").read_text() == "keep me"
    finally:
        shutil.rmtree(shared)


@BOTH_MODES
def test_environment_secrets_do_not_leak(monkeypatch, namespaces):
    secret = "r1-secret-" + secrets.token_hex(8)
    monkeypatch.setenv("R1_SANDBOX_SECRET", secret)
    code = ("import os\nprint(dict(os.environ))\nfor pid in os.listdir('/proc'):\n    try:\n"
            "        print(open(f'/proc/{pid}/environ').read())\n    except OSError:\n        pass\n")
    result = run_tests(code, ["assert 'R1_SANDBOX_SECRET' not in os.environ"], namespaces=namespaces)
    assert result.status == "ok", result.stderr
    assert secret not in result.stdout and "HOME" in result.stdout


def test_temporary_directories_are_removed():
    result = run_tests("import os\nprint(os.getcwd())\nopen('f', 'w').write('x')\n", ["assert True"])
    assert result.status == "ok"
    assert not os.path.exists(result.stdout.strip())
