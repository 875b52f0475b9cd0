#!/usr/bin/python3
"""bench.py: dbtls against stunnel and HAProxy (and no tunnel at all),
side by side in one run on this machine.

Every tool runs as a client+server pair on loopback with the same ECDSA
P-256 certificates, mutual TLS 1.3, peer verification on and session
resumption where the tool has it.  Each measurement is repeated and the
tools are interleaved within each repetition, so drift hits all alike;
the table shows medians and dbtls's ratio to the best peer.

usage: bench.py --build DIR [--quick] [--out DIR] [--reps N]
"""
import argparse
import atexit
import csv
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PGBIN = "/usr/lib/postgresql/15/bin"
PEERS = ("stunnel", "haproxy")


CLAIMS = "/tmp/dbtls-port-claims"   # shared with tests/integration/lib.sh
claimed = []


def free_port():
    """A free port in 20000-32767, outside the ephemeral range, claimed
    (an atomic mkdir) until exit so a test run beside us never takes it."""
    os.makedirs(CLAIMS, exist_ok=True)
    while True:
        p = 20000 + int.from_bytes(os.urandom(2), "big") % 12700
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                os.mkdir(os.path.join(CLAIMS, str(p)))
            except OSError:
                continue
        claimed.append(p)
        return p


@atexit.register
def release_ports():
    for p in claimed:
        try:
            os.rmdir(os.path.join(CLAIMS, str(p)))
        except OSError:
            pass


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("bench: nothing listens on %d" % port)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (%d): %s%s" % (
            " ".join(cmd), p.returncode, p.stderr, p.stdout))
    return p.stdout


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


class Tool:
    """A tunnel pair: bench_port and pg_port are where clients connect."""

    def __init__(self, name, d):
        self.name, self.d, self.procs = name, d, []
        self.bench_port = self.pg_port = None

    @property
    def pids(self):
        return [p.pid for p in self.procs]

    def spawn(self, cmd, log):
        self.procs.append(subprocess.Popen(cmd, stdout=open(log, "w"),
                                           stderr=subprocess.STDOUT))

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=10)


def start_direct(t, backend, pg, pki, build):
    t.bench_port, t.pg_port = backend, pg


def start_dbtls_prewarm(t, backend, pg, pki, build):
    start_dbtls(t, backend, pg, pki, build, prewarm=16)


def start_dbtls(t, backend, pg, pki, build, prewarm=0):
    sb, sp, t.bench_port, t.pg_port = (free_port() for _ in range(4))
    agent = os.path.join(build, "dbtls-agent")
    with open(t.d + "/server.conf", "w") as f:
        f.write(f'''log_level = "warning";
max_connections = 19000;
tls = {{ cert = "{pki}/server.crt"; key = "{pki}/server.key"; ca = "{pki}/ca.crt"; }};
tunnels = (
  {{ name = "bench"; mode = "server"; protocol = "tcp"; listen = "127.0.0.1:{sb}";
     connect = "127.0.0.1:{backend}"; allow = {{ cn = [ "app1" ]; }}; }},
  {{ name = "pg"; mode = "server"; protocol = "postgresql"; listen = "127.0.0.1:{sp}";
     connect = "127.0.0.1:{pg}"; allow = {{ cn = [ "app1" ]; }}; }} );
''')
    with open(t.d + "/client.conf", "w") as f:
        f.write(f'''log_level = "warning";
max_connections = 19000;
prewarm = {prewarm};
tls = {{ cert = "{pki}/app1.crt"; key = "{pki}/app1.key"; ca = "{pki}/ca.crt"; }};
tunnels = (
  {{ name = "bench"; mode = "client"; protocol = "tcp"; listen = "127.0.0.1:{t.bench_port}";
     connect = "127.0.0.1:{sb}"; server_name = "localhost"; }},
  {{ name = "pg"; mode = "client"; protocol = "postgresql"; listen = "127.0.0.1:{t.pg_port}";
     connect = "127.0.0.1:{sp}"; server_name = "localhost"; }} );
''')
    t.spawn([agent, "--config", t.d + "/server.conf"], t.d + "/server.log")
    t.spawn([agent, "--config", t.d + "/client.conf"], t.d + "/client.log")


def start_stunnel(t, backend, pg, pki, build):
    sb, sp, t.bench_port, t.pg_port = (free_port() for _ in range(4))
    common = f"""foreground = yes
debug = warning
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
"""
    svc = f"""CAfile = {pki}/ca.crt
verifyChain = yes
sslVersionMin = TLSv1.3
"""
    with open(t.d + "/server.conf", "w") as f:
        f.write(common + f"""pid = {t.d}/server.pid
[bench]
accept = 127.0.0.1:{sb}
connect = 127.0.0.1:{backend}
cert = {pki}/server.crt
key = {pki}/server.key
requireCert = yes
{svc}
[pg]
accept = 127.0.0.1:{sp}
connect = 127.0.0.1:{pg}
cert = {pki}/server.crt
key = {pki}/server.key
requireCert = yes
{svc}""")
    with open(t.d + "/client.conf", "w") as f:
        f.write(common + f"""pid = {t.d}/client.pid
[bench]
client = yes
accept = 127.0.0.1:{t.bench_port}
connect = 127.0.0.1:{sb}
cert = {pki}/app1.crt
key = {pki}/app1.key
checkHost = localhost
{svc}
[pg]
client = yes
accept = 127.0.0.1:{t.pg_port}
connect = 127.0.0.1:{sp}
cert = {pki}/app1.crt
key = {pki}/app1.key
checkHost = localhost
{svc}""")
    t.spawn(["stunnel4", t.d + "/server.conf"], t.d + "/server.log")
    t.spawn(["stunnel4", t.d + "/client.conf"], t.d + "/client.log")


def start_haproxy(t, backend, pg, pki, build):
    sb, sp, t.bench_port, t.pg_port = (free_port() for _ in range(4))
    head = """global
  maxconn 9500
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-server-options ssl-min-ver TLSv1.3
defaults
  mode tcp
  timeout connect 10s
  timeout client 1h
  timeout server 1h
"""
    bind_ssl = f"ssl crt {pki}/server.pem ca-file {pki}/ca.crt verify required"
    srv_ssl = (f"ssl crt {pki}/app1.pem ca-file {pki}/ca.crt verify required "
               "verifyhost localhost sni str(localhost)")
    with open(t.d + "/server.cfg", "w") as f:
        f.write(head + f"""frontend bench
  bind 127.0.0.1:{sb} {bind_ssl}
  default_backend bench
backend bench
  server s 127.0.0.1:{backend}
frontend pg
  bind 127.0.0.1:{sp} {bind_ssl}
  default_backend pg
backend pg
  server s 127.0.0.1:{pg}
""")
    with open(t.d + "/client.cfg", "w") as f:
        f.write(head + f"""frontend bench
  bind 127.0.0.1:{t.bench_port}
  default_backend bench
backend bench
  server s 127.0.0.1:{sb} {srv_ssl}
frontend pg
  bind 127.0.0.1:{t.pg_port}
  default_backend pg
backend pg
  server s 127.0.0.1:{sp} {srv_ssl}
""")
    t.spawn(["haproxy", "-db", "-f", t.d + "/server.cfg"], t.d + "/server.log")
    t.spawn(["haproxy", "-db", "-f", t.d + "/client.cfg"], t.d + "/client.log")


STARTERS = {"direct": start_direct, "dbtls": start_dbtls,
            "dbtls-prewarm": start_dbtls_prewarm,
            "stunnel": start_stunnel, "haproxy": start_haproxy}

# metric: (label, unit, better)  better = "high" or "low"
METRICS = {
    "bulk_up": ("bulk upload", "MB/s", "high"),
    "bulk_down": ("bulk download", "MB/s", "high"),
    "bulk_both": ("bulk both ways (sum)", "MB/s", "high"),
    "echo_p50": ("echo RTT median", "us", "low"),
    "echo_p99": ("echo RTT p99", "us", "low"),
    "conns_1": ("new connections/s, 1 at a time", "conn/s", "high"),
    "conns_4": ("new connections/s, 4 in parallel", "conn/s", "high"),
    "cpu_per_conn": ("CPU per new connection, both sides", "ms", "low"),
    "idle_1000": ("memory per idle connection (1,000 open)", "KiB", "low"),
    "idle_many": ("memory per idle connection (many open)", "KiB", "low"),
    "pgbench_1": ("pgbench -S, 1 client", "tps", "high"),
    "pgbench_8": ("pgbench -S, 8 clients", "tps", "high"),
    "pgbench_C": ("pgbench -S -C, 4 clients", "tps", "high"),
}


def measure(t, tool_bin, a, results, first_rep):
    bt = [tool_bin]
    port = t.bench_port
    r = results.setdefault(t.name, {})

    def add(k, v):
        r.setdefault(k, []).append(v)

    add("bulk_up", float(run(bt + ["up", str(port), str(a.bulk)])))
    add("bulk_down", float(run(bt + ["down", str(port), str(a.bulk)])))
    up, down = map(float, run(bt + ["both", str(port), str(a.bulk)]).split())
    add("bulk_both", up + down)
    p50, p99 = map(float, run(bt + ["echo", str(port), str(a.echo), "64"]).split())
    add("echo_p50", p50)
    add("echo_p99", p99)
    add("conns_1", float(run(bt + ["conns", str(port), str(a.conn), "1"])))
    c0 = cpu_ticks(t.pids)
    rate = float(run(bt + ["conns", str(port), str(a.conn), "4"]))
    add("conns_4", rate)
    if t.pids:
        add("cpu_per_conn", (cpu_ticks(t.pids) - c0) * 1000 / (rate * a.conn))
    # Idle memory, on a fresh pair each time: a process that has run the
    # other tests keeps freed memory, which would hide what idle costs.
    if t.name != "direct":
        for n in [1000] if a.quick or not first_rep else [1000, a.many]:
            add("idle_1000" if n == 1000 else "idle_many", idle_kib(t, a, n))
    pg = ["pgbench", "-n", "-S", "-h", "127.0.0.1", "-p", str(t.pg_port), "-U",
          "postgres", "-T", str(a.pgbench), "postgres"]
    for key, extra in (("pgbench_1", ["-c", "1"]), ("pgbench_8", ["-c", "8", "-j", "2"]),
                       ("pgbench_C", ["-C", "-c", "4", "-j", "2"])):
        out = run(pg + extra)
        if "number of failed transactions: 0" not in out and "failed" in out:
            raise SystemExit("bench: %s: pgbench failures:\n%s" % (t.name, out))
        tps = [l for l in out.splitlines() if l.startswith("tps")][0]
        add(key, float(tps.split()[2]))


def idle_kib(t, a, n):
    """KiB per idle connection through a fresh pair of t's kind."""
    fresh = Tool(t.name, tempfile.mkdtemp(dir=os.path.dirname(t.d), prefix=t.name + "."))
    STARTERS[t.name](fresh, *a.start_args)
    try:
        wait_port(fresh.bench_port)
        time.sleep(0.3)
        base = rss_kib(fresh.pids)
        p = subprocess.Popen([a.benchtool, "idle", str(fresh.bench_port), str(n)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("bench: %s: %d idle connections failed" % (t.name, n))
        time.sleep(3)   # idle means idle: let every tool settle alike
        kib = (rss_kib(fresh.pids) - base) / n
        p.stdin.close()
        p.wait()
        return kib
    finally:
        fresh.stop()


def start_pg(d):
    data, sock, log = d + "/pgdata", d + "/pgsock", d + "/postgres.log"
    for p in (data, sock):
        os.makedirs(p)
        shutil.chown(p, "postgres")
    open(log, "w").close()
    shutil.chown(log, "postgres")
    port = free_port()
    run(["runuser", "-u", "postgres", "--", PGBIN + "/initdb", "-A", "trust",
         "--no-sync", "-U", "postgres", "-D", data])
    run(["runuser", "-u", "postgres", "--", PGBIN + "/pg_ctl", "-D", data, "-w",
         "-l", log, "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} "
         "-c fsync=off -c max_connections=200", "start"])
    run(["pgbench", "-i", "-q", "-s", "2", "-h", "127.0.0.1", "-p", str(port),
         "-U", "postgres", "postgres"])
    return port, data


def make_pki(build, d):
    c = os.path.join(build, "dbtls-certs")
    pki = d + "/pki"
    os.makedirs(pki)
    run([c, "init-ca", "--dir", d + "/ca", "--cn", "bench CA"])
    run([c, "issue", "--ca", d + "/ca", "--cn", "server", "--dns", "localhost",
         "--ip", "127.0.0.1", "--out", pki])
    run([c, "issue", "--ca", d + "/ca", "--cn", "app1", "--out", pki])
    shutil.copy(d + "/ca/ca.crt", pki + "/ca.crt")
    for n in ("server", "app1"):
        with open(f"{pki}/{n}.pem", "w") as out:
            for ext in ("crt", "key"):
                out.write(open(f"{pki}/{n}.{ext}").read())
        os.chmod(f"{pki}/{n}.pem", 0o600)
    return pki


def fmt(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def report(results, a, machine):
    METRICS["idle_many"] = ("memory per idle connection (%s open)" % format(a.many, ","),
                            "KiB", "low")
    tools = [t for t in ("direct", "dbtls", "dbtls-prewarm", "stunnel", "haproxy")
             if t in results]
    ours = [t for t in ("dbtls", "dbtls-prewarm") if t in results]
    med = {t: {k: statistics.median(v) for k, v in results[t].items()} for t in tools}
    rows, csv_rows = [], []
    for k, (label, unit, better) in METRICS.items():
        vals = {t: med[t].get(k) for t in tools}
        peers = [vals[p] for p in PEERS if vals.get(p) is not None]
        ratios = []
        for o in ours:
            r = ""
            if vals.get(o) is not None and peers:
                best = max(peers) if better == "high" else min(peers)
                r = "%.2f×" % (vals[o] / best) if best else ""
            ratios.append(r)
        if all(v is None for v in vals.values()):
            continue
        rows.append("| %s (%s, %s is better) | %s | %s |" % (
            label, unit, "higher" if better == "high" else "lower",
            " | ".join(fmt(vals[t]) if vals[t] is not None else "–" for t in tools),
            " | ".join(ratios)))
        for t in tools:
            if vals[t] is not None:
                csv_rows.append([k, t, "%.3f" % vals[t], len(results[t][k]),
                                 " ".join("%.3f" % x for x in results[t][k])])
    head = ("| measure | %s | %s |\n|---|%s%s\n" % (
        " | ".join(tools), " | ".join("%s ÷ best peer" % o for o in ours),
        "---|" * len(tools), "---|" * len(ours)))
    md = ("Medians of %d run%s%s, on %s.\n\n" % (
        a.reps, "" if a.reps == 1 else "s", " (quick mode)" if a.quick else "", machine)
        + head + "\n".join(rows) + "\n")
    os.makedirs(a.out, exist_ok=True)
    with open(a.out + "/bench.md", "w") as f:
        f.write(md)
    with open(a.out + "/bench.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["metric", "tool", "median", "runs", "values"])
        w.writerows(csv_rows)
    charts(med, tools, a.out)
    print(md)


def charts(med, tools, out):
    if not shutil.which("gnuplot"):
        return
    groups = {"throughput": ["bulk_up", "bulk_down", "bulk_both"],
              "latency": ["echo_p50", "echo_p99"],
              "connections": ["conns_1", "conns_4"],
              "memory": ["idle_1000", "idle_many"],
              "pgbench": ["pgbench_1", "pgbench_8", "pgbench_C"]}
    for name, keys in groups.items():
        keys = [k for k in keys if any(k in med[t] for t in tools)]
        if not keys:
            continue
        data = out + "/" + name + ".dat"
        with open(data, "w") as f:
            f.write("metric " + " ".join(tools) + "\n")
            for k in keys:
                f.write('"%s" %s\n' % (METRICS[k][0].replace(",", ""), " ".join(
                    "%.3f" % med[t].get(k, 0) for t in tools)))
        unit = METRICS[keys[0]][1]
        script = f"""set terminal pngcairo size 900,420 noenhanced
set output '{out}/{name}.png'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set ylabel '{unit}'
set yrange [0:*]
set title '{name} ({"lower" if METRICS[keys[0]][2] == "low" else "higher"} is better)'
plot for [i=2:{len(tools) + 1}] '{data}' using i:xtic(1) title columnheader(i)
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=False,
                       capture_output=True)
        os.unlink(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--tools", default="direct,dbtls,dbtls-prewarm,stunnel,haproxy")
    a = ap.parse_args()
    a.reps = a.reps or (1 if a.quick else 3)
    a.bulk, a.echo, a.conn, a.pgbench = (1, 1000, 1, 2) if a.quick else (3, 5000, 3, 5)
    # Each tunnel process holds two descriptors per connection; the many
    # idle connections must fit under the hard limit (20,000 here).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a.many = min(10000, (hard - 500) // 2 // 1000 * 1000)
    build = os.path.abspath(a.build)
    a.out = os.path.abspath(a.out)
    d = tempfile.mkdtemp(prefix="dbtls-bench.")
    os.chmod(d, 0o755)
    tools, backend, pgdata = [], None, None
    try:
        pki = make_pki(build, d)
        bport = free_port()
        backend = subprocess.Popen([build + "/tests/benchtool", "server", str(bport)],
                                   stdout=subprocess.PIPE, text=True)
        backend.stdout.readline()
        pgport, pgdata = start_pg(d)
        a.start_args = (bport, pgport, pki, build)
        a.benchtool = build + "/tests/benchtool"
        for name in a.tools.split(","):
            t = Tool(name, tempfile.mkdtemp(dir=d, prefix=name + "."))
            STARTERS[name](t, bport, pgport, pki, build)
            tools.append(t)
        for t in tools:
            wait_port(t.bench_port)
            wait_port(t.pg_port)
        results = {}
        for rep in range(a.reps):
            for t in tools:
                print("bench: run %d of %d: %s" % (rep + 1, a.reps, t.name),
                      file=sys.stderr, flush=True)
                measure(t, build + "/tests/benchtool", a, results, rep == 0)
        for t in tools:
            for p in t.procs:
                if p.poll() is not None:
                    raise SystemExit("bench: %s exited during the run" % t.name)
        machine = "%s, %d cores, %s" % (os.uname().machine, os.cpu_count(),
                                        run(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]).strip())
        report(results, a, machine)
    finally:
        for t in tools:
            try:
                t.stop()
            except Exception:
                pass
        if backend:
            backend.terminate()
        if pgdata:
            subprocess.run(["runuser", "-u", "postgres", "--", PGBIN + "/pg_ctl", "-D",
                            pgdata, "-m", "immediate", "-w", "stop"], capture_output=True)
        if os.environ.get("BENCH_KEEP"):
            print("bench: kept " + d, file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
