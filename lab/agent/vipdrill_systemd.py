"""vipdrill_systemd: the agent's view of a host whose stack systemd runs (a staging pair, or a lab node of
`vipdrill up --systemd`). The agent imports it from its own folder; standard library only.

What the lab supervisor gives the agent in a lab container, systemd gives here:
  - the daemons: their units (strongswan.service or strongswan-starter.service for charon,
    keepalived.service, xl2tpd.service), their main PIDs from `systemctl show`;
  - stop, kill and start: signals to a unit's main PID, `systemctl start` and `restart`; what a unit does
    after a kill is its own Restart= policy, as in production, and a daemon vipdrill killed is marked
    (RUN/daemons/<daemon>.want = down, .unit = its unit) so a revert or heal starts exactly those again;
  - the logs: the journal, each line stamped with the time its sender logged it (_SOURCE_REALTIME_TIMESTAMP,
    else journald's receipt), formatted as the supervisor stamps its logs: "<epoch seconds> <message>";
  - the VRRP state: keepalived's own "Entering X STATE" lines, followed in the journal.
"""

import ctypes
import json
import os
import signal
import subprocess
import threading

UNIT_CANDIDATES = (
    ("charon", ("strongswan.service", "strongswan-starter.service", "ipsec.service")),
    ("keepalived", ("keepalived.service",)),
    ("xl2tpd", ("xl2tpd.service",)),
)
# journal message ids (systemd's catalog): a unit's start job done, a unit's process exited
MSG_STARTED = "39f53479d3a045ac8e11786248231fbf"
MSG_EXITED = "98e322203f7a4ed290d09fe03c09fe15"
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT, "HUP": signal.SIGHUP, "STOP": signal.SIGSTOP, "CONT": signal.SIGCONT}


def die_with_parent():
    """In the child before exec: SIGKILL when the agent dies, however it dies (prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def entry_time(j):
    """The time an entry was logged, in seconds: its sender's stamp where the journal has one."""
    raw = j.get("_SOURCE_REALTIME_TIMESTAMP") or j.get("__REALTIME_TIMESTAMP") or "0"
    return int(raw) / 1e6


def entry_text(j):
    m = j.get("MESSAGE")
    if isinstance(m, list):  # a message that is not UTF-8 comes as bytes
        m = bytes(b & 0xFF for b in m).decode("utf-8", "replace")
    return (m or "").replace("\n", " ")


def source_of(j, by_unit):
    """Which of the lab's log names an entry belongs to, or None."""
    unit = j.get("_SYSTEMD_UNIT")
    if j.get("_PID") == "1" and j.get("UNIT") in by_unit:
        return "supervisor.log"
    if unit not in by_unit:
        return None
    if j.get("SYSLOG_IDENTIFIER") == "pppd":  # pppd runs in xl2tpd's unit, and logs to syslog
        return "pppd.log"
    return by_unit[unit] + ".log"


class Systemd:
    def __init__(self, run_dir, run):
        self.run_dir = run_dir
        self.run = run
        self._units = {}
        self._lock = threading.Lock()
        self.vrrp_state = None
        self.last_pid = {}

    def units(self):
        """daemon -> its loaded unit, looked up once (a host has one of the candidates)."""
        with self._lock:
            if not self._units:
                names = [u for _, cands in UNIT_CANDIDATES for u in cands]
                code, out, _ = self.run(["systemctl", "show", "-p", "LoadState"] + names, 10)
                states = [b.strip().partition("=")[2] for b in out.strip().split("\n\n")] if code == 0 else []
                loaded = {u for u, st in zip(names, states) if st == "loaded"}
                for d, cands in UNIT_CANDIDATES:
                    for u in cands:
                        if u in loaded:
                            self._units[d] = u
                            break
            return dict(self._units)

    def daemons(self):
        """{daemon: {running, pid, unit}}, from one `systemctl show` of every stack unit."""
        us = self.units()
        if not us:
            return {}
        names = list(us.items())
        code, out, err = self.run(["systemctl", "show", "-p", "MainPID"] + [u for _, u in names], 5)
        if code != 0:
            raise RuntimeError("systemctl show: " + (err.strip() or "exit %d" % code))
        pids = [int(b.strip().partition("=")[2] or 0) for b in out.strip().split("\n\n")]
        res = {}
        for (d, u), pid in zip(names, pids):
            res[d] = {"running": pid > 0 and os.path.exists("/proc/%d" % pid), "pid": pid or None, "unit": u}
        return res

    def unit_of(self, daemon):
        u = self.units().get(daemon)
        if not u:
            raise ValueError("no systemd unit runs %s here (looked for %s)" % (daemon, ", ".join(dict(UNIT_CANDIDATES).get(daemon, ("?",)))))
        return u

    def main_pid(self, daemon):
        return self.daemons().get(daemon, {}).get("pid")

    def _mark(self, daemon, unit):
        d = os.path.join(self.run_dir, "daemons")
        os.makedirs(d, exist_ok=True)
        for name, text in ((daemon + ".unit", unit), (daemon + ".want", "down")):
            with open(os.path.join(d, name), "w") as f:
                f.write(text + "\n")

    def kill(self, daemon, sig, time_now):
        """The signal to the unit's main process; returns the host time right after it was sent."""
        u = self.unit_of(daemon)
        pid = self.main_pid(daemon)
        if not pid:
            raise RuntimeError("%s (%s) is not running" % (daemon, u))
        if sig in ("KILL", "TERM", "INT"):
            self._mark(daemon, u)  # before the kill: a revert must find it whatever happens next
        os.kill(pid, SIGNALS[sig])
        return time_now()

    def _systemctl(self, verb, unit, timeout):
        code, out, err = self.run(["systemctl", verb, unit], timeout)
        if code != 0:
            raise RuntimeError("systemctl %s %s: %s" % (verb, unit, err.strip() or out.strip() or "exit %d" % code))

    def start(self, daemon, timeout):
        u = self.unit_of(daemon)
        self.run(["systemctl", "reset-failed", u], timeout)
        self._systemctl("start", u, timeout)
        want = os.path.join(self.run_dir, "daemons", daemon + ".want")
        if os.path.exists(want):
            with open(want, "w") as f:
                f.write("up\n")

    def restart(self, daemon, timeout):
        """systemctl restart: the unit's own stop (TimeoutStopSec, then SIGKILL), then its start."""
        self._systemctl("restart", self.unit_of(daemon), timeout)

    def _journal(self, argv_tail):
        us = self.units()
        matches = []
        for u in us.values():
            matches += ["_SYSTEMD_UNIT=" + u, "+", "UNIT=" + u, "+"]
        return ["journalctl", "--no-pager", "-o", "json"] + argv_tail + matches[:-1], {u: d for d, u in us.items()}

    def log(self, name, lo, hi, timeout):
        """The journal's lines for one of the lab's log names, stamped, within [lo, hi]."""
        tail = ["--since", "@%d" % int(lo)] + (["--until", "@%d" % (int(hi) + 1)] if hi < 4e9 else [])
        argv, by_unit = self._journal(tail)
        if not by_unit:
            return ""
        code, out, err = self.run(argv, timeout)
        if code != 0:
            raise RuntimeError("journalctl: " + (err.strip() or "exit %d" % code))
        lines = []
        for raw in out.splitlines():
            try:
                j = json.loads(raw)
            except ValueError:
                continue
            t = entry_time(j)
            if source_of(j, by_unit) == name and lo <= t <= hi:
                lines.append("%.6f %s%s" % (t, "systemd: " if name == "supervisor.log" else "", entry_text(j)))
        return "\n".join(lines) + ("\n" if lines else "")

    def _event(self, j, by_unit, parse_line):
        """An agent event for one journal entry (keepalived's state lines, the units' starts and exits), or None."""
        src = source_of(j, by_unit)
        t = entry_time(j)
        if src == "keepalived.log":
            e = parse_line("keepalived.log", "%.6f %s" % (t, entry_text(j)))
            if e:
                self.vrrp_state = e["state"]
            return e
        if src != "supervisor.log":
            return None
        daemon = by_unit[j["UNIT"]]
        mid, text = j.get("MESSAGE_ID"), entry_text(j)
        if mid == MSG_STARTED or (mid is None and text.startswith("Started ")):
            if daemon == "keepalived":
                self.vrrp_state = "INIT"
            pid = self.main_pid(daemon) or 0
            self.last_pid[daemon] = pid
            return {"ev": "daemon.start", "t": t, "daemon": daemon, "pid": pid}
        if mid == MSG_EXITED or "Main process exited" in text:
            if daemon == "keepalived":
                self.vrrp_state = None
            return {"ev": "daemon.exit", "t": t, "daemon": daemon, "pid": self.last_pid.get(daemon, 0)}
        return None

    def replay_state(self, parse_line):
        """keepalived's VRRP state before the follow: its newest state line since the unit's current start
        (its invocation), however many lines it logged after it (a MASTER logs gratuitous ARPs every few s)."""
        u = self.units().get("keepalived")
        code, out, _ = self.run(["systemctl", "show", "-p", "InvocationID", "--value", u], 5) if u else (1, "", "")
        if code != 0 or not out.strip():
            return
        self.vrrp_state = "INIT"
        base = ["journalctl", "--no-pager", "-o", "cat", "_SYSTEMD_INVOCATION_ID=" + out.strip()]
        code, out, err = self.run(base + ["-g", "Entering (MASTER|BACKUP|FAULT) STATE"], 20)
        if code != 0 and "pattern" in err.lower():  # a journalctl built without pattern matching: every line
            code, out, _ = self.run(base, 20)
        for line in out.splitlines() if code == 0 else []:
            e = parse_line("keepalived.log", "0 " + line)
            if e:
                self.vrrp_state = e["state"]

    def follow(self, stop, since, parse_line, emit):
        """Push the journal's events as they are logged (from `since` when given) until `stop` is set."""
        self.replay_state(parse_line)
        for d, v in self.daemons().items():  # so an exit before any start seen here still names its pid
            self.last_pid[d] = v["pid"] or 0
        argv, by_unit = self._journal(["-f"] + (["--since", "@%d" % int(since)] if since is not None else ["-n", "0"]))
        if not by_unit:
            return
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        threading.Thread(target=lambda: (stop.wait(), p.kill()), daemon=True).start()
        for raw in p.stdout:
            try:
                e = self._event(json.loads(raw), by_unit, parse_line)
            except (ValueError, KeyError):
                continue
            if e and (since is None or e["t"] > since):
                emit(e)
        p.wait()
