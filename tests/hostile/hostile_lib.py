"""Canaries, placeholders, a short-limit copy of the toy rubric and the isolated runner (hostile corpus)."""
from __future__ import annotations

import glob
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOY_DIR = REPO / "tests" / "fixtures" / "toy"
PYTHON = sys.executable
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
RUNS: list[dict] = []  # one record per test, written to last_run.json

# limits of the rubric copy: short, so timeouts cost seconds
TOY_LIMITS = {"timeout_s": 3, "load_timeout_s": 10, "budget_s": 60, "memory_mb": 1024}


def sandbox_layers() -> tuple[str, ...]:
    from grader.sandbox import available_layers

    return available_layers()


def have_sandbox() -> bool:
    layers = sandbox_layers()
    return os.geteuid() == 0 and "namespaces" in layers and "uid" in layers


def _host_ip() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent; picks the outgoing interface
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


class Listener:
    """A TCP server on the host: any connection from a sandbox is recorded."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[str] = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.hits.append(str(addr))
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


class Hostile:
    """Everything a hostile test needs: canaries, placeholders, the runner."""

    def __init__(self, base: Path):
        self.base = base
        self.canary_dir = base / "canary"
        self.canary_dir.mkdir(mode=0o700)
        self.file_token = "cnryFILE" + secrets.token_hex(12)
        self.env_token = "cnryENV" + secrets.token_hex(12)
        self.key_token = "cnryKEY" + secrets.token_hex(12)
        self.canary_file = self.canary_dir / "secret.txt"
        self.cache = base / "cache"
        (self.cache / "keys").mkdir(parents=True)
        self.fake_key = self.cache / "keys" / "fake-secret.json"
        self.fake_key.write_text(json.dumps({"answer_key": self.key_token}))
        os.chmod(self.fake_key, 0o600)
        self.reset_canary()
        raw = yaml.safe_load((TOY_DIR / "toy.yaml").read_text())
        raw["limits"] = dict(TOY_LIMITS)
        self.toy_rubric = base / "toy.yaml"
        self.toy_rubric.write_text(yaml.safe_dump(raw, sort_keys=False))
        from grader.pipeline.keys import key_version
        from grader.rubric import load_rubric

        self.toy_keydir = self.cache / "keys" / f"toy-{key_version(load_rubric(self.toy_rubric))}"
        self.listener = Listener()
        self.host_ip = _host_ip()
        finder = next(iter(glob.glob(str(SITE / "__editable__*finder.py"))), None)
        self.checkout_paths: list[str] = []
        if finder:
            ns: dict = {}
            text = Path(finder).read_text()
            line = next((ln for ln in text.splitlines() if ln.startswith("MAPPING")), None)
            if line:
                exec(line.replace("MAPPING: dict[str, str]", "MAPPING"), ns)  # noqa: S102 - our own venv's file
                self.checkout_paths = sorted(ns["MAPPING"].values())
        self.needles = {"canary file token": self.file_token, "grader env token": self.env_token,
                        "fake answer key token": self.key_token,
                        "host job dir path (/proc/1/cmdline)": "dlgrade-job-",
                        "toy reference source": "Twice ``x`` (any array).",
                        "grader source": "def make_plan(rubric: Rubric, opts: Options, keys) -> Plan:",
                        "signal-propagation reference source": "def _q_star_one(sigma_w, sigma_b):",
                        "rubric text": "Problem Sheet 2 of *Theories of Deep Learning*"}
        try:  # a line of the host's /etc/shadow (read as root) must never be quoted back
            line = next(ln for ln in Path("/etc/shadow").read_text().splitlines() if len(ln) > 12)
            self.needles["/etc/shadow line"] = line
        except (OSError, StopIteration):
            pass
        for p in self.checkout_paths:
            self.needles[f"checkout path {p}"] = p

    def reset_canary(self):
        if self.canary_file.exists() or self.canary_file.is_symlink():
            self.canary_file.unlink()
        # not valid Python, so a syntax-error message that quotes it is a leak too
        self.canary_file.write_text(f"secret {self.file_token} !\n")
        os.chmod(self.canary_file, 0o600)
        self.canary_digest = hashlib.sha256(self.canary_file.read_bytes()).hexdigest()

    def placeholders(self, tid: str) -> dict[str, str]:
        return {"@CANARY_FILE@": str(self.canary_file), "@CANARY_DIR@": str(self.canary_dir),
                "@CACHE@": str(self.cache), "@FAKEKEY@": str(self.fake_key), "@KEYDIR@": str(self.toy_keydir),
                "@REPO@": str(REPO), "@SITE@": str(SITE), "@RUBRIC@": str(self.toy_rubric),
                "@PWN@": pwn_name(tid), "@HOSTIP@": self.host_ip, "@PORT@": str(self.listener.port)}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DLGRADE_CACHE=str(self.cache), DLGRADE_CANARY=self.env_token, PYTHONPATH=str(REPO))
        return env

    def run(self, spec: dict, timeout: float) -> dict:
        """Run the grader in a process of its own; sample host memory, disk and inodes meanwhile."""
        work = Path(tempfile.mkdtemp(prefix="spec-", dir=self.base))
        spec = {"toy_dir": str(TOY_DIR), **spec}
        (work / "spec.json").write_text(json.dumps(spec))
        out = work / "out.json"
        start = _sample()
        peak = dict.fromkeys(start, 0)
        t0 = time.monotonic()
        proc = subprocess.Popen([PYTHON, str(HERE / "_runner.py"), str(work / "spec.json"), str(out)],
                                env=self.env(), cwd=str(work), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        chunks = {"stdout": [], "stderr": []}
        readers = [threading.Thread(target=_drain, args=(getattr(proc, k), chunks[k]), daemon=True) for k in chunks]
        for r in readers:
            r.start()
        timed_out = False
        while proc.poll() is None:
            now = _sample()
            for k in peak:
                peak[k] = max(peak[k], now[k] - start[k])
            if time.monotonic() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # our runner's own session
                proc.wait()
                break
            time.sleep(0.05)
        for r in readers:
            r.join(5)
        rec = json.loads(out.read_text()) if out.exists() else {"ok": False}
        rec.update(timed_out=timed_out, wall_s=round(time.monotonic() - t0, 2), returncode=proc.returncode,
                   shmem_delta_mb=round(peak["shmem_kb"] / 1024), disk_delta_mb=round(peak["disk_kb"] / 1024),
                   inodes_delta=peak["inodes"],
                   stdout=b"".join(chunks["stdout"]).decode("utf-8", "replace"),
                   stderr=b"".join(chunks["stderr"]).decode("utf-8", "replace")[-4000:])
        return rec


def _drain(stream, sink, limit=8 * 2**20):
    n = 0
    for chunk in iter(lambda: stream.read(65536), b""):
        if n < limit:
            sink.append(chunk)
            n += len(chunk)


def _sample() -> dict:
    mem = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, v = line.split(":", 1)
        mem[k] = int(v.split()[0])
    st = os.statvfs(tempfile.gettempdir())
    return {"shmem_kb": mem.get("Shmem", 0),
            "disk_kb": (st.f_blocks - st.f_bfree) * st.f_frsize // 1024,
            "inodes": st.f_files - st.f_ffree}


def pwn_name(tid: str) -> str:
    return f"dlgrade-hostile-pwn-{tid}"


def pwn_paths(tid: str) -> list[Path]:
    """Where attacks try to create files outside the job dir (all must be absent afterwards)."""
    name = pwn_name(tid)
    return [Path("/tmp") / name, Path("/root") / name, Path("/var/tmp") / name, Path("/dev/shm") / name,
            SITE / f"{name}.pth", REPO / name, Path("/etc") / name]


def tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
