#!/usr/bin/env python3
"""The Python docker SDK against a daemon: create/start/wait/logs/remove, and run.

    python3 tests/e2e/sdk_test.py unix:///path/to/socket [PREFIX]

Prints one line per check; exits 0 when all pass, 1 on the first failure (naming it),
77 when the docker SDK is not installed. Every container runs with network_mode="none"
and is removed at the end, also on failure.
"""

import os
import sys

try:
    import docker
except ImportError as e:  # the bats file turns this into a skip
    print(f"skipped, because the python docker SDK is not installed ({e})")
    sys.exit(77)


class CheckFailed(Exception):
    pass


def check(what, got, want):
    """Fails the run with WHAT, GOT and WANT unless GOT == WANT."""
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")
    print(f"ok: {what} == {want!r}")


def main():
    base_url = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else f"sdk{os.getpid()}"
    client = docker.DockerClient(base_url=base_url, timeout=60)
    made = []
    try:
        # create, start, wait, logs, remove.
        c = client.containers.create(
            "busybox", "sh -c 'echo hi; exit 3'", network_mode="none", name=f"{prefix}-one"
        )
        made.append(c.id)
        check("created container status", c.status, "created")
        c.start()
        result = c.wait(timeout=30)
        check("wait() StatusCode", result.get("StatusCode"), 3)
        check("wait() Error", result.get("Error"), None)
        check("logs()", c.logs(), b"hi\n")
        check("logs(stdout=False)", c.logs(stdout=False, stderr=True), b"")
        c.reload()
        check("status after exit", c.status, "exited")
        check("State.ExitCode", c.attrs["State"]["ExitCode"], 3)
        c.remove()
        made.remove(c.id)
        try:
            client.containers.get(c.id)
            raise CheckFailed(f"containers.get({c.id[:12]}) still finds the removed container")
        except docker.errors.NotFound:
            print("ok: a removed container is NotFound")

        # run with remove=True returns the output (stdout) and leaves nothing.
        out = client.containers.run(
            "busybox",
            ["sh", "-c", "echo out; echo err >&2"],
            network_mode="none",
            remove=True,
            name=f"{prefix}-run",
        )
        check("containers.run(remove=True) output", out, b"out\n")
        names = [x.name for x in client.containers.list(all=True)]
        check(f"{prefix}-run left after run(remove=True)", f"{prefix}-run" in names, False)

        # A non-zero exit of run() raises ContainerError carrying the exit status.
        try:
            client.containers.run(
                "busybox", "sh -c 'exit 5'", network_mode="none", remove=True, name=f"{prefix}-err"
            )
            raise CheckFailed("containers.run of 'exit 5' did not raise ContainerError")
        except docker.errors.ContainerError as e:
            check("ContainerError.exit_status", e.exit_status, 5)

        # An unknown image is ImageNotFound on create (no registry is reachable).
        try:
            client.containers.create("no-such-image-xyz", "true", network_mode="none")
            raise CheckFailed("create with an unknown image did not raise")
        except docker.errors.ImageNotFound:
            print("ok: an unknown image is ImageNotFound")
    except (CheckFailed, docker.errors.DockerException) as e:
        print(f"FAIL: {type(e).__name__}: {e}")
        return 1
    finally:
        for cid in made:
            try:
                client.containers.get(cid).remove(force=True)
            except docker.errors.DockerException:
                pass
        for name in (f"{prefix}-run", f"{prefix}-err"):
            try:
                client.containers.get(name).remove(force=True)
            except docker.errors.DockerException:
                pass
    print("sdk test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
