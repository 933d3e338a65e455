"""The runner's kernels talk over Unix sockets, not TCP ports.

A port picked free for a kernel can be taken by another process before the kernel binds it (seen in a
Ray worker's kernel log under load: ``ZMQError: Address already in use``), and a kernel that cannot
bind dies at start: a notebook failing for no reason of its own. Socket files in a directory of our
own cannot be taken.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import papermill

from loon.suite import executor


def test_kernel_manager_puts_every_channel_on_a_socket_file():
    async def run_a_cell(sockets: str) -> dict:
        km = executor.ipc_kernel_manager(sockets)(kernel_name="python3")
        await km.start_kernel()
        try:
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=120)
            reply = await client.execute_interactive("import os", timeout=60)
            assert reply["content"]["status"] == "ok"
            info = json.loads(Path(km.connection_file).read_text())
            channels = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]
            assert sorted(os.listdir(sockets)) == sorted(f"kernel-{info[c]}" for c in channels)
            client.stop_channels()
            return info
        finally:
            await km.shutdown_kernel(now=True)

    with executor.kernel_socket_dir() as sockets:
        info = asyncio.run(run_a_cell(sockets))
    assert info["transport"] == "ipc" and info["ip"] == os.path.join(sockets, "kernel"), info


def test_run_notebook_starts_its_kernel_with_that_manager(tmp_path, monkeypatch):
    seen = {}

    def execute_notebook(source, output, **kwargs):
        manager = kwargs["kernel_manager_class"](kernel_name="python3")
        seen.update(transport=manager.transport, ip=manager.ip)

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    monkeypatch.setenv("LOON_SUITE_RUN", "")  # run_notebook sets it for its process: restored after the test
    job = executor.Job("c", tmp_path / "c.ipynb", tmp_path / "out.ipynb", {}, None, tmp_path / "control.json",
                       tmp_path / "progress.jsonl", tmp_path / "c.log")  # fmt: skip
    outcome = executor.run_notebook(job)
    assert outcome.run_error is None, outcome
    assert seen["transport"] == "ipc" and Path(seen["ip"]).name == "kernel", seen
