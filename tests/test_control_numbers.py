"""Control numbers: unique per partner, never repeated across allocators, runs and restarts."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gateway.transactions.control_numbers import (
    ControlNumberAllocator,
    ControlNumberError,
    FileControlNumbers,
    MemoryAllocator,
)

ROOT = Path(__file__).resolve().parent.parent


def test_memory_allocator_counts_per_partner_and_counter() -> None:
    """Each partner has its own ISA13, GS06 and ST02 sequences."""
    allocator = MemoryAllocator()
    actual = [
        allocator.next_isa13("a"),
        allocator.next_isa13("a"),
        allocator.next_isa13("b"),
        allocator.next_gs06("a"),
        allocator.next_st02("a"),
        allocator.next_st02("a"),
    ]
    assert actual == [1, 2, 1, 1, 1, 2]


def test_both_allocators_satisfy_the_protocol(tmp_path: Path) -> None:
    """The ledger's replacement only has to provide the three methods."""
    assert isinstance(MemoryAllocator(), ControlNumberAllocator)
    assert isinstance(FileControlNumbers(tmp_path / "c.json"), ControlNumberAllocator)


def test_two_instances_on_one_file_never_repeat(tmp_path: Path) -> None:
    """Interleaved allocations through two objects on the same file give distinct numbers."""
    path = tmp_path / "numbers.json"
    first, second = FileControlNumbers(path), FileControlNumbers(path)
    got = [a.next_isa13("p") for _ in range(5) for a in (first, second)]
    assert list(range(1, 11)) == got


def test_numbers_survive_a_process_restart(tmp_path: Path) -> None:
    """A new process continues after the last number the previous one handed out."""
    path = tmp_path / "numbers.json"
    FileControlNumbers(path).allocate("p", "st02", count=7)
    script = (
        "import sys; from pathlib import Path;"
        "from gateway.transactions.control_numbers import FileControlNumbers;"
        "a = FileControlNumbers(Path(sys.argv[1]));"
        "print(a.next_st02('p'), a.next_isa13('p'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "8 1"
    assert FileControlNumbers(path).next_st02("p") == 9


def test_concurrent_processes_and_threads_get_distinct_numbers(tmp_path: Path) -> None:
    """Two processes with two threads each, 20 numbers apiece: 80 distinct numbers, 1..80."""
    path = tmp_path / "numbers.json"
    script = (
        "import sys, threading; from pathlib import Path;"
        "from gateway.transactions.control_numbers import FileControlNumbers;"
        "a = FileControlNumbers(Path(sys.argv[1])); got = [];"
        "work = lambda: got.extend(a.next_isa13('p') for _ in range(20));"
        "ts = [threading.Thread(target=work) for _ in range(2)];"
        "[t.start() for t in ts]; [t.join() for t in ts];"
        "print(' '.join(map(str, got)))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    numbers = [int(n) for p in procs for n in p.communicate()[0].split()]
    assert list(range(1, 81)) == sorted(numbers)


def test_threads_in_one_process_share_a_file_safely(tmp_path: Path) -> None:
    """Threads using one allocator object never see the same number."""
    allocator = FileControlNumbers(tmp_path / "numbers.json")
    got: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(25):
            n = allocator.next_gs06("p")
            with lock:
                got.append(n)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert list(range(1, 101)) == sorted(got)


def test_file_is_owner_only_json_with_the_last_numbers(tmp_path: Path) -> None:
    """The counter file is 0600 and records the last number of each counter."""
    path = tmp_path / "numbers.json"
    allocator = FileControlNumbers(path)
    allocator.next_isa13("p")
    allocator.next_st02("p")
    allocator.next_st02("p")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["partners"] == {"p": {"isa13": 1, "st02": 2}}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not the control-number file"),
        ('{"partners": []}', "has no `partners` table"),
        ('{"partners": {"p": {"isa13": -4}}}', "is not a count"),
    ],
)
def test_a_damaged_file_stops_allocation(tmp_path: Path, content: str, expected: str) -> None:
    """Starting over from 1 after damage would repeat numbers: refuse instead."""
    path = tmp_path / "numbers.json"
    path.write_text(content)
    with pytest.raises(ControlNumberError, match=expected):
        FileControlNumbers(path).next_isa13("p")


def test_exhausted_counter_is_refused(tmp_path: Path) -> None:
    """ISA13 has nine digits; the allocator never wraps around to reuse one."""
    path = tmp_path / "numbers.json"
    path.write_text('{"partners": {"p": {"isa13": 999999999}}}')
    with pytest.raises(ControlNumberError, match="exhausted"):
        FileControlNumbers(path).next_isa13("p")
