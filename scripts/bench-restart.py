#!/usr/bin/env python3
"""Restart overhead: `flinkdeck restart JOB` against the bare REST sequence on the same
sandbox cluster, alternated ROUNDS times, medians compared.

The bare sequence is what a script would do: POST /jobs/:id/stop, poll the trigger until
it completes, POST /jars/:id/run from the savepoint, poll until every task of the new job
runs. flinkdeck's figure is the whole command: process start, finding the job, journal
writes, the same REST calls, waiting until the new job runs.

    cargo build --release && scripts/bench-restart.py [ROUNDS]
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "flinkdeck")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
work = tempfile.mkdtemp(prefix="flinkdeck-bench-")
env = dict(os.environ, FLINKDECK_CONFIG_DIR=f"{work}/config", FLINKDECK_DATA_DIR=f"{work}/data")


def flinkdeck(*args):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"flinkdeck {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def rest(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def wait_running(base, jid):
    while True:
        for job in rest(f"{base}/jobs/overview")["jobs"]:
            t = job["tasks"]
            if job["jid"] == jid and job["state"] == "RUNNING" and t["running"] == t["total"] > 0:
                return
        time.sleep(0.05)


def wait_checkpointed(base, jid):
    while rest(f"{base}/jobs/{jid}/checkpoints")["counts"]["completed"] < 1:
        time.sleep(0.1)


def bare_restart(base, jid, jar_id, args):
    trigger = rest(f"{base}/jobs/{jid}/stop", "POST", {"drain": False})["request-id"]
    while True:
        status = rest(f"{base}/jobs/{jid}/savepoints/{trigger}")
        if status["status"]["id"] == "COMPLETED":
            savepoint = status["operation"]["location"]
            break
        time.sleep(0.05)
    new = rest(f"{base}/jars/{jar_id}/run", "POST", {
        "entryClass": "flinkdeck.sample.SampleJob", "programArgsList": args,
        "savepointPath": savepoint, "claimMode": "NO_CLAIM"})["jobid"]
    wait_running(base, new)
    return new


state_out = flinkdeck("sandbox", "up")
base = state_out.split("sandbox-a", 1)[1].split()[0]
cluster = f"sandbox-a={base}"
jar = json.load(open(os.path.join(env.get("FLINKDECK_CACHE_DIR", os.path.expanduser("~/.cache/flinkdeck")), "sandbox", "state.json")))["jar"]
args = ["--name", "bench-restart", "--rate", "50"]
job = json.loads(flinkdeck("--cluster", cluster, "submit", "--jar", jar, "--entry-class",
                           "flinkdeck.sample.SampleJob", "--", *args))["job_id"]
jar_id = rest(f"{base}/jars")["files"][0]["id"]
wait_running(base, job)

bare, ours = [], []
for _ in range(ROUNDS):
    wait_checkpointed(base, job)
    start = time.monotonic()
    job = bare_restart(base, job, jar_id, args)
    bare.append(time.monotonic() - start)
    # The bare run made a job flinkdeck has no spec for; adopt it (not timed).
    flinkdeck("--cluster", cluster, "adopt", job, "--jar-id", jar_id, "--jar", jar,
              "--entry-class", "flinkdeck.sample.SampleJob", "--", *args)
    wait_checkpointed(base, job)
    start = time.monotonic()
    job = json.loads(flinkdeck("--cluster", cluster, "restart", job, "--json"))["new_job_id"]
    ours.append(time.monotonic() - start)

rest(f"{base}/jobs/{job}?mode=cancel", "PATCH")
b, o = statistics.median(bare), statistics.median(ours)
print(f"bare REST sequence: median {b*1000:.0f} ms over {ROUNDS} ({', '.join(f'{x*1000:.0f}' for x in bare)})")
print(f"flinkdeck restart:  median {o*1000:.0f} ms over {ROUNDS} ({', '.join(f'{x*1000:.0f}' for x in ours)})")
limit = max(b * 1.10, b + 0.300)
print(f"overhead {1000*(o-b):+.0f} ms ({100*(o/b-1):+.1f}%); target: at most {limit*1000:.0f} ms -> {'met' if o <= limit else 'NOT met'}")
